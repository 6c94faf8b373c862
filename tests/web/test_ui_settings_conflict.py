"""A settings change made elsewhere is never overwritten by a page that had not seen it (issue 14).

The page's live updates (SSE and the polling fallback) are paused (the app's own `api.unwatch()`) while the
settings change through the API, so the page still shows the old settings; its next change carries the
old version as If-Match, the real server answers 412, and the page says so; once it hears again
(`api.watch`) it shows the current settings.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import UiServer
from tests.web.test_ui import _upload_via_api

pytestmark = pytest.mark.slow


def test_a_stale_settings_change_gets_412_and_the_current_settings(page: Page, ui_server: UiServer, song: tuple[Path, str]) -> None:
    pid = _upload_via_api(ui_server, song, name="Settings race")
    page.goto(f"{ui_server.base_url}/#/p/{pid}/setup")
    expect(page.locator("#aspect-16x9")).to_be_checked()

    page.evaluate("async () => (await import('/static/js/api.js')).api.unwatch()")  # the page hears of no change now
    with ui_server.client() as http:
        res = http.patch(f"/projects/{pid}", json={"aspect": "1:1"})
        assert res.status_code == 200, res.text
    page.locator("label[for='aspect-9x16']").click()
    expect(page.locator(".toast-error").filter(has_text="changed elsewhere")).to_be_visible()
    with ui_server.client() as http:
        assert http.get(f"/projects/{pid}").json()["settings"]["aspect"] == "1:1", "the other change is kept"
    page.evaluate("async (id) => (await import('/static/js/api.js')).api.watch(id)", pid)
    expect(page.locator("#aspect-1x1")).to_be_checked(timeout=15_000)  # the form shows the current settings
    # and a change made on the current settings goes through
    page.locator("label[for='aspect-9x16']").click()
    expect(page.locator(".toast-ok").filter(has_text="Settings saved")).to_be_visible()
    with ui_server.client() as http:
        assert http.get(f"/projects/{pid}").json()["settings"]["aspect"] == "9:16"
