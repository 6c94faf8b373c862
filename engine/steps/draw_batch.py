"""The draw step's pictures through a provider's batch interface (the ``gemini_batch`` setting: half price, slower).

Before the draw step's loop, :func:`prefetch` finds the pictures the loop would draw (:func:`pictures_to_draw`,
the loop's own rules: up to date, kept, cropped again or adopted from a file are left out), sends them as one
batch and waits for it, then writes each answer to the file the loop will look for, as the loop would
(``draw._draw_one`` on the answer: the fingerprint inside, a refusal drawn locally and marked). The loop then
adopts those files (a fingerprint that no longer matches is simply drawn again) and records them; a request
the batch did not answer is drawn by the loop as usual.

The batch's name is written to ``cache/draw_batch.json`` (with the keys of its pictures) before the first
poll, so a run killed while it waits polls the same batch again on resume instead of paying again; a batch
that ended without answers (failed, expired) is forgotten and sent anew by the next attempt. A Stop ends the
wait at once (the batch goes on; resume picks it up). Without continuity only: the settings exclude both.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from engine.config import get_settings
from engine.images import canvas_size
from engine.models import Cast, Prompts, PromptVersion, Scene, Segments
from engine.providers.base import BatchEnded, Drawing
from engine.steps.common import StepContext
from engine.storage import atomic_write_bytes, atomic_write_json, try_read_model

log = logging.getLogger(__name__)

STATE_FILE = "draw_batch.json"


class BatchState(BaseModel):
    """cache/draw_batch.json: the batch a run sent and waits for."""

    name: str
    model: str
    keys: list[str]


@dataclass(frozen=True)
class Wanted:
    """A picture the loop will draw: its scene, the version it will be recorded as, its fingerprint and file."""

    scene: Scene
    version: PromptVersion
    want: str
    path: Path

    @property
    def key(self) -> str:
        """The request's key in the batch: scene, version and fingerprint (a changed request is another key)."""
        return f"{self.scene.id}:v{self.version.version}:{self.want[:16]}"


def uses_batch(ctx: StepContext) -> bool:
    """Whether the pictures go through a batch: the setting, and an illustrator that has one."""
    return ctx.project.settings.gemini_batch and hasattr(ctx.provider.illustrator, "submit_batch")


def pictures_to_draw(ctx: StepContext, segments: Segments, prompts: Prompts, cast: Cast) -> list[Wanted]:
    """The pictures the draw loop would ask the illustrator for (without continuity), by its own rules."""
    from engine.pictures import is_upload
    from engine.steps.draw import kept_as_is, record_from_file, wanted_fingerprint

    by_id = {sp.id: sp for sp in prompts.scenes}
    out = []
    for scene in segments.scenes:
        version = by_id[scene.id].latest
        want = wanted_fingerprint(ctx, scene, version, prompts, cast)
        path = ctx.folder.image_path(scene.id, version.version)
        record = version.image
        if record is not None and record.fingerprint == want and record.file == ctx.folder.rel(path) and path.is_file():
            continue
        if kept_as_is(ctx, scene, record):
            continue
        if is_upload(record) and record is not None and record.original and ctx.folder.resolve(record.original).is_file():
            continue  # cropped again, not drawn
        if record_from_file(path, want, ctx.folder.rel(path)) is not None:
            continue
        if record is not None and path.is_file():  # the loop's new version
            version = version.model_copy(update={"version": version.version + 1, "image": None, "restored_from": None})
            want = wanted_fingerprint(ctx, scene, version, prompts, cast)
            path = ctx.folder.image_path(scene.id, version.version)
            if record_from_file(path, want, ctx.folder.rel(path)) is not None:
                continue
        out.append(Wanted(scene=scene, version=version, want=want, path=path))
    return out


class _Answered:
    """An illustrator that answers one scene with the batch's Drawing (so ``draw._draw_one`` writes it)."""

    def __init__(self, ill: Any, drawing: Drawing) -> None:
        self.name, self.version, self.model_for = ill.name, ill.version, ill.model_for
        self._drawing = drawing

    def draw(self, **_: object) -> Drawing:
        return self._drawing


def prefetch(ctx: StepContext, segments: Segments, prompts: Prompts, cast: Cast, references: dict[str, bytes]) -> int:
    """Draw the pictures the loop would draw through one batch (sent, or the persisted one polled); how many
    files it wrote."""
    from engine.cast import CastPicture
    from engine.steps.draw import _draw_one, image_seed, picture_version, scene_cast

    wanted = pictures_to_draw(ctx, segments, prompts, cast)
    state_path = ctx.folder.cache_dir / STATE_FILE
    if not wanted:
        state_path.unlink(missing_ok=True)
        return 0
    ill: Any = ctx.provider.illustrator
    s = ctx.project.settings
    model = ill.model_for(s)

    def pictures(w: Wanted) -> list[CastPicture]:
        return [CastPicture(member=m, png=references.get(m.id, b"")) for m in scene_cast(cast, w.scene, w.version)]

    state = try_read_model(state_path, BatchState)
    keys = [w.key for w in wanted]
    if state is None or state.model != model or not set(keys) <= set(state.keys):
        requests = [dataclasses.replace(
            ill.image_request(scene=w.scene, prompt=w.version, bible=prompts.style_bible, settings=s,
                              seed=image_seed(s.seed, w.scene.seat, picture_version(w.version)), cast=pictures(w)),
            key=w.key) for w in wanted]
        ctx.progress(0, len(wanted), f"sending {len(wanted)} picture(s) as one batch (half price, slower)")
        name = ill.submit_batch(requests, settings=s, io=ctx.io, display_name=f"storybeat {ctx.folder.id}")
        state = BatchState(name=name, model=model, keys=keys)
        atomic_write_json(state_path, state)  # before the first wait: a crash from here on polls this batch again
    answers = _wait(ctx, ill, state)
    written = 0
    for w in wanted:
        drawing = answers.get(w.key)
        if drawing is None:
            continue  # not answered: the loop draws it
        answered = dataclasses.replace(ctx, provider=dataclasses.replace(ctx.provider, illustrator=_Answered(ill, drawing)))
        data, _meta = _draw_one(answered, w.scene, w.version, prompts, w.want, pictures(w))
        atomic_write_bytes(w.path, data)
        written += 1
    state_path.unlink(missing_ok=True)
    log.info("batch %s: %d of %d picture(s) answered", state.name, written, len(wanted))
    return written


def _wait(ctx: StepContext, ill: Any, state: BatchState) -> dict[str, Drawing]:
    """Poll the batch until it is done (a Stop ends the wait; the batch stays persisted for resume)."""
    s = ctx.project.settings
    width, height = canvas_size(s.aspect, out_height=s.resolution)
    poll_s = get_settings().gemini_batch_poll_s
    started = time.monotonic()
    while True:
        ctx.check_stop()
        try:
            status, answers = ill.poll_batch(state.name, settings=s, width=width, height=height, io=ctx.io)
        except BatchEnded:  # failed, cancelled or expired: the next attempt sends a new one
            (ctx.folder.cache_dir / STATE_FILE).unlink(missing_ok=True)
            raise
        if answers is not None:
            return answers
        ctx.progress(0, len(state.keys), f"waiting for the batch {state.name} ({status.removeprefix('JOB_STATE_').lower()}, "
                                         f"{time.monotonic() - started:.0f} s)")
        deadline = time.monotonic() + poll_s
        while time.monotonic() < deadline:  # short slices: a Stop is seen at once
            ctx.check_stop()
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
