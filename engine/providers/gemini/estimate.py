"""Usage plumbing and the pre-flight estimate of a Gemini run.

* :class:`UsageRouter` sits between the shared :class:`GeminiClient` and the
  step that is running: the client reports every answered call to it, and it
  forwards each :class:`engine.providers.base.UsageDelta` to that step's
  ``io.on_usage``, which the runner adds to ``jobs/pipeline.json``.
* :func:`estimate_run` predicts the calls, tokens, pictures and list-price
  cost of a whole run from the settings and the track length (or a finished
  analysis / storyboard); :func:`estimate_project` predicts only what a
  project still has to do. Both are estimates for the UI, not a bill.
"""
from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from engine.config import Settings, get_settings
from engine.models import Analysis, ProjectSettings
from engine.providers.base import StepIO, UsageDelta, UsageSink
from engine.providers.gemini.usage import IMAGE_TOKENS_FALLBACK, estimate_cost_usd

log = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------- usage routing


class UsageRouter:
    """The client's ``on_usage``: forwards each call's usage to the sink of the step now running."""

    def __init__(self) -> None:
        self._sink: UsageSink | None = None
        self._lock = threading.Lock()

    def __call__(self, delta: UsageDelta) -> None:
        with self._lock:
            sink = self._sink
        if sink is None:
            log.debug("usage outside a step: %s", delta)
            return
        sink(delta)

    @contextlib.contextmanager
    def to(self, io: StepIO) -> Iterator[None]:
        """Send usage to ``io.on_usage`` while the block runs."""
        with self._lock:
            previous, self._sink = self._sink, io.on_usage
        try:
            yield
        finally:
            with self._lock:
                self._sink = previous


# --------------------------------------------------------------------------- the estimate


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
            "prompt_tokens": self.prompt_tokens, "output_tokens": self.output_tokens, "images": self.images,
            "cost_usd": self.cost_usd, "steps": [asdict(s) for s in self.steps],
        }


def expected_scenes(*, duration_ms: int, min_scene_ms: int, max_scene_ms: int) -> int:
    """Scenes a storyboard of ``duration_ms`` will have, at the mean of the length bounds."""
    mean_ms = (min_scene_ms + max_scene_ms) / 2
    return max(1, math.ceil(duration_ms / mean_ms))


def _step(step: str, model: str, *, calls: int, prompt_tokens: int, output_tokens: int, images: int = 0) -> StepEstimate:
    per_call = estimate_cost_usd(model=model, prompt_tokens=prompt_tokens // max(calls, 1),
                                 output_tokens=output_tokens // max(calls, 1), images=images // max(calls, 1))
    return StepEstimate(step=step, model=model, calls=calls, prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                        images=images, cost_usd=round(per_call * calls, 6))


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
    config: Settings | None = None,
) -> RunEstimate:
    """Predicted Gemini usage of a run: calls, tokens, pictures and cost.

    Give ``duration_ms`` (before analysis) or ``analysis`` (its length and
    lyric/section counts are used). ``scenes`` (a finished storyboard's
    count) beats the guess from the scene-length bounds; ``images`` overrides
    the number of pictures still to draw; ``steps`` limits the estimate to
    what is left. The local provider costs nothing.
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
                         output_tokens=n_scenes * STORYBOARD_OUT_PER_SCENE_TOKENS))
    if "prompt" in steps:
        out.append(_step("prompt", text, calls=1,
                         prompt_tokens=PROMPTS_PROMPT_TOKENS + n_scenes * PROMPTS_IN_PER_SCENE_TOKENS,
                         output_tokens=PROMPTS_OUT_BASE_TOKENS + n_scenes * PROMPTS_OUT_PER_SCENE_TOKENS))
    if "draw" in steps:
        n_images = n_scenes if images is None else images
        model = image_model(settings, config)
        if n_images > 0:
            out.append(_step("draw", model, calls=n_images, prompt_tokens=n_images * IMAGE_PROMPT_TOKENS,
                             output_tokens=n_images * IMAGE_TOKENS_FALLBACK.get(model, 1290), images=n_images))
    return RunEstimate(provider="gemini", scenes=n_scenes, steps=tuple(out))


def estimate_project(project_id: str, *, config: Settings | None = None) -> RunEstimate:
    """What a project still has to spend: steps whose output is missing, pictures not drawn yet.

    Reads project.json, analysis.json, segments.json and prompts.json; an
    output that exists counts as done (a stale one would be redone, so this
    is a lower bound after settings changes).
    """
    from engine.errors import InputError
    from engine.storage import ProjectFolder

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
    images = None
    if segments is not None and prompts is not None:
        by_id = {sp.id: sp for sp in prompts.scenes}
        images = sum(1 for s in segments.scenes if s.id not in by_id or by_id[s.id].latest.image is None)
    return estimate_run(
        project.settings, duration_ms=project.source.duration_ms, analysis=analysis,
        scenes=len(segments.scenes) if segments is not None else None,
        steps=steps, images=images, config=config,
    )
