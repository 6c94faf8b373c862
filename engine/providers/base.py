"""The small interfaces every provider implements, and what they hand back."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from engine.cast import CastPicture
from engine.errors import ProviderError
from engine.models import Analysis, CastMember, ProjectSettings, PromptVersion, Scene, StyleBible
from engine.usage import UsageSink


@dataclass
class StepIO:
    """What a provider may use besides its inputs: usage reporting, progress within a step and a stop check.

    ``cache_dir`` (the project's ``cache/``) is where a provider may keep a
    step's finished sub-results, fingerprinted, so a retried step does not
    redo (or pay for) them; None: keep nothing. ``notes`` collects what the
    user should see about the result (e.g. a local fallback after a
    refusal); the step saves them in its output file.
    """

    on_usage: UsageSink = lambda delta: None
    should_stop: Callable[[], bool] = lambda: False
    extra: dict[str, object] = field(default_factory=dict)
    on_progress: Callable[[float, str], None] = lambda fraction, message: None  # 0..1 of the current step
    cache_dir: Path | None = None
    notes: list[str] = field(default_factory=list)


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
        cast: Sequence[CastPicture] = (),
        previous_png: bytes | None = None,
    ) -> Drawing:
        """One picture for ``prompt`` at ``width`` x ``height``, showing ``cast`` (the scene's members with
        their reference pictures) as they look in every scene; ``previous_png`` is the previous scene's
        picture when the project asks for continuity."""
        ...

    def draw_reference(
        self, *, member: CastMember, bible: StyleBible, settings: ProjectSettings, width: int, height: int, seed: int,
        io: StepIO,
    ) -> Drawing:
        """The reference picture of one cast member: the whole figure on a plain ground, in the project's style."""
        ...


class BatchEnded(ProviderError):
    """A batch of requests ended without answers (failed, cancelled or expired): it must be sent anew."""


@dataclass(frozen=True)
class Provider:
    """A named bundle of the four roles."""

    name: str
    analyst: Analyst
    storyboarder: Storyboarder
    writer: PromptWriter
    illustrator: Illustrator
