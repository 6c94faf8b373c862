"""A project folder run once to some state, for module-scoped fixtures that copy it per test."""
from __future__ import annotations

import os
from pathlib import Path

from engine import project as actions
from engine.audio.sample import make_song
from engine.config import get_settings
from engine.models import ProjectSettings
from engine.runner import Runner


def project_template(root: Path, *, project_id: str, lyrics: str, bars: int, seed: int, target: str,
                     max_scene_ms: int = 4000) -> Path:
    """A synthetic 120 BPM song with ``lyrics`` (noir, 2-4 s scenes unless ``max_scene_ms``) run to ``target``
    under ``root/data``.

    STORYBEAT_DATA points at ``root/data`` only while the template is made; returns the project's folder.
    """
    old = os.environ.get("STORYBEAT_DATA")
    os.environ["STORYBEAT_DATA"] = str(root / "data")
    get_settings.cache_clear()
    try:
        wav = root / "song.wav"
        make_song(wav, bpm=120, bars=bars, sections=None, seed=seed)
        settings = ProjectSettings(style="noir", min_scene_ms=2000, max_scene_ms=max_scene_ms)
        project = actions.create_project(settings=settings, project_id=project_id)
        actions.upload_track(project.id, audio=wav, original_name="song.wav", lyrics_text=lyrics)
        Runner(project.id, target=target).run()
        return root / "data" / "projects" / project.id
    finally:
        if old is None:
            os.environ.pop("STORYBEAT_DATA", None)
        else:
            os.environ["STORYBEAT_DATA"] = old
        get_settings.cache_clear()


def short_project(tmp_path: Path, *, bars: int, lyrics: str, target: str, max_scene_ms: int) -> str:
    """A synthetic 120 BPM song of ``bars`` with ``lyrics`` as a local project (2 s scenes at least) run to
    ``target`` on the current data root; returns its id."""
    wav = tmp_path / "song.wav"
    make_song(wav, bpm=120, bars=bars, sections=None, seed=5)
    project = actions.create_project(settings=ProjectSettings(min_scene_ms=2000, max_scene_ms=max_scene_ms))
    actions.upload_track(project.id, audio=wav, original_name="song.wav", lyrics_text=lyrics)
    Runner(project.id, target=target).run()
    return project.id


def timed_song(root: Path, *, bars: int, first_s: int, lines: int) -> tuple[Path, Path]:
    """A synthetic 112 BPM song of ``bars`` and an LRC of ``lines`` lines, one every 4 s from ``first_s``."""
    wav = root / "song.wav"
    make_song(wav, bpm=112, bars=bars, sections=None, seed=11)
    lrc = root / "song.lrc"
    lrc.write_text("\n".join(f"[00:{first_s + i * 4:02d}.00]line number {i} under the city lights" for i in range(lines)) + "\n")
    return wav, lrc
