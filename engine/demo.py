"""The offline demo: a synthesised sample song with lyrics, turned into a video by the local provider."""
from __future__ import annotations

import logging

from engine import machine
from engine.audio.sample import make_demo_song
from engine.config import get_settings
from engine.models import ProjectSettings
from engine.project import create_project, update_settings, upload_track
from engine.storage import ProjectFolder

log = logging.getLogger(__name__)

DEMO_ID = "demo-song"


def prepare_demo(*, style: str = "synthwave", project_id: str = DEMO_ID) -> str:
    """Create (or reuse) the demo project with the bundled sample song; returns its id.

    Re-running reuses the project: finished steps are skipped by fingerprint,
    so a second ``make demo`` only prints the path again.
    """
    folder = ProjectFolder(project_id)
    if folder.exists():
        project = folder.load_project()
        if project.state != machine.CREATED:
            if project.settings.style != style and project.state != machine.FAILED:
                update_settings(project_id, {"style": style})
            return project_id
    else:
        create_project(settings=ProjectSettings(style=style, provider="local"), name="storybeat demo", project_id=project_id)
    assets = get_settings().data / "demo"
    assets.mkdir(parents=True, exist_ok=True)
    wav, lrc = make_demo_song(assets)
    upload_track(project_id, audio=wav, original_name=wav.name, lyrics_text=lrc.read_text(encoding="utf-8"))
    return project_id
