"""Property-based tests of the runner: random runs, edits, failures, crashes and reloads.

A hypothesis RuleBasedStateMachine drives one real project (local provider,
real files, real ffmpeg) through random sequences. The provider is the real
local one, wrapped only to count calls and to inject failures and crashes.
Invariants: the files on disk always parse and agree with the model; refused
actions change nothing; no finished unit of work is done twice; and the end
result equals that of an uninterrupted run.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from engine import machine, project as actions
from engine.errors import ProviderError, StorybeatError
from engine.models import Project, ProjectSettings
from engine.providers.base import Provider
from engine.providers.local import local_provider
from engine.runner import Runner
from engine.steps.draw import picture_version
from engine.storage import ProjectFolder

pytestmark = pytest.mark.slow


class SimulatedCrash(BaseException):
    """Stands for SIGKILL inside one process: nothing catches it, nothing cleans up."""


@dataclass
class Counters:
    """What the wrapped provider was asked to do, and faults to inject."""

    calls: Counter = field(default_factory=Counter)
    drawn: Counter = field(default_factory=Counter)
    fail_next_draw: str = ""  # "", "transient", "permanent"


class CountingIllustrator:
    """The real local illustrator, counting each (scene, picture) it draws."""

    def __init__(self, inner, counters: Counters) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.counters = inner, counters
        self.name, self.version = inner.name, inner.version

    def model_for(self, s: ProjectSettings) -> str:
        return self.inner.model_for(s)

    def draw_reference(self, **kw):  # type: ignore[no-untyped-def]
        return self.inner.draw_reference(**kw)

    def draw(self, **kw):  # type: ignore[no-untyped-def]
        if self.counters.fail_next_draw:
            transient = self.counters.fail_next_draw == "transient"
            self.counters.fail_next_draw = ""
            raise ProviderError("injected failure", transient=transient)
        key = (kw["scene"].id, picture_version(kw["prompt"]), kw["prompt"].image_prompt)
        self.counters.drawn[key] += 1
        return self.inner.draw(**kw)


class CountingAnalyst:
    """The real local analyst, counting calls."""

    def __init__(self, inner, counters: Counters) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.counters = inner, counters
        self.name, self.version = inner.name, inner.version

    def analyze(self, **kw):  # type: ignore[no-untyped-def]
        self.counters.calls["analyze"] += 1
        return self.inner.analyze(**kw)


def tree_digest(root: Path) -> str:
    """Hash of every file (name + bytes) under root, ignoring the lock file."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != ".lock":
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


SONG: dict[str, object] = {}


def song_files(tmp: Path) -> tuple[Path, str]:
    """A short synthetic song with LRC lyrics (made once per session)."""
    if not SONG:
        from engine.audio.sample import make_song

        wav = tmp / "song.wav"
        make_song(wav, bpm=120, bars=5, sections=None, seed=3)
        lrc = "[00:00.50]Night city lights\n[00:04.00]Running down the road\n[00:07.50]Hearts on fire\n"
        SONG.update(wav=wav, lrc=lrc)
    return SONG["wav"], SONG["lrc"]  # type: ignore[return-value]


@settings(
    max_examples=int(os.environ.get("STORYBEAT_PROPERTY_EXAMPLES", "6")),
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
class ProjectMachine(RuleBasedStateMachine):
    """Random user and failure sequences against one real project."""

    @initialize()
    def setup(self) -> None:
        root = Path(os.environ["STORYBEAT_DATA"])
        wav, lrc = song_files(root.parent)
        self.counters = Counters()
        base = local_provider()
        self.provider = Provider(
            name=base.name,
            analyst=CountingAnalyst(base.analyst, self.counters),
            storyboarder=base.storyboarder,
            writer=base.writer,
            illustrator=CountingIllustrator(base.illustrator, self.counters),
        )
        settings_ = ProjectSettings(provider="local", style="cosmic", min_scene_ms=2000, max_scene_ms=4000, beat_pulse=False)
        self.project_id = actions.create_project(settings=settings_).id
        actions.upload_track(self.project_id, audio=wav, original_name="song.wav", lyrics_text=lrc)
        self.folder = ProjectFolder(self.project_id)

    # ------------------------------------------------------------------ helpers
    def _runner(self, target: str, crash_after: int | None) -> Runner:
        seen = {"n": 0}

        def on_progress(job) -> None:  # type: ignore[no-untyped-def]
            if threading.current_thread() is not threading.main_thread():
                return  # the heartbeat thread: a crash is modelled in the worker's own flow
            seen["n"] += 1
            if crash_after is not None and seen["n"] == crash_after:
                raise SimulatedCrash()

        kind = "render" if target == machine.RENDERED and self._state() in (machine.IMAGED, machine.RENDERED) else "pipeline"
        return Runner(
            self.project_id, target=target, kind=kind, preview=True, provider=self.provider,
            on_progress=on_progress, sleep=lambda s: None,
        )

    def _state(self) -> str:
        return self.folder.load_project().state

    def _refused_changes_nothing(self, action) -> None:  # type: ignore[no-untyped-def]
        before = tree_digest(self.folder.path)
        try:
            action()
        except StorybeatError:
            assert tree_digest(self.folder.path) == before, "a refused action changed files"

    # ------------------------------------------------------------------ rules
    @rule(goal=st.sampled_from([machine.ANALYZED, machine.PROMPTED, machine.IMAGED, machine.RENDERED]),
          crash_after=st.one_of(st.none(), st.integers(min_value=1, max_value=25)))
    def run(self, goal: str, crash_after: int | None) -> None:
        try:
            self._runner(goal, crash_after).run()
        except SimulatedCrash:
            pass
        except StorybeatError:
            pass  # a refused run (e.g. FAILED by an injected error) is checked by the invariants

    @rule(kind=st.sampled_from(["transient", "permanent"]))
    def inject_draw_failure(self, kind: str) -> None:
        self.counters.fail_next_draw = kind

    @rule(index=st.integers(min_value=0, max_value=3), text=st.sampled_from(["a lighthouse in a storm", "two dancers on a rooftop"]))
    def edit_intent(self, index: int, text: str) -> None:
        segments = self.folder.load_segments()
        if segments is None:
            self._refused_changes_nothing(lambda: actions.edit_scene(self.project_id, "seg_001", visual_intent=text))
            return
        scene = segments.scenes[index % len(segments.scenes)]
        self._refused_changes_nothing(lambda: actions.edit_scene(self.project_id, scene.id, visual_intent=text))

    @rule(index=st.integers(min_value=0, max_value=3))
    def regenerate(self, index: int) -> None:
        segments = self.folder.load_segments()
        scene_id = segments.scenes[index % len(segments.scenes)].id if segments else "seg_001"
        self._refused_changes_nothing(lambda: actions.regenerate_scene(self.project_id, scene_id))

    @rule(index=st.integers(min_value=0, max_value=3), text=st.sampled_from(["red moon over the sea", "neon rain on glass"]))
    def edit_prompt(self, index: int, text: str) -> None:
        segments = self.folder.load_segments()
        scene_id = segments.scenes[index % len(segments.scenes)].id if segments else "seg_001"
        self._refused_changes_nothing(lambda: actions.edit_scene(self.project_id, scene_id, image_prompt=text))

    @precondition(lambda self: self.folder.load_prompts() is not None)
    @rule()
    def corrupt_prompts_json(self) -> None:
        """A half-written file (as from a crash of a careless writer) must be recomputed, not crash."""
        if self._state() in (machine.SEGMENTED, machine.ANALYZED):
            path = self.folder.prompts_json
            path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])

    # ------------------------------------------------------------------ invariants
    @invariant()
    def disk_parses_and_matches(self) -> None:
        if not hasattr(self, "folder"):
            return
        project = self.folder.load_project()
        assert Project.model_validate_json(self.folder.project_json.read_text()) == project
        assert project.state in machine.STATES
        if project.state == machine.FAILED:
            assert project.failed_from in machine.WORK_STATES and project.error is not None
        for path in self.folder.path.rglob("*.tmp"):
            raise AssertionError(f"temp file left behind: {path}")

    @invariant()
    def nothing_done_twice(self) -> None:
        if not hasattr(self, "counters"):
            return
        assert self.counters.calls["analyze"] <= 1, "analysis ran twice"
        twice = [k for k, n in self.counters.drawn.items() if n > 1]
        assert not twice, f"pictures drawn twice: {twice}"

    def teardown(self) -> None:
        if not hasattr(self, "folder"):
            return
        self.counters.fail_next_draw = ""
        Runner(self.project_id, target=machine.RENDERED, kind="pipeline", preview=True, provider=self.provider,
               sleep=lambda s: None).run()
        project = self.folder.load_project()
        assert project.state == machine.RENDERED
        self._check_equals_uninterrupted()

    def _check_equals_uninterrupted(self) -> None:
        """Replay the user's final edits on a fresh project in one go: same analysis, scenes, pictures, render input."""
        segments = self.folder.load_segments()
        prompts = self.folder.load_prompts()
        fresh = actions.create_project(settings=self.folder.load_project().settings)
        wav, lrc = song_files(Path(os.environ["STORYBEAT_DATA"]).parent)
        actions.upload_track(fresh.id, audio=wav, original_name="song.wav", lyrics_text=lrc)
        Runner(fresh.id, target=machine.SEGMENTED, provider=local_provider()).run()
        other = ProjectFolder(fresh.id)
        assert other.load_analysis() == self.folder.load_analysis()
        fresh_segments = other.load_segments()
        assert [(s.id, s.start_ms, s.end_ms, s.lyric_text) for s in fresh_segments.scenes] == [
            (s.id, s.start_ms, s.end_ms, s.lyric_text) for s in segments.scenes
        ]
        # every current picture is exactly what a fresh draw of its version gives
        from engine.steps.draw import previous_picture_sha, record_from_file, wanted_fingerprint
        from engine.steps.common import StepContext

        ctx = StepContext(folder=self.folder, project=self.folder.load_project(), provider=local_provider())
        cast = self.folder.load_cast()  # the fingerprint covers the cast, as in the draw step
        for k, (scene, sp) in enumerate(zip(segments.scenes, prompts.scenes)):
            latest = sp.latest
            want = wanted_fingerprint(ctx, scene, latest, prompts, cast, previous_picture_sha(ctx, segments.scenes, k, prompts))
            assert latest.image is not None and latest.image.fingerprint == want
            assert record_from_file(self.folder.resolve(latest.image.file), want, latest.image.file) is not None


@pytest.fixture
def isolated(data_root: Path) -> Path:
    return data_root


def test_runner_state_machine(isolated: Path) -> None:
    ProjectMachine.TestCase.settings = ProjectMachine.TestCase.settings
    run = ProjectMachine.TestCase("runTest")
    run.runTest()
