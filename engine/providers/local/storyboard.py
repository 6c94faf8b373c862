"""The offline storyboarder: the shared cut planner's scenes, with visual intents from the local writer."""
from __future__ import annotations

from engine.models import Analysis, ProjectSettings, Scene, StyleBible
from engine.providers.base import StepIO
from engine.providers.local.writer import visual_intent_for
from engine.storyboard import draft_scenes


def build_scenes(
    analysis: Analysis, *, min_scene_ms: int, max_scene_ms: int, style: StyleBible | None = None
) -> list[Scene]:
    """Scenes ``seg_001``.. covering the whole track, each with lyrics, section, mood, energy and intent.

    ``style`` only changes the recurring subject named in the intents; by
    default it is the subject the local writer derives from the analysis.
    """
    drafts = draft_scenes(analysis, min_scene_ms=min_scene_ms, max_scene_ms=max_scene_ms)
    return [
        draft.model_copy(update={"visual_intent": visual_intent_for(draft, analysis=analysis, index=draft.index, style=style)})
        for draft in drafts
    ]


class LocalStoryboarder:
    """The offline :class:`engine.providers.base.Storyboarder`: ``build_scenes`` with the project's bounds."""

    name = "local"
    version = "1"

    def storyboard(self, analysis: Analysis, *, settings: ProjectSettings, io: StepIO) -> list[Scene]:
        """Scenes covering the whole track (deterministic, no network)."""
        return build_scenes(analysis, min_scene_ms=settings.min_scene_ms, max_scene_ms=settings.max_scene_ms)
