"""Usage and its cost: what a provider call used, list prices, and the pre-flight estimate of a run.

* :class:`UsageDelta` is one answered call's usage; a step reports it through
  ``StepIO.on_usage`` and the runner adds it to the job's ``usage``
  (``jobs/pipeline.json``, this job's share) with :func:`add_usage`, and
  appends it to the project's spend ledger ``jobs/ledger.jsonl``
  (:func:`append_ledger`, one JSON line per call, never rewritten or reset);
  :func:`read_spend` gives the total spent and the last job's share.
* :func:`estimate_cost_usd` prices a call. The prices below are public list
  prices (USD per million tokens, paid tier, late 2025) copied by hand; they
  are an estimate for the UI, not a bill. Google changes prices and bills
  some things (long prompts, grounding, batch) differently. Unknown models are
  priced like ``gemini-2.5-flash``.
* :func:`estimate_run` predicts the calls, tokens, pictures and list-price
  cost of a whole run from the settings and the track length (or a finished
  analysis / storyboard); :func:`estimate_project` predicts only what a
  project still has to do. Both are estimates for the UI, not a bill; the
  local provider costs nothing.

These are the engine's types: the jobs, the CLI and the API use them without
importing a provider; the Gemini provider reports into them.
"""
from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image

from engine.cast import REFERENCE_SIZE, members_in
from engine.config import Settings, get_settings
from engine.errors import DISK_FULL_ERRNOS, DISK_FULL_MESSAGE, DiskFullError, InputError
from engine.images import canvas_size
from engine.models import Analysis, CastMember, ProjectSettings, Usage
from engine.storage import ProjectFolder, publish, read_bytes

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- usage of one call


@dataclass(frozen=True)
class UsageDelta:
    """Provider usage of one answered call, reported to the job's accounting."""

    model: str = ""
    calls: int = 1
    prompt_tokens: int = 0
    output_tokens: int = 0
    images: int = 0
    est_cost_usd: float = 0.0
    thinking_tokens: int = 0  # included in output_tokens


UsageSink = Callable[[UsageDelta], None]


def add_usage(total: Usage, delta: UsageDelta) -> Usage:
    """A new :class:`engine.models.Usage` with ``delta`` added (pure)."""
    return Usage(
        calls=total.calls + delta.calls,
        prompt_tokens=total.prompt_tokens + delta.prompt_tokens,
        output_tokens=total.output_tokens + delta.output_tokens,
        images=total.images + delta.images,
        est_cost_usd=round(total.est_cost_usd + delta.est_cost_usd, 6),
        thinking_tokens=total.thinking_tokens + delta.thinking_tokens,
    )


# --------------------------------------------------------------------------- the spend ledger

LEDGER_FILE = "ledger.jsonl"


def ledger_path(folder: ProjectFolder) -> Path:
    """jobs/ledger.jsonl: every answered call's usage, one JSON line each, in order."""
    return folder.jobs_dir / LEDGER_FILE


def append_ledger(folder: ProjectFolder, delta: UsageDelta, *, job: str, step: str = "") -> None:
    """Append one call's usage to the ledger: a single ``O_APPEND`` write of one line, then fsync.

    A line torn by a crash is closed with a newline before the next one (the
    reader skips it), so one bad line never swallows a good one. A full disk
    raises DiskFullError.
    """
    entry = {"at": datetime.now(timezone.utc).isoformat(), "job": job, "step": step, **asdict(delta)}
    line = (json.dumps(entry, sort_keys=True) + "\n").encode()
    path = ledger_path(folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            written = 0
            while written < len(line):
                written += os.write(fd, line[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno in DISK_FULL_ERRNOS:
            raise DiskFullError(f"{DISK_FULL_MESSAGE}: cannot append to {path.name}") from exc
        raise
    publish(path)  # with a bucket: the whole file in one conditional PUT


@dataclass(frozen=True)
class Spend:
    """What a project has spent: ``total`` over every call ever made, and the last job's share."""

    total: Usage
    last_job: Usage
    last_job_id: str = ""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict: ``{total: Usage, last_job: Usage, last_job_id}``."""
        return {"total": self.total.model_dump(), "last_job": self.last_job.model_dump(),
                "last_job_id": self.last_job_id}


def _delta(entry: dict[str, object]) -> UsageDelta:
    names = UsageDelta.__dataclass_fields__
    return UsageDelta(**{k: v for k, v in entry.items() if k in names})  # type: ignore[arg-type]


def read_spend(folder: ProjectFolder) -> Spend:
    """The ledger summed: the total spent and the share of the job that made the last call (torn lines skipped)."""
    total, last, last_id = Usage(), Usage(), ""
    lines = (read_bytes(ledger_path(folder)) or b"").splitlines()
    for raw in lines:
        try:
            entry = json.loads(raw)
            delta = _delta(entry)
        except (ValueError, TypeError):
            log.warning("%s: skipping a torn ledger line", folder.id)
            continue
        job = str(entry.get("job", ""))
        if job != last_id:
            last, last_id = Usage(), job
        total, last = add_usage(total, delta), add_usage(last, delta)
    return Spend(total=total, last_job=last, last_job_id=last_id)


def spend_line(spend: Spend) -> str:
    """One line for people: ``spent ~$0.1234 in 9 calls (12 pictures); last job ~$0.0387, 1 call``."""
    t, j = spend.total, spend.last_job
    return (f"spent ~${t.est_cost_usd:.4f} in {t.calls} call{'s' * (t.calls != 1)} ({t.images} pictures); "
            f"last job ~${j.est_cost_usd:.4f}, {j.calls} call{'s' * (j.calls != 1)}")


# --------------------------------------------------------------------------- list prices


@dataclass(frozen=True)
class Price:
    """List price of one model in USD per million tokens."""

    input_per_m: float
    output_per_m: float
    image_output_per_m: float | None = None  # output tokens that are pictures


PRICES: dict[str, Price] = {
    "gemini-2.5-flash": Price(0.30, 2.50),
    "gemini-2.5-flash-lite": Price(0.10, 0.40),
    "gemini-2.5-pro": Price(1.25, 10.00),
    "gemini-3-pro-preview": Price(2.00, 12.00),
    "gemini-3-flash-preview": Price(0.50, 3.00),
    "gemini-2.5-flash-image": Price(0.30, 2.50, image_output_per_m=30.00),
    "gemini-3-pro-image-preview": Price(2.00, 12.00, image_output_per_m=120.00),
}
DEFAULT_PRICE = PRICES["gemini-2.5-flash"]
BATCH_PRICE_FACTOR = 0.5  # the Batch API's price: half the list price
# Output tokens one picture costs when the answer does not say (1024px class).
IMAGE_TOKENS_FALLBACK = {"gemini-2.5-flash-image": 1290, "gemini-3-pro-image-preview": 1120}


def price_for(model: str) -> Price:
    """The list price of ``model`` (``models/`` prefix and ``-001`` style suffixes tolerated)."""
    name = model.removeprefix("models/")
    if name in PRICES:
        return PRICES[name]
    for known in sorted(PRICES, key=len, reverse=True):
        if name.startswith(known):
            return PRICES[known]
    return DEFAULT_PRICE


def estimate_cost_usd(*, model: str, prompt_tokens: int, output_tokens: int, images: int = 0) -> float:
    """Estimated cost of one call; image output tokens are priced at the image rate.

    When a picture came back but the answer reported no output tokens, a
    typical per-picture token count is assumed.
    """
    price = price_for(model)
    cost = prompt_tokens * price.input_per_m / 1e6
    if images and price.image_output_per_m is not None:
        if output_tokens <= 0:
            output_tokens = images * IMAGE_TOKENS_FALLBACK.get(model.removeprefix("models/"), 1290)
        cost += output_tokens * price.image_output_per_m / 1e6
    else:
        cost += output_tokens * price.output_per_m / 1e6
    return round(cost, 6)


# --------------------------------------------------------------------------- the estimate of a run

AUDIO_TOKENS_PER_S = 32  # Gemini's documented rate for audio input
ANALYSIS_PROMPT_TOKENS = 450
ANALYSIS_OUT_BASE_TOKENS = 120
ANALYSIS_OUT_PER_LINE_TOKENS = 25
ANALYSIS_OUT_PER_SECTION_TOKENS = 35
SECONDS_PER_SUNG_LINE = 4.0
SECONDS_PER_SECTION = 30.0
STORYBOARD_PROMPT_TOKENS = 600
STORYBOARD_IN_PER_LINE_TOKENS = 30
STORYBOARD_IN_PER_SECTION_TOKENS = 25
STORYBOARD_OUT_PER_SCENE_TOKENS = 90
PROMPTS_PROMPT_TOKENS = 500
PROMPTS_IN_PER_SCENE_TOKENS = 90
PROMPTS_OUT_BASE_TOKENS = 150
PROMPTS_OUT_PER_SCENE_TOKENS = 110
IMAGE_PROMPT_TOKENS = 260
# Input images (Gemini 2.x+): one up to 384 px a side is 258 tokens, a larger one 258 per 768 x 768 tile.
INPUT_IMAGE_TILE_TOKENS = 258
INPUT_IMAGE_TILE = 768
# Thinking: the 2.5 text models think by default (dynamic budget) and bill it as output. Rough averages per call
# for answers of this size; the image models do not think (the pro image model's interim pictures are in its
# output count already).
THINKING_BASE_TOKENS = {"analyze": 1200, "segment": 1500, "prompt": 1200}
THINKING_PER_SCENE_TOKENS = {"segment": 40, "prompt": 60}


@dataclass(frozen=True)
class StepEstimate:
    """Predicted model calls of one pipeline step."""

    step: str
    model: str
    calls: int
    prompt_tokens: int
    output_tokens: int
    images: int
    cost_usd: float
    thinking_tokens: int = 0  # included in output_tokens


@dataclass(frozen=True)
class RunEstimate:
    """Predicted usage of a run: per step and in total (list prices, USD)."""

    provider: str
    scenes: int
    steps: tuple[StepEstimate, ...] = field(default_factory=tuple)

    @property
    def calls(self) -> int:
        """Model calls (generateContent) in total; uploads and status polls are not billed."""
        return sum(s.calls for s in self.steps)

    @property
    def prompt_tokens(self) -> int:
        """Input tokens in total."""
        return sum(s.prompt_tokens for s in self.steps)

    @property
    def output_tokens(self) -> int:
        """Output tokens in total (pictures included)."""
        return sum(s.output_tokens for s in self.steps)

    @property
    def thinking_tokens(self) -> int:
        """Of the output tokens, the text model's thinking."""
        return sum(s.thinking_tokens for s in self.steps)

    @property
    def images(self) -> int:
        """Pictures in total."""
        return sum(s.images for s in self.steps)

    @property
    def cost_usd(self) -> float:
        """Estimated cost in USD."""
        return round(sum(s.cost_usd for s in self.steps), 4)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict with totals and steps."""
        return {
            "provider": self.provider, "scenes": self.scenes, "calls": self.calls,
            "prompt_tokens": self.prompt_tokens, "output_tokens": self.output_tokens,
            "thinking_tokens": self.thinking_tokens, "images": self.images,
            "cost_usd": self.cost_usd, "steps": [asdict(s) for s in self.steps],
        }


def input_image_tokens(width: int, height: int) -> int:
    """The prompt tokens one input image of ``width`` x ``height`` costs (Gemini's tiling rule)."""
    if max(width, height) <= 384:
        return INPUT_IMAGE_TILE_TOKENS
    return INPUT_IMAGE_TILE_TOKENS * math.ceil(width / INPUT_IMAGE_TILE) * math.ceil(height / INPUT_IMAGE_TILE)


def expected_scenes(*, duration_ms: int, min_scene_ms: int, max_scene_ms: int) -> int:
    """Scenes a storyboard of ``duration_ms`` will have, at the mean of the length bounds."""
    mean_ms = (min_scene_ms + max_scene_ms) / 2
    return max(1, math.ceil(duration_ms / mean_ms))


def _step(step: str, model: str, *, calls: int, prompt_tokens: int, output_tokens: int, images: int = 0,
          scenes: int = 0, price_factor: float = 1.0) -> StepEstimate:
    """One step's estimate; a text step's thinking (:data:`THINKING_BASE_TOKENS`) is added to its output;
    ``price_factor``: of the list price (:data:`BATCH_PRICE_FACTOR` for the Batch API)."""
    thinking = 0 if images else calls * (THINKING_BASE_TOKENS.get(step, 0) + scenes * THINKING_PER_SCENE_TOKENS.get(step, 0))
    output_tokens += thinking
    per_call = estimate_cost_usd(model=model, prompt_tokens=prompt_tokens // max(calls, 1),
                                 output_tokens=output_tokens // max(calls, 1), images=images // max(calls, 1))
    return StepEstimate(step=step, model=model, calls=calls, prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                        images=images, cost_usd=round(per_call * calls * price_factor, 6), thinking_tokens=thinking)


def image_model(settings: ProjectSettings, config: Settings) -> str:
    """The image model of a project's quality setting."""
    return config.gemini_image_pro if settings.quality == "pro" else config.gemini_image_fast


def estimate_run(
    settings: ProjectSettings,
    *,
    duration_ms: int | None = None,
    analysis: Analysis | None = None,
    scenes: int | None = None,
    lyrics_lines: int | None = None,
    steps: tuple[str, ...] = ("analyze", "segment", "prompt", "draw"),
    images: int | None = None,
    references: int | None = None,
    reference_input_tokens: int | None = None,
    previous_inputs: int | None = None,
    config: Settings | None = None,
) -> RunEstimate:
    """Predicted Gemini usage of a run: calls, tokens, pictures and cost.

    Give ``duration_ms`` (before analysis) or ``analysis`` (its length and
    lyric/section counts are used). ``scenes`` (a finished storyboard's
    count) beats the guess from the scene-length bounds; ``images`` overrides
    the number of pictures still to draw; ``steps`` limits the estimate to
    what is left. The draw step also draws the cast's reference pictures
    (``references``, the step ``cast``; default one, the proposed lead) and
    sends them with every picture as input images (``reference_input_tokens``
    over all pictures; default the lead's drawn reference in each), and with
    the ``continuity`` setting the previous picture too (``previous_inputs``
    pictures; default every picture but the first scene's). With
    ``gemini_batch`` the pictures (not the references) cost the Batch API's
    half price. The local provider costs nothing.
    """
    config = config or get_settings()
    if analysis is not None:
        duration_ms = analysis.duration_ms
    if duration_ms is None or duration_ms <= 0:
        raise ValueError("estimate_run needs duration_ms or an analysis")
    n_scenes = scenes or expected_scenes(duration_ms=duration_ms, min_scene_ms=settings.min_scene_ms,
                                         max_scene_ms=settings.max_scene_ms)
    if settings.provider != "gemini":
        return RunEstimate(provider=settings.provider, scenes=n_scenes)
    seconds = duration_ms / 1000
    n_lines = lyrics_lines if lyrics_lines is not None else (
        len(analysis.lyrics) if analysis is not None and analysis.lyrics else round(seconds / SECONDS_PER_SUNG_LINE))
    n_sections = len(analysis.sections) if analysis is not None else max(1, round(seconds / SECONDS_PER_SECTION))
    text = config.gemini_text_model
    out: list[StepEstimate] = []
    if "analyze" in steps:
        out.append(_step("analyze", text, calls=1,
                         prompt_tokens=ANALYSIS_PROMPT_TOKENS + round(seconds * AUDIO_TOKENS_PER_S),
                         output_tokens=ANALYSIS_OUT_BASE_TOKENS + n_lines * ANALYSIS_OUT_PER_LINE_TOKENS
                         + n_sections * ANALYSIS_OUT_PER_SECTION_TOKENS))
    if "segment" in steps:
        out.append(_step("segment", text, calls=1,
                         prompt_tokens=STORYBOARD_PROMPT_TOKENS + n_lines * STORYBOARD_IN_PER_LINE_TOKENS
                         + n_sections * STORYBOARD_IN_PER_SECTION_TOKENS,
                         output_tokens=n_scenes * STORYBOARD_OUT_PER_SCENE_TOKENS, scenes=n_scenes))
    if "prompt" in steps:
        out.append(_step("prompt", text, calls=1,
                         prompt_tokens=PROMPTS_PROMPT_TOKENS + n_scenes * PROMPTS_IN_PER_SCENE_TOKENS,
                         output_tokens=PROMPTS_OUT_BASE_TOKENS + n_scenes * PROMPTS_OUT_PER_SCENE_TOKENS, scenes=n_scenes))
    if "draw" in steps:
        n_images = n_scenes if images is None else images
        model = image_model(settings, config)
        per_picture = IMAGE_TOKENS_FALLBACK.get(model, 1290)
        n_refs = 1 if references is None else references
        if n_refs > 0:
            out.append(_step("cast", model, calls=n_refs, prompt_tokens=n_refs * IMAGE_PROMPT_TOKENS,
                             output_tokens=n_refs * per_picture, images=n_refs))
        if n_images > 0:
            ref_tokens = (n_images * input_image_tokens(*REFERENCE_SIZE) if reference_input_tokens is None
                          else reference_input_tokens)
            n_previous = 0 if not settings.continuity else (
                (n_images - 1 if n_images == n_scenes else n_images) if previous_inputs is None else previous_inputs)
            canvas = canvas_size(settings.aspect, out_height=settings.resolution)
            out.append(_step("draw", model, calls=n_images,
                             prompt_tokens=n_images * IMAGE_PROMPT_TOKENS + ref_tokens + n_previous * input_image_tokens(*canvas),
                             output_tokens=n_images * per_picture, images=n_images,
                             price_factor=BATCH_PRICE_FACTOR if settings.gemini_batch else 1.0))
    return RunEstimate(provider="gemini", scenes=n_scenes, steps=tuple(out))


def estimate_project(project_id: str, *, config: Settings | None = None) -> RunEstimate:
    """What a project still has to spend: steps whose output is missing, pictures not drawn yet.

    Reads project.json, analysis.json, segments.json and prompts.json; an
    output that exists counts as done (a stale one would be redone, so this
    is a lower bound after settings changes).
    """
    folder = ProjectFolder(project_id)
    project = folder.load_project()
    if project.source is None:
        raise InputError("no track uploaded yet: nothing to estimate")
    analysis = folder.load_analysis()
    segments = folder.load_segments()
    prompts = folder.load_prompts()
    steps = tuple(name for name, done in (
        ("analyze", analysis is not None), ("segment", segments is not None), ("prompt", prompts is not None),
        ("draw", False)) if not done)
    images = ref_tokens = previous = None
    cast = folder.load_cast()
    references = None if cast is None else sum(1 for m in cast.members if m.reference is None)
    if segments is not None and prompts is not None:
        by_id = {sp.id: sp for sp in prompts.scenes}
        pending = [(k, s) for k, s in enumerate(segments.scenes) if s.id not in by_id or by_id[s.id].latest.image is None]
        images, previous = len(pending), sum(1 for k, _ in pending if k > 0)
        if cast is not None:
            tokens = {m.id: _reference_tokens(folder, m) for m in cast.members}
            texts = [f"{by_id[s.id].latest.image_prompt} {s.visual_intent}" if s.id in by_id else s.visual_intent
                     for _, s in pending]
            ref_tokens = sum(tokens[m.id] for text in texts for m in members_in(cast, text))
    return estimate_run(
        project.settings, duration_ms=project.source.duration_ms, analysis=analysis,
        scenes=len(segments.scenes) if segments is not None else None,
        steps=steps, images=images, references=references, reference_input_tokens=ref_tokens, previous_inputs=previous,
        config=config,
    )


def _reference_tokens(folder: ProjectFolder, member: CastMember) -> int:
    """The input tokens of one member's reference picture: its file's size when it has one, else a drawn one's."""
    size = REFERENCE_SIZE
    if member.reference is not None:
        try:
            with Image.open(folder.resolve(member.reference.file)) as img:  # reads the header only
                size = img.size
        except (OSError, InputError):
            pass
    return input_image_tokens(*size)
