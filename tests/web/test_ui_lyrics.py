"""The Lyrics panel (issue 13, UI part) in chromium against a real API server, local provider.

A short generated song with LRC lyrics is run to SEGMENTED through the API; the page shows every line,
a changed start is saved (the API has the new time and the machine is back at ANALYZED), a bad edit's
422 names the line in a toast, an edit made behind the page's back makes Save offer the 412 choice, and
tap-along sets a line's start from the player's time. Headless chromium has no audio output, so the
tap-along test pauses the player at a fixed time and presses Tap (the handler reads the player's
`currentTime`); real playback while tapping is not tested here.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import UiServer, shoot
from tests.web.test_ui import _upload_via_api, wait_idle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def segmented(ui_server: UiServer, song: tuple[Path, str]) -> str:
    """A project with LRC lyrics that has reached SEGMENTED."""
    return _upload_via_api(ui_server, song, name="Lyrics song", run_to="SEGMENTED")


def _open(page: Page, server: UiServer, pid: str, lines: int | None = 4) -> None:
    page.goto(f"{server.base_url}/#/p/{pid}/storyboard")
    if lines is None:
        expect(page.locator(".lyrics-line").first).to_be_visible()
    else:
        expect(page.locator(".lyrics-line")).to_have_count(lines)


def _line(page: Page, n: int) -> object:
    return page.locator(f'.lyrics-line[data-line="{n}"]')


def _lyrics(server: UiServer, pid: str) -> dict:
    with server.client() as http:
        res = http.get(f"/projects/{pid}/lyrics")
        assert res.status_code == 200, res.text
        return res.json()


def test_lyrics_shown_edited_and_saved(page: Page, ui_server: UiServer, segmented: str) -> None:
    """Lines with times; change line 2's start, save: the API has it and the project is back at ANALYZED."""
    _open(page, ui_server, segmented)
    expect(_line(page, 0).locator(".lyrics-text")).to_have_value("Streetlights hum a song in blue")
    expect(_line(page, 1).locator('[data-field="start_ms"]')).to_have_value("00:04.500")
    expect(page.get_by_role("link", name="Download .lrc")).to_have_attribute("href", f"/projects/{segmented}/lyrics.lrc")
    # a bad edit: the server's 422 names the line, nothing is saved
    start = _line(page, 1).locator('[data-field="start_ms"]')
    start.fill("00:00.500")
    start.press("Tab")
    page.get_by_role("button", name="Save lyrics").click()
    expect(page.locator(".toast-error").filter(has_text="line 2")).to_be_visible()
    assert _lyrics(ui_server, segmented)["lines"][1]["start_ms"] == 4500
    # a good one
    start.fill("00:04.700")
    start.press("Tab")
    page.get_by_role("button", name="Save lyrics").click()
    expect(page.locator(".toast-ok").filter(has_text="Lyrics saved")).to_be_visible()
    got = _lyrics(ui_server, segmented)
    assert got["lines"][1]["start_ms"] == 4700
    assert got["lines"][1]["timing"] == "given"
    assert got["state"] == "ANALYZED"
    expect(page.locator(".project-sub .badge")).to_have_attribute("data-state", "ANALYZED")
    shoot(page, "ui_lyrics")
    assert not [e for e in page.errors if "pageerror" in e], page.errors  # type: ignore[attr-defined]


def test_stale_edit_offers_reload_or_overwrite(page: Page, ui_server: UiServer, segmented: str) -> None:
    """The lyrics change through the API behind the page's back: Save gets a 412 and offers the choice."""
    wait_idle(ui_server, segmented)
    _open(page, ui_server, segmented)
    mine = _line(page, 0).locator(".lyrics-text")
    mine.fill("Streetlights hum a song in green")
    current = _lyrics(ui_server, segmented)
    theirs = [dict(line) for line in current["lines"]]
    theirs[2]["text"] = "Hold on tight, the town is ours"
    with ui_server.client() as http:
        res = http.put(f"/projects/{segmented}/lyrics", json={"lines": theirs}, headers={"If-Match": f'"{current["version"]}"'})
        assert res.status_code == 200, res.text
    page.get_by_role("button", name="Save lyrics").click()
    expect(page.locator(".lyrics-conflict")).to_be_visible()
    expect(page.get_by_role("button", name="Overwrite with mine")).to_be_visible()
    page.get_by_role("button", name="Reload theirs (drop my changes)").click()
    expect(_line(page, 2).locator(".lyrics-text")).to_have_value("Hold on tight, the town is ours")
    expect(mine).to_have_value("Streetlights hum a song in blue")
    # again, and this time keep mine
    mine.fill("Streetlights hum a song in green")
    with ui_server.client() as http:
        cur = _lyrics(ui_server, segmented)
        theirs = [dict(line) for line in cur["lines"]]
        theirs[3]["text"] = "Hearts like neon, burning bright"
        assert http.put(f"/projects/{segmented}/lyrics", json={"lines": theirs}, headers={"If-Match": f'"{cur["version"]}"'}).status_code == 200
    page.get_by_role("button", name="Save lyrics").click()
    page.get_by_role("button", name="Overwrite with mine").click()
    expect(page.locator(".toast-ok").filter(has_text="Lyrics saved")).to_be_visible()
    texts = [line["text"] for line in _lyrics(ui_server, segmented)["lines"]]
    assert texts[0] == "Streetlights hum a song in green"
    assert texts[2] == "Hold on tight, the town is ours"  # what the page had loaded
    assert texts[3] == "Hearts like neon burning bright"  # "mine" overwrote theirs


def test_tap_along_sets_the_next_line_start(page: Page, ui_server: UiServer, segmented: str) -> None:
    """Tap-along: each Tap starts the next line at the player's time and ends the previous one; Esc stops.

    Headless: the player is paused at fixed times (no real playback) and Tap reads its currentTime.
    """
    wait_idle(ui_server, segmented)
    _open(page, ui_server, segmented)
    page.get_by_role("button", name="Tap-along").click()
    tap = page.locator('[data-lyrics="tap"]')
    expect(tap).to_be_visible()

    def seek(seconds: float) -> None:
        page.evaluate("""(t) => new Promise((done) => {
            const a = document.querySelector('.lyrics-audio');
            a.pause();
            if (a.readyState < 1) { a.addEventListener('loadedmetadata', () => { a.currentTime = t; a.addEventListener('seeked', done, {once: true}); }, {once: true}); a.load(); }
            else { a.addEventListener('seeked', done, {once: true}); a.currentTime = t; }
        })""", seconds)

    seek(1.25)
    tap.click()
    seek(4.0)
    page.keyboard.press("Space")
    expect(_line(page, 0).locator('[data-field="start_ms"]')).to_have_value("00:01.250")
    expect(_line(page, 0).locator('[data-field="end_ms"]')).to_have_value("00:04.000")
    expect(_line(page, 1).locator('[data-field="start_ms"]')).to_have_value("00:04.000")
    page.keyboard.press("Escape")
    expect(tap).to_be_hidden()
    expect(page.get_by_role("button", name="Save lyrics")).to_be_enabled()
    page.get_by_role("button", name="Save lyrics").click()
    expect(page.locator(".toast-ok").filter(has_text="Lyrics saved")).to_be_visible()
    lines = _lyrics(ui_server, segmented)["lines"]
    assert (lines[0]["start_ms"], lines[0]["end_ms"], lines[1]["start_ms"]) == (1250, 4000, 4000)


def test_import_lrc_file_and_download_link(page: Page, ui_server: UiServer, segmented: str, tmp_path: Path) -> None:
    """Import an .lrc file (PUT text/plain): the page and the API show its lines; the .lrc link downloads them."""
    wait_idle(ui_server, segmented)
    _open(page, ui_server, segmented)
    lrc = tmp_path / "new.lrc"
    lrc.write_text("[00:02.00]First new line\n[00:06.00]Second new line\n[00:10.00]Third new line\n")
    page.locator('[data-lyrics="import"]').set_input_files(str(lrc))
    expect(page.locator(".toast-ok").filter(has_text="Imported")).to_be_visible()
    expect(page.locator(".lyrics-line")).to_have_count(3)
    expect(_line(page, 1).locator(".lyrics-text")).to_have_value("Second new line")
    got = _lyrics(ui_server, segmented)
    assert [line["start_ms"] for line in got["lines"]] == [2000, 6000, 10000]
    assert got["state"] == "ANALYZED"
    with page.expect_download() as dl:
        page.get_by_role("link", name="Download .lrc").click()
    text = Path(dl.value.path()).read_text()
    assert "Second new line" in text and "[00:06.000]" in text


def test_plain_text_import_marks_estimated_lines(page: Page, ui_server: UiServer, segmented: str, tmp_path: Path) -> None:
    """Plain text is aligned to the voice again; a line the aligner was not sure of has an "estimated" badge
    whose tooltip gives the confidence (the synthetic song has no voice, so no line can be confident)."""
    wait_idle(ui_server, segmented)
    _open(page, ui_server, segmented, lines=None)  # as the tests before left them
    txt = tmp_path / "plain.txt"
    txt.write_text("Streetlights hum a song in blue\nWe are running with the night\n")
    page.locator('[data-lyrics="import"]').set_input_files(str(txt))
    expect(page.locator(".toast-ok").filter(has_text="Imported")).to_be_visible(timeout=60_000)
    got = _lyrics(ui_server, segmented)
    estimated = [i for i, line in enumerate(got["lines"]) if line["timing"] == "estimated"]
    assert estimated, got["lines"]
    badge = _line(page, estimated[0]).locator(".badge-estimated")
    expect(badge).to_have_text("estimated")
    expect(badge).to_have_attribute("title", re.compile(r"confidence"))
    expect(page.locator(".lyrics-panel .screen-head")).to_contain_text(f"{len(estimated)} estimated")
