"""HTTP policies of the API, each defined once.

* **Strict JSON** (``StrictJSONRoute``): a JSON body must be UTF-8 and RFC 8259
  JSON: no ``NaN``/``Infinity``, no duplicate keys. Anything else is a 422
  ``json_invalid`` naming what was wrong (never a 400, never a 500).
* **Bodies** (``HttpGuard``): reading a request body waits at most
  ``body_timeout_s`` for each chunk (408 after that), and a response sent before
  the body was read to its end (a 413, a 408, a refusal) closes the connection,
  so the server never reads or waits for the rest.
* **Methods**: ``OPTIONS`` answers 204 with an ``Allow`` of every method the
  path takes, and a 405 lists the same methods.
* **Headers**: every response has ``X-Content-Type-Options: nosniff``,
  ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer`` and a CSP with
  ``frame-ancestors 'none'``; the web UI (``/``, ``/static/``) gets the full CSP
  (:func:`ui_csp`: with a bucket as the storage, pictures and videos come from
  its presigned URLs, so its origin is allowed for ``img-src`` and ``media-src``).
* **Logs** (``RedactSecrets``): a ``token=`` in a logged URL is replaced by ``***``.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- strict JSON


class _StrictJSONError(json.JSONDecodeError):
    """A body that is not strict JSON (a JSONDecodeError, so FastAPI answers 422 ``json_invalid``)."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (numbers must be finite)")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key[:40]!r}")
        out[key] = value
    return out


def strict_json_loads(body: bytes) -> Any:
    """Parse a request body as strict JSON; ``json.JSONDecodeError`` (with a clear message) otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _StrictJSONError(f"the body is not UTF-8 (byte {exc.start})", "", exc.start) from None
    try:
        return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise _StrictJSONError(str(exc) or "too deeply nested", text, 0) from None


class StrictJSONRequest(Request):
    """A request whose ``json()`` is :func:`strict_json_loads`."""

    async def json(self) -> Any:
        """The body as strict JSON (cached)."""
        if not hasattr(self, "_json"):
            self._json = strict_json_loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """The route class of every API router: request bodies are parsed as strict JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler


# ----------------------------------------------------------------------------- the guard middleware

def ui_csp(media_origin: str | None = None) -> str:
    """The web UI's Content-Security-Policy; ``media_origin``: where else pictures, audio and video may load from
    (the bucket's presigned URLs, the file routes' redirect target)."""
    media = f" {media_origin}" if media_origin else ""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
            f"img-src 'self'{media} data: blob:; media-src 'self'{media} blob:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


API_CSP = "frame-ancestors 'none'"
COMMON_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer")]


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def is_ui_path(path: str) -> bool:
    """The web UI's page and static files."""
    return path == "/" or path.startswith("/static/")


def allowed_methods(router: Router, path: str) -> set[str]:
    """Every method some route of ``router`` takes for ``path`` (empty when no route matches the path)."""
    methods: set[str] = set()
    for method in METHODS:
        probe = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
        for route in router.routes:
            if route.matches(probe)[0] is Match.FULL:
                methods |= {"GET", "HEAD"} if isinstance(route, Mount) else {method}  # a mount serves static files
                break
    return methods


def _allow_value(methods: set[str]) -> bytes:
    return ", ".join(sorted(methods | {"OPTIONS"})).encode()


class BodyTimeout(HTTPException):
    """The client stopped sending the body it announced."""


class HttpGuard:
    """Pure ASGI middleware: body timeout, close-early, OPTIONS/Allow, and security headers (see the module doc)."""

    def __init__(self, app: ASGIApp, *, router: Router, body_timeout_s: float, media_origin: str | None = None) -> None:
        self.app = app
        self.router = router
        self.body_timeout_s = body_timeout_s
        self.ui_csp = ui_csp(media_origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = dict(scope.get("headers") or [])
        expects_body = headers.get(b"content-length", b"0").strip() not in (b"", b"0") or b"transfer-encoding" in headers
        body_done = not expects_body

        if scope["method"] == "OPTIONS" and b"access-control-request-method" not in headers:
            methods = allowed_methods(self.router, path)
            if methods:
                extra = [(b"allow", _allow_value(methods)), (b"content-length", b"0")]
                if expects_body:
                    extra.append((b"connection", b"close"))
                await send({"type": "http.response.start", "status": 204, "headers": self._headers(path, extra)})
                await send({"type": "http.response.body", "body": b""})
                return

        async def guarded_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout=self.body_timeout_s)
            except asyncio.TimeoutError:
                log.warning("%s %s: no request body for %.0f s, giving up", scope["method"], path, self.body_timeout_s)
                raise BodyTimeout(408, f"the request body did not arrive within {self.body_timeout_s:g} s") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: list[tuple[bytes, bytes]] = []
                if not body_done:  # answered before the body ended: do not read (or wait for) the rest
                    extra.append((b"connection", b"close"))
                if message["status"] == 405:
                    methods = allowed_methods(self.router, path)
                    extra.append((b"allow", _allow_value(methods)))
                message["headers"] = self._headers(path, extra, list(message.get("headers", [])))
            await send(message)

        await self.app(scope, guarded_receive, guarded_send)

    def _headers(self, path: str, extra: list[tuple[bytes, bytes]], base: list[tuple[bytes, bytes]] | None = None) -> list[tuple[bytes, bytes]]:
        """``base`` plus the security headers it lacks, with ``extra`` replacing any header of the same name."""
        replaced = {key for key, _ in extra}
        out = [(k, v) for k, v in base or [] if k.lower() not in replaced]
        present = {k.lower() for k, _ in out}
        csp = self.ui_csp if is_ui_path(path) else API_CSP
        out += [(k, v) for k, v in [*COMMON_HEADERS, (b"content-security-policy", csp.encode())] if k not in present]
        return out + extra


# ----------------------------------------------------------------------------- logs

SECRET_QUERY_RE = re.compile(r"([?&](?:token|access_token|sig)=)[^&\s\"]*", re.I)


class RedactSecrets(logging.Filter):
    """Replace secret query values (``token=...``) in a log record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(SECRET_QUERY_RE.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = SECRET_QUERY_RE.sub(r"\1***", record.msg)
        return True


def install_log_redaction() -> None:
    """Add :class:`RedactSecrets` to the access and error loggers (once)."""
    for name in ("uvicorn.access", "uvicorn.error", "api"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
