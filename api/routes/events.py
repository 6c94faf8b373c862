"""Live events of one project (SSE)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api.deps import FolderDep
from api.errors import responses
from api.http import StrictJSONRoute
from api.events import project_events

router = APIRouter(prefix="/projects/{project_id}", tags=["events"], route_class=StrictJSONRoute)


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"description": "text/event-stream of `project` and `job` events", "content": {"text/event-stream": {}}},
               **responses(401, 404)},
)
async def events(folder: FolderDep, request: Request) -> StreamingResponse:
    """Server-sent events: ``project`` when state/allowed/renders change, ``job`` when a job file changes, pings."""
    return StreamingResponse(
        project_events(folder, is_disconnected=request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
