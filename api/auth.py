"""The bearer token and the media cookie: how a client proves it may use the API.

With ``STORYBEAT_TOKEN`` set, every API route needs ``Authorization: Bearer
<token>``. ``<img>``, ``<video>``, ``<audio>`` and ``EventSource`` cannot send
that header, so the UI trades it (``POST /session``, with the header) for an
HttpOnly, SameSite=Strict cookie that holds no secret: an expiry time and an
HMAC of it keyed by the token. The cookie is good for ``SESSION_S`` and only
for reads (GET/HEAD), so a forged cross-site write gets nothing from it. A
token in the URL is never accepted (URLs end up in access logs).
"""
from __future__ import annotations

import hashlib
import hmac
import time

from fastapi import Request, Response

from engine.config import Settings

from api.errors import UnauthorizedError

COOKIE = "storybeat_session"
SESSION_S = 3600
READ_METHODS = frozenset({"GET", "HEAD"})


def _signature(token: str, expires: int) -> str:
    return hmac.new(token.encode(), f"storybeat-session:{expires}".encode(), hashlib.sha256).hexdigest()


def session_value(token: str, *, now: float | None = None) -> str:
    """A cookie value ``<expires>.<hmac>`` good for SESSION_S from ``now``."""
    expires = int(now if now is not None else time.time()) + SESSION_S
    return f"{expires}.{_signature(token, expires)}"


def session_valid(value: str, token: str, *, now: float | None = None) -> bool:
    """Whether a cookie value was made with ``token`` and has not expired."""
    expires_text, _, signature = value.partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12:
        return False
    expires = int(expires_text)
    if expires <= (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(signature.encode(), _signature(token, expires).encode())


def bearer_valid(request: Request, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>``."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def check_request(request: Request, settings: Settings) -> None:
    """UnauthorizedError unless the request may pass (no token configured, the bearer header, or the cookie on a read)."""
    token = settings.token
    if not token or bearer_valid(request, token):
        return
    cookie = request.cookies.get(COOKIE)
    if cookie and request.method in READ_METHODS and session_valid(cookie, token):
        return
    raise UnauthorizedError("missing or wrong bearer token")


def set_session_cookie(response: Response, request: Request, settings: Settings) -> int:
    """Set the media cookie on ``response`` (nothing to set without a token); its lifetime in seconds."""
    if not settings.token:
        return 0
    response.set_cookie(
        COOKIE, session_value(settings.token), max_age=SESSION_S, path="/", httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )
    return SESSION_S


def clear_session_cookie(response: Response) -> None:
    """Remove the media cookie."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
