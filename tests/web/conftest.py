"""Browser-test fixtures: a real ``python -m api`` server, Debian's chromium driven by Playwright, a short song."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ARTIFACTS, REPO, require_tool

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SHOTS = ARTIFACTS / "web"
DOCS_IMG = REPO / "docs" / "img"


@dataclass
class UiServer:
    """A running API + UI server with its own data root."""

    base_url: str
    data: Path
    proc: subprocess.Popen  # type: ignore[type-arg]
    token: str | None = None

    def client(self) -> httpx.Client:
        """An httpx client for set-up steps the test does not drive through the page (sends the token if any)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.base_url, timeout=60.0, headers=headers)

    @property
    def log_path(self) -> Path:
        """The server's stdout and stderr."""
        return self.data.parent / "server.log"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """``python -m api`` on a free port, local provider, fresh data root; stopped after the module."""
    with running_ui_server(tmp_path_factory.mktemp("web")) as server:
        yield server


@contextmanager
def running_ui_server(root: Path, *, token: str | None = None, log_level: str = "warning",
                      env_extra: dict[str, str] | None = None) -> Iterator[UiServer]:
    """``python -m api`` on a free port with its data under ``root`` (and ``STORYBEAT_TOKEN`` when given;
    ``env_extra``: more settings, e.g. a bucket as the storage)."""
    data = root / "data"
    data.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYBEAT_") and k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    env.update(STORYBEAT_DATA=str(data), PYTHONPATH=str(REPO))
    if token:
        env["STORYBEAT_TOKEN"] = token
    env.update(env_extra or {})
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "api", "--port", str(port), "--log-level", log_level],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1, headers=headers).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail(f"API server did not start:\n{(root / 'server.log').read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    try:
        yield UiServer(base_url=base, data=data, proc=proc, token=token)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian chromium (never a downloaded browser)."""
    require_tool(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh desktop-size page; console errors and page errors are collected in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1)  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda exc: pg.errors.append(f"pageerror: {exc}"))
    pg.on("console", lambda msg: pg.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    pg.set_default_timeout(20_000)
    yield pg
    SHOTS.mkdir(parents=True, exist_ok=True)
    failed_shot = SHOTS / f"FAILED_{request.node.name}.png"
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        pg.screenshot(path=str(failed_shot), full_page=True)
        sys.stderr.write("browser console errors:\n" + ("\n".join(pg.errors) or "(none)") + "\n")  # type: ignore[attr-defined]
    else:
        failed_shot.unlink(missing_ok=True)
    context.close()


def server_logs(server: UiServer, *, tail: int = 4000) -> str:
    """The ends of the server's log, and of every project's worker log and job files (shown when a test fails)."""
    parts = []
    for path in [server.data.parent / "server.log", *sorted(server.data.glob("projects/*/jobs/*"))]:
        if path.is_file() and path.suffix in (".log", ".json"):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.relative_to(server.data.parent)} (last {tail} chars)\n{text[-tail:]}")
    return "\n".join(parts) + "\n"


@pytest.fixture(autouse=True)
def _server_logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a failed browser test, print what the server and its workers logged (CI shows only the output)."""
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed and "ui_server" in request.fixturenames:
        sys.stderr.write(server_logs(request.getfixturevalue("ui_server")))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:  # type: ignore[type-arg]
    """Remember each phase's outcome on the item, so the page fixture can screenshot failures."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A short synthetic song (140 BPM, 8 bars, about 14 s) and a timed LRC for it."""
    from engine.audio.sample import make_song

    folder = tmp_path_factory.mktemp("song")
    wav = folder / "neon_nights.wav"
    make_song(wav, bpm=140, bars=8, sections=[("verse", 4), ("chorus", 4)], seed=3)
    lrc = (
        "[00:01.00]Streetlights hum a song in blue\n"
        "[00:04.50]We are running with the night\n"
        "[00:08.00]Hold on tight, the city's ours\n"
        "[00:11.00]Hearts like neon burning bright\n"
    )
    return wav, lrc


@pytest.fixture
def phone(browser: object) -> Iterator[object]:
    """A page in a phone-sized touch context (390 x 844, 2x), collecting page errors like ``page``."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True)  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def api_get(server: UiServer, path: str) -> dict:
    """GET ``path`` from the test server's API: the JSON of a 200 (anything else fails the test)."""
    with server.client() as http:
        res = http.get(path)
        assert res.status_code == 200, res.text
        return res.json()


def shoot(page: object, name: str, *, full_page: bool = True, docs: bool = False) -> Path:
    """Save a screenshot to test-artifacts/web/ (and to docs/img/ when STORYBEAT_UPDATE_DOCS=1 and ``docs``)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    if docs and os.environ.get("STORYBEAT_UPDATE_DOCS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        (DOCS_IMG / f"{name}.png").write_bytes(path.read_bytes())
    return path


@contextmanager
def engine_folder(server: UiServer, project_id: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The engine's ProjectFolder of a project on the server's data root (to set up states a run would leave)."""
    from engine.config import get_settings
    from engine.storage import ProjectFolder

    monkeypatch.setenv("STORYBEAT_DATA", str(server.data))
    get_settings.cache_clear()
    try:
        yield ProjectFolder(project_id)
    finally:
        get_settings.cache_clear()
