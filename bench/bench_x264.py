"""x264 settings on storybeat's own frames: CPU, size and quality in one table, at 720p and 1080p (issue 17).

bench_render's synthetic song (noisy pictures x264 cannot cheat on, camera moves, transitions) is rendered once
per resolution to get its stills; its own frames (warped and blended, before any compression; no subtitles)
are written to a raw file, and encoded with each candidate setting at the render's crf, exactly as a chunk is
(``command.video_encoder_args``: one x264 thread, as each of the render's parallel chunk encodes). For each:
x264's CPU seconds (least of ``--repeat`` interleaved rounds), the file size, and the SSIM against the raw
frames and against a ``slow``-preset encode of them (the issue's reference).

    .venv/bin/python bench/bench_x264.py [--seconds 20] [--resolutions 720 1080] [--repeat 2]
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import FPS, make_song, write_own_frames  # noqa: E402
from engine.ffmpeg import ffmpeg_path  # noqa: E402
from engine.render import command  # noqa: E402
from engine.render.render import render_video  # noqa: E402
from engine.render.timeline import ENCODE_SPEEDS, RenderSpec, build_timeline  # noqa: E402

CANDIDATES: list[tuple[str, str, str]] = [  # (label, preset, x264 params)
    ("ultrafast", "ultrafast", ""),
    ("superfast", "superfast", ""),
    ("veryfast", "veryfast", ""),
    ("veryfast + me=dia:no-deblock (the render's)", "veryfast", ENCODE_SPEEDS["balanced"]),
    ("veryfast + me=dia:no-deblock:subme=1 (encode_speed fast)", "veryfast", ENCODE_SPEEDS["fast"]),
    ("superfast + no-deblock (superfast searches with dia already)", "superfast", "no-deblock=1"),
    ("faster", "faster", ""),
]


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def encode(raw: Path, *, spec: RenderSpec, out: Path) -> float:
    """Encode the raw frames with ``spec``'s encoder settings (as a render chunk is); x264's CPU seconds."""
    c0 = _cpu()
    subprocess.run([ffmpeg_path(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                    "-s", f"{spec.width}x{spec.height}", "-r", str(spec.fps), "-i", str(raw),
                    *command.video_encoder_args(spec), "-f", "mp4", str(out)], check=True)
    return _cpu() - c0


def ssim(encoded: Path, reference: Path, *, size: str, fps: str) -> float:
    """Mean SSIM (all planes) of ``encoded`` against ``reference`` (a raw yuv file or a video)."""
    ref = (["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size, "-r", fps] if reference.suffix == ".yuv" else []) + ["-i", str(reference)]
    out = subprocess.run([ffmpeg_path(), "-v", "info", "-i", str(encoded), *ref, "-lavfi", "ssim", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    match = re.search(r"All:([0-9.]+)", out)
    if not match:
        raise RuntimeError(f"no SSIM in ffmpeg's output: {out[-400:]}")
    return float(match.group(1))


def measure(tmp: Path, *, seconds: float, height: int, repeat: int) -> tuple[list[tuple], tuple[float, int, float]]:
    """Rows (label, CPU, bytes, SSIM to raw, SSIM to slow) for one resolution, and the slow reference's (CPU, bytes, SSIM)."""
    base = RenderSpec(width=height * 16 // 9, height=height, fps=FPS)
    clips, audio, lines = make_song(tmp, seconds=seconds, scenes=max(2, int(seconds // 4)))
    tl = build_timeline(clips, duration_ms=int(seconds * 1000), spec=base, seed=1)
    cache = tmp / f"cache_{height}"
    render_video(tl, audio_path=audio, subtitles=[], out_path=tmp / "render.mp4", cache_dir=cache, workers=2)
    raw = tmp / f"frames_{height}.yuv"
    write_own_frames(tl, cache=cache, out=raw)
    size, fps = f"{base.width}x{base.height}", str(base.fps)
    slow = tmp / "slow.mp4"
    slow_cpu = encode(raw, spec=replace(base, preset="slow", x264_params=""), out=slow)
    best: dict[str, float] = {}
    files: dict[str, Path] = {}
    for k in range(max(1, repeat)):
        order = CANDIDATES[k % len(CANDIDATES):] + CANDIDATES[:k % len(CANDIDATES)]
        for label, preset, params in order:
            out = tmp / f"cand_{CANDIDATES.index((label, preset, params))}.mp4"
            cpu = encode(raw, spec=replace(base, preset=preset, x264_params=params), out=out)
            best[label] = min(best.get(label, float("inf")), cpu)
            files[label] = out
    rows = [(label, best[label], files[label].stat().st_size, ssim(files[label], raw, size=size, fps=fps),
             ssim(files[label], slow, size=size, fps=fps)) for label, _, _ in CANDIDATES]
    reference = (slow_cpu, slow.stat().st_size, ssim(slow, raw, size=size, fps=fps))
    raw.unlink()
    return rows, reference


def main(argv: list[str] | None = None) -> int:
    """Print the markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--resolutions", type=int, nargs="+", default=[720, 1080], choices=[720, 1080])
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds per setting (least CPU kept)")
    args = parser.parse_args(argv)
    load0 = os.getloadavg()[0]
    crf = RenderSpec(width=16, height=16).crf
    results = []
    with tempfile.TemporaryDirectory() as tmp_name:
        for height in args.resolutions:
            results.append((height, *measure(Path(tmp_name), seconds=args.seconds, height=height, repeat=args.repeat)))
    load1 = os.getloadavg()[0]
    print(f"`bench_x264.py --seconds {args.seconds:.0f} --resolutions {' '.join(map(str, args.resolutions))} --repeat "
          f"{args.repeat}`: storybeat's own frames of a {args.seconds:.0f} s render (bench_render's noisy pictures, camera "
          f"moves, transitions; no subtitles), raw, encoded with each setting at crf {crf} as a render chunk is (one x264 "
          f"thread); least CPU of {args.repeat} interleaved rounds; load average {load0:.1f} at the start, {load1:.1f} at "
          "the end. SSIM (all planes) against the raw frames and against a `slow` encode of them.\n")
    print("| resolution | setting | x264 CPU | vs the render's | size | vs the render's | SSIM to raw | SSIM to slow |")
    print("|---|---|---|---|---|---|---|---|")
    for height, rows, (slow_cpu, slow_size, slow_ssim) in results:
        ours = next(r for r in rows if "(the render's)" in r[0])
        print(f"| {height}p | slow (the reference) | {slow_cpu:.1f} s | {slow_cpu / ours[1]:.2f}x | {slow_size / 1e6:.2f} MB | "
              f"{slow_size / ours[2]:.2f}x | {slow_ssim:.4f} | 1 |")
        for label, cpu, size_b, s_raw, s_slow in rows:
            print(f"| {height}p | {label} | {cpu:.1f} s | {cpu / ours[1]:.2f}x | {size_b / 1e6:.2f} MB | {size_b / ours[2]:.2f}x | "
                  f"{s_raw:.4f} | {s_slow:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
