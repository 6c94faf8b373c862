"""The cast: read it, replace it, bring a member's reference picture or go back to a drawn one (all ``edit_cast``),
with its version as the ETag (If-Match refuses a stale edit).

The handlers only translate HTTP: the edits are the engine's actions (``engine.project.edit_cast``,
``engine.cast_actions``: the trigger, their checks and atomic writes); the reference pictures are drawn by the
draw step and served by ``/files/cast/...``.
"""
from __future__ import annotations

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool

from engine.cast import cast_version
from engine.cast_actions import upload_reference, use_drawn_reference
from engine.models import SILHOUETTES
from engine.project import current_cast, edit_cast
from engine.storage import ProjectFolder

from api.deps import FolderDep
from api.errors import responses
from api.etag import IfMatch
from api.http import StrictJSONRoute
from api.schemas import CastPublic, CastUpdate
from api.uploads import PICTURE_BODY, read_picture_body
from api.views import file_url

router = APIRouter(prefix="/projects/{project_id}", tags=["cast"], route_class=StrictJSONRoute)


def cast_public(folder: ProjectFolder) -> CastPublic:
    """The project's cast as the API shows it."""
    cast = current_cast(folder)
    urls = {m.id: file_url(folder.id, m.reference.file) for m in cast.members if m.reference is not None}
    return CastPublic(version=cast_version(cast), state=folder.load_project().state, edited=cast.edited,
                      members=cast.members, reference_urls={k: v for k, v in urls.items() if v}, silhouettes=list(SILHOUETTES))


def _answer(view: CastPublic) -> Response:
    return Response(view.model_dump_json(), media_type="application/json", headers={"ETag": f'"{view.version}"'})


@router.get("/cast", response_model=CastPublic, responses=responses(401, 404))
def read_cast(folder: FolderDep) -> Response:
    """The recurring subjects (look, colours, clothing), their reference pictures and the version (also the ETag);
    404 before the prompt step proposed a cast."""
    return _answer(cast_public(folder))


@router.put("/cast", response_model=CastPublic, responses=responses(401, 404, 409, 412, 422))
async def put_cast(folder: FolderDep, body: CastUpdate, if_match: str | None = Header(default=None)) -> Response:
    """Replace the cast's members. The machine rewinds to PROMPTED (``edit_cast``): the next run redraws the
    references whose look changed and exactly the pictures that show a changed member. A refused edit changes nothing."""
    await run_in_threadpool(edit_cast, folder.id, list(body.members), if_match=if_match or body.version)
    return _answer(cast_public(folder))


@router.put("/cast/{member_id}/reference", response_model=CastPublic, openapi_extra=PICTURE_BODY,
            responses=responses(401, 404, 409, 412, 413, 415, 422))
async def put_reference(folder: FolderDep, member_id: str, request: Request, if_match: IfMatch = None) -> Response:
    """Your own picture (a PNG, JPEG or WebP body) as the member's reference picture (origin ``upload``; the
    draw step never redraws it). The machine rewinds to PROMPTED (``edit_cast``): the next run draws again
    exactly the pictures that show this member. If-Match: the cast's version."""
    data = await read_picture_body(request)
    await run_in_threadpool(upload_reference, folder.id, member_id, data, if_match=if_match)
    return _answer(cast_public(folder))


@router.delete("/cast/{member_id}/reference", response_model=CastPublic, responses=responses(401, 404, 409, 412, 422))
def delete_reference(folder: FolderDep, member_id: str, if_match: IfMatch = None) -> Response:
    """Back to a drawn reference picture (``edit_cast``): the drawn one on disk when still current, else the
    next run draws it; 422 when the member's reference is not one you uploaded."""
    use_drawn_reference(folder.id, member_id, if_match=if_match)
    return _answer(cast_public(folder))
