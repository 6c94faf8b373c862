"""Whole-project actions and the words a person sees: rename, duplicate, status words, stop is no error."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from engine import machine
from engine.errors import BusyError, CancelledError, InputError
from engine.jobs import queue_run
from engine.manage import duplicate_project, rename_project
from engine.models import Job, Project, RenderRecord, utcnow
from engine.review import picture_problems, problems_text
from engine.runner import Runner
from engine.storage import ProjectFolder, list_project_ids
from tests.engine.templates import project_template
from tests.engine.test_runner import provider_with
from engine.providers.local import local_provider

LRC = "[00:00.50]Night city lights\n[00:03.00]Running down the road\n[00:05.50]Hearts on fire\n"


@pytest.fixture(scope="module")
def imaged_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder drawn once (IMAGED), copied per test."""
    return project_template(tmp_path_factory.mktemp("tpl"), project_id="tpl-imaged", lyrics=LRC, bars=4, seed=5,
                            target=machine.IMAGED)


@pytest.fixture
def project_id(imaged_template: Path, data_root: Path) -> str:
    shutil.copytree(imaged_template, data_root / "projects" / "tpl-imaged")
    return "tpl-imaged"


def test_every_trigger_has_user_words_and_fail_is_internal() -> None:
    """The diagram and the CLI show words from the machine, never a trigger name alone; fail is not an action."""
    triggers = {row["trigger"] for row in machine.TRANSITIONS}
    assert triggers <= set(machine.TRIGGER_LABELS), triggers - set(machine.TRIGGER_LABELS)
    assert all(machine.TRIGGER_LABELS[t] != t and "_" not in machine.TRIGGER_LABELS[t] for t in triggers)
    spec = machine.machine_spec()
    assert spec["labels"]["change_frame"] == machine.TRIGGER_LABELS["change_frame"] and spec["internal"] == ["fail"]
    p = Project(id="abc", state=machine.UPLOADED)
    assert "fail" in machine.allowed_triggers(p) and "fail" not in machine.user_triggers(p)
    assert set(spec["state_words"]) == set(machine.WORK_STATES) | {machine.CREATED}


def test_status_words_follow_the_machine() -> None:
    """'video ready' at RENDERED, 'video out of date' after an edit rewound a rendered project, the failure said."""
    render = RenderRecord(version=1, file="renders/final_v1.mp4", fingerprint="x", width=2, height=2, duration_ms=1)
    assert machine.status_words(Project(id="abc", state="RENDERED", renders=[render])) == "video ready"
    assert machine.status_words(Project(id="abc", state="PROMPTED", renders=[render])) == "video out of date"
    assert machine.status_words(Project(id="abc", state="PROMPTED")) == "prompts written"
    failed = Project(id="abc", state="FAILED", failed_from="ANALYZED")
    assert machine.status_words(failed).startswith("failed") and "analysed" in machine.status_words(failed)


def test_rename(project_id: str) -> None:
    assert rename_project(project_id, "  Neon   nights  ").name == "Neon nights"
    assert ProjectFolder(project_id).load_project().name == "Neon nights"
    with pytest.raises(InputError):
        rename_project(project_id, "   ")
    folder = ProjectFolder(project_id)
    folder.save_job(Job(kind="render", status="queued", target="RENDERED", started_at=utcnow()))
    with pytest.raises(BusyError):  # the run would save its own copy of project.json over the new name
        rename_project(project_id, "Other")


def test_duplicate_keeps_what_stays_valid(project_id: str) -> None:
    """The copy has the analysis, storyboard, prompts and pictures, a new id, no renders or jobs; the original
    is unchanged; a new aspect on the copy rewinds it to redraw only (no analysis again)."""
    src = ProjectFolder(project_id)
    original = src.load_project()
    original.renders.append(RenderRecord(version=1, file="renders/final_v1.mp4", fingerprint="x", width=2, height=2,
                                         duration_ms=1))
    original.state = machine.RENDERED
    src.save_project(original)
    before = sorted(p.relative_to(src.path).as_posix() for p in src.path.rglob("*"))
    copy = duplicate_project(project_id)
    dst = ProjectFolder(copy.id)
    assert copy.id != project_id and copy.id in list_project_ids()
    assert copy.name == "Untitled song (copy)"
    assert copy.state == machine.IMAGED and copy.renders == [] and copy.history == []
    assert dst.load_segments() == src.load_segments() and dst.load_prompts() == src.load_prompts()
    assert dst.load_analysis() == src.load_analysis()
    for sp in dst.load_prompts().scenes:
        assert dst.resolve(sp.latest.image.file).is_file()
    assert not dst.renders_dir.exists() and dst.load_job("pipeline").status == "idle"
    assert sorted(p.relative_to(src.path).as_posix() for p in src.path.rglob("*")) == before
    # another aspect on a copy: the pictures are redrawn, nothing before them
    other = duplicate_project(project_id, name="Vertical", settings={"aspect": "9:16"})
    assert (other.name, other.settings.aspect, other.state) == ("Vertical", "9:16", machine.PROMPTED)
    assert src.load_project().settings.aspect == "16:9"
    runner = Runner(other.id, target=machine.IMAGED)
    runner.run()
    assert runner.work_done == {"analyze": False, "segment": False, "prompt": False, "draw": True}
    # a refused setting leaves no half-made copy behind
    count = len(list_project_ids())
    with pytest.raises(InputError):
        duplicate_project(project_id, settings={"aspect": "4:3"})
    assert len(list_project_ids()) == count


def test_a_stop_is_no_error_and_resume_shows_none(project_id: str) -> None:
    """A stopped run records no CancelledError: the resumed run's queued job does not flash a red error."""
    stop = threading.Event()
    base = local_provider().illustrator

    class StopAfterOne:
        name, version = base.name, base.version

        def model_for(self, s):  # type: ignore[no-untyped-def]
            return base.model_for(s)

        def draw(self, **kw):  # type: ignore[no-untyped-def]
            stop.set()
            raise CancelledError("stopped on request")

    folder = ProjectFolder(project_id)
    project = folder.load_project()
    project.state = machine.PROMPTED  # one picture to draw again
    folder.save_project(project)
    prompts = folder.load_prompts()
    folder.resolve(prompts.scenes[0].latest.image.file).unlink()
    prompts.scenes[0].latest.image = None
    from engine.storage import atomic_write_json

    atomic_write_json(folder.prompts_json, prompts)
    with pytest.raises(CancelledError):
        Runner(project_id, target=machine.IMAGED, provider=provider_with(StopAfterOne()), stop_event=stop).run()
    job = folder.load_job("pipeline")
    assert job.status == "cancelled" and job.errors == [], job.errors
    queued = queue_run(folder, target=machine.IMAGED, pid=123456)
    assert queued.status == "queued" and queued.errors == []


def test_picture_problems_are_told(project_id: str) -> None:
    folder = ProjectFolder(project_id)
    assert picture_problems(folder) == []
    prompts = folder.load_prompts()
    image = prompts.scenes[0].latest.image
    image.status, image.reason, image.fallback = "blocked", "policy: no", True
    from engine.storage import atomic_write_json

    atomic_write_json(folder.prompts_json, prompts)
    problems = picture_problems(folder)
    assert problems == [(prompts.scenes[0].id, "blocked", "policy: no", True)]
    text = problems_text(problems)
    assert text.startswith("1 scene needs attention") and "blocked by the safety filter (policy: no)" in text
    assert "drawn locally instead" in text


def test_cli_status_rename_duplicate(project_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`storybeat status` lists user actions only (no `fail`), the state in words and the scenes needing attention;
    `rename` and `duplicate` work from the command line."""
    from engine.cli import main
    from engine.storage import atomic_write_json

    folder = ProjectFolder(project_id)
    prompts = folder.load_prompts()
    image = prompts.scenes[1].latest.image
    image.status, image.reason, image.fallback = "blocked", "policy: no", True
    atomic_write_json(folder.prompts_json, prompts)
    assert main(["status", project_id]) == 0
    out = capsys.readouterr().out
    allowed = next(line for line in out.splitlines() if line.strip().startswith("allowed:"))
    assert "fail" not in allowed and "render (render video)" in allowed, allowed
    assert "(pictures drawn)" in out.splitlines()[0]
    assert f"{prompts.scenes[1].id} blocked by the safety filter (policy: no), drawn locally instead" in out
    assert main(["rename", project_id, "Night drive"]) == 0
    assert folder.load_project().name == "Night drive"
    capsys.readouterr()
    assert main(["duplicate", project_id, "--aspect", "1:1"]) == 0
    new_id = capsys.readouterr().out.strip()
    copy = ProjectFolder(new_id).load_project()
    assert (copy.name, copy.settings.aspect, copy.state) == ("Night drive (copy)", "1:1", machine.PROMPTED)
