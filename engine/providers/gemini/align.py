"""Pure timing repair for Gemini's answers: lyric lines and scene cuts.

Gemini's audio timestamps are unreliable (hallucinated, past the end of the
audio, drifting), and its scene bounds ignore the beat. Nothing here trusts
them further than their *order* and their rough position:

* :func:`repair_line_times` keeps the transcript's line order and makes the
  times valid: inside ``[0, duration_ms]``, starts strictly increasing by at
  least ``min_line_ms``, no overlaps. A transcript that drifted past the end
  (more than a quarter of its lines, and at least two, end beyond the track) is first rescaled
  linearly to the track's length. Lines whose start or end changed by more
  than ``move_tolerance_ms`` are flagged ``moved``.
* :func:`snap_starts` then aligns each start to the nearest onset (the
  signal) within ``window_ms``, never crossing a neighbour.
* :func:`snap_scene_cuts` turns proposed scene bounds into cut times on the
  local beat grid (:func:`engine.storyboard.candidate_points`), drops cuts
  closer than ``min_scene_ms`` and splits scenes longer than ``max_scene_ms``
  with the local planner (:func:`engine.storyboard.plan_cuts`).

All times are integer milliseconds.
"""
from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from engine.models import EnergyCurve
from engine.storyboard import candidate_points, energy_function, lyric_anchors, nearest_index, plan_cuts

MIN_LINE_MS = 400
MOVE_TOLERANCE_MS = 250
SNAP_WINDOW_MS = 250
DRIFT_FRACTION = 0.25  # this share of lines ending past the track means a drifting clock, not an outlier


@dataclass(frozen=True)
class TimedLine:
    """A lyric line's text and times, and whether validation had to move it."""

    text: str
    start_ms: int
    end_ms: int
    moved: bool = False


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def rescale_if_drifting(spans: Sequence[tuple[int, int]], *, duration_ms: int) -> list[tuple[int, int]]:
    """Spans rescaled to ``duration_ms`` when more than a quarter of them (and at least two) end past the track."""
    spans = [(int(s), int(e)) for s, e in spans]
    if not spans or duration_ms <= 0:
        return spans
    past = sum(1 for s, e in spans if max(s, e) > duration_ms)
    last = max(max(s, e) for s, e in spans)
    if past < 2 or past <= DRIFT_FRACTION * len(spans) or last <= 0:
        return spans
    factor = duration_ms / last
    return [(round(s * factor), round(e * factor)) for s, e in spans]


def repair_line_times(
    lines: Sequence[tuple[str, int, int]],
    *,
    duration_ms: int,
    min_line_ms: int = MIN_LINE_MS,
    move_tolerance_ms: int = MOVE_TOLERANCE_MS,
) -> list[TimedLine]:
    """Valid, ordered, non-overlapping times for transcript lines ``(text, start_ms, end_ms)``.

    Empty lines are dropped; the order of the rest is kept. A start that is
    not at least ``min_line_ms`` after the previous start is impossible: it
    moves to the previous line's (given) end when that fits, else just after
    the previous start. When the lines do not fit at ``min_line_ms`` each,
    the minimum shrinks to share the track evenly. ``moved`` marks lines whose start or end moved by more than
    ``move_tolerance_ms`` from what was given.
    """
    kept = [(t.strip(), int(s), int(e)) for t, s, e in lines if t and t.strip()]
    if not kept or duration_ms <= 0:
        return []
    n = len(kept)
    gap = max(1, min(min_line_ms, duration_ms // n))
    scaled = rescale_if_drifting([(s, e) for _, s, e in kept], duration_ms=duration_ms)
    # Starts: clamped, then non-decreasing by at least `gap` (forward), then room left at the end (backward).
    starts = [_clamp(s, 0, duration_ms - gap) for s, _ in scaled]
    for i in range(1, n):
        if starts[i] < starts[i - 1] + gap:  # an impossible start: after the previous line, if it fits
            room = duration_ms - (n - i) * gap
            starts[i] = max(starts[i - 1] + gap, min(scaled[i - 1][1], room))
    limit = duration_ms - gap
    for i in range(n - 1, -1, -1):
        starts[i] = min(starts[i], limit)
        limit = starts[i] - gap
    starts[0] = max(starts[0], 0)
    out: list[TimedLine] = []
    for i, (text, given_start, given_end) in enumerate(kept):
        next_start = starts[i + 1] if i + 1 < n else duration_ms
        want_end = scaled[i][1]
        end = _clamp(want_end, starts[i] + gap, next_start)
        moved = abs(starts[i] - given_start) > move_tolerance_ms or abs(end - given_end) > move_tolerance_ms
        out.append(TimedLine(text=text, start_ms=starts[i], end_ms=end, moved=moved))
    return out


def snap_starts(lines: Sequence[TimedLine], *, onsets_ms: Sequence[int], window_ms: int = SNAP_WINDOW_MS,
                min_line_ms: int = MIN_LINE_MS) -> list[TimedLine]:
    """Each line start moved to the nearest onset within ``window_ms`` when that keeps the order valid.

    A start never moves before the previous line's start + ``min_line_ms`` or
    past its own end - ``min_line_ms``; the previous line's end follows a
    start that moved earlier. Snapping is alignment, not a correction, so
    ``moved`` is left as it was.
    """
    onsets = sorted(int(o) for o in onsets_ms)
    out = list(lines)
    if not onsets:
        return out
    for i, line in enumerate(out):
        j = nearest_index(onsets, line.start_ms)
        target = onsets[j]
        if abs(target - line.start_ms) > window_ms or target == line.start_ms:
            continue
        low = out[i - 1].start_ms + min_line_ms if i else 0
        high = line.end_ms - min_line_ms
        if not low <= target <= high:
            continue
        out[i] = TimedLine(line.text, target, line.end_ms, line.moved)
        if i and out[i - 1].end_ms > target:
            prev = out[i - 1]
            out[i - 1] = TimedLine(prev.text, prev.start_ms, target, prev.moved)
    return out


def align_lines(
    lines: Sequence[tuple[str, int, int]], *, duration_ms: int, onsets_ms: Sequence[int], min_line_ms: int = MIN_LINE_MS
) -> list[TimedLine]:
    """:func:`repair_line_times` then :func:`snap_starts`: validated lines aligned to the signal."""
    repaired = repair_line_times(lines, duration_ms=duration_ms, min_line_ms=min_line_ms)
    n = max(1, len(repaired))
    gap = max(1, min(min_line_ms, duration_ms // n))
    return snap_starts(repaired, onsets_ms=onsets_ms, min_line_ms=gap)


def proposed_cuts(spans: Sequence[tuple[int, int]], *, duration_ms: int) -> list[int]:
    """Inner cut times implied by proposed scene spans: every start and end strictly inside the track, sorted."""
    cuts = {int(t) for s, e in spans for t in (s, e) if 0 < int(t) < duration_ms}
    return sorted(cuts)


def snap_scene_cuts(
    cuts_ms: Sequence[int],
    *,
    duration_ms: int,
    beats_ms: Sequence[int],
    downbeats_ms: Sequence[int],
    energy: EnergyCurve,
    lyric_spans: Sequence[tuple[int, int]] = (),
    sections: Sequence[tuple[int, int]] = (),
    min_scene_ms: int,
    max_scene_ms: int,
) -> list[int]:
    """Cut times ``[0, ..., duration_ms]`` from proposed inner cuts, on the beat grid and within the bounds.

    Each proposed cut snaps to the nearest beat (or fill point where the grid
    has holes); cuts closer than ``min_scene_ms`` to the previous kept cut or
    to the end are dropped; a gap longer than ``max_scene_ms`` is split by the
    local planner over that stretch.
    """
    points = [p.ms for p in candidate_points(duration_ms=duration_ms, beats_ms=beats_ms, downbeats_ms=downbeats_ms)]
    inner = sorted({int(c) for c in cuts_ms if 0 < int(c) < duration_ms})
    anchors = lyric_anchors(
        duration_ms=duration_ms, point_ms=points, lyric_spans=[(c, c) for c in inner], min_scene_ms=min_scene_ms
    )
    forced = [0, *anchors, duration_ms]
    cuts = [0]
    for a, b in zip(forced, forced[1:]):
        if b - a > max_scene_ms:
            cuts.extend(_split(a, b, beats_ms=beats_ms, downbeats_ms=downbeats_ms, energy=energy,
                               lyric_spans=lyric_spans, sections=sections, min_scene_ms=min_scene_ms,
                               max_scene_ms=max_scene_ms))
        cuts.append(b)
    return cuts


def _split(
    start_ms: int, end_ms: int, *, beats_ms: Sequence[int], downbeats_ms: Sequence[int], energy: EnergyCurve,
    lyric_spans: Sequence[tuple[int, int]], sections: Sequence[tuple[int, int]], min_scene_ms: int, max_scene_ms: int,
) -> list[int]:
    """Inner cuts of the stretch ``[start_ms, end_ms]`` planned by the local planner (times shifted to 0)."""
    def local(times: Sequence[int]) -> list[int]:
        lo, hi = bisect.bisect_right(sorted(times), start_ms), bisect.bisect_left(sorted(times), end_ms)
        return [t - start_ms for t in sorted(times)[lo:hi]]

    def shift(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        return [(max(0, s - start_ms), min(end_ms, e) - start_ms) for s, e in spans if e > start_ms and s < end_ms]

    energy_at = energy_function(energy)
    planned = plan_cuts(
        duration_ms=end_ms - start_ms, beats_ms=local(beats_ms), downbeats_ms=local(downbeats_ms),
        energy_at=lambda t: energy_at(t + start_ms), lyric_spans=shift(lyric_spans), sections=shift(sections),
        min_scene_ms=min_scene_ms, max_scene_ms=max_scene_ms,
    )
    return [t + start_ms for t in planned[1:-1]]


def best_overlap(spans: Sequence[tuple[int, int]], *, start_ms: int, end_ms: int) -> int | None:
    """Index of the span overlapping ``[start_ms, end_ms)`` the most; the nearest by midpoint if none overlaps."""
    if not spans:
        return None
    best, best_overlap_ms = None, 0
    for i, (s, e) in enumerate(spans):
        overlap = max(0, min(end_ms, e) - max(start_ms, s))
        if overlap > best_overlap_ms:
            best, best_overlap_ms = i, overlap
    if best is not None:
        return best
    mid = (start_ms + end_ms) / 2
    return min(range(len(spans)), key=lambda i: abs((spans[i][0] + spans[i][1]) / 2 - mid))
