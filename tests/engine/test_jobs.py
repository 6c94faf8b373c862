"""Job files: progress, ETA, attempts kept across a crash, dead-worker detection."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from engine.jobs import JobTracker, job_is_dead, plan_resume
from engine.models import Job, utcnow
from engine.project import create_project
from engine.storage import ProjectFolder
from tests.conftest import dead_pid


def test_progress_eta_and_persisted_attempts(data_root: Path) -> None:
    folder = ProjectFolder(create_project().id)
    tracker = JobTracker(folder, "pipeline", steps=["analyze", "draw"], target="IMAGED", keep_attempts=False)
    assert tracker.job.eta_s is not None and tracker.job.eta_s > 0  # an estimate before any progress (engine.eta)
    tracker.start_attempt("analyze")
    tracker.finish_step("analyze")
    tracker.start_attempt("draw")
    tracker.progress("draw", 3, 10, "drawing")
    on_disk = tracker.job  # disk writes of small steps are throttled (0.2 s) and carried by the heartbeat
    assert on_disk.status == "running" and on_disk.step == "draw" and (on_disk.done, on_disk.total) == (3, 10)
    assert 0 < on_disk.fraction < 1 and on_disk.eta_s is not None and on_disk.eta_s >= 0
    tracker.finish_step("draw")
    assert folder.load_job("pipeline").steps[1].status == "done"
    # a crash: a new tracker that keeps attempts sees the persisted counts
    again = JobTracker(folder, "pipeline", steps=["analyze", "draw"], target="IMAGED", keep_attempts=True)
    assert again.attempts("draw") == 1 and again.attempts("analyze") == 1
    again.finish("done")
    done = folder.load_job("pipeline")
    assert done.status == "done" and done.fraction == 1.0 and done.eta_s == 0.0
    fresh = JobTracker(folder, "pipeline", steps=["analyze", "draw"], target="IMAGED", keep_attempts=False)
    assert fresh.attempts("draw") == 0


def test_dead_workers_are_detected() -> None:
    gone = dead_pid()
    assert job_is_dead(Job(kind="pipeline", status="running", pid=gone, heartbeat_at=utcnow()), stale_after_s=30)
    import os

    alive = Job(kind="pipeline", status="running", pid=os.getpid(), heartbeat_at=utcnow())
    assert not job_is_dead(alive, stale_after_s=30)
    silent = Job(kind="pipeline", status="running", pid=os.getpid(), heartbeat_at=utcnow() - timedelta(hours=1))
    assert job_is_dead(silent, stale_after_s=30)
    assert not job_is_dead(Job(kind="render", status="done", pid=gone), stale_after_s=30)
    old_queue = Job(kind="render", status="queued", started_at=utcnow() - timedelta(minutes=5))
    assert job_is_dead(old_queue, stale_after_s=30)


def test_skipped_steps_are_no_part_of_the_progress(data_root: Path) -> None:
    """A re-render skips four up-to-date steps: its progress is the render's, not 50% from the start."""
    folder = ProjectFolder(create_project().id)
    steps = ["analyze", "segment", "prompt", "draw", "render"]
    tracker = JobTracker(folder, "render", steps=steps, target="RENDERED", keep_attempts=False)
    for name in steps[:-1]:
        tracker.start_attempt(name)
        tracker.finish_step(name, skipped=True)
    tracker.start_attempt("render")
    tracker.progress("render", 100, 1000)
    assert tracker.job.fraction == 0.1
    tracker.progress("render", 500, 1000)
    assert tracker.job.fraction == 0.5
    # a step that did work still counts
    other = JobTracker(folder, "pipeline", steps=["analyze", "draw"], target="IMAGED", keep_attempts=False)
    other.start_attempt("analyze")
    other.finish_step("analyze")
    assert 0 < other.job.fraction < 1


def test_the_views_resumable_is_the_resume_plan(data_root: Path) -> None:
    """An old cancelled pipeline run followed by a finished render: nothing to resume, and the view agrees."""
    from api.views import project_public

    folder = ProjectFolder(create_project().id)
    earlier = utcnow() - timedelta(minutes=5)
    folder.save_job(Job(kind="pipeline", status="cancelled", target="RENDERED", started_at=earlier))
    folder.save_job(Job(kind="render", status="done", target="RENDERED", started_at=utcnow()))
    assert plan_resume(folder.load_project(), [folder.load_job("pipeline"), folder.load_job("render")]) is None
    assert project_public(folder).resumable is False
    folder.save_job(Job(kind="render", status="cancelled", target="RENDERED", started_at=utcnow()))
    assert project_public(folder).resumable is True
