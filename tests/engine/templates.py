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
