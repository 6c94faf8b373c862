"""Build the public views (schemas) from a project folder: read-only, never writes."""
from __future__ import annotations

import logging
import threading
from urllib.parse import quote

from engine import machine
from engine.jobs import busy_job, job_as_seen, plan_resume
from engine.models import JOB_KINDS, Analysis, ImageRecord, Job, Project, Prompts, PromptVersion, Scene, ScenePrompts
from engine.storage import ProjectFolder, read_model_cached, stamp
from engine.storyboard import lines_for_scene
from engine.versions import scene_version, settings_version
from engine.usage import ledger_path, read_spend

from api.schemas import (
    JobsPublic,
    NotePublic,
    ProjectPublic,
    ProjectSummary,
    RenderPublic,
    SceneLine,
    ScenePublic,
    SegmentsPublic,
    SpendPublic,
    VersionPublic,
)

log = logging.getLogger(__name__)

HISTORY_LIMIT = 20
JSON_TYPE = "application/json"


def file_url(project_id: str, rel_path: str | None) -> str | None:
    """The download URL of a file stored relative to the project folder."""
    if not rel_path:
        return None
    return f"/projects/{project_id}/files/{quote(rel_path)}"


def load_jobs(folder: ProjectFolder) -> JobsPublic:
    """Both job files (fresh idle jobs when missing)."""
    return JobsPublic(pipeline=_job(folder, "pipeline"), render=_job(folder, "render"))


# The status path (GET /projects/{id} and /jobs, polled every 1.5 s by every open UI while a render
# takes the CPU): its JSON is kept per project and reused while nothing it is made of changed. That is
# the files it reads (inode, mtime, size: a writer replaces a file, so a new stamp) and each job as seen
# (status and message): a worker that dies or stops beating changes no file, only how its job is seen,
# and that is judged afresh on every request (a stat and a pid probe).
_VIEWS: dict[tuple[str, str], tuple[tuple[object, ...], bytes]] = {}
_VIEWS_MAX = 256
_VIEWS_LOCK = threading.Lock()  # sync routes (PATCH, upload) build views in the threadpool


def _cached_json(name: str, folder: ProjectFolder, stamps: tuple[object, ...], jobs: JobsPublic, build) -> bytes:  # type: ignore[no-untyped-def]
    """``build()``'s JSON, reused while ``stamps`` (taken before anything was read) and the jobs as seen are the same."""
    key = (*stamps, *((job.status, job.message) for job in (jobs.pipeline, jobs.render)))
    slot = (name, folder.id)
    hit = _VIEWS.get(slot)
    if hit is not None and hit[0] == key:
        return hit[1]
    body = build().model_dump_json().encode()
    with _VIEWS_LOCK:
        if len(_VIEWS) >= _VIEWS_MAX and slot not in _VIEWS:
            _VIEWS.pop(next(iter(_VIEWS)))
        _VIEWS[slot] = (key, body)
    return body


def _job_stamps(folder: ProjectFolder) -> tuple[object, ...]:
    return tuple(stamp(folder.job_json(kind)) for kind in JOB_KINDS)


def jobs_json(folder: ProjectFolder) -> bytes:
    """``load_jobs(folder)`` as JSON bytes, from the status cache when nothing changed."""
    stamps = _job_stamps(folder)
    jobs = load_jobs(folder)
    return _cached_json("jobs", folder, stamps, jobs, lambda: jobs)


def project_json(folder: ProjectFolder) -> bytes:
    """``project_public(folder)`` as JSON bytes, from the status cache when nothing changed."""
    stamps = (stamp(folder.project_json), stamp(folder.prompts_json), *_job_stamps(folder),
              stamp(ledger_path(folder)), stamp(folder.analysis_json), stamp(folder.segments_json))
    jobs = load_jobs(folder)
    return _cached_json("project", folder, stamps, jobs, lambda: project_public(folder, jobs=jobs))


def _job(folder: ProjectFolder, kind: str) -> Job:
    """A job file through the read cache (views never mutate it); a dead worker's job shows as ``interrupted``,
    a paused or hung one that still holds the project as ``not_responding``.

    The file is rewritten only by the API's start-up check or the next run; the
    view says the truth at once.
    """
    job = read_model_cached(folder.job_json(kind), Job) or Job(kind=kind)  # type: ignore[arg-type]
    return job_as_seen(job, folder=folder)


def _project(folder: ProjectFolder) -> Project:
    """project.json through the read cache; NotFoundError/InputError as load_project when unreadable."""
    return read_model_cached(folder.project_json, Project) or folder.load_project()


def _image_status(image: ImageRecord | None) -> str:
    return "pending" if image is None else image.status


def _thumbnail(folder: ProjectFolder) -> str | None:
    prompts = read_model_cached(folder.prompts_json, Prompts)
    if prompts is None:
        return None
    for sp in prompts.scenes:
        image = sp.latest.image
        if image is not None and image.status == "ok" and image.file:
            return file_url(folder.id, image.file)
    return None


def project_public(folder: ProjectFolder, project: Project | None = None, *, jobs: JobsPublic | None = None) -> ProjectPublic:
    """The full public view of a project (``jobs``: as :func:`load_jobs` gives them, when already loaded)."""
    project = project or _project(folder)
    jobs = jobs or load_jobs(folder)
    seen = [jobs.pipeline, jobs.render]
    busy = busy_job(seen) is not None  # engine.jobs' rules: busy, and resumable when POST /resume has a plan
    resumable = plan_resume(project, seen) is not None
    spend = read_spend(folder)
    renders = [
        RenderPublic(
            version=r.version, preview=r.preview, url=file_url(project.id, r.file) or "",
            srt_url=file_url(project.id, r.srt_file), lrc_url=file_url(project.id, r.lrc_file),
            width=r.width, height=r.height, duration_ms=r.duration_ms, created_at=r.created_at,
        )
        for r in project.renders
    ]
    return ProjectPublic(
        id=project.id, name=project.name, state=project.state, failed_from=project.failed_from, error=project.error,
        settings=project.settings.model_dump(mode="json"), source=project.source,
        allowed=machine.allowed_triggers(project), busy=busy, resumable=resumable, jobs=jobs, renders=renders,
        history=project.history[-HISTORY_LIMIT:], created_at=project.created_at, updated_at=project.updated_at,
        thumbnail_url=_thumbnail(folder),
        audio_url=file_url(project.id, project.source.wav_file) if project.source else None,
        settings_version=settings_version(project.settings),
        status_text=machine.status_words(project),
        spend=SpendPublic(total=spend.total, last_job=spend.last_job),
        notes=[NotePublic(step=step, message=message) for step, message in folder.step_notes()],
    )


def project_summary(folder: ProjectFolder) -> ProjectSummary:
    """One row of the project list."""
    project = _project(folder)
    return ProjectSummary(
        id=project.id, name=project.name, state=project.state, created_at=project.created_at,
        updated_at=project.updated_at, thumbnail_url=_thumbnail(folder),
        duration_ms=project.source.duration_ms if project.source else None,
        status_text=machine.status_words(project),
    )


def _version_public(project_id: str, v: PromptVersion) -> VersionPublic:
    image = v.image
    return VersionPublic(
        version=v.version, origin=v.origin, image_prompt=v.image_prompt, negative_prompt=v.negative_prompt,
        style_hints=list(v.style_hints), image_url=file_url(project_id, image.file if image else None),
        status=_image_status(image), reason=image.reason if image else "", fallback=image.fallback if image else False,
        restored_from=v.restored_from, created_at=v.created_at, focus=image.focus if image else None,
        original_url=file_url(project_id, image.original if image else None),
    )


def scene_public(project_id: str, scene: Scene, sp: ScenePrompts | None, *, analysis: Analysis | None = None) -> ScenePublic:
    """A scene with its current version, all versions, its lyric lines and its version (ETag)."""
    versions = [_version_public(project_id, v) for v in sp.versions] if sp else []
    latest = versions[-1] if versions else None
    # a new prompt or intent makes a version with no picture yet: the last drawn one stays visible, out of date
    earlier = next((v for v in reversed(versions[:-1]) if v.image_url), None) if latest and not latest.image_url else None
    return ScenePublic(
        id=scene.id, index=scene.index, start_ms=scene.start_ms, end_ms=scene.end_ms, lyric_text=scene.lyric_text,
        visual_intent=scene.visual_intent, mood=scene.mood, energy=scene.energy, section=scene.section,
        edited=scene.edited, version=latest.version if latest else None,
        image_prompt=latest.image_prompt if latest else None, negative_prompt=latest.negative_prompt if latest else None,
        style_hints=latest.style_hints if latest else [], image_url=latest.image_url if latest else None,
        status=latest.status if latest else "pending", reason=latest.reason if latest else "",
        fallback=latest.fallback if latest else False, versions=versions, locked=scene.locked,
        lines=[SceneLine(index=line.index, text=line.text, start_ms=line.start_ms, end_ms=line.end_ms) for line in
               lines_for_scene(analysis.lyrics, start_ms=scene.start_ms, end_ms=scene.end_ms, duration_ms=analysis.duration_ms)]
        if analysis is not None else [],
        etag=scene_version(scene, sp),
        previous_image_url=earlier.image_url if earlier else None, previous_version=earlier.version if earlier else None,
    )


def segments_public(folder: ProjectFolder) -> SegmentsPublic | None:
    """The storyboard with prompts and pictures, or None before SEGMENTED."""
    segments = folder.load_segments()
    if segments is None:
        return None
    prompts = folder.load_prompts()
    analysis = read_model_cached(folder.analysis_json, Analysis)
    by_id = {sp.id: sp for sp in prompts.scenes} if prompts else {}
    return SegmentsPublic(
        style_bible=prompts.style_bible if prompts else None,
        scenes=[scene_public(folder.id, s, by_id.get(s.id), analysis=analysis) for s in segments.scenes],
    )


def one_scene(folder: ProjectFolder, scene_id: str) -> ScenePublic | None:
    """One scene's public view, or None when it does not exist."""
    view = segments_public(folder)
    if view is None:
        return None
    return next((s for s in view.scenes if s.id == scene_id), None)
