"""User actions on a project: create, upload, edit, regenerate, restore, settings, delete.

Each action takes the project lock briefly, checks the machine allows it
*before* touching anything, writes files atomically and fires its trigger.
A refused action changes nothing on disk.
"""
from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine import machine
from engine.audio.ingest import probe_and_normalise
from engine.config import get_settings
from engine.errors import InputError, NotFoundError, StateError
from engine.fingerprint import file_sha256, fingerprint
from engine.jobs import require_not_busy
from engine.lock import project_lock
from engine.models import Analysis, Cast, CastMemberFields, LyricLine, LyricsEdit, Project, ProjectSettings, PromptVersion, Scene, ScenePrompts, SourceInfo, utcnow
from engine.providers import get_provider
from engine.steps.prompt import scene_source_fingerprint
from engine.storage import ProjectFolder, atomic_write_bytes, atomic_write_json, local_file, new_project_id
from engine.versions import check_if_match, scene_version, settings_version

log = logging.getLogger(__name__)

EDIT_WAIT_S = 2.0
AUDIO_EXTS = {".wav", ".mp3", ".ogg", ".oga", ".flac", ".m4a", ".aac", ".mp4", ".opus", ".aif", ".aiff", ".webm"}


@contextlib.contextmanager
def _edit_lock(folder: ProjectFolder) -> Iterator[None]:
    """The project lock for a short edit, refused (BusyError) while a run is queued or running.

    A queued run's worker has not taken the lock yet: an edit slipping in there
    would change what the run was started for.
    """
    with project_lock(folder, wait_s=EDIT_WAIT_S):
        require_not_busy(folder)
        yield


def create_project(*, settings: ProjectSettings | None = None, name: str = "", project_id: str | None = None) -> Project:
    """Create an empty project (state CREATED) and return it."""
    settings = settings or ProjectSettings()  # validated: its own checks cover style and scene bounds
    folder = ProjectFolder(project_id or new_project_id())
    if folder.exists():
        raise InputError(f"project {folder.id} already exists")
    project = Project(id=folder.id, name=name.strip()[:200], settings=settings)
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.jobs_dir.mkdir(exist_ok=True)
    folder.lock_file.touch()  # the lock exists from the start: taking it (a refused upload too) changes nothing on disk
    folder.save_project(project)
    log.info("created project %s", folder.id)
    return project


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    return "".join(c for c in base if c.isalnum() or c in "._- ")[:120] or "upload"


def upload_track(
    project_id: str, *, audio: Path, original_name: str, lyrics_text: str | None = None
) -> Project:
    """Store a track (any common audio format, checked by content) and optional lyrics (LRC or text)."""
    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        project = folder.load_project()
        machine.require_allowed(project, "upload")
        config = get_settings()
        folder.source_dir.mkdir(parents=True, exist_ok=True)
        incoming = folder.source_dir / ".incoming.wav"
        try:
            info = probe_and_normalise(
                audio, incoming, max_duration_s=config.max_duration_s, min_duration_s=config.min_duration_s
            )
            lyrics_kind = None
            if lyrics_text is not None and lyrics_text.strip():
                from engine.audio.lyrics import validate_lyrics_text

                lyrics_kind = validate_lyrics_text(lyrics_text, duration_ms=info.duration_ms)
            ext = Path(_safe_name(original_name)).suffix.lower()
            ext = ext if ext in AUDIO_EXTS else ".bin"
            for old in folder.source_dir.glob("original.*"):
                old.unlink()
            original = folder.source_dir / f"original{ext}"
            atomic_write_bytes(original, audio.read_bytes())
            incoming.replace(folder.track_wav)
        finally:
            incoming.unlink(missing_ok=True)
            if not any(folder.source_dir.iterdir()):  # a refused first upload leaves no empty folder
                folder.source_dir.rmdir()
        lyrics_file = lyrics_sha = None
        for old in folder.source_dir.glob("lyrics.*"):
            old.unlink()
        if lyrics_kind is not None:
            path = folder.source_dir / f"lyrics.{'lrc' if lyrics_kind == 'lrc' else 'txt'}"
            atomic_write_bytes(path, lyrics_text.encode("utf-8"))  # type: ignore[union-attr]
            lyrics_file, lyrics_sha = folder.rel(path), file_sha256(path)
        project.source = SourceInfo(
            original_name=_safe_name(original_name), original_file=folder.rel(original),
            sha256=file_sha256(folder.track_wav), duration_ms=info.duration_ms, sample_rate=info.sample_rate,
            channels=info.channels, lyrics_file=lyrics_file, lyrics_sha256=lyrics_sha,
        )
        machine.fire(project, "upload")
        folder.save_project(project)
        return project


def scene_value(scene: Scene, sp: ScenePrompts | None) -> dict[str, Any]:
    """A scene as a 412 reports it: its storyboard entry and its current prompt."""
    latest = sp.latest if sp else None
    return {**scene.model_dump(mode="json"), "image_prompt": latest.image_prompt if latest else None,
            "negative_prompt": latest.negative_prompt if latest else None}


def _scene_and_prompts(folder: ProjectFolder, scene_id: str) -> tuple[Any, Scene, Any, ScenePrompts | None]:
    segments = folder.load_segments()
    if segments is None:
        raise NotFoundError("this project has no storyboard yet")
    scene = next((s for s in segments.scenes if s.id == scene_id), None)
    if scene is None:
        raise NotFoundError(f"scene {scene_id} not found")
    prompts = folder.load_prompts()
    sp = next((p for p in prompts.scenes if p.id == scene_id), None) if prompts else None
    return segments, scene, prompts, sp


def edit_scene(
    project_id: str,
    scene_id: str,
    *,
    visual_intent: str | None = None,
    image_prompt: str | None = None,
    negative_prompt: str | None = None,
    style_hints: list[str] | None = None,
    if_match: str | None = None,
) -> Project:
    """Change a scene's visual intent and/or its prompt; the project moves back to the step to redo.

    ``if_match``: the scene's version the edit was made on (StaleError when it changed since)."""
    folder = ProjectFolder(project_id)
    for label, text in (("visual_intent", visual_intent), ("image_prompt", image_prompt)):
        if text is not None and not text.strip():
            raise InputError(f"{label} must not be empty")
        if text is not None and len(text) > 4000:
            raise InputError(f"{label} is too long (max 4000 characters)")
    with _edit_lock(folder):
        project = folder.load_project()
        segments, scene, prompts, sp = _scene_and_prompts(folder, scene_id)
        check_if_match(if_match, scene_version(scene, sp), what=f"scene {scene_id}", current=scene_value(scene, sp))
        intent_changed = visual_intent is not None and visual_intent.strip() != scene.visual_intent
        prompt_fields = {
            k: v for k, v in (("image_prompt", image_prompt), ("negative_prompt", negative_prompt), ("style_hints", style_hints))
            if v is not None
        }
        if prompt_fields and sp is None:
            raise StateError("prompts are not written yet", state=project.state, allowed=machine.allowed_triggers(project))
        prompt_changed = sp is not None and any(getattr(sp.latest, k) != v for k, v in prompt_fields.items())
        if intent_changed:
            machine.require_allowed(project, "edit_intent")
        if prompt_changed:
            machine.require_allowed(project, "edit_prompt")
        if not intent_changed and not prompt_changed:
            return project
        if intent_changed:
            scene.visual_intent = visual_intent.strip()  # type: ignore[union-attr]
            scene.edited = True
            atomic_write_json(folder.segments_json, segments)
        if prompt_changed:
            writer = get_provider(project.settings, get_settings()).writer
            src_fp = scene_source_fingerprint(scene, prompts.style_bible, writer=f"{writer.name}/{writer.version}")
            latest = sp.latest
            fields = {k: (v.strip() if isinstance(v, str) else v) for k, v in prompt_fields.items()}
            if latest.image is None:
                for k, v in fields.items():
                    setattr(latest, k, v)
                latest.origin, latest.source_fingerprint = "user", src_fp
            else:
                sp.versions.append(
                    latest.model_copy(update={**fields, "version": latest.version + 1, "origin": "user",
                                              "source_fingerprint": src_fp, "image": None, "restored_from": None, "created_at": utcnow()})
                )
            atomic_write_json(folder.prompts_json, prompts)
        machine.fire(project, "edit_intent" if intent_changed else "edit_prompt")
        folder.save_project(project)
        return project


def regenerate_scene(project_id: str, scene_id: str) -> Project:
    """Add a new version of one scene's picture (drawn by the next run towards IMAGED)."""
    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        project = folder.load_project()
        machine.require_allowed(project, "regenerate")
        _, scene, prompts, sp = _scene_and_prompts(folder, scene_id)
        if scene.locked:
            raise InputError(f"{scene_id} is locked: unlock it to draw a new picture")
        if sp is None:
            raise NotFoundError(f"scene {scene_id} has no prompt yet")
        latest = sp.latest
        if latest.image is not None:  # a pending (never drawn) version is simply drawn
            sp.versions.append(
                latest.model_copy(update={"version": latest.version + 1, "origin": "regenerate", "image": None, "restored_from": None, "created_at": utcnow()})
            )
            atomic_write_json(folder.prompts_json, prompts)
        machine.fire(project, "regenerate")
        folder.save_project(project)
        return project


def restore_version(project_id: str, scene_id: str, version: int) -> Project:
    """Make an earlier version current again: a new version showing that version's picture."""
    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        project = folder.load_project()
        machine.require_allowed(project, "restore")
        _, _, prompts, sp = _scene_and_prompts(folder, scene_id)
        old = next((v for v in sp.versions if v.version == version), None) if sp else None
        if sp is None or old is None:
            raise NotFoundError(f"scene {scene_id} has no version {version}")
        new_number = sp.latest.version + 1
        new = old.model_copy(update={"version": new_number, "origin": "restore", "restored_from": old.restored_from or old.version, "image": None, "created_at": utcnow()})
        if old.image is not None and old.image.file:
            src = folder.resolve(old.image.file)
            if src.is_file():
                dst = folder.image_path(scene_id, new_number)
                atomic_write_bytes(dst, src.read_bytes())
                new.image = old.image.model_copy(update={"file": folder.rel(dst)})
        sp.versions.append(new)
        atomic_write_json(folder.prompts_json, prompts)
        machine.fire(project, "restore")
        folder.save_project(project)
        return project


def lyrics_version(analysis: Analysis) -> str:
    """The version (ETag) of a project's lyrics: changes with every edit and with a new analysis."""
    return fingerprint("lyrics", analysis.fingerprint, [line.model_dump(mode="json") for line in analysis.lyrics])[:16]


def current_lyrics(folder: ProjectFolder) -> Analysis:
    """The analysis holding the project's current lyrics; NotFoundError before the analysis."""
    analysis = folder.load_analysis()
    if analysis is None:
        raise NotFoundError("no lyrics yet: the track is not analysed (run the pipeline to ANALYZED first)")
    return analysis


def _as_edited(lines: list[LyricLine], old: list[LyricLine]) -> list[LyricLine]:
    """The edited lines, numbered in order. A line sent back unchanged (text, times, words) keeps how its times were
    found (``timing``, ``confidence``, ``source``); any other line was set by hand: ``timing="given"``."""
    known = {(o.text, o.start_ms, o.end_ms, repr(o.words)): o for o in old}
    out = []
    for k, line in enumerate(lines):
        same = known.get((line.text, line.start_ms, line.end_ms, repr(line.words)))
        if same is not None:
            out.append(same.model_copy(update={"index": k}))
        else:
            out.append(LyricLine(index=k, text=" ".join(line.text.split()), start_ms=line.start_ms, end_ms=line.end_ms,
                                 words=line.words, source="edit", timing="given", confidence=None))
    return out


def timed_lines_from_text(project_id: str, text: str) -> list[LyricLine]:
    """Lyrics from a file's text: LRC / enhanced LRC as given, plain text aligned to the voice again
    (engine.audio.align, offline; the honest estimate where the aligner is not confident)."""
    from engine.providers.local import timed_lyrics  # deferred: the aligner loads on first use

    folder = ProjectFolder(project_id)
    analysis = current_lyrics(folder)
    with local_file(folder.track_wav) as wav:  # from the bucket when this machine has no working copy
        return timed_lyrics(text, analysis=analysis, wav=wav)


def edit_lyrics(project_id: str, lines: list[LyricLine], *, if_match: str | None = None, hand_set: bool = True) -> Project:
    """Replace the project's lyrics with hand-set lines; the machine rewinds to ANALYZED (``edit_lyrics``).

    Checked before anything is written (a refused edit changes nothing on disk): the machine allows the
    trigger, ``if_match`` is the current :func:`lyrics_version` (else StaleError with the current lines), the
    lines are valid (:func:`engine.audio.lyrics.check_lines`: InputError naming the line). The analysis'
    lyrics are replaced atomically; the storyboard is planned again by the next run, and only scenes whose
    times or text changed get new prompts and pictures (``engine.steps.segment.keep_known``).
    ``hand_set`` False: the lines come from a file (:func:`timed_lines_from_text`) and keep how they were timed.
    """
    from engine.audio.lyrics import check_lines

    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        project = folder.load_project()
        machine.require_allowed(project, "edit_lyrics")
        analysis = current_lyrics(folder)
        check_if_match(if_match, lyrics_version(analysis), what="the lyrics", current=analysis.lyrics)
        check_lines(lines, duration_ms=analysis.duration_ms)
        new = _as_edited(lines, analysis.lyrics) if hand_set else [
            line.model_copy(update={"index": k}) for k, line in enumerate(lines)]
        if [line.model_dump() for line in new] == [line.model_dump() for line in analysis.lyrics]:
            return project
        analysis.lyrics = new
        analysis.lyrics_edit = fingerprint("lyrics-edit", [line.model_dump(mode="json") for line in new])[:16]
        atomic_write_json(folder.analysis_json, analysis)
        if project.source is not None:  # kept for a fresh analysis of the same upload (engine.steps.analyze)
            atomic_write_json(folder.lyrics_edit_json,
                              LyricsEdit(made_from=project.source.key, edit=analysis.lyrics_edit, lines=new))
        machine.fire(project, "edit_lyrics")
        folder.save_project(project)
        return project


def current_cast(folder: ProjectFolder) -> Cast:
    """The project's cast; NotFoundError before the prompt step proposed one."""
    cast = folder.load_cast()
    if cast is None:
        raise NotFoundError("no cast yet: it is proposed with the prompts (run the pipeline to PROMPTED first)")
    return cast


def edit_cast(project_id: str, members: list[CastMemberFields], *, if_match: str | None = None) -> Project:
    """Replace the cast's members (who they are, how they look); the machine rewinds to PROMPTED (``edit_cast``).

    Checked before anything is written: the machine allows the trigger, ``if_match`` is the current
    :func:`engine.cast.cast_version` (else StaleError with the current cast), at least one member. A member
    keeps its reference picture by id; the next draw step redraws the references whose look changed and
    exactly the pictures that show a changed member.
    """
    from engine.cast import cast_version, look_fingerprint, merge_edit

    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        project = folder.load_project()
        machine.require_allowed(project, "edit_cast")
        old = current_cast(folder)
        version = cast_version(old)
        check_if_match(if_match, version, what="the cast", current=old.model_dump(mode="json"))
        if not members:
            raise InputError("a cast needs at least one member")
        new = merge_edit(old, members)
        if [look_fingerprint(m) for m in new.members] == [look_fingerprint(m) for m in old.members]:
            return project
        atomic_write_json(folder.cast_json, new)
        machine.fire(project, "edit_cast")
        folder.save_project(project)
        return project


# Which settings make which step stale, and the trigger that rewinds the machine for them.
_SETTING_TRIGGERS: list[tuple[set[str], str, str]] = [
    ({"provider", "min_scene_ms", "max_scene_ms"}, "", machine.UPLOADED),
    ({"style"}, "change_style", machine.SEGMENTED),
    ({"aspect", "quality", "resolution", "seed", "continuity"}, "change_frame", machine.PROMPTED),
    ({"subtitles", "subtitle_size", "subtitle_position", "fps", "beat_pulse", "encode_speed"}, "change_output", machine.IMAGED),
]


def update_settings(project_id: str, changes: dict[str, Any], *, if_match: str | None = None) -> Project:
    """Change project settings; the machine rewinds to the earliest step they affect.

    ``if_match``: the settings' version the change was made on (StaleError when they changed since)."""
    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        project = folder.load_project()
        check_if_match(if_match, settings_version(project.settings), what="the settings",
                       current=project.settings.model_dump(mode="json"))
        try:
            new = ProjectSettings.model_validate({**project.settings.model_dump(), **changes})
        except ValidationError as exc:
            raise InputError(f"bad settings: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None
        changed = {k for k in ProjectSettings.model_fields if getattr(new, k) != getattr(project.settings, k)}
        if not changed:
            return project
        if project.state == machine.FAILED:
            # fixing a failed project (e.g. another provider): judged from where it failed, which it returns to
            machine.fire(project, "recover")
        trigger = ""
        for keys, trig, stale_from in _SETTING_TRIGGERS:
            if changed & keys and machine.state_index(project.state) > machine.state_index(stale_from):
                if not trig:
                    raise StateError(
                        f"{', '.join(sorted(changed & keys))} can only change before analysis; create a new project",
                        state=project.state, allowed=machine.allowed_triggers(project),
                    )
                trigger = trigger or trig
        if trigger:
            machine.require_allowed(project, trigger)
        project.settings = new
        if trigger:
            machine.fire(project, trigger)
        folder.save_project(project)
        return project


def delete_project(project_id: str) -> None:
    """Delete a project folder (BusyError while a run holds it)."""
    folder = ProjectFolder(project_id)
    if not folder.exists():
        raise NotFoundError(f"project {project_id} not found")
    with project_lock(folder):
        require_not_busy(folder)  # a queued run's worker has not taken the lock yet
        trash = folder.path.with_name(f".deleted-{folder.id}")
        shutil.rmtree(trash, ignore_errors=True)
        folder.path.rename(trash)
        folder.remove_stored()  # with a bucket: its objects too (under the lease, which goes last)
    shutil.rmtree(trash, ignore_errors=True)
