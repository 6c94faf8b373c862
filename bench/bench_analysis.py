"""Benchmark of the offline audio analysis; prints markdown tables.

1. Wall time of analysing a 3-minute synthetic song in a fresh process with a
   *cold* numba cache (empty NUMBA_CACHE_DIR), then again in a fresh process
   with the now *warm* cache, then in-process after ``warm_up()``; each as a
   fraction of the track's length.
2. Tempo, beat, downbeat and section accuracy on the synthetic test songs
   (known truth): section boundaries found within one bar of a true one, and
   the fraction of the song's time whose section label is right.

Run: ``.venv/bin/python bench/bench_analysis.py`` (``--accuracy-only`` skips the timing part)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHILD = """
import json, sys, time
t0 = time.perf_counter()
from engine.audio.features import load_and_analyze
t1 = time.perf_counter()
f = load_and_analyze(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "analysis_s": t2 - t1, "tempo": f.tempo_bpm}))
"""


def _child(wav: Path, cache_dir: Path) -> dict[str, float]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(wav)], env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - t0
    return result


def section_scores(sections, truth) -> tuple[float, float]:
    """(fraction of the true inner boundaries with a found one within one bar, fraction of time labelled right)."""
    bar_ms = 4 * 60000.0 / truth.bpm
    found = [s.start_ms for s in sections[1:]]
    true = truth.boundaries_ms
    hits = sum(1 for b in true if found and min(abs(f - b) for f in found) <= bar_ms)
    t = np.arange(0.0, truth.sections[-1][2], 10.0)
    true_label = np.full(len(t), "", dtype=object)
    found_label = np.full(len(t), "", dtype=object)
    for i, (label, start, end) in enumerate(truth.sections):
        true_label[(t >= (start if i else 0.0)) & (t < end)] = label
    for s in sections:
        found_label[(t >= s.start_ms) & (t < s.end_ms)] = s.label
    return (hits / len(true) if true else 1.0), float(np.mean(true_label == found_label))


def main() -> None:
    from engine.audio.features import load_and_analyze
    from engine.audio.sample import make_song

    rows: list[str] = []
    timing = "--accuracy-only" not in sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="bench-analysis-") as tmp_name:
        tmp = Path(tmp_name)
        if timing:
            _timing(tmp)
        from tests.engine.songs import TEMPO_SONGS, beat_errors_ms, hit_fraction

        print("## Accuracy on the synthetic test songs\n")
        print("| true BPM | found BPM | tempo error | median beat error (ms) | beats within 70 ms | "
              "downbeats on a true downbeat | sections (true/found) | boundaries within 1 bar | "
              "section labels right | analysis (s) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for song_bpm, seed, n_bars in [*TEMPO_SONGS, (72.0, 5, 32), (175.0, 6, 48), (118.0, 7, 32)]:
            path = tmp / f"s{song_bpm:g}.wav"
            t = make_song(path, bpm=song_bpm, bars=n_bars, seed=seed)
            t0 = time.perf_counter()
            f = load_and_analyze(path)
            took = time.perf_counter() - t0
            err = beat_errors_ms(f.beats_ms, t.beats_ms)
            boundary_hits, label_acc = section_scores(f.sections, t)
            rows.append(
                f"| {song_bpm:g} | {f.tempo_bpm:.2f} | {abs(f.tempo_bpm - song_bpm) / song_bpm * 100:.2f}% | "
                f"{np.median(err):.1f} | {np.mean(err < 70) * 100:.0f}% | "
                f"{hit_fraction(f.downbeats_ms, t.downbeats_ms, tol_ms=90) * 100:.0f}% | "
                f"{len(t.sections)}/{len(f.sections)} | {boundary_hits * 100:.0f}% | {label_acc * 100:.0f}% | "
                f"{took:.2f} |"
            )
        print("\n".join(rows))


def _timing(tmp: Path) -> None:
    from engine.audio import warm_up
    from engine.audio.features import load_and_analyze
    from engine.audio.sample import make_song

    bpm = 120.0
    bars = 90  # 90 bars at 120 BPM = 180 s
    wav = tmp / "three_minutes.wav"
    t0 = time.perf_counter()
    truth = make_song(wav, bpm=bpm, bars=bars, seed=11)
    synth_s = time.perf_counter() - t0
    track_s = truth.duration_ms / 1000
    cache = tmp / "numba-cache"
    cold = _child(wav, cache)
    warm = _child(wav, cache)
    warm_up()
    t0 = time.perf_counter()
    load_and_analyze(wav)
    inproc = time.perf_counter() - t0

    print(f"## Analysis of a {track_s:.0f} s synthetic song ({bpm:g} BPM), {os.cpu_count()} cores\n")
    print("| run | import librosa+engine (s) | analysis (s) | whole process (s) | analysis / track length |")
    print("|---|---|---|---|---|")
    for name, r in (("fresh process, cold numba cache", cold), ("fresh process, warm numba cache", warm)):
        print(f"| {name} | {r['import_s']:.2f} | {r['analysis_s']:.2f} | {r['process_s']:.2f} | "
              f"{r['analysis_s'] / track_s:.3f} |")
    print(f"| in-process after warm_up() | – | {inproc:.2f} | – | {inproc / track_s:.3f} |")
    print(f"\n(synthesising the song took {synth_s:.2f} s)\n")


if __name__ == "__main__":
    main()
