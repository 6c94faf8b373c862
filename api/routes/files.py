"""Downloads of a project's files, with HTTP Range (FileResponse), limited to known folders and types."""
from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from engine.errors import NotFoundError
from engine.storage import ProjectFolder

from api.deps import FolderDep
from api.errors import responses
from api.http import StrictJSONRoute

log = logging.getLogger(__name__)

router = APIRouter(prefix="/projects/{project_id}/files", tags=["files"], route_class=StrictJSONRoute)

# Only these relative paths are served: nothing else in the folder (JSON, jobs, the original upload) leaks.
ALLOWED = re.compile(
    r"^(?:images/seg_\d{3,4}_v\d{1,6}\.png"
    r"|cast/[a-z][a-z0-9_-]{0,31}_r\d{1,6}\.png"
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
    full = servable(folder, path)
    return FileResponse(full, media_type=MEDIA_TYPES[full.suffix], headers={"Cache-Control": "no-cache"})


def servable(folder: ProjectFolder, path: str) -> Path:
    """The file ``path`` names, if it may be served; NotFoundError otherwise.

    The path must match ALLOWED and name a regular file reached without any
    symbolic link inside the project folder, so a link (``images/seg_001_v1.png
    -> ../project.json`` or ``-> ../source/original.wav``) never serves what it
    points to.
    """
    if not ALLOWED.match(path):
        raise NotFoundError(f"no such file {path[:80]!r}")
    root = folder.path.resolve()
    full = root.joinpath(*path.split("/"))
    try:
        real = full.resolve(strict=True)
        is_regular = stat.S_ISREG(os.lstat(full).st_mode)
    except (OSError, RuntimeError):  # missing, or a link loop
        raise NotFoundError(f"no such file {path}") from None
    if real != full or not is_regular:
        log.warning("project %s: refused to serve %s (a link or not a regular file)", folder.id, path)
        raise NotFoundError(f"no such file {path}")
    return full
