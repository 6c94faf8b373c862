"""Browser tests for the defects a new user found (issue 14): real server, local provider, Debian chromium.

9:16 pictures in their own aspect, the picture kept (marked out of date) after
a prompt edit, "Watch the video" and words instead of machine states, one
primary action after a stop, the diagram in user words, 1080p and subtitle
options, rename and duplicate, the small ones (no "Replace track" before a
track, sentence-case errors, focus after "Upload & generate", 44 px timeline
buttons and the whole player on a phone), and downloads named after the song.
"""
from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import UiServer, engine_folder, shoot
from tests.web.test_ui import _upload_via_api, wait_idle

pytestmark = pytest.mark.slow

NAME = "Vertical nights"


@pytest.fixture(scope="module")
def vertical(ui_server: UiServer, song: tuple[Path, str]) -> str:
    """A 9:16 project rendered once (a quick preview render)."""
    return _upload_via_api(ui_server, song, name=NAME, settings={"aspect": "9:16"}, run_to="RENDERED")


def _ratio(page: Page, selector: str) -> tuple[float, float]:
    """(height / width of the element's box, height / width of its picture's pixels)."""
    return tuple(page.locator(selector).first.evaluate("""(el) => {
        const img = el.tagName === 'IMG' ? el : el.querySelector('img');
        const r = el.getBoundingClientRect();
        return [r.height / r.width, img.naturalHeight / img.naturalWidth];
    }"""))  # type: ignore[return-value]


def test_rendered_says_watch_the_video_in_words(page: Page, ui_server: UiServer, vertical: str) -> None:
    """At RENDERED one primary action, "Watch the video"; the diagram in user words (trigger names on hover);
    the project list says "video ready" with a Watch button; the download is named after the song."""
    page.goto(f"{ui_server.base_url}/#/p/{vertical}/pipeline")
    expect(page.locator("svg.diagram g.node.current")).to_have_attribute("data-state", "RENDERED")
    primary = page.locator(".action-bar .btn-primary")
    expect(primary).to_have_count(1)
    expect(primary).to_contain_text("Watch the video")
    labels = page.locator("svg.diagram text.edge-label")
    texts = labels.all_text_contents()
    assert texts and not [t for t in texts if "_" in t], texts  # no edit_intent, change_frame, recover
    back = page.locator("svg.diagram text.edge-label[data-triggers^='edit_intent, change_style']")
    expect(back).to_have_text(re.compile(r"^edit scene · new style"))
    assert "edit_intent" in back.locator("xpath=../*[local-name()='title']").text_content()  # the trigger on hover
    expect(page.locator("svg.diagram text.edge-label[data-triggers*='change_output']")).to_contain_text("new subtitles or output")
    shoot(page, "ui_pipeline_rendered")
    primary.click()
    expect(page.get_by_role("tab", name="Video")).to_have_attribute("aria-selected", "true")
    href = page.locator(".render-item a[data-kind=mp4]").first.get_attribute("href")
    assert href
    res = httpx.get(ui_server.base_url + href, headers={"Range": "bytes=0-9"})
    assert res.headers["content-disposition"].startswith('attachment; filename="Vertical nights - v1 (preview).mp4"'), res.headers
    page.get_by_role("link", name="All projects", exact=True).click()
    row = page.locator(f"[data-project-id='{vertical}']")
    expect(row.locator("[data-status]")).to_have_text("video ready")
    expect(row.get_by_role("button", name=f"Watch the video of {NAME}")).to_be_visible()
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_phone_video_fits_and_timeline_buttons_are_touch_size(phone: Page, ui_server: UiServer, vertical: str) -> None:
    """390 px: the tall video and its controls fit on the screen with a poster, not a black box below the fold;
    every scene button on the timeline is at least 44 px wide (the timeline scrolls, the page does not)."""
    page = phone
    page.goto(f"{ui_server.base_url}/#/p/{vertical}/video")
    video = page.locator("video.player")
    expect(video).to_have_attribute("poster", re.compile(r"/files/images/seg_\d+_v\d+\.png"))
    page.wait_for_function("() => document.querySelector('video.player').readyState >= 1")
    box = video.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844, box
    assert abs(box["height"] / box["width"] - 16 / 9) < 0.05, box  # the video's own shape: no black bars beside it
    shoot(page, "ui_phone_video", docs=True)
    page.get_by_role("tab", name="Storyboard").click()
    buttons = page.locator(".tl-scene")
    expect(buttons.first).to_be_visible()
    widths = [buttons.nth(i).bounding_box()["width"] for i in range(buttons.count())]  # type: ignore[index]
    assert min(widths) >= 44, widths
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    shoot(page, "ui_phone_storyboard_portrait", docs=True)
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_portrait_pictures_and_an_edit_keeps_the_picture(page: Page, ui_server: UiServer, vertical: str) -> None:
    """9:16: cards and version thumbnails in 9:16 (not cropped to landscape); saving a new prompt keeps the
    current picture on screen marked "Out of date" (not "Not drawn yet"); the list then says "video out of date"."""
    page.goto(f"{ui_server.base_url}/#/p/{vertical}/storyboard")
    card = page.locator("[data-scene-id]").nth(1)
    expect(card.locator(".scene-thumb img")).to_be_visible()
    page.wait_for_function("() => [...document.querySelectorAll('.scene-thumb img')].every((i) => i.complete && i.naturalWidth)")
    box, pixels = _ratio(page, "[data-scene-id] .scene-thumb")
    assert abs(box - 16 / 9) < 0.03 and abs(pixels - box) < 0.03, (box, pixels)
    shoot(page, "ui_storyboard_portrait", docs=True)
    card.locator(".scene-open").click()
    dialog = page.get_by_role("dialog")
    version = dialog.locator(".version img").first
    expect(version).to_be_visible()
    page.wait_for_function("() => { const i = document.querySelector('dialog .version img'); return i && i.complete && i.naturalWidth; }")
    vbox, vpixels = _ratio(page, "dialog .version img")
    assert abs(vbox - 16 / 9) < 0.03 and abs(vpixels - vbox) < 0.03, (vbox, vpixels)
    dialog.get_by_label("Image prompt").fill("a lighthouse on a cliff at dusk, tall frame, gulls, warm light")
    dialog.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_have_count(1)
    expect(dialog.locator(".editor-picture img.stale")).to_be_visible()
    expect(dialog.locator(".editor-picture [data-stale]")).to_contain_text("Out of date: v1 shown, v2 not drawn yet")
    expect(dialog).not_to_contain_text("Not drawn yet")
    shoot(page, "ui_scene_out_of_date", full_page=False, docs=True)
    page.keyboard.press("Escape")
    expect(card.locator("img.stale")).to_be_visible()
    expect(card.locator("[data-stale]")).to_have_text("Out of date")
    expect(card).not_to_contain_text("Not drawn yet")
    page.get_by_role("link", name="All projects", exact=True).click()
    expect(page.locator(f"[data-project-id='{vertical}'] [data-status]")).to_have_text("video out of date")
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_rename_and_duplicate(page: Page, ui_server: UiServer, vertical: str) -> None:
    """Rename in the header; duplicate into 16:9 without analysing again (the copy starts at its pictures)."""
    page.goto(f"{ui_server.base_url}/#/p/{vertical}/setup")
    page.locator("[data-action=rename]").click()
    box = page.get_by_role("textbox", name="Project name")
    expect(box).to_be_focused()
    box.fill("Vertical nights, take 2")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator(".project-title")).to_have_text("Vertical nights, take 2")
    expect(page.locator(".project-title")).to_be_focused()
    with ui_server.client() as http:
        assert http.get(f"/projects/{vertical}").json()["name"] == "Vertical nights, take 2"
    page.locator("[data-action=duplicate]").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Name of the copy")).to_have_value("Vertical nights, take 2 (copy)")
    dialog.locator("label", has_text="16:9").click()
    shoot(page, "ui_duplicate", full_page=False, docs=True)
    dialog.locator("[data-action=duplicate-confirm]").click()
    expect(page).not_to_have_url(re.compile(vertical))
    copy_id = re.search(r"#/p/([^/]+)", page.url).group(1)  # type: ignore[union-attr]
    expect(page.locator(".project-title")).to_have_text("Vertical nights, take 2 (copy)")
    with ui_server.client() as http:
        copy = http.get(f"/projects/{copy_id}").json()
        assert copy["settings"]["aspect"] == "16:9" and copy["state"] == "PROMPTED" and copy["renders"] == []
        assert len(http.get(f"/projects/{copy_id}/segments").json()["scenes"]) == len(
            http.get(f"/projects/{vertical}/segments").json()["scenes"])
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_after_stop_one_primary_action(page: Page, ui_server: UiServer, song: tuple[Path, str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A stopped run: Resume is the one primary button; Generate and the step buttons are secondary and say
    they start a new run; a note explains the difference."""
    from engine import machine
    from engine.models import Job, StepProgress, utcnow

    pid = _upload_via_api(ui_server, song, name="Stopped take", run_to="PROMPTED")
    with engine_folder(ui_server, pid, monkeypatch) as folder:
        done = [StepProgress(name=n, status="done", done=1, total=1, attempts=1) for n in machine.STEP_NAMES[:3]]
        folder.save_job(Job(kind="pipeline", status="cancelled", target="RENDERED", step="draw", started_at=utcnow(),
                            finished_at=utcnow(), fraction=0.5, message="stopped on request",
                            steps=[*done, StepProgress(name="draw", status="running", done=2, total=5, attempts=1),
                                   StepProgress(name="render")]))
    page.goto(f"{ui_server.base_url}/#/p/{pid}/pipeline")
    primary = page.locator(".action-bar .btn-primary")
    expect(primary).to_have_count(1)
    expect(primary).to_have_attribute("data-action", "resume")
    expect(page.locator(".action-bar [data-action=generate]")).to_contain_text("a new run")
    expect(page.locator(".action-bar [data-action=draw]")).to_contain_text("a new run that stops after this step")
    expect(page.locator("[data-action-note]")).to_contain_text("Resume continues it where it stopped")
    expect(page.locator(".pipeline-screen .job")).not_to_contain_text("CancelledError")
    shoot(page, "ui_pipeline_stopped", docs=True)
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_new_project_upload_focus_errors_and_settings(page: Page, ui_server: UiServer, song: tuple[Path, str],
                                                      tmp_path: Path) -> None:
    """No "Replace track" before a track; a server error reads as a sentence; focus lands on the live status
    after "Upload & generate"; 1080p, the subtitle size and position and the encoding are chosen on the page."""
    page.goto(ui_server.base_url + "/")
    page.get_by_label("Project name").fill("First song")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("tab", name="Song & settings")).to_have_attribute("aria-selected", "true")
    pid = re.search(r"#/p/([^/]+)", page.url).group(1)  # type: ignore[union-attr]
    page.get_by_role("tab", name="Pipeline").click()
    expect(page.locator(".action-bar")).to_contain_text("Upload a song")
    expect(page.locator(".action-bar")).not_to_contain_text("Replace track")
    page.get_by_role("tab", name="Song & settings").click()
    # settings: 1080p, large subtitles at the top
    page.locator("label[for='resolution-1080']").click()
    expect(page.locator("#resolution-1080")).to_be_checked()
    page.locator("label[for='subtitle_size-large']").click()
    expect(page.locator("#subtitle_size-large")).to_be_checked()
    page.locator("label[for='subtitle_position-top']").click()
    expect(page.locator("#subtitle_position-top")).to_be_checked()
    page.locator("label[for='encode_speed-fast']").click()
    expect(page.locator("#encode_speed-fast")).to_be_checked()
    with ui_server.client() as http:
        settings = http.get(f"/projects/{pid}").json()["settings"]
    assert (settings["resolution"], settings["subtitle_size"], settings["subtitle_position"], settings["encode_speed"]) == \
        (1080, "large", "top", "fast")
    shoot(page, "ui_setup_options", docs=True)
    # a file the server cannot read: its lower-case error reads as a sentence
    junk = tmp_path / "broken.wav"
    junk.write_bytes(b"this is not a wave file at all " * 40)
    page.locator("#panel-setup input[type=file][accept^='audio']").set_input_files(str(junk))
    page.get_by_role("button", name="Upload only").click()
    alert = page.get_by_role("alert").filter(has_text=re.compile("audio", re.I)).first
    expect(alert).to_be_visible()
    text = alert.inner_text().strip()
    assert text[0].isupper(), text
    # a real song: Upload & generate puts focus on the Pipeline tab's live status, not on <body>
    wav, _ = song
    with ui_server.client() as http:  # test speed only
        assert http.patch(f"/projects/{pid}", json={"fps": 12, "resolution": 720}).status_code == 200
    page.locator("#panel-setup input[type=file][accept^='audio']").set_input_files(str(wav))
    page.get_by_role("button", name="Upload & generate").click()
    expect(page.get_by_role("tab", name="Pipeline")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-pipeline [data-status-region]")).to_be_focused()
    assert page.evaluate("document.activeElement !== document.body")
    with ui_server.client() as http:
        http.post(f"/projects/{pid}/cancel")
    wait_idle(ui_server, pid)
    unexpected = [e for e in page.errors if "status of 415" not in e]  # type: ignore[attr-defined]  # (the junk upload)
    assert unexpected == [], unexpected
