"""Progress of a run in jobs/pipeline.json or jobs/render.json: steps, done/total, ETA, heartbeat."""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from engine import machine
from engine.config import get_settings
from engine.errors import BusyError
from engine.eta import EtaModel, StepPlan, learn, plan_steps
from engine.lease import HOST
from engine.lock import lock_holder
from engine.models import JOB_KINDS, Job, JobError, JobKind, Project, StepProgress, Usage, utcnow
from engine.storage import ProjectFolder
from engine.usage import UsageDelta, add_usage, append_ledger

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Job], None]


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this pid exists (and is not a zombie)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _stale(stale_after_s: float | None) -> float:
    """The staleness setting (STORYBEAT_STALE_AFTER_S), read here once for every job rule; a test may pass its own."""
    return get_settings().stale_after_s if stale_after_s is None else stale_after_s


def _silent(job: Job, *, stale_after_s: float) -> bool:
    """No heartbeat for ``stale_after_s`` x 4 (a live worker beats every ``heartbeat_s``)."""
    beat = job.heartbeat_at
    return beat is not None and (utcnow() - beat).total_seconds() > stale_after_s * 4


def job_is_dead(job: Job, *, stale_after_s: float | None = None) -> bool:
    """A job that claims to run but whose worker is gone (or silent for too long).

    A silent worker that still holds the project's lock is not dead but not
    responding: :func:`job_as_seen` with the folder tells the two apart. A
    caller that holds the lock itself knows no other worker holds it.
    """
    if job.status not in ("running", "queued"):
        return False
    stale_after_s = _stale(stale_after_s)
    if job.status == "queued" and job.pid is None:
        started = job.started_at or job.heartbeat_at
        return started is None or (utcnow() - started).total_seconds() > stale_after_s
    if job.host not in (None, HOST):  # another machine's worker (projects in a bucket): judged by its heartbeat
        return _silent(job, stale_after_s=stale_after_s)
    if not pid_alive(job.pid):
        return True
    return _silent(job, stale_after_s=stale_after_s)


DEAD_WORKER_MESSAGE = "the worker stopped without finishing; resume to continue"


def not_responding_message(job: Job, *, stale_after_s: float | None = None) -> str:
    """What a user can do about a worker that holds the project but has stopped reporting."""
    stale_after_s = _stale(stale_after_s)
    beat = job.heartbeat_at or job.started_at
    silent_s = int((utcnow() - beat).total_seconds()) if beat else int(stale_after_s * 4)
    return (
        f"the worker (pid {job.pid}) holds the project but has not reported for {silent_s} s: it is paused (SIGSTOP) "
        f"or hung. Wait for it, let it continue (kill -CONT {job.pid}), or stop it (Stop, or kill {job.pid}; "
        f"kill -9 {job.pid} if it does not react), then resume"
    )


def job_active(job: Job, *, stale_after_s: float | None = None) -> bool:
    """A job whose worker holds or is about to hold the project: queued, running (alive) or not responding."""
    return job.status == "not_responding" or (
        job.status in ("queued", "running") and not job_is_dead(job, stale_after_s=stale_after_s)
    )


def job_crashed(job: Job, *, stale_after_s: float | None = None) -> bool:
    """A job whose worker died without finishing (recorded ``interrupted``, or dead while claiming to run)."""
    return job.status == "interrupted" or job_is_dead(job, stale_after_s=stale_after_s)


def job_resumable(job: Job, *, stale_after_s: float | None = None) -> bool:
    """A job that stopped without finishing: crashed, or cancelled on request."""
    return job.status == "cancelled" or job_crashed(job, stale_after_s=stale_after_s)


def job_as_seen(job: Job, *, stale_after_s: float | None = None, folder: ProjectFolder | None = None) -> Job:
    """The job as it is: a dead worker's job (its file still says ``running``) is shown ``interrupted``.

    Given the project's ``folder``, a worker whose process exists and still
    holds the project's lock while its heartbeat is stale (SIGSTOPped, hung)
    is shown ``not_responding`` with what the user can do: it is not dead, and
    resume and edits are refused while it holds the lock.
    """
    if not job_is_dead(job, stale_after_s=stale_after_s):
        return job
    elsewhere = job.host not in (None, HOST)
    if folder is not None and job.pid and (pid_alive(job.pid) or elsewhere) and lock_holder(folder) == (0 if elsewhere else job.pid):
        return job.model_copy(update={"status": "not_responding",
                                      "message": not_responding_message(job, stale_after_s=stale_after_s)})
    return job.model_copy(update={"status": "interrupted", "message": job.message or DEAD_WORKER_MESSAGE})


def seen_jobs(folder: ProjectFolder, *, stale_after_s: float | None = None) -> list[Job]:
    """Every job of the project (one per kind, in JOB_KINDS order) as it is (:func:`job_as_seen`)."""
    return [job_as_seen(folder.load_job(kind), stale_after_s=stale_after_s, folder=folder) for kind in JOB_KINDS]


def busy_job(jobs: Iterable[Job], *, stale_after_s: float | None = None) -> Job | None:
    """The job that makes the project busy (edits and new runs refused), or None."""
    return next((job for job in jobs if job_active(job, stale_after_s=stale_after_s)), None)


def busy_error(project_id: str, job: Job) -> BusyError:
    """The BusyError for a project kept busy by ``job``, saying what to do."""
    if job.status == "not_responding":
        return BusyError(f"project {project_id} is busy: its {job.kind} worker is not responding: {job.message}")
    return BusyError(f"project {project_id} is busy: a {job.kind} run is {job.status}; wait for it or cancel it")


def require_not_busy(folder: ProjectFolder, *, stale_after_s: float | None = None) -> None:
    """BusyError if a run of the project is queued, running or not responding."""
    job = busy_job(seen_jobs(folder, stale_after_s=stale_after_s), stale_after_s=stale_after_s)
    if job is not None:
        raise busy_error(folder.id, job)


ResumePlan = tuple[str, JobKind, bool]


def resume_plan(project_id: str) -> ResumePlan | None:
    """(target, kind, preview) to continue an interrupted, cancelled or failed project, or None if nothing to resume."""
    folder = ProjectFolder(project_id)
    return plan_resume(folder.load_project(), seen_jobs(folder))


def plan_resume(project: Project, jobs: list[Job]) -> ResumePlan | None:
    """:func:`resume_plan` of a project and its jobs as seen (:func:`seen_jobs`, one per kind): the one rule.

    A busy project has nothing to resume (its worker still holds it).
    """
    if busy_job(jobs) is not None:
        return None
    # the newest job; on a tie (e.g. none ever started) the pipeline job, which can always continue
    last = max(jobs, key=lambda j: (j.started_at.timestamp() if j.started_at else 0, j.kind == "pipeline"))
    if not job_resumable(last) and project.state != machine.FAILED:
        return None
    target = last.target if last.target in machine.RUN_TARGETS else machine.RENDERED
    # a crashed run continues as the job it was (its attempts, errors and usage carry over); a render job
    # whose pictures were edited away since continues as a pipeline run
    kind = "pipeline" if last.kind == "pipeline" else machine.job_kind(machine.stands_for(project), target)
    return target, kind, last.preview


def queue_run(
    folder: ProjectFolder,
    *,
    target: str,
    kind: JobKind | None = None,
    preview: bool = False,
    pid: int | None = None,
    spawn: Callable[[Job], int] | None = None,
    lock_wait_s: float = 0.0,
) -> Job:
    """Check a run may start and record it as ``queued`` in its job file, before its worker does any work.

    Under the project lock: BusyError if a run is queued, running or not
    responding; StateError if the project cannot move towards ``target``;
    InputError if its provider cannot work here. ``kind`` None: the job
    :func:`engine.machine.job_kind` gives. ``pid`` is the worker's (the
    caller's own), or ``spawn(job)`` starts the worker for the decided job,
    still under the lock (the worker waits for it), and returns its pid. From
    then on a worker killed before its first heartbeat leaves a dead queued
    job, which resume continues.
    """
    from engine.lock import project_lock
    from engine.providers import check_provider

    config = get_settings()
    with project_lock(folder, wait_s=lock_wait_s):
        project = folder.load_project()
        if kind is not None and pid is not None:
            mine = folder.load_job(kind)
            if mine.status == "queued" and mine.pid == pid:  # a worker started by the API: its job is on record
                return mine
        require_not_busy(folder)
        kind = kind or machine.job_kind(machine.stands_for(project), target)
        machine.check_run(project, target=target, kind=kind)
        check_provider(project.settings, config)  # refused now, not by a worker that cannot start
        previous = folder.load_job(kind)
        crashed = (previous.status == "queued" and previous.continues_crash) or job_crashed(previous)
        # the errors carry over as the runner keeps them (a crashed run continues); a stopped run's are not shown again
        job = Job(kind=kind, status="queued", target=target, started_at=utcnow(), heartbeat_at=utcnow(),
                  steps=previous.steps, usage=previous.usage, errors=previous.errors if crashed else [], preview=preview,
                  continues_crash=crashed)
        job.pid, job.host = (spawn(job) if spawn is not None else pid), HOST
        try:
            folder.save_job(job)  # from here a second start sees "queued" and is refused
        except BaseException:
            if spawn is not None and job.pid:  # the worker waits for our lock: it has done nothing yet
                os.kill(job.pid, signal.SIGKILL)
            raise
    return job


class JobTracker:
    """Owns one job file during a run: thread-safe updates, heartbeat thread, ETA."""

    def __init__(
        self,
        folder: ProjectFolder,
        kind: str,
        *,
        steps: list[str],
        target: str,
        keep_attempts: bool,
        preview: bool = False,
        heartbeat_s: float = 2.0,
        on_change: ProgressCallback | None = None,
    ) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        previous = folder.load_job(kind)
        attempts = {s.name: s.attempts for s in previous.steps} if keep_attempts else {}
        self.job = Job(
            kind=kind,  # type: ignore[arg-type]
            status="running",
            target=target,
            preview=preview,
            pid=os.getpid(),
            host=HOST,
            steps=[StepProgress(name=s, attempts=attempts.get(s, 0)) for s in steps],
            started_at=utcnow(),
            heartbeat_at=utcnow(),
            errors=previous.errors[-20:] if keep_attempts else [],
            usage=previous.usage if keep_attempts else Usage(),
        )
        self._provider = "local"
        self._preview = preview
        self._eta = EtaModel(self._plans([s.name for s in self.job.steps]))
        self.job.eta_s = self._eta.eta(time.monotonic())
        self._heartbeat_s = heartbeat_s
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_write = 0.0
        self._write(force=True)

    # ---------------------------------------------------------------- lifecycle
    def __enter__(self) -> JobTracker:
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _plans(self, steps: list[str]) -> list[StepPlan]:
        """The ETA model's plan of ``steps`` for this project now (unit plans when the project cannot be read)."""
        try:
            self._provider = self.folder.load_project().settings.provider
            return plan_steps(self.folder, steps, preview=self._preview)
        except Exception as exc:  # noqa: BLE001 - an estimate must never stop a run
            log.debug("%s: no ETA plan: %s", self.folder.id, exc)
            return [StepPlan(name=s, units=1.0, prior_s=1.0) for s in steps]

    def _beat(self) -> None:
        """Beat until stopped; a failed write (e.g. a full disk) is logged and the next beat tries again."""
        while not self._stop.wait(self._heartbeat_s):
            with self._lock:
                self.job.heartbeat_at = utcnow()
                if self.job.status == "running":
                    self._update_overall()  # the time left counts down between progress reports too
                try:
                    self._write(force=True)
                except Exception as exc:  # noqa: BLE001 - the thread must outlive any one write
                    log.warning("%s: heartbeat not written: %s", self.folder.id, exc)

    def _write(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_write < 0.2:
            return
        self._last_write = now
        self.folder.save_job(self.job)
        if self._on_change:
            self._on_change(self.job.model_copy(deep=True))

    # ---------------------------------------------------------------- steps
    def step(self, name: str) -> StepProgress:
        """The progress record of step ``name``."""
        for s in self.job.steps:
            if s.name == name:
                return s
        record = StepProgress(name=name)
        self.job.steps.append(record)
        return record

    def attempts(self, name: str) -> int:
        """Attempts made so far at ``name`` (persisted across crashes)."""
        return self.step(name).attempts

    def start_attempt(self, name: str) -> int:
        """Count and persist one more attempt at step ``name``; returns its number."""
        with self._lock:
            s = self.step(name)
            s.attempts += 1
            s.status = "running"
            s.started_at = s.started_at or utcnow()
            self.job.step = name
            self._eta.start(name, time.monotonic())
            self._update_overall()  # the counters are the new step's (not "draw 4/4" left from the last one)
            self._write(force=True)
            return s.attempts

    def refund_attempt(self, name: str) -> None:
        """Take back the attempt counted for step ``name`` (it found its output up to date)."""
        with self._lock:
            s = self.step(name)
            s.attempts = max(0, s.attempts - 1)

    def progress(self, name: str, done: int, total: int, message: str = "") -> None:
        """Report ``done`` of ``total`` units of step ``name``."""
        with self._lock:
            s = self.step(name)
            s.done, s.total = done, total
            if message:
                s.message = message
            if total:
                self._eta.progress(name, done / total, time.monotonic())
            self._update_overall()
            self._write(force=done >= total)

    def finish_step(self, name: str, *, skipped: bool = False, message: str = "") -> None:
        """Mark step ``name`` done (or skipped: its output was already up to date)."""
        with self._lock:
            s = self.step(name)
            s.status = "skipped" if skipped else "done"
            s.finished_at = utcnow()
            if s.total == 0:
                s.done = s.total = 1
            else:
                s.done = s.total
            if message:
                s.message = message
            seconds = self._eta.finish(name, time.monotonic(), skipped=skipped)
            if seconds is not None:
                learn(name, self._provider, self._eta.own_units(name), seconds)
            pending = [p.name for p in self.job.steps if p.status == "pending"]
            if pending and name in ("segment", "prompt", "draw"):  # the storyboard now says how much is left
                self._eta.replan(self._plans(pending))
            self._update_overall()
            self._write(force=True)

    def error(self, name: str, message: str, *, attempt: int, final: bool) -> None:
        """Record an error of step ``name`` (a retried one, or the final one)."""
        with self._lock:
            self.job.errors.append(JobError(step=name, message=message[:2000], attempt=attempt, final=final))
            del self.job.errors[:-50]
            if final:
                self.step(name).status = "failed"
            self._write(force=True)

    def add_usage(self, delta: UsageDelta) -> None:
        """Add one provider call's usage to this job's share and append it to the project's spend ledger
        (calls, tokens, images, estimated cost); a StepIO usage sink."""
        with self._lock:
            started = self.job.started_at.isoformat() if self.job.started_at else ""
            append_ledger(self.folder, delta, job=f"{self.job.kind}@{started}", step=self.job.step)
            self.job.usage = add_usage(self.job.usage, delta)
            self._write()

    def finish(self, status: str, message: str = "") -> None:
        """End the job with ``status`` (done, failed, cancelled)."""
        with self._lock:
            self.job.status = status  # type: ignore[assignment]
            self.job.finished_at = utcnow()
            self.job.heartbeat_at = utcnow()
            self.job.message = message
            if status == "done":
                self.job.fraction, self.job.eta_s = 1.0, 0.0
            self._write(force=True)

    # ---------------------------------------------------------------- ETA
    def _update_overall(self) -> None:
        """The job's counters (the current step's units), fraction and time left, from the ETA model."""
        current = self.step(self.job.step) if self.job.step else None
        self.job.done = current.done if current else 0
        self.job.total = current.total if current else 0
        self.job.fraction = self._eta.fraction()
        self.job.eta_s = self._eta.eta(time.monotonic())
