"""The web UI against a server with STORYBEAT_TOKEN: the token travels only in the Authorization header.

Pictures, audio, video and the live events (which cannot send headers) are
authorised by the HttpOnly session cookie; no request URL carries the token,
and the server's access log never holds it.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import UiServer, running_ui_server

pytestmark = pytest.mark.slow

TOKEN = "browser-s3cret-0123456789"


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """A UI server with a token and its access log on."""
    with running_ui_server(tmp_path_factory.mktemp("web-token"), token=TOKEN, log_level="info") as server:
        yield server


def test_token_never_in_a_url_or_the_log(page: Page, token_server: UiServer) -> None:
    with token_server.client() as http:
        pid = http.post("/projects", json={"name": "token song"}).json()["id"]
    urls: list[str] = []
    page.on("request", lambda req: urls.append(req.url))
    page.goto(f"{token_server.base_url}/#/p/{pid}/setup")
    page.get_by_label("Access token").fill(TOKEN)
    page.errors.clear()  # type: ignore[attr-defined]  # the 401s that asked for the token
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("tab", name="Song & settings")).to_have_attribute("aria-selected", "true")
    # the style samples (<img>) load through the cookie
    samples = page.locator(".style-card img")
    expect(samples.first).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.style-card img')].every((i) => i.complete && i.naturalWidth > 0)",
        timeout=60_000,
    )
    # the live events (EventSource) connect through the cookie too, without falling back to polling
    page.wait_for_function("() => document.body.dataset.connection === 'sse'")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["storybeat_session"]["httpOnly"] and TOKEN not in cookies["storybeat_session"]["value"]
    assert page.evaluate("() => document.cookie") == ""  # not readable by scripts
    assert any("/events" in u for u in urls) and any("/sample.png" in u for u in urls)
    leaked = [u for u in urls if TOKEN in u or "token=" in u]
    assert not leaked, leaked
    log_text = token_server.log_path.read_text(errors="replace")
    assert "/events" in log_text, "the access log is off: the check below would prove nothing"
    assert TOKEN not in log_text
    assert not page.errors, page.errors  # type: ignore[attr-defined]  # nothing refused once the token was given
