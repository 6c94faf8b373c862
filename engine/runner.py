"""Drive a project through the machine: lock, replay, run steps with retries, fire triggers, persist.

Replay: every step from the first up to the target is called in order. A step
whose output is up to date (its fingerprint matches) returns at once, so
finished work is never redone; a corrupt or stale output is recomputed. Steps
past the project's state fire their trigger after they succeed, and
project.json is written after every trigger, so a crash at any point is
resumed by running again.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from engine import machine, retry
from engine.config import Settings, get_settings
from engine.errors import (
    DISK_FULL_MESSAGE,
    CancelledError,
    DiskFullError,
    InputError,
    ProviderError,
    StateError,
    StorybeatError,
    disk_full,
)
from engine.jobs import JobTracker, ProgressCallback, job_crashed
from engine.lock import project_lock
from engine.models import ErrorInfo, JobKind, Project, utcnow
from engine.providers import get_provider
from engine.providers.base import Provider, StepIO
from engine.steps import STEPS
from engine.steps.common import StepContext
from engine.storage import DiskReserve, ProjectFolder

log = logging.getLogger(__name__)


def _is_transient(exc: BaseException) -> bool:
    return retry.retryable(exc)  # the one policy: a lower layer's spent retries are not repeated here


def _backoff(config: Settings) -> Callable[[RetryCallState], float]:
    """The policy's backoff (:func:`engine.retry.backoff_s`), honouring the provider's requested delay up to
    ``retry_max_s`` (a server asking for an hour does not hold a worker for an hour)."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after_s = exc.retry_after_s if isinstance(exc, ProviderError) else None
        if retry_after_s is not None:
            retry_after_s = min(retry_after_s, config.retry_max_s)
        return retry.backoff_s(attempt=state.attempt_number, initial_s=config.retry_base_s, max_s=config.retry_max_s,
                               retry_after_s=retry_after_s)

    return wait


def _warm_up_render() -> None:
    """Load the render's kernels (numba's on-disk cache, ~1.5 s) in the background while the earlier steps run,
    so the render step starts with them loaded (the render warms up again: a no-op once loaded)."""
    try:
        from engine.render import warp

        warp.warm_up()
    except Exception as exc:  # noqa: BLE001 - the render loads them again and reports a real failure
        log.debug("early warm-up of the render's kernels failed: %s", exc)


def steps_for(target: str) -> list[str]:
    """The pipeline steps needed to reach ``target``."""
    return [t for t, _, dest in machine.PIPELINE if machine.state_index(dest) <= machine.state_index(target)]


def previous_run_crashed(folder: ProjectFolder, kind: str, config: Settings) -> bool:
    """Whether the last job of this kind died without finishing (its attempt counts then carry over)."""
    job = folder.load_job(kind)
    if job.status == "queued" and job.continues_crash:  # the API queued this run to continue a crashed one
        return True
    return job_crashed(job, stale_after_s=config.stale_after_s)


class Runner:
    """One run of one project towards a target state."""

    def __init__(
        self,
        project_id: str,
        *,
        target: str = machine.RENDERED,
        kind: JobKind = "pipeline",
        preview: bool = False,
        config: Settings | None = None,
        on_progress: ProgressCallback | None = None,
        stop_event: threading.Event | None = None,
        sleep: Callable[[float], None] | None = None,
        provider: Provider | None = None,
    ) -> None:
        if target not in machine.RUN_TARGETS:
            raise InputError(f"cannot run towards {target!r}; targets: {', '.join(machine.RUN_TARGETS)}")
        self.folder = ProjectFolder(project_id)
        self.target = target
        self.kind = kind
        self.preview = preview
        self.config = config or get_settings()
        self.on_progress = on_progress
        self.stop_event = stop_event or threading.Event()
        self.sleep = sleep
        self.provider = provider  # None: chosen from the project's settings
        self.work_done: dict[str, bool] = {}

    def run(self, *, lock_wait_s: float = 0.0) -> Project:
        """Run under the project lock; returns the final project. Raises BusyError, StorybeatError.

        ``lock_wait_s`` > 0 lets a worker started by the API wait out a short edit.
        """
        try:
            with project_lock(self.folder, wait_s=lock_wait_s):
                return self._run_locked()
        except StorybeatError as exc:
            self._give_up_queued(exc)
            raise

    def _give_up_queued(self, exc: StorybeatError) -> None:
        """A job queued for this run (by the API) that the run could not even start is ended with the reason.

        Otherwise it would claim "queued" until it went stale, with no word of why.
        """
        try:
            with project_lock(self.folder):  # every writer holds it (a run cleaning temp files relies on that)
                job = self.folder.load_job(self.kind)
                if job.status != "queued" or job.pid not in (None, os.getpid()):  # not this run's: another start's
                    return
                job.status, job.message, job.finished_at = "failed", f"could not start: {exc}"[:500], utcnow()
                self.folder.save_job(job)
        except StorybeatError:  # another run holds the project and owns its job files; ours shows dead once we exit
            return
        log.warning("%s: %s run could not start: %s", self.folder.id, self.kind, exc)

    # ------------------------------------------------------------------ internals
    def _run_locked(self) -> Project:
        project = self.folder.load_project()
        machine.check_run(project, target=self.target, kind=self.kind)
        removed = self.folder.remove_temp_files()  # what killed runs left; we hold the lock, so none is live
        if removed:
            log.info("%s: removed %d temp file(s) left by killed runs: %s", self.folder.id, len(removed), ", ".join(removed[:5]))
        provider = self.provider or get_provider(project.settings, self.config)  # no key: refused, the project unchanged
        crashed = previous_run_crashed(self.folder, self.kind, self.config)
        names = steps_for(self.target)
        tracker = JobTracker(
            self.folder, self.kind, steps=names, target=self.target, keep_attempts=crashed and project.state != machine.FAILED,
            preview=self.preview, heartbeat_s=self.config.heartbeat_s, on_change=self.on_progress,
        )
        if "render" in names and machine.state_index(machine.stands_for(project)) < machine.state_index(machine.IMAGED):
            threading.Thread(target=_warm_up_render, daemon=True, name="render-warm-up").start()
        with tracker, DiskReserve(self.folder.jobs_dir / ".reserve") as reserve:
            try:
                if project.state == machine.FAILED:
                    machine.fire(project, "recover")
                    self.folder.save_project(project)
                for name in names:
                    self._run_step(name, project, provider, tracker)
            except CancelledError as exc:
                tracker.finish("cancelled", str(exc))
                raise
            except StateError:
                tracker.finish("failed", "illegal transition")
                raise
            except Exception as exc:
                failure = self._fail(project, tracker, exc, reserve)
                if failure is exc:
                    raise
                raise failure from exc
            tracker.finish("done", f"{project.state}")
        return project

    def _run_step(self, name: str, project: Project, provider: Provider, tracker: JobTracker) -> None:
        step = STEPS[name]
        _, source, dest = next(p for p in machine.PIPELINE if p[0] == name)
        fires = project.state == source or (name == "render" and project.state == machine.RENDERED and self.kind == "render")
        ctx = StepContext(
            folder=self.folder,
            project=project,
            provider=provider,
            progress=lambda done, total, message: tracker.progress(name, done, total, message),
            io=StepIO(on_usage=tracker.add_usage, should_stop=self.stop_event.is_set, cache_dir=self.folder.cache_dir,
                      on_progress=lambda fraction, message: tracker.progress(name, round(fraction * 1000), 1000, message)),
            preview=self.preview,
            renders_next=name == "draw" and "render" in steps_for(self.target),
        )
        remaining = self.config.step_attempts - tracker.attempts(name)
        if remaining <= 0:
            raise ProviderError(f"{name}: gave up after {tracker.attempts(name)} attempts")
        retrying = Retrying(
            stop=stop_after_attempt(remaining),
            wait=_backoff(self.config),
            retry=retry_if_exception(_is_transient),
            reraise=True,
            sleep=self.sleep or self.stop_event.wait,  # a Stop ends the wait at once (then the next try cancels)
        )
        did_work = False
        for attempt in retrying:
            with attempt:
                if self.stop_event.is_set():
                    raise CancelledError("stopped on request")
                number = tracker.start_attempt(name)
                try:
                    did_work = step.run(ctx)
                except CancelledError:
                    raise  # a stop on request is no error of the step: the job ends "cancelled", nothing red
                except Exception as exc:
                    final = not _is_transient(exc) or number >= self.config.step_attempts
                    tracker.error(name, f"{type(exc).__name__}: {exc}", attempt=number, final=final)
                    raise
        self.folder.publish()  # with a bucket: the step's finished files (ffmpeg's, renamed into place) go up now
        self.work_done[name] = did_work
        if not did_work:
            tracker.refund_attempt(name)  # an up-to-date step costs no attempt (else crashes add up on finished steps)
        tracker.finish_step(name, skipped=not did_work)
        if fires:
            machine.fire(project, name)
            self.folder.save_project(project)
        elif did_work:
            log.warning("%s: %s output was stale or corrupt and was recomputed", project.id, name)

    def _fail(self, project: Project, tracker: JobTracker, exc: BaseException, reserve: DiskReserve) -> BaseException:
        """Record the failure (project FAILED, job failed); returns the error to raise (a full disk as DiskFullError).

        On a full disk the reserve is given back first, so the failure itself
        can be written.
        """
        step = tracker.job.step or "run"
        if disk_full(exc):
            reserve.release()
            exc = DiskFullError(f"{DISK_FULL_MESSAGE} during {step}: free some space, then resume ({exc})"[:4000])
        kind = type(exc).__name__
        message = str(exc) or kind
        if not isinstance(exc, StorybeatError):
            log.exception("unexpected error in %s", step)
        try:
            if project.state in machine.WORK_STATES:
                machine.fire(project, "fail", error=ErrorInfo(step=step, message=message[:4000], kind=kind))
                self.folder.save_project(project)
            tracker.finish("failed", message[:500])
        except DiskFullError as again:  # even the reserve did not suffice: the files stay as they were (valid)
            log.error("%s: cannot record the failure: %s", self.folder.id, again)
        return exc

