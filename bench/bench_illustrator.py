"""Benchmark the offline illustrator: time per 1920x1080 picture per preset, a whole song, and variety.

Per preset: the drawing's CPU and the PNG encoding at zlib level 3 (before) and at the level pictures are
stored with (``engine.images.PNG_COMPRESS_LEVEL``, after), with sizes. A song: its pictures drawn and encoded
one by one at level 3 (before) and drawn ahead on two threads as the draw step does (``engine.steps.draw_ahead``)
at the stored level (after), CPU (all threads) and wall, with the load average; the pixels of both are compared.

Run: .venv/bin/python bench/bench_illustrator.py [--scenes 40] [--width 1920 --height 1080]
Prints markdown tables. Variety = mean absolute pixel difference (0..255) between pictures.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine.images import PNG_COMPRESS_LEVEL, png_bytes  # noqa: E402
from engine.steps.draw_ahead import DRAW_THREADS  # noqa: E402
from engine.providers.local.illustrator import draw_scene  # noqa: E402
from engine.styles import PRESETS  # noqa: E402
from sample_prompts import SAMPLES  # noqa: E402


def _draw(i: int, style: str, *, width: int, height: int, version: int = 1):
    prompt, mood, energy, _ = SAMPLES[i % len(SAMPLES)]
    return draw_scene(prompt=prompt, mood=mood, energy=energy, style=style, seed=1000 + i, version=version, width=width, height=height)


def _cpu_s(fn):  # noqa: ANN001, ANN202
    c0 = time.process_time()
    out = fn()
    return out, time.process_time() - c0


def bench_presets(*, width: int, height: int, reps: int) -> None:
    print(f"\n### Time per {width}x{height} picture (median of {reps} varied scenes; wall and CPU)\n")
    print(f"| preset | median wall s | max wall s | median CPU s | PNG level 3 CPU s (before) | MB | "
          f"PNG level {PNG_COMPRESS_LEVEL} CPU s (after) | MB |")
    print("|---|---|---|---|---|---|---|---|")
    for style in PRESETS:
        walls, cpus, enc = [], [], {3: [], PNG_COMPRESS_LEVEL: []}
        size = {}
        for i in range(reps):
            t0, c0 = time.perf_counter(), time.process_time()
            img = _draw(i, style, width=width, height=height)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            for level in enc:
                data, took = _cpu_s(lambda: png_bytes(img, metadata={"k": "v"}, level=level))  # noqa: B023
                enc[level].append(took)
                size[level] = len(data) / 1e6
        print(f"| {style} | {statistics.median(walls):.3f} | {max(walls):.3f} | {statistics.median(cpus):.3f} | "
              f"{statistics.median(enc[3]):.3f} | {size[3]:.2f} | {statistics.median(enc[PNG_COMPRESS_LEVEL]):.3f} | "
              f"{size[PNG_COMPRESS_LEVEL]:.2f} |")


def bench_song(*, scenes: int, width: int, height: int, style: str) -> list[np.ndarray]:
    def picture(i: int, level: int) -> tuple[bytes, np.ndarray]:
        img = _draw(i, style, width=width, height=height, version=1 + i // len(SAMPLES))
        return png_bytes(img, metadata={"k": "v"}, level=level), np.asarray(img.resize((320, 180)), np.float32)

    print(f"\n### A 3-minute song: {scenes} scenes, {style}, {width}x{height}, drawn and encoded\n")
    print("| how | threads | PNG level | total CPU s | total wall s | wall per picture s | load avg |")
    print("|---|---|---|---|---|---|---|")
    pixels = {}
    thumbs: list[np.ndarray] = []
    for name, threads, level in (("one by one (before)", 1, 3), ("drawn ahead (after)", DRAW_THREADS, PNG_COMPRESS_LEVEL)):
        t0, c0 = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            out = list(pool.map(lambda i: picture(i, level), range(scenes)))  # noqa: B023
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        pixels[name] = hashlib.sha256(b"".join(t.tobytes() for _, t in out)).hexdigest()
        thumbs = [t for _, t in out]
        print(f"| {name} | {threads} | {level} | {cpu:.1f} | {wall:.1f} | {wall / scenes:.3f} | {os.getloadavg()[0]:.1f} |")
    print(f"\nsame pixels before and after: {'yes' if len(set(pixels.values())) == 1 else 'NO'}")
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
