"""The lyric lines on the waveform (issue 13): drag in chromium with a real mouse, keyboard steps, word
markers, the unsaved-changes question, and a re-render whose .srt has the new times.

A short generated song with LRC lyrics (tests/web/conftest.py `song`) is run to SEGMENTED through the
API. Drags are real pointer events from Playwright's mouse; where a line lands is checked against the
analysis' onsets (snapping) and against the API after Save.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import UiServer, shoot
from tests.web.test_ui import PIPELINE_TIMEOUT_MS, _upload_via_api, wait_idle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def segmented(ui_server: UiServer, song: tuple[Path, str]) -> str:
    """A project with LRC lyrics that has reached SEGMENTED."""
    return _upload_via_api(ui_server, song, name="Lane song", run_to="SEGMENTED")


def _get(server: UiServer, path: str) -> dict:
    with server.client() as http:
        res = http.get(path)
        assert res.status_code == 200, res.text
        return res.json()


def _block(page: Page, n: int) -> Locator:
    return page.locator(f'.lyric-block[data-line="{n}"]')


def _open(page: Page, server: UiServer, pid: str) -> None:
    page.goto(f"{server.base_url}/#/p/{pid}/storyboard")
    expect(page.locator(".lyric-block")).to_have_count(4)


def _drag(page: Page, handle: Locator, dx: float, *, alt: bool = False) -> None:
    """Press on the handle's middle, move by ``dx`` pixels in steps, release (Alt held when ``alt``)."""
    box = handle.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    if alt:
        page.keyboard.down("Alt")
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=8)
    page.mouse.up()
    if alt:
        page.keyboard.up("Alt")


def _ms_per_px(page: Page, duration_ms: int) -> float:
    width = page.locator(".lane-inner").evaluate("(el) => el.getBoundingClientRect().width")
    return duration_ms / width


def _start_value(page: Page, n: int) -> int:
    return int(_block(page, n).locator('[data-edge="start"]').get_attribute("aria-valuenow") or "-1")


def test_drag_edges_and_lines_snap_and_save(page: Page, ui_server: UiServer, segmented: str) -> None:
    """Drag line 2's start later (snaps to an onset), shorten line 3 and drag it as a whole (keeps its length),
    nudge line 4's start with the arrow keys, drag with Alt (no snapping): Save, and the API has every time."""
    analysis = _get(ui_server, f"/projects/{segmented}/analysis")
    onsets = analysis["onsets_ms"]
    assert len(onsets) > 10
    duration = analysis["duration_ms"]
    before = _get(ui_server, f"/projects/{segmented}/lyrics")["lines"]
    _open(page, ui_server, segmented)
    expect(_block(page, 0)).to_contain_text("Streetlights hum a song in blue")
    per_px = _ms_per_px(page, duration)

    # an edge: line 2 (4.5 s) starts about 0.4 s later, on an onset; its row shows the same time
    _drag(page, _block(page, 1).locator('[data-edge="start"]'), 400 / per_px)
    start_2 = _start_value(page, 1)
    assert start_2 in onsets and 4500 < start_2 < 5300, (start_2, onsets)
    expect(page.locator('.lyrics-line[data-line="1"] [data-field="start_ms"]')).to_have_value(re.compile(r"00:0[45]\.\d{3}"))
    expect(page.locator(".lyrics-panel .screen-head")).to_contain_text("unsaved changes")

    # a whole line: line 3 (8-11 s, against its neighbours) is shortened by about 1 s at its end, then moved
    # about 0.5 s later: it keeps its new length and starts on an onset
    _drag(page, _block(page, 2).locator('[data-edge="end"]'), -1000 / per_px, alt=True)
    len_3 = int(_block(page, 2).locator('[data-edge="end"]').get_attribute("aria-valuenow") or "0") - before[2]["start_ms"]
    assert 800 < len_3 < 2300, len_3
    _drag(page, _block(page, 2).locator('[data-edge="move"]'), 500 / per_px)
    moved_start = _start_value(page, 2)
    assert moved_start in onsets and 8000 < moved_start < 9000, (moved_start, onsets)

    # the keyboard: focus line 4's start, ArrowRight steps to the next onset after it
    start_4 = before[3]["start_ms"]
    handle = _block(page, 3).locator('[data-edge="start"]')
    handle.focus()
    page.keyboard.press("ArrowRight")
    stepped = _start_value(page, 3)
    assert stepped == min(o for o in onsets if o > start_4 + 1), (stepped, start_4)
    expect(_block(page, 3).locator('[data-edge="start"]')).to_be_focused()  # focus survives the redraw

    # Alt: no snapping; line 1's end lands where the pointer let go (within a pixel's worth of time)
    end_1 = before[0]["end_ms"]
    _drag(page, _block(page, 0).locator('[data-edge="end"]'), -300 / per_px, alt=True)
    free_end = int(_block(page, 0).locator('[data-edge="end"]').get_attribute("aria-valuenow") or "0")
    assert abs(free_end - (end_1 - 300)) <= 3 * per_px, (free_end, end_1)
    shoot(page, "ui_lyrics_lane", docs=True)

    page.get_by_role("button", name="Save lyrics").click()
    expect(page.locator(".toast-ok").filter(has_text="Lyrics saved")).to_be_visible()
    got = _get(ui_server, f"/projects/{segmented}/lyrics")["lines"]
    assert got[1]["start_ms"] == start_2 and got[1]["timing"] == "given"
    assert got[2]["start_ms"] == moved_start and got[2]["end_ms"] - got[2]["start_ms"] == len_3
    assert got[3]["start_ms"] == stepped
    assert got[0]["end_ms"] == free_end
    assert not [e for e in page.errors if "pageerror" in e], page.errors  # type: ignore[attr-defined]


def test_leaving_with_unsaved_lyrics_asks_first(page: Page, ui_server: UiServer, segmented: str) -> None:
    """An unsaved lyrics edit: "All projects" asks; Cancel keeps the page and the edit; "Leave" leaves."""
    wait_idle(ui_server, segmented)
    _open(page, ui_server, segmented)
    text = page.locator('.lyrics-line[data-line="0"] .lyrics-text')
    text.fill("Streetlights hum a song in gold")
    page.get_by_role("link", name="All projects", exact=True).click()
    dialog = page.get_by_role("dialog", name="Leave without saving?")
    expect(dialog).to_contain_text("lyrics")
    dialog.get_by_role("button", name="Cancel").click()
    expect(text).to_have_value("Streetlights hum a song in gold")
    expect(page).to_have_url(re.compile(rf"#/p/{segmented}/storyboard$"))
    expect(dialog).to_be_hidden()
    page.get_by_role("link", name="All projects", exact=True).click()
    page.get_by_role("dialog", name="Leave without saving?").get_by_role("button", name="Leave without saving").click()
    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
    # the browser's own question on reload/close is armed by the same guard
    assert page.evaluate("async () => (await import('/static/js/unsaved.js')).unsavedEdits()") == []


def test_karaoke_word_markers_follow_their_line(page: Page, ui_server: UiServer, segmented: str) -> None:
    """Enhanced LRC gives word times: each word has a marker in its line's block; dragging the line moves them."""
    wait_idle(ui_server, segmented)
    lrc = ("[00:01.00]<00:01.00>Streetlights <00:02.00>hum <00:02.60>a <00:03.00>song\n"
           "[00:05.00]<00:05.00>We <00:05.50>are <00:06.00>running\n")
    with ui_server.client() as http:
        cur = http.get(f"/projects/{segmented}/lyrics").json()
        res = http.put(f"/projects/{segmented}/lyrics", content=lrc, headers={"Content-Type": "text/plain", "If-Match": f'"{cur["version"]}"'})
        assert res.status_code == 200, res.text
    page.goto(f"{ui_server.base_url}/#/p/{segmented}/storyboard")
    expect(page.locator(".lyric-block")).to_have_count(2)
    expect(_block(page, 0).locator(".lyric-word")).to_have_count(4)
    expect(_block(page, 1).locator(".lyric-word")).to_have_count(3)
    duration = _get(ui_server, f"/projects/{segmented}/analysis")["duration_ms"]
    per_px = _ms_per_px(page, duration)
    _drag(page, _block(page, 1).locator('[data-edge="move"]'), 1000 / per_px, alt=True)
    page.get_by_role("button", name="Save lyrics").click()
    expect(page.locator(".toast-ok").filter(has_text="Lyrics saved")).to_be_visible()
    line = _get(ui_server, f"/projects/{segmented}/lyrics")["lines"][1]
    shift = line["start_ms"] - 5000
    assert 900 - 3 * per_px <= shift <= 1100 + 3 * per_px, shift
    assert [w["start_ms"] - shift for w in line["words"]] == [5000, 5500, 6000]  # the words moved with it


def test_rerender_subtitles_have_the_new_times(page: Page, ui_server: UiServer, segmented: str) -> None:
    """Drag a line, save, render from the page's API: the new render's .srt has the dragged time."""
    wait_idle(ui_server, segmented)
    with ui_server.client() as http:
        cur = http.get(f"/projects/{segmented}/lyrics").json()
        lrc = "[00:01.00]Streetlights hum a song in blue\n[00:04.50]We are running with the night\n[00:08.00]Hold on tight\n"
        res = http.put(f"/projects/{segmented}/lyrics", content=lrc, headers={"Content-Type": "text/plain", "If-Match": f'"{cur["version"]}"'})
        assert res.status_code == 200, res.text
    page.goto(f"{ui_server.base_url}/#/p/{segmented}/storyboard")
    expect(page.locator(".lyric-block")).to_have_count(3)
    duration = _get(ui_server, f"/projects/{segmented}/analysis")["duration_ms"]
    _drag(page, _block(page, 1).locator('[data-edge="start"]'), 700 / _ms_per_px(page, duration), alt=True)
    page.get_by_role("button", name="Save lyrics").click()
    expect(page.locator(".toast-ok").filter(has_text="Lyrics saved")).to_be_visible()
    start = _get(ui_server, f"/projects/{segmented}/lyrics")["lines"][1]["start_ms"]
    assert 5000 < start < 5500, start
    with ui_server.client() as http:
        assert http.post(f"/projects/{segmented}/run", json={"target": "RENDERED", "preview": True}).status_code == 202
        deadline = time.monotonic() + PIPELINE_TIMEOUT_MS / 1000
        while http.get(f"/projects/{segmented}").json()["state"] != "RENDERED":
            assert time.monotonic() < deadline, http.get(f"/projects/{segmented}/jobs").text
            time.sleep(0.3)
        wait_idle(ui_server, segmented)
        record = http.get(f"/projects/{segmented}").json()["renders"][-1]
        assert record["srt_url"], record
        srt = http.get(record["srt_url"])
        assert srt.status_code == 200, srt.text
    stamp = f"00:00:{start // 1000:02d},{start % 1000:03d} -->"
    assert stamp in srt.text, (stamp, srt.text)
    assert "We are running with the night" in srt.text
