"""Server-sent events of one project: ``project`` and ``job`` events when the files change, pings while idle.

The server polls project.json and jobs/*.json (mtime + size) every ``poll_s``;
workers are separate processes, so the files are the only source of truth.
One thing changes no file: a worker dying (``busy`` and ``resumable`` come from
whether its process is alive). So while the project is busy the view is also
rebuilt every ``LIVENESS_S``, and a killed worker shows within a second or so.
A project that cannot be read (corrupt or unknown-version project.json) gets a
``project_error`` event with the status and detail the REST routes would give.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable

from engine.errors import StorybeatError
from engine.models import JOB_KINDS
from engine.storage import ProjectFolder, stamp

from api.errors import error_body, status_for
from api.views import project_public

log = logging.getLogger(__name__)

POLL_S = 0.3
PING_S = 15.0
LIVENESS_S = 1.0


def sse(event: str, data: dict) -> str:
    """One SSE message (``event:`` line, one ``data:`` line of compact JSON, blank line)."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _project_key(view: dict) -> str:
    """What makes a ``project`` event worth sending (not the job details, which have their own event)."""
    keep = {k: v for k, v in view.items() if k != "jobs"}
    return json.dumps(keep, sort_keys=True, default=str)


async def project_events(
    folder: ProjectFolder,
    *,
    is_disconnected: Callable[[], object],
    poll_s: float = POLL_S,
    ping_s: float = PING_S,
) -> AsyncIterator[str]:
    """Yield SSE text: first the current project and both jobs, then every change; ends on disconnect or deletion."""
    stamps: dict[str, tuple[int, int] | None] = {}
    last_project_key = ""
    last_job_keys: dict[str, str] = {}
    last_ping = time.monotonic()
    busy, last_view_at = False, 0.0
    last_problem: dict | None = None
    first = True
    paths = {"project": folder.project_json, **{kind: folder.job_json(kind) for kind in JOB_KINDS}}
    yield "retry: 2000\n\n"
    while True:
        if await is_disconnected():  # type: ignore[misc]
            return
        now_stamps = {name: stamp(path) for name, path in paths.items()}
        if now_stamps["project"] is None:
            yield sse("deleted", {"id": folder.id})
            return
        changed = [name for name, st in now_stamps.items() if first or st != stamps.get(name)]
        if changed or (busy and time.monotonic() - last_view_at >= LIVENESS_S):
            stamps = now_stamps
            try:
                view = project_public(folder).model_dump(mode="json")
            except StorybeatError as exc:  # unreadable (corrupt, unknown schema): say so once, retry when a file changes
                view = None
                problem = {"id": folder.id, "status": status_for(exc), **error_body(exc)}
                if problem != last_problem:
                    last_problem = problem
                    log.warning("events %s: %s", folder.id, exc)
                    yield sse("project_error", problem)
                last_ping = time.monotonic()
            if view is not None:
                last_problem = None
                busy, last_view_at = bool(view["busy"]), time.monotonic()
                for kind in JOB_KINDS:
                    job_key = json.dumps(view["jobs"][kind], sort_keys=True)
                    if job_key != last_job_keys.get(kind):
                        last_job_keys[kind] = job_key
                        yield sse("job", {"kind": kind, **view["jobs"][kind]})
                key = _project_key(view)
                if key != last_project_key:
                    last_project_key = key
                    yield sse("project", view)
                last_ping = time.monotonic()
            first = False
        if time.monotonic() - last_ping >= ping_s:
            last_ping = time.monotonic()
            yield ": ping\n\n"
        await asyncio.sleep(poll_s)
