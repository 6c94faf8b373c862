"""Workers the API starts run at a lower CPU priority (STORYBEAT_WORKER_NICE), so the API stays responsive."""
from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from engine.config import Settings
from tests.api.conftest import Server, uploaded_project, wait_until_idle


def _nice_of(pid: int) -> int | None:
    """The niceness of a running process (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[16])  # field 19 of stat; fields[0] is field 3


def test_api_workers_run_niced(server: Server, client: httpx.Client) -> None:
    pid = uploaded_project(client, "nice", seconds=6.0)
    started = client.post(f"/projects/{pid}/run", json={})
    assert started.status_code == 202, started.text
    worker = started.json()["pid"]
    expected = min(19, os.getpriority(os.PRIO_PROCESS, server.proc.pid) + Settings.model_fields["worker_nice"].default)
    seen = None
    deadline = time.monotonic() + 30
    while seen is None and time.monotonic() < deadline:
        try:
            argv = Path(f"/proc/{worker}/cmdline").read_bytes().split(b"\0")
        except OSError:
            break  # gone already
        if argv[1:3] == [b"-m", b"engine"]:  # exec'd into the worker (not the ``nice`` launcher)
            seen = _nice_of(worker)
        time.sleep(0.01)
    assert seen == expected, f"worker niceness {seen}, expected {expected}"
    wait_until_idle(client, pid)
