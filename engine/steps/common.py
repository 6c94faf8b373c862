"""What every step receives, and the checks they share."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.errors import CancelledError, InputError
from engine.models import Analysis, Project, Prompts, Segments
from engine.providers.base import Provider, StepIO
from engine.storage import ProjectFolder

ProgressFn = Callable[[int, int, str], None]


@dataclass
class StepContext:
    """A step's world: the project folder, its project.json, the provider and reporting hooks."""

    folder: ProjectFolder
    project: Project
    provider: Provider
    progress: ProgressFn = lambda done, total, message: None
    io: StepIO = field(default_factory=StepIO)
    preview: bool = False  # render step only: fast low-resolution render
    renders_next: bool = False  # draw step: this run renders after it (so it may encode ahead)

    def check_stop(self) -> None:
        """Raise CancelledError if a stop was requested."""
        if self.io.should_stop():
            raise CancelledError("stopped on request")

    def require_analysis(self) -> Analysis:
        """analysis.json, or InputError if it is missing (the machine should prevent that)."""
        analysis = self.folder.load_analysis()
        if analysis is None:
            raise InputError("analysis.json is missing or corrupt: run the analyze step again")
        return analysis

    def require_segments(self) -> Segments:
        """segments.json, or InputError if missing."""
        segments = self.folder.load_segments()
        if segments is None:
            raise InputError("segments.json is missing or corrupt: run the segment step again")
        return segments

    def require_prompts(self) -> Prompts:
        """prompts.json, or InputError if missing."""
        prompts = self.folder.load_prompts()
        if prompts is None:
            raise InputError("prompts.json is missing or corrupt: run the prompt step again")
        return prompts
