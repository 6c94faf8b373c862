"""x264 settings on storybeat's own frames: CPU, size and quality in one table (issue 17).

A generated song is rendered by the product (local provider, 720p by default); its video is decoded to raw
frames once, and those frames are encoded again with each candidate setting at the render's crf. For each:
x264's CPU seconds (user + system of the ffmpeg process), the file size, and the SSIM against the raw
frames and against a ``slow``-preset encode of them (the issue's reference). The raw frames are themselves
the render's output (crf 20, veryfast), so SSIM measures what each setting loses on top of that.

    .venv/bin/python bench/bench_x264.py [--seconds 30] [--resolution 720]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import run_cli, song  # noqa: E402
from engine.ffmpeg import ffmpeg_path  # noqa: E402
from engine.render.timeline import RenderSpec  # noqa: E402

CANDIDATES: list[tuple[str, str, str]] = [  # (label, preset, x264 params)
    ("ultrafast", "ultrafast", ""),
    ("superfast", "superfast", ""),
    ("veryfast", "veryfast", ""),
    ("veryfast + me=dia:no-deblock (the render's)", "veryfast", RenderSpec(width=16, height=16).x264_params),
    ("veryfast + me=dia:no-deblock:subme=1", "veryfast", "me=dia:no-deblock=1:subme=1"),
    ("faster", "faster", ""),
    ("fast", "fast", ""),
    ("medium", "medium", ""),
]


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def encode(raw: Path, *, size: str, fps: str, preset: str, params: str, crf: int, out: Path) -> float:
    """Encode the raw frames; x264's CPU seconds."""
    extra = ["-x264-params", params] if params else []
    c0 = _cpu()
    subprocess.run([ffmpeg_path(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size, "-r", fps,
                    "-i", str(raw), "-c:v", "libx264", "-preset", preset, "-crf", str(crf), *extra, "-pix_fmt", "yuv420p",
                    str(out)], check=True)
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


def main(argv: list[str] | None = None) -> int:
    """Print the markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--resolution", type=int, default=720, choices=[720, 1080])
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    crf = RenderSpec(width=16, height=16).crf
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        wav, lrc = song(tmp, seconds=args.seconds)
        env = {**os.environ, "STORYBEAT_DATA": str(tmp / "data"), "GEMINI_API_KEY": "", "GOOGLE_API_KEY": ""}
        pid = run_cli(["new", str(wav), "--lyrics", str(lrc), "--provider", "local", "--resolution", str(args.resolution)],
                      env=env).strip().splitlines()[-1]
        run_cli(["run", pid, "--quiet"], env=env)
        folder = tmp / "data" / "projects" / pid
        render = json.loads((folder / "project.json").read_text())["renders"][-1]
        size, fps = f"{render['width']}x{render['height']}", str(RenderSpec(width=16, height=16).fps)
        raw = tmp / "frames.yuv"
        subprocess.run([ffmpeg_path(), "-v", "error", "-y", "-i", str(folder / render["file"]), "-an", "-f", "rawvideo",
                        "-pix_fmt", "yuv420p", "-r", fps, str(raw)], check=True)
        slow = tmp / "slow.mp4"
        slow_cpu = encode(raw, size=size, fps=fps, preset="slow", params="", crf=crf, out=slow)
        rows = []
        for label, preset, params in CANDIDATES:
            out = tmp / "candidate.mp4"
            cpu = encode(raw, size=size, fps=fps, preset=preset, params=params, crf=crf, out=out)
            rows.append((label, cpu, out.stat().st_size, ssim(out, raw, size=size, fps=fps), ssim(out, slow, size=size, fps=fps)))
        slow_size, slow_ssim = slow.stat().st_size, ssim(slow, raw, size=size, fps=fps)
    ours = next(r for r in rows if "(the render's)" in r[0])
    print("## x264 settings\n")
    print(f"`bench_x264.py --seconds {args.seconds:.0f} --resolution {args.resolution}`: storybeat's own frames of a "
          f"{render['duration_ms'] / 1000:.0f} s {render['height']}p render (camera moves, transitions, subtitles), "
          f"encoded again at crf {crf}; load {load:.1f} at the start (CPU seconds are fairer than wall here). "
          f"SSIM against the raw frames and against a `slow` encode (CPU {slow_cpu:.1f} s, "
          f"{slow_size / 1e6:.2f} MB, SSIM {slow_ssim:.4f} to the raw frames).\n")
    print("| setting | x264 CPU | vs the render's | size | vs the render's | SSIM to raw | SSIM to slow |")
    print("|---|---|---|---|---|---|---|")
    for label, cpu, size_b, s_raw, s_slow in rows:
        print(f"| {label} | {cpu:.1f} s | {cpu / ours[1]:.2f}x | {size_b / 1e6:.2f} MB | {size_b / ours[2]:.2f}x | "
              f"{s_raw:.4f} | {s_slow:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
