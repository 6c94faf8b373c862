"""Economy mode (``gemini_batch``): the pictures through the Batch API (the real SDK's ``batches.create`` /
``batches.get`` against the fake server), half price, and a run SIGKILLed while it waits polls the same batch
on resume instead of paying again."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import machine
from engine.models import ProjectSettings
from engine.storage import ProjectFolder
from tests.engine.gemini_runs import make_short_song, new_project, serve_fake_gemini
from tests.engine.gemini_runs import run as run_to
from tests.fakes import FakeGemini

REPO = Path(__file__).resolve().parents[2]
IMAGE_MODEL = "gemini-2.5-flash-image"


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8 s synthetic song (120 BPM, 4 bars)."""
    return make_short_song(tmp_path_factory)


@pytest.fixture
def fake(data_root: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A fake Gemini that answers batches after two polls, polled fast."""
    yield from serve_fake_gemini(monkeypatch, batch_polls=2, env={"STORYBEAT_GEMINI_BATCH_POLL_S": "0.05"})


def run(project_id: str, target: str = machine.IMAGED):  # type: ignore[no-untyped-def]
    """Run the project's machine up to ``target`` (the pictures by default) in this process."""
    return run_to(project_id, target)


def image_calls(fake: FakeGemini) -> int:
    return fake.count("generateContent", model=IMAGE_MODEL)


def test_pictures_go_in_one_batch_at_half_price(song: Path, fake: FakeGemini) -> None:
    from engine.usage import estimate_project, read_spend

    project_id = new_project(song, gemini_batch=True)
    assert run(project_id, target=machine.PROMPTED).state == machine.PROMPTED
    folder = ProjectFolder(project_id)
    n = len(folder.load_segments().scenes)  # type: ignore[union-attr]
    est = estimate_project(project_id)
    spent_before = read_spend(folder).total.est_cost_usd
    assert run(project_id).state == machine.IMAGED
    assert image_calls(fake) == 1  # the lead's reference only: it is the pictures' input
    assert fake.count("batch.create") == 1 and fake.count("batch.get") == 3  # running, running, succeeded
    sent = fake.calls_to("batch.create")[0].body["batch"]["inputConfig"]["requests"]["requests"]
    assert len(sent) == n and all(r["request"]["contents"][0]["parts"][0].get("inlineData") for r in sent)
    prompts = folder.load_prompts()
    assert prompts is not None and all(sp.latest.image.status == "ok" for sp in prompts.scenes)  # type: ignore[union-attr]
    assert not (folder.cache_dir / "draw_batch.json").exists()
    spent = read_spend(folder).total.est_cost_usd - spent_before
    draw = next(s for s in est.steps if s.step == "draw")
    assert draw.cost_usd == pytest.approx(spent - next(s for s in est.steps if s.step == "cast").cost_usd, rel=0.2)
    # nothing left: a second run asks for nothing
    assert run(project_id).state == machine.IMAGED
    assert (image_calls(fake), fake.count("batch.create")) == (1, 1)


def test_the_estimate_shows_the_batch_at_half_price(song: Path, fake: FakeGemini) -> None:
    from engine.usage import estimate_run

    settings = ProjectSettings(provider="gemini")
    full = estimate_run(settings, duration_ms=180_000)
    half = estimate_run(settings.model_copy(update={"gemini_batch": True}), duration_ms=180_000)
    by_step = {s.step: s.cost_usd for s in half.steps}
    assert by_step["draw"] == pytest.approx(next(s.cost_usd for s in full.steps if s.step == "draw") / 2, rel=1e-3)
    assert by_step["cast"] == next(s.cost_usd for s in full.steps if s.step == "cast")  # references: drawn at once
    with pytest.raises(ValueError, match="exclude each other"):
        ProjectSettings(provider="gemini", gemini_batch=True, continuity=True)


@pytest.mark.slow
def test_sigkill_while_waiting_for_the_batch_then_resume_polls_the_same_batch(
        song: Path, fake: FakeGemini, data_root: Path) -> None:
    project_id = new_project(song, gemini_batch=True)
    assert run(project_id, target=machine.PROMPTED).state == machine.PROMPTED
    folder = ProjectFolder(project_id)
    state_file = folder.cache_dir / "draw_batch.json"
    fake.hold_batches = True  # the batch stays RUNNING: the worker waits for it
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # STORYBEAT_DATA, the key, the fake's URL, the poll interval
    worker = subprocess.Popen([sys.executable, "-m", "engine", "run", project_id, "--target", machine.IMAGED, "--quiet"],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while fake.count("batch.get") < 2:
        assert worker.poll() is None, f"the worker ended: {worker.stderr.read() if worker.stderr else ''}"
        assert time.monotonic() < deadline, "the worker never waited for the batch"
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    assert json.loads(state_file.read_text())["name"] == next(iter(fake.batches))  # the batch name survived
    paid = (image_calls(fake), fake.count("batch.create"))
    assert paid == (1, 1)

    fake.hold_batches = False
    resumed = subprocess.run([sys.executable, "-m", "engine", "resume", project_id, "--quiet"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert (image_calls(fake), fake.count("batch.create")) == paid  # nothing paid twice: the same batch was polled
    assert folder.load_project().state == machine.IMAGED
    prompts = folder.load_prompts()
    assert prompts is not None and all(sp.latest.image.status == "ok" for sp in prompts.scenes)  # type: ignore[union-attr]
    assert not state_file.exists()
