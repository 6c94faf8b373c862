"""Benchmark the offline illustrator: time per 1920x1080 picture per preset, a whole song, and variety.

Run: .venv/bin/python bench/bench_illustrator.py [--scenes 40] [--width 1920 --height 1080]
Prints markdown tables. Variety = mean absolute pixel difference (0..255) between pictures.
"""
from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine.images import png_bytes  # noqa: E402
from engine.providers.local.illustrator import draw_scene  # noqa: E402
from engine.styles import PRESETS  # noqa: E402
from sample_prompts import SAMPLES  # noqa: E402


def _draw(i: int, style: str, *, width: int, height: int, version: int = 1):
    prompt, mood, energy, _ = SAMPLES[i % len(SAMPLES)]
    return draw_scene(prompt=prompt, mood=mood, energy=energy, style=style, seed=1000 + i, version=version, width=width, height=height)


def bench_presets(*, width: int, height: int, reps: int) -> None:
    print(f"\n### Time per {width}x{height} picture (median of {reps} varied scenes; wall and CPU)\n")
    print("| preset | median wall s | max wall s | median CPU s | PNG encode s | PNG MB |")
    print("|---|---|---|---|---|---|")
    for style in PRESETS:
        walls, cpus = [], []
        img = None
        for i in range(reps):
            t0, c0 = time.perf_counter(), time.process_time()
            img = _draw(i, style, width=width, height=height)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        t0 = time.perf_counter()
        data = png_bytes(img, metadata={"k": "v"})
        enc = time.perf_counter() - t0
        print(f"| {style} | {statistics.median(walls):.3f} | {max(walls):.3f} | {statistics.median(cpus):.3f} | {enc:.3f} | {len(data) / 1e6:.2f} |")


def bench_song(*, scenes: int, width: int, height: int, style: str) -> list[np.ndarray]:
    t0 = time.perf_counter()
    thumbs = []
    for i in range(scenes):
        img = _draw(i, style, width=width, height=height, version=1 + i // len(SAMPLES))
        thumbs.append(np.asarray(img.resize((320, 180)), np.float32))
    wall = time.perf_counter() - t0
    print(f"\n### A 3-minute song: {scenes} scenes, {style}, {width}x{height}\n")
    print("| scenes | total wall s | per picture s |")
    print("|---|---|---|")
    print(f"| {scenes} | {wall:.1f} | {wall / scenes:.3f} |")
    return thumbs


def variety(thumbs: list[np.ndarray], *, style: str, width: int, height: int) -> None:
    diffs = [float(np.abs(a - b).mean()) for a, b in itertools.combinations(thumbs, 2)]
    repeat = np.asarray(_draw(0, style, width=width, height=height).resize((320, 180)), np.float32)
    again = np.asarray(_draw(0, style, width=width, height=height).resize((320, 180)), np.float32)
    regen = np.asarray(_draw(0, style, width=width, height=height, version=2).resize((320, 180)), np.float32)
    print(f"\n### Variety ({style}; mean abs pixel difference 0..255)\n")
    print("| pairs | mean | min | 5th pct | repeat of same input | new version of scene 1 |")
    print("|---|---|---|---|---|---|")
    print(f"| {len(diffs)} | {statistics.mean(diffs):.1f} | {min(diffs):.1f} | {np.percentile(diffs, 5):.1f} | "
          f"{float(np.abs(repeat - again).mean()):.1f} | {float(np.abs(repeat - regen).mean()):.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--scenes", type=int, default=40)
    ap.add_argument("--style", default="synthwave")
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}, load avg: {os.getloadavg()[0]:.2f}")
    bench_presets(width=args.width, height=args.height, reps=args.reps)
    thumbs = bench_song(scenes=args.scenes, width=args.width, height=args.height, style=args.style)
    variety(thumbs, style=args.style, width=args.width, height=args.height)


if __name__ == "__main__":
    main()
