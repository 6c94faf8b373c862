"""The ETA model (engine/eta.py): priors from what is known, refined by measured progress. Times are passed in."""
from __future__ import annotations

from pathlib import Path

from engine import eta
from engine.eta import EtaModel, StepPlan, plan_steps
from engine.jobs import JobTracker
from engine.models import SourceInfo
from engine.project import create_project
from engine.storage import ProjectFolder

STEPS = ["analyze", "segment", "prompt", "draw", "render"]


def _project(seconds: float, **settings: object) -> ProjectFolder:
    from engine.models import ProjectSettings

    project = create_project(settings=ProjectSettings(**settings))
    folder = ProjectFolder(project.id)
    project.source = SourceInfo(original_name="a.wav", original_file="source/a.wav", sha256="0" * 64,
                                duration_ms=int(seconds * 1000), sample_rate=44100, channels=2)
    project.state = "UPLOADED"
    folder.save_project(project)
    return folder


def _simulate(model: EtaModel, costs: dict[str, float], *, cached: dict[str, float] | None = None,
              ticks: int = 10) -> list[tuple[float, str, float]]:
    """Run the plan on a virtual clock where each step really takes ``costs[name]`` s; (time, step, eta) samples."""
    now = 0.0
    out = []
    for plan in model.plans:
        model.start(plan.name, now)
        start = (cached or {}).get(plan.name, 0.0)
        for i in range(ticks + 1):
            f = start + (1 - start) * i / ticks
            if i:
                now += costs[plan.name] / ticks
            model.progress(plan.name, f, now)
            out.append((now, plan.name, model.eta(now)))
        model.finish(plan.name, now)
    return out


def test_priors_follow_what_is_known(data_root: Path) -> None:
    """Longer audio, more pixels and a preview change the plan; a 20 s song is minutes at most, not 26."""
    short = {p.name: p for p in plan_steps(_project(20), STEPS, preview=False)}
    long = {p.name: p for p in plan_steps(_project(200), STEPS, preview=False)}
    assert long["analyze"].prior_s > short["analyze"].prior_s * 3
    assert long["render"].prior_s > short["render"].prior_s * 3
    assert long["segment"].units > short["segment"].units  # scenes estimated from the length before a storyboard
    hd = {p.name: p for p in plan_steps(_project(20, resolution=1080), STEPS, preview=False)}
    assert hd["render"].units > short["render"].units * 2 and hd["draw"].units > short["draw"].units * 2
    preview = {p.name: p for p in plan_steps(_project(20), STEPS, preview=True)}
    assert preview["render"].units < short["render"].units / 3
    first = EtaModel(list(short.values())).eta(0.0)
    assert 5 < first < 120, first  # "26:51" for a 20 s song was the old extrapolation of a 1% start


def test_eta_from_the_start_and_no_jump_at_render(data_root: Path) -> None:
    """When each step costs what its prior says, the ETA is known during analysis and falls steadily (no jump
    between steps, e.g. from 49 s to 2 min 41 s when the render starts)."""
    plans = plan_steps(_project(20), STEPS, preview=False)
    model = EtaModel(plans)
    samples = _simulate(model, {p.name: p.prior_s for p in plans})
    assert samples[0][1] == "analyze" and samples[0][2] > 0
    total = sum(p.prior_s for p in plans)
    for now, step, left in samples:
        assert abs(left - (total - now)) <= max(1.0, 0.05 * total), (step, now, left)


def test_slow_machine_is_measured(data_root: Path) -> None:
    """A machine 1.8 times slower than the priors: after analysis the later steps are scaled up."""
    plans = plan_steps(_project(20), STEPS, preview=False)
    model = EtaModel(plans)
    costs = {p.name: p.prior_s * 1.8 for p in plans}
    samples = _simulate(model, costs)
    after_analyze = next(left for now, step, left in samples if step == "segment")
    truth = sum(costs.values()) - costs["analyze"]
    assert truth * 0.7 < after_analyze < truth * 1.3, (after_analyze, truth)


def test_rerender_with_cached_chunks(data_root: Path) -> None:
    """A re-render that finds 90% of its chunks cached: neither "a few seconds" for half a minute nor the full
    render time; its pace is measured from where it started, not from zero."""
    plan = StepPlan(name="render", units=1000, prior_s=40.0, overhead_s=2.5, counts_cached=True)
    model = EtaModel([plan])
    model.start("render", 0.0)
    model.progress("render", 0.9, 0.0)
    start = model.eta(0.0)
    assert 4 < start < 15, start  # overhead + 10% of the frames
    assert model.fraction() == 0.9  # the bar shows what is done
    # the remaining 10% really takes 30 s: half way through, the measured pace says about 15 s more
    model.progress("render", 0.95, 15.0)
    assert 10 < model.eta(15.0) < 20, model.eta(15.0)


def test_learned_rates_carry_to_the_next_run(data_root: Path) -> None:
    """A finished step stores its measured rate: the next plan of the same work starts closer to it."""
    folder = _project(60)
    before = {p.name: p for p in plan_steps(folder, STEPS, preview=False)}["analyze"]
    eta.learn("analyze", "local", before.units, before.prior_s * 4)
    after = {p.name: p for p in plan_steps(folder, STEPS, preview=False)}["analyze"]
    assert after.prior_s > before.prior_s * 2
    eta.rates_path().write_text("{not json")  # a damaged file: the defaults, no crash
    assert {p.name: p for p in plan_steps(folder, STEPS, preview=False)}["analyze"].prior_s == before.prior_s


def test_the_tracker_counter_is_the_current_steps(data_root: Path) -> None:
    """The CLI bar read "draw 4/4" then "0/4": the counters of a new step are its own from its start."""
    folder = _project(20)
    tracker = JobTracker(folder, "pipeline", steps=["prompt", "draw"], target="IMAGED", keep_attempts=False)
    tracker.start_attempt("prompt")
    tracker.progress("prompt", 4, 4)
    tracker.finish_step("prompt")
    tracker.start_attempt("draw")
    assert (tracker.job.step, tracker.job.done, tracker.job.total) == ("draw", 0, 0)
    assert tracker.job.eta_s is not None and tracker.job.eta_s > 0


def test_a_mostly_cached_render_learns_from_its_own_work(data_root: Path) -> None:
    """A re-render that found 90% cached measures its rate on the 10% it encoded, not on every frame."""
    model = EtaModel([StepPlan(name="render", units=1000, prior_s=8.5, overhead_s=2.5, counts_cached=True)])
    model.start("render", 0.0)
    model.progress("render", 0.9, 0.0)
    model.progress("render", 1.0, 4.0)
    assert model.finish("render", 4.0) == 4.0
    assert abs(model.own_units("render") - 100) < 1e-6
    # the draw step's units are already the pictures still to draw: nothing is discounted
    draw = EtaModel([StepPlan(name="draw", units=3, prior_s=6.0)])
    draw.start("draw", 0.0)
    draw.progress("draw", 0.25, 0.0)
    assert draw.own_units("draw") == 3
