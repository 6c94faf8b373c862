"""User actions on the storyboard's structure and pictures: move a cut, split, merge, lock, bring a picture.

Each takes the project lock briefly (refused while a run is queued or running), checks the machine allows its
trigger and ``if_match`` is the scene's current version (:mod:`engine.versions`) *before* touching anything,
writes files atomically and fires its trigger (``edit_cuts``, ``lock_scene`` / ``unlock_scene``,
``upload_picture``). A refused action changes nothing on disk. The rules are :mod:`engine.structure` (cuts)
and :mod:`engine.pictures` (pictures).

Only what an edit touches is redone. Scenes the edit did not touch are the same scenes (same id, prompt,
picture). A touched scene whose words, section, mood and intent did not change (a cut moved inside an
instrumental stretch, or only the times of its lines moved) keeps its prompt and picture: the picture shows
what the scene is about, not how long it lasts, so its prompt and picture are carried over to its new times
(their records name the new scene); the render re-encodes its chunks. A touched scene whose words changed (a
line moved across the cut, a split, a merge) gets a new prompt and picture on the next run, as a new version.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Literal

from engine import machine
from engine.config import get_settings
from engine.errors import InputError, NotFoundError, StateError
from engine.images import canvas_size
from engine.models import Analysis, Project, Prompts, PromptVersion, Scene, Segments, utcnow
from engine.pictures import FORMATS, crop_upload, is_upload, read_picture
from engine.project import _edit_lock, _scene_and_prompts, scene_value
from engine.providers import get_provider
from engine.steps.common import StepContext
from engine.steps.draw import previous_picture_sha
from engine.steps.draw import wanted_fingerprint as picture_fingerprint
from engine.steps.prompt import scene_source_fingerprint
from engine.steps.segment import keep_known, used_scene_ids, user_spans, wanted_fingerprint
from engine.storage import ProjectFolder, atomic_write_bytes, atomic_write_json
from engine.structure import (Cut, check_lengths, check_unlocked, merge_with, move_cuts, rebuild, remember, snap_cut,
                              spans_for, split_at)
from engine.versions import check_if_match, scene_version

log = logging.getLogger(__name__)

Plan = Callable[[Sequence[Scene], Analysis], tuple[list[int], list[Cut]]]
_DEPICTED = ("lyric_text", "section", "mood", "visual_intent")  # what a picture shows


def _depicted(scene: Scene) -> tuple[object, ...]:
    return tuple(getattr(scene, name) for name in _DEPICTED)


def _carry_over(ctx: StepContext, before: Sequence[Scene], after: Sequence[Scene], prompts: Prompts | None) -> bool:
    """Carry the prompt and picture of each retimed scene that shows the same thing to its new times; True if any."""
    if prompts is None:
        return False
    writer = ctx.provider.writer
    writer_id = f"{writer.name}/{writer.version}"
    old_at = {s.id: k for k, s in enumerate(before)}
    by_id = {sp.id: sp for sp in prompts.scenes}
    cast = ctx.folder.load_cast()
    changed = False
    for k, new in enumerate(after):
        old = before[old_at[new.id]] if new.id in old_at else None
        sp = by_id.get(new.id)
        if old is None or sp is None or old == new.model_copy(update={"index": old.index}) or _depicted(old) != _depicted(new):
            continue
        latest = sp.latest
        if latest.source_fingerprint == scene_source_fingerprint(old, prompts.style_bible, writer=writer_id):
            latest.source_fingerprint = scene_source_fingerprint(new, prompts.style_bible, writer=writer_id)
            changed = True
        image = latest.image
        was = picture_fingerprint(ctx, old, latest, prompts, cast, previous_picture_sha(ctx, list(before), old_at[new.id], prompts))
        if image is not None and not is_upload(image) and image.fingerprint == was:
            image.fingerprint = picture_fingerprint(ctx, new, latest, prompts, cast, previous_picture_sha(ctx, list(after), k, prompts))
            changed = True
    return changed


def _restructure(project_id: str, scene_id: str, plan: Plan, *, if_match: str | None) -> Segments:
    """Apply one structure edit (``plan`` gives the new cuts and the scenes it made) under the lock."""
    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        project = folder.load_project()
        machine.require_allowed(project, "edit_cuts")
        segments, scene, prompts, sp = _scene_and_prompts(folder, scene_id)
        check_if_match(if_match, scene_version(scene, sp), what=f"scene {scene_id}", current=scene_value(scene, sp))
        analysis = folder.load_analysis()
        if analysis is None or project.source is None:
            raise StateError("the track is not analysed", state=project.state, allowed=machine.allowed_triggers(project))
        provider = get_provider(project.settings, get_settings())
        board = provider.storyboarder
        settings = project.settings
        if segments.fingerprint != wanted_fingerprint(analysis, settings, board, user_spans(folder, project, analysis)):
            raise StateError("the storyboard is out of date: run the pipeline to plan it again first",
                             state=project.state, allowed=machine.allowed_triggers(project))
        cuts, touched = plan(segments.scenes, analysis)
        check_unlocked(segments.scenes, touched)
        check_lengths(touched, min_scene_ms=settings.min_scene_ms, max_scene_ms=settings.max_scene_ms)
        scenes = keep_known(rebuild(analysis, segments.scenes, cuts), segments.scenes, used_ids=used_scene_ids(folder))
        edits = remember(folder.load_cuts(), touched, track_sha256=project.source.sha256)
        spans = spans_for(edits, track_sha256=project.source.sha256, duration_ms=analysis.duration_ms)
        new = Segments(fingerprint=wanted_fingerprint(analysis, settings, board, spans), provider=segments.provider, scenes=scenes)
        ctx = StepContext(folder=folder, project=project, provider=provider)
        carried = _carry_over(ctx, segments.scenes, scenes, prompts)
        atomic_write_json(folder.cuts_json, edits)  # first: a crash after it makes the segment step plan them in
        atomic_write_json(folder.segments_json, new)
        if carried and prompts is not None:
            atomic_write_json(folder.prompts_json, prompts)
        machine.fire(project, "edit_cuts")
        folder.save_project(project)
        log.info("project %s: %s edited (%d scene(s) made: %s)", project_id, scene_id, len(touched), touched)
        return new


def _snapped(analysis: Analysis, t_ms: int | None, snap: bool) -> int | None:
    return None if t_ms is None else snap_cut(analysis, int(t_ms)) if snap else int(t_ms)


def move_cut(project_id: str, scene_id: str, *, start_ms: int | None = None, end_ms: int | None = None,
             snap: bool = True, if_match: str | None = None) -> Segments:
    """Move a scene's start and/or end (its neighbour changes with it), snapped to the beat unless ``snap`` is False."""
    if start_ms is None and end_ms is None:
        raise InputError("give start_ms and/or end_ms")

    def plan(scenes: Sequence[Scene], analysis: Analysis) -> tuple[list[int], list[Cut]]:
        return move_cuts(scenes, scene_id, start_ms=_snapped(analysis, start_ms, snap), end_ms=_snapped(analysis, end_ms, snap))

    return _restructure(project_id, scene_id, plan, if_match=if_match)


def split_scene(project_id: str, scene_id: str, at_ms: int, *, snap: bool = True, if_match: str | None = None) -> Segments:
    """Split a scene in two at ``at_ms`` (snapped to the beat unless ``snap`` is False)."""
    def plan(scenes: Sequence[Scene], analysis: Analysis) -> tuple[list[int], list[Cut]]:
        return split_at(scenes, scene_id, _snapped(analysis, at_ms, snap))  # type: ignore[arg-type]

    return _restructure(project_id, scene_id, plan, if_match=if_match)


def merge_scene(project_id: str, scene_id: str, side: Literal["next", "prev"], *, if_match: str | None = None) -> Segments:
    """Merge a scene with its next or previous neighbour into one scene."""
    if side not in ("next", "prev"):
        raise InputError('merge "with" must be "next" or "prev"')
    return _restructure(project_id, scene_id, lambda scenes, _analysis: merge_with(scenes, scene_id, side), if_match=if_match)


def set_locked(project_id: str, scene_id: str, locked: bool, *, if_match: str | None = None) -> Project:
    """Lock a scene (it keeps its prompt and picture) or unlock it (it follows the style and frame again)."""
    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        project = folder.load_project()
        segments, scene, _prompts, sp = _scene_and_prompts(folder, scene_id)
        check_if_match(if_match, scene_version(scene, sp), what=f"scene {scene_id}", current=scene_value(scene, sp))
        trigger = "lock_scene" if locked else "unlock_scene"
        machine.require_allowed(project, trigger)
        if scene.locked == locked:
            return project
        scene.locked = locked
        atomic_write_json(folder.segments_json, segments)
        machine.fire(project, trigger)
        folder.save_project(project)
        return project


def _new_upload_version(folder: ProjectFolder, project: Project, scene_id: str, prompts: Prompts, *, original_rel: str,
                        focus: tuple[float, float] | None) -> PromptVersion:
    """The scene's next version showing a crop of ``original_rel`` (files written; prompts.json not yet)."""
    sp = next(p for p in prompts.scenes if p.id == scene_id)
    latest = sp.latest
    number = latest.version + 1
    width, height = canvas_size(project.settings.aspect, out_height=project.settings.resolution)
    record = crop_upload(folder, scene_id, number, original_rel=original_rel, focus=focus, width=width, height=height)
    version = latest.model_copy(update={"version": number, "origin": "upload", "image": record, "restored_from": None,
                                        "created_at": utcnow()})
    sp.versions.append(version)
    return version


def _picture_edit(project_id: str, scene_id: str, if_match: str | None) -> tuple[ProjectFolder, Project, Prompts]:
    """The checks every picture edit makes (under the lock): the trigger, the version, an unlocked scene."""
    folder = ProjectFolder(project_id)
    project = folder.load_project()
    machine.require_allowed(project, "upload_picture")
    _segments, scene, prompts, sp = _scene_and_prompts(folder, scene_id)
    check_if_match(if_match, scene_version(scene, sp), what=f"scene {scene_id}", current=scene_value(scene, sp))
    if prompts is None or sp is None:
        raise NotFoundError(f"scene {scene_id} has no prompt yet")
    if scene.locked:
        raise InputError(f"{scene_id} is locked: unlock it to change its picture")
    return folder, project, prompts


def upload_picture(project_id: str, scene_id: str, data: bytes, *, focus: tuple[float, float] | None = None,
                   if_match: str | None = None) -> Project:
    """The user's own picture (PNG, JPEG or WebP) as a scene's new version (origin ``upload``), cropped to the
    project's canvas around ``focus``; the original is kept for a new focal point later."""
    _img, kind = read_picture(data)  # refused before anything is locked or written
    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        folder, project, prompts = _picture_edit(project_id, scene_id, if_match)
        sp = next(p for p in prompts.scenes if p.id == scene_id)
        original = folder.originals_dir / f"{scene_id}_v{sp.latest.version + 1}{FORMATS[kind]}"
        original.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(original, data)
        _new_upload_version(folder, project, scene_id, prompts, original_rel=folder.rel(original), focus=focus)
        atomic_write_json(folder.prompts_json, prompts)
        machine.fire(project, "upload_picture")
        folder.save_project(project)
        return project


def set_focus(project_id: str, scene_id: str, focus: tuple[float, float], *, if_match: str | None = None) -> Project:
    """Crop the scene's uploaded picture again around a new focal point (from the kept original: a new version)."""
    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        folder, project, prompts = _picture_edit(project_id, scene_id, if_match)
        latest = next(p for p in prompts.scenes if p.id == scene_id).latest
        image = latest.image
        if not is_upload(image) or image is None or not image.original or not folder.resolve(image.original).is_file():
            raise InputError(f"the current picture of {scene_id} is not one you uploaded: upload a picture first")
        _new_upload_version(folder, project, scene_id, prompts, original_rel=image.original, focus=focus)
        atomic_write_json(folder.prompts_json, prompts)
        machine.fire(project, "upload_picture")
        folder.save_project(project)
        return project
