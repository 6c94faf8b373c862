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


def test_a_killed_worker_shows_at_once_in_views_and_events(tmp_path) -> None:
    """SIGKILL changes no file, yet GET and the event stream report the run interrupted and resumable."""
    import os
    import signal
    import time

    from tests.api.test_flow import read_events

    data = tmp_path / "data"
    server = start_server(data)
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
