"""The storyboard's structure edited by hand: move a cut, split a scene, merge two, and keep those decisions.

Pure rules (no files): the actions that use them are in :mod:`engine.scene_actions`.

* **Snapping** (:func:`snap_cut`): a cut goes to the nearest downbeat when one is within three quarters of a beat, else to
  the nearest beat (or fill point, where the beat grid has a hole); a time already on a beat stays.
* **An edit** (:func:`move_cuts`, :func:`split_at`, :func:`merge_with`) gives a new list of cut times and the
  scenes it made ("touched"); :func:`rebuild` turns that into scenes. A scene the edit did not touch is the
  same object (same id, prompt and picture); a touched scene is made from its span
  (:func:`engine.storyboard.scene_for_span`) with the look (section, mood, intent, flags) of the old scene
  it overlaps most, and takes that scene's id (``steps.segment.keep_known``), so its prompt history carries
  over. Each touched scene must last between the project's ``min_scene_ms`` and ``max_scene_ms``, and a
  locked scene is never touched (InputError naming the scene).
* **Persistence** (:func:`remember`, :func:`honour`): the touched spans are the user's decisions, kept in
  ``cuts.json`` (:class:`engine.models.CutEdits`). Whenever the segment step plans the storyboard again (a
  lyrics edit), :func:`honour` keeps every such span as a scene of its own and fits the provider's cuts
  around them.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from engine.errors import InputError
from engine.models import Analysis, CutEdits, Scene, Span
from engine.storyboard import beat_period_ms, candidate_points, cuts_for, nearest_index, scene_for_span

log = logging.getLogger(__name__)

DOWNBEAT_PULL = 0.75  # a downbeat within this share of a beat period wins over a nearer beat

Cut = tuple[int, int]


def snap_cut(analysis: Analysis, t_ms: int) -> int:
    """The beat nearest ``t_ms`` (a downbeat within three quarters of a beat preferred); ``t_ms`` itself when on a point."""
    points = candidate_points(duration_ms=analysis.duration_ms, beats_ms=analysis.beats_ms, downbeats_ms=analysis.downbeats_ms)
    if not points:
        return t_ms
    times = [p.ms for p in points]
    nearest = times[nearest_index(times, t_ms)]
    if nearest == t_ms:
        return t_ms
    downs = [p.ms for p in points if p.kind == "downbeat"]
    if downs:
        down = downs[nearest_index(downs, t_ms)]
        if abs(down - t_ms) <= DOWNBEAT_PULL * beat_period_ms(analysis.beats_ms):
            return down
    return nearest


def _cuts(scenes: Sequence[Scene]) -> list[int]:
    return [scenes[0].start_ms, *(s.end_ms for s in scenes)]


def _where(scenes: Sequence[Scene], scene_id: str) -> int:
    for k, scene in enumerate(scenes):
        if scene.id == scene_id:
            return k
    raise InputError(f"scene {scene_id} is not in the storyboard")


def move_cuts(scenes: Sequence[Scene], scene_id: str, *, start_ms: int | None, end_ms: int | None) -> tuple[list[int], list[Cut]]:
    """New cuts when a scene's start and/or end move (the neighbour changes with it), and the touched spans."""
    k = _where(scenes, scene_id)
    cuts = _cuts(scenes)
    moved: list[int] = []
    if start_ms is not None and start_ms != cuts[k]:
        if k == 0:
            raise InputError("the first scene always starts at 0 ms")
        cuts[k] = start_ms
        moved.append(k)
    if end_ms is not None and end_ms != cuts[k + 1]:
        if k == len(scenes) - 1:
            raise InputError(f"the last scene always ends with the track ({cuts[-1]} ms)")
        cuts[k + 1] = end_ms
        moved.append(k + 1)
    if any(b <= a for a, b in zip(cuts, cuts[1:])):
        raise InputError("a cut cannot move past its neighbour: scenes must stay in order and not be empty")
    touched = sorted({(cuts[i - 1], cuts[i]) for i in moved} | {(cuts[i], cuts[i + 1]) for i in moved})
    return cuts, touched


def split_at(scenes: Sequence[Scene], scene_id: str, at_ms: int) -> tuple[list[int], list[Cut]]:
    """New cuts when a scene is split at ``at_ms`` (strictly inside it), and the two halves."""
    scene = scenes[_where(scenes, scene_id)]
    if not scene.start_ms < at_ms < scene.end_ms:
        raise InputError(f"{at_ms} ms is not inside {scene_id} ({scene.start_ms}-{scene.end_ms} ms)")
    cuts = sorted({*_cuts(scenes), at_ms})
    return cuts, [(scene.start_ms, at_ms), (at_ms, scene.end_ms)]


def merge_with(scenes: Sequence[Scene], scene_id: str, side: str) -> tuple[list[int], list[Cut]]:
    """New cuts when a scene is merged with its ``"next"`` or ``"prev"`` neighbour, and the merged span."""
    k = _where(scenes, scene_id)
    other = k + 1 if side == "next" else k - 1
    if not 0 <= other < len(scenes):
        raise InputError(f"{scene_id} has no {'next' if side == 'next' else 'previous'} scene to merge with")
    first, second = sorted((k, other))
    gone = scenes[second].start_ms
    return [t for t in _cuts(scenes) if t != gone], [(scenes[first].start_ms, scenes[second].end_ms)]


def _overlap(a: Cut, scene: Scene) -> int:
    return min(a[1], scene.end_ms) - max(a[0], scene.start_ms)


def most_overlapping(span: Cut, scenes: Sequence[Scene]) -> Scene | None:
    """The scene of ``scenes`` overlapping ``span`` the most (the earlier one on ties), None when none does."""
    best = max(scenes, key=lambda s: _overlap(span, s), default=None)
    return best if best is not None and _overlap(span, best) > 0 else None


def check_lengths(touched: Sequence[Cut], *, min_scene_ms: int, max_scene_ms: int) -> None:
    """InputError unless every touched scene lasts between the project's shortest and longest scene."""
    for start, end in touched:
        length = end - start
        if not min_scene_ms <= length <= max_scene_ms:
            raise InputError(
                f"the scene {start / 1000:.2f}-{end / 1000:.2f} s would last {length / 1000:.2f} s; scenes last "
                f"{min_scene_ms / 1000:g}-{max_scene_ms / 1000:g} s (the project's min_scene_ms and max_scene_ms)")


def check_unlocked(scenes: Sequence[Scene], touched: Sequence[Cut]) -> None:
    """InputError when an edit would change a locked scene (it keeps its times as well as its picture)."""
    for scene in scenes:
        if scene.locked and any(_overlap(span, scene) > 0 and span != (scene.start_ms, scene.end_ms) for span in touched):
            raise InputError(f"{scene.id} is locked: unlock it to change its cuts")


def rebuild(analysis: Analysis, previous: Sequence[Scene], cuts: Sequence[int], *, looks: Sequence[Scene] | None = None) -> list[Scene]:
    """Scenes for ``cuts``: a span that is a previous scene is that scene (re-indexed); any other span is made
    from the analysis with the look of the scene of ``looks`` (default: ``previous``) it overlaps most.

    Ids are provisional (numbered in order): ``steps.segment.keep_known`` gives the final ones.
    """
    by_span = {(s.start_ms, s.end_ms): s for s in previous}
    looks = previous if looks is None else looks
    out = []
    for index, span in enumerate(zip(cuts, cuts[1:])):
        same = by_span.get(span)
        if same is not None:
            out.append(same.model_copy(update={"index": index}))
            continue
        out.append(scene_for_span(analysis, start_ms=span[0], end_ms=span[1], index=index, scene_id=f"seg_{index + 1:03d}",
                                  like=most_overlapping(span, looks)))
    return out


def remember(edits: CutEdits | None, touched: Sequence[Cut], *, track_sha256: str) -> CutEdits:
    """The user's spans after an edit: the new ones replace every earlier span they overlap."""
    kept = [] if edits is None or edits.track_sha256 != track_sha256 else [
        sp for sp in edits.spans if not any(min(sp.end_ms, b) > max(sp.start_ms, a) for a, b in touched)]
    spans = sorted([*kept, *(Span(start_ms=a, end_ms=b) for a, b in touched)], key=lambda sp: sp.start_ms)
    return CutEdits(track_sha256=track_sha256, spans=spans)


def spans_for(edits: CutEdits | None, *, track_sha256: str, duration_ms: int) -> list[Cut]:
    """The user's spans that apply to this track (sorted, inside it, not overlapping); none for another track."""
    if edits is None or edits.track_sha256 != track_sha256:
        return []
    out: list[Cut] = []
    for sp in sorted(edits.spans, key=lambda sp: sp.start_ms):
        if sp.end_ms <= duration_ms and sp.start_ms < sp.end_ms and (not out or sp.start_ms >= out[-1][1]):
            out.append((sp.start_ms, sp.end_ms))
    return out


def honour(scenes: list[Scene], spans: Sequence[Cut], *, previous: Sequence[Scene], analysis: Analysis,
           min_scene_ms: int, max_scene_ms: int) -> list[Scene]:
    """The provider's storyboard with the user's spans kept as scenes of their own.

    The provider's cuts stay where they do not fall inside a user's span or nearer than ``min_scene_ms`` to
    its edges; between two user spans where that leaves a scene outside the length bounds, the local planner
    fills in (:func:`engine.storyboard.cuts_for` with the spans fixed). A user's scene keeps the look of the
    previous scene with its bounds.
    """
    if not spans:
        return scenes
    duration = analysis.duration_ms
    edges = sorted({0, duration, *(t for span in spans for t in span)})
    kept = [s.start_ms for s in scenes[1:] if not any(a - min_scene_ms < s.start_ms < b + min_scene_ms for a, b in spans)]
    planned: list[int] | None = None
    cuts = [0]
    for a, b in zip(edges, edges[1:]):
        inner = [t for t in kept if a < t < b] if (a, b) not in spans else []
        lengths = [y - x for x, y in zip([a, *inner], [*inner, b])]
        if (a, b) not in spans and any(not min_scene_ms <= n <= max_scene_ms for n in lengths):
            planned = planned or cuts_for(analysis, min_scene_ms=min_scene_ms, max_scene_ms=max_scene_ms, fixed=spans)
            inner = [t for t in planned if a < t < b]
        cuts.extend([*inner, b])
    user = [s for s in previous if (s.start_ms, s.end_ms) in set(spans)]
    board = {(s.start_ms, s.end_ms): s for s in scenes}
    out = []
    for index, span in enumerate(zip(cuts, cuts[1:])):
        if span in board and span not in set(spans):
            out.append(board[span].model_copy(update={"index": index, "id": f"seg_{index + 1:03d}"}))
            continue
        like = next((s for s in user if (s.start_ms, s.end_ms) == span), None) or most_overlapping(span, scenes)
        out.append(scene_for_span(analysis, start_ms=span[0], end_ms=span[1], index=index, scene_id=f"seg_{index + 1:03d}", like=like))
    log.info("storyboard: %d user scene(s) kept, %d scenes in all", len(spans), len(out))
    return out
