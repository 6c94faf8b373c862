"""The Pipeline screen shows what the project spent (the ledger, never reset) and the notes steps left."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import UiServer, engine_folder

pytestmark = pytest.mark.slow


def test_spend_and_step_notes_on_the_pipeline_screen(page: Page, ui_server: UiServer, song: tuple[Path, str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.models import Scene, Segments
    from engine.usage import UsageDelta, append_ledger

    wav, lrc = song
    with ui_server.client() as http:
        pid = http.post("/projects", json={"name": "Spent"}).json()["id"]
        with wav.open("rb") as fh:
            assert http.post(f"/projects/{pid}/upload", files={"audio": (wav.name, fh, "audio/wav")},
                             data={"lyrics_text": lrc}).status_code == 200
    with engine_folder(ui_server, pid, monkeypatch) as folder:
        for _ in range(8):  # a first run of nine calls...
            append_ledger(folder, UsageDelta(model="m", est_cost_usd=0.01), job="pipeline@1", step="draw")
        append_ledger(folder, UsageDelta(model="m", est_cost_usd=0.02), job="pipeline@1", step="draw")
        append_ledger(folder, UsageDelta(model="m", images=1, est_cost_usd=0.04), job="pipeline@2", step="draw")
        folder.segments_json.write_text(Segments(note="Gemini refused to write the storyboard (SAFETY): the local "
                                                      "storyboard is used", scenes=[Scene(
            id="seg_001", index=0, start_ms=0, end_ms=1000, visual_intent="x", mood="m", energy=0.5,
            section="verse")]).model_dump_json())
    page.goto(f"{ui_server.base_url}/#/p/{pid}/pipeline")
    spend = page.locator("#panel-pipeline [data-spend]")
    expect(spend).to_have_text("Spent ≈ $0.140 in 10 calls in all; the last job ≈ $0.040 in 1 call.")
    note = page.locator("#panel-pipeline [data-note-step=segment]")
    expect(note).to_contain_text("Gemini refused to write the storyboard (SAFETY)")
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
