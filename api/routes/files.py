"""Downloads of a project's files, with HTTP Range (FileResponse), limited to known folders and types."""
from __future__ import annotations

import logging
import os
import re
import stat
import unicodedata
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, RedirectResponse

from engine import sync
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
    r"|images/originals/seg_\d{3,4}_v\d{1,6}\.(?:png|jpg|webp)"  # a picture the user uploaded, as sent (checked by Pillow)
    r"|cast/[a-z][a-z0-9_-]{0,31}_r\d{1,6}\.png"
    r"|renders/[a-z0-9_]{1,64}\.(?:mp4|srt|lrc)"
    r"|source/track\.wav"
    r"|contact_sheet\.png)$"
)
MEDIA_TYPES = {".png": "image/png", ".mp4": "video/mp4", ".srt": "application/x-subrip", ".lrc": "text/plain; charset=utf-8",
               ".wav": "audio/wav", ".jpg": "image/jpeg", ".webp": "image/webp"}


@router.get(
    "/{path:path}",
    response_class=FileResponse,
    responses={
        200: {"description": "the file", "content": {t: {} for t in MEDIA_TYPES.values()}},
        206: {"description": "a byte range of the file (Range request)"},
        307: {"description": "with a bucket as the storage: a presigned URL of the file (Range supported there)"},
        416: {"description": "range not satisfiable"},
        **responses(401, 404),
    },
)
def download(folder: FolderDep, path: str, download: bool = False) -> Response:
    """A picture, render, subtitle file, the normalised track or the contact sheet (Range supported).

    ``?download=1``: sent as an attachment, which a browser saves under the file's name instead of showing it
    (what a download link needs: ``<a download>`` is ignored when the file comes from another origin, a bucket).
    With a bucket as the storage: a redirect to a presigned URL of the object,
    which the bucket serves (with Range) under the same type and name.
    """
    disposition = content_disposition(download_name(folder, path), "attachment" if download else "inline")
    store = sync.store()
    if store is not None:
        key = f"{folder.id}/{path}"
        if not ALLOWED.match(path) or sync.head(key) is None:
            raise NotFoundError(f"no such file {path[:80]!r}")
        url = store.url(key, disposition=disposition, media_type=MEDIA_TYPES[Path(path).suffix])
        return RedirectResponse(url, status_code=307)
    full = servable(folder, path)
    headers = {"Cache-Control": "no-cache", "Content-Disposition": disposition}
    return FileResponse(full, media_type=MEDIA_TYPES[full.suffix], headers=headers)


_RENDER_RE = re.compile(r"^renders/(final|preview)_v(\d+)\.(mp4|srt|lrc)$")
_IMAGE_RE = re.compile(r"^images/seg_(\d+)_v(\d+)\.png$")


def download_name(folder: ProjectFolder, path: str) -> str:
    """The name a download is saved under: after the song, e.g. "Neon nights - v2.mp4", "Neon nights - scene 3 v2.png".

    The project's name, else the uploaded file's name without its extension, else the project id.
    """
    try:
        project = folder.load_project()
        song = project.name or (Path(project.source.original_name).stem if project.source else "")
    except Exception:  # noqa: BLE001 - a name is a courtesy: the file is served either way
        song = ""
    song = " ".join(song.split()) or folder.id
    name = Path(path).name
    if m := _RENDER_RE.match(path):
        kind, version, ext = m.groups()
        return f"{song} - v{version}{' (preview)' if kind == 'preview' else ''}.{ext}"
    if m := _IMAGE_RE.match(path):
        return f"{song} - scene {int(m.group(1))} v{m.group(2)}.png"
    if path == "source/track.wav":
        return f"{song}.wav"
    if path == "contact_sheet.png":
        return f"{song} - contact sheet.png"
    return name


def content_disposition(filename: str, disposition: str = "inline") -> str:
    """A Content-Disposition header naming ``filename``: a safe ASCII ``filename`` and the exact name as RFC 5987
    ``filename*`` (UTF-8, percent-encoded). ``inline``: a player or an <img> still shows it; <a download> saves it so."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r'[^A-Za-z0-9 ._()-]+', "_", ascii_name).strip(" ._") or "download"
    suffix = Path(filename).suffix
    if suffix and not ascii_name.endswith(suffix):
        ascii_name += suffix
    return f"{disposition}; filename=\"{ascii_name[:150]}\"; filename*=UTF-8''{quote(filename[:150], safe='')}"


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
