"""On start the API marks jobs whose worker died as interrupted; resume continues them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.api.conftest import start_server, stop_server, wait_until_idle, wav_bytes

pytestmark = pytest.mark.slow


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_dead_worker_marked_interrupted_and_resumed(tmp_path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        with server.client() as c:
            pid = c.post("/projects", json={"name": "crash"}).json()["id"]
            assert c.post(f"/projects/{pid}/upload", files={"audio": ("a.wav", wav_bytes(seconds=3.0), "audio/wav")}).status_code == 200
    finally:
        stop_server(server)
    job_file = data / "projects" / pid / "jobs" / "pipeline.json"
    job_file.parent.mkdir(parents=True, exist_ok=True)
    job_file.write_text(json.dumps({
        "schema_version": 1, "kind": "pipeline", "status": "running", "target": "ANALYZED", "pid": dead_pid(),
        "step": "analyze", "started_at": "2024-01-01T00:00:00Z", "heartbeat_at": "2024-01-01T00:00:00Z",
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
            again = c.post(f"/projects/{pid}/resume")
            assert again.status_code == 409 and again.json()["detail"]["state"] == "ANALYZED"
    finally:
        stop_server(server)
