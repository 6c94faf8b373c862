"""Whole projects through the gemini provider: the real SDK against the fake Gemini server.

* In process: a short synthetic song with injected faults (429 with a retry
  delay, 503, malformed JSON, a safety-blocked image, thought images) ends
  RENDERED with exactly the expected calls per route and model; the blocked
  scene is recorded blocked, with its reason and a local fallback picture;
  usage lands in jobs/pipeline.json; regenerating one scene costs one image call.
* Crash: a worker process (``python -m engine run``) against a standalone fake
  is SIGKILLed halfway through the pictures; ``python -m engine resume``
  finishes without repeating any call whose result was saved; one SIGKILLed
  while Gemini listens resumes without uploading the track again.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from engine import machine
from engine.config import get_settings
from engine.models import ProjectSettings
from engine.storage import ProjectFolder
from tests.fakes import DEFAULT_API_KEY, Fault, FakeGemini

pytestmark = pytest.mark.slow  # whole runs against the fake Gemini, render included

REPO = Path(__file__).resolve().parents[2]
TEXT_MODEL = "gemini-2.5-flash"
IMAGE_MODEL = "gemini-2.5-flash-image"


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16 s synthetic song (120 BPM, 8 bars)."""
    from engine.audio.sample import make_song

    wav = tmp_path_factory.mktemp("song") / "song.wav"
    make_song(wav, bpm=120, bars=8, sections=None, seed=5)
    return wav


def gemini_env(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    """Point the engine at a fake with fast backoff (settings cache cleared)."""
    monkeypatch.setenv("GEMINI_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("STORYBEAT_GEMINI_BASE_URL", base_url)
    monkeypatch.setenv("STORYBEAT_RETRY_BASE_S", "0.02")
    monkeypatch.setenv("STORYBEAT_RETRY_MAX_S", "0.1")
    get_settings.cache_clear()


def new_project(song: Path, **settings: object) -> str:
    from engine.project import create_project, upload_track

    project = create_project(settings=ProjectSettings(provider="gemini", min_scene_ms=1500, max_scene_ms=4000,
                                                      **settings))  # type: ignore[arg-type]
    upload_track(project.id, audio=song, original_name=song.name)
    return project.id


def calls_by(calls: list, *, model: str | None = None, route: str = "generateContent") -> int:
    return sum(1 for c in calls if c["route"] == route and (model is None or c["model"] == model))


# --------------------------------------------------------------------------- in process, with faults


def test_whole_project_with_faults_ends_rendered(song: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.project import regenerate_scene
    from engine.runner import Runner

    with FakeGemini(processing_polls=1) as fake:
        gemini_env(monkeypatch, fake.base_url)
        # generateContent calls in order: 1-2 analysis, 3-4 storyboard, 5 prompts, 6 the cast's reference, 7.. pictures.
        fake.add_fault("generateContent", Fault("http_error", status=429, retry_delay_s=0.2, at_call=1))
        fake.add_fault("generateContent", Fault("malformed", at_call=3))
        fake.add_fault("generateContent", Fault("http_error", status=503, at_call=7))
        fake.add_fault("generateContent", Fault("image_blocked", reason="IMAGE_SAFETY", at_call=9))
        fake.add_fault("generateContent", Fault("thought_images", count=2, at_call=10))
        project_id = new_project(song, style="noir")
        project = Runner(project_id, preview=True).run()
        assert project.state == machine.RENDERED

        folder = ProjectFolder(project_id)
        scenes = folder.load_segments().scenes
        n = len(scenes)
        assert n >= 4
        assert fake.count("upload.start") == 1 and fake.count("upload.chunk") == 1
        assert fake.count("files.get") == 2  # PROCESSING once, then ACTIVE
        assert fake.count("generateContent", model=TEXT_MODEL) == 5
        assert fake.count("generateContent", model=IMAGE_MODEL) == n + 2  # the cast's reference, one 503 retried
        file_uri = fake.calls_to("generateContent")[0].body["contents"][0]["parts"][0]["fileData"]["file_uri"]
        assert file_uri.startswith(fake.base_url)

        analysis = folder.load_analysis()
        assert analysis.provider == "gemini" and analysis.language == "en" and analysis.lyrics
        assert all(line.source == "gemini" and 0 <= line.start_ms < line.end_ms <= analysis.duration_ms
                   for line in analysis.lyrics)
        assert analysis.beats_ms  # the local signal analysis ran too

        prompts = folder.load_prompts()
        records = {sp.id: sp.latest.image for sp in prompts.scenes}
        blocked = records[scenes[1].id]
        assert blocked.status == "blocked" and blocked.fallback and blocked.reason.startswith("IMAGE_SAFETY")
        assert blocked.provider == "local" and folder.resolve(blocked.file).is_file()
        others = [r for sid, r in records.items() if sid != scenes[1].id]
        assert all(r.status == "ok" and r.provider == "gemini" and r.model == IMAGE_MODEL for r in others)

        usage = folder.load_job("pipeline").usage
        answered = fake.count("generateContent") - 2  # the 429 and the 503 were not answered
        assert usage.calls == answered and usage.images == n  # n - 1 pictures and the reference
        assert usage.prompt_tokens > 0 and usage.output_tokens > 0 and usage.est_cost_usd > 0
        assert folder.resolve(project.renders[-1].file).is_file() and project.renders[-1].preview

        # Regenerating one scene costs exactly one image call and nothing else.
        before_text, before_images = fake.count("generateContent", model=TEXT_MODEL), fake.count("generateContent", model=IMAGE_MODEL)
        regenerate_scene(project_id, scenes[0].id)
        assert Runner(project_id, target=machine.IMAGED).run().state == machine.IMAGED
        assert fake.count("generateContent", model=IMAGE_MODEL) == before_images + 1
        assert fake.count("generateContent", model=TEXT_MODEL) == before_text
        assert folder.load_prompts().scenes[0].latest.version == 2
        assert Runner(project_id, preview=True, kind="render").run().state == machine.RENDERED
        assert fake.count("generateContent") == before_text + before_images + 1


# --------------------------------------------------------------------------- SIGKILL and resume


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.loads(reply.read())


def _post_json(url: str, payload: object) -> dict:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


@pytest.fixture
def standalone_fake(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The fake Gemini as its own process (so it outlives a killed worker); yields its base URL."""
    state = tmp_path / "fake.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.gemini_server", "--port", "0", "--api-key", DEFAULT_API_KEY,
         "--processing-polls", "0", "--state-file", str(state)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not state.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the fake did not start"
        time.sleep(0.02)
    base_url = json.loads(state.read_text())["base_url"]
    yield base_url
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _engine(data: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=300)
    assert proc.returncode == 0, f"engine {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _draw_step(data: Path, project_id: str) -> dict:
    try:
        job = json.loads((data / "projects" / project_id / "jobs" / "pipeline.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return next((s for s in job.get("steps", []) if s["name"] == "draw"), {})


def test_sigkill_mid_images_then_resume_repeats_no_finished_call(
    song: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch, standalone_fake: str
) -> None:
    base_url = standalone_fake
    gemini_env(monkeypatch, base_url)
    project_id = new_project(song, style="watercolor")
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # carries STORYBEAT_DATA, the key and the base URL
    # Every answer takes 0.25 s, so the worker is reliably caught among the pictures.
    _post_json(f"{base_url}/_fake/faults", {"route": "generateContent", "kind": "slow", "delay_s": 0.25, "times": 1000})

    worker = subprocess.Popen([sys.executable, "-m", "engine", "run", project_id, "--target", machine.IMAGED, "--quiet"],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while True:
        assert worker.poll() is None, f"worker ended before the kill point: {worker.stderr.read() if worker.stderr else ''}"
        assert time.monotonic() < deadline, "kill point never reached"
        step = _draw_step(data_root, project_id)
        if step.get("total", 0) > 2 and step.get("done", 0) >= step["total"] // 2:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            break
        time.sleep(0.005)

    folder = ProjectFolder(project_id)
    saved = {p.name: p.stat().st_mtime_ns for p in folder.images_dir.glob("*.png")}
    n = len(folder.load_segments().scenes)
    assert 0 < len(saved) < n and folder.load_project().state == machine.PROMPTED
    at_kill = _get_json(f"{base_url}/_fake/calls")["calls"]

    out = _engine(data_root, "resume", project_id, "--quiet", env=env)
    assert "IMAGED" in out.stdout
    after = _get_json(f"{base_url}/_fake/calls")["calls"]
    assert calls_by(after, model=TEXT_MODEL) == calls_by(at_kill, model=TEXT_MODEL) == 3  # analysis, storyboard, prompts
    assert calls_by(after, route="upload.start") == 1
    # Only the pictures not saved before the kill were asked for again (an answer lost in flight is not "saved").
    assert calls_by(after, model=IMAGE_MODEL) - calls_by(at_kill, model=IMAGE_MODEL) == n - len(saved)
    assert calls_by(at_kill, model=IMAGE_MODEL) - len(saved) - 1 in (0, 1)  # the cast's reference was drawn first
    for name, mtime in saved.items():
        assert (folder.images_dir / name).stat().st_mtime_ns == mtime, f"{name} was drawn again"
    prompts = folder.load_prompts()
    assert all(sp.latest.image is not None and sp.latest.image.status == "ok" for sp in prompts.scenes)

    # The preview render needs no Gemini call at all.
    out = _engine(data_root, "run", project_id, "--preview", "--quiet", env=env)
    assert "RENDERED" in out.stdout
    assert len(_get_json(f"{base_url}/_fake/calls")["calls"]) == len(after)


def test_sigkill_mid_analysis_then_resume_uploads_once(
    song: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch, standalone_fake: str
) -> None:
    """Killed while Gemini listens: resume reuses the upload and the local analysis (cache/), asks once more."""
    base_url = standalone_fake
    gemini_env(monkeypatch, base_url)
    project_id = new_project(song, style="noir")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # the listening answer takes long enough for the kill to land while it is in flight
    _post_json(f"{base_url}/_fake/faults", {"route": "generateContent", "kind": "slow", "delay_s": 30, "times": 1})
    worker = subprocess.Popen([sys.executable, "-m", "engine", "run", project_id, "--target", machine.ANALYZED,
                               "--quiet"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while _get_json(f"{base_url}/_fake/counts").get("generateContent", 0) < 1:
        assert worker.poll() is None, f"worker ended early: {worker.stderr.read() if worker.stderr else ''}"
        assert time.monotonic() < deadline, "the listening call never came"
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    folder = ProjectFolder(project_id)
    local = folder.cache_dir / "local_analysis.json"
    made_at = local.stat().st_mtime_ns
    assert (folder.cache_dir / "gemini_upload.json").is_file() and folder.load_analysis() is None

    _engine(data_root, "resume", project_id, "--quiet", env=env)
    counts = _get_json(f"{base_url}/_fake/counts")
    assert counts["upload.start"] == 1  # the upload was not made again
    assert counts["generateContent"] == 2  # the call lost in flight, asked once more
    assert local.stat().st_mtime_ns == made_at  # nor the local analysis
    assert folder.load_project().state == machine.ANALYZED and folder.load_analysis().provider == "gemini"
