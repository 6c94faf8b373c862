"""Storyboard planning: where the scenes of a track begin and end.

The maths are pure functions (times in integer milliseconds). ``plan_cuts``
chooses the cut times; ``draft_scenes`` turns them into :class:`Scene` objects
with lyrics, section, mood and energy. Every storyboarder shares this planner;
the visual intents are the storyboarder's (``engine.providers.local.storyboard``
for the offline one).

How ``plan_cuts`` decides
-------------------------
1. **Candidate points.** Every beat strictly inside ``(0, duration_ms)``.
   Where the beat grid has a hole longer than two beat periods (an ambient
   intro before the first beat, a silent break, or a track with no beats at
   all) the hole is filled with evenly spaced *fill points*, one beat period
   apart (500 ms when fewer than two beats are known). A track without beats
   therefore falls back to an even 500 ms grid and the same planner runs on it.
2. **Lyric anchors (forced cuts).** Each lyric line start is snapped to the
   nearest candidate point. Anchors are kept in time order when they are at
   least ``min_scene_ms`` after the previous kept anchor (or after 0) and at
   least ``min_scene_ms`` before the end; a very short line whose anchor is
   closer than that is merged into its neighbour's scene instead.
3. **Filling between anchors.** Between two consecutive forced points a
   dynamic programme picks the cuts that minimise, in this order of weight:
   scene lengths outside ``[min_scene_ms, max_scene_ms]`` (count and amount),
   then the distance of each scene's length from an energy target
   (``max`` in silent/calm parts down to ``min`` at full energy), plus small
   per-cut costs: downbeats are free, other beats cost a little, fill points
   more; the point nearest a section boundary and the point nearest the end of
   a lyric line (so an instrumental gap after a line gets its own scenes) earn
   a bonus; cutting inside a lyric line costs extra (long lines are split only
   when they are long for the energy).

Edges: 0 and ``duration_ms`` are always the first and last cut, so the first
and last scene run to the track's edges (not to a beat). A track shorter than
``min_scene_ms`` (or shorter than two minimum scenes) is one scene. Lengths are
guaranteed within ``[min, max]`` when the candidate points are at most one
period ``p`` apart and ``max >= 2*min + 3*p``; with tighter bounds the planner
returns the plan with the fewest and smallest violations.
"""
from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.errors import InputError
from engine.models import Analysis, EnergyCurve, LyricLine, LyricWord, Scene, Section

log = logging.getLogger(__name__)

EnergyAt = Callable[[int], float]

DEFAULT_PERIOD_MS = 500
MIN_PERIOD_MS = 200
MAX_PERIOD_MS = 1500

# Cost weights (dimensionless). A length violation outweighs everything else.
VIOLATION_COST = 1e6
TARGET_WEIGHT = 2.0
CUT_COST = {"downbeat": 0.0, "beat": 0.35, "fill": 0.6}
SECTION_BONUS = -0.8
LINE_END_BONUS = -0.3
INSIDE_LINE_COST = 1.2


@dataclass(frozen=True)
class Point:
    """A time where a cut may go, and what kind of place it is."""

    ms: int
    kind: str  # downbeat | beat | fill


# --------------------------------------------------------------------------- helpers


def _clamp01(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


def beat_period_ms(beats_ms: Sequence[int]) -> int:
    """Median beat interval, clamped to [200, 1500] ms; 500 ms with fewer than two beats."""
    gaps = sorted(b - a for a, b in zip(beats_ms, beats_ms[1:]) if b > a)
    if not gaps:
        return DEFAULT_PERIOD_MS
    median = gaps[len(gaps) // 2]
    return max(MIN_PERIOD_MS, min(MAX_PERIOD_MS, median))


def candidate_points(*, duration_ms: int, beats_ms: Sequence[int], downbeats_ms: Sequence[int]) -> list[Point]:
    """Beats inside (0, duration) plus fill points in holes longer than two beat periods."""
    beats = sorted({b for b in beats_ms if 0 < b < duration_ms})
    downs = set(downbeats_ms)
    period = beat_period_ms(beats)
    points = [Point(b, "downbeat" if b in downs else "beat") for b in beats]
    edges = [0, *beats, duration_ms]
    fills: list[Point] = []
    for a, b in zip(edges, edges[1:]):
        if b - a > 2 * period:
            n = round((b - a) / period)
            fills.extend(Point(a + round(k * (b - a) / n), "fill") for k in range(1, n))
    return sorted(points + fills, key=lambda p: p.ms)


def nearest_index(times_ms: Sequence[int], t_ms: int) -> int:
    """Index of the element of sorted ``times_ms`` nearest to ``t_ms`` (earlier one on ties)."""
    i = bisect.bisect_left(times_ms, t_ms)
    if i == 0:
        return 0
    if i == len(times_ms):
        return len(times_ms) - 1
    return i - 1 if t_ms - times_ms[i - 1] <= times_ms[i] - t_ms else i


def lyric_anchors(
    *, duration_ms: int, point_ms: Sequence[int], lyric_spans: Sequence[tuple[int, int]], min_scene_ms: int
) -> list[int]:
    """Forced cuts: each line start snapped to the nearest point, short lines merged (see module doc)."""
    if not point_ms:
        return []
    kept: list[int] = []
    last = 0
    for start_ms, _end in sorted(lyric_spans):
        t = point_ms[nearest_index(point_ms, start_ms)]
        if t - last >= min_scene_ms and duration_ms - t >= min_scene_ms:
            kept.append(t)
            last = t
    return kept


def energy_function(curve: EnergyCurve, *, window_ms: int = 1000) -> EnergyAt:
    """A callable t_ms -> mean RMS (0..1) of ``curve`` over ``window_ms`` centred on t."""
    values = [min(1.0, max(0.0, float(v))) for v in curve.rms]
    prefix = [0.0]
    for v in values:
        prefix.append(prefix[-1] + v)
    hop = max(1, curve.hop_ms)
    half = max(1, window_ms // (2 * hop))

    def energy_at(t_ms: int) -> float:
        if not values:
            return 0.5
        i = min(len(values) - 1, max(0, t_ms // hop))
        lo, hi = max(0, i - half), min(len(values), i + half + 1)
        return (prefix[hi] - prefix[lo]) / (hi - lo)

    return energy_at


def mean_energy(curve: EnergyCurve, *, start_ms: int, end_ms: int) -> float:
    """Mean RMS (0..1) of the frames inside [start_ms, end_ms); the nearest frame if none."""
    if not curve.rms:
        return 0.5
    hop = max(1, curve.hop_ms)
    lo = max(0, start_ms // hop)
    hi = min(len(curve.rms), max(lo + 1, -(-end_ms // hop)))
    frames = curve.rms[min(lo, len(curve.rms) - 1) : hi] or [curve.rms[-1]]
    return min(1.0, max(0.0, sum(frames) / len(frames)))


def target_length_ms(*, energy: float, min_scene_ms: int, max_scene_ms: int) -> float:
    """The ideal scene length for an energy 0..1: max when calm, min at full energy."""
    e = min(1.0, max(0.0, energy))
    return max_scene_ms - e * (max_scene_ms - min_scene_ms)


def scene_cost(*, length_ms: int, energy: float, min_scene_ms: int, max_scene_ms: int) -> float:
    """Cost of one scene: bound violations dominate, then distance from the energy target."""
    cost = 0.0
    if length_ms < min_scene_ms:
        cost += VIOLATION_COST * (1.0 + (min_scene_ms - length_ms) / min_scene_ms)
    elif length_ms > max_scene_ms:
        cost += VIOLATION_COST * (1.0 + (length_ms - max_scene_ms) / max_scene_ms)
    target = target_length_ms(energy=energy, min_scene_ms=min_scene_ms, max_scene_ms=max_scene_ms)
    return cost + TARGET_WEIGHT * math.log(max(length_ms, 1) / target) ** 2


def _cut_costs(
    points: list[Point],
    *,
    lyric_spans: Sequence[tuple[int, int]],
    sections: Sequence[tuple[int, int]],
    min_scene_ms: int,
) -> list[float]:
    """Per-point cost of cutting there (kind, section boundary, inside or at the end of a line)."""
    times = [p.ms for p in points]
    costs = [CUT_COST[p.kind] for p in points]
    if not points:
        return costs
    spans = sorted(lyric_spans)
    for start_ms, end_ms in spans:
        lo = bisect.bisect_right(times, start_ms)
        hi = bisect.bisect_left(times, end_ms)
        for i in range(lo, hi):
            costs[i] += INSIDE_LINE_COST
    for k, (start_ms, end_ms) in enumerate(spans):
        next_start = spans[k + 1][0] if k + 1 < len(spans) else math.inf
        if next_start - end_ms >= min_scene_ms:  # an instrumental gap follows the line
            i = nearest_index(times, end_ms)
            costs[i] = min(costs[i], CUT_COST[points[i].kind]) + LINE_END_BONUS
    for start_ms, _end in sections:
        if start_ms > 0:
            i = nearest_index(times, start_ms)
            costs[i] += SECTION_BONUS
    return costs


def _fill_between(
    times: list[int],
    costs: list[float],
    energies: list[float],
    *,
    edge_energy: tuple[float, float],
    start_ms: int,
    end_ms: int,
    min_scene_ms: int,
    max_scene_ms: int,
) -> list[int]:
    """Best inner cuts strictly between two forced cuts (dynamic programme over the points)."""
    lo = bisect.bisect_right(times, start_ms)
    hi = bisect.bisect_left(times, end_ms)
    node_ms = [start_ms, *times[lo:hi], end_ms]
    node_cost = [0.0, *costs[lo:hi], 0.0]
    node_energy = [edge_energy[0], *energies[lo:hi], edge_energy[1]]
    prefix = [0.0]
    for e in node_energy:
        prefix.append(prefix[-1] + e)
    n = len(node_ms)
    best = [math.inf] * n
    back = [0] * n
    best[0] = 0.0
    for j in range(1, n):
        i = j - 1
        while i >= 0:
            length = node_ms[j] - node_ms[i]
            if length > max_scene_ms and i < j - 1:
                break
            energy = (prefix[j + 1] - prefix[i]) / (j + 1 - i)
            c = best[i] + scene_cost(length_ms=length, energy=energy, min_scene_ms=min_scene_ms, max_scene_ms=max_scene_ms)
            if c < best[j]:
                best[j], back[j] = c, i
            i -= 1
        best[j] += node_cost[j]
    cuts: list[int] = []
    j = back[n - 1]
    while j > 0:
        cuts.append(node_ms[j])
        j = back[j]
    return cuts[::-1]


# --------------------------------------------------------------------------- public API


def plan_cuts(
    *,
    duration_ms: int,
    beats_ms: Sequence[int],
    downbeats_ms: Sequence[int],
    energy_at: EnergyAt | EnergyCurve,
    lyric_spans: Sequence[tuple[int, int]],
    sections: Sequence[tuple[int, int]],
    min_scene_ms: int,
    max_scene_ms: int,
    fixed: Sequence[tuple[int, int]] = (),
) -> list[int]:
    """Cut times of the storyboard: 0 first, ``duration_ms`` last, inner cuts on beats.

    See the module docstring for the rules and the edge cases. ``fixed``: scenes the user made by hand
    (:mod:`engine.structure`): their edges are forced cuts, nothing cuts inside them, and lyric anchors
    closer than ``min_scene_ms`` to them give way. Raises InputError for a non-positive duration or
    ``min_scene_ms > max_scene_ms``.
    """
    if duration_ms <= 0:
        raise InputError(f"the track has no length ({duration_ms} ms)")
    if min_scene_ms <= 0 or min_scene_ms > max_scene_ms:
        raise InputError(f"scene length bounds must satisfy 0 < min <= max (got {min_scene_ms}, {max_scene_ms})")
    energy_fn = energy_function(energy_at) if isinstance(energy_at, EnergyCurve) else energy_at
    points = candidate_points(duration_ms=duration_ms, beats_ms=beats_ms, downbeats_ms=downbeats_ms)
    times = [p.ms for p in points]
    costs = _cut_costs(points, lyric_spans=lyric_spans, sections=sections, min_scene_ms=min_scene_ms)
    energies = [_clamp01(energy_fn(t)) for t in times]
    anchors = lyric_anchors(duration_ms=duration_ms, point_ms=times, lyric_spans=lyric_spans, min_scene_ms=min_scene_ms)
    spans = sorted((a, b) for a, b in fixed if 0 <= a < b <= duration_ms)
    edges = sorted({t for span in spans for t in span} - {0, duration_ms})
    anchors = [t for t in anchors if not any(a - min_scene_ms < t < b + min_scene_ms for a, b in spans)]
    forced = sorted({0, *anchors, *edges, duration_ms})
    cuts = [0]
    for a, b in zip(forced, forced[1:]):
        if (a, b) in spans:  # a scene the user made: nothing cuts inside it
            cuts.append(b)
            continue
        inner = _fill_between(
            times,
            costs,
            energies,
            edge_energy=(_clamp01(energy_fn(a)), _clamp01(energy_fn(b))),
            start_ms=a,
            end_ms=b,
            min_scene_ms=min_scene_ms,
            max_scene_ms=max_scene_ms,
        )
        cuts.extend(inner)
        cuts.append(b)
    log.debug("planned %d scenes over %d ms (%d lyric anchors, %d points)", len(cuts) - 1, duration_ms, len(anchors), len(points))
    return cuts


def _overlap_ms(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def lines_for_scene(
    lines: Sequence[LyricLine], *, start_ms: int, end_ms: int, duration_ms: int | None = None
) -> list[LyricLine]:
    """Lines shown in a scene: those whose midpoint falls in it, or that overlap it substantially.

    "Substantially" is at least 500 ms or half the line. Every line belongs to
    the scene that contains its midpoint, so no line is ever lost; the last
    scene (``end_ms == duration_ms``) also takes lines whose midpoint is at or
    past the end of the track.
    """
    chosen = []
    for line in lines:
        mid = (line.start_ms + line.end_ms) // 2
        overlap = _overlap_ms(start_ms, end_ms, line.start_ms, line.end_ms)
        home = start_ms <= mid < end_ms or (end_ms == duration_ms and mid >= end_ms)
        if home or (overlap > 0 and overlap >= min(500, (line.end_ms - line.start_ms) / 2)):
            chosen.append(line)
    return chosen


def section_for(sections: Sequence[Section], *, start_ms: int, end_ms: int) -> Section | None:
    """The section overlapping [start_ms, end_ms) the most (the earlier one on ties)."""
    best, best_overlap = None, 0
    for section in sections:
        overlap = _overlap_ms(start_ms, end_ms, section.start_ms, section.end_ms)
        if overlap > best_overlap:
            best, best_overlap = section, overlap
    return best


def mood_for(*, section: Section | None, analysis_mood: str, energy: float) -> str:
    """The section's mood, else the track's, else a word from the energy."""
    if section is not None and section.mood:
        return section.mood
    if analysis_mood:
        return analysis_mood
    return "calm" if energy < 0.35 else "steady" if energy < 0.7 else "intense"


def cuts_for(analysis: Analysis, *, min_scene_ms: int, max_scene_ms: int, fixed: Sequence[tuple[int, int]] = ()) -> list[int]:
    """The storyboard's cut times for an analysis (0 first, the duration last): :func:`plan_cuts` on its beat
    grid, lyric lines and sections (``fixed``: the user's scenes, kept as they are)."""
    lines = sorted(analysis.lyrics, key=lambda line: (line.start_ms, line.index))
    return plan_cuts(
        duration_ms=analysis.duration_ms,
        beats_ms=analysis.beats_ms,
        downbeats_ms=analysis.downbeats_ms,
        energy_at=analysis.energy,
        lyric_spans=[(line.start_ms, line.end_ms) for line in lines],
        sections=[(s.start_ms, s.end_ms) for s in analysis.sections],
        min_scene_ms=min_scene_ms,
        max_scene_ms=max_scene_ms,
        fixed=fixed,
    )


def scene_for_span(analysis: Analysis, *, start_ms: int, end_ms: int, index: int, scene_id: str,
                   like: Scene | None = None) -> Scene:
    """The scene over ``[start_ms, end_ms)``: its lyrics, words and energy from the analysis.

    Section, mood and visual intent are computed from the analysis, or taken from ``like`` (the scene it was
    made from, when the user moved, split or merged scenes), whose ``edited`` and ``locked`` flags it keeps.
    """
    lines = sorted(analysis.lyrics, key=lambda line: (line.start_ms, line.index))
    shown = lines_for_scene(lines, start_ms=start_ms, end_ms=end_ms, duration_ms=analysis.duration_ms)
    words: list[LyricWord] = [
        w for line in shown for w in line.words if _overlap_ms(start_ms, end_ms, w.start_ms, max(w.end_ms, w.start_ms + 1))
    ]
    energy = round(mean_energy(analysis.energy, start_ms=start_ms, end_ms=end_ms), 4)
    if like is not None:
        look = {"mood": like.mood, "section": like.section, "visual_intent": like.visual_intent, "edited": like.edited,
                "locked": like.locked}
    else:
        section = section_for(analysis.sections, start_ms=start_ms, end_ms=end_ms)
        look = {"mood": mood_for(section=section, analysis_mood=analysis.mood, energy=energy),
                "section": section.label if section is not None else "main", "visual_intent": ""}
    return Scene(id=scene_id, index=index, start_ms=start_ms, end_ms=end_ms,
                 lyric_text="\n".join(line.text for line in shown), energy=energy, words=words, **look)


def draft_scenes(analysis: Analysis, *, min_scene_ms: int, max_scene_ms: int) -> list[Scene]:
    """Scenes ``seg_001``.. covering the whole track, each with lyrics, section, mood and energy.

    The cut times come from :func:`plan_cuts` on the analysis' beat grid. The
    ``visual_intent`` is left empty: a storyboarder (e.g. the local one in
    :mod:`engine.providers.local.storyboard`) writes it.
    """
    cuts = cuts_for(analysis, min_scene_ms=min_scene_ms, max_scene_ms=max_scene_ms)
    return [
        scene_for_span(analysis, start_ms=start_ms, end_ms=end_ms, index=index, scene_id=f"seg_{index + 1:03d}")
        for index, (start_ms, end_ms) in enumerate(zip(cuts, cuts[1:]))
    ]
