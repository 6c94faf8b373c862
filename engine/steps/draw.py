"""Step 4, draw: one picture per scene for its current prompt version -> images/seg_XXX_vN.png.

Each PNG carries its fingerprint in a tEXt chunk, and is written atomically
before prompts.json records it. So after a crash a finished picture is
recognised from the file alone and never drawn (or paid for) twice.
A refused picture (safety block) is recorded as ``blocked`` with the reason
and replaced by a local drawing marked ``fallback``: never a silent gap.
A drawn picture is never overwritten: when a setting it depends on changes
(aspect, resolution, seed, quality), the redraw is a new version.
A locked scene's picture and a picture the user brought are never redrawn; the latter is cropped again
from its kept original (a new version) when the canvas changes.
"""
from __future__ import annotations

import io
import logging
from pathlib import Path

from PIL import Image

from engine.fingerprint import bytes_sha256, fingerprint
from engine.images import canvas_size, png_bytes, read_png_metadata
from engine.models import ImageRecord, Prompts, PromptVersion, Scene, utcnow
from engine.pictures import crop_fingerprint, crop_upload, is_upload
from engine.providers.local import LocalIllustrator  # a refused picture's fallback is always local
from engine.steps.common import StepContext
from engine.storage import atomic_write_bytes, atomic_write_json

log = logging.getLogger(__name__)

STEP_VERSION = "1"
META_FP = "storybeat:fingerprint"
META_STATUS = "storybeat:status"
META_REASON = "storybeat:reason"
META_PROVIDER = "storybeat:provider"
META_MODEL = "storybeat:model"


def image_seed(project_seed: int, scene_index: int, version: int) -> int:
    """The seed of one picture: differs per scene (its ``seat``) and per version, stable across runs."""
    return (project_seed * 1_000_003 + scene_index * 7_919 + version * 104_729) % (2**31 - 1)


def picture_version(version: PromptVersion) -> int:
    """The version whose picture this version shows (itself, or the one it restores)."""
    return version.restored_from or version.version


def wanted_fingerprint(ctx: StepContext, scene: Scene, version: PromptVersion, prompts: Prompts) -> str:
    """What the picture of ``version`` depends on."""
    ill = ctx.provider.illustrator
    s = ctx.project.settings
    width, height = canvas_size(s.aspect, out_height=s.resolution)
    return fingerprint(
        "draw", STEP_VERSION, ill.name, ill.version, ill.model_for(s),
        version.image_prompt, version.negative_prompt, version.style_hints, picture_version(version),
        prompts.style_bible, scene.mood, round(scene.energy, 3),
        image_seed(s.seed, scene.seat, picture_version(version)), width, height,
    )


def record_from_file(path: Path, want: str, rel: str) -> ImageRecord | None:
    """An ImageRecord for an existing PNG whose embedded fingerprint is ``want``, else None."""
    if not path.is_file():
        return None
    try:
        meta = read_png_metadata(path)
    except Exception:  # noqa: BLE001 - a corrupt or half-written file is simply redrawn
        return None
    if meta.get(META_FP) != want:
        return None
    return image_record(meta, path.read_bytes(), rel=rel)


def image_record(meta: dict[str, str], data: bytes, *, rel: str) -> ImageRecord:
    """The ImageRecord of a PNG from its embedded metadata and its bytes."""
    return ImageRecord(
        status=meta.get(META_STATUS, "ok"),  # type: ignore[arg-type]
        file=rel,
        fingerprint=meta[META_FP],
        sha256=bytes_sha256(data),
        provider=meta.get(META_PROVIDER, ""),
        fallback=meta.get(META_STATUS) == "blocked",
        reason=meta.get(META_REASON, ""),
        model=meta.get(META_MODEL, ""),
    )


def _draw_one(
    ctx: StepContext, scene: Scene, version: PromptVersion, prompts: Prompts, want: str
) -> tuple[bytes, dict[str, str]]:
    """Ask the provider for a picture; fall back to the local illustrator when it refuses. PNG bytes and metadata."""
    s = ctx.project.settings
    width, height = canvas_size(s.aspect, out_height=s.resolution)
    seed = image_seed(s.seed, scene.seat, picture_version(version))
    ill = ctx.provider.illustrator
    drawing = ill.draw(scene=scene, prompt=version, bible=prompts.style_bible, settings=s, width=width, height=height, seed=seed, io=ctx.io)
    meta = {META_FP: want, META_PROVIDER: ill.name, META_MODEL: drawing.model or ill.model_for(s)}
    if drawing.refused:
        log.warning("%s v%d blocked by %s: %s", scene.id, version.version, ill.name, drawing.blocked_reason)
        fallback = LocalIllustrator().draw(
            scene=scene, prompt=version, bible=prompts.style_bible, settings=s, width=width, height=height, seed=seed, io=ctx.io
        )
        meta.update({META_STATUS: "blocked", META_REASON: drawing.blocked_reason or "blocked", META_PROVIDER: "local"})
        drawing = fallback
    else:
        meta[META_STATUS] = "ok"
    image = drawing.image
    if image is None:
        image = Image.open(io.BytesIO(drawing.png))  # type: ignore[arg-type]
        image.load()
    return png_bytes(image.convert("RGB"), metadata=meta), meta


def kept_as_is(ctx: StepContext, scene: Scene, record: ImageRecord | None) -> bool:
    """A picture the draw step leaves alone: a locked scene's, or the user's own crop for this canvas (or one
    whose original is gone); the file must be there."""
    if record is None or record.file is None or not ctx.folder.resolve(record.file).is_file():
        return False
    if scene.locked:
        return True
    if not is_upload(record):
        return False
    if not record.original or not ctx.folder.resolve(record.original).is_file():
        return True
    s = ctx.project.settings
    width, height = canvas_size(s.aspect, out_height=s.resolution)
    original = ctx.folder.resolve(record.original).read_bytes()
    return record.fingerprint == crop_fingerprint(original, focus=record.focus, width=width, height=height)


def run(ctx: StepContext) -> bool:
    """Draw every scene's current version that has no valid picture yet; True if any record was written."""
    segments = ctx.require_segments()
    prompts = ctx.require_prompts()
    by_id = {sp.id: sp for sp in prompts.scenes}
    total = len(segments.scenes)
    changed = False
    for done, scene in enumerate(segments.scenes):
        ctx.check_stop()
        sp = by_id[scene.id]
        version = sp.latest
        want = wanted_fingerprint(ctx, scene, version, prompts)
        path = ctx.folder.image_path(scene.id, version.version)
        rel = ctx.folder.rel(path)
        record = version.image
        if record is not None and record.fingerprint == want and record.file == rel and path.is_file():
            ctx.progress(done + 1, total, f"{scene.id} up to date")
            continue
        if kept_as_is(ctx, scene, record):
            ctx.progress(done + 1, total, f"{scene.id} kept ({'locked' if scene.locked else 'your picture'})")
            continue
        if is_upload(record) and record is not None and record.original and ctx.folder.resolve(record.original).is_file():
            # the user's picture for another canvas (a new aspect or resolution): cropped again from its original
            version = version.model_copy(update={"version": sp.latest.version + 1, "origin": "upload", "image": None,
                                                 "restored_from": None, "created_at": utcnow()})
            width, height = canvas_size(ctx.project.settings.aspect, out_height=ctx.project.settings.resolution)
            version.image = crop_upload(ctx.folder, scene.id, version.version, original_rel=record.original,
                                        focus=record.focus, width=width, height=height)
            sp.versions.append(version)
            changed = True
            atomic_write_json(ctx.folder.prompts_json, prompts)
            ctx.progress(done + 1, total, f"{scene.id} v{version.version}: your picture cropped again")
            continue
        adopted = record_from_file(path, want, rel)
        if adopted is None and record is not None and path.is_file():
            # the settings it was drawn for changed (e.g. the aspect): a drawn picture is never overwritten,
            # the redraw is a new version and the old one stays restorable
            version = version.model_copy(update={"version": version.version + 1, "origin": "auto", "image": None,
                                                 "restored_from": None, "created_at": utcnow()})
            sp.versions.append(version)
            want = wanted_fingerprint(ctx, scene, version, prompts)
            path = ctx.folder.image_path(scene.id, version.version)
            rel = ctx.folder.rel(path)
            adopted = record_from_file(path, want, rel)  # drawn before a crash, not yet recorded
        if adopted is None:
            ctx.progress(done, total, f"drawing {scene.id} v{version.version}")
            data, meta = _draw_one(ctx, scene, version, prompts, want)
            atomic_write_bytes(path, data)
            adopted = image_record(meta, data, rel=rel)
        version.image = adopted
        changed = True
        atomic_write_json(ctx.folder.prompts_json, prompts)  # finished units survive a crash
        ctx.progress(done + 1, total, f"{scene.id} v{version.version} {adopted.status}")
    return changed
