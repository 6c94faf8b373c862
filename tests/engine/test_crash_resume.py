"""Crash tests with real processes: SIGKILL a worker at several points, resume, compare.

Each case starts ``python -m engine run`` on a project, SIGKILLs it at a chosen
moment (during analysis, halfway through pictures, during render), runs
``python -m engine resume`` and checks that the result equals an
uninterrupted run and that no finished picture was redrawn.

Encoding ahead is on (``STORYBEAT_ENCODE_AHEAD=on``): render chunks are encoded while the pictures are drawn.

Each runs on both storage backends (the ``backend`` fixture): on disk, and with
a bucket on the loopback S3 server, where the resume runs from another local
working copy (as on another machine) and the result is read from the bucket.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import machine
from engine.render.ffmpeg import ffmpeg_path
from engine.storage import TEMP_GLOB, ProjectFolder
from tests.engine.templates import timed_song

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def cli(data: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh process."""
    env = {**os.environ, "STORYBEAT_DATA": str(data), "PYTHONPATH": str(REPO), "STORYBEAT_ENCODE_AHEAD": "on"}
    proc = subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"engine {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def start_worker(data: Path, project_id: str) -> subprocess.Popen[str]:
    env = {**os.environ, "STORYBEAT_DATA": str(data), "PYTHONPATH": str(REPO), "STORYBEAT_ENCODE_AHEAD": "on"}
    return subprocess.Popen([sys.executable, "-m", "engine", "run", project_id, "--quiet"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def job(data: Path, project_id: str, kind: str = "pipeline") -> dict:
    path = data / "projects" / project_id / "jobs" / f"{kind}.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def step(job_: dict, name: str) -> dict:
    return next((s for s in job_.get("steps", []) if s["name"] == name), {})


def kill_when(proc: subprocess.Popen[str], predicate, timeout_s: float = 300, poll_s: float = 0.005) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL ``proc`` as soon as ``predicate()`` holds (polled every ``poll_s``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"worker finished before the kill point: {proc.stderr.read() if proc.stderr else ''}")
        if predicate():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return
        time.sleep(poll_s)
    proc.kill()
    raise AssertionError("kill point never reached")


def frame_md5s(mp4: Path) -> list[str]:
    """Per-frame md5 of the decoded video and audio (container-independent comparison)."""
    out = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(mp4), "-f", "framemd5", "-"], capture_output=True, text=True, check=True)
    return [line.rsplit(",", 1)[-1].strip() for line in out.stdout.splitlines() if line and not line.startswith("#")]


def bucket_copy(dest: Path, project_id: str) -> ProjectFolder:
    """The project as the bucket holds it, downloaded into ``dest`` (a folder the engine does not use)."""
    from engine import sync

    store = sync.store()
    assert store is not None
    for key in store.list(f"{project_id}/"):
        store.download(key, dest / key)
    return ProjectFolder(project_id, root=dest)


def stored_pictures(project_id: str) -> dict[str, object]:
    """Each stored picture's last-modified time (a new PUT changes it)."""
    from engine import sync

    store = sync.store()
    keys = [k for k in store.list(f"{project_id}/images/") if k.endswith(".png")]  # type: ignore[union-attr]
    client = store.client  # type: ignore[union-attr]
    return {k: client.head_object(Bucket=store.bucket, Key=store._k(k))["LastModified"] for k in keys}  # type: ignore[union-attr]


def snapshot(folder: ProjectFolder) -> dict[str, object]:
    """What the outputs are, ignoring timestamps."""
    prompts = json.loads(folder.prompts_json.read_text())
    for sp in prompts["scenes"]:
        for v in sp["versions"]:
            v.pop("created_at", None)
            if v.get("image"):
                v["image"].pop("created_at", None)
    project = folder.load_project()
    render = folder.resolve(project.renders[-1].file)
    return {
        "analysis": json.loads(folder.analysis_json.read_text()),
        "segments": json.loads(folder.segments_json.read_text()),
        "prompts": prompts,
        "images": {p.name: p.read_bytes() for p in sorted(folder.images_dir.glob("*.png"))},
        "render_fingerprint": project.renders[-1].fingerprint,
        "frames": frame_md5s(render),
        "state": project.state,
    }


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return timed_song(tmp_path_factory.mktemp("song"), bars=12, first_s=4, lines=5)


@pytest.fixture(scope="module")
def reference(song: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """An uninterrupted run of the same inputs."""
    data = tmp_path_factory.mktemp("reference")
    wav, lrc = song
    project_id = cli(data, "new", str(wav), "--lyrics", str(lrc), "--provider", "local", "--style", "papercut").stdout.strip()
    cli(data, "run", project_id, "--quiet")
    return snapshot(ProjectFolder(project_id, root=data / "projects"))


@pytest.mark.parametrize("kill_point", ["analysis", "half_pictures", "encoding_ahead", "render", "joining"])
def test_sigkill_then_resume_equals_uninterrupted(kill_point: str, song: tuple[Path, Path], reference: dict, tmp_path: Path,
                                                  backend: str) -> None:
    data = tmp_path / "data"
    wav, lrc = song
    project_id = cli(data, "new", str(wav), "--lyrics", str(lrc), "--provider", "local", "--style", "papercut").stdout.strip()
    folder = ProjectFolder(project_id, root=data / "projects")

    proc = start_worker(data, project_id)
    if kill_point == "analysis":
        kill_when(proc, lambda: step(job(data, project_id), "analyze").get("status") == "running")
    elif kill_point == "half_pictures":
        def half() -> bool:
            s = step(job(data, project_id), "draw")
            return s.get("total", 0) > 2 and s.get("done", 0) >= s["total"] // 2
        kill_when(proc, half)
    elif kill_point == "encoding_ahead":  # among the pictures, while a chunk is encoded ahead into the render cache
        kill_when(proc, lambda: step(job(data, project_id), "draw").get("status") == "running"
                  and any(folder.render_cache_dir.glob(".chunk_*.tmp*")), poll_s=0.001)
    elif kill_point == "render":
        kill_when(proc, lambda: step(job(data, project_id), "render").get("status") == "running"
                  and step(job(data, project_id), "render").get("done", 0) > 0)
    else:  # while the segments are joined into the final file: its temp file is left behind
        kill_when(proc, lambda: any(folder.renders_dir.glob(".final_v*.tmp.mp4")), poll_s=0.001)
        assert any(folder.renders_dir.glob(".final_v*.tmp.mp4"))

    if backend == "s3":  # the resume runs elsewhere: from a fresh working copy, with only what the bucket holds
        from engine import sync

        assert not [k for k in sync.store().list(f"{project_id}/") if sync.local_only(k.split("/", 1)[1]) and  # type: ignore[union-attr]
                    not k.endswith("/.lease")], "a killed worker left a half-written file in the bucket"
        finished = stored_pictures(project_id)
        data = tmp_path / "other-machine"
        folder = ProjectFolder(project_id, root=data / "projects")
    else:
        finished = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.images_dir.glob("*.png")} if folder.images_dir.exists() else {}
    killed_state = ProjectFolder(project_id).load_project().state if backend == "s3" else folder.load_project().state
    if kill_point in ("half_pictures", "encoding_ahead"):
        assert killed_state == machine.PROMPTED and finished, "expected to be killed among the pictures"
    assert cli(data, "status", project_id).returncode == 0
    # what a kill in the middle of an atomic write leaves (the write layer's own temp name)
    folder.jobs_dir.mkdir(parents=True, exist_ok=True)
    (folder.jobs_dir / f".pipeline.json.{kill_point}.tmp").write_text('{"half": ')

    # one case goes through `resume --all`, which finds interrupted projects by their dead jobs
    out = cli(data, "resume", "--all", "--quiet") if kill_point == "analysis" else cli(data, "resume", project_id, "--quiet")
    assert f"{project_id}: RENDERED" in out.stdout

    if backend == "s3":
        from datetime import datetime

        now = stored_pictures(project_id)
        assert all(now[k] == when for k, when in finished.items()), "a finished picture was stored again"
        # fetched by the pull before the runner started, not drawn again by the draw step (same bytes, no new PUT)
        draw_started = datetime.fromisoformat(step(job(data, project_id), "draw")["started_at"]).timestamp()
        for key in finished:
            assert (data / "projects" / key).stat().st_mtime < draw_started, f"{key} was redrawn"
        assert not list(folder.path.rglob(TEMP_GLOB)), "temp files of the killed run left behind"
        folder = bucket_copy(tmp_path / "from-bucket", project_id)
    else:
        for name, ident in finished.items():  # no finished picture was redone
            p = folder.images_dir / name
            assert (p.stat().st_ino, p.stat().st_mtime_ns) == ident, f"{name} was redrawn"
    result = snapshot(folder)
    for key in ("analysis", "segments", "prompts", "images", "render_fingerprint", "state"):
        assert result[key] == reference[key], f"{key} differs from an uninterrupted run"
    assert result["frames"] == reference["frames"], "the video differs from an uninterrupted run"
    assert not list(folder.path.rglob(TEMP_GLOB)), "temp files of the killed run left behind"


def test_second_concurrent_run_is_busy(song: tuple[Path, Path], tmp_path: Path, backend: str) -> None:
    data = tmp_path / "data"
    wav, lrc = song
    project_id = cli(data, "new", str(wav), "--lyrics", str(lrc), "--provider", "local").stdout.strip()
    first = start_worker(data, project_id)
    deadline = time.monotonic() + 60
    while step(job(data, project_id), "analyze").get("status") != "running":
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.01)
    # on S3 the second run comes from another working copy (another machine): only the lease stops it
    second = cli(tmp_path / "other-machine" if backend == "s3" else data, "run", project_id, "--quiet", check=False)
    assert second.returncode == 3 and "busy" in second.stderr
    assert first.wait(timeout=600) == 0
    assert ProjectFolder(project_id).load_project().state == machine.RENDERED if backend == "s3" else \
        ProjectFolder(project_id, root=data / "projects").load_project().state == machine.RENDERED
