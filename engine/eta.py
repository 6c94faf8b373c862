"""How long a run takes: one model of each step's cost, refined from measured progress.

The job tracker (``engine.jobs.JobTracker``) owns one :class:`EtaModel` per
run; the job file's ``fraction`` and ``eta_s`` come from it, so the CLI's bar
and the UI show the same numbers.

A step's cost before it runs is ``overhead + units x seconds-per-unit``. The
units are what is known about the work: seconds of audio (analyze), scenes
(segment, prompt), megapixels of the pictures still to draw (draw), frames x
megapixels of the video (render). The seconds per unit start from defaults
measured on a small machine (2 cores) and are learned: every finished step
stores its measured rate in ``{data}/eta_rates.json`` (a moving average per
step and provider), so the next run starts from this machine's speed.

While a step runs, its own measured pace takes over from the prior as its
progress grows (a render that starts with cached chunks measures its pace
from where it started, not from zero), and the steps after it are scaled by
how this run's finished steps compared with their priors.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from engine.config import get_settings
from engine.storage import ProjectFolder, atomic_write_bytes

log = logging.getLogger(__name__)

# (overhead seconds, seconds per unit) by step and provider ("*": any provider).
DEFAULT_RATES: dict[str, tuple[float, float]] = {
    "analyze:*": (2.0, 0.10),  # per second of audio (docs/benchmarks.md: 0.07-0.09 of the track's length)
    "analyze:gemini": (4.0, 0.15),
    "segment:*": (0.5, 0.02),  # per scene
    "segment:gemini": (5.0, 0.2),
    "prompt:*": (0.3, 0.1),  # per scene
    "prompt:gemini": (2.0, 1.5),
    "draw:*": (0.3, 1.5),  # per megapixel drawn (a 720p picture is 0.92 MP)
    "draw:gemini": (1.0, 12.0),
    "render:*": (2.5, 0.006),  # per frame x megapixel (numba warm-up, concatenation and muxing in the overhead)
}
LEARN_WEIGHT = 0.5  # how much one measured step moves the stored rate
MIN_MEASURE_S = 1.0  # a step's own pace counts once it has run this long
SPEED_BOUNDS = (0.5, 2.0)  # how far this run's speed may scale the later steps' priors


def rates_path() -> Path:
    """Where the learned rates are kept: ``{data}/eta_rates.json``."""
    return get_settings().data / "eta_rates.json"


def _key(step: str, provider: str) -> str:
    return f"{step}:{provider}"


def load_rates() -> dict[str, tuple[float, float]]:
    """The defaults overlaid with the learned rates (a missing or damaged file: the defaults)."""
    rates = dict(DEFAULT_RATES)
    try:
        learned = json.loads(rates_path().read_text())
        for key, value in learned.items():
            overhead, per_unit = float(value[0]), float(value[1])
            if overhead >= 0 and per_unit >= 0:
                rates[key] = (overhead, per_unit)
    except (OSError, ValueError, TypeError, IndexError, AttributeError):
        pass
    return rates


def rate_for(rates: dict[str, tuple[float, float]], step: str, provider: str) -> tuple[float, float]:
    """(overhead, seconds per unit) of ``step`` with ``provider``: its own, else the step's default."""
    return rates.get(_key(step, provider)) or rates.get(_key(step, "*")) or (1.0, 0.0)


def learn(step: str, provider: str, units: float, seconds: float) -> None:
    """Fold one measured step (``units`` of work in ``seconds``) into the stored rate; never raises."""
    if units <= 0 or seconds <= 0:
        return
    try:
        rates = load_rates()
        overhead, per_unit = rate_for(rates, step, provider)
        measured = max(0.0, seconds - overhead) / units
        new = (1 - LEARN_WEIGHT) * per_unit + LEARN_WEIGHT * measured
        path = rates_path()
        stored = {}
        if path.is_file():
            try:
                stored = json.loads(path.read_text())
            except ValueError:
                stored = {}
        stored[_key(step, provider)] = [round(overhead, 3), round(new, 6)]
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(stored, indent=1, sort_keys=True).encode())
    except Exception as exc:  # noqa: BLE001 - an estimate must never break a run
        log.debug("eta rates not stored: %s", exc)


@dataclass
class StepPlan:
    """One step's expected work: ``units`` and the prior seconds they cost."""

    name: str
    units: float
    prior_s: float
    overhead_s: float = 0.0  # the part of prior_s that does not shrink with cached work
    # the units count work a run may find done (the render's cached chunks): its first progress report says how much
    counts_cached: bool = False


def plan_steps(folder: ProjectFolder, steps: list[str], *, preview: bool,
               rates: dict[str, tuple[float, float]] | None = None) -> list[StepPlan]:
    """The prior cost of each of ``steps`` for the project in ``folder``, from what is known of it now.

    Audio length from the upload; scenes from the storyboard (before it exists:
    the length over the average scene); pictures still to draw from the prompts;
    frames and pixels from the render settings. Never raises: what cannot be
    read counts as unknown (a short default).
    """
    from engine.images import canvas_size
    from engine.render.timeline import render_spec

    rates = rates if rates is not None else load_rates()
    project = folder.load_project()
    s = project.settings
    audio_s = (project.source.duration_ms / 1000) if project.source else 30.0
    segments = prompts = None
    try:
        segments = folder.load_segments()
        prompts = folder.load_prompts()
    except Exception:  # noqa: BLE001 - a damaged file is recomputed by its step; the estimate goes on
        pass
    scenes = len(segments.scenes) if segments else max(1, round(audio_s * 2000 / (s.min_scene_ms + s.max_scene_ms)))
    width, height = canvas_size(s.aspect, out_height=s.resolution)
    picture_mp = width * height / 1e6
    if prompts is not None and segments is not None:
        drawn = {sp.id for sp in prompts.scenes if sp.latest.image is not None}
        to_draw = sum(1 for scene in segments.scenes if scene.id not in drawn)
    else:
        to_draw = scenes
    spec = render_spec(aspect=s.aspect, resolution=s.resolution, fps=s.fps, preview=preview)
    units = {
        "analyze": audio_s, "segment": scenes, "prompt": scenes, "draw": to_draw * picture_mp,
        "render": audio_s * spec.fps * spec.width * spec.height / 1e6,
    }
    plans = []
    for name in steps:
        overhead, per_unit = rate_for(rates, name, s.provider)
        n = units.get(name, 1.0)
        plans.append(StepPlan(name=name, units=n, prior_s=overhead + per_unit * n, overhead_s=overhead,
                              counts_cached=name == "render"))
    return plans


@dataclass
class _Running:
    started: float
    first_fraction: float | None = None  # the step's progress at its first report (e.g. cached render chunks)
    fraction: float = 0.0


@dataclass
class EtaModel:
    """The progress and time left of one run, from the step plans and what has been measured so far.

    Times are passed in (``now``: a monotonic clock in seconds), so the model is a pure function of its inputs.
    """

    plans: list[StepPlan]
    _state: dict[str, str] = field(default_factory=dict)  # name -> pending, running, done, skipped
    _running: dict[str, _Running] = field(default_factory=dict)
    _actual: dict[str, float] = field(default_factory=dict)  # seconds each finished step took

    def plan(self, name: str) -> StepPlan | None:
        """The plan of step ``name``."""
        return next((p for p in self.plans if p.name == name), None)

    def replan(self, plans: list[StepPlan]) -> None:
        """New plans (e.g. the scene count is known once the storyboard exists) for the steps not begun yet."""
        fresh = {p.name: p for p in plans}
        self.plans = [fresh.get(p.name, p) if self._state.get(p.name, "pending") == "pending" else p for p in self.plans]

    def start(self, name: str, now: float) -> None:
        """Step ``name`` began (a retry keeps its first start)."""
        self._state[name] = "running"
        self._running.setdefault(name, _Running(started=now))

    def progress(self, name: str, fraction: float, now: float) -> None:
        """Step ``name`` is ``fraction`` (0..1) done."""
        if name not in self._running:
            self.start(name, now)
        run = self._running[name]
        fraction = max(0.0, min(1.0, fraction))
        if run.first_fraction is None:
            run.first_fraction = fraction
        run.fraction = fraction

    def finish(self, name: str, now: float, *, skipped: bool = False) -> float | None:
        """Step ``name`` ended; returns the seconds it took (None when skipped: it did no work)."""
        self._state[name] = "skipped" if skipped else "done"
        run = self._running.get(name)
        if skipped or run is None:
            return None
        self._actual[name] = max(0.0, now - run.started)
        return self._actual[name]

    def cached_share(self, name: str) -> float:
        """The part of step ``name``'s units found done at its first report (0 unless its plan counts cached work)."""
        plan, run = self.plan(name), self._running.get(name)
        if plan is None or run is None or not plan.counts_cached:
            return 0.0
        return run.first_fraction or 0.0

    def own_units(self, name: str) -> float:
        """The units step ``name`` really worked on in this run (what a learned rate is measured on)."""
        plan = self.plan(name)
        return plan.units * (1.0 - self.cached_share(name)) if plan else 0.0

    def _live(self) -> list[StepPlan]:
        return [p for p in self.plans if self._state.get(p.name) != "skipped"]

    def _speed(self) -> float:
        """How this run compares with the priors so far (finished steps' actual over prior seconds)."""
        done = [p for p in self.plans if p.name in self._actual and p.prior_s > 0]
        prior = sum(p.prior_s for p in done)
        if prior < MIN_MEASURE_S:
            return 1.0
        lo, hi = SPEED_BOUNDS
        return min(hi, max(lo, sum(self._actual[p.name] for p in done) / prior))

    def _left(self, p: StepPlan, now: float, speed: float) -> float:
        """Seconds step ``p`` still needs."""
        state = self._state.get(p.name, "pending")
        if state in ("done", "skipped"):
            return 0.0
        if state == "pending":
            return p.prior_s * speed
        run = self._running[p.name]
        part = self.part(p.name, own=True)
        cached = self.cached_share(p.name)  # found done at the start: costs no time but the overhead
        work = (p.overhead_s + (p.prior_s - p.overhead_s) * (1.0 - cached)) * speed
        prior_left = work * (1.0 - part)
        elapsed = now - run.started
        if part <= 0:  # nothing measured yet: the prior, less the time already spent (never below a second)
            return max(1.0, work - elapsed)
        if elapsed < MIN_MEASURE_S:
            return prior_left
        measured_left = elapsed * (1.0 - part) / part
        trust = min(1.0, part / 0.5)  # the step's own pace takes over by half way
        return (1 - trust) * prior_left + trust * measured_left

    def eta(self, now: float) -> float:
        """Seconds left of the whole run."""
        speed = self._speed()
        return round(sum(max(0.0, self._left(p, now, speed)) for p in self._live()), 1)

    def part(self, name: str, *, own: bool = False) -> float:
        """How much of step ``name`` is done (0..1). ``own``: of the work this run does, the part found done
        at the step's first report (cached render chunks, pictures up to date) left out: the step's pace."""
        state = self._state.get(name, "pending")
        if state in ("done", "skipped"):
            return 1.0
        run = self._running.get(name)
        if run is None:
            return 0.0
        if not own:
            return run.fraction
        start_f = run.first_fraction or 0.0
        return max(0.0, min(1.0, (run.fraction - start_f) / max(1e-6, 1.0 - start_f)))

    def fraction(self) -> float:
        """How much of the run is done (0..1), each step weighted by its expected seconds (so no jump between steps)."""
        live = self._live()
        total = sum(p.prior_s for p in live)
        if total <= 0:
            return 0.0
        return round(sum(p.prior_s * self.part(p.name) for p in live) / total, 4)
