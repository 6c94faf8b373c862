"""Step 2, segment: analysis.json -> segments.json (the storyboard)."""
from __future__ import annotations

import logging

from engine.errors import ProviderError
from engine.fingerprint import fingerprint
from engine.models import Analysis, Project, ProjectSettings, Scene, Segments
from engine.providers.base import Storyboarder
from engine.steps.common import StepContext
from engine.storage import ProjectFolder, atomic_write_json
from engine.structure import honour, spans_for

log = logging.getLogger(__name__)

STEP_VERSION = "1"
_CONTENT = ("start_ms", "end_ms", "lyric_text", "mood", "energy", "section", "words")  # what the analysis decides


def _content(scene: Scene) -> tuple[object, ...]:
    return tuple(repr(getattr(scene, name)) for name in _CONTENT)


def _number(scene_id: str) -> int:
    tail = scene_id.rpartition("_")[2]
    return int(tail) if tail.isdigit() else 0


def keep_known(scenes: list[Scene], previous: list[Scene], *, used_ids: set[str]) -> list[Scene]:
    """Scene identity by content, not position, when the storyboard is planned again (a lyrics edit, a new track).

    * A new scene with the same content as a previous one (times, lyric text, words, section, mood,
      energy) *is* that scene: it keeps its id, visual intent and ``edited`` flag (only its index, the
      position, may change), so its prompt and picture are kept.
    * A changed scene takes over the id of the unclaimed previous scene it overlaps most in time: its
      prompt history carries over, so its new picture is a new version and the earlier ones stay
      restorable. A visual intent the user wrote for that scene (``edited``) is kept.
    * Any other scene gets an id never used in this project (``used_ids``: every id of the previous
      storyboard, prompts.json and the picture files), so no old picture file is ever overwritten.
    """
    if not previous:
        return scenes
    by_content: dict[tuple[object, ...], list[Scene]] = {}
    for old in previous:
        by_content.setdefault(_content(old), []).append(old)
    claimed: set[str] = set()
    out: list[Scene | None] = []
    for scene in scenes:
        same = [old for old in by_content.get(_content(scene), []) if old.id not in claimed]
        if same:
            claimed.add(same[0].id)
            out.append(same[0].model_copy(update={"index": scene.index}))
        else:
            out.append(None)
    for k, scene in enumerate(scenes):
        if out[k] is not None:
            continue
        free = [old for old in previous if old.id not in claimed]
        overlap = [(min(old.end_ms, scene.end_ms) - max(old.start_ms, scene.start_ms), old) for old in free]
        best = max(overlap, key=lambda item: item[0], default=(0, None))
        if best[1] is not None and best[0] > 0:
            old = best[1]
            claimed.add(old.id)
            update: dict[str, object] = {"id": old.id, "locked": old.locked or scene.locked}
            if old.edited:
                update.update(visual_intent=old.visual_intent, edited=True)
            out[k] = scene.model_copy(update=update)
    next_number = max((_number(i) for i in used_ids | {s.id for s in previous}), default=0) + 1
    for k, scene in enumerate(scenes):
        if out[k] is None:
            out[k] = scene.model_copy(update={"id": f"seg_{next_number:03d}"})
            next_number += 1
    return [scene for scene in out if scene is not None]


def used_scene_ids(folder: ProjectFolder) -> set[str]:
    """Every scene id this project has used: the storyboard's, prompts.json's and the picture files'."""
    ids: set[str] = set()
    prompts = folder.load_prompts()
    if prompts is not None:
        ids.update(sp.id for sp in prompts.scenes)
    if folder.images_dir.is_dir():
        ids.update(p.name.rpartition("_v")[0] for p in folder.images_dir.glob("seg_*_v*.png"))
    return ids


def check_scenes(scenes: list[Scene], *, duration_ms: int) -> None:
    """Scenes must cover 0..duration in order without gaps or overlaps; ProviderError otherwise."""
    if not scenes:
        raise ProviderError("the storyboard has no scenes", transient=True)
    problems = []
    if scenes[0].start_ms != 0:
        problems.append(f"first scene starts at {scenes[0].start_ms} ms, not 0")
    if scenes[-1].end_ms != duration_ms:
        problems.append(f"last scene ends at {scenes[-1].end_ms} ms, not {duration_ms}")
    for a, b in zip(scenes, scenes[1:]):
        if a.end_ms != b.start_ms:
            problems.append(f"{a.id} ends at {a.end_ms} but {b.id} starts at {b.start_ms}")
    for s in scenes:
        if s.end_ms <= s.start_ms:
            problems.append(f"{s.id} is empty")
    if len({s.id for s in scenes}) != len(scenes):
        problems.append("scene ids repeat")
    if problems:
        raise ProviderError("bad storyboard: " + "; ".join(problems[:5]), transient=True)


def user_spans(folder: ProjectFolder, project: Project, analysis: Analysis) -> list[tuple[int, int]]:
    """The scenes the user made by hand (``cuts.json``) that apply to the project's current track."""
    return spans_for(folder.load_cuts(), track_sha256=project.source.sha256 if project.source else "",
                     duration_ms=analysis.duration_ms)


def wanted_fingerprint(analysis: Analysis, settings: ProjectSettings, board: Storyboarder, spans: list[tuple[int, int]]) -> str:
    """What segments.json depends on: the analysis, hand-edited lyrics, the scene length bounds, the
    storyboarder, and the user's own scenes (none: the hash as before they existed)."""
    edited = [analysis.lyrics_edit] if analysis.lyrics_edit else []  # hand-edited lyrics (none: the hash as before)
    user = [[list(span) for span in spans]] if spans else []
    return fingerprint("segment", STEP_VERSION, board.name, board.version, analysis.fingerprint, settings.min_scene_ms,
                       settings.max_scene_ms, *edited, *user)


def run(ctx: StepContext) -> bool:
    """Make segments.json unless an up-to-date one exists; True if work was done."""
    analysis = ctx.require_analysis()
    board = ctx.provider.storyboarder
    s = ctx.project.settings
    spans = user_spans(ctx.folder, ctx.project, analysis)
    want = wanted_fingerprint(analysis, s, board, spans)
    existing = ctx.folder.load_segments()
    if existing is not None and existing.fingerprint == want:
        return False
    ctx.progress(0, 1, "writing the storyboard")
    ctx.io.notes.clear()
    scenes = board.storyboard(analysis, settings=s, io=ctx.io)
    check_scenes(scenes, duration_ms=analysis.duration_ms)
    if spans:  # the user's own scenes kept as they are, the storyboarder's cuts fitted around them
        scenes = honour(scenes, spans, previous=existing.scenes if existing else [], analysis=analysis,
                        min_scene_ms=s.min_scene_ms, max_scene_ms=s.max_scene_ms)
        check_scenes(scenes, duration_ms=analysis.duration_ms)
    if existing is not None:  # planned again: the scenes still there keep their ids, prompts and pictures
        scenes = keep_known(scenes, existing.scenes, used_ids=used_scene_ids(ctx.folder))
    atomic_write_json(ctx.folder.segments_json, Segments(fingerprint=want, provider=board.name, scenes=scenes,
                                                         note="; ".join(ctx.io.notes)[:2000]))
    ctx.progress(1, 1, f"{len(scenes)} scenes")
    return True
