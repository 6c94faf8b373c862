"""The storyboard: scenes with prompts and pictures; edit, regenerate, restore."""
from __future__ import annotations

from fastapi import APIRouter, status

from engine import machine
from engine.errors import NotFoundError
from engine.project import edit_scene, regenerate_scene, restore_version

from api import processes
from api.deps import FolderDep, SceneIdDep
from api.errors import responses
from api.http import StrictJSONRoute
from api.schemas import RegenerateAccepted, RestoreRequest, ScenePublic, SceneUpdate, SegmentsPublic
from api.views import one_scene, segments_public

router = APIRouter(prefix="/projects/{project_id}/segments", tags=["segments"], route_class=StrictJSONRoute)


def _scene(folder: FolderDep, seg_id: str) -> ScenePublic:
    scene = one_scene(folder, seg_id)
    if scene is None:
        raise NotFoundError(f"scene {seg_id} not found")
    return scene


@router.get("", response_model=SegmentsPublic, responses=responses(401, 404))
def list_segments(folder: FolderDep) -> SegmentsPublic:
    """Every scene with its current prompt, picture and versions (404 before SEGMENTED)."""
    view = segments_public(folder)
    if view is None:
        raise NotFoundError("no storyboard yet: run the pipeline to SEGMENTED first")
    return view


@router.patch("/{seg_id}", response_model=ScenePublic, responses=responses(401, 404, 409, 422))
def patch_segment(folder: FolderDep, seg_id: SceneIdDep, body: SceneUpdate) -> ScenePublic:
    """Change a scene's visual intent and/or prompt; the project moves back to the step to redo."""
    _scene(folder, seg_id)
    edit_scene(folder.id, seg_id, **body.model_dump(exclude_unset=True, exclude_none=True))
    return _scene(folder, seg_id)


@router.post(
    "/{seg_id}/regenerate", response_model=RegenerateAccepted, status_code=status.HTTP_202_ACCEPTED,
    responses=responses(401, 404, 409),
)
def regenerate(folder: FolderDep, seg_id: SceneIdDep) -> RegenerateAccepted:
    """A new version of this scene's picture, drawn by a worker (target IMAGED)."""
    _scene(folder, seg_id)
    pid, job = processes.start(
        folder, target=machine.IMAGED, kind="pipeline", preview=False, before=lambda: regenerate_scene(folder.id, seg_id)
    )
    return RegenerateAccepted(scene=_scene(folder, seg_id), pid=pid, job=job)


@router.post("/{seg_id}/restore", response_model=ScenePublic, responses=responses(401, 404, 409, 422))
def restore(folder: FolderDep, seg_id: SceneIdDep, body: RestoreRequest) -> ScenePublic:
    """Make an earlier version current again (as a new version showing that picture)."""
    _scene(folder, seg_id)
    restore_version(folder.id, seg_id, body.version)
    return _scene(folder, seg_id)
