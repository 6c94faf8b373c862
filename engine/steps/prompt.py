"""Step 3, prompt: segments.json -> prompts.json (style bible + a prompt version per scene).

Idempotent per scene: a scene's current version records the fingerprint of
the scene content and style it was written for. Only scenes whose content or
style changed get a new auto version; user-edited prompts for unchanged
scenes are kept. Versions are never deleted.
"""
from __future__ import annotations

import logging

from engine.cast import proposal_fingerprint, propose_cast
from engine.errors import ProviderError
from engine.fingerprint import fingerprint
from engine.models import Prompts, PromptVersion, Scene, ScenePrompts, StyleBible
from engine.steps.common import StepContext
from engine.storage import atomic_write_json

log = logging.getLogger(__name__)

STEP_VERSION = "1"


def scene_source_fingerprint(scene: Scene, bible: StyleBible, *, writer: str) -> str:
    """What an auto prompt for ``scene`` depends on: its content, by its stable number (``seat``), not its position.

    A fresh storyboard has seat == index, so the hash is the one written before seats existed.
    """
    content = scene.model_dump(mode="json", exclude={"edited", "locked"})
    content["index"] = scene.seat
    return fingerprint("prompt", STEP_VERSION, writer, content, bible)


def ensure_cast(ctx: StepContext, bible: StyleBible) -> None:
    """Propose the cast (cast.json) from the style bible, unless the user edited it or it is up to date."""
    cast = ctx.folder.load_cast()
    if cast is not None and (cast.edited or cast.fingerprint == proposal_fingerprint(bible)):
        return
    proposed = propose_cast(bible)
    if cast is not None:  # a new proposal keeps the references of members it still has (they are redrawn if stale)
        known = {m.id: m.reference for m in cast.members}
        proposed.members = [m.model_copy(update={"reference": known.get(m.id)}) for m in proposed.members]
    atomic_write_json(ctx.folder.cast_json, proposed)


def prompt_note(notes: list[str], existing: Prompts | None, *, rewrote_all: bool) -> str:
    """The note prompts.json keeps for the user (a refused call's local fallback): this run's, else the one of
    the prompts it kept (gone once every prompt was written again)."""
    if notes:
        return "; ".join(notes)[:2000]
    return "" if rewrote_all or existing is None else existing.note


def run(ctx: StepContext) -> bool:
    """Bring prompts.json up to date with segments.json; True if anything was written."""
    analysis = ctx.require_analysis()
    segments = ctx.require_segments()
    writer = ctx.provider.writer
    settings = ctx.project.settings
    writer_id = f"{writer.name}/{writer.version}"
    existing = ctx.folder.load_prompts()

    bible_fp = fingerprint("bible", STEP_VERSION, writer_id, settings.style, analysis.fingerprint)
    ctx.io.notes.clear()
    if existing is not None and existing.fingerprint.startswith(bible_fp[:16]):
        bible = existing.style_bible
    else:
        ctx.progress(0, len(segments.scenes), "writing the style bible")
        bible = writer.style_bible(analysis, segments.scenes, settings=settings, io=ctx.io)

    ensure_cast(ctx, bible)
    by_id = {sp.id: sp for sp in existing.scenes} if existing else {}
    wanted = {s.id: scene_source_fingerprint(s, bible, writer=writer_id) for s in segments.scenes}
    # a locked scene keeps the prompt it has (a new style or a changed scene do not rewrite it)
    stale = [s for s in segments.scenes
             if s.id not in by_id or (not s.locked and by_id[s.id].latest.source_fingerprint != wanted[s.id])]
    file_fp = bible_fp[:16] + fingerprint(segments.fingerprint, sorted(wanted.values()))[:16]
    if not stale and existing is not None and existing.fingerprint == file_fp and [sp.id for sp in existing.scenes] == list(wanted):
        return False

    answers = writer.write(stale, bible=bible, settings=settings, io=ctx.io) if stale else {}
    missing = [s.id for s in stale if s.id not in answers]
    if missing:
        raise ProviderError(f"the prompt writer gave no prompt for {', '.join(missing[:5])}", transient=True)
    scenes_out: list[ScenePrompts] = []
    for scene in segments.scenes:
        current = by_id.get(scene.id)
        if scene.id in answers:
            image_prompt, negative, hints = answers[scene.id]
            fresh = PromptVersion(
                version=1,
                image_prompt=image_prompt,
                negative_prompt=negative,
                style_hints=hints,
                origin="auto",
                source_fingerprint=wanted[scene.id],
            )
            if current is None:
                current = ScenePrompts(id=scene.id, versions=[fresh])
            elif current.latest.image is None and current.latest.origin == "auto":
                fresh.version = current.latest.version
                current.versions[-1] = fresh  # replace a version that was never drawn
            else:
                fresh.version = current.latest.version + 1
                current.versions.append(fresh)
        assert current is not None  # every scene is either known or stale (then answered)
        scenes_out.append(current)
    prompts = Prompts(fingerprint=file_fp, provider=writer.name, style_bible=bible, scenes=scenes_out,
                      note=prompt_note(ctx.io.notes, existing, rewrote_all=len(stale) == len(segments.scenes)))
    atomic_write_json(ctx.folder.prompts_json, prompts)
    ctx.progress(len(scenes_out), len(scenes_out), f"{len(stale)} prompt(s) written")
    return True
