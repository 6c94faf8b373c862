"""Gemini pays once: whole runs (the real SDK against the fake Gemini server) counting paid calls.

Each test here failed before its fix (issue 15, "Gemini: pay once"): a bad
answer costs at most one repair call, a finished sub-result (the upload, the
local analysis) is not redone on a retry, every image refusal is a scene
state, a refused text step falls back to the local result with a note.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import machine
from engine.config import get_settings
from engine.errors import StorybeatError
from engine.models import ProjectSettings
from engine.storage import ProjectFolder
from tests.engine.gemini_runs import make_short_song, new_project, run, serve_fake_gemini
from tests.fakes import Fault, FakeGemini

TEXT_MODEL = "gemini-2.5-flash"
IMAGE_MODEL = "gemini-2.5-flash-image"


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8 s synthetic song (120 BPM, 4 bars)."""
    return make_short_song(tmp_path_factory)


@pytest.fixture
def fake(data_root: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A fake Gemini the engine is pointed at (fast backoff)."""
    yield from serve_fake_gemini(monkeypatch)


def fenced(kind: str):  # type: ignore[no-untyped-def]
    """A responder that answers requests of ``kind`` with the default JSON inside a ```json fence."""
    from tests.fakes.gemini_server import default_json_answer, text_response

    def responder(model: str, request: dict) -> dict | None:
        if request["_kind"] != kind:
            return None
        text = "Here is the storyboard:\n```json\n" + json.dumps(default_json_answer(request)) + "\n```\n"
        return text_response(model, text, request)

    return responder


def text_calls(fake: FakeGemini) -> int:
    return fake.count("generateContent", model=TEXT_MODEL)


def test_a_fenced_answer_is_used_without_another_call(song: Path, fake: FakeGemini) -> None:
    project_id = new_project(song)
    fake.responder = fenced("storyboard")
    assert run(project_id).state == machine.SEGMENTED
    assert text_calls(fake) == 2  # analysis, storyboard: the fence is stripped, nothing is asked again
    assert fake.count("upload.start") == 1
    # nothing test-only is sent: the fake told the requests apart from their schemas
    assert not any("storybeat:" in json.dumps(c.body) for c in fake.calls_to("generateContent"))


def test_a_negative_timestamp_is_clamped_not_rejected(song: Path, fake: FakeGemini) -> None:
    from tests.fakes.gemini_server import default_json_answer

    def responder(model: str, request: dict) -> dict | None:
        if request["_kind"] != "analysis":
            return None
        answer = default_json_answer(request)
        answer["lyrics"][0]["start_ms"] = -120
        answer["sections"][0]["start_ms"] = -5
        answer["sections"][0]["energy"] = 1.7
        return answer

    fake.responder = responder
    project_id = new_project(song)
    assert run(project_id).state == machine.SEGMENTED
    assert text_calls(fake) == 2 and fake.count("upload.start") == 1
    analysis = ProjectFolder(project_id).load_analysis()
    assert analysis.provider == "gemini" and analysis.sections


def test_an_unusable_answer_costs_exactly_one_repair_call(song: Path, fake: FakeGemini) -> None:
    from tests.fakes.gemini_server import default_json_answer, text_response

    storyboard_requests: list[dict] = []

    def responder(model: str, request: dict) -> dict | None:
        if request["_kind"] != "storyboard":
            return None
        storyboard_requests.append(request)
        if len(storyboard_requests) == 1:
            return text_response(model, '{"scenes": [{"start_ms": 0, "end_ms": "soon"', request)
        return default_json_answer(request)

    fake.responder = responder
    project_id = new_project(song)
    assert run(project_id).state == machine.SEGMENTED
    assert len(storyboard_requests) == 2 and text_calls(fake) == 3
    repair = storyboard_requests[1]
    turns = [c.get("role") for c in repair["contents"]]
    assert turns == ["user", "model", "user"]  # the request, the bad answer, the error fed back
    assert '"end_ms": "soon"' in repair["contents"][1]["parts"][0]["text"]
    assert "JSON" in repair["contents"][2]["parts"][0]["text"]


def test_an_answer_bad_twice_fails_after_two_calls(song: Path, fake: FakeGemini) -> None:
    from tests.fakes.gemini_server import text_response

    def responder(model: str, request: dict) -> dict | None:
        if request["_kind"] != "storyboard":
            return None
        return text_response(model, "I would rather not answer in JSON.", request)

    fake.responder = responder
    project_id = new_project(song)
    with pytest.raises(StorybeatError):
        run(project_id)
    assert fake.count("generateContent", model=TEXT_MODEL) == 3  # analysis + storyboard + its one repair
    assert fake.count("upload.start") == 1
    project = ProjectFolder(project_id).load_project()
    assert project.state == machine.FAILED and "storyboard" in project.error.message.lower() or project.error.step == "segment"


def test_a_retried_step_reuses_the_upload_and_the_local_analysis(song: Path, fake: FakeGemini) -> None:
    fake.add_fault("generateContent", Fault.http(503, times=20))  # analysis call keeps failing: the run fails
    project_id = new_project(song)
    with pytest.raises(StorybeatError):
        run(project_id, target=machine.ANALYZED)
    folder = ProjectFolder(project_id)
    assert folder.load_project().state == machine.FAILED
    uploads, first_calls = fake.count("upload.start"), fake.count("generateContent")
    assert uploads == 1 and first_calls == 5  # the client's attempts; the runner did not retry them again
    local = folder.cache_dir / "local_analysis.json"
    made_at = local.stat().st_mtime_ns
    fake.clear_faults()
    assert run(project_id, target=machine.ANALYZED).state == machine.ANALYZED  # resume
    assert fake.count("upload.start") == 1  # the persisted upload was used again (after one unbilled status check)
    assert fake.count("generateContent") == first_calls + 1
    assert local.stat().st_mtime_ns == made_at  # the local analysis was not made again


@pytest.mark.parametrize("step, fault", [
    ("analyze", Fault("prompt_blocked", reason="PROHIBITED_CONTENT")),
    ("segment", Fault("image_blocked", reason="SAFETY")),  # a text answer cut off with finishReason SAFETY
])
def test_a_refused_text_step_falls_back_to_local_with_a_note(song: Path, fake: FakeGemini, step: str,
                                                             fault: Fault) -> None:
    from api.views import project_public

    project_id = new_project(song)
    fault.at_call = 1 if step == "analyze" else 2
    fake.add_fault("generateContent", fault)
    assert run(project_id).state == machine.SEGMENTED  # not FAILED
    assert text_calls(fake) == 2  # the refused call was not asked again
    folder = ProjectFolder(project_id)
    notes = dict(folder.step_notes())
    assert list(notes) == [step] and fault.reason in notes[step] and "local" in notes[step]
    if step == "analyze":
        assert folder.load_analysis().provider == "local"
    assert folder.load_segments().scenes
    view = project_public(folder).model_dump(mode="json")
    assert [n["step"] for n in view["notes"]] == [step]


@pytest.mark.parametrize("fault", [Fault("prompt_blocked", reason="PROHIBITED_CONTENT"), Fault("image_blocked", reason="SAFETY")])
def test_a_refused_prompt_step_falls_back_to_the_local_writer_with_a_note(song: Path, fake: FakeGemini, fault: Fault) -> None:
    """The prompt step's call (style bible and prompts) refused: the local writer's bible and prompts, a visible
    note, no call asked again; later prompt calls (an edited scene, with the kept bible) fall back the same way."""
    from api.views import project_public
    from engine.project import edit_scene

    project_id = new_project(song)
    fault.at_call = 3  # analysis, storyboard, then the prompt step's call
    fake.add_fault("generateContent", fault)
    assert run(project_id, target=machine.PROMPTED).state == machine.PROMPTED  # not FAILED
    assert text_calls(fake) == 3  # the refused call was not asked again, nor the prompts asked separately
    folder = ProjectFolder(project_id)
    notes = dict(folder.step_notes())
    assert list(notes) == ["prompt"] and fault.reason in notes["prompt"] and "local" in notes["prompt"]
    prompts = folder.load_prompts()
    assert prompts is not None and all(sp.latest.image_prompt for sp in prompts.scenes)
    assert [n["step"] for n in project_public(folder).model_dump(mode="json")["notes"]] == ["prompt"]

    scene = folder.load_segments().scenes[0]  # type: ignore[union-attr]
    edit_scene(project_id, scene.id, visual_intent="a lighthouse in the storm")
    fake.add_fault("generateContent", Fault(fault.kind, reason=fault.reason, at_call=4))
    assert run(project_id, target=machine.PROMPTED).state == machine.PROMPTED
    assert text_calls(fake) == 4
    assert fault.reason in dict(folder.step_notes())["prompt"]
    assert "lighthouse" in folder.load_prompts().scenes[0].latest.image_prompt  # type: ignore[union-attr]


def test_an_image_refusal_is_a_blocked_scene_and_regenerate_asks_differently(song: Path, fake: FakeGemini) -> None:
    from engine.project import regenerate_scene

    project_id = new_project(song)
    # calls: analysis, storyboard, prompts, the cast's reference picture, then the first scene's picture
    fake.add_fault("generateContent", Fault("image_blocked", reason="OTHER", at_call=5))
    assert run(project_id, target=machine.IMAGED).state == machine.IMAGED
    folder = ProjectFolder(project_id)
    first = folder.load_prompts().scenes[0]
    image = first.latest.image
    assert image.status == "blocked" and image.reason == "OTHER" and image.fallback and image.provider == "local"
    assert folder.resolve(image.file).is_file()
    refused = fake.calls_to("generateContent")[4].body

    regenerate_scene(project_id, first.id)
    assert run(project_id, target=machine.IMAGED).state == machine.IMAGED
    again = fake.calls_to("generateContent")[-1].body
    assert again["generationConfig"]["seed"] != refused["generationConfig"]["seed"]
    texts = [json.dumps(b["contents"]) for b in (refused, again)]
    assert "Variation 2" in texts[1] and "Variation" not in texts[0]
    latest = folder.load_prompts().scenes[0].latest
    assert latest.version == 2 and latest.image.status == "ok" and latest.image.provider == "gemini"


def test_the_ledger_keeps_every_call_and_the_last_jobs_share(song: Path, fake: FakeGemini,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from engine.project import regenerate_scene
    from engine.usage import read_spend

    project_id = new_project(song)
    assert run(project_id, target=machine.IMAGED).state == machine.IMAGED
    folder = ProjectFolder(project_id)
    paid = fake.count("generateContent")
    spend = read_spend(folder)
    assert spend.total.calls == spend.last_job.calls == paid
    first_cost = spend.total.est_cost_usd
    assert first_cost > 0

    regenerate_scene(project_id, folder.load_segments().scenes[0].id)
    assert run(project_id, target=machine.IMAGED).state == machine.IMAGED
    spend = read_spend(folder)
    assert spend.total.calls == paid + 1  # never reset: the regenerate adds one call
    assert spend.last_job.calls == 1 and spend.last_job.images == 1
    assert folder.load_job("pipeline").usage.calls == 1  # the job file holds only its own share
    assert spend.total.est_cost_usd == pytest.approx(first_cost + spend.last_job.est_cost_usd)
    lines = [json.loads(line) for line in (folder.jobs_dir / "ledger.jsonl").read_text().splitlines()]
    assert len(lines) == paid + 1 and lines[-1]["step"] == "draw" and lines[0]["step"] == "analyze"

    from engine.cli import main

    capsys.readouterr()
    assert main(["status", project_id]) == 0
    out = capsys.readouterr().out
    assert f"in {paid + 1} calls" in out and "last job" in out and ", 1 call" in out
    assert main(["status", project_id, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["spend"]["total"]["calls"] == paid + 1 and status["spend"]["last_job"]["calls"] == 1


def test_a_torn_ledger_line_is_skipped_and_never_swallows_the_next(data_root: Path) -> None:
    from engine.project import create_project
    from engine.usage import UsageDelta, append_ledger, ledger_path, read_spend

    folder = ProjectFolder(create_project(settings=ProjectSettings()).id)
    append_ledger(folder, UsageDelta(model="m", est_cost_usd=0.5), job="a")
    with ledger_path(folder).open("ab") as fh:
        fh.write(b'{"job": "a", "calls": 1, "est_c')  # a crash in the middle of a line
    append_ledger(folder, UsageDelta(model="m", est_cost_usd=0.25), job="b")
    spend = read_spend(folder)
    assert spend.total.calls == 2 and spend.total.est_cost_usd == 0.75
    assert spend.last_job.calls == 1 and spend.last_job_id == "b"


def test_slow_upload_processing_fails_once_at_the_configured_deadline(song: Path, fake: FakeGemini,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBEAT_GEMINI_UPLOAD_TIMEOUT_S", "0.05")
    get_settings.cache_clear()
    fake.processing_polls = 10_000  # the file never becomes ACTIVE
    project_id = new_project(song)
    with pytest.raises(StorybeatError):
        run(project_id, target=machine.ANALYZED)
    project = ProjectFolder(project_id).load_project()
    assert project.state == machine.FAILED and "STORYBEAT_GEMINI_UPLOAD_TIMEOUT_S" in project.error.message
    assert fake.count("upload.start") == 1  # not once per step attempt
    assert 1 <= fake.count("files.get") <= 10  # polled every 0.01 s for 0.05 s, not 300 s
    assert fake.count("generateContent") == 0


def test_stop_ends_the_upload_poll_at_once(song: Path, fake: FakeGemini) -> None:
    import threading

    from engine.errors import CancelledError
    from engine.runner import Runner

    fake.processing_polls = 10_000  # without a working Stop this waits the full 300 s deadline
    project_id = new_project(song)
    stop = threading.Event()
    polls_at_stop: list[int] = []

    def press_stop() -> None:
        while fake.count("files.get") < 3:
            threading.Event().wait(0.01)
        polls_at_stop.append(fake.count("files.get"))
        stop.set()

    presser = threading.Thread(target=press_stop, daemon=True)
    presser.start()
    with pytest.raises(CancelledError):
        Runner(project_id, target=machine.ANALYZED, stop_event=stop).run()
    presser.join()
    assert fake.count("files.get") <= polls_at_stop[0] + 1  # at most the poll that was in flight
    assert ProjectFolder(project_id).load_job("pipeline").status == "cancelled"


def test_the_runners_wait_for_a_server_delay_is_capped() -> None:
    import tenacity

    from engine.config import Settings
    from engine.errors import ProviderError
    from engine.runner import _backoff

    state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
    error = ProviderError("429 from a provider without a retry of its own", transient=True, retry_after_s=3600)
    state.set_exception((ProviderError, error, None))
    wait = _backoff(Settings(retry_base_s=1, retry_max_s=30))(state)
    assert 30 <= wait <= 33  # RETRY_MAX_S plus jitter, not an hour


def test_the_estimate_counts_the_cast_references_and_the_input_images(song: Path, fake: FakeGemini) -> None:
    """The pre-flight estimate of the pictures (with continuity) is the calls and pictures the run then pays for:
    the lead's reference picture, and as input the reference in every picture and the previous picture."""
    from engine.cast import REFERENCE_SIZE
    from engine.images import canvas_size
    from engine.usage import IMAGE_PROMPT_TOKENS, estimate_project, input_image_tokens

    project_id = new_project(song, continuity=True)
    assert run(project_id, target=machine.PROMPTED).state == machine.PROMPTED
    folder = ProjectFolder(project_id)
    n = len(folder.load_segments().scenes)  # type: ignore[union-attr]
    est = estimate_project(project_id)
    assert [s.step for s in est.steps] == ["cast", "draw"]
    assert (est.calls, est.images) == (n + 1, n + 1)
    settings = folder.load_project().settings
    draw = est.steps[-1]
    assert draw.prompt_tokens == (n * IMAGE_PROMPT_TOKENS + n * input_image_tokens(*REFERENCE_SIZE)
                                  + (n - 1) * input_image_tokens(*canvas_size(settings.aspect, out_height=settings.resolution)))
    before = fake.count("generateContent")
    assert run(project_id, target=machine.IMAGED).state == machine.IMAGED
    calls = fake.calls_to("generateContent")[before:]
    assert len(calls) == est.calls  # the estimate is what was paid
    assert sum(len(c.input_images()) for c in calls) == n + (n - 1)  # the lead in each picture, the previous one
    assert estimate_project(project_id).calls == 0  # nothing left to pay for
