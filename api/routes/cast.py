"""The cast: read it, replace it (``edit_cast``), with its version as the ETag (If-Match refuses a stale edit).

The handlers only translate HTTP: the edit is the engine's ``edit_cast`` action (the trigger, its checks and
its atomic write); the reference pictures are drawn by the draw step and served by ``/files/cast/...``.
"""
from __future__ import annotations

from fastapi import APIRouter, Header, Response
from fastapi.concurrency import run_in_threadpool

from engine.cast import cast_version
from engine.models import SILHOUETTES
from engine.project import current_cast, edit_cast
from engine.storage import ProjectFolder

from api.deps import FolderDep
from api.errors import responses
from api.http import StrictJSONRoute
from api.schemas import CastPublic, CastUpdate
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
