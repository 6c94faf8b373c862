"""The storyboard's structure in chromium against a real API server (local provider).

Drag a cut on the waveform (it lands on a beat; Alt: exactly where dropped; arrow keys: a beat), merge two
scenes and give a line its own scene again from the scene editor, lock a scene, bring your own picture with a
focal point, and two tabs editing one scene: the second gets the reload/overwrite choice.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.web.conftest import UiServer, api_get, shoot
from tests.web.test_ui import _upload_via_api, wait_idle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def segmented(ui_server: UiServer, song: tuple[Path, str]) -> str:
    """A project storyboarded (SEGMENTED): cuts, splits and merges."""
    return _upload_via_api(ui_server, song, name="Structure song", run_to="SEGMENTED")


@pytest.fixture(scope="module")
def prompted(ui_server: UiServer, song: tuple[Path, str]) -> str:
    """A project with prompts (PROMPTED): locks, pictures, two tabs."""
    return _upload_via_api(ui_server, song, name="Picture song", run_to="PROMPTED")


def _scenes(server: UiServer, pid: str) -> list[dict]:
    return api_get(server, f"/projects/{pid}/segments")["scenes"]


def _open_storyboard(page: Page, server: UiServer, pid: str) -> None:
    page.goto(f"{server.base_url}/#/p/{pid}/storyboard")
    expect(page.locator(".tl-scene").first).to_be_visible()


def _open_scene(page: Page, n: int) -> None:
    page.locator(".tl-scene").nth(n).click()
    expect(page.locator("dialog.scene-editor")).to_be_visible()


def test_drag_a_cut_snaps_to_a_beat_alt_is_free_and_arrows_step_a_beat(page: Page, ui_server: UiServer, segmented: str) -> None:
    wait_idle(ui_server, segmented)
    analysis = api_get(ui_server, f"/projects/{segmented}/analysis")
    beats = analysis["beats_ms"]
    before = _scenes(ui_server, segmented)
    _open_storyboard(page, ui_server, segmented)
    handle = page.locator(f'.tl-cut[data-cut="{before[1]["id"]}"]')
    expect(handle).to_be_visible()
    wave = page.locator(".tl-wave").bounding_box()
    box = handle.bounding_box()
    assert wave and box
    px_per_ms = wave["width"] / analysis["duration_ms"]
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 380 * px_per_ms, y, steps=6)  # about 0.4 s later
    page.mouse.up()
    expect(page.locator(".toast-ok").filter(has_text="Cut moved")).to_be_visible()
    moved = _scenes(ui_server, segmented)[1]["start_ms"]
    assert moved != before[1]["start_ms"] and moved in beats, (moved, before[1]["start_ms"])
    assert api_get(ui_server, f"/projects/{segmented}")["state"] == "SEGMENTED"

    # Alt held: exactly where dropped (not on a beat)
    handle = page.locator(f'.tl-cut[data-cut="{before[1]["id"]}"]')
    box = handle.bounding_box()
    assert box
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.keyboard.down("Alt")
    page.mouse.move(x - 130 * px_per_ms, y, steps=4)
    page.mouse.up()
    page.keyboard.up("Alt")
    expect(page.locator(".toast-ok").filter(has_text="Cut moved")).to_have_count(2)
    free = _scenes(ui_server, segmented)[1]["start_ms"]
    assert free != moved and free not in beats, free

    # the keyboard: focus the handle, ArrowRight moves the cut to the next beat
    handle = page.locator(f'.tl-cut[data-cut="{before[1]["id"]}"]')
    handle.focus()
    handle.press("ArrowRight")
    expect(page.locator(".toast-ok").filter(has_text="Cut moved")).to_have_count(3)
    stepped = _scenes(ui_server, segmented)[1]["start_ms"]
    assert stepped == min(b for b in beats if b > free + 1), (stepped, free)
    expect(page.locator(f'.tl-cut[data-cut="{before[1]["id"]}"]')).to_be_focused()
    shoot(page, "ui_structure_cut", docs=True)
    assert not [e for e in page.errors if "pageerror" in e], page.errors  # type: ignore[attr-defined]


def test_merge_two_scenes_then_give_the_line_its_own_scene_again(page: Page, ui_server: UiServer, segmented: str) -> None:
    wait_idle(ui_server, segmented)
    before = _scenes(ui_server, segmented)
    _open_storyboard(page, ui_server, segmented)
    _open_scene(page, 1)
    page.locator('[data-action="merge-next"]').click()
    expect(page.locator(".toast-ok").filter(has_text="Merged with the next scene")).to_be_visible()
    after = _scenes(ui_server, segmented)
    assert len(after) == len(before) - 1
    lines = [line["text"] for line in after[1]["lines"]]
    assert len(lines) >= 2, after[1]
    editor = page.locator("dialog.scene-editor")
    expect(editor.locator(".scene-lines li")).to_have_count(len(lines))  # both lines visible in the merged scene
    expect(editor.locator(".scene-lines")).to_contain_text(lines[1])
    shoot(page, "ui_structure_merged")
    editor.get_by_role("button", name=f"Give “{lines[1]}” its own scene").click()
    expect(page.locator(".toast-ok").filter(has_text="has its own scene now")).to_be_visible()
    again = _scenes(ui_server, segmented)
    assert len(again) == len(before)
    assert [line["text"] for line in again[2]["lines"]][0] == lines[1]


def _picture_bytes() -> bytes:
    img = Image.new("RGB", (1200, 500), (220, 60, 60))
    img.paste((20, 20, 240), (0, 0, 150, 500))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_upload_your_own_picture_and_move_its_focal_point(page: Page, ui_server: UiServer, prompted: str) -> None:
    wait_idle(ui_server, prompted)
    _open_storyboard(page, ui_server, prompted)
    _open_scene(page, 2)
    editor = page.locator("dialog.scene-editor")
    editor.locator('[data-action="picture-file"]').set_input_files(
        {"name": "mine.png", "mimeType": "image/png", "buffer": _picture_bytes()})
    picker = editor.locator("[data-focus-picker]")
    expect(picker).to_be_visible()
    box = picker.bounding_box()
    assert box
    picker.click(position={"x": box["width"] * 0.1, "y": box["height"] * 0.5})
    expect(picker).to_have_attribute("aria-valuetext", "10% across, 50% down")
    editor.locator('[data-action="upload-picture"]').click()
    expect(page.locator(".toast-ok").filter(has_text="Your picture")).to_be_visible()
    scene = _scenes(ui_server, prompted)[2]
    latest = scene["versions"][-1]
    assert latest["origin"] == "upload" and latest["focus"][0] == pytest.approx(0.1, abs=0.02)
    assert latest["original_url"] and scene["status"] == "ok"
    expect(editor.locator(".editor-picture img")).to_have_attribute("src", scene["image_url"])
    shoot(page, "ui_structure_picture", docs=True)
    # a new focal point: the keyboard on the picker, then Apply: cropped again from the kept original
    wait_idle(ui_server, prompted)  # the upload's redraw of the dialog is over before the keys
    picker = editor.locator("[data-focus-picker]")
    picker.focus()
    for k in range(1, 5):
        picker.press("ArrowRight")
        expect(picker).to_have_attribute("aria-valuetext", f"{10 + 5 * k}% across, 50% down")
    expect(picker).to_have_attribute("aria-valuetext", "30% across, 50% down")
    editor.locator('[data-action="apply-focus"]').click()
    expect(page.locator(".toast-ok").filter(has_text="Cropped again")).to_be_visible()
    newer = _scenes(ui_server, prompted)[2]["versions"][-1]
    assert newer["version"] == latest["version"] + 1 and newer["focus"][0] == pytest.approx(0.3, abs=0.02)


def test_lock_a_scene(page: Page, ui_server: UiServer, prompted: str) -> None:
    wait_idle(ui_server, prompted)
    _open_storyboard(page, ui_server, prompted)
    _open_scene(page, 1)
    page.locator('[data-action="lock"]').check()
    expect(page.locator(".toast-ok").filter(has_text="Locked")).to_be_visible()
    scene = _scenes(ui_server, prompted)[1]
    assert scene["locked"] is True
    assert api_get(ui_server, f"/projects/{prompted}")["state"] == "PROMPTED", "a lock rewinds nothing"
    expect(page.locator(".tl-scene.locked")).to_have_count(1)
    expect(page.locator("[data-scene-id] [data-locked]")).to_have_count(1)  # the card says so too
    expect(page.locator('dialog.scene-editor [data-action="merge-next"]')).to_be_disabled()
    expect(page.locator('dialog.scene-editor [data-action="picture-file"]')).to_be_disabled()
    page.locator('[data-action="lock"]').uncheck()
    expect(page.locator(".toast-ok").filter(has_text="Unlocked")).to_be_visible()
    assert _scenes(ui_server, prompted)[1]["locked"] is False
    expect(page.locator("[data-scene-id] [data-locked]")).to_have_count(0)


def test_two_tabs_edit_one_scene_and_the_second_chooses(page: Page, ui_server: UiServer, prompted: str) -> None:
    wait_idle(ui_server, prompted)
    other = page.context.new_page()
    try:
        for tab in (page, other):
            _open_storyboard(tab, ui_server, prompted)
            _open_scene(tab, 0)
        first = page.locator("dialog.scene-editor textarea").first
        first.fill("A lighthouse in the storm")
        page.get_by_role("button", name="Save changes").click()
        expect(page.locator(".toast-ok").filter(has_text="Intent saved")).to_be_visible()

        second = other.locator("dialog.scene-editor textarea").first
        second.fill("A harbour at dawn")
        other.get_by_role("button", name="Save changes").click()
        conflict = other.locator("[data-scene-conflict]")
        expect(conflict).to_be_visible()
        expect(conflict).to_contain_text("changed elsewhere")
        conflict.get_by_role("button", name="Reload theirs (drop my changes)").click()
        expect(second).to_have_value("A lighthouse in the storm")

        # and once more, keeping mine this time
        first.fill("A lighthouse at night")
        page.get_by_role("button", name="Save changes").click()
        expect(page.locator(".toast-ok").filter(has_text="Intent saved")).to_have_count(2)
        second.fill("A harbour at dawn")
        other.get_by_role("button", name="Save changes").click()
        expect(conflict).to_be_visible()
        shoot(other, "ui_structure_conflict")
        conflict.get_by_role("button", name="Overwrite with mine").click()
        expect(other.locator(".toast-ok").filter(has_text="Intent saved")).to_be_visible()
        assert _scenes(ui_server, prompted)[0]["visual_intent"] == "A harbour at dawn"
    finally:
        other.close()
