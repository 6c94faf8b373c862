"""Lyrics edited by hand: the edit_lyrics trigger, validation, nothing written by a refused edit, and a new
storyboard that keeps the prompts and pictures of the scenes the edit did not touch."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from engine import machine
from engine import project as actions
from engine.audio.lyrics import parse_lrc, to_lrc
from engine.errors import InputError, StaleError, StateError
from engine.models import LyricLine
from engine.runner import Runner
from engine.storage import ProjectFolder
from tests.engine.test_runner import FlakyIllustrator, provider_with
from tests.engine.templates import project_template

LRC = ("[00:00.50]Night city lights\n[00:04.00]Running down the road\n[00:08.00]Hearts on fire\n"
       "[00:12.00]Stars above the sea\n[00:16.00]Into the dawn\n")


@pytest.fixture(scope="module")
def imaged_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 24 s project drawn to IMAGED once (copied per test)."""
    return project_template(tmp_path_factory.mktemp("lyr"), project_id="lyr-project", lyrics=LRC, bars=12, seed=7,
                            target=machine.IMAGED)


@pytest.fixture
def project_id(imaged_template: Path, data_root: Path) -> str:
    shutil.copytree(imaged_template, data_root / "projects" / "lyr-project")
    return "lyr-project"


def _tree(folder: ProjectFolder) -> dict[str, str]:
    return {str(p.relative_to(folder.path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.path.rglob("*")) if p.is_file() and p.name != ".lock" and "jobs" not in p.parts}


def _lines(folder: ProjectFolder) -> list[LyricLine]:
    return [line.model_copy() for line in folder.load_analysis().lyrics]


def _pictures(folder: ProjectFolder) -> dict[str, tuple[tuple, int, str]]:
    """scene id -> (content, current version, sha256 of its picture file)."""
    prompts = {sp.id: sp for sp in folder.load_prompts().scenes}
    out = {}
    for scene in folder.load_segments().scenes:
        latest = prompts[scene.id].latest
        data = folder.resolve(latest.image.file).read_bytes()
        out[scene.id] = ((scene.start_ms, scene.end_ms, scene.lyric_text), latest.version, hashlib.sha256(data).hexdigest())
    return out


def test_a_moved_line_redraws_only_the_scenes_it_touches(project_id: str) -> None:
    folder = ProjectFolder(project_id)
    before = _pictures(folder)
    lines = _lines(folder)
    assert [line.timing for line in lines] == ["given"] * 5
    lines[2] = lines[2].model_copy(update={"start_ms": 9000, "end_ms": 11500})  # "Hearts on fire" a second later
    project = actions.edit_lyrics(project_id, lines)
    assert project.state == machine.ANALYZED and project.history[-1].trigger == "edit_lyrics"
    edited = folder.load_analysis()
    assert edited.lyrics[2].start_ms == 9000 and edited.lyrics[2].timing == "given" and edited.lyrics[2].source == "edit"
    assert edited.lyrics[0].source == "lrc", "an untouched line keeps how its times were found"

    ill = FlakyIllustrator(0)
    assert Runner(project_id, target=machine.IMAGED, provider=provider_with(ill)).run().state == machine.IMAGED
    after = _pictures(folder)
    kept = [sid for sid, (content, version, sha) in after.items() if sid in before and before[sid][0] == content]
    changed = [sid for sid in after if sid not in kept]
    assert kept and changed, (before, after)
    for sid in kept:
        assert after[sid] == before[sid], f"{sid} did not change: same version, same picture"
    assert sorted(ill.calls) == sorted(changed), "only the changed scenes are drawn"
    for sid in changed:
        if sid in before:  # the same part of the song: a new version, the old picture stays restorable
            assert after[sid][1] == before[sid][1] + 1
            assert folder.image_path(sid, before[sid][1]).is_file()
    segments = folder.load_segments()
    assert any("Hearts on fire" in s.lyric_text and s.start_ms <= 9000 < s.end_ms for s in segments.scenes)
    assert [s.index for s in segments.scenes] == list(range(len(segments.scenes)))
    assert len({s.id for s in segments.scenes}) == len(segments.scenes)


def test_refused_lyrics_edits_change_nothing_on_disk(project_id: str) -> None:
    folder = ProjectFolder(project_id)
    lines = _lines(folder)
    duration = folder.load_analysis().duration_ms
    snapshot = _tree(folder)
    bad_cases = [
        ([lines[0].model_copy(update={"text": "  "}), *lines[1:]], "line 1 has no text"),
        ([lines[0], lines[1].model_copy(update={"start_ms": 100}), *lines[2:]], "line 2"),
        ([*lines[:-1], lines[-1].model_copy(update={"end_ms": duration + 1})], "ends after the track"),
        ([lines[0].model_copy(update={"end_ms": lines[0].start_ms}), *lines[1:]], "must end after it starts"),
    ]
    for bad, words in bad_cases:
        with pytest.raises(InputError, match=words):
            actions.edit_lyrics(project_id, bad)
    with pytest.raises(StaleError) as stale:
        actions.edit_lyrics(project_id, lines[:2], if_match="0123456789abcdef")
    assert stale.value.version == actions.lyrics_version(folder.load_analysis())
    assert _tree(folder) == snapshot
    assert folder.load_project().state == machine.IMAGED

    unchanged = actions.edit_lyrics(project_id, lines, if_match=actions.lyrics_version(folder.load_analysis()))
    assert unchanged.state == machine.IMAGED, "the same lines are no edit"


def test_lyrics_cannot_be_edited_before_the_analysis(data_root: Path, tmp_path: Path) -> None:
    project = actions.create_project(project_id="fresh-one")
    with pytest.raises(StateError, match="edit_lyrics"):
        actions.edit_lyrics(project.id, [])


def test_lrc_writer_round_trips_through_the_one_parser(project_id: str) -> None:
    folder = ProjectFolder(project_id)
    analysis = folder.load_analysis()
    text = to_lrc(analysis.lyrics)
    back = parse_lrc(text, duration_ms=analysis.duration_ms)
    assert [(b.text, b.start_ms, b.end_ms) for b in back] == [(a.text, a.start_ms, a.end_ms) for a in analysis.lyrics]


def test_a_new_upload_after_a_run_rewinds_and_keeps_the_earlier_pictures(project_id: str, tmp_path: Path) -> None:
    from engine.audio.sample import make_song

    folder = ProjectFolder(project_id)
    before = _pictures(folder)
    wav = tmp_path / "other.wav"
    make_song(wav, bpm=100, bars=10, sections=None, seed=11)
    project = actions.upload_track(project_id, audio=wav, original_name="other.wav", lyrics_text=LRC)
    assert project.state == machine.UPLOADED and project.history[-1].source == machine.IMAGED
    Runner(project_id, target=machine.IMAGED).run()
    prompts = {sp.id: sp for sp in folder.load_prompts().scenes}
    for sid, (_, version, sha) in before.items():
        if sid in prompts:  # the same id: its history carries over, the old picture is still a version
            old = next(v for v in prompts[sid].versions if v.version == version)
            assert hashlib.sha256(folder.resolve(old.image.file).read_bytes()).hexdigest() == sha
        assert folder.image_path(sid, version).is_file(), "no picture file is deleted or overwritten"


def test_hand_edits_survive_a_fresh_analysis_of_the_same_upload(project_id: str, tmp_path: Path) -> None:
    """A fresh analysis of the same track and lyrics (here: the analyst's fingerprint changed, as with a newer
    analyst or another provider) keeps the hand-edited lines; a new upload starts from its own lyrics."""
    import json

    folder = ProjectFolder(project_id)
    lines = _lines(folder)
    lines[1] = lines[1].model_copy(update={"text": "Running down the lonely road", "start_ms": 4300})
    actions.edit_lyrics(project_id, lines)
    edited = folder.load_analysis()
    raw = json.loads(folder.analysis_json.read_text())
    raw["fingerprint"] = "made-by-an-older-analyst"
    folder.analysis_json.write_text(json.dumps(raw))
    Runner(project_id, target=machine.ANALYZED).run()
    again = folder.load_analysis()
    assert again.fingerprint != "made-by-an-older-analyst", "the analysis ran again"
    assert [(x.text, x.start_ms, x.timing) for x in again.lyrics] == [(x.text, x.start_ms, x.timing) for x in edited.lyrics]
    assert again.lyrics[1].text == "Running down the lonely road" and again.lyrics_edit == edited.lyrics_edit

    # the same track with other lyrics: those are used, the old edit is not put on them
    wav = tmp_path / "same.wav"
    wav.write_bytes(folder.track_wav.read_bytes())
    actions.upload_track(project_id, audio=wav, original_name="same.wav", lyrics_text=LRC.replace("Into the dawn", "Into the night"))
    Runner(project_id, target=machine.ANALYZED).run()
    fresh = folder.load_analysis()
    assert [x.text for x in fresh.lyrics][-1] == "Into the night"
    assert "Running down the lonely road" not in [x.text for x in fresh.lyrics] and fresh.lyrics_edit == ""


def test_keep_known_matches_scenes_by_content_not_position() -> None:
    from engine.models import Scene
    from engine.steps.segment import keep_known

    def scene(i: int, start: int, end: int, text: str = "", intent: str = "new", sid: str | None = None, edited: bool = False) -> Scene:
        return Scene(id=sid or f"seg_{i + 1:03d}", index=i, start_ms=start, end_ms=end, lyric_text=text, visual_intent=intent,
                     mood="calm", energy=0.5, section="verse", edited=edited)

    old = [scene(0, 0, 2000, "a", "old a"), scene(1, 2000, 4000, "b", "mine", edited=True), scene(2, 4000, 6000, "c", "old c")]
    new = [scene(0, 0, 1000, "a"), scene(1, 1000, 2000), scene(2, 2000, 4500, "b"), scene(3, 4500, 6000, "c")]
    out = keep_known(new, old, used_ids={"seg_009"})
    assert [s.index for s in out] == [0, 1, 2, 3]
    assert out[0].id == "seg_001" and out[0].visual_intent == "new", "changed: takes the id it overlaps most, new intent"
    assert out[2].id == "seg_002" and out[2].visual_intent == "mine" and out[2].edited, "the user's intent is kept"
    assert out[3].id == "seg_003"
    assert out[1].id == "seg_010", "a new scene gets an id never used (picture files included)"
    same = keep_known([scene(0, 0, 2000, "a"), *[s.model_copy(update={"index": s.index}) for s in old[1:]]], old, used_ids=set())
    assert [(s.id, s.visual_intent) for s in same] == [("seg_001", "old a"), ("seg_002", "mine"), ("seg_003", "old c")]
    shifted = keep_known([scene(0, 0, 1000), scene(1, 1000, 2000, "a"), *old[1:]], [scene(0, 1000, 2000, "a", "old a"), *old[1:]],
                         used_ids=set())
    assert shifted[1].id == "seg_001" and shifted[1].index == 1 and shifted[1].seat == 0, "moved in the list: same id and seat"
