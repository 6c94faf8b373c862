"""The web UI in a real browser (Debian chromium via Playwright) against a real API server, local provider.

The full flow: create a project, upload a short generated song with lyrics,
watch the live state diagram reach RENDERED, edit a scene's prompt,
regenerate it, re-render and play the video. Plus: deleting projects, the
failed state with its reason, a safety-blocked scene, the polling fallback,
keyboard use and phone width. Screenshots go to test-artifacts/web/.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import UiServer, engine_folder, shoot

pytestmark = pytest.mark.slow

PIPELINE_TIMEOUT_MS = 180_000


def _create_via_ui(page: Page, name: str) -> str:
    page.get_by_label("Project name").fill(name)
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("tab", name="Song & settings")).to_have_attribute("aria-selected", "true")
    match = re.search(r"#/p/([^/]+)", page.url)
    assert match, page.url
    return match.group(1)


def _current_state(page: Page) -> str:
    return page.locator("svg.diagram g.node.current").get_attribute("data-state") or ""


def _upload_via_api(server: UiServer, song: tuple[Path, str], *, name: str, run_to: str | None = None,
                    settings: dict | None = None) -> str:
    """Set up a project without the page (upload, and optionally run with a quick preview render)."""
    wav, lrc = song
    with server.client() as http:
        pid = http.post("/projects", json={"name": name, "settings": {"fps": 12, **(settings or {})}}).json()["id"]
        with wav.open("rb") as fh:
            res = http.post(f"/projects/{pid}/upload", files={"audio": (wav.name, fh, "audio/wav")}, data={"lyrics_text": lrc})
        assert res.status_code == 200, res.text
        if run_to:
            assert http.post(f"/projects/{pid}/run", json={"target": run_to, "preview": True}).status_code == 202
            deadline = time.monotonic() + PIPELINE_TIMEOUT_MS / 1000
            while http.get(f"/projects/{pid}").json()["state"] != run_to:
                assert time.monotonic() < deadline, http.get(f"/projects/{pid}/jobs").text
                time.sleep(0.3)
    if run_to:
        wait_idle(server, pid, deadline=deadline)
    return pid


def wait_idle(server: UiServer, pid: str, *, deadline: float | None = None) -> None:
    """Wait until no worker runs on the project (by ``deadline``, monotonic; default the pipeline timeout)."""
    deadline = deadline if deadline is not None else time.monotonic() + PIPELINE_TIMEOUT_MS / 1000
    with server.client() as http:
        while http.get(f"/projects/{pid}").json()["busy"]:
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_projects_screen_create_open_delete(page: Page, ui_server: UiServer) -> None:
    """Projects: create two from the list screen, see them listed, delete one through the confirm dialog."""
    page.goto(ui_server.base_url + "/")
    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
    first = _create_via_ui(page, "Keep me")
    # drag and drop on the drop zone: audio is accepted (shown with a player), other files are refused
    drop = """([name, type]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(64)], name, {type}));
        document.querySelector('.dropzone').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    }"""
    page.evaluate(drop, ["notes.pdf", "application/pdf"])
    expect(page.get_by_role("alert").filter(has_text="does not look like an audio file")).to_have_count(1)
    expect(page.locator(".chosen")).to_be_empty()
    page.evaluate(drop, ["take1.wav", "audio/wav"])
    expect(page.locator(".chosen")).to_contain_text("take1.wav")
    expect(page.locator(".chosen audio")).to_have_count(1)
    expect(page.get_by_role("button", name="Upload & generate")).to_be_enabled()
    page.get_by_role("link", name="All projects", exact=True).click()
    second = _create_via_ui(page, "Delete me")
    page.get_by_role("link", name="All projects", exact=True).click()
    rows = page.locator("[data-project-id]")
    expect(rows.filter(has_text="Keep me")).to_have_count(1)
    expect(rows.filter(has_text="Delete me")).to_have_count(1)
    shoot(page, "ui_projects_new")
    page.get_by_role("button", name="Delete Delete me").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete “Delete me”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(rows.filter(has_text="Delete me")).to_have_count(1)
    page.get_by_role("button", name="Delete Delete me").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(f"[data-project-id='{second}']")).to_have_count(0)
    expect(page.locator(f"[data-project-id='{first}']")).to_have_count(1)
    with ui_server.client() as http:
        assert http.get(f"/projects/{second}").status_code == 404
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_full_flow_in_browser(page: Page, ui_server: UiServer, song: tuple[Path, str]) -> None:
    """Create, upload, watch RENDERED, edit a scene, regenerate, re-render, play the video."""
    wav, lrc = song
    page.goto(ui_server.base_url + "/")
    pid = _create_via_ui(page, "Neon nights")
    with ui_server.client() as http:  # test speed only: 12 fps renders (not a UI setting)
        assert http.patch(f"/projects/{pid}", json={"fps": 12}).status_code == 200
    # the page must have seen that change: a settings change on an older version is refused (If-Match, 412)
    page.reload()
    expect(page.locator("#aspect-16x9")).to_be_checked()
    # settings: pick 1:1 and the watercolour style; each change is saved at once
    page.locator("label[for='aspect-1x1']").click()
    expect(page.get_by_role("status").filter(has_text="Settings saved")).to_have_count(1)
    page.locator("label[for='style-watercolor']").click()
    with ui_server.client() as http:
        deadline = time.monotonic() + 10
        while http.get(f"/projects/{pid}").json()["settings"]["style"] != "watercolor":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        settings = http.get(f"/projects/{pid}").json()["settings"]
    assert settings["aspect"] == "1:1"
    expect(page.locator("[data-provider]")).to_have_text("local")
    shoot(page, "ui_setup_empty")

    page.locator("#panel-setup input[type=file][accept^='audio']").set_input_files(str(wav))
    expect(page.locator(".chosen")).to_contain_text(wav.name)
    page.get_by_role("textbox", name="Lyrics").fill(lrc)
    shoot(page, "ui_setup", docs=True)
    page.get_by_role("button", name="Upload & generate").click()

    # the live diagram: it moves through the pipeline and lands on RENDERED (live over SSE)
    expect(page.get_by_role("tab", name="Pipeline")).to_have_attribute("aria-selected", "true")
    expect(page.locator("body")).to_have_attribute("data-connection", "sse")
    expect(page.locator("#connection")).to_have_attribute("title", re.compile(r"^Live updates"))
    seen: set[str] = set()
    deadline = time.monotonic() + PIPELINE_TIMEOUT_MS / 1000
    running_shot = False
    while time.monotonic() < deadline:
        state = _current_state(page)
        seen.add(state)
        if not running_shot and state in ("SEGMENTED", "PROMPTED"):
            shoot(page, "ui_pipeline_running", docs=True)
            running_shot = True
        if state == "RENDERED" and page.locator("[data-action=cancel]").count() == 0:
            break
        time.sleep(0.15)
    assert _current_state(page) == "RENDERED", f"stuck at {_current_state(page)}; seen {seen}"
    assert len(seen & {"UPLOADED", "ANALYZED", "SEGMENTED", "PROMPTED", "IMAGED"}) >= 2, seen  # watched it live
    expect(page.locator("[data-current-state]")).to_have_text("Rendered")
    expect(page.locator("[data-action=render]")).to_be_visible()  # allowed actions as buttons
    expect(page.locator("svg.diagram [data-state=IMAGED]")).to_have_class(re.compile(r"\bdone\b"))
    expect(page.locator(".job [role=progressbar]").first).to_have_attribute("aria-valuenow", "100")
    shoot(page, "ui_pipeline", docs=True)

    # storyboard: scenes in time order, with thumbnails, times, lyrics and the timeline
    page.get_by_role("tab", name="Storyboard").click()
    cards = page.locator("[data-scene-id]")
    expect(cards.first).to_be_visible()
    n = cards.count()
    assert n >= 3
    times = [page.locator("[data-scene-id] .scene-time").nth(i).inner_text() for i in range(n)]
    assert times == sorted(times, key=lambda t: float(t.split(":")[0]) * 60 + float(t.split(" ")[0].split(":")[1]))
    expect(page.locator(".scene-card img").first).to_be_visible()
    assert page.locator(".tl-scene").count() == n
    assert page.locator(".wave .beat").count() > 10
    expect(page.locator(".scene-lyric").filter(has_text="running with the night")).to_have_count(1)
    shoot(page, "ui_storyboard", docs=True)

    # edit scene 2's prompt, save, regenerate
    target = cards.nth(1)
    scene_id = target.get_attribute("data-scene-id")
    target.locator(".scene-open").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Scene 2")
    prompt_box = dialog.get_by_label("Image prompt")
    old_prompt = prompt_box.input_value()
    assert old_prompt
    prompt_box.fill("a lighthouse on a cliff at dusk, watercolour, gulls, warm light")
    shoot(page, "ui_scene_editor", full_page=False, docs=True)
    dialog.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_have_count(1)
    expect(page.locator("[data-current-state]")).to_have_text("Prompted")
    dialog.get_by_role("button", name="Regenerate picture").click()
    # the worker draws the new version; the dialog shows v2 as current with its picture
    # (one locator: v2 must be current *and* drawn in the same render of the dialog)
    expect(dialog.locator(".version.current[data-version='2'] img")).to_be_visible(timeout=PIPELINE_TIMEOUT_MS)
    expect(dialog.locator(".version[data-version='1'] [data-action=restore]")).to_be_visible()
    with ui_server.client() as http:
        scenes = http.get(f"/projects/{pid}/segments").json()["scenes"]
    scene = next(s for s in scenes if s["id"] == scene_id)
    assert scene["version"] == 2 and scene["image_prompt"].startswith("a lighthouse")
    assert scene["status"] == "ok"
    shoot(page, "ui_scene_versions", full_page=False, docs=True)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(cards.nth(1).locator(".scene-ver")).to_have_text("v2")

    # re-render: the video tab, final render, a second render appears and plays
    page.get_by_role("tab", name="Video").click()
    expect(page.locator(".render-item")).to_have_count(1)
    page.locator("[data-action=render-final]").click()
    expect(page.locator(".render-item")).to_have_count(2, timeout=PIPELINE_TIMEOUT_MS)
    expect(page.locator("[data-current-state]")).to_have_text("Rendered", timeout=PIPELINE_TIMEOUT_MS)
    video = page.locator("video.player")
    expect(video).to_have_attribute("src", re.compile(r"/files/renders/.+_v2\.mp4$"))
    for kind in ("mp4", "srt", "lrc"):
        href = page.locator(f".render-item.current a[data-kind={kind}]").get_attribute("href")
        assert href
        res = httpx.get(ui_server.base_url + href, headers={"Range": "bytes=0-99"})
        assert res.status_code in (200, 206) and res.content, (kind, res.status_code)
    played = page.evaluate(
        """async () => {
            const v = document.querySelector('video.player');
            v.muted = true;
            await v.play();
            await new Promise((ok) => setTimeout(ok, 1200));
            return {t: v.currentTime, w: v.videoWidth, h: v.videoHeight, err: v.error && v.error.code};
        }"""
    )
    assert played["err"] is None and played["t"] > 0.3, played
    assert played["w"] == played["h"], played  # 1:1 as chosen
    page.evaluate("() => { const v = document.querySelector('video.player'); v.pause(); v.currentTime = 6; }")
    time.sleep(0.5)
    shoot(page, "ui_video", docs=True)
    # back on the projects screen the finished project shows its thumbnail
    page.get_by_role("link", name="All projects", exact=True).click()
    row = page.locator(f"[data-project-id='{pid}']")
    expect(row.locator("img")).to_be_visible()
    expect(row.locator(".badge")).to_have_text("video ready")  # words, not the machine's state (engine.machine.status_words)
    shoot(page, "ui_projects", docs=True)
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_failed_state_shows_reason_and_resume(page: Page, ui_server: UiServer, song: tuple[Path, str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A FAILED project: red node, the reason, and Resume as the allowed action."""
    pid = _upload_via_api(ui_server, song, name="Broken take")
    _fail_project(ui_server, pid, monkeypatch)
    page.goto(f"{ui_server.base_url}/#/p/{pid}/pipeline")
    expect(page.locator("svg.diagram g.node.current.failed")).to_have_attribute("data-state", "FAILED")
    alert = page.locator(".failure [role=alert]")
    expect(alert).to_contain_text("the illustrator ran out of paint")
    expect(alert).to_contain_text("Failed during Analyse")  # the step in user words, not "analyze"
    expect(page.locator("[data-action=recover]")).to_be_visible()
    expect(page.locator("[data-action=analyze]")).to_have_count(0)
    errors = page.locator("#panel-pipeline .job-errors")  # (the Video tab shows the same Generate job)
    expect(errors).to_contain_text("Analyse: the illustrator ran out of paint")
    expect(errors.locator("summary")).to_have_text("2 retried errors")
    shoot(page, "ui_failed", docs=True)
    page.locator("[data-action=recover]").click()
    # resume leaves FAILED and continues the pipeline from UPLOADED
    expect(page.locator("svg.diagram g.node.current")).not_to_have_attribute("data-state", "FAILED", timeout=30_000)
    with ui_server.client() as http:
        http.post(f"/projects/{pid}/cancel")
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def _fail_project(server: UiServer, pid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put a project into FAILED the way a runner does: a failed pipeline job, then the ``fail`` trigger."""
    from engine import machine
    from engine.models import ErrorInfo, Job, JobError, StepProgress, utcnow

    with engine_folder(server, pid, monkeypatch) as folder:
        message = "the illustrator ran out of paint"
        folder.save_job(Job(
            kind="pipeline", status="failed", target="RENDERED", step="analyze", started_at=utcnow(), finished_at=utcnow(),
            steps=[StepProgress(name="analyze", status="failed", attempts=3)] + [StepProgress(name=n) for n in machine.STEP_NAMES[1:]],
            errors=[JobError(step="analyze", message="rate limited (429)", attempt=a) for a in (1, 2)]
            + [JobError(step="analyze", message=message, attempt=3, final=True)],
            message=message,
        ))
        project = folder.load_project()
        machine.fire(project, "fail", error=ErrorInfo(step="analyze", message="the illustrator ran out of paint", kind="ProviderError"))
        folder.save_project(project)


def test_blocked_scene_polling_phone_and_keyboard(browser: object, ui_server: UiServer, song: tuple[Path, str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Safety-blocked scene marked with its reason; polling fallback keeps the page live; phone width; keyboard tabs."""
    pid = _upload_via_api(ui_server, song, name="Phone check", run_to="RENDERED")
    _block_scene(ui_server, pid, monkeypatch)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True)  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script("localStorage.setItem('storybeat.polling', '1')")
    page.set_default_timeout(20_000)
    try:
        page.goto(f"{ui_server.base_url}/#/p/{pid}/storyboard")
        card = page.locator("[data-scene-id='seg_001']")
        expect(card).to_have_class(re.compile(r"status-blocked"))
        expect(card).to_contain_text("Blocked by safety filter")
        expect(card).to_contain_text("policy: test says no")
        expect(page.locator(".tl-scene.status-blocked")).to_have_count(1)
        assert page.evaluate("document.body.dataset.connection") == "polling"
        expect(page.locator("#connection")).to_have_attribute("title", re.compile(r"^Polling"))  # says which, not "Live"
        _assert_no_horizontal_scroll(page)
        shoot(page, "ui_phone_storyboard", docs=True)

        # keyboard: focus the selected tab, move with arrows, activate
        page.get_by_role("tab", name="Storyboard").focus()
        page.keyboard.press("ArrowRight")
        expect(page.get_by_role("tab", name="Video")).to_be_focused()
        expect(page.get_by_role("tab", name="Video")).to_have_attribute("aria-selected", "true")
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        expect(page.get_by_role("tab", name="Pipeline")).to_have_attribute("aria-selected", "true")
        _assert_no_horizontal_scroll(page)
        # polling follows a change made elsewhere: turning subtitles off rewinds RENDERED -> IMAGED
        with ui_server.client() as http:
            assert http.patch(f"/projects/{pid}", json={"subtitles": False}).status_code == 200
        expect(page.locator("svg.diagram g.node.current")).to_have_attribute("data-state", "IMAGED")
        expect(page.locator("[data-action=render]")).to_be_visible()
        _assert_no_horizontal_scroll(page)
        shoot(page, "ui_phone_pipeline", docs=True)
        page.get_by_role("tab", name="Song & settings").click()
        expect(page.locator("input[name=subtitles]")).not_to_be_checked()
        _assert_no_horizontal_scroll(page)
        shoot(page, "ui_phone_setup")
        page.get_by_role("tab", name="Video").click()
        expect(page.locator(".render-item")).to_have_count(1)
        expect(page.locator(".render-item .badge")).to_have_text("preview")
        _assert_no_horizontal_scroll(page)
        shoot(page, "ui_phone_video")
        assert errors == [], errors
    finally:
        context.close()


def _assert_no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, f"page is {width}px wide at phone width"


def _block_scene(server: UiServer, pid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mark scene 1's current picture as blocked, as a provider's safety filter would."""
    from engine.config import get_settings
    from engine.storage import ProjectFolder, atomic_write_json

    monkeypatch.setenv("STORYBEAT_DATA", str(server.data))
    get_settings.cache_clear()
    try:
        folder = ProjectFolder(pid)
        prompts = folder.load_prompts()
        assert prompts is not None
        image = prompts.scenes[0].latest.image
        assert image is not None
        image.status, image.reason, image.file = "blocked", "policy: test says no", None
        atomic_write_json(folder.prompts_json, prompts)
    finally:
        get_settings.cache_clear()
    assert json.loads(folder.prompts_json.read_text())["scenes"][0]["versions"][-1]["image"]["status"] == "blocked"
