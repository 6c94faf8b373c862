"""The runner with the real local provider: retries, FAILED and resume, stop, idempotence, incremental edits."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from engine import machine
from engine import project as actions
from engine.errors import CancelledError, ProviderError
from engine.models import ProjectSettings
from engine.providers.base import Provider
from engine.providers.local import local_provider
from engine.runner import Runner
from engine.storage import ProjectFolder
from tests.conftest import dead_pid
from tests.engine.templates import project_template

LRC = "[00:00.50]Night city lights\n[00:03.00]Running down the road\n[00:05.50]Hearts on fire\n"


class FlakyIllustrator:
    """The real local illustrator, failing the first ``failures`` calls (transient or not)."""

    def __init__(self, failures: int, *, transient: bool = True, retry_after_s: float | None = None,
                 retried: bool = False) -> None:
        self.inner = local_provider().illustrator
        self.name, self.version = self.inner.name, self.inner.version
        self.failures, self.transient, self.retry_after_s, self.retried = failures, transient, retry_after_s, retried
        self.calls: list[str] = []

    def model_for(self, s: ProjectSettings) -> str:
        return self.inner.model_for(s)

    def draw_reference(self, **kw):  # type: ignore[no-untyped-def]
        return self.inner.draw_reference(**kw)

    def draw(self, **kw):  # type: ignore[no-untyped-def]
        self.calls.append(kw["scene"].id)
        if self.failures > 0:
            self.failures -= 1
            raise ProviderError("rate limited (test)", transient=self.transient, retry_after_s=self.retry_after_s,
                                retried=self.retried)
        return self.inner.draw(**kw)


def provider_with(illustrator: object) -> Provider:
    base = local_provider()
    return Provider(name="local", analyst=base.analyst, storyboarder=base.storyboarder, writer=base.writer,
                    illustrator=illustrator)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def prompted_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder analysed, storyboarded and prompted once (copied per test)."""
    return project_template(tmp_path_factory.mktemp("tpl"), project_id="tpl-project", lyrics=LRC, bars=4, seed=5,
                            target=machine.PROMPTED)


@pytest.fixture
def project_id(prompted_template: Path, data_root: Path) -> str:
    shutil.copytree(prompted_template, data_root / "projects" / "tpl-project")
    return "tpl-project"


def sleeps() -> tuple[list[float], object]:
    recorded: list[float] = []
    return recorded, recorded.append


def test_transient_errors_are_retried_with_backoff(project_id: str) -> None:
    ill = FlakyIllustrator(2, retry_after_s=7.0)
    recorded, sleep = sleeps()
    project = Runner(project_id, target=machine.IMAGED, provider=provider_with(ill), sleep=sleep).run()
    assert project.state == machine.IMAGED
    assert len(recorded) == 2 and all(s >= 7.0 for s in recorded), "server retry delay honoured"
    job = ProjectFolder(project_id).load_job("pipeline")
    draw = next(s for s in job.steps if s.name == "draw")
    assert draw.attempts == 3 and draw.status == "done"
    assert [e.final for e in job.errors] == [False, False]


def test_permanent_error_fails_with_reason_and_resume_redoes_nothing(project_id: str) -> None:
    folder = ProjectFolder(project_id)
    ill = FlakyIllustrator(0)
    scenes = folder.load_segments().scenes
    # fail on the second picture: the first must survive and not be drawn again
    ill_fail = FlakyIllustrator(0, transient=False)
    real_draw = ill_fail.draw

    def draw_then_fail(**kw):  # type: ignore[no-untyped-def]
        if kw["scene"].id == scenes[1].id and not getattr(draw_then_fail, "failed", False):
            draw_then_fail.failed = True  # type: ignore[attr-defined]
            raise ProviderError("prompt refused by policy (test)", transient=False)
        return real_draw(**kw)

    ill_fail.draw = draw_then_fail  # type: ignore[method-assign]
    with pytest.raises(ProviderError):
        Runner(project_id, target=machine.RENDERED, provider=provider_with(ill_fail), sleep=lambda s: None).run()
    project = folder.load_project()
    assert project.state == machine.FAILED and project.failed_from == machine.PROMPTED
    assert project.error is not None and project.error.step == "draw" and "refused by policy" in project.error.message
    assert folder.load_job("pipeline").status == "failed"
    first = folder.image_path(scenes[0].id, 1)
    ident = first.stat().st_mtime_ns

    ill = FlakyIllustrator(0)
    project = Runner(project_id, target=machine.IMAGED, provider=provider_with(ill)).run()
    assert project.state == machine.IMAGED and project.error is None
    assert scenes[0].id not in ill.calls, "a finished picture was drawn again"
    assert first.stat().st_mtime_ns == ident


def test_retries_exhausted_fail_the_project(project_id: str) -> None:
    ill = FlakyIllustrator(100)
    with pytest.raises(ProviderError):
        Runner(project_id, target=machine.IMAGED, provider=provider_with(ill), sleep=lambda s: None).run()
    folder = ProjectFolder(project_id)
    project = folder.load_project()
    assert project.state == machine.FAILED
    job = folder.load_job("pipeline")
    assert len(ill.calls) == 3 and job.errors[-1].final


def test_retries_a_provider_spent_are_not_repeated_by_the_runner(project_id: str) -> None:
    """One retry policy: an error the client already retried (retried=True) fails the project at once, no step retry."""
    ill = FlakyIllustrator(100, retried=True)
    recorded, sleep = sleeps()
    with pytest.raises(ProviderError):
        Runner(project_id, target=machine.IMAGED, provider=provider_with(ill), sleep=sleep).run()
    project = ProjectFolder(project_id).load_project()
    assert project.state == machine.FAILED and "rate limited" in project.error.message
    assert len(ill.calls) == 1 and recorded == []


def test_stop_request_cancels_and_keeps_state(project_id: str) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(CancelledError):
        Runner(project_id, target=machine.IMAGED, stop_event=stop).run()
    folder = ProjectFolder(project_id)
    assert folder.load_project().state == machine.PROMPTED
    assert folder.load_job("pipeline").status == "cancelled"


def test_second_run_is_a_no_op_and_edit_redraws_one_scene(project_id: str) -> None:
    folder = ProjectFolder(project_id)
    first = Runner(project_id, target=machine.RENDERED, preview=True)
    first.run()
    again = Runner(project_id, target=machine.RENDERED, preview=True)
    project = again.run()
    assert not any(again.work_done.values()), again.work_done
    assert len(project.renders) == 1

    scene = folder.load_segments().scenes[1]
    actions.edit_scene(project_id, scene.id, visual_intent="a red umbrella alone in a flooded square")
    assert folder.load_project().state == machine.SEGMENTED
    ill = FlakyIllustrator(0)
    runner = Runner(project_id, target=machine.RENDERED, preview=True, provider=provider_with(ill))
    project = runner.run()
    assert ill.calls == [scene.id]
    assert project.state == machine.RENDERED and [r.version for r in project.renders] == [1, 2]
    sp = next(p for p in folder.load_prompts().scenes if p.id == scene.id)
    assert [v.version for v in sp.versions] == [1, 2] and "umbrella" in sp.latest.image_prompt


def test_regenerate_and_restore_versions(project_id: str) -> None:
    folder = ProjectFolder(project_id)
    Runner(project_id, target=machine.IMAGED).run()
    scene_id = folder.load_segments().scenes[0].id
    actions.regenerate_scene(project_id, scene_id)
    ill = FlakyIllustrator(0)
    Runner(project_id, target=machine.IMAGED, provider=provider_with(ill)).run()
    assert ill.calls == [scene_id]
    v1, v2 = folder.image_path(scene_id, 1), folder.image_path(scene_id, 2)
    assert v1.read_bytes() != v2.read_bytes(), "a regenerate must give a new picture"
    actions.restore_version(project_id, scene_id, 1)
    ill = FlakyIllustrator(0)
    project = Runner(project_id, target=machine.IMAGED, provider=provider_with(ill)).run()
    assert project.state == machine.IMAGED and ill.calls == [], "restoring reuses the old picture"
    sp = next(p for p in folder.load_prompts().scenes if p.id == scene_id)
    assert sp.latest.version == 3 and sp.latest.restored_from == 1
    import numpy as np
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(folder.image_path(scene_id, 3))), np.asarray(Image.open(v1)))


def _mark_crashed(folder: ProjectFolder, kind: str = "pipeline") -> None:
    """Make the last job look like its worker was SIGKILLed mid-run."""
    job = folder.load_job(kind)
    job.status, job.pid = "running", dead_pid()
    folder.save_job(job)


def test_crashes_never_use_up_the_attempts_of_finished_steps(project_id: str) -> None:
    """Replaying an up-to-date step costs no attempt: crash after crash, the run still resumes."""
    folder = ProjectFolder(project_id)
    Runner(project_id, target=machine.PROMPTED).run()
    for _ in range(4):  # more crashes than STORYBEAT_STEP_ATTEMPTS (3)
        _mark_crashed(folder)
        project = Runner(project_id, target=machine.PROMPTED).run()
        assert project.state == machine.PROMPTED
        attempts = {s.name: s.attempts for s in folder.load_job("pipeline").steps}
        assert attempts == {"analyze": 0, "segment": 0, "prompt": 0}, attempts


def test_a_run_that_cannot_start_ends_its_queued_job_with_the_reason(project_id: str) -> None:
    """A job queued by the API whose worker is refused (wrong state) says so instead of staying queued."""
    from engine.models import Job, utcnow

    folder = ProjectFolder(project_id)
    folder.save_job(Job(kind="render", status="queued", target=machine.RENDERED, started_at=utcnow()))
    from engine.errors import StateError

    with pytest.raises(StateError):
        Runner(project_id, target=machine.RENDERED, kind="render").run()  # PROMPTED: no pictures yet
    job = folder.load_job("render")
    assert job.status == "failed" and "could not start" in job.message and "make the pictures first" in job.message
    assert folder.load_project().state == machine.PROMPTED


def test_edits_are_refused_while_a_run_is_queued(project_id: str) -> None:
    """Between the API queueing a run and its worker taking the lock, no edit may slip in."""
    import os

    from engine.errors import BusyError
    from engine.models import Job, utcnow

    folder = ProjectFolder(project_id)
    scene_id = folder.load_segments().scenes[0].id
    folder.save_job(Job(kind="pipeline", status="queued", target=machine.IMAGED, started_at=utcnow()))
    with pytest.raises(BusyError, match="queued"):
        actions.edit_scene(project_id, scene_id, image_prompt="a lighthouse at dusk")
    with pytest.raises(BusyError):
        actions.update_settings(project_id, {"aspect": "9:16"})
    folder.save_job(Job(kind="pipeline", status="running", pid=os.getpid(), started_at=utcnow(), heartbeat_at=utcnow()))
    with pytest.raises(BusyError, match="running"):
        actions.regenerate_scene(project_id, scene_id)
    _mark_crashed(folder)  # a dead worker does not block edits
    actions.edit_scene(project_id, scene_id, image_prompt="a lighthouse at dusk")


def test_resume_after_cancel_and_after_a_killed_preview(project_id: str) -> None:
    """A cancelled run is resumable; a killed preview render resumes as a preview."""
    from engine.jobs import resume_plan

    folder = ProjectFolder(project_id)
    stop = threading.Event()
    stop.set()
    with pytest.raises(CancelledError):
        Runner(project_id, target=machine.IMAGED, stop_event=stop).run()
    assert resume_plan(project_id) == (machine.IMAGED, "pipeline", False)
    Runner(project_id, target=machine.IMAGED).run()
    assert resume_plan(project_id) is None
    Runner(project_id, target=machine.RENDERED, kind="render", preview=True).run()
    _mark_crashed(folder, "render")
    assert resume_plan(project_id) == (machine.RENDERED, "render", True)


def test_a_failed_project_can_be_fixed_by_its_settings(project_id: str) -> None:
    """FAILED is not a dead end: a settings change is judged from where it failed, and leaves FAILED."""
    ill = FlakyIllustrator(100, transient=False)
    with pytest.raises(ProviderError):
        Runner(project_id, target=machine.IMAGED, provider=provider_with(ill), sleep=lambda s: None).run()
    folder = ProjectFolder(project_id)
    assert folder.load_project().state == machine.FAILED
    project = actions.update_settings(project_id, {"style": "watercolor"})
    assert project.state == machine.SEGMENTED and project.error is None and project.failed_from is None
    assert folder.load_project().settings.style == "watercolor"


def test_new_versions_are_stamped_when_made(project_id: str) -> None:
    """Each new version has its own created_at (not the first version's)."""
    import time

    folder = ProjectFolder(project_id)
    Runner(project_id, target=machine.IMAGED).run()
    scene_id = folder.load_segments().scenes[0].id
    time.sleep(0.01)
    actions.regenerate_scene(project_id, scene_id)
    sp = next(p for p in folder.load_prompts().scenes if p.id == scene_id)
    assert sp.versions[1].created_at > sp.versions[0].created_at


def test_a_settings_change_redraws_as_new_versions_and_keeps_the_old_pictures(project_id: str) -> None:
    """Changing the aspect redraws every picture as a new version; the old files (maybe paid for) stay."""
    import hashlib

    folder = ProjectFolder(project_id)
    Runner(project_id, target=machine.IMAGED).run()
    scenes = folder.load_segments().scenes
    before = {s.id: hashlib.sha256(folder.image_path(s.id, 1).read_bytes()).hexdigest() for s in scenes}
    actions.update_settings(project_id, {"aspect": "9:16"})
    ill = FlakyIllustrator(0)
    Runner(project_id, target=machine.IMAGED, provider=provider_with(ill)).run()
    assert sorted(ill.calls) == sorted(before)
    for sp in folder.load_prompts().scenes:
        assert [v.version for v in sp.versions] == [1, 2] and sp.latest.image is not None
        assert sp.versions[0].image is not None, "the old version keeps its picture record"
        assert hashlib.sha256(folder.image_path(sp.id, 1).read_bytes()).hexdigest() == before[sp.id]
        from PIL import Image

        w, h = Image.open(folder.image_path(sp.id, 2)).size
        assert h > w, "the new version is drawn for 9:16"
    again = FlakyIllustrator(0)
    Runner(project_id, target=machine.IMAGED, provider=provider_with(again)).run()
    assert again.calls == [], "an up-to-date run adds no version"
    # restoring a 16:9 version into the 9:16 project: the next run redraws it as a new version, never in place
    scene_id = scenes[0].id
    actions.restore_version(project_id, scene_id, 1)
    Runner(project_id, target=machine.IMAGED).run()
    sp = next(p for p in folder.load_prompts().scenes if p.id == scene_id)
    assert [v.version for v in sp.versions] == [1, 2, 3, 4] and sp.versions[2].restored_from == 1
    assert hashlib.sha256(folder.image_path(scene_id, 3).read_bytes()).hexdigest() == before[scene_id]


def test_analysis_reports_progress_within_its_step(data_root: Path, tmp_path: Path) -> None:
    """The analysis is one long step: its phases move the step's progress (not 0% until it ends)."""
    from engine.audio.features import load_and_analyze
    from engine.audio.sample import make_song

    wav = tmp_path / "song.wav"
    make_song(wav, bpm=120, bars=4, sections=None, seed=5)
    calls: list[tuple[float, str]] = []
    load_and_analyze(wav, progress=lambda fraction, message: calls.append((fraction, message)))
    assert [m for _, m in calls] == ["reading the track", "spectra", "tempo, beats and bars", "key and sections"]
    assert [f for f, _ in calls] == sorted(f for f, _ in calls) and all(0 < f < 1 for f, _ in calls)
    # wired through the runner into the job (an analyst reporting half-way, after the job file's 0.2 s throttle)
    import time

    from engine.models import Job

    base = local_provider()

    class HalfwayAnalyst:
        name, version = base.analyst.name, base.analyst.version

        def analyze(self, **kw):  # type: ignore[no-untyped-def]
            time.sleep(0.25)
            kw["io"].on_progress(0.5, "half-way")
            return base.analyst.analyze(**kw)

    provider = Provider(name="local", analyst=HalfwayAnalyst(), storyboarder=base.storyboarder,  # type: ignore[arg-type]
                        writer=base.writer, illustrator=base.illustrator)
    project = actions.create_project(project_id="analysis-progress")
    actions.upload_track(project.id, audio=wav, original_name="song.wav")
    seen: list[tuple[int, int, str]] = []

    def on_progress(job: Job) -> None:
        step = next(s for s in job.steps if s.name == "analyze")
        seen.append((step.done, step.total, step.message))

    from engine.config import get_settings

    quiet = get_settings().model_copy(update={"heartbeat_s": 600.0})  # no heartbeat write inside the throttle window
    Runner(project.id, target=machine.ANALYZED, provider=provider, on_progress=on_progress, config=quiet).run()
    assert (500, 1000, "half-way") in seen, seen


def test_a_refused_first_upload_leaves_no_empty_source_folder(data_root: Path, tmp_path: Path) -> None:
    from engine.errors import InputError

    junk = tmp_path / "song.wav"
    junk.write_bytes(b"not audio at all " * 100)
    project = actions.create_project(project_id="refused-upload")
    folder = ProjectFolder(project.id)
    before = sorted(p.relative_to(folder.path).as_posix() for p in folder.path.rglob("*"))
    with pytest.raises(InputError):
        actions.upload_track(project.id, audio=junk, original_name="song.wav")
    assert not folder.source_dir.exists()
    # a refused request changes nothing: no jobs/ or jobs/.lock appears either (the lock exists from creation)
    assert sorted(p.relative_to(folder.path).as_posix() for p in folder.path.rglob("*")) == before
    assert folder.load_project().state == machine.CREATED


def test_temp_files_are_removed_only_by_a_run_that_holds_the_lock(project_id: str) -> None:
    """Leftover temp files go on the next run of the project, never while another process holds it."""
    from engine.errors import BusyError
    from engine.lock import project_lock
    from engine.storage import TEMP_GLOB

    folder = ProjectFolder(project_id)
    folder.renders_dir.mkdir(exist_ok=True)
    left = [folder.renders_dir / ".final_v1.0a1b2c3d.tmp.mp4", folder.jobs_dir / ".pipeline.json.x1y2z3.tmp",
            folder.path / ".prompts.json.k9k9k9.tmp"]
    for path in left:
        path.write_bytes(b"half a file")
    with project_lock(folder):  # a live writer holds the project: its temp files may be in use
        with pytest.raises(BusyError):
            Runner(project_id, target=machine.PROMPTED).run()
    assert all(p.exists() for p in left)
    Runner(project_id, target=machine.PROMPTED).run()
    assert not list(folder.path.rglob(TEMP_GLOB))
    assert folder.load_project().state == machine.PROMPTED
