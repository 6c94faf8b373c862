"""Downloads of a project's files, with HTTP Range (FileResponse), limited to known folders and types."""
from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import FileResponse

from engine.errors import NotFoundError

from api.deps import FolderDep
from api.errors import responses

router = APIRouter(prefix="/projects/{project_id}/files", tags=["files"])

# Only these relative paths are served: nothing else in the folder (JSON, jobs, the original upload) leaks.
ALLOWED = re.compile(
    r"^(?:images/seg_\d{3,4}_v\d{1,6}\.png"
    r"|renders/[a-z0-9_]{1,64}\.(?:mp4|srt|lrc)"
    r"|source/track\.wav"
    r"|contact_sheet\.png)$"
)
MEDIA_TYPES = {".png": "image/png", ".mp4": "video/mp4", ".srt": "application/x-subrip", ".lrc": "text/plain; charset=utf-8",
               ".wav": "audio/wav"}


@router.get(
    "/{path:path}",
    response_class=FileResponse,
    responses={
        200: {"description": "the file", "content": {t: {} for t in MEDIA_TYPES.values()}},
        206: {"description": "a byte range of the file (Range request)"},
        416: {"description": "range not satisfiable"},
        **responses(401, 404),
    },
)
def download(folder: FolderDep, path: str) -> FileResponse:
    """A picture, render, subtitle file, the normalised track or the contact sheet (Range supported)."""
    if not ALLOWED.match(path):
        raise NotFoundError(f"no such file {path[:80]!r}")
    full = folder.resolve(path)
    if not full.is_file():
        raise NotFoundError(f"no such file {path}")
    media_type = MEDIA_TYPES[full.suffix]
    return FileResponse(full, media_type=media_type, headers={"Cache-Control": "no-cache"})
