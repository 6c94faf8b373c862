"""The local illustrator's pictures as cluster units (``STORYBEAT_CLUSTER``; see engine/cluster.py).

:func:`paint` is how one picture is drawn, for the draw step's loop and for a
unit alike: the illustrator's drawing (a refusal drawn locally and marked),
as PNG bytes with the fingerprint and provenance inside.

With a cluster and the local illustrator, :func:`prefetch` runs before the
draw step's loop (as ``draw_batch.prefetch`` does for a batch): it finds the
pictures the loop would draw (``draw_batch.pictures_to_draw``, the loop's own
rules), sends one :class:`PictureUnit` per picture, and fetches each finished
PNG into the working copy at the file the loop looks for. The loop itself is
unchanged: it adopts those files by the fingerprint inside and records them
in prompts.json (the runner, under the lease, is the only one who records).

A worker (:func:`paint_unit`) refuses a unit if its illustrator or Pillow
differ from the runner's, returns at once if the picture is already in the
bucket, else paints it and uploads it in one PUT (create-only: a unit done
twice writes the same bytes to the same key once). The Gemini illustrator
stays in the runner: its calls are I/O bound and have their own pay-once and
batch rules.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

from PIL import Image

from engine import cluster
from engine.cast import CastPicture
from engine.errors import RenderError
from engine.images import png_bytes
from engine.models import Cast, Prompts, ProjectSettings, PromptVersion, Scene, Segments, StyleBible
from engine.providers.base import StepIO
from engine.render.remote import StoreRef, ToolMismatch
from engine.steps.common import StepContext

log = logging.getLogger(__name__)


def paint(ill: Any, *, scene: Scene, version: PromptVersion, bible: StyleBible, settings: ProjectSettings, want: str,
          width: int, height: int, seed: int, io_: StepIO, cast: list[CastPicture],
          previous_png: bytes | None = None) -> tuple[bytes, dict[str, str]]:
    """One picture from ``ill`` (the local illustrator when it refuses): PNG bytes (metadata inside) and metadata."""
    from engine.providers.local import LocalIllustrator
    from engine.steps.draw import META_FP, META_MODEL, META_PROVIDER, META_REASON, META_STATUS

    drawing = ill.draw(scene=scene, prompt=version, bible=bible, settings=settings, width=width, height=height,
                       seed=seed, io=io_, cast=cast, previous_png=previous_png)
    meta = {META_FP: want, META_PROVIDER: ill.name, META_MODEL: drawing.model or ill.model_for(settings)}
    if drawing.refused:
        log.warning("%s v%d blocked by %s: %s", scene.id, version.version, ill.name, drawing.blocked_reason)
        fallback = LocalIllustrator().draw(scene=scene, prompt=version, bible=bible, settings=settings, width=width,
                                           height=height, seed=seed, io=io_, cast=cast)
        meta.update({META_STATUS: "blocked", META_REASON: drawing.blocked_reason or "blocked", META_PROVIDER: "local"})
        drawing = fallback
    else:
        meta[META_STATUS] = "ok"
    image = drawing.image
    if image is None:
        image = Image.open(io.BytesIO(drawing.png))  # type: ignore[arg-type]
        image.load()
    return png_bytes(image.convert("RGB"), metadata=meta), meta


def picture_tools() -> dict[str, str]:
    """What decides a local picture's bytes besides its inputs: the illustrator's version and Pillow's."""
    import PIL

    from engine.providers.local import LocalIllustrator

    ill = LocalIllustrator()
    return {"illustrator": f"{ill.name}/{ill.version}", "pillow": PIL.__version__}


@dataclass(frozen=True)
class PictureUnit:
    """Everything a worker needs to paint one picture and where it goes."""

    scene: Scene
    version: PromptVersion
    bible: StyleBible
    settings: ProjectSettings
    want: str
    width: int
    height: int
    seed: int
    cast: tuple[CastPicture, ...]
    key: str
    tools: dict[str, str]
    store: StoreRef


def paint_unit(unit: PictureUnit) -> str:
    """On a worker: paint the picture into the bucket at ``unit.key`` (see the module docstring); the key."""
    from engine.providers.local import LocalIllustrator
    from engine.store import Conflict

    found = picture_tools()
    diff = [f"{k}: runner has {v!r}, this worker {found.get(k)!r}" for k, v in sorted(unit.tools.items()) if found.get(k) != v]
    if diff:
        raise ToolMismatch(f"a worker refuses the picture unit, its tools differ ({'; '.join(diff)})")
    store = unit.store.open()
    if store.head(unit.key) is not None:
        return unit.key
    data, _ = paint(LocalIllustrator(), scene=unit.scene, version=unit.version, bible=unit.bible, settings=unit.settings,
                    want=unit.want, width=unit.width, height=unit.height, seed=unit.seed, io_=StepIO(),
                    cast=list(unit.cast))
    try:
        store.put(unit.key, data, if_absent=True)
    except Conflict:
        pass  # another worker finished the same unit first: the same bytes
    return unit.key


def uses_cluster(ctx: StepContext) -> bool:
    """Whether the draw step's pictures go to the cluster: one is configured and the illustrator is the local one."""
    return ctx.provider.illustrator.name == "local" and cluster.configured()


def prefetch(ctx: StepContext, segments: Segments, prompts: Prompts, cast: Cast, references: dict[str, bytes]) -> int:
    """Paint the pictures the loop would draw on the cluster, each fetched to its file; how many."""
    from engine import sync
    from engine.images import canvas_size
    from engine.steps.draw import image_seed, picture_version, scene_cast
    from engine.steps.draw_batch import pictures_to_draw

    wanted = pictures_to_draw(ctx, segments, prompts, cast)
    if not wanted:
        return 0
    s = ctx.project.settings
    width, height = canvas_size(s.aspect, out_height=s.resolution)
    tools, ref = picture_tools(), StoreRef.current()
    units: list[tuple[str, PictureUnit]] = []
    paths = {}
    for w in wanted:
        key = sync.key_of(w.path)
        if key is None:
            raise RenderError(f"{w.path} is not in a project folder kept in the bucket")
        members = scene_cast(cast, w.scene, w.version)
        pictures = tuple(CastPicture(member=m, png=references.get(m.id, b"")) for m in members)
        units.append((f"picture-{w.scene.id}", PictureUnit(
            scene=w.scene, version=w.version, bible=prompts.style_bible, settings=s, want=w.want, width=width,
            height=height, seed=image_seed(s.seed, w.scene.seat, picture_version(w.version)), cast=pictures, key=key,
            tools=tools, store=ref)))
        paths[key] = w.path
    done = 0

    def fetched(unit: PictureUnit, key: str) -> None:
        nonlocal done
        if not sync.adopt(key, paths[key]):
            raise RenderError(f"{key}: a worker reported it painted but it is not in the bucket")
        done += 1
        ctx.progress(done, len(units), f"{unit.scene.id} painted on the cluster")

    log.info("painting %d picture(s) on the cluster", len(units))
    return cluster.run_units(paint_unit, units, on_done=fetched, should_stop=ctx.io.should_stop, what="picture")
