"""Encoding ahead: render chunks encoded while the pictures are drawn are reused, and change no byte of the video."""
from __future__ import annotations

import logging
import re
import shutil
import time
from pathlib import Path

import pytest

from engine import machine
from engine.config import get_settings
from engine.providers.base import Provider
from engine.providers.local import local_provider
from engine.runner import Runner
from engine.storage import ProjectFolder
from tests.engine.templates import project_template

LRC = "[00:00.50]Night city lights\n[00:03.00]Running down the road\n[00:05.50]Hearts on fire\n"
PID = "ahead-project"


class WaitingIllustrator:
    """The real local illustrator; before the last scene's picture it waits until a chunk was encoded ahead.

    A sync point, not a timing: it makes "some chunks were encoded ahead" certain on any machine.
    """

    def __init__(self, cache_dir: Path, last_scene: str) -> None:
        self.inner = local_provider().illustrator
        self.name, self.version = self.inner.name, self.inner.version
        self.cache_dir, self.last_scene = cache_dir, last_scene

    def model_for(self, s):  # type: ignore[no-untyped-def]
        return self.inner.model_for(s)

    def draw_reference(self, **kw):  # type: ignore[no-untyped-def]
        return self.inner.draw_reference(**kw)

    def draw(self, **kw):  # type: ignore[no-untyped-def]
        if kw["scene"].id == self.last_scene:
            deadline = time.monotonic() + 300
            while not any(self.cache_dir.glob("chunk_*.mp4")) and time.monotonic() < deadline:
                time.sleep(0.05)
        return self.inner.draw(**kw)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project analysed, storyboarded and prompted once (copied per run)."""
    return project_template(tmp_path_factory.mktemp("tpl"), project_id=PID, lyrics=LRC, bars=8, seed=5,
                            target=machine.PROMPTED)


def copy_to(template: Path, root: Path, monkeypatch: pytest.MonkeyPatch, *, ahead: bool) -> ProjectFolder:
    """The template as the only project of a fresh data root, with encoding ahead on or off."""
    monkeypatch.setenv("STORYBEAT_DATA", str(root))
    monkeypatch.setenv("STORYBEAT_ENCODE_AHEAD", "on" if ahead else "off")
    get_settings.cache_clear()
    shutil.copytree(template, root / "projects" / PID)
    return ProjectFolder(PID)


def rendered(caplog: pytest.LogCaptureFixture) -> tuple[int, int]:
    """(chunks reused, chunks encoded) of the render step's last log line."""
    found = [re.search(r"\((\d+) chunks reused, (\d+) encoded\)", r.getMessage()) for r in caplog.records]
    last = [m for m in found if m][-1]
    return int(last[1]), int(last[2])


def test_chunks_encoded_ahead_are_reused_and_the_mp4_is_byte_identical(
        template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="engine")
    folder = copy_to(template, tmp_path / "ahead", monkeypatch, ahead=True)
    scenes = folder.load_segments().scenes  # type: ignore[union-attr]
    assert len(scenes) >= 3
    base = local_provider()
    waiting = Provider(name="local", analyst=base.analyst, storyboarder=base.storyboarder, writer=base.writer,
                       illustrator=WaitingIllustrator(folder.render_cache_dir, scenes[-1].id))  # type: ignore[arg-type]
    Runner(PID, provider=waiting).run()
    reused, encoded = rendered(caplog)
    assert reused >= 1, "no chunk encoded while drawing was reused by the render"
    with_ahead = folder.resolve(folder.load_project().renders[-1].file).read_bytes()

    caplog.clear()
    plain = copy_to(template, tmp_path / "plain", monkeypatch, ahead=False)
    Runner(PID).run()
    assert rendered(caplog) == (0, reused + encoded)
    assert plain.resolve(plain.load_project().renders[-1].file).read_bytes() == with_ahead


def test_no_chunk_is_encoded_ahead_when_the_run_stops_at_the_pictures(
        template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_to(template, tmp_path / "data", monkeypatch, ahead=True)
    Runner(PID, target=machine.IMAGED).run()
    assert folder.load_project().state == machine.IMAGED
    assert not list(folder.render_cache_dir.glob("*")) if folder.render_cache_dir.exists() else True


def test_auto_encodes_ahead_beside_a_remote_illustrator_only(
        template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.steps.common import StepContext
    from engine.steps.encode_ahead import EncodeAhead, NoEncodeAhead, encode_ahead

    folder = copy_to(template, tmp_path / "data", monkeypatch, ahead=True)
    monkeypatch.setenv("STORYBEAT_ENCODE_AHEAD", "auto")
    get_settings.cache_clear()
    base = local_provider()
    remote = Provider(name="gemini", analyst=base.analyst, storyboarder=base.storyboarder, writer=base.writer,
                      illustrator=WaitingIllustrator(folder.render_cache_dir, ""))  # type: ignore[arg-type]
    remote.illustrator.name = "gemini"  # type: ignore[misc]

    def ctx(provider: Provider, renders_next: bool = True) -> StepContext:
        return StepContext(folder=folder, project=folder.load_project(), provider=provider, renders_next=renders_next)

    assert isinstance(encode_ahead(ctx(base)), NoEncodeAhead)
    with encode_ahead(ctx(remote)) as ahead:
        assert isinstance(ahead, EncodeAhead) and ahead.pool._max_workers == get_settings().render_workers
    assert isinstance(encode_ahead(ctx(remote, renders_next=False)), NoEncodeAhead)
    monkeypatch.setenv("STORYBEAT_ENCODE_AHEAD", "on")
    get_settings.cache_clear()
    with encode_ahead(ctx(base)) as ahead:
        assert isinstance(ahead, EncodeAhead) and ahead.pool._max_workers == 1
