"""x264's thread count inside the render: 1 (the render's), 2, or x264's own choice ("auto"), in CPU and wall.

The render runs one chunk encode per core at once (``render_workers``, 2 here); each encode's x264 gets
``RenderSpec.x264_threads`` threads.  This renders the same synthetic song (bench_render's pictures, lyrics and
audio) with each count in interleaved rounds, each into a fresh cache, and prints the least CPU (process tree)
and the median wall of each, with the output size (x264's output depends on its thread count).

    .venv/bin/python bench/bench_threads.py [--seconds 20] [--repeat 3] [--resolutions 720 1080]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import FPS, cpu_seconds, make_song  # noqa: E402
from engine.render.render import render_video  # noqa: E402
from engine.render.timeline import RenderSpec, build_timeline  # noqa: E402

COUNTS: list[tuple[str, int]] = [("1 (the render's)", 1), ("2", 2), ("auto (x264: 1.5 x cores)", 0)]


def one_render(tl_args: dict, *, threads: int, cache: Path, out: Path) -> tuple[float, float, int]:
    """Wall, CPU seconds and output bytes of one full render with ``threads`` x264 threads per chunk."""
    import time

    spec: RenderSpec = replace(tl_args["spec"], x264_threads=threads)
    tl = build_timeline(tl_args["clips"], duration_ms=tl_args["duration_ms"], spec=spec, seed=1)
    t0, c0 = time.perf_counter(), cpu_seconds()
    render_video(tl, audio_path=tl_args["audio"], subtitles=tl_args["lines"], out_path=out, cache_dir=cache, workers=2)
    return time.perf_counter() - t0, cpu_seconds() - c0, out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    """Print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--resolutions", type=int, nargs="+", default=[720, 1080])
    args = parser.parse_args(argv)
    load0 = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_threads_") as tmp_s:
        tmp = Path(tmp_s)
        clips, audio, lines = make_song(tmp, seconds=args.seconds, scenes=max(2, int(args.seconds // 5)))
        for height in args.resolutions:
            spec = RenderSpec(width=height * 16 // 9, height=height, fps=FPS)
            tl_args = {"spec": spec, "clips": clips, "duration_ms": int(args.seconds * 1000), "audio": audio, "lines": lines}
            one_render(tl_args, threads=1, cache=tmp / f"warm_{height}", out=tmp / "warm.mp4")  # numba, page cache
            runs: dict[int, list[tuple[float, float, int]]] = {n: [] for _, n in COUNTS}
            for k in range(args.repeat):
                order = COUNTS[k % len(COUNTS):] + COUNTS[:k % len(COUNTS)]
                for _, n in order:
                    runs[n].append(one_render(tl_args, threads=n, cache=tmp / f"c_{height}_{n}_{k}", out=tmp / "o.mp4"))
            base_cpu = min(c for _, c, _ in runs[1])
            base_wall = statistics.median(w for w, _, _ in runs[1])
            for label, n in COUNTS:
                cpu = min(c for _, c, _ in runs[n])
                wall = statistics.median(w for w, _, _ in runs[n])
                paired = statistics.median(r[1] / b[1] for r, b in zip(runs[n], runs[1]))
                rows.append((f"{args.seconds:.0f} s {height}p", label, cpu, cpu / base_cpu, paired, wall, wall / base_wall,
                             runs[n][0][2]))
    load1 = os.getloadavg()[0]
    print(f"`bench_threads.py --seconds {args.seconds:.0f} --repeat {args.repeat}`: storybeat's full render (2 chunk "
          f"encodes at once), x264 threads per encode varied; least CPU and median wall of {args.repeat} interleaved "
          f"rounds; load {load0:.1f} at the start, {load1:.1f} at the end.\n")
    print("| video | x264 threads per chunk | CPU | vs 1 | paired vs 1 | wall | vs 1 | size |")
    print("|---|---|---|---|---|---|---|---|")
    for video, label, cpu, rel, paired, wall, wrel, size in rows:
        print(f"| {video} | {label} | {cpu:.1f} s | {rel:.2f}x | {paired:.2f}x | {wall:.1f} s | {wrel:.2f}x | "
              f"{size / 1e6:.2f} MB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
