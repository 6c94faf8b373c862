"""Set-up shared by the whole-run Gemini tests: a short song, the engine pointed at a fake Gemini, a project."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import machine
from engine.config import get_settings
from engine.models import ProjectSettings
from tests.fakes import DEFAULT_API_KEY, FakeGemini

LRC = "[00:01.00]neon rain on the river\n[00:04.50]we drive into the night\n"


def make_short_song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8 s synthetic song (120 BPM, 4 bars)."""
    from engine.audio.sample import make_song

    wav = tmp_path_factory.mktemp("song") / "song.wav"
    make_song(wav, bpm=120, bars=4, sections=None, seed=3)
    return wav


def serve_fake_gemini(monkeypatch: pytest.MonkeyPatch, *, env: dict[str, str] | None = None,
                      **fake_options: object) -> Iterator[FakeGemini]:
    """A fake Gemini the engine is pointed at, with fast backoff (and ``env`` on top)."""
    with FakeGemini(processing_polls=0, **fake_options) as server:  # type: ignore[arg-type]
        monkeypatch.setenv("GEMINI_API_KEY", DEFAULT_API_KEY)
        monkeypatch.setenv("STORYBEAT_GEMINI_BASE_URL", server.base_url)
        monkeypatch.setenv("STORYBEAT_RETRY_BASE_S", "0.01")
        monkeypatch.setenv("STORYBEAT_RETRY_MAX_S", "0.05")
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield server


def new_project(song: Path, **settings: object) -> str:
    """A Gemini project with short scenes and the song uploaded with LRC lyrics."""
    from engine.project import create_project, upload_track

    project = create_project(settings=ProjectSettings(provider="gemini", min_scene_ms=2000, max_scene_ms=4000,
                                                      **settings))  # type: ignore[arg-type]
    # LRC lyrics: the transcript is not used, so the offline voice aligner (slow to load) does not run
    upload_track(project.id, audio=song, original_name=song.name, lyrics_text=LRC)
    return project.id


def run(project_id: str, target: str = machine.SEGMENTED):  # type: ignore[no-untyped-def]
    """Run the project's machine up to ``target`` in this process."""
    from engine.runner import Runner

    return Runner(project_id, target=target).run()
