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
