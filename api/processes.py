"""Start and stop detached workers for the API: one start at a time per project, never two runs."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from engine.errors import BusyError
from engine.jobs import job_active, job_as_seen, pid_alive, require_not_busy
from engine.models import JOB_KINDS, Job, JobKind
from engine.storage import ProjectFolder
from engine.worker import start_run, stop_worker

log = logging.getLogger(__name__)

_guard = threading.Lock()
_starting: dict[str, threading.Lock] = {}


@contextmanager
def start_guard(folder: ProjectFolder) -> Iterator[None]:
    """Serialise starts of one project in this API process; BusyError if a worker is queued or running.

    ``engine.worker.start_run`` releases the project lock before the worker takes
    it, so two concurrent requests could otherwise both start a worker.
    """
    with _guard:
        lock = _starting.setdefault(folder.id, threading.Lock())
    if not lock.acquire(timeout=5):
        raise BusyError(f"project {folder.id} is busy: a run is being started")
    try:
        require_not_busy(folder)
        yield
    finally:
        lock.release()


def start(folder: ProjectFolder, *, target: str, kind: JobKind | None, preview: bool, before: Callable[[], object] | None = None) -> tuple[int, Job]:
    """Start a worker (after ``before()``, e.g. an edit, inside the guard); returns its pid and the queued job.

    ``kind`` None: the job the machine's rule gives (engine.machine.job_kind).
    """
    with start_guard(folder):
        if before is not None:
            before()
        job = start_run(folder.id, target=target, kind=kind, preview=preview)
    log.info("project %s: %s worker %s towards %s", folder.id, job.kind, job.pid, target)
    return job.pid or 0, job


def _is_our_worker(pid: int, project_id: str) -> bool:
    """Guard against pid reuse: the process must be ``python -m engine ... <project_id>``."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except OSError:
        return True  # no /proc: trust the job file
    return b"engine" in argv and project_id.encode() in argv


def _wait_for_pid(folder: ProjectFolder, kind: str, *, wait_s: float) -> Job:
    """Wait a moment for a just-queued job's worker to take it over (until then SIGTERM would kill it, not stop it)."""
    deadline = time.monotonic() + wait_s
    job = folder.load_job(kind)
    while job.status == "queued" and pid_alive(job.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
        job = folder.load_job(kind)
    return job


def stop(folder: ProjectFolder, *, wait_s: float = 5.0) -> bool:
    """SIGTERM the project's running workers (waiting up to ``wait_s`` for a queued one to start); whether any was signalled."""
    stopped = False
    jobs = [job_as_seen(_wait_for_pid(folder, kind, wait_s=wait_s), folder=folder) for kind in JOB_KINDS]
    for job in jobs:  # a job not responding is stopped too: stop_worker wakes a paused worker to act on it
        if job_active(job) and job.pid and _is_our_worker(job.pid, folder.id):
            stopped = stop_worker(job.pid) or stopped
    return stopped
