"""Storage: ids, atomic writes, typed loading, the project lock."""
from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from engine.errors import BusyError, InputError
from engine.lock import project_lock
from engine.models import Project
from engine.storage import ProjectFolder, atomic_write_bytes, read_model, try_read_model


@pytest.mark.parametrize("bad", ["", "..", "../etc", "a/b", "AB", "x", "a" * 65, "abc\x00", "abc/../../x", " abc"])
def test_bad_project_ids_are_refused(bad: str, data_root: Path) -> None:
    with pytest.raises(InputError):
        ProjectFolder(bad)


def test_paths_follow_the_layout(data_root: Path) -> None:
    f = ProjectFolder("abc123")
    assert f.path == data_root / "projects" / "abc123"
    assert f.rel(f.image_path("seg_001", 2)) == "images/seg_001_v2.png"
    assert f.rel(f.renders_dir) == "renders"  # the render step names final_vN.mp4 / preview_vN.mp4 in it
    assert f.rel(f.job_json("render")) == "jobs/render.json"
    with pytest.raises(InputError):
        f.image_path("../x", 1)
    with pytest.raises(InputError):
        f.resolve("../../etc/passwd")


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_loader_rejects_corrupt_and_unknown_versions(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    path.write_text('{"id": "abc", "state": "CREA')
    with pytest.raises(InputError, match="corrupt"):
        read_model(path, Project)
    assert try_read_model(path, Project) is None
    path.write_text(json.dumps({"schema_version": 99, "id": "abc"}))
    with pytest.raises(InputError, match="schema_version"):
        read_model(path, Project)
    path.write_text(json.dumps({"id": "abc", "surprise": 1}))
    with pytest.raises(InputError, match="invalid"):
        read_model(path, Project)


def _hold_lock(root: str, ready: multiprocessing.Event, release: multiprocessing.Event) -> None:
    os.environ["STORYBEAT_DATA"] = root
    from engine.config import get_settings

    get_settings.cache_clear()
    folder = ProjectFolder("abc123")
    with project_lock(folder):
        ready.set()
        release.wait(10)


def test_lock_refuses_an_unknown_project_without_creating_it(data_root: Path, backend: str) -> None:
    from engine.errors import NotFoundError

    with pytest.raises(NotFoundError):
        with project_lock(ProjectFolder("ghost-project")):
            pass
    assert not (data_root / "projects" / "ghost-project").exists()


def test_lock_is_exclusive_across_processes_and_freed_by_death(data_root: Path, backend: str) -> None:
    """On disk the OS frees the lock of a killed holder; in a bucket the lease of a dead process on this machine is free at once."""
    from engine.project import create_project

    create_project(project_id="abc123")
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(data_root), ready, release))
    proc.start()
    assert ready.wait(20)
    folder = ProjectFolder("abc123")
    with pytest.raises(BusyError):
        with project_lock(folder):
            pass
    start = time.monotonic()
    with pytest.raises(BusyError):
        with project_lock(folder, wait_s=0.3):
            pass
    assert time.monotonic() - start >= 0.3
    proc.kill()  # SIGKILL: the OS releases the lock
    proc.join()
    with project_lock(folder):
        pass
