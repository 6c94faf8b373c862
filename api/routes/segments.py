"""The storyboard: scenes with prompts and pictures; edit, move, split, merge, lock, regenerate, restore, own pictures.

Every scene read carries the scene's version (``etag`` in the body, the ``ETag`` header for one scene); every
write takes it back as ``If-Match`` (412 with the current scene when it is stale). The handlers only
translate HTTP: the edits are the engine's actions (``engine.project``, ``engine.scene_actions``).
"""
from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from engine import machine
from engine.errors import InputError, NotFoundError
from engine.project import edit_scene, regenerate_scene, restore_version
from engine.scene_actions import merge_scene, move_cut, set_focus, set_locked, split_scene, upload_picture
from engine.storage import ProjectFolder

from api import processes
from api.deps import FolderDep, SceneIdDep
from api.errors import responses
from api.etag import IfMatch, with_etag
from api.http import StrictJSONRoute
from api.schemas import (FocusRequest, LockRequest, MergeRequest, RegenerateAccepted, RestoreRequest, ScenePatch, ScenePublic,
                         SegmentsPublic, SplitRequest)
from api.uploads import PICTURE_BODY, read_picture_body
from api.views import one_scene, segments_public

router = APIRouter(prefix="/projects/{project_id}/segments", tags=["segments"], route_class=StrictJSONRoute)

_TIMES = {"start_ms", "end_ms", "snap"}
_TEXT = {"visual_intent", "image_prompt", "negative_prompt", "style_hints"}


def _scene(folder: ProjectFolder, seg_id: str) -> ScenePublic:
    scene = one_scene(folder, seg_id)
    if scene is None:
        raise NotFoundError(f"scene {seg_id} not found")
    return scene


def _answer(folder: ProjectFolder, seg_id: str, *, status_code: int = 200) -> Response:
    scene = _scene(folder, seg_id)
    return with_etag(scene, scene.etag, status_code=status_code)


def _storyboard(folder: ProjectFolder) -> SegmentsPublic:
    view = segments_public(folder)
    if view is None:
        raise NotFoundError("no storyboard yet: run the pipeline to SEGMENTED first")
    return view


@router.get("", response_model=SegmentsPublic, responses=responses(401, 404))
def list_segments(folder: FolderDep) -> SegmentsPublic:
    """Every scene with its current prompt, picture, versions, lines and version (``etag``); 404 before SEGMENTED."""
    return _storyboard(folder)


@router.get("/{seg_id}", response_model=ScenePublic, responses=responses(401, 404))
def read_segment(folder: FolderDep, seg_id: SceneIdDep) -> Response:
    """One scene; its version is also the ``ETag``."""
    return _answer(folder, seg_id)


@router.patch("/{seg_id}", response_model=ScenePublic, responses=responses(401, 404, 409, 412, 422))
def patch_segment(folder: FolderDep, seg_id: SceneIdDep, body: ScenePatch, if_match: IfMatch = None) -> Response:
    """One kind of change: move the scene's cuts (``start_ms``/``end_ms``, snapped to the beat unless ``snap`` is
    false; the neighbour changes with it; ``edit_cuts``), lock it (``locked``; ``lock_scene``/``unlock_scene``),
    or change its visual intent and/or prompt (the project moves back to the step to redo)."""
    sent = body.model_dump(exclude_unset=True)
    kinds = [name for name, keys in (("times", _TIMES), ("locked", {"locked"}), ("text", _TEXT)) if keys & set(sent)]
    if len(kinds) > 1:
        raise InputError("send one kind of change at a time: the times (start_ms, end_ms, snap), locked, or the intent/prompt")
    _scene(folder, seg_id)
    if kinds == ["times"]:
        move_cut(folder.id, seg_id, start_ms=body.start_ms, end_ms=body.end_ms, snap=body.snap, if_match=if_match)
    elif kinds == ["locked"]:
        if body.locked is None:
            raise InputError("locked must be true or false")
        set_locked(folder.id, seg_id, body.locked, if_match=if_match)
    else:
        edit_scene(folder.id, seg_id, if_match=if_match, **{k: v for k, v in sent.items() if k in _TEXT and v is not None})
    return _answer(folder, seg_id)


@router.post("/{seg_id}/split", response_model=SegmentsPublic, responses=responses(401, 404, 409, 412, 422))
def split(folder: FolderDep, seg_id: SceneIdDep, body: SplitRequest, if_match: IfMatch = None) -> SegmentsPublic:
    """Split the scene in two at ``at_ms`` (snapped to the beat unless ``snap`` is false); the whole storyboard."""
    _scene(folder, seg_id)
    split_scene(folder.id, seg_id, body.at_ms, snap=body.snap, if_match=if_match)
    return _storyboard(folder)


@router.post("/{seg_id}/merge", response_model=SegmentsPublic, responses=responses(401, 404, 409, 412, 422))
def merge(folder: FolderDep, seg_id: SceneIdDep, body: MergeRequest, if_match: IfMatch = None) -> SegmentsPublic:
    """Merge the scene with its ``next`` or ``prev`` neighbour; the whole storyboard."""
    _scene(folder, seg_id)
    merge_scene(folder.id, seg_id, body.with_, if_match=if_match)
    return _storyboard(folder)


@router.put("/{seg_id}/lock", response_model=ScenePublic, responses=responses(401, 404, 409, 412, 422))
def lock(folder: FolderDep, seg_id: SceneIdDep, body: LockRequest, if_match: IfMatch = None) -> Response:
    """Lock the scene (it keeps its prompt and picture through a new style, frame or redraw) or unlock it."""
    _scene(folder, seg_id)
    set_locked(folder.id, seg_id, body.locked, if_match=if_match)
    return _answer(folder, seg_id)


@router.post("/{seg_id}/picture", response_model=ScenePublic, status_code=status.HTTP_201_CREATED, openapi_extra=PICTURE_BODY,
             responses=responses(401, 404, 409, 412, 413, 415, 422))
async def post_picture(folder: FolderDep, seg_id: SceneIdDep, request: Request, if_match: IfMatch = None,
                       focus_x: float = Query(default=0.5, ge=0.0, le=1.0), focus_y: float = Query(default=0.5, ge=0.0, le=1.0)) -> Response:
    """Your own picture (a PNG, JPEG or WebP body) as the scene's new version (origin ``upload``), cropped to the
    project's aspect around the focal point; the draw step keeps it (``upload_picture``)."""
    data = await read_picture_body(request)
    _scene(folder, seg_id)
    await run_in_threadpool(upload_picture, folder.id, seg_id, data, focus=(focus_x, focus_y), if_match=if_match)
    return _answer(folder, seg_id, status_code=status.HTTP_201_CREATED)


@router.patch("/{seg_id}/picture", response_model=ScenePublic, responses=responses(401, 404, 409, 412, 422))
def patch_picture(folder: FolderDep, seg_id: SceneIdDep, body: FocusRequest, if_match: IfMatch = None) -> Response:
    """Crop the uploaded picture again around a new focal point, from the kept original (a new version)."""
    _scene(folder, seg_id)
    set_focus(folder.id, seg_id, (body.focus_x, body.focus_y), if_match=if_match)
    return _answer(folder, seg_id)


@router.post(
    "/{seg_id}/regenerate", response_model=RegenerateAccepted, status_code=status.HTTP_202_ACCEPTED,
    responses=responses(401, 404, 409, 422),
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
