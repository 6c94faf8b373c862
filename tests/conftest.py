"""Shared fixtures: an isolated data root per test."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import get_settings

REPO = Path(__file__).resolve().parent.parent
SLOW_TIMEOUT_S = 300  # the per-test timeout of tests marked slow (pyproject's default is for the rest)
ARTIFACTS = REPO / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow (end-to-end) tests get SLOW_TIMEOUT_S unless they carry their own timeout mark."""
    for item in items:
        if item.get_closest_marker("slow") is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT_S))


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """STORYBEAT_DATA pointing at a fresh temp folder (settings cache cleared)."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("STORYBEAT_DATA", str(root))
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


def require_tool(path: str) -> None:
    """Skip when a tool is missing, except in CI (CI=true), where that is a failure."""
    if shutil.which(path) or Path(path).exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{path} is required in CI")
    pytest.skip(f"{path} not installed")


def dead_pid() -> int:
    """The pid of a process that has exited (a worker killed without a word looks like this)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real S3-protocol server (moto's, tests/fakes/s3_server.py) on 127.0.0.1, started for this session."""
    import time

    port_file = tmp_path_factory.mktemp("s3") / "port"
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.s3_server", "--port", "0", "--port-file", str(port_file)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the loopback S3 server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port_file.read_text()}"
    proc.kill()
    proc.wait()


def bucket_env(endpoint: str) -> dict[str, str]:
    """A fresh bucket on ``endpoint`` and the settings that make it the storage (for the engine or a server's env)."""
    import uuid

    import boto3

    bucket = f"storybeat-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
            "STORYBEAT_S3_ENDPOINT_URL": endpoint, "STORYBEAT_STORAGE": f"s3://{bucket}/projects",
            "STORYBEAT_LEASE_TTL_S": "6"}


def use_bucket(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> str:
    """Point the engine (and the worker processes it starts) at a fresh bucket on ``endpoint``; returns its s3:// URL."""
    from engine import store, sync

    env = bucket_env(endpoint)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    store._store.cache_clear()
    sync.reset()
    return env["STORYBEAT_STORAGE"]


@pytest.fixture(params=["disk", "s3"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on each storage backend: the local folder, and a bucket on the loopback S3 server."""
    from engine import store, sync

    if request.param == "s3":
        use_bucket(monkeypatch, request.getfixturevalue("s3_endpoint"))
    else:
        monkeypatch.delenv("STORYBEAT_STORAGE", raising=False)
        get_settings.cache_clear()
        store._store.cache_clear()
    yield request.param
    monkeypatch.delenv("STORYBEAT_STORAGE", raising=False)
    get_settings.cache_clear()
    store._store.cache_clear()
    sync.reset()
