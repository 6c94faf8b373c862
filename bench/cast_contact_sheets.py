"""Contact sheets of a 3-minute video's pictures with its cast, for both providers -> docs/img/cast_*.jpg.

Runs the real pipeline to IMAGED on a 3-minute synthetic song (``engine.audio.sample``) in a temporary data
folder: once with the local provider (noir and synthwave), once with the Gemini provider through the real
google-genai SDK against the loopback fake (``tests/fakes/gemini_server.py``). The fake draws flat coloured
cards, so its sheet only shows the wiring: a reference drawn once, and every picture asked for with it
(the fake pastes the first input image it received into the corner of its picture).

Run: ``.venv/bin/python bench/cast_contact_sheets.py``
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _save(sheet: Path, name: str) -> Path:
    from PIL import Image

    out = REPO / "docs" / "img" / f"{name}.jpg"
    img = Image.open(sheet).convert("RGB")
    img.thumbnail((1600, 6000))
    img.save(out, quality=82, optimize=True)
    return out


def main() -> int:
    """Write the sheets and print their paths."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STORYBEAT_DATA"] = str(Path(tmp) / "data")
        for key in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
            os.environ.pop(key, None)
        sys.path.insert(0, str(REPO))
        from engine import machine
        from engine.audio.sample import make_song
        from engine.config import get_settings
        from engine.models import ProjectSettings
        from engine.project import create_project, upload_track
        from engine.review import write_contact_sheet
        from engine.runner import Runner

        get_settings.cache_clear()
        wav = Path(tmp) / "song.wav"
        make_song(wav, bpm=128, bars=96, seed=11)
        for style in ("noir", "synthwave"):
            project = create_project(settings=ProjectSettings(style=style), name=f"3-minute song, local, {style}")
            upload_track(project.id, audio=wav, original_name=wav.name)
            Runner(project.id, target=machine.IMAGED).run()
            print(_save(write_contact_sheet(project.id, Path(tmp) / f"{style}.png"), f"cast_local_{style}").relative_to(REPO))
        from tests.fakes import DEFAULT_API_KEY, FakeGemini

        with FakeGemini(processing_polls=1) as fake:
            os.environ.update(GEMINI_API_KEY=DEFAULT_API_KEY, STORYBEAT_GEMINI_BASE_URL=fake.base_url)
            get_settings.cache_clear()
            project = create_project(settings=ProjectSettings(provider="gemini", style="noir"),
                                     name="3-minute song, gemini (fake server: the wiring only)")
            upload_track(project.id, audio=wav, original_name=wav.name)
            Runner(project.id, target=machine.IMAGED).run()
            calls = [c for c in fake.calls_to("generateContent") if c.model and "image" in c.model]
            print(f"gemini image calls: {len(calls)}, input images per call: {[len(c.input_images()) for c in calls]}")
            print(_save(write_contact_sheet(project.id, Path(tmp) / "gemini.png"), "cast_gemini_fake").relative_to(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
