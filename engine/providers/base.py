"""The small interfaces every provider implements, and what they hand back."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from engine.models import Analysis, ProjectSettings, PromptVersion, Scene, StyleBible, Usage


@dataclass(frozen=True)
class UsageDelta:
    """Provider usage of one answered call, reported to the job's accounting."""

    model: str = ""
    calls: int = 1
    prompt_tokens: int = 0
    output_tokens: int = 0
    images: int = 0
    est_cost_usd: float = 0.0


UsageSink = Callable[[UsageDelta], None]


def add_usage(total: Usage, delta: UsageDelta) -> Usage:
    """A new :class:`engine.models.Usage` with ``delta`` added (pure)."""
    return Usage(
        calls=total.calls + delta.calls,
        prompt_tokens=total.prompt_tokens + delta.prompt_tokens,
        output_tokens=total.output_tokens + delta.output_tokens,
        images=total.images + delta.images,
        est_cost_usd=round(total.est_cost_usd + delta.est_cost_usd, 6),
    )


@dataclass
class StepIO:
    """What a provider may use besides its inputs: usage reporting, progress within a step and a stop check."""

    on_usage: UsageSink = lambda delta: None
    should_stop: Callable[[], bool] = lambda: False
    extra: dict[str, object] = field(default_factory=dict)
    on_progress: Callable[[float, str], None] = lambda fraction, message: None  # 0..1 of the current step


@dataclass(frozen=True)
class Drawing:
    """An illustrator's answer: a picture (PNG bytes or a PIL image), or the reason it was refused."""

    png: bytes | None
    blocked_reason: str = ""
    model: str = ""
    image: Any = None  # a PIL.Image.Image, saves a decode when the illustrator draws locally

    @property
    def refused(self) -> bool:
        """True when the provider gave no picture (safety block etc.)."""
        return self.png is None and self.image is None


class Analyst(Protocol):
    """Listens to the track: analysis.json."""

    name: str
    version: str

    def analyze(self, *, wav: Path, lyrics_text: str | None, settings: ProjectSettings, io: StepIO) -> Analysis:
        """Analyse the normalised WAV (+ optional user lyrics)."""
        ...


class Storyboarder(Protocol):
    """Writes the storyboard: segments.json."""

    name: str
    version: str

    def storyboard(self, analysis: Analysis, *, settings: ProjectSettings, io: StepIO) -> list[Scene]:
        """Scenes covering the whole track."""
        ...


class PromptWriter(Protocol):
    """Writes the style bible and one image prompt per scene: prompts.json."""

    name: str
    version: str

    def style_bible(self, analysis: Analysis, scenes: list[Scene], *, settings: ProjectSettings, io: StepIO) -> StyleBible:
        """The project-wide look."""
        ...

    def write(
        self, scenes: list[Scene], *, bible: StyleBible, settings: ProjectSettings, io: StepIO
    ) -> dict[str, tuple[str, str, list[str]]]:
        """(image_prompt, negative_prompt, style_hints) for each given scene, keyed by scene id."""
        ...


class Illustrator(Protocol):
    """Draws one picture per prompt version."""

    name: str
    version: str

    def model_for(self, settings: ProjectSettings) -> str:
        """The model id used for this project's quality setting (part of the image fingerprint)."""
        ...

    def draw(
        self,
        *,
        scene: Scene,
        prompt: PromptVersion,
        bible: StyleBible,
        settings: ProjectSettings,
        width: int,
        height: int,
        seed: int,
        io: StepIO,
    ) -> Drawing:
        """One picture for ``prompt`` at ``width`` x ``height``."""
        ...


@dataclass(frozen=True)
class Provider:
    """A named bundle of the four roles."""

    name: str
    analyst: Analyst
    storyboarder: Storyboarder
    writer: PromptWriter
    illustrator: Illustrator
