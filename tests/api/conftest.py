"""A real uvicorn server (``python -m api``) on a random free port with its own data root, plus test audio."""
from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
MAX_UPLOAD_MB = 1


@dataclass
class Server:
    """A running API server."""

    base_url: str
    data: Path
    proc: subprocess.Popen  # type: ignore[type-arg]
    token: str | None = None
    log_path: Path | None = None

    def client(self, **kwargs: object) -> httpx.Client:
        """An httpx client for this server (sends the token when there is one)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60.0, **kwargs)  # type: ignore[arg-type]


def free_port() -> int:
    """A port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data: Path, *, token: str | None = None, max_upload_mb: int = MAX_UPLOAD_MB,
                 env_extra: dict[str, str] | None = None, log_level: str = "warning") -> Server:
    """Start ``python -m api`` in a subprocess and wait until /health answers (``env_extra``: more settings;
    its output: ``Server.log_path``)."""
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYBEAT_") and k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    env.update(STORYBEAT_DATA=str(data), STORYBEAT_MAX_UPLOAD_MB=str(max_upload_mb), PYTHONPATH=str(REPO))
    if token:
        env["STORYBEAT_TOKEN"] = token
    env.update(env_extra or {})
    log = open(data.parent / f"server-{port}.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "api", "--port", str(port), "--log-level", log_level],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    server = Server(base_url=f"http://127.0.0.1:{port}", data=data, proc=proc, token=token, log_path=data.parent / f"server-{port}.log")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {(data.parent / f'server-{port}.log').read_text()[-2000:]}")
        try:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            if httpx.get(f"{server.base_url}/health", headers=headers, timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start in 30 s")


def stop_workers(data: Path) -> None:
    """SIGTERM any worker still running on this data root, then wait for it (tests leave nothing behind)."""
    pids = []
    for job_file in data.glob("projects/*/jobs/*.json"):
        try:
            pid = json.loads(job_file.read_text()).get("pid")
        except (OSError, ValueError):
            continue
        if pid and Path(f"/proc/{pid}").exists() and b"engine" in Path(f"/proc/{pid}/cmdline").read_bytes():
            pids.append(pid)
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 15
    for pid in pids:
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)


def stop_server(server: Server) -> None:
    """Stop the server and its workers."""
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
    stop_workers(server.data)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server without a token, uploads capped at 1 MB."""
    srv = start_server(tmp_path_factory.mktemp("api") / "data")
    yield srv
    stop_server(srv)


@pytest.fixture(params=["disk", "s3"])
def api_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for a test's own server on each storage backend: {} (local folder), or a fresh bucket on loopback S3."""
    if request.param == "disk":
        return {}
    from tests.conftest import bucket_env

    return bucket_env(request.getfixturevalue("s3_endpoint"))


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    """An httpx client of the module's server."""
    with server.client() as c:
        yield c


# --------------------------------------------------------------------------- audio


def wav_bytes(*, seconds: float = 6.0, sample_rate: int = 22050, bpm: float = 120.0) -> bytes:
    """A small mono 16-bit WAV: a chord pad with a kick on every beat (deterministic)."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    pad = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) / 6
    beat_s = 60.0 / bpm
    phase = np.mod(t, beat_s)
    kick = np.sin(2 * np.pi * 60 * phase) * np.exp(-phase * 25) * 0.8
    signal_ = np.clip(pad * (0.6 + 0.4 * (t / seconds)) + kick, -1, 1)
    pcm = (signal_ * 32000).astype("<i2").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm)
    return buf.getvalue()


LYRICS_LRC = "[00:00.50]Neon rain on the empty street\n[00:02.50]We drive into the light\n[00:04.50]Hold on to the night\n"


# --------------------------------------------------------------------------- disk state


def tree_hash(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (lock files excluded: they hold only the last holder's pid)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != ".lock":
            out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def wait_until_idle(client: httpx.Client, project_id: str, *, timeout_s: float = 240.0) -> dict:
    """Poll GET /projects/{id} until no worker runs; returns the project."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        project = client.get(f"/projects/{project_id}").json()
        statuses = {project["jobs"]["pipeline"]["status"], project["jobs"]["render"]["status"]}
        if not project["busy"] and not statuses & {"queued", "running"}:
            return project
        time.sleep(0.3)
    raise AssertionError(f"project {project_id} still busy after {timeout_s} s")


def uploaded_project(client: httpx.Client, name: str, *, seconds: float, settings: dict | None = None) -> str:
    """Create a project and upload a synthetic track of ``seconds``; its id."""
    created = client.post("/projects", json={"name": name, **({"settings": settings} if settings else {})})
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    up = client.post(f"/projects/{pid}/upload", files={"audio": ("a.wav", wav_bytes(seconds=seconds), "audio/wav")})
    assert up.status_code == 200, up.text
    return pid
