"""Step 2, segment: analysis.json -> segments.json (the storyboard)."""
from __future__ import annotations

import logging

from engine.errors import ProviderError
from engine.fingerprint import fingerprint
from engine.models import Scene, Segments
from engine.steps.common import StepContext
from engine.storage import atomic_write_json

log = logging.getLogger(__name__)

STEP_VERSION = "1"


def check_scenes(scenes: list[Scene], *, duration_ms: int) -> None:
    """Scenes must cover 0..duration in order without gaps or overlaps; ProviderError otherwise."""
    if not scenes:
        raise ProviderError("the storyboard has no scenes", transient=True)
    problems = []
    if scenes[0].start_ms != 0:
        problems.append(f"first scene starts at {scenes[0].start_ms} ms, not 0")
    if scenes[-1].end_ms != duration_ms:
        problems.append(f"last scene ends at {scenes[-1].end_ms} ms, not {duration_ms}")
    for a, b in zip(scenes, scenes[1:]):
        if a.end_ms != b.start_ms:
            problems.append(f"{a.id} ends at {a.end_ms} but {b.id} starts at {b.start_ms}")
    for s in scenes:
        if s.end_ms <= s.start_ms:
            problems.append(f"{s.id} is empty")
    if len({s.id for s in scenes}) != len(scenes):
        problems.append("scene ids repeat")
    if problems:
        raise ProviderError("bad storyboard: " + "; ".join(problems[:5]), transient=True)


def run(ctx: StepContext) -> bool:
    """Make segments.json unless an up-to-date one exists; True if work was done."""
    analysis = ctx.require_analysis()
    board = ctx.provider.storyboarder
    s = ctx.project.settings
    want = fingerprint("segment", STEP_VERSION, board.name, board.version, analysis.fingerprint, s.min_scene_ms, s.max_scene_ms)
    existing = ctx.folder.load_segments()
    if existing is not None and existing.fingerprint == want:
        return False
    ctx.progress(0, 1, "writing the storyboard")
    scenes = board.storyboard(analysis, settings=s, io=ctx.io)
    check_scenes(scenes, duration_ms=analysis.duration_ms)
    atomic_write_json(ctx.folder.segments_json, Segments(fingerprint=want, provider=board.name, scenes=scenes))
    ctx.progress(1, 1, f"{len(scenes)} scenes")
    return True
