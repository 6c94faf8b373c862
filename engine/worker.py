"""Start a detached worker process (``python -m engine run ...``) for the API."""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from engine.config import get_settings
from engine.jobs import pid_alive, queue_run
from engine.models import Job, JobKind
from engine.storage import ProjectFolder

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent


def spawn_worker(project_id: str, *, target: str, kind: JobKind, preview: bool = False) -> int:
    """Start ``python -m engine run <id> --job <kind>`` in its own session (survives an API restart); returns its pid.

    The worker runs exactly the job that was queued for it (``--job``), and
    waits a moment for the project lock (its starter may still hold it).
    """
    folder = ProjectFolder(project_id)
    folder.jobs_dir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "engine", "run", project_id, "--target", target, "--job", kind, "--quiet", "--lock-wait", "5"]
    if preview:
        args.append("--preview")
    env = dict(os.environ)
    env["STORYBEAT_DATA"] = str(get_settings().data.resolve())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    log_path = folder.jobs_dir / "worker.log"
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            _niced(args), stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True, env=env,
            cwd=REPO_ROOT,
        )
    log.info("started worker pid %d: %s", proc.pid, " ".join(args[1:]))
    _reap_later(proc)
    return proc.pid


def _niced(args: list[str]) -> list[str]:
    """``args`` run at the configured lower CPU priority (STORYBEAT_WORKER_NICE), so the API stays responsive.

    ``nice`` execs the worker, so the pid is the worker's; its threads and its
    ffmpeg children inherit the priority. Without a ``nice`` binary the worker
    runs at normal priority.
    """
    level = get_settings().worker_nice
    nice = shutil.which("nice")
    if level <= 0 or nice is None:
        return args
    return [nice, "-n", str(level), *args]


def _reap_later(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Wait for the child in a daemon thread so it never lingers as a zombie."""
    threading.Thread(target=proc.wait, daemon=True).start()


def stop_worker(pid: int | None) -> bool:
    """Ask a worker to stop (SIGTERM: it finishes the current unit and records 'cancelled').

    SIGCONT follows, so a paused (SIGSTOPped) worker wakes up to act on it.
    """
    if not pid_alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)  # type: ignore[arg-type]
    os.kill(pid, signal.SIGCONT)  # type: ignore[arg-type]
    return True


def start_run(project_id: str, *, target: str = "RENDERED", kind: JobKind | None = None, preview: bool = False) -> Job:
    """Check a run can start, start a detached worker and record its job as queued; returns the queued job (with its pid).

    BusyError if a run is queued, running or not responding; StateError if the
    project cannot move towards ``target`` (e.g. nothing uploaded yet).
    ``kind`` None: the job :func:`engine.machine.job_kind` gives (a render when
    only the render is left). The worker is started under the project lock and
    takes it once the queued job is recorded, so the job file names its pid
    from the start: a worker killed at once shows as interrupted.
    """
    return queue_run(
        ProjectFolder(project_id), target=target, kind=kind, preview=preview, lock_wait_s=1.0,
        spawn=lambda job: spawn_worker(project_id, target=job.target, kind=job.kind, preview=job.preview),
    )
