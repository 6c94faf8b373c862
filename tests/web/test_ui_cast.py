"""The Cast panel in chromium against a real API server, local provider: a project run to IMAGED shows its
lead with the reference picture; a changed colour and name are saved (the API has them, the machine is
back at PROMPTED), and an edit made behind the page's back makes Save reload the current cast (412)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import UiServer, shoot
from tests.web.test_ui import _upload_via_api, wait_idle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def imaged(ui_server: UiServer, song: tuple[Path, str]) -> str:
    return _upload_via_api(ui_server, song, name="Cast song", run_to="IMAGED")


def _cast(server: UiServer, pid: str) -> dict:
    with server.client() as http:
        res = http.get(f"/projects/{pid}/cast")
        assert res.status_code == 200, res.text
        return res.json()


def test_cast_shown_edited_and_saved(page: Page, ui_server: UiServer, imaged: str) -> None:
    wait_idle(ui_server, imaged)
    page.goto(f"{ui_server.base_url}/#/p/{imaged}/storyboard")
    lead = page.locator('.cast-member[data-member="lead"]')
    expect(lead).to_be_visible()
    ref = lead.locator("img.cast-ref")
    expect(ref).to_be_visible()
    assert ref.evaluate("img => img.complete && img.naturalWidth > 0")
    lead.locator('[data-cast-field="name"]').fill("Mara")
    lead.locator('[data-cast-colour="0"]').evaluate(
        "el => { el.value = '#20a040'; el.dispatchEvent(new Event('change', {bubbles: true})); }")
    page.get_by_role("button", name="Save cast").click()
    expect(page.locator(".toast-ok").filter(has_text="Cast saved")).to_be_visible()
    got = _cast(ui_server, imaged)
    assert got["members"][0]["name"] == "Mara" and got["members"][0]["colours"][0] == "#20a040"
    assert got["state"] == "PROMPTED" and got["edited"] is True
    shoot(page, "ui_cast")


def test_stale_cast_edit_reloads(page: Page, ui_server: UiServer, imaged: str) -> None:
    wait_idle(ui_server, imaged)
    page.goto(f"{ui_server.base_url}/#/p/{imaged}/storyboard")
    lead = page.locator('.cast-member[data-member="lead"]')
    expect(lead).to_be_visible()
    current = _cast(ui_server, imaged)
    theirs = [{k: v for k, v in m.items() if k != "reference"} for m in current["members"]]
    theirs[0]["name"] = "Theirs"
    with ui_server.client() as http:
        assert http.put(f"/projects/{imaged}/cast", json={"members": theirs},
                        headers={"If-Match": f'"{current["version"]}"'}).status_code == 200
    lead.locator('[data-cast-field="name"]').fill("Mine")
    page.get_by_role("button", name="Save cast").click()
    expect(page.locator(".toast-error").filter(has_text="changed elsewhere")).to_be_visible()
    expect(lead.locator('[data-cast-field="name"]')).to_have_value("Theirs")
    assert _cast(ui_server, imaged)["members"][0]["name"] == "Theirs"


def _jpeg(colour: tuple[int, int, int] = (200, 40, 60)) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (300, 400), colour).save(buf, format="JPEG")
    return buf.getvalue()


def test_your_own_reference_picture_and_back_to_drawn(page: Page, ui_server: UiServer, imaged: str) -> None:
    """"Use my picture" uploads the member's reference (the API has it as an upload, the machine is at PROMPTED,
    the panel shows it); "Back to a drawn picture" drops it."""
    wait_idle(ui_server, imaged)
    page.goto(f"{ui_server.base_url}/#/p/{imaged}/storyboard")
    lead = page.locator('.cast-member[data-member="lead"]')
    expect(lead.locator('[data-cast-action="upload-reference"]')).to_be_enabled()
    expect(lead.locator('[data-cast-action="drawn-reference"]')).to_have_count(0)
    drawn_url = _cast(ui_server, imaged)["reference_urls"]["lead"]
    lead.locator('[data-cast-action="reference-file"]').set_input_files(
        {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()})
    expect(page.locator(".toast-ok").filter(has_text="is the reference")).to_be_visible()
    got = _cast(ui_server, imaged)
    assert got["members"][0]["reference"]["origin"] == "upload" and got["state"] == "PROMPTED"
    assert got["reference_urls"]["lead"] != drawn_url
    expect(lead.locator("[data-cast-origin]")).to_have_attribute("data-cast-origin", "upload")
    ref = lead.locator("img.cast-ref")
    expect(ref).to_have_attribute("src", re.compile(re.escape(got["reference_urls"]["lead"].split("?")[0])))
    page.wait_for_function("img => img.complete && img.naturalWidth === 300", arg=ref.element_handle())
    shoot(page, "ui_cast_reference")
    lead.locator('[data-cast-action="drawn-reference"]').click()
    expect(page.locator(".toast-ok").filter(has_text="drawn reference")).to_be_visible()
    assert _cast(ui_server, imaged)["members"][0]["reference"] is None
    expect(lead.locator('[data-cast-action="drawn-reference"]')).to_have_count(0)
    expect(lead.locator("[data-cast-origin]")).to_have_text("no reference yet")


def test_continuity_switch_in_the_settings(page: Page, ui_server: UiServer, imaged: str) -> None:
    """The setup form's Continuity switch saves the setting (the machine's change_frame: the pictures are
    stale, the project is at PROMPTED) and shows the saved value after a reload."""
    wait_idle(ui_server, imaged)
    page.goto(f"{ui_server.base_url}/#/p/{imaged}/setup")
    switch = page.locator("#continuity-switch")
    expect(switch).not_to_be_checked()
    expect(page.locator("#continuity-hint")).to_contain_text("Gemini only")
    page.locator("label.switch").filter(has=switch).click()
    expect(page.locator(".toast-ok").filter(has_text="Settings saved")).to_be_visible()
    with ui_server.client() as http:
        got = http.get(f"/projects/{imaged}").json()
    assert got["settings"]["continuity"] is True and got["state"] == "PROMPTED"
    page.reload()
    expect(page.locator("#continuity-switch")).to_be_checked()
