"""Step 4, draw: one picture per scene for its current prompt version -> images/seg_XXX_vN.png.

Each PNG carries its fingerprint in a tEXt chunk, and is written atomically
before prompts.json records it. So after a crash a finished picture is
recognised from the file alone and never drawn (or paid for) twice.
A refused picture (safety block) is recorded as ``blocked`` with the reason
and replaced by a local drawing marked ``fallback``: never a silent gap.
A drawn picture is never overwritten: when a setting it depends on changes
(aspect, resolution, seed, quality, the cast), the redraw is a new version.
A locked scene's picture and a picture the user brought are never redrawn; the latter is cropped again
from its kept original (a new version) when the canvas changes.
The cast's reference pictures are drawn first, each its own unit of work
(cast/<id>_rN.png, fingerprint inside, recorded in cast.json); every picture
gets the references of the members its scene shows (``engine.cast``) and
their hashes in its fingerprint.
"""
from __future__ import annotations

import io
import logging
from pathlib import Path

from PIL import Image

from engine.cast import REFERENCE_SIZE, CastPicture, cast_part, members_in, propose_cast, reference_fingerprint
from engine.fingerprint import bytes_sha256, fingerprint
from engine.images import canvas_size, png_bytes, read_png_metadata
from engine.models import Cast, CastMember, CastReference, ImageRecord, Prompts, PromptVersion, Scene, utcnow
from engine.pictures import crop_fingerprint, crop_upload, is_upload
from engine.providers.local import LocalIllustrator  # a refused picture's fallback is always local
from engine.steps import draw_ahead
from engine.steps.common import StepContext
from engine.steps.draw_batch import prefetch, uses_batch
from engine.steps.draw_units import paint
from engine.steps.draw_units import prefetch as paint_on_cluster
from engine.steps.draw_units import uses_cluster
from engine.steps.encode_ahead import EncodeAhead, NoEncodeAhead, encode_ahead
from engine.storage import atomic_write_bytes, atomic_write_json

log = logging.getLogger(__name__)

# Not raised for the PNG compression level (engine.images.PNG_COMPRESS_LEVEL): a level changes the bytes, not the
# pixels, and a new STEP_VERSION would redraw -- with Gemini, pay for -- every picture of every existing project.
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


def scene_cast(cast: Cast | None, scene: Scene, version: PromptVersion) -> list[CastMember]:
    """The cast members the picture of ``version`` shows (named in its prompt or intent, or always there)."""
    return members_in(cast, f"{version.image_prompt} {scene.visual_intent}")


def wanted_fingerprint(ctx: StepContext, scene: Scene, version: PromptVersion, prompts: Prompts,
                       cast: Cast | None = None, previous_sha: str = "") -> str:
    """What the picture of ``version`` depends on: its prompt and settings, its cast's looks and references,
    and (with the continuity setting) the previous scene's picture."""
    ill = ctx.provider.illustrator
    s = ctx.project.settings
    width, height = canvas_size(s.aspect, out_height=s.resolution)
    return fingerprint(
        "draw", STEP_VERSION, ill.name, ill.version, ill.model_for(s),
        version.image_prompt, version.negative_prompt, version.style_hints, picture_version(version),
        prompts.style_bible, scene.mood, round(scene.energy, 3),
        image_seed(s.seed, scene.seat, picture_version(version)), width, height,
        cast_part(scene_cast(cast, scene, version)), previous_sha,
    )


def uses_continuity(ctx: StepContext) -> bool:
    """Whether each picture is drawn from the previous scene's too (the setting; the local illustrator has no use)."""
    return ctx.project.settings.continuity and ctx.provider.illustrator.name != "local"


def previous_picture_sha(ctx: StepContext, scenes: list[Scene], index: int, prompts: Prompts) -> str:
    """The sha256 of the picture before scene ``index`` that its fingerprint covers ("" without continuity)."""
    if index == 0 or not uses_continuity(ctx):
        return ""
    before = next((sp for sp in prompts.scenes if sp.id == scenes[index - 1].id), None)
    image = before.latest.image if before is not None else None
    return image.sha256 if image is not None else ""


def reference_seed(project_seed: int, member_id: str) -> int:
    """The seed of a cast member's reference picture: stable per project and member."""
    return int(fingerprint("cast-seed", project_seed, member_id)[:8], 16) % (2**31 - 1)


def load_or_propose_cast(ctx: StepContext, prompts: Prompts) -> Cast:
    """cast.json, proposed from the style bible when a project has none yet (one made before casts)."""
    cast = ctx.folder.load_cast()
    if cast is None:
        cast = propose_cast(prompts.style_bible)
        atomic_write_json(ctx.folder.cast_json, cast)
    return cast


def ensure_references(ctx: StepContext, cast: Cast, prompts: Prompts) -> dict[str, bytes]:
    """Draw every member's reference picture that is missing or stale; the PNG bytes by member id.

    One unit of work per member: the PNG (fingerprint inside) is written atomically, then cast.json records
    it, so a reference finished before a crash is adopted from the file. An uploaded reference is kept as it is.
    """
    ill = ctx.provider.illustrator
    s = ctx.project.settings
    out: dict[str, bytes] = {}
    for member in cast.members:
        ctx.check_stop()
        ref = member.reference
        if ref is not None and ref.origin == "upload":
            path = ctx.folder.resolve(ref.file)
            if path.is_file():
                out[member.id] = path.read_bytes()
                continue
        seed = reference_seed(s.seed, member.id)
        want = reference_fingerprint(member, illustrator=f"{ill.name}/{ill.version}", model=ill.model_for(s),
                                     preset=prompts.style_bible.preset, seed=seed)
        if ref is not None and ref.fingerprint == want and ctx.folder.resolve(ref.file).is_file():
            out[member.id] = ctx.folder.resolve(ref.file).read_bytes()
            continue
        path, data = _reference_slot(ctx, member.id, want)
        meta = {META_FP: want, META_PROVIDER: ill.name, META_MODEL: ill.model_for(s)}
        if data is None:
            ctx.progress(0, len(cast.members), f"drawing the reference of {member.name}")
            data, meta = _draw_reference(ctx, member, prompts, want, seed)
            atomic_write_bytes(path, data)
        member.reference = CastReference(file=ctx.folder.rel(path), sha256=bytes_sha256(data), fingerprint=want,
                                         origin="drawn", provider=meta.get(META_PROVIDER, ill.name),
                                         model=meta.get(META_MODEL, ""))
        atomic_write_json(ctx.folder.cast_json, cast)  # the finished unit survives a crash
        out[member.id] = data
    return out


def _reference_slot(ctx: StepContext, member_id: str, want: str) -> tuple[Path, bytes | None]:
    """Where the reference drawn for ``want`` goes, and its bytes if it was drawn before a crash (not yet recorded).

    The first cast/<id>_rN.png that is free or already carries ``want``: a drawn reference is never overwritten.
    """
    n = 1
    while True:
        path = ctx.folder.cast_reference_path(member_id, n)
        if not path.is_file():
            return path, None
        try:
            if read_png_metadata(path).get(META_FP) == want:
                return path, path.read_bytes()
        except Exception:  # noqa: BLE001 - a corrupt or half-written file: the next slot is used
            pass
        n += 1


def _draw_reference(ctx: StepContext, member: CastMember, prompts: Prompts, want: str, seed: int
                    ) -> tuple[bytes, dict[str, str]]:
    """One reference picture of ``member``; the local illustrator draws it when the provider refuses."""
    s = ctx.project.settings
    width, height = REFERENCE_SIZE
    ill = ctx.provider.illustrator
    drawing = ill.draw_reference(member=member, bible=prompts.style_bible, settings=s, width=width, height=height,
                                 seed=seed, io=ctx.io)
    meta = {META_FP: want, META_PROVIDER: ill.name, META_MODEL: drawing.model or ill.model_for(s), META_STATUS: "ok"}
    if drawing.refused:
        log.warning("the reference of %s was refused by %s: %s", member.id, ill.name, drawing.blocked_reason)
        drawing = LocalIllustrator().draw_reference(member=member, bible=prompts.style_bible, settings=s, width=width,
                                                    height=height, seed=seed, io=ctx.io)
        meta.update({META_STATUS: "blocked", META_REASON: drawing.blocked_reason or "blocked", META_PROVIDER: "local"})
    image = drawing.image
    if image is None:
        image = Image.open(io.BytesIO(drawing.png))  # type: ignore[arg-type]
        image.load()
    return png_bytes(image.convert("RGB"), metadata=meta), meta


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
    ctx: StepContext, scene: Scene, version: PromptVersion, prompts: Prompts, want: str,
    cast: list[CastPicture], previous_png: bytes | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Ask the provider for a picture; fall back to the local illustrator when it refuses. PNG bytes and metadata."""
    s = ctx.project.settings
    width, height = canvas_size(s.aspect, out_height=s.resolution)
    seed = image_seed(s.seed, scene.seat, picture_version(version))
    return paint(ctx.provider.illustrator, scene=scene, version=version, bible=prompts.style_bible, settings=s, want=want,
                 width=width, height=height, seed=seed, io_=ctx.io, cast=cast, previous_png=previous_png)


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
    """Draw every scene's current version that has no valid picture yet; True if any record was written.

    When the run renders next, the chunks of finished scenes are encoded meanwhile (:mod:`engine.steps.encode_ahead`).
    """
    with encode_ahead(ctx) as encoding:
        return _draw_all(ctx, encoding)


def _draw_all(ctx: StepContext, encoding: EncodeAhead | NoEncodeAhead) -> bool:
    segments = ctx.require_segments()
    prompts = ctx.require_prompts()
    by_id = {sp.id: sp for sp in prompts.scenes}
    total = len(segments.scenes)
    cast = load_or_propose_cast(ctx, prompts)
    references = ensure_references(ctx, cast, prompts)
    continuity = uses_continuity(ctx)
    on_cluster = not continuity and uses_cluster(ctx)  # the local pictures painted by the cluster's workers
    if uses_batch(ctx) and not continuity:  # economy mode: the pictures below come from one batch (draw_batch.py)
        prefetch(ctx, segments, prompts, cast, references)
    elif on_cluster:  # draw_units.py
        paint_on_cluster(ctx, segments, prompts, cast, references)
    # the local pictures drawn two at a time ahead of the loop (draw_ahead.py), unless the cluster painted them
    drawn_ahead = None if on_cluster else draw_ahead.start(
        ctx, segments, prompts, cast, references, continuity=continuity, batch=uses_batch(ctx),
        threads=1 if isinstance(encoding, EncodeAhead) else draw_ahead.DRAW_THREADS)  # a core for the encodes
    previous: tuple[str, Path] | None = None  # the previous scene's picture (sha256, path) for continuity
    changed = False
    for done, scene in enumerate(segments.scenes):
        ctx.check_stop()
        encoding.ready(done)  # the scenes before this one have their final picture
        sp = by_id[scene.id]
        version = sp.latest
        members = scene_cast(cast, scene, version)
        pictures = [CastPicture(member=m, png=references.get(m.id, b"")) for m in members]
        prev_sha = previous[0] if continuity and previous else ""
        want = wanted_fingerprint(ctx, scene, version, prompts, cast, prev_sha)
        path = ctx.folder.image_path(scene.id, version.version)
        rel = ctx.folder.rel(path)
        record = version.image
        if record is not None and record.fingerprint == want and record.file == rel and path.is_file():
            previous = (record.sha256, path)
            ctx.progress(done + 1, total, f"{scene.id} up to date")
            continue
        if kept_as_is(ctx, scene, record):
            assert record is not None and record.file is not None
            previous = (record.sha256, ctx.folder.resolve(record.file))
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
            want = wanted_fingerprint(ctx, scene, version, prompts, cast, prev_sha)
            path = ctx.folder.image_path(scene.id, version.version)
            rel = ctx.folder.rel(path)
            adopted = record_from_file(path, want, rel)  # drawn before a crash, not yet recorded
        if adopted is None:
            ctx.progress(done, total, f"drawing {scene.id} v{version.version}")
            previous_png = previous[1].read_bytes() if continuity and previous and previous[1].is_file() else None
            drawn = drawn_ahead.take(scene.id, version.version, want) if drawn_ahead else None  # the same bytes
            data, meta = drawn or _draw_one(ctx, scene, version, prompts, want, pictures, previous_png)
            atomic_write_bytes(path, data)
            adopted = image_record(meta, data, rel=rel)
        version.image = adopted
        previous = (adopted.sha256, path)
        changed = True
        atomic_write_json(ctx.folder.prompts_json, prompts)  # finished units survive a crash
        ctx.progress(done + 1, total, f"{scene.id} v{version.version} {adopted.status}")
    if drawn_ahead:
        drawn_ahead.close()
    return changed
