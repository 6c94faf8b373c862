"""Workers across machines, end to end: a real Dask scheduler and 2 worker processes on loopback, the loopback bucket.

Each worker has its own scratch folder (TMPDIR), as a worker on another machine
would; the runner is the CLI in its own process. A cluster run must give the
same pictures and the same video as a run on one machine, also when a worker
is SIGKILLed in the middle of the render, and a Stop must stop it.
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

from engine.storage import ProjectFolder
from tests.conftest import use_bucket
from tests.engine.test_crash_resume import bucket_copy, cli, frame_md5s, job, step
from tests.engine.templates import timed_song

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


class DaskCluster:
    """A scheduler and its worker processes, started here on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.file = root / "scheduler.json"
        self.workers: list[subprocess.Popen[bytes]] = []
        env = {**os.environ, **CREDS, "PYTHONPATH": str(REPO)}
        self.scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                           "--port", "0", "--no-dashboard", "--scheduler-file", str(self.file)],
                                          env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def add_worker(self) -> Path:
        """Start one more worker (1 thread, no nanny: a SIGKILL is a lost worker); its scratch folder."""
        scratch = self.root / f"worker{len(self.workers)}"
        scratch.mkdir()
        env = {**os.environ, **CREDS, "PYTHONPATH": str(REPO), "TMPDIR": str(scratch)}
        env.pop("STORYBEAT_STORAGE", None)  # a unit names its bucket; only the credentials are the worker's own
        self.workers.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(self.file), "--nthreads", "1",
             "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{len(self.workers)}"],
            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return scratch

    def wait_for(self, n: int) -> None:
        """Until ``n`` workers are connected."""
        from distributed import Client

        deadline = time.monotonic() + 120
        while not self.file.exists():
            assert time.monotonic() < deadline and self.scheduler.poll() is None, "the scheduler did not start"
            time.sleep(0.1)
        with Client(scheduler_file=str(self.file), timeout=60) as client:
            client.wait_for_workers(n, timeout=120)

    def stop(self) -> None:
        """Stop everything started here."""
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    cluster = DaskCluster(tmp_path_factory.mktemp("dask"))
    try:
        cluster.add_worker()
        cluster.add_worker()
        cluster.wait_for(2)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return timed_song(tmp_path_factory.mktemp("song"), bars=8, first_s=2, lines=4)


def _new(data: Path, song: tuple[Path, Path]) -> str:
    wav, lrc = song
    return cli(data, "new", str(wav), "--lyrics", str(lrc), "--provider", "local", "--style", "papercut").stdout.strip()


def _result(tmp: Path, project_id: str) -> dict[str, object]:
    """The pictures and the video as the bucket holds them."""
    folder = bucket_copy(tmp, project_id)
    project = folder.load_project()
    video = folder.resolve(project.renders[-1].file)
    return {"images": {p.name: p.read_bytes() for p in sorted(folder.images_dir.glob("*.png"))},
            "frames": frame_md5s(video), "mp4": video.read_bytes(), "render_fingerprint": project.renders[-1].fingerprint}


@pytest.fixture(scope="module")
def reference(song: tuple[Path, Path], s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A run on one machine (no cluster) of the same inputs, on a bucket."""
    mp = pytest.MonkeyPatch()
    try:
        use_bucket(mp, s3_endpoint)
        mp.delenv("STORYBEAT_CLUSTER", raising=False)
        data = tmp_path_factory.mktemp("one-machine")
        project_id = _new(data, song)
        cli(data, "run", project_id, "--quiet", "--preview")
        return _result(tmp_path_factory.mktemp("one-machine-copy"), project_id)
    finally:
        mp.undo()
        from engine import store, sync
        from engine.config import get_settings

        get_settings.cache_clear()
        store._store.cache_clear()
        sync.reset()


@pytest.fixture
def on_cluster(dask_cluster: DaskCluster, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> DaskCluster:
    """The engine (and the CLI processes it starts) on a fresh bucket and the cluster."""
    use_bucket(monkeypatch, s3_endpoint)
    monkeypatch.setenv("STORYBEAT_CLUSTER", str(dask_cluster.file))
    yield dask_cluster
    from engine import store, sync
    from engine.config import get_settings

    monkeypatch.delenv("STORYBEAT_CLUSTER")
    monkeypatch.delenv("STORYBEAT_STORAGE")
    get_settings.cache_clear()
    store._store.cache_clear()
    sync.reset()


def _scratch_files(cluster: DaskCluster, pattern: str) -> list[Path]:
    return [p for w in range(len(cluster.workers)) for p in (cluster.root / f"worker{w}").rglob(pattern)]


def test_a_cluster_run_gives_the_same_pictures_and_video(on_cluster: DaskCluster, song: tuple[Path, Path],
                                                         reference: dict, tmp_path: Path) -> None:
    data = tmp_path / "data"
    project_id = _new(data, song)
    log = cli(data, "-v", "run", project_id, "--quiet", "--preview").stderr
    assert "picture(s) on the cluster" in log and "chunk(s) on the cluster" in log, log
    result = _result(tmp_path / "copy", project_id)
    assert result["images"] == reference["images"], "a picture painted on a worker differs"
    assert result["render_fingerprint"] == reference["render_fingerprint"]
    assert result["frames"] == reference["frames"], "the video encoded on the workers differs"
    assert result["mp4"] == reference["mp4"], "the MP4 differs byte for byte"
    assert _scratch_files(on_cluster, "still_*.yuv"), "no worker made a still: the chunks were not encoded there"
    # the runner recorded the pictures and chunks the workers uploaded: nothing left to publish or fetch
    folder = ProjectFolder(project_id, root=data / "projects")
    chunks = sorted(p.name for p in folder.render_cache_dir.glob("chunk_*.mp4"))
    assert chunks and chunks == sorted(k.rsplit("/", 1)[1] for k in _keys(project_id, "renders/cache/chunk_"))


def _keys(project_id: str, prefix: str) -> list[str]:
    from engine import sync

    return list(sync.store().list(f"{project_id}/{prefix}"))  # type: ignore[union-attr]


def _start_run(data: Path, project_id: str) -> subprocess.Popen[str]:
    env = {**os.environ, "STORYBEAT_DATA": str(data), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "engine", "run", project_id, "--quiet", "--preview"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_until(proc: subprocess.Popen[str], predicate, timeout_s: float = 240) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended first: {proc.stderr.read() if proc.stderr else ''}")
        assert time.monotonic() < deadline, "never reached"
        time.sleep(0.01)


def _rendering(data: Path, project_id: str) -> bool:
    return step(job(data, project_id), "render").get("status") == "running"


def test_stop_during_a_cluster_render(on_cluster: DaskCluster, song: tuple[Path, Path], tmp_path: Path) -> None:
    data = tmp_path / "data"
    project_id = _new(data, song)
    proc = _start_run(data, project_id)
    _wait_until(proc, lambda: _rendering(data, project_id))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 130, proc.stderr.read() if proc.stderr else ""
    pipeline = json.loads((data / "projects" / project_id / "jobs" / "pipeline.json").read_text())
    assert pipeline["status"] == "cancelled"
    assert not _keys(project_id, "renders/final"), "a stopped render published a video"
    assert not [k for k in _keys(project_id, "") if "/." in k and not k.endswith("/.lease")], "a temp file reached the bucket"


def test_a_worker_killed_mid_render_changes_nothing(on_cluster: DaskCluster, song: tuple[Path, Path], reference: dict,
                                                    tmp_path: Path) -> None:
    data = tmp_path / "data"
    project_id = _new(data, song)
    proc = _start_run(data, project_id)
    victim = on_cluster.workers[0]
    # in the middle of an encode: the victim's chunk file in progress is in its scratch folder
    _wait_until(proc, lambda: any((on_cluster.root / "worker0").rglob("*chunk_*")), timeout_s=240)
    victim.send_signal(signal.SIGKILL)  # its running chunk is lost; the scheduler gives it to the other worker
    victim.wait()
    try:
        assert proc.wait(timeout=240) == 0, proc.stderr.read() if proc.stderr else ""
        result = _result(tmp_path / "copy", project_id)
        assert result["frames"] == reference["frames"], "the video differs after a worker was lost"
        assert result["mp4"] == reference["mp4"]
    finally:
        on_cluster.add_worker()  # the cluster has 2 workers again for whatever runs next
