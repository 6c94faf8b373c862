"""The cast through the Gemini provider: the real google-genai SDK against the fake Gemini server.

Every picture call carries the reference pictures of the members its scene shows as input images (the fake
receives their bytes), the reference is drawn once, and a cast edit redraws the reference and exactly the
pictures that used it. With the continuity setting, each picture also gets the previous scene's picture.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from engine import machine
from engine import project as actions
from engine.cast import cast_version
from engine.models import CastMemberFields, ProjectSettings
from engine.runner import Runner
from engine.storage import ProjectFolder
from tests.engine.test_gemini_e2e import gemini_env
from tests.fakes import FakeGemini
from tests.fakes.gemini_server import request_text

IMAGE_MODEL = "gemini-2.5-flash-image"


def image_calls(fake: FakeGemini) -> list:
    return [c for c in fake.calls_to("generateContent") if c.model == IMAGE_MODEL]


def is_reference(call) -> bool:  # type: ignore[no-untyped-def]
    return request_text(call.body).startswith("Character reference sheet")


@pytest.fixture
def song(tmp_path: Path) -> Path:
    from engine.audio.sample import make_song

    wav = tmp_path / "song.wav"
    make_song(wav, bpm=120, bars=4, sections=None, seed=5)
    return wav


def test_every_picture_gets_the_cast_reference_and_an_edit_redraws_them(
        song: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGemini(processing_polls=1) as fake:
        gemini_env(monkeypatch, fake.base_url)
        project = actions.create_project(settings=ProjectSettings(provider="gemini", min_scene_ms=1500, max_scene_ms=4000))
        actions.upload_track(project.id, audio=song, original_name=song.name)
        Runner(project.id, target=machine.IMAGED).run()
        folder = ProjectFolder(project.id)
        cast, prompts = folder.load_cast(), folder.load_prompts()
        assert cast is not None and prompts is not None
        ref = cast.members[0].reference
        assert ref is not None and ref.provider == "gemini"
        ref_bytes = folder.resolve(ref.file).read_bytes()
        calls = image_calls(fake)
        refs = [c for c in calls if is_reference(c)]
        pictures = [c for c in calls if not is_reference(c)]
        assert len(refs) == 1 and refs[0].input_images() == []  # drawn once, from the text alone
        assert len(pictures) == len(prompts.scenes)
        for call in pictures:  # the fake received the reference's bytes with every picture, and the text says what it is
            assert call.input_images() == [ref_bytes]
            assert "Input image 1 is " + cast.members[0].name in request_text(call.body)

        fake.reset()
        lead = CastMemberFields.model_validate(cast.members[0].model_dump(exclude={"reference"}))
        actions.edit_cast(project.id, [lead.model_copy(update={"clothing": "a yellow raincoat"})], if_match=cast_version(cast))
        Runner(project.id, target=machine.IMAGED).run()
        new_ref = folder.load_cast().members[0].reference  # type: ignore[union-attr]
        assert new_ref is not None and new_ref.file != ref.file
        new_bytes = folder.resolve(new_ref.file).read_bytes()
        calls = image_calls(fake)
        assert sum(is_reference(c) for c in calls) == 1
        redrawn = [c for c in calls if not is_reference(c)]
        assert len(redrawn) == len(prompts.scenes)  # the lead is in every scene: every picture used it
        assert all(c.input_images() == [new_bytes] for c in redrawn)

        fake.reset()
        Runner(project.id, target=machine.IMAGED).run()  # nothing changed: not one paid call
        assert image_calls(fake) == []


def test_continuity_sends_the_previous_picture_after_the_references(
        song: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGemini(processing_polls=1) as fake:
        gemini_env(monkeypatch, fake.base_url)
        project = actions.create_project(settings=ProjectSettings(provider="gemini", min_scene_ms=1500, max_scene_ms=4000,
                                                                  continuity=True))
        actions.upload_track(project.id, audio=song, original_name=song.name)
        Runner(project.id, target=machine.IMAGED).run()
        folder = ProjectFolder(project.id)
        prompts = folder.load_prompts()
        assert prompts is not None
        pictures = [c for c in image_calls(fake) if not is_reference(c)]
        files = [folder.resolve(sp.latest.image.file).read_bytes() for sp in prompts.scenes]  # type: ignore[union-attr]
        assert len(pictures[0].input_images()) == 1  # the first scene has no previous picture
        for k, call in enumerate(pictures[1:], start=1):
            images = call.input_images()
            assert len(images) == 2 and images[1] == files[k - 1]
