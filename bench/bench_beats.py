"""Listening on real music: storybeat's tempo, beats, downbeats, sections and cuts beside the library baselines.

Runs every method of ``bench/beat_methods.py`` on the evaluation corpus
(``bench/corpus.py``: MIDI arrangements rendered with fluidsynth and a General
MIDI soundfont, MIDI files from Debian packages, and real recorded songs from
Debian's Frets on Fire packages whose charts give the beat grid) and scores
them with ``mir_eval``:

* beat F-measure (+-70 ms), CMLt and AMLt (continuity, allowed metrical levels);
* tempo: right (within 4 %), or the octave error made (x2, x1/2, x3/2, x2/3, ...);
* downbeat F-measure (+-70 ms) for the methods that report downbeats;
* storybeat only: scene cuts (``engine.storyboard.plan_cuts`` on its analysis,
  default scene lengths, no lyrics) - distance of each inner cut to the nearest
  true beat, and the share on a true downbeat; section boundaries within one
  bar of an arrangement change;
* analysis time per minute of audio (wall, this machine).

Tracks without beat truth (recordings) get: tempo stability (how much the
local tempo of the found beats wanders) and the distance of the cuts to the
nearest onset. Seconds inside a track's ``unpulsed_s`` spans (a free-tempo
intro) are left out of the beat scores.

Run: ``.venv/bin/python bench/bench_beats.py [--corpus data/corpus] [--methods storybeat,librosa] [--only NAME]``
(``make eval-audio`` builds the corpus first; ``make bench`` does both).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from beat_methods import METHODS, SR, Tracked, quiet_libraries  # noqa: E402

TEMPO_TOLERANCE = 0.04
OCTAVE_FACTORS = {"x2": 2.0, "x1/2": 0.5, "x3/2": 1.5, "x2/3": 2 / 3, "x3": 3.0, "x1/3": 1 / 3, "x4/3": 4 / 3, "x3/4": 0.75}


@dataclass
class Score:
    """One method on one track."""

    tempo_bpm: float
    tempo_verdict: str  # ok | x2 | x1/2 | ... | wrong | "" (no truth)
    beat_f: float | None = None
    cmlt: float | None = None
    amlt: float | None = None
    downbeat_f: float | None = None
    seconds_per_minute: float = 0.0
    cut_median_ms: float | None = None
    cut_p90_ms: float | None = None
    cut_within_35: float | None = None
    cut_on_downbeat: float | None = None
    cuts_to_onset_median_ms: float | None = None
    tempo_wander: float | None = None
    section_hits: float | None = None
    notes: list[str] = field(default_factory=list)


def tempo_verdict(found: float, true: float | None) -> str:
    """'ok' within 4 % of the true tempo, else the metrical factor it is off by (or 'wrong')."""
    if not true or true <= 0:
        return ""
    if found <= 0:
        return "none"
    ratio = found / true
    if abs(ratio - 1) <= TEMPO_TOLERANCE:
        return "ok"
    for name, factor in OCTAVE_FACTORS.items():
        if abs(ratio / factor - 1) <= TEMPO_TOLERANCE:
            return name
    return "wrong"


def _outside(times: np.ndarray, spans: list[list[float]] | None) -> np.ndarray:
    if not spans or len(times) == 0:
        return times
    keep = np.ones(len(times), dtype=bool)
    for a, b in spans:
        keep &= ~((times >= a) & (times <= b))
    return times[keep]


def beat_scores(truth_s: np.ndarray, found_s: np.ndarray, unpulsed: list[list[float]] | None) -> tuple[float, float, float]:
    """(F-measure, CMLt, AMLt) of the found beats against the truth, the first 5 s left out (mir_eval's default)."""
    import mir_eval

    ref = mir_eval.beat.trim_beats(_outside(np.asarray(truth_s, dtype=np.float64), unpulsed))
    est = mir_eval.beat.trim_beats(_outside(np.asarray(found_s, dtype=np.float64), unpulsed))
    f = mir_eval.beat.f_measure(ref, est)
    _cmlc, cmlt, _amlc, amlt = mir_eval.beat.continuity(ref, est)
    return float(f), float(cmlt), float(amlt)


def downbeat_f(truth_s: np.ndarray, found_s: np.ndarray, unpulsed: list[list[float]] | None) -> float:
    """Downbeat F-measure (+-70 ms), as for beats."""
    import mir_eval

    ref = mir_eval.beat.trim_beats(_outside(np.asarray(truth_s, dtype=np.float64), unpulsed))
    est = mir_eval.beat.trim_beats(_outside(np.asarray(found_s, dtype=np.float64), unpulsed))
    return float(mir_eval.beat.f_measure(ref, est))


def nearest_distances_ms(times_s: np.ndarray, targets_s: np.ndarray) -> np.ndarray:
    """For each time, the distance (ms) to the nearest target."""
    targets = np.sort(np.asarray(targets_s, dtype=np.float64))
    if len(targets) == 0 or len(times_s) == 0:
        return np.zeros(0)
    i = np.clip(np.searchsorted(targets, times_s), 1, len(targets) - 1)
    return np.minimum(np.abs(times_s - targets[i - 1]), np.abs(times_s - targets[i])) * 1000.0


def planned_cuts_s(features) -> np.ndarray:  # noqa: ANN001
    """Inner scene cuts the storyboard plans from an analysis (default scene lengths, no lyrics)."""
    from engine.audio.features import to_analysis
    from engine.models import ProjectSettings
    from engine.storyboard import cuts_for

    settings = ProjectSettings()
    cuts = cuts_for(to_analysis(features), min_scene_ms=settings.min_scene_ms, max_scene_ms=settings.max_scene_ms)
    return np.asarray(cuts[1:-1], dtype=np.float64) / 1000.0


def tempo_wander(beats_s: np.ndarray) -> float:
    """Median absolute change of the 8-beat local tempo from one beat to the next, relative (0.01 = 1 %)."""
    if len(beats_s) < 20:
        return float("nan")
    local = 8.0 / (beats_s[8:] - beats_s[:-8])
    return float(np.median(np.abs(np.diff(local)) / local[1:]))


def score(track, method: str, y: np.ndarray) -> Score:  # noqa: ANN001
    """Run one method on one track and score it against what the track's truth has."""
    t0 = time.perf_counter()
    found: Tracked = METHODS[method](y)
    took = time.perf_counter() - t0
    s = Score(tempo_bpm=found.tempo_bpm, tempo_verdict=tempo_verdict(found.tempo_bpm, track.tempo_bpm),
              seconds_per_minute=took / (len(y) / SR / 60.0))
    unpulsed = getattr(track, "unpulsed_s", None)
    if track.has_beat_truth:
        s.beat_f, s.cmlt, s.amlt = beat_scores(np.asarray(track.beats_s), found.beats_s, unpulsed)
    if track.has_beat_truth and track.downbeats_s and found.downbeats_s is not None:
        s.downbeat_f = downbeat_f(np.asarray(track.downbeats_s), found.downbeats_s, unpulsed)
    s.tempo_wander = tempo_wander(found.beats_s)
    if method == "storybeat" and found.extra is not None:
        cuts = planned_cuts_s(found.extra)
        cuts = _outside(cuts, unpulsed)
        if track.has_beat_truth and len(cuts):
            d = nearest_distances_ms(cuts, np.asarray(track.beats_s))
            s.cut_median_ms, s.cut_p90_ms = float(np.median(d)), float(np.percentile(d, 90))
            s.cut_within_35 = float(np.mean(d <= 35.0))
            if track.downbeats_s:
                s.cut_on_downbeat = float(np.mean(nearest_distances_ms(cuts, np.asarray(track.downbeats_s)) <= 35.0))
        if len(cuts):
            onsets = np.asarray(found.extra.onsets_ms, dtype=np.float64) / 1000.0
            s.cuts_to_onset_median_ms = float(np.median(nearest_distances_ms(cuts, onsets)))
        if track.has_beat_truth and track.sections_s and track.tempo_bpm:
            bar_s = track.beats_per_bar * 60.0 / track.tempo_bpm
            found_b = np.asarray([sec.start_ms / 1000.0 for sec in found.extra.sections[1:]])
            true_b = np.asarray(track.sections_s, dtype=np.float64)
            s.section_hits = float(np.mean(nearest_distances_ms(true_b, found_b) <= bar_s * 1000.0)) if len(found_b) else 0.0
    return s


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, spec)


def _mean(values: list[float | None]) -> float | None:
    v = [x for x in values if x is not None and not np.isnan(x)]
    return float(np.mean(v)) if v else None


def load_tracks(corpus: Path, only: list[str]):  # noqa: ANN201
    """The corpus's tracks (all, or those named)."""
    from corpus import load_corpus

    tracks = load_corpus(corpus)
    if only:
        tracks = [t for t in tracks if t.name in only]
    return tracks


def main(argv: list[str] | None = None) -> int:
    """Score every method on every track; print markdown tables (per track, then means)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "data" / "corpus")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--json", type=Path, help="also write every score here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    quiet_libraries()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    tracks = load_tracks(args.corpus, args.only)
    if not tracks:
        print(f"no corpus in {args.corpus}: run `make eval-audio` first", file=sys.stderr)
        return 1
    import librosa

    results: dict[str, dict[str, Score]] = {}
    for track in tracks:
        y, _ = librosa.load(str(track.audio), sr=SR, mono=True)
        results[track.name] = {}
        for m in methods:
            results[track.name][m] = score(track, m, y)
            r = results[track.name][m]
            print(f"{track.name:32s} {m:17s} bpm {r.tempo_bpm:6.1f} {r.tempo_verdict:5s} F {_fmt(r.beat_f)} "
                  f"dbF {_fmt(r.downbeat_f)} {r.seconds_per_minute:.1f} s/min", file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps({t: {m: vars(s) for m, s in r.items()} for t, r in results.items()}, indent=1))
    print_tables(tracks, methods, results)
    return 0


def print_tables(tracks, methods: list[str], results: dict[str, dict[str, Score]]) -> None:  # noqa: ANN001
    """Markdown: the per-track table, the means per method, storybeat's cuts and sections."""
    truthed = [t for t in tracks if t.has_beat_truth]
    print(f"## Beats and tempo on {len(truthed)} tracks with beat truth\n")
    print("Beat F-measure (+-70 ms) per track; the tempo each method reports, with its octave error if any.\n")
    print("| track | kind | tags | true BPM | " + " | ".join(methods) + " |")
    print("|---|---|---|---|" + "---|" * len(methods))
    for t in truthed:
        cells = []
        for m in methods:
            r = results[t.name][m]
            verdict = "" if r.tempo_verdict == "ok" else f" **{r.tempo_verdict}**"
            cells.append(f"{_fmt(r.beat_f)} ({r.tempo_bpm:.0f}{verdict})")
        print(f"| {t.name} | {t.kind} | {', '.join(t.tags)} | {t.tempo_bpm:.0f} | " + " | ".join(cells) + " |")
    print("\n## Means over the tracks with truth\n")
    print("| method | beat F | CMLt | AMLt | tempo right | octave errors | downbeat F | analysis s / min of audio |")
    print("|---|---|---|---|---|---|---|---|")
    for m in methods:
        rs = [results[t.name][m] for t in truthed]
        right = sum(r.tempo_verdict == "ok" for r in rs)
        octave = sum(r.tempo_verdict not in ("ok", "", "wrong", "none") for r in rs)
        print(f"| {m} | {_fmt(_mean([r.beat_f for r in rs]), '.3f')} | {_fmt(_mean([r.cmlt for r in rs]), '.3f')} | "
              f"{_fmt(_mean([r.amlt for r in rs]), '.3f')} | {right}/{len(rs)} | {octave} | "
              f"{_fmt(_mean([r.downbeat_f for r in rs]), '.3f')} | "
              f"{_fmt(_mean([r.seconds_per_minute for r in rs]), '.1f')} |")
    if "storybeat" in methods:
        print("\n## storybeat's scene cuts and sections\n")
        print("Cuts: `plan_cuts` on storybeat's analysis (scenes 2.5-8 s, no lyrics); distance of every inner cut "
              "to the nearest true beat. Sections: arrangement changes with a found boundary within one bar.\n")
        print("| track | cut median (ms) | cut p90 (ms) | cuts within 35 ms | cuts on a downbeat | section changes found |")
        print("|---|---|---|---|---|---|")
        rows = [(t, results[t.name]["storybeat"]) for t in truthed]
        for t, r in rows:
            print(f"| {t.name} | {_fmt(r.cut_median_ms, '.0f')} | {_fmt(r.cut_p90_ms, '.0f')} | "
                  f"{_fmt(r.cut_within_35 and r.cut_within_35 * 100, '.0f')}% | "
                  f"{_fmt(r.cut_on_downbeat and r.cut_on_downbeat * 100, '.0f')}% | "
                  f"{_fmt(r.section_hits and r.section_hits * 100, '.0f')}% |")
        med = [r.cut_median_ms for _, r in rows]
        print(f"| **all (median of medians / mean)** | {_fmt(float(np.median([x for x in med if x is not None])) if any(x is not None for x in med) else None, '.0f')} | "
              f"{_fmt(_mean([r.cut_p90_ms for _, r in rows]), '.0f')} | "
              f"{_fmt((_mean([r.cut_within_35 for _, r in rows]) or 0) * 100, '.0f')}% | "
              f"{_fmt((_mean([r.cut_on_downbeat for _, r in rows]) or 0) * 100, '.0f')}% | "
              f"{_fmt((_mean([r.section_hits for _, r in rows]) or 0) * 100, '.0f')}% |")
    untruthed = [t for t in tracks if not t.has_beat_truth]
    if untruthed:
        print(f"\n## {len(untruthed)} recordings without beat truth\n")
        print("Tempo each method reports; tempo wander = median change of the 8-beat local tempo between "
              "consecutive beats (a tracker that jumps between levels wanders); cuts to onset = median distance "
              "of storybeat's cuts to the nearest onset.\n")
        print("| track | " + " | ".join(f"{m} BPM (wander)" for m in methods) + " | cuts to onset (ms) |")
        print("|---|" + "---|" * (len(methods) + 1))
        for t in untruthed:
            rs = results[t.name]
            cells = [f"{rs[m].tempo_bpm:.0f} ({_fmt(rs[m].tempo_wander and rs[m].tempo_wander * 100, '.1f')}%)" for m in methods]
            onset = rs["storybeat"].cuts_to_onset_median_ms if "storybeat" in rs else None
            print(f"| {t.name} | " + " | ".join(cells) + f" | {_fmt(onset, '.0f')} |")


if __name__ == "__main__":
    sys.exit(main())
