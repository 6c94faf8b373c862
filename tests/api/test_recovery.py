"""On start the API marks jobs whose worker died as interrupted; resume continues them."""
from __future__ import annotations

import json

import pytest

from tests.api.conftest import start_server, stop_server, uploaded_project, wait_until_idle
from tests.conftest import dead_pid

pytestmark = pytest.mark.slow


def test_dead_worker_marked_interrupted_and_resumed(tmp_path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        with server.client() as c:
            pid = uploaded_project(c, "crash", seconds=3.0)
    finally:
        stop_server(server)
    job_file = data / "projects" / pid / "jobs" / "pipeline.json"
    job_file.parent.mkdir(parents=True, exist_ok=True)
    job_file.write_text(json.dumps({
        "schema_version": 1, "kind": "pipeline", "status": "running", "target": "ANALYZED", "pid": dead_pid(),
        "step": "analyze", "started_at": "2024-01-01T00:00:00Z", "heartbeat_at": "2024-01-01T00:00:00Z",
        "steps": [{"name": "analyze", "status": "running", "attempts": 1}],
        "errors": [{"step": "analyze", "message": "before the crash", "attempt": 1}],
        "usage": {"calls": 5, "images": 2, "est_cost_usd": 0.08},
    }))
    server = start_server(data)
    try:
        with server.client() as c:
            project = c.get(f"/projects/{pid}").json()
            assert project["jobs"]["pipeline"]["status"] == "interrupted"
            assert project["resumable"] is True and project["busy"] is False
            assert json.loads(job_file.read_text())["status"] == "interrupted"
            resumed = c.post(f"/projects/{pid}/resume")
            assert resumed.status_code == 202, resumed.text
            project = wait_until_idle(c, pid, timeout_s=120)
            assert project["state"] == "ANALYZED", project["error"]
            assert project["resumable"] is False
            # the resumed run continues the crashed one: its attempts, errors and usage (cost) carry over
            job = project["jobs"]["pipeline"]
            assert job["usage"]["calls"] == 5 and job["usage"]["images"] == 2, job["usage"]
            assert [e["message"] for e in job["errors"]] == ["before the crash"]
            assert next(s for s in job["steps"] if s["name"] == "analyze")["attempts"] == 2
            again = c.post(f"/projects/{pid}/resume")
            assert again.status_code == 409 and again.json()["detail"]["state"] == "ANALYZED"
    finally:
        stop_server(server)


def test_a_killed_worker_shows_at_once_in_views_and_events(tmp_path, api_env: dict[str, str]) -> None:
    """SIGKILL changes no file, yet GET and the event stream report the run interrupted and resumable."""
    import os
    import signal
    import time

    from tests.api.test_flow import read_events

    data = tmp_path / "data"
    server = start_server(data, env_extra=api_env)
    try:
        with server.client() as c:
            pid = uploaded_project(c, "killed", seconds=8.0)
            assert c.post(f"/projects/{pid}/run", json={"target": "RENDERED"}).status_code == 202
            deadline = time.monotonic() + 60
            while (worker := c.get(f"/projects/{pid}/jobs").json()["pipeline"]).get("status") != "running":
                assert time.monotonic() < deadline, worker
                time.sleep(0.05)
            os.kill(worker["pid"], signal.SIGKILL)
            started = time.monotonic()

            def settled(events: list) -> bool:
                projects = [d for n, d in events if n == "project"]
                jobs = [d for n, d in events if n == "job" and d["kind"] == "pipeline"]
                return bool(projects and jobs and not projects[-1]["busy"] and projects[-1]["resumable"]
                            and jobs[-1]["status"] == "interrupted")

            read_events(server, pid, until=settled, timeout_s=30)
            assert time.monotonic() - started < 15
            project = c.get(f"/projects/{pid}").json()
            assert project["jobs"]["pipeline"]["status"] == "interrupted" and project["resumable"]
            assert c.post(f"/projects/{pid}/resume").status_code == 202
            assert wait_until_idle(c, pid, timeout_s=240)["state"] == "RENDERED"
    finally:
        stop_server(server)


def test_runs_that_cannot_start_are_refused_up_front(tmp_path) -> None:
    """UPLOADED is not a run target; a Gemini project without a key is refused before any worker starts."""
    data = tmp_path / "data"
    server = start_server(data)
    try:
        with server.client() as c:
            pid = uploaded_project(c, "no key", seconds=3.0, settings={"provider": "gemini"})
            bad_target = c.post(f"/projects/{pid}/run", json={"target": "UPLOADED"})
            assert bad_target.status_code == 422
            no_key = c.post(f"/projects/{pid}/run", json={"target": "ANALYZED"})
            assert no_key.status_code == 422 and "GEMINI_API_KEY" in no_key.text
            project = c.get(f"/projects/{pid}").json()
            assert project["state"] == "UPLOADED" and project["jobs"]["pipeline"]["status"] == "idle"
            # the way out: switch to the local provider, then run
            assert c.patch(f"/projects/{pid}", json={"provider": "local"}).status_code == 200
            assert c.post(f"/projects/{pid}/run", json={"target": "ANALYZED"}).status_code == 202
            assert wait_until_idle(c, pid, timeout_s=120)["state"] == "ANALYZED"
    finally:
        stop_server(server)


def _wait_for(c, pid: str, predicate, *, timeout_s: float = 120.0) -> dict:  # type: ignore[no-untyped-def]
    """Poll GET /projects/{pid}/jobs every 20 ms until ``predicate(jobs)``; returns the jobs."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        jobs = c.get(f"/projects/{pid}/jobs").json()
        if predicate(jobs):
            return jobs
        time.sleep(0.02)
    raise AssertionError(f"condition not reached: {jobs}")


def test_resume_of_a_run_killed_while_rendering_reports_the_truth(tmp_path, api_env: dict[str, str]) -> None:
    """SIGKILL during the render, resume: the queued job is the one the worker runs, so nothing stays busy or resumable.

    It was: the API queued a pipeline job, the worker ran a render job (the state was IMAGED), the pipeline
    job stayed queued (busy, edits refused), then showed interrupted forever while resume said "nothing to resume".
    """
    import os
    import signal

    data = tmp_path / "data"
    server = start_server(data, env_extra=api_env)
    try:
        with server.client() as c:
            pid = uploaded_project(c, "killed in render", seconds=6.0)
            assert c.post(f"/projects/{pid}/run", json={"target": "RENDERED"}).status_code == 202
            jobs = _wait_for(c, pid, lambda j: j["pipeline"]["status"] == "running" and j["pipeline"]["step"] == "render",
                             timeout_s=240)
            os.kill(jobs["pipeline"]["pid"], signal.SIGKILL)
            project = _wait_for_project(c, pid, lambda p: not p["busy"], timeout_s=10)  # the kill lands a moment later
            assert project["state"] == "IMAGED" and project["resumable"], project
            resumed = c.post(f"/projects/{pid}/resume")
            assert resumed.status_code == 202, resumed.text
            assert resumed.json()["job"]["kind"] == "pipeline"  # it continues the killed run, as its job
            project = wait_until_idle(c, pid, timeout_s=240)
            assert project["state"] == "RENDERED", project["error"]
            assert project["jobs"]["pipeline"]["status"] == "done", project["jobs"]
            assert project["jobs"]["render"]["status"] == "idle", project["jobs"]
            assert not project["busy"] and not project["resumable"]
            assert c.post(f"/projects/{pid}/resume").status_code == 409
            assert c.patch(f"/projects/{pid}", json={"subtitles": False}).status_code == 200  # not busy: edits go through
            # a run of a project with every picture drawn is a render job, recorded as the one that runs
            started = c.post(f"/projects/{pid}/run", json={"target": "RENDERED"})
            assert started.status_code == 202 and started.json()["job"]["kind"] == "render", started.text
            project = wait_until_idle(c, pid, timeout_s=240)
            assert project["jobs"]["render"]["status"] == "done" and project["jobs"]["pipeline"]["status"] == "done"
            assert not project["busy"] and not project["resumable"] and len(project["renders"]) == 2
    finally:
        stop_server(server)


def test_a_worker_killed_at_once_is_interrupted_at_once(tmp_path, api_env: dict[str, str]) -> None:
    """A worker killed before its first heartbeat (still importing) leaves a job that resume continues at once.

    The queued job had no pid until the worker wrote one, so for 30 s the project was busy and resume refused.
    """
    import os
    import signal

    data = tmp_path / "data"
    server = start_server(data, env_extra=api_env)
    try:
        with server.client() as c:
            pid = uploaded_project(c, "killed at once", seconds=3.0)
            started = c.post(f"/projects/{pid}/run", json={"target": "ANALYZED"})
            assert started.status_code == 202
            worker = started.json()["pid"]
            assert started.json()["job"]["pid"] == worker
            os.kill(worker, signal.SIGKILL)
            project = _wait_for_project(c, pid, lambda p: not p["busy"], timeout_s=10)  # not the 30 s of a queued job
            assert project["resumable"], project["jobs"]["pipeline"]
            assert project["jobs"]["pipeline"]["status"] == "interrupted"
            assert c.post(f"/projects/{pid}/resume").status_code == 202
            assert wait_until_idle(c, pid, timeout_s=120)["state"] == "ANALYZED"
    finally:
        stop_server(server)


def test_a_paused_worker_is_reported_not_responding_with_the_way_out(tmp_path, api_env: dict[str, str]) -> None:
    """SIGSTOP: the worker holds the lock but beats no more. It is busy and not responding, not interrupted."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.api.conftest import REPO

    data = tmp_path / "data"
    settings = {"STORYBEAT_STALE_AFTER_S": "1", "STORYBEAT_HEARTBEAT_S": "0.2"}  # silent after 4 s
    server = start_server(data, env_extra={**api_env, **settings})
    worker = None
    try:
        with server.client() as c:
            pid = uploaded_project(c, "paused", seconds=8.0)
            assert c.post(f"/projects/{pid}/run", json={"target": "IMAGED"}).status_code == 202
            jobs = _wait_for(c, pid, lambda j: j["pipeline"]["status"] == "running")
            worker = jobs["pipeline"]["pid"]
            os.kill(worker, signal.SIGSTOP)
            project = _wait_for_project(c, pid, lambda p: p["jobs"]["pipeline"]["status"] != "running", timeout_s=30)
            job = project["jobs"]["pipeline"]
            assert job["status"] == "not_responding", job
            assert f"kill -CONT {worker}" in job["message"] and "resume" in job["message"]
            assert project["busy"] and not project["resumable"]
            refused = c.post(f"/projects/{pid}/resume")
            assert refused.status_code == 409 and "not responding" in refused.text, refused.text
            assert c.patch(f"/projects/{pid}", json={"subtitles": False}).status_code == 409
            env = {**os.environ, "STORYBEAT_DATA": str(data), "PYTHONPATH": str(REPO), **api_env, **settings}
            status = subprocess.run([sys.executable, "-m", "engine", "status", pid], capture_output=True, text=True,
                                    env=env, cwd=REPO, timeout=120)
            assert "pipeline: not responding" in status.stdout and f"kill -CONT {worker}" in status.stdout, status.stdout
            assert "resume with" not in status.stdout
            # Stop wakes the paused worker, which stops after its unit; then it can be resumed
            assert c.post(f"/projects/{pid}/cancel").json()["stopped"] is True
            project = wait_until_idle(c, pid, timeout_s=120)
            assert project["jobs"]["pipeline"]["status"] == "cancelled" and project["resumable"]
            worker = None
    finally:
        if worker:
            os.kill(worker, signal.SIGCONT)
        stop_server(server)


def _wait_for_project(c, pid: str, predicate, *, timeout_s: float) -> dict:  # type: ignore[no-untyped-def]
    """Poll GET /projects/{pid} until ``predicate(project)``; returns the project."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        project = c.get(f"/projects/{pid}").json()
        if predicate(project):
            return project
        time.sleep(0.1)
    raise AssertionError(f"condition not reached: {project['jobs']}")
