"""Inspecting and making media in tests: ffmpeg helpers the product does not need."""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from engine.errors import RenderError
from engine.ffmpeg import ffmpeg_path
from engine.render.ffmpeg import FfmpegProcess, _tail, parse_progress_line


def run_ffmpeg(args: list[str], *, what: str = "ffmpeg", on_frames: Callable[[int], None] | None = None) -> None:
    """Run ffmpeg with ``args`` (no binary) to completion; RenderError with the stderr tail if it fails."""
    FfmpegProcess(args, on_frames=on_frames).run(what=what)


def count_video_frames(path: Path) -> int:
    """Number of video frames in a file (demuxed, not decoded)."""
    out = subprocess.run([ffmpeg_path(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-c", "copy",
                          "-f", "null", "-", "-progress", "pipe:1", "-nostats"], capture_output=True, text=True)
    frames = [int(v) for k, v in (parse_progress_line(x) or ("", "") for x in out.stdout.splitlines())
              if k == "frame" and v.isdigit()]
    if out.returncode != 0 or not frames:
        raise RenderError(f"cannot count frames of {path}", stderr_tail=_tail(out.stderr))
    return frames[-1]


def top_level_atoms(path: Path) -> list[str]:
    """The MP4 top-level box types in file order (``moov`` before ``mdat`` means faststart)."""
    atoms: list[str] = []
    size_total = path.stat().st_size
    with path.open("rb") as fh:
        pos = 0
        while pos + 8 <= size_total:
            fh.seek(pos)
            header = fh.read(16)
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = size_total - pos
            if size < 8:
                break
            atoms.append(kind)
            pos += size
    return atoms
