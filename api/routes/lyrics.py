"""The lyrics: read them, replace them (JSON lines or an LRC / plain-text body), export enhanced LRC.

The handlers only translate HTTP: the edit is the engine's ``edit_lyrics`` action (the ``edit_lyrics``
trigger, its checks and its atomic write); LRC is read and written by ``engine.audio.lyrics``.
"""
from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from engine.audio.lyrics import MAX_TEXT_CHARS, to_lrc
from engine.errors import InputError
from engine.models import LyricLine, LyricWord
from engine.project import current_lyrics, edit_lyrics, lyrics_version, timed_lines_from_text
from engine.storage import ProjectFolder

from api.deps import FolderDep
from api.errors import TooLargeError, UnsupportedMediaError, responses
from api.etag import IfMatch, with_etag
from api.http import StrictJSONRoute
from api.schemas import LyricsPublic, LyricsUpdate

router = APIRouter(prefix="/projects/{project_id}", tags=["lyrics"], route_class=StrictJSONRoute)

MAX_BODY_BYTES = 4 * MAX_TEXT_CHARS
PUT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/LyricsUpdate"}},
            "text/plain": {"schema": {"type": "string", "description": "LRC, enhanced LRC, or plain text (aligned to the voice again)"}},
        },
    }
}


def lyrics_public(folder: ProjectFolder) -> LyricsPublic:
    """The project's current lyrics as the API shows them."""
    analysis = current_lyrics(folder)
    return LyricsPublic(
        version=lyrics_version(analysis), duration_ms=analysis.duration_ms, state=folder.load_project().state,
        estimated=sum(1 for line in analysis.lyrics if line.timing == "estimated"), lines=analysis.lyrics,
    )


def _answer(view: LyricsPublic) -> Response:
    return with_etag(view, view.version)


@router.get("/lyrics", response_model=LyricsPublic, responses=responses(401, 404))
def read_lyrics(folder: FolderDep) -> Response:
    """The timed lines (words when known), how each was timed, and the version (also the ETag); 404 before ANALYZED."""
    return _answer(lyrics_public(folder))


@router.get("/lyrics.lrc", response_class=Response, responses=responses(401, 404))
def export_lrc(folder: FolderDep) -> Response:
    """The lyrics as enhanced LRC (word tags where words are timed), read back by PUT .../lyrics."""
    analysis = current_lyrics(folder)
    return Response(
        to_lrc(analysis.lyrics), media_type="text/plain; charset=utf-8",
        headers={"ETag": f'"{lyrics_version(analysis)}"', "Content-Disposition": f'attachment; filename="{folder.id}.lrc"'},
    )


def _lines_from_json(payload: object) -> tuple[list[LyricLine], str | None]:
    try:
        body = LyricsUpdate.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]) from None
    lines = [
        LyricLine(index=k, text=line.text, start_ms=line.start_ms, end_ms=line.end_ms,
                  words=[LyricWord(text=w.text, start_ms=w.start_ms, end_ms=w.end_ms) for w in line.words])
        for k, line in enumerate(body.lines)
    ]
    return lines, body.version


@router.put("/lyrics", response_model=LyricsPublic, openapi_extra=PUT_BODY, responses=responses(401, 404, 409, 412, 413, 415, 422))
async def put_lyrics(folder: FolderDep, request: Request, if_match: IfMatch = None) -> Response:
    """Replace the lyrics: JSON ``{lines, version?}`` or a ``text/plain`` LRC / enhanced LRC / plain-text body.

    The machine rewinds to ANALYZED (``edit_lyrics``): the next run plans the storyboard again, and only the
    scenes whose times or text changed get new prompts and pictures. A refused edit changes nothing.
    """
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise TooLargeError(f"the lyrics are larger than {MAX_BODY_BYTES} bytes")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            payload = await request.json()
        except json.JSONDecodeError as exc:
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                                           "input": {}, "ctx": {"error": exc.msg}}]) from None
        lines, version = _lines_from_json(payload)
        hand_set = True
    elif kind == "text/plain":
        try:
            text = body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise InputError("the lyrics are not UTF-8 text") from None
        lines = await run_in_threadpool(timed_lines_from_text, folder.id, text)  # plain text: aligned again
        version, hand_set = None, False
    else:
        raise UnsupportedMediaError("send the lyrics as application/json ({lines}) or text/plain (LRC or plain text)")
    await run_in_threadpool(edit_lyrics, folder.id, lines, if_match=if_match or version, hand_set=hand_set)
    return _answer(lyrics_public(folder))
