"""Browser tests for the fixes of the UI audit (real server, local provider, Debian chromium).

Toasts above the open scene dialog, the dialog following the project's allowed
triggers, older renders that stay playing, the pipeline job on the Video tab,
one project per double click, Stop that reads as stopped (not failed), step
names in user words, the phone layout (diagram centred when its tab opens,
tabs that fit), keyboard focus after the dialog, create and delete, and the
neutral "not drawn yet" version.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import UiServer, engine_folder, shoot
from tests.web.test_ui import _upload_via_api, wait_idle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prompted(ui_server: UiServer, song: tuple[Path, str]) -> str:
    """A project with its scenes and prompts (state PROMPTED, no pictures yet); tests that change it make their own."""
    return _upload_via_api(ui_server, song, name="Prompted", run_to="PROMPTED")


def _on_top(item: Locator) -> bool:
    """Whether ``item`` is what a pointer at its centre hits (nothing covers it, not even a dialog's backdrop)."""
    return bool(item.evaluate("""(el) => {
        const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return r.width > 0 && !!hit && el.contains(hit);
    }"""))


def test_scene_dialog_follows_allowed_triggers_and_toasts_show_above_it(page: Page, ui_server: UiServer,
                                                                         song: tuple[Path, str]) -> None:
    """A new intent sends the project back to SEGMENTED: Regenerate and the prompt are off, with the reason.

    Every toast raised in the dialog is on top of it; closing it puts focus back on the scene's card.
    """
    pid = _upload_via_api(ui_server, song, name="Intent edit", run_to="PROMPTED")
    page.goto(f"{ui_server.base_url}/#/p/{pid}/storyboard")
    card = page.locator("[data-scene-id]").first
    scene_id = card.get_attribute("data-scene-id")
    card.locator(".scene-open").click()
    dialog = page.get_by_role("dialog")
    regen = dialog.locator("[data-action=regenerate]")
    prompt_box = dialog.get_by_label("Image prompt")
    expect(regen).to_be_enabled()
    expect(prompt_box).to_be_editable()
    expect(dialog.locator("[data-editor-why]")).to_be_hidden()
    # a pending version reads neutrally, not as an error
    expect(dialog.locator(".version[data-version='1'] [data-version-status=pending]")).to_have_text("not drawn yet")
    expect(dialog.locator(".version .error-text")).to_have_count(0)

    # Save with nothing changed: the toast is above the modal dialog
    dialog.get_by_role("button", name="Save changes").click()
    nothing = page.locator(".toast").filter(has_text="Nothing changed.")
    expect(nothing).to_be_visible()
    assert _on_top(nothing), "the toast is hidden under the dialog's backdrop"
    nothing.get_by_role("button", name="Dismiss").click()  # and it can be used
    expect(nothing).to_have_count(0)

    dialog.get_by_label("Visual intent").fill("a lighthouse keeper watching a storm roll in")
    dialog.get_by_role("button", name="Save changes").click()
    saved = page.locator(".toast").filter(has_text="Intent saved")
    expect(saved).to_be_visible()
    assert _on_top(saved)
    expect(page.locator(".project-sub [data-state]")).to_have_attribute("data-state", "SEGMENTED")
    # the machine allows neither regenerate nor edit_prompt in SEGMENTED: the dialog says so
    expect(regen).to_be_disabled()
    expect(prompt_box).not_to_be_editable()
    expect(dialog.locator("[data-editor-why]")).to_be_visible()
    expect(dialog.locator("[data-editor-why]")).to_contain_text("press Generate")
    expect(dialog.get_by_label("Visual intent")).to_be_editable()  # edit_intent still allowed
    shoot(page, "ui_scene_editor_segmented", full_page=False)

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator(f"[data-scene-id='{scene_id}'] .scene-open")).to_be_focused()
    with ui_server.client() as http:
        scene = next(s for s in http.get(f"/projects/{pid}/segments").json()["scenes"] if s["id"] == scene_id)
    assert scene["visual_intent"] == "a lighthouse keeper watching a storm roll in"
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_escape_returns_focus_and_asks_before_dropping_edits(page: Page, ui_server: UiServer, prompted: str) -> None:
    """Esc closes the dialog and focus goes back to the same scene's card; with unsaved edits it asks first."""
    page.goto(f"{ui_server.base_url}/#/p/{prompted}/storyboard")
    second = page.locator("[data-scene-id]").nth(1)
    scene_id = second.get_attribute("data-scene-id")
    opener = page.locator(f"[data-scene-id='{scene_id}'] .scene-open")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Scene 2")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(opener).to_be_focused()

    # unsaved edits: Esc asks; Cancel keeps the dialog and the text
    page.keyboard.press("Enter")
    intent = page.get_by_role("dialog").get_by_label("Visual intent")
    intent.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" at night")
    page.keyboard.press("Escape")
    ask = page.get_by_role("dialog").filter(has_text="Discard your changes?")
    expect(ask).to_be_visible()
    ask.get_by_role("button", name="Cancel").click()
    expect(ask).to_have_count(0)
    expect(intent).to_have_value(re.compile(r" at night$"))
    # Esc again, Discard: closed, nothing saved, focus back on the card
    page.keyboard.press("Escape")
    page.get_by_role("dialog").filter(has_text="Discard your changes?").get_by_role("button", name="Discard").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(opener).to_be_focused()
    with ui_server.client() as http:
        scene = next(s for s in http.get(f"/projects/{prompted}/segments").json()["scenes"] if s["id"] == scene_id)
    assert not scene["visual_intent"].endswith(" at night")
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_create_once_and_focus_after_create_and_delete(page: Page, ui_server: UiServer) -> None:
    """A double click creates one project; focus lands on its heading, and on the list's heading after a delete."""
    page.goto(ui_server.base_url + "/")
    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
    # a slow server: the second click (and a submit by Enter) arrive while the first request runs
    page.evaluate("""() => {
        const orig = window.fetch;
        window.fetch = (url, opts) => (opts && opts.method === 'POST' && String(url).endsWith('/projects'))
            ? new Promise((ok) => setTimeout(ok, 600)).then(() => orig(url, opts)) : orig(url, opts);
    }""")
    page.get_by_label("Project name").fill("Only once")
    button = page.get_by_role("button", name="Create project")
    button.dblclick()
    expect(button).to_be_disabled()
    page.evaluate("() => document.querySelector('.create-card').requestSubmit()")
    expect(page.get_by_role("tab", name="Song & settings")).to_have_attribute("aria-selected", "true")
    expect(page.locator("h1.project-title")).to_have_text("Only once")
    expect(page.locator("h1.project-title")).to_be_focused()
    time.sleep(0.8)  # a second request would have landed by now
    with ui_server.client() as http:
        names = [p["name"] for p in http.get("/projects").json()]
    assert names.count("Only once") == 1, names

    page.get_by_role("link", name="All projects", exact=True).click()
    heading = page.get_by_role("heading", name="Your projects")
    expect(heading).to_be_focused()
    page.get_by_role("button", name="Delete Only once").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("[data-project-id]").filter(has_text="Only once")).to_have_count(0)
    expect(heading).to_be_focused()
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_video_tab_shows_the_generate_job_it_started(page: Page, ui_server: UiServer, song: tuple[Path, str]) -> None:
    """A render started on the Video tab before the pictures exist runs the pipeline: its progress shows there."""
    pid = _upload_via_api(ui_server, song, name="Render early")
    page.goto(f"{ui_server.base_url}/#/p/{pid}/video")
    job = page.locator(".video-screen .job")
    expect(job).to_contain_text("nothing has run yet")
    page.locator("[data-action=render-preview]").click()
    expect(job).to_contain_text("Generate job")
    expect(job).not_to_contain_text("nothing has run yet")
    expect(job.locator("[role=progressbar]")).to_have_count(1)
    with ui_server.client() as http:
        http.post(f"/projects/{pid}/cancel")
    wait_idle(ui_server, pid)
    expect(job.locator(".pill")).not_to_have_text("Running")
    expect(job.locator(".error-text")).to_have_count(0)
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_stop_reads_as_stopped_and_steps_in_user_words(page: Page, ui_server: UiServer, song: tuple[Path, str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancelled run: no red error or dot, "Stopped — Resume to continue" and a Resume button; "Pictures", not "draw"."""
    pid = _upload_via_api(ui_server, song, name="Stopped take")
    _cancelled_job(ui_server, pid, monkeypatch)
    page.goto(f"{ui_server.base_url}/#/p/{pid}/pipeline")
    job = page.locator(".pipeline-screen .job")
    expect(job.locator(".pill")).to_have_text("Stopped")
    expect(job.locator("[data-job-stopped]")).to_have_text(re.compile(r"Stopped during Pictures — Resume to continue"))
    expect(job.locator(".error-text")).to_have_count(0)
    expect(job).not_to_contain_text("CancelledError")
    draw = job.locator(".step[data-step=draw]")
    expect(draw).to_have_attribute("data-status", "stopped")
    dot = draw.locator(".step-dot").evaluate("(el) => getComputedStyle(el).backgroundColor")
    danger = page.evaluate("""() => {
        const probe = document.createElement('span');
        probe.style.color = 'var(--danger)';
        document.body.appendChild(probe);
        const c = getComputedStyle(probe).color;
        probe.remove();
        return c;
    }""")
    assert dot != danger, dot
    expect(page.locator("[data-action=resume]")).to_be_visible()
    shoot(page, "ui_pipeline_stopped")

    # the header's mini bar names the step in user words
    page.evaluate("""async () => {
        const {api} = await import('/static/js/api.js');
        api._emit('job', {kind: 'pipeline', status: 'running', step: 'draw', fraction: 0.29, steps: [], errors: [],
                          eta_s: null, usage: null, started_at: new Date().toISOString()});
    }""")
    expect(page.locator(".mini-progress")).to_have_text("Pictures 29%")
    expect(page.locator(".state-line")).to_contain_text("working on Pictures")
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def _cancelled_job(server: UiServer, pid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job file a Stop leaves when it interrupts the pictures step (its CancelledError is recorded as final)."""
    from engine import machine
    from engine.models import Job, JobError, StepProgress, utcnow

    with engine_folder(server, pid, monkeypatch) as folder:
        done = [StepProgress(name=n, status="done", done=1, total=1, attempts=1) for n in machine.STEP_NAMES[:3]]
        folder.save_job(Job(
            kind="pipeline", status="cancelled", target="RENDERED", step="draw", started_at=utcnow(), finished_at=utcnow(),
            fraction=0.5,
            steps=[*done, StepProgress(name="draw", status="failed", done=2, total=5, attempts=1), StepProgress(name="render")],
            errors=[JobError(step="draw", message="CancelledError: stopped on request", attempt=1, final=True)],
            message="stopped on request",
        ))


def test_phone_diagram_centred_when_shown_and_tabs_fit(phone: Page, ui_server: UiServer, prompted: str) -> None:
    """390 px: opening the Pipeline tab centres the current state; all four tabs are on screen."""
    page = phone
    page.goto(f"{ui_server.base_url}/#/p/{prompted}/storyboard")
    expect(page.locator("[data-scene-id]").first).to_be_visible()
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_count(4)
    strip = page.get_by_role("tablist").bounding_box()
    assert strip and strip["x"] >= 0 and strip["x"] + strip["width"] <= 390
    for i in range(4):
        box = tabs.nth(i).bounding_box()
        assert box, i
        assert box["x"] >= strip["x"] - 0.5 and box["x"] + box["width"] <= strip["x"] + strip["width"] + 0.5, (i, box, strip)
    assert page.evaluate("(() => { const l = document.querySelector('[role=tablist]'); return l.scrollWidth <= l.clientWidth; })()")

    page.get_by_role("tab", name="Pipeline").click()
    current = page.locator("svg.diagram g.node.current")
    expect(current).to_have_attribute("data-state", "PROMPTED")
    scroller = page.locator(".diagram-scroll")
    assert scroller.evaluate("(el) => el.scrollLeft") > 0
    node = current.bounding_box()
    view = scroller.bounding_box()
    assert node and view
    assert node["x"] >= view["x"] and node["x"] + node["width"] <= view["x"] + view["width"], (node, view)

    page.get_by_role("tab", name="Video").click()
    video_tab = page.get_by_role("tab", name="Video")
    expect(video_tab).to_have_attribute("aria-selected", "true")
    box = video_tab.bounding_box()
    assert box and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    shoot(page, "ui_phone_tabs")
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
