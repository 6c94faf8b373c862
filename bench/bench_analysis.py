"""Benchmark of the offline audio analysis; prints markdown tables.

1. Wall time of analysing a 3-minute synthetic song in a fresh process with a
   *cold* numba cache (empty NUMBA_CACHE_DIR), then again in a fresh process
   with the now *warm* cache, then in-process after ``warm_up()``; each as a
   fraction of the track's length.
2. Tempo, beat, downbeat and section accuracy on the synthetic test songs
   (known truth): section boundaries found within one bar of a true one, and
   the fraction of the song's time whose section label is right.
3. With ``--against REV``: what a fresh worker pays to analyse the bundled demo
   song and a real excerpt, this tree against git revision ``REV`` (its
   ``git archive`` first on ``PYTHONPATH``), in interleaved rounds; CPU seconds
   (all threads; fair under load) and wall, with the load average.

Run: ``.venv/bin/python bench/bench_analysis.py`` (``--accuracy-only`` skips the timing part;
``--against REV [--rounds N]`` prints only part 3)
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
t0, c0 = time.perf_counter(), time.process_time()
from engine.audio.features import load_and_analyze
t1, c1 = time.perf_counter(), time.process_time()
f = load_and_analyze(sys.argv[1])
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"import_s": t1 - t0, "analysis_s": t2 - t1, "import_cpu_s": c1 - c0, "analysis_cpu_s": c2 - c1,
                  "tempo": f.tempo_bpm, "beats": f.beats_ms}))
"""


def _child(wav: Path, cache_dir: Path | None, *, code: Path = REPO) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(wav)], env=env, capture_output=True, text=True, check=True,
                         cwd=code)  # python -c puts the working directory first on sys.path
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


def against(rev: str, *, rounds: int) -> None:
    """Fresh-process analysis of the demo song and a real excerpt: this tree against ``rev``, interleaved."""
    from bench.corpus import load_corpus
    from engine.audio.sample import make_demo_song

    with tempfile.TemporaryDirectory(prefix="bench-analysis-") as tmp_name:
        tmp = Path(tmp_name)
        old = tmp / "old"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        demo, _ = make_demo_song(tmp / "demo")
        excerpt = next(t for t in load_corpus(REPO / "tests" / "data" / "real_audio") if t.name == "fof_chaos_god_30s")
        songs = [("demo song (58.7 s)", demo), ("fof_chaos_god_30s (25 s)", excerpt.audio)]
        for code in (REPO, old):  # each tree's numba cache warm first (the install's warm-up)
            _child(demo, None, code=code)
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        loads = []
        for _ in range(rounds):
            for song, wav in songs:
                for name, code in (("before", old), ("after", REPO)):
                    results.setdefault((song, name), []).append(_child(wav, None, code=code))
                    loads.append(os.getloadavg()[0])
    print(f"## A fresh worker's analysis: {rev} (before) against this tree (after)\n")
    print(f"{rounds} interleaved rounds, medians; {os.cpu_count()} cores, load average {min(loads):.1f}-{max(loads):.1f}\n")
    print("| song | code | import CPU s | analysis CPU s | import + analysis CPU s | import + analysis wall s | "
          "same beats |")
    print("|---|---|---|---|---|---|---|")
    for song, _ in songs:
        base_beats = results[(song, "before")][0]["beats"]
        for name in ("before", "after"):
            rs = results[(song, name)]
            med = {k: float(np.median([r[k] for r in rs])) for k in ("import_cpu_s", "analysis_cpu_s", "import_s",
                                                                     "analysis_s")}
            same = all(r["beats"] == base_beats for r in rs)
            print(f"| {song} | {name} | {med['import_cpu_s']:.2f} | {med['analysis_cpu_s']:.2f} | "
                  f"{med['import_cpu_s'] + med['analysis_cpu_s']:.2f} | {med['import_s'] + med['analysis_s']:.2f} | "
                  f"{'yes' if same else 'NO'} |")


def main() -> None:
    from engine.audio.features import load_and_analyze
    from engine.audio.sample import make_song

    args = sys.argv[1:]
    if "--against" in args:
        rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 3
        against(args[args.index("--against") + 1], rounds=rounds)
        return
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
