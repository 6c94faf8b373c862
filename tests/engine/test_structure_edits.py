"""The storyboard's structure edited by hand: move a cut, split, merge, lock, bring a picture.

Real project folders (a synthetic song run through the local pipeline once, copied per test), the real
runner and illustrator: only what an edit touches is redone, the user's cuts survive a re-planning, a locked
scene keeps its picture through a new style, and a refused edit changes nothing on disk.
"""
from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from engine import machine
from engine import project as actions
from engine import scene_actions as sa
from engine.errors import InputError, StaleError, StateError
from engine.images import canvas_size
from engine.models import Analysis, EnergyCurve
from engine.pictures import MIN_SIDE, crop_box, read_picture
from engine.runner import Runner
from engine.storage import ProjectFolder
from engine.structure import snap_cut
from engine.versions import scene_version
from tests.engine.templates import project_template
from tests.engine.test_runner import FlakyIllustrator, provider_with

LRC = ("[00:00.50]Night city lights\n[00:04.00]Running down the road\n[00:08.00]Hearts on fire\n"
       "[00:12.00]Stars above the sea\n[00:16.00]Into the dawn\n")
PID = "cut-project"


@pytest.fixture(scope="module")
def imaged_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 26 s project (scenes 2-8 s) drawn to IMAGED once (copied per test)."""
    return project_template(tmp_path_factory.mktemp("cut"), project_id=PID, lyrics=LRC, bars=12, seed=7,
                            target=machine.IMAGED, max_scene_ms=8000)


@pytest.fixture
def folder(imaged_template: Path, data_root: Path) -> ProjectFolder:
    shutil.copytree(imaged_template, data_root / "projects" / PID)
    return ProjectFolder(PID)


def _tree(folder: ProjectFolder) -> dict[str, str]:
    return {str(p.relative_to(folder.path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.path.rglob("*")) if p.is_file() and p.name != ".lock" and "jobs" not in p.parts}


def _pictures(folder: ProjectFolder) -> dict[str, tuple[int, str]]:
    """scene id -> (current version, sha256 of its picture)."""
    prompts = {sp.id: sp for sp in folder.load_prompts().scenes}
    return {s.id: (prompts[s.id].latest.version, prompts[s.id].latest.image.sha256) for s in folder.load_segments().scenes}


def _spans(folder: ProjectFolder) -> list[tuple[int, int, str]]:
    return [(s.start_ms, s.end_ms, s.id) for s in folder.load_segments().scenes]


def _run(target: str = machine.IMAGED) -> FlakyIllustrator:
    ill = FlakyIllustrator(0)
    assert Runner(PID, target=target, provider=provider_with(ill)).run().state == target
    return ill


def _png(width: int, height: int, *, colour: tuple[int, int, int] = (200, 40, 40), fmt: str = "PNG", exif_rotate: bool = False) -> bytes:
    img = Image.new("RGB", (width, height), colour)
    img.paste((10, 10, 250), (0, 0, width // 8, height))  # a blue band on the left: shows the crop and the orientation
    buf = io.BytesIO()
    if exif_rotate:
        exif = Image.Exif()
        exif[0x0112] = 6  # "rotate 90 CW to view"
        img.save(buf, format=fmt, exif=exif.tobytes())
    else:
        img.save(buf, format=fmt)
    return buf.getvalue()


# --------------------------------------------------------------------------- snapping (pure)


def _grid() -> Analysis:
    beats = list(range(500, 20_000, 500))
    return Analysis(duration_ms=20_000, tempo_bpm=120, beats_ms=beats, downbeats_ms=beats[::4],
                    energy=EnergyCurve(hop_ms=100, rms=[0.5] * 200, onset=[0.0] * 200, brightness=[0.0] * 200), sections=[])


def test_snap_prefers_a_downbeat_within_three_quarters_of_a_beat_and_keeps_a_time_on_a_beat() -> None:
    analysis = _grid()  # beats every 500 ms from 500, downbeats 500, 2500, 4500 ...
    assert snap_cut(analysis, 2600) == 2500, "the nearest point is a downbeat"
    assert snap_cut(analysis, 2800) == 2500, "a downbeat within three quarters of a beat wins over the nearer beat"
    assert snap_cut(analysis, 2900) == 3000, "further away, the nearest beat"
    assert snap_cut(analysis, 3000) == 3000, "a time on a beat stays"
    assert snap_cut(analysis, 3620) == 3500


# --------------------------------------------------------------------------- move a cut


def test_a_moved_cut_redraws_only_the_scene_whose_words_changed(folder: ProjectFolder) -> None:
    before_pics, before = _pictures(folder), folder.load_segments().scenes
    third, fourth = before[2], before[3]
    segments = sa.move_cut(PID, third.id, end_ms=third.end_ms - 480)  # snapped to the beat 500 ms earlier
    project = folder.load_project()
    assert project.state == machine.SEGMENTED and project.history[-1].trigger == "edit_cuts"
    after = {s.id: s for s in segments.scenes}
    assert after[third.id].end_ms == third.end_ms - 500 and after[fourth.id].start_ms == third.end_ms - 500
    assert after[third.id].lyric_text == third.lyric_text, "a pure time change for this scene"
    assert after[fourth.id].lyric_text != fourth.lyric_text, "a line crossed the cut into the next scene"
    for s in before:
        if s.id not in (third.id, fourth.id):
            assert after[s.id] == s, f"{s.id} is untouched"
    cuts = folder.load_cuts()
    assert [(sp.start_ms, sp.end_ms) for sp in cuts.spans] == [(third.start_ms, third.end_ms - 500), (third.end_ms - 500, fourth.end_ms)]

    ill = _run()
    assert ill.calls == [fourth.id], "only the scene whose words changed is drawn again"
    pics = _pictures(folder)
    assert pics[third.id] == before_pics[third.id], "the retimed scene keeps its prompt and picture"
    assert pics[fourth.id][0] == before_pics[fourth.id][0] + 1, "a new version; the old picture stays restorable"
    assert _run().calls == [], "a second run has nothing to do"


def test_a_move_past_the_bounds_or_a_neighbour_is_refused_and_changes_nothing(folder: ProjectFolder) -> None:
    before = _tree(folder)
    scenes = folder.load_segments().scenes
    with pytest.raises(InputError, match="would last 1.00 s.*min_scene_ms"):
        sa.move_cut(PID, scenes[1].id, end_ms=scenes[1].start_ms + 1000)  # a 1 s scene (min 2 s)
    with pytest.raises(InputError, match="past its neighbour"):
        sa.move_cut(PID, scenes[1].id, end_ms=scenes[3].start_ms + 500, snap=False)
    with pytest.raises(InputError, match="first scene always starts at 0"):
        sa.move_cut(PID, scenes[0].id, start_ms=500)
    with pytest.raises(StaleError) as stale:
        sa.move_cut(PID, scenes[1].id, end_ms=scenes[1].end_ms - 500, if_match='"0123456789abcdef"')
    assert stale.value.version == scene_version(scenes[1], next(p for p in folder.load_prompts().scenes if p.id == scenes[1].id))
    assert _tree(folder) == before


def test_snap_false_puts_the_cut_exactly_where_asked(folder: ProjectFolder) -> None:
    scene = folder.load_segments().scenes[2]
    segments = sa.move_cut(PID, scene.id, end_ms=scene.end_ms - 333, snap=False)
    assert next(s for s in segments.scenes if s.id == scene.id).end_ms == scene.end_ms - 333


# --------------------------------------------------------------------------- split, merge, and a re-planning


def test_split_at_a_line_then_merge_back_and_the_cuts_survive_a_lyrics_edit(folder: ProjectFolder) -> None:
    scenes = folder.load_segments().scenes
    a, b = scenes[0], scenes[1]
    merged = sa.merge_scene(PID, b.id, "prev")
    one = merged.scenes[0]
    assert (one.start_ms, one.end_ms) == (a.start_ms, b.end_ms)
    assert one.lyric_text.splitlines() == [a.lyric_text, b.lyric_text], "both lines are visible in the merged scene"
    assert len(merged.scenes) == len(scenes) - 1

    # a lyric edit elsewhere plans the storyboard again: the merged scene stays one scene
    lines = [line.model_copy() for line in folder.load_analysis().lyrics]
    lines[4] = lines[4].model_copy(update={"text": "Into the golden dawn"})
    actions.edit_lyrics(PID, lines)
    ill = _run()
    replanned = folder.load_segments().scenes
    assert (replanned[0].start_ms, replanned[0].end_ms, replanned[0].id) == (one.start_ms, one.end_ms, one.id)
    assert replanned[0].lyric_text == one.lyric_text
    assert one.id in ill.calls, "the merged scene shows two lines now: drawn once, on the run after the merge"

    # reversible: a split at the second line's start gives that line its own scene again
    line_start = folder.load_analysis().lyrics[1].start_ms
    split = sa.split_scene(PID, one.id, line_start)
    first, second = split.scenes[0], split.scenes[1]
    assert first.end_ms == second.start_ms == snap_cut(folder.load_analysis(), line_start)
    assert first.lyric_text == a.lyric_text and second.lyric_text == b.lyric_text
    assert first.id == one.id or second.id == one.id, "the larger half keeps the scene's id (and its versions)"
    assert [(sp.start_ms, sp.end_ms) for sp in folder.load_cuts().spans][:2] == [(first.start_ms, first.end_ms), (second.start_ms, second.end_ms)]


def test_a_merge_longer_than_the_longest_scene_is_refused(folder: ProjectFolder) -> None:
    scenes = folder.load_segments().scenes
    before = _tree(folder)
    with pytest.raises(InputError, match="would last"):
        sa.merge_scene(PID, scenes[-2].id, "next")  # 5 s + 5.5 s > 8 s
    with pytest.raises(InputError, match="no previous scene"):
        sa.merge_scene(PID, scenes[0].id, "prev")
    assert _tree(folder) == before


def test_structure_edits_need_a_storyboard_and_are_refused_in_the_wrong_state(folder: ProjectFolder) -> None:
    scenes = folder.load_segments().scenes
    lines = [line.model_copy() for line in folder.load_analysis().lyrics]
    lines[0] = lines[0].model_copy(update={"text": "Neon city lights"})
    actions.edit_lyrics(PID, lines)  # back to ANALYZED: the storyboard is stale
    before = _tree(folder)
    with pytest.raises(StateError) as refused:
        sa.split_scene(PID, scenes[0].id, scenes[0].start_ms + 2000)
    assert "edit_cuts" not in refused.value.allowed and refused.value.state == machine.ANALYZED
    assert _tree(folder) == before


# --------------------------------------------------------------------------- lock


def test_a_locked_scene_keeps_its_prompt_and_picture_through_a_style_and_a_frame_change(folder: ProjectFolder) -> None:
    scenes = folder.load_segments().scenes
    locked = scenes[1]
    before = _pictures(folder)
    prompt_before = next(p for p in folder.load_prompts().scenes if p.id == locked.id).latest.image_prompt
    project = sa.set_locked(PID, locked.id, True)
    assert project.state == machine.IMAGED and project.history[-1].trigger == "lock_scene", "a lock rewinds nothing"
    assert folder.load_segments().scenes[1].locked
    actions.update_settings(PID, {"style": "synthwave"})
    actions.update_settings(PID, {"seed": 99})  # change_frame: every picture drawn again
    ill = _run()
    after = _pictures(folder)
    assert locked.id not in ill.calls and after[locked.id] == before[locked.id]
    assert next(p for p in folder.load_prompts().scenes if p.id == locked.id).latest.image_prompt == prompt_before
    assert sorted(ill.calls) == sorted(s.id for s in scenes if s.id != locked.id)
    with pytest.raises(InputError, match="locked"):
        actions.regenerate_scene(PID, locked.id)
    with pytest.raises(InputError, match="locked"):
        sa.merge_scene(PID, locked.id, "next")

    project = sa.set_locked(PID, locked.id, False)
    assert project.state == machine.SEGMENTED and project.history[-1].trigger == "unlock_scene"
    assert _run().calls == [locked.id], "unlocked, it follows the new style"


# --------------------------------------------------------------------------- bring your own picture


def test_an_uploaded_picture_is_a_new_version_cropped_to_the_canvas_and_kept_by_the_draw_step(folder: ProjectFolder) -> None:
    scene = folder.load_segments().scenes[2]
    project = sa.upload_picture(PID, scene.id, _png(2400, 1000, fmt="JPEG"))
    assert project.state == machine.PROMPTED and project.history[-1].trigger == "upload_picture"
    latest = next(p for p in folder.load_prompts().scenes if p.id == scene.id).latest
    assert latest.origin == "upload" and latest.image.provider == "upload" and latest.image.focus == (0.5, 0.5)
    width, height = canvas_size("16:9", out_height=720)
    with Image.open(folder.resolve(latest.image.file)) as img:
        assert img.size == (width, height)
        centred = img.getpixel((5, height // 2))
    assert folder.resolve(latest.image.original).read_bytes()[:3] == b"\xff\xd8\xff", "the original is kept as sent"
    assert _run().calls == [], "the draw step keeps the user's picture"

    sa.set_focus(PID, scene.id, (0.0, 0.5))  # the left edge: the blue band comes into view
    moved = next(p for p in folder.load_prompts().scenes if p.id == scene.id).latest
    assert moved.version == latest.version + 1 and moved.image.original == latest.image.original
    with Image.open(folder.resolve(moved.image.file)) as img:
        assert img.getpixel((5, height // 2))[2] > 200 and centred[2] < 100

    actions.update_settings(PID, {"aspect": "9:16"})  # change_frame: cropped again from the original
    ill = _run()
    assert scene.id not in ill.calls
    recropped = next(p for p in folder.load_prompts().scenes if p.id == scene.id).latest
    assert recropped.origin == "upload" and recropped.image.focus == (0.0, 0.5)
    with Image.open(folder.resolve(recropped.image.file)) as img:
        assert img.size == canvas_size("9:16", out_height=720)


def test_bad_pictures_are_refused_with_a_reason_and_change_nothing(folder: ProjectFolder) -> None:
    scene = folder.load_segments().scenes[0]
    before = _tree(folder)
    bad = {
        "not a picture": b"GIF89a" + b"\0" * 100,
        "PNG, JPEG or WebP": _png(100, 100, fmt="GIF"),
        "at least": _png(MIN_SIDE - 1, 200),
        "damaged": _png(400, 300)[:200],
        "pixels": _png(9000, 5000, fmt="PNG"),
    }
    for reason, data in bad.items():
        with pytest.raises(InputError, match=reason):
            sa.upload_picture(PID, scene.id, data)
    with pytest.raises(InputError, match="not one you uploaded"):
        sa.set_focus(PID, scene.id, (0.2, 0.2))
    assert _tree(folder) == before


def test_exif_orientation_is_applied_and_the_crop_follows_the_focal_point() -> None:
    img, kind = read_picture(_png(400, 200, fmt="JPEG", exif_rotate=True))
    assert kind == "JPEG" and img.size == (200, 400), "rotated upright as the camera meant"
    assert crop_box((1000, 500), width=16, height=9, focus=(0.5, 0.5)) == (56, 0, 945, 500)
    assert crop_box((1000, 500), width=16, height=9, focus=(0.0, 0.5))[0] == 0
    assert crop_box((1000, 500), width=16, height=9, focus=(1.0, 0.5))[2] == 1000
    assert crop_box((500, 1000), width=16, height=9, focus=(0.5, 0.1))[1] == 0


@pytest.mark.slow  # two ffmpeg renders
def test_a_moved_cut_re_encodes_only_the_chunks_of_its_two_scenes(folder: ProjectFolder) -> None:
    runner = Runner(PID, target=machine.RENDERED, preview=True)
    assert runner.run().state == machine.RENDERED
    chunks = {p.name for p in folder.render_cache_dir.glob("chunk_*.mp4")}
    scenes = folder.load_segments().scenes
    sa.move_cut(PID, scenes[4].id, start_ms=scenes[4].start_ms + 500)  # between two instrumental-free scenes
    assert Runner(PID, target=machine.RENDERED, preview=True).run().state == machine.RENDERED
    fresh = {p.name for p in folder.render_cache_dir.glob("chunk_*.mp4")} - chunks
    assert 1 <= len(fresh) <= 4, f"only the chunks around the moved cut are encoded again ({len(fresh)} of {len(chunks)})"
    assert len(chunks) >= len(scenes)
