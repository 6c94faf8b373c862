"""Benchmark of the storyboard planner: how well cuts sit on the beat, and how long planning takes.

Run: ``.venv/bin/python bench/bench_storyboard.py`` (prints markdown tables).

1. Synthetic Analysis objects: regular grids at several tempi and lengths,
   then "detected" grids with jitter, dropped beats and a beatless intro.
   Cut-to-beat error is measured against the beats the planner was given
   (detected) and against the true grid.
2. Synthetic songs from ``engine.audio.sample`` (rendered audio, true beats),
   with an energy curve measured from the audio; when
   ``engine.audio.features`` is available its detected beats are used too.
"""
from __future__ import annotations

import argparse
import bisect
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.models import Analysis, EnergyCurve, LyricLine, Section  # noqa: E402
from engine.providers.local.storyboard import build_scenes  # noqa: E402
from engine.storyboard import plan_cuts  # noqa: E402

MIN_MS, MAX_MS = 2500, 8000


def nearest_distance_ms(sorted_ms: list[int], t_ms: int) -> int:
    """Distance from t to the nearest element of a sorted list (inf-like if empty)."""
    if not sorted_ms:
        return 10**9
    i = bisect.bisect_left(sorted_ms, t_ms)
    return min(abs(sorted_ms[j] - t_ms) for j in (i - 1, i) if 0 <= j < len(sorted_ms))


def _nearest_index(sorted_ms: list[int], t_ms: int) -> int:
    i = bisect.bisect_left(sorted_ms, t_ms)
    return min((j for j in (i - 1, i) if 0 <= j < len(sorted_ms)), key=lambda j: abs(sorted_ms[j] - t_ms))


def grid(*, duration_ms: int, bpm: float, offset_ms: float) -> list[float]:
    """True beat times of a steady tempo."""
    period = 60_000 / bpm
    n = int((duration_ms - offset_ms) / period) + 1
    return [offset_ms + k * period for k in range(n) if offset_ms + k * period < duration_ms]


def synthetic_case(*, bpm: float, duration_ms: int, jitter_ms: int, drop: float, intro_ms: int, seed: int) -> tuple[Analysis, list[int]]:
    """An Analysis with "detected" beats derived from a true grid, plus the true beats."""
    rng = random.Random(seed)
    true = [round(t) for t in grid(duration_ms=duration_ms, bpm=bpm, offset_ms=rng.uniform(0, 60_000 / bpm))]
    detected = sorted({
        max(1, t + rng.randint(-jitter_ms, jitter_ms)) for t in true if t >= intro_ms and rng.random() >= drop
    })
    true_downs = [t for i, t in enumerate(true) if i % 4 == 0]
    downs = sorted({detected[_nearest_index(detected, t)] for t in true_downs if detected and nearest_distance_ms(detected, t) <= jitter_ms})
    hop = 50
    blocks = [rng.random() for _ in range(duration_ms // 8000 + 1)]
    rms = [blocks[(i * hop) // 8000] for i in range(duration_ms // hop)]
    lines, t = [], rng.randint(4000, 15_000)
    while t < duration_ms - 3000:
        length = rng.randint(1500, 6000)
        lines.append(LyricLine(index=len(lines), text="la", start_ms=t, end_ms=min(duration_ms, t + length)))
        t += length + (rng.randint(15_000, 30_000) if rng.random() < 0.15 else rng.randint(0, 1500))
    bounds = sorted({0, *(rng.randrange(1, duration_ms) for _ in range(duration_ms // 30_000)), duration_ms})
    sections = [Section(index=i, label="verse", start_ms=a, end_ms=b, energy=0.5, mood="calm") for i, (a, b) in enumerate(zip(bounds, bounds[1:]))]
    analysis = Analysis(
        duration_ms=duration_ms, tempo_bpm=bpm, beats_ms=detected, downbeats_ms=downs,
        energy=EnergyCurve(hop_ms=hop, rms=rms, onset=[], brightness=[]), sections=sections, lyrics=lines,
    )
    return analysis, true


def measure(analysis: Analysis, true_beats: list[int]) -> dict[str, float]:
    """Plan the cuts of ``analysis`` and measure them."""
    t0 = time.perf_counter()
    cuts = plan_cuts(
        duration_ms=analysis.duration_ms, beats_ms=analysis.beats_ms, downbeats_ms=analysis.downbeats_ms,
        energy_at=analysis.energy, lyric_spans=[(l.start_ms, l.end_ms) for l in analysis.lyrics],
        sections=[(s.start_ms, s.end_ms) for s in analysis.sections], min_scene_ms=MIN_MS, max_scene_ms=MAX_MS,
    )
    plan_ms = (time.perf_counter() - t0) * 1000
    inner = cuts[1:-1]
    detected = sorted(analysis.beats_ms)
    beat_set = set(detected)
    on_beat = [c for c in inner if c in beat_set]
    to_detected = [nearest_distance_ms(detected, c) for c in on_beat] or [0]
    to_true = [nearest_distance_ms(sorted(true_beats), c) for c in inner] or [0]
    lengths = [b - a for a, b in zip(cuts, cuts[1:])]
    downs = set(analysis.downbeats_ms)
    starts = [l.start_ms for l in analysis.lyrics]
    to_line = [nearest_distance_ms(inner, s) for s in starts]
    return {
        "scenes": len(lengths),
        "fill": len(inner) - len(on_beat),
        "det_med": statistics.median(to_detected),
        "det_max": max(to_detected),
        "true_med": statistics.median(to_true),
        "true_max": max(to_true),
        "in_bounds": sum(MIN_MS <= n <= MAX_MS for n in lengths) / len(lengths),
        "downbeat": sum(c in downs for c in inner) / max(1, len(inner)),
        "line_med": statistics.median(to_line) if to_line else 0,
        "plan_ms": plan_ms,
    }


def table(rows: list[tuple[str, dict[str, float]]]) -> str:
    """Markdown table of measurement rows."""
    head = ("| case | scenes | off-grid cuts (beatless parts) | on-grid cut→detected beat median / max (ms) "
            "| cut→true beat median / max (ms) | scenes in [min,max] | cuts on downbeats | lyric start→cut median (ms) "
            "| plan time (ms) |")
    lines = [head, "|" + "---|" * 9]
    for name, m in rows:
        lines.append(
            f"| {name} | {m['scenes']:.0f} | {m['fill']:.0f} | {m['det_med']:.0f} / {m['det_max']:.0f} | {m['true_med']:.0f} / {m['true_max']:.0f} "
            f"| {m['in_bounds']:.0%} | {m['downbeat']:.0%} | {m['line_med']:.0f} | {m['plan_ms']:.1f} |"
        )
    return "\n".join(lines)


def synthetic_rows(*, quick: bool) -> list[tuple[str, dict[str, float]]]:
    """Measurements on synthetic Analysis objects."""
    rows = []
    durations = (60_000, 240_000) if quick else (60_000, 180_000, 360_000)
    for bpm in (70, 120, 174):
        for duration_ms in durations:
            for label, jitter, drop, intro in (("clean", 0, 0.0, 0), ("noisy", 25, 0.1, 12_000)):
                analysis, true = synthetic_case(bpm=bpm, duration_ms=duration_ms, jitter_ms=jitter, drop=drop, intro_ms=intro, seed=bpm + duration_ms)
                rows.append((f"{bpm} BPM, {duration_ms // 1000} s, {label}", measure(analysis, true)))
    return rows


def audio_rows() -> list[tuple[str, dict[str, float]]]:
    """Measurements on rendered synthetic songs: true beats, and detected ones when features exist."""
    import numpy as np
    import soundfile as sf

    from engine.audio import sample

    try:
        from engine.audio import features
    except ImportError:
        features = None
        print("\n(engine.audio.features not available: songs measured with their true beats only)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        songs = [(f"song {bpm} BPM", Path(tmp) / f"song_{bpm}.wav", bpm, bars, seed) for bpm, bars, seed in ((92, 24, 1), (128, 32, 2), (165, 40, 3))]
        for name, wav, bpm, bars, seed in songs:
            truth = sample.make_song(wav, bpm=bpm, bars=bars, seed=seed)
            audio, sr = sf.read(wav, dtype="float32")
            hop = sr // 20
            frames = len(audio) // hop
            rms = np.sqrt(np.mean(audio[: frames * hop].reshape(frames, hop) ** 2, axis=1))
            rms = (rms / (rms.max() or 1.0)).tolist()
            true = [round(b) for b in truth.beats_ms]
            sections = [
                Section(index=i, label=label, start_ms=round(a), end_ms=round(b), energy=0.5, mood="calm")
                for i, (label, a, b) in enumerate(truth.sections)
            ]
            base = Analysis(
                duration_ms=truth.duration_ms, tempo_bpm=bpm, beats_ms=true, downbeats_ms=[round(d) for d in truth.downbeats_ms],
                energy=EnergyCurve(hop_ms=50, rms=rms, onset=[], brightness=[]), sections=sections,
            )
            rows.append((f"{name}, true beats", measure(base, true)))
            if features is not None:
                detected = features.to_analysis(features.load_and_analyze(wav), duration_ms=truth.duration_ms)
                rows.append((f"{name}, detected (engine.audio.features)", measure(detected, true)))
        if features is not None:
            wav, lrc = sample.make_demo_song(Path(tmp) / "demo")
            demo_truth_beats = _demo_true_beats(sample)
            detected = features.to_analysis(features.load_and_analyze(wav), lyrics=parse_lrc(lrc.read_text(encoding="utf-8")))
            rows.append(("demo song + LRC, detected", measure(detected, demo_truth_beats)))
    return rows


def _demo_true_beats(sample) -> list[int]:  # noqa: ANN001 - module
    """True beats of the bundled demo song (re-rendered in memory with the demo's parameters)."""
    _mono, truth = sample.render_song(
        bpm=sample.DEMO_BPM, sections=sample.DEMO_SECTIONS, seed=2024, sr=8000, key_pc=9, mode="minor", lead_in_s=0.5,
    )
    return [round(b) for b in truth.beats_ms]


def parse_lrc(text: str) -> list[LyricLine]:
    """Minimal LRC reading for the benchmark: ``[mm:ss.cc]text`` lines, word tags dropped."""
    import re

    stamped = []
    for raw in text.splitlines():
        m = re.match(r"\[(\d+):(\d+(?:\.\d+)?)\](.*)", raw)
        if m and m.group(3).strip():
            words = re.sub(r"<[^>]*>", "", m.group(3)).split()
            stamped.append((round((int(m.group(1)) * 60 + float(m.group(2))) * 1000), " ".join(words)))
    lines = []
    for i, (start, words) in enumerate(stamped):
        end = stamped[i + 1][0] if i + 1 < len(stamped) else start + 4000
        lines.append(LyricLine(index=i, text=words, start_ms=start, end_ms=max(end, start + 1)))
    return lines


def scene_build_rows() -> str:
    """Time to build full scenes (planning + intents) for long tracks."""
    lines = ["| track | scenes | build_scenes time (ms) |", "|---|---|---|"]
    for duration_ms in (180_000, 600_000):
        analysis, _true = synthetic_case(bpm=128, duration_ms=duration_ms, jitter_ms=10, drop=0.05, intro_ms=0, seed=7)
        t0 = time.perf_counter()
        scenes = build_scenes(analysis, min_scene_ms=MIN_MS, max_scene_ms=MAX_MS)
        lines.append(f"| {duration_ms // 1000} s, 128 BPM | {len(scenes)} | {(time.perf_counter() - t0) * 1000:.0f} |")
    return "\n".join(lines)


def main() -> None:
    """Print the benchmark tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer synthetic cases, no rendered songs")
    args = parser.parse_args()
    print(f"## Storyboard cuts (min {MIN_MS} ms, max {MAX_MS} ms)\n")
    print(table(synthetic_rows(quick=args.quick)))
    if not args.quick:
        rows = audio_rows()
        if rows:
            print("\n## Rendered synthetic songs (engine.audio.sample)\n")
            print(table(rows))
    print("\n## Whole storyboard\n")
    print(scene_build_rows())


if __name__ == "__main__":
    main()
