"""The FastAPI application: routers, the one error handler, auth, CORS, the web UI, and start-up recovery."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from engine.config import Settings, get_settings
from engine.store import get_store
from engine.working_copies import PRUNE_EVERY_S, prune_working_copies

from api import __version__
from api.deps import require_token
from api.errors import install_error_handler
from api.http import HttpGuard, install_log_redaction
from api.recovery import mark_interrupted
from api.routes import cast, events, files, lyrics, projects, runs, segments, system

log = logging.getLogger(__name__)

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"


async def _prune_working_copies_now_and_then() -> None:
    """With a bucket: remove old local working copies at start-up and every PRUNE_EVERY_S (engine/working_copies.py)."""
    while True:
        try:
            await asyncio.to_thread(prune_working_copies)
        except Exception:  # noqa: BLE001 - a cache clean-up: the next round tries again
            log.exception("pruning the old working copies failed")
        await asyncio.sleep(PRUNE_EVERY_S)


def create_app(settings: Settings | None = None, *, frontend_dir: Path = FRONTEND_DIR) -> FastAPI:
    """Build the API app (settings default to the process-wide ``get_settings()``)."""
    config = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_redaction()  # after uvicorn configured its loggers
        config.projects_dir.mkdir(parents=True, exist_ok=True)
        marked = mark_interrupted(config)
        if marked:
            log.warning("marked %d dead job(s) as interrupted: %s", len(marked), marked)
        pruner = asyncio.create_task(_prune_working_copies_now_and_then()) if get_store() is not None else None
        yield
        if pruner is not None:
            pruner.cancel()

    app = FastAPI(
        title="storybeat",
        version=__version__,
        description="Turn a song into an illustrated music video. See docs/api.md.",
        lifespan=lifespan,
        dependencies=[Depends(require_token)],
    )
    install_error_handler(app)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=config.cors_origins, allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "Range", "If-Match"], expose_headers=["Content-Range", "Accept-Ranges", "ETag"],
        )
    store = get_store()
    app.add_middleware(HttpGuard, router=app.router, body_timeout_s=config.body_timeout_s,
                       media_origin=store.url_origin() if store is not None else None)  # added last = outermost: every response passes it
    for module in (system, projects, runs, segments, lyrics, cast, events, files):
        app.include_router(module.router)
    _mount_frontend(app, frontend_dir)
    return app


def _mount_frontend(app: FastAPI, frontend_dir: Path) -> None:
    """Serve the web UI: ``/`` is frontend/index.html, ``/static/...`` the rest (whatever is there).

    These are plain Starlette routes: the page and its scripts hold no data, so
    they load without the bearer token (the UI then sends it with every API call).
    """
    index = frontend_dir / "index.html"

    async def root(request: Request) -> Response:
        if index.is_file():
            return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})
        return JSONResponse({"detail": "web UI not installed (frontend/index.html missing); API docs at /docs"}, status_code=404)

    app.add_route("/", root, methods=["GET", "HEAD"], include_in_schema=False)

    if frontend_dir.is_dir():
        app.mount("/static", StaticFiles(directory=frontend_dir), name="static")
