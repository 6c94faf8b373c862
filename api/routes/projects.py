"""Projects: list, create, read, change settings, delete, upload the track, analysis."""
from __future__ import annotations

import logging
import re

from fastapi import APIRouter, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from engine.errors import InputError, NotFoundError
from engine.jobs import require_not_busy
from engine.models import ProjectSettings
from engine.project import create_project, delete_project, update_settings, upload_track
from engine.providers import default_provider_name
from engine.storage import ProjectFolder, list_project_ids
from engine.usage import estimate_project

from api.deps import FolderDep, SettingsDep
from api.errors import UnsupportedMediaError, responses
from api.http import StrictJSONRoute
from api.schemas import AnalysisPublic, EstimatePublic, ProjectCreate, ProjectPublic, ProjectSummary, SettingsUpdate
from api.uploads import receive_upload
from api.views import JSON_TYPE, project_json, project_public, project_summary

log = logging.getLogger(__name__)

router = APIRouter(prefix="/projects", tags=["projects"], route_class=StrictJSONRoute)

# engine.audio.ingest's messages for content that is not audio at all (-> 415); damaged audio stays 422.
NOT_AUDIO_RE = re.compile(r"not a recogni[sz]ed audio|not an audio file|unsupported (audio )?format|no audio stream", re.I)

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["audio"],
                    "properties": {
                        "audio": {"type": "string", "format": "binary", "description": "the track (any common audio format)"},
                        "lyrics": {"type": "string", "format": "binary", "description": "LRC (timed) or plain-text lyrics"},
                        "lyrics_text": {"type": "string", "description": "lyrics as text instead of a file"},
                    },
                }
            }
        },
    }
}


@router.get("", response_model=list[ProjectSummary], responses=responses(401))
def list_projects(settings: SettingsDep) -> list[ProjectSummary]:
    """All projects, newest first."""
    rows = []
    for project_id in list_project_ids(settings.projects_dir):
        try:
            rows.append(project_summary(ProjectFolder(project_id)))
        except NotFoundError:  # deleted while listing
            continue
        except InputError as exc:
            log.warning("skipping project %s: %s", project_id, exc)
    return sorted(rows, key=lambda r: r.created_at, reverse=True)


@router.post("", response_model=ProjectPublic, status_code=status.HTTP_201_CREATED, responses=responses(401, 422))
def create(body: ProjectCreate | None = None) -> ProjectPublic:
    """Create an empty project (state CREATED)."""
    body = body or ProjectCreate()
    changes = body.settings.changes() if body.settings else {}
    changes.setdefault("provider", default_provider_name())
    try:
        settings = ProjectSettings.model_validate(changes)
    except ValueError as exc:
        raise InputError(f"bad settings: {exc}") from None
    project = create_project(settings=settings, name=body.name)
    return project_public(ProjectFolder(project.id), project)


@router.get("/{project_id}", response_model=ProjectPublic, responses=responses(401, 404))
async def read(folder: FolderDep) -> Response:
    """The project, its allowed triggers, jobs and renders."""
    # polled by every open UI: on the event loop (a few stats and cached reads, no thread hop), JSON cached
    return Response(project_json(folder), media_type=JSON_TYPE)


@router.patch("/{project_id}", response_model=ProjectPublic, responses=responses(401, 404, 409, 422))
def patch(folder: FolderDep, body: SettingsUpdate) -> ProjectPublic:
    """Change settings; the machine rewinds to the earliest step they affect."""
    project = update_settings(folder.id, body.changes())
    return project_public(folder, project)


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=responses(401, 404, 409))
def delete(folder: FolderDep) -> Response:
    """Delete the project and all its files (409 while a worker runs)."""
    require_not_busy(folder)
    delete_project(folder.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{project_id}/upload", response_model=ProjectPublic, openapi_extra=UPLOAD_BODY,
    responses=responses(401, 404, 409, 413, 415, 422),
)
async def upload(folder: FolderDep, request: Request, settings: SettingsDep) -> ProjectPublic:
    """Upload the track (multipart ``audio``) and optional lyrics (``lyrics`` file or ``lyrics_text``)."""
    received = await receive_upload(request, tmp_dir=settings.data / "tmp", max_upload_mb=settings.max_upload_mb)
    try:
        try:
            project = await run_in_threadpool(
                upload_track, folder.id, audio=received.audio_path, original_name=received.audio_name,
                lyrics_text=received.lyrics_text,
            )
        except InputError as exc:
            if type(exc) is InputError and NOT_AUDIO_RE.search(str(exc)):
                raise UnsupportedMediaError(str(exc)) from None
            raise
    finally:
        received.cleanup()
    return project_public(folder, project)


@router.get("/{project_id}/analysis", response_model=AnalysisPublic, responses=responses(401, 404))
def analysis(folder: FolderDep) -> AnalysisPublic:
    """Tempo, beats, sections, energy and timed lyrics (404 before ANALYZED)."""
    data = folder.load_analysis()
    if data is None:
        raise NotFoundError("no analysis yet: run the pipeline to ANALYZED first")
    return AnalysisPublic.model_validate(data.model_dump(exclude={"fingerprint", "schema_version"}))


@router.get("/{project_id}/estimate", response_model=EstimatePublic, responses=responses(401, 404, 422))
def estimate(folder: FolderDep) -> EstimatePublic:
    """Pre-flight estimate of what the rest of the run costs (Gemini calls, tokens, pictures, USD; 0 for local)."""
    return EstimatePublic.model_validate(estimate_project(folder.id).to_dict())
