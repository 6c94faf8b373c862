"""Engine errors -> HTTP: the one exception handler of the API.

InputError -> 422 (NotFoundError -> 404, StaleError -> 412), StateError -> 409 with the state and
the allowed triggers, BusyError -> 409 ``busy``; the API's own TooLargeError
-> 413 and UnsupportedMediaError -> 415. Provider and render failures are real
server-side failures (502 / 500) and never come from bad input.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from engine.errors import BusyError, DiskFullError, InputError, NotFoundError, ProviderError, StaleError, StateError, StorybeatError

log = logging.getLogger(__name__)


class TooLargeError(InputError):
    """An upload or body larger than the configured cap."""


class UnsupportedMediaError(InputError):
    """An upload that is not audio (or in a format we cannot read)."""


class UnauthorizedError(StorybeatError):
    """Missing or wrong bearer token."""


def status_for(exc: StorybeatError) -> int:
    """The HTTP status of an engine (or API) error."""
    for kind, status in (
        (UnauthorizedError, 401),
        (TooLargeError, 413),
        (UnsupportedMediaError, 415),
        (NotFoundError, 404),
        (StaleError, 412),  # If-Match of an older version: the body has the current one
        (StateError, 409),
        (BusyError, 409),
        (InputError, 422),
        (ProviderError, 502),
        (DiskFullError, 507),  # Insufficient Storage: nothing half-written was kept
    ):
        if isinstance(exc, kind):
            return status
    return 500


def error_body(exc: StorybeatError) -> dict[str, Any]:
    """The JSON body ``{"detail": ...}`` for an engine error."""
    if isinstance(exc, StateError):
        return {"detail": {"message": str(exc), "state": exc.state, "allowed": list(exc.allowed)}}
    if isinstance(exc, BusyError):
        return {"detail": {"message": str(exc), "busy": True}}
    if isinstance(exc, StaleError):
        current = exc.current
        if isinstance(current, list):
            current = [item.model_dump(mode="json") if hasattr(item, "model_dump") else item for item in current]
        return {"detail": {"message": str(exc), "version": exc.version, "current": current}}
    return {"detail": str(exc)}


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StorybeatError)
    status = status_for(exc)
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, StaleError):
        headers = {"ETag": f'"{exc.version}"'}
    return JSONResponse(error_body(exc), status_code=status, headers=headers)


def install_error_handler(app: FastAPI) -> None:
    """Register the handler for every StorybeatError."""
    app.add_exception_handler(StorybeatError, _handle)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses."""
    text = {
        401: "missing or wrong bearer token (when STORYBEAT_TOKEN is set)",
        404: "unknown project, scene, version or file",
        409: "illegal transition ({message, state, allowed}) or busy ({message, busy: true})",
        412: "If-Match names an older version ({message, version, current})",
        413: "upload too large",
        415: "not an audio file",
        422: "bad input",
    }
    return {code: {"description": text[code]} for code in codes}
