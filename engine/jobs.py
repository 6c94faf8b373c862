"""Progress of a run in jobs/pipeline.json or jobs/render.json: steps, done/total, ETA, heartbeat."""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime

from engine.models import Job, JobError, StepProgress, Usage, utcnow
from engine.storage import ProjectFolder
from engine.usage import UsageDelta, add_usage

log = logging.getLogger(__name__)

# Rough share of a full run's wall time per step, for the overall fraction and ETA.
STEP_WEIGHTS: dict[str, float] = {"analyze": 12, "segment": 1, "prompt": 2, "draw": 35, "render": 50}

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


def job_is_dead(job: Job, *, stale_after_s: float) -> bool:
    """A job that claims to run but whose worker is gone (or silent for too long)."""
    if job.status not in ("running", "queued"):
        return False
    if job.status == "queued" and job.pid is None:
        started = job.started_at or job.heartbeat_at
        return started is None or (utcnow() - started).total_seconds() > stale_after_s
    if not pid_alive(job.pid):
        return True
    beat = job.heartbeat_at
    return beat is not None and (utcnow() - beat).total_seconds() > stale_after_s * 4


DEAD_WORKER_MESSAGE = "the worker stopped without finishing; resume to continue"


def job_active(job: Job, *, stale_after_s: float) -> bool:
    """A job whose worker is queued or running and alive."""
    return job.status in ("queued", "running") and not job_is_dead(job, stale_after_s=stale_after_s)


def job_crashed(job: Job, *, stale_after_s: float) -> bool:
    """A job whose worker died without finishing (recorded ``interrupted``, or dead while claiming to run)."""
    return job.status == "interrupted" or job_is_dead(job, stale_after_s=stale_after_s)


def job_resumable(job: Job, *, stale_after_s: float) -> bool:
    """A job that stopped without finishing: crashed, or cancelled on request."""
    return job.status == "cancelled" or job_crashed(job, stale_after_s=stale_after_s)


def job_as_seen(job: Job, *, stale_after_s: float) -> Job:
    """The job as it is: one whose worker died still says ``running`` in its file, and is shown ``interrupted``."""
    if job_is_dead(job, stale_after_s=stale_after_s):
        return job.model_copy(update={"status": "interrupted", "message": job.message or DEAD_WORKER_MESSAGE})
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
            steps=[StepProgress(name=s, attempts=attempts.get(s, 0)) for s in steps],
            started_at=utcnow(),
            heartbeat_at=utcnow(),
            errors=previous.errors[-20:] if keep_attempts else [],
            usage=previous.usage if keep_attempts else Usage(),
        )
        self._step_started: dict[str, float] = {}
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

    def _beat(self) -> None:
        while not self._stop.wait(self._heartbeat_s):
            with self._lock:
                self.job.heartbeat_at = utcnow()
                self._write(force=True)

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
            self._step_started.setdefault(name, time.monotonic())
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
        """Add one provider call's usage (calls, tokens, images, estimated cost); a StepIO usage sink."""
        with self._lock:
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
    def _weighted_steps(self) -> list[tuple[StepProgress, float]]:
        """Steps with their weights, without the skipped ones: a step that found its output up to date is no
        part of this run's work (else a re-render would start at 50% with 'a few seconds left')."""
        return [(s, STEP_WEIGHTS.get(s.name, 1.0)) for s in self.job.steps if s.status != "skipped"]

    def _update_overall(self) -> None:
        total_w = sum(w for _, w in self._weighted_steps()) or 1.0
        done_w = 0.0
        for s, w in self._weighted_steps():
            if s.status == "done":
                done_w += w
            elif s.total:
                done_w += w * min(1.0, s.done / s.total)
        current = self.step(self.job.step) if self.job.step else None
        self.job.done = current.done if current else 0
        self.job.total = current.total if current else 0
        self.job.fraction = round(done_w / total_w, 4)
        self.job.eta_s = self._eta()

    def _eta(self) -> float | None:
        """Seconds left: the running step at its own pace, later steps at the run's pace per unit of weight."""
        started = self.job.started_at
        if not started or self.job.fraction <= 0.01:
            return None
        elapsed = (utcnow() - started).total_seconds()
        overall = elapsed * (1 - self.job.fraction) / self.job.fraction
        current = self.step(self.job.step) if self.job.step else None
        step_start = self._step_started.get(self.job.step)
        if current is None or step_start is None or current.status != "running" or not current.total:
            return round(overall, 1)
        done_part = current.done / current.total
        if done_part < 0.05:
            return round(overall, 1)
        step_elapsed = time.monotonic() - step_start
        step_left = step_elapsed * (1 - done_part) / done_part
        names = [s.name for s in self.job.steps]
        later = names[names.index(current.name) + 1:] if current.name in names else []
        later_w = sum(STEP_WEIGHTS.get(n, 1.0) for n in later if self.step(n).status == "pending")
        total_w = sum(w for _, w in self._weighted_steps()) or 1.0
        pace = elapsed / max(self.job.fraction * total_w, 1e-6)  # seconds per unit of weight so far
        return round(step_left + pace * later_w, 1)
