"""Start a detached worker process (``python -m engine run ...``) for the API."""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from engine.config import get_settings
from engine.jobs import pid_alive
from engine.storage import ProjectFolder

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent


def spawn_worker(project_id: str, *, command: str = "run", target: str | None = None, preview: bool = False) -> int:
    """Start ``python -m engine <command> <id>`` in its own session (survives an API restart); returns its pid."""
    folder = ProjectFolder(project_id)
    folder.jobs_dir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "engine", command, project_id, "--quiet", "--lock-wait", "5"]
    if target:
        args += ["--target", target]
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
    import threading

    threading.Thread(target=proc.wait, daemon=True).start()


def stop_worker(pid: int | None) -> bool:
    """Ask a worker to stop (SIGTERM: it finishes the current unit and records 'cancelled')."""
    if not pid_alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)  # type: ignore[arg-type]
    return True


def start_run(project_id: str, *, target: str = "RENDERED", kind: str = "pipeline", preview: bool = False) -> int:
    """Check a run can start, record it as queued, and start a detached worker; returns its pid.

    BusyError if a worker holds the project or a job is already queued or
    running; StateError if the project cannot move towards ``target`` (e.g.
    nothing uploaded yet). The worker records its pid when it starts.
    """
    from engine import machine
    from engine.config import get_settings as settings
    from engine.errors import BusyError, StateError
    from engine.jobs import job_active, job_crashed
    from engine.lock import project_lock
    from engine.models import Job, utcnow
    from engine.providers import check_provider

    folder = ProjectFolder(project_id)
    with project_lock(folder, wait_s=1.0):
        project = folder.load_project()
        for other in (folder.load_job("pipeline"), folder.load_job("render")):
            if job_active(other, stale_after_s=settings().stale_after_s):
                raise BusyError(f"project {project_id} is busy: a {other.kind} run is {other.status}")
        state = project.failed_from if project.state == machine.FAILED else project.state
        allowed = machine.allowed_triggers(project)
        if state in (None, machine.CREATED) or target not in machine.RUN_TARGETS:
            raise StateError(f"cannot run a project in state {project.state}: upload a track first", state=project.state, allowed=allowed)
        check_provider(project.settings, settings())  # refused now, not by a worker that cannot start
        if kind == "render" and state not in (machine.IMAGED, machine.RENDERED):
            raise StateError(f"cannot render in state {project.state}: make the pictures first", state=project.state, allowed=allowed)
        previous = folder.load_job(kind)
        crashed = job_crashed(previous, stale_after_s=settings().stale_after_s)
        job = Job(kind=kind, status="queued", target=target, started_at=utcnow(), heartbeat_at=utcnow(),  # type: ignore[arg-type]
                  steps=previous.steps, usage=previous.usage, errors=previous.errors, preview=preview, continues_crash=crashed)
        folder.save_job(job)  # from here a second start sees "queued" and is refused
    command = "render" if kind == "render" else "run"
    return spawn_worker(project_id, command=command, target=None if command == "render" else target, preview=preview)
