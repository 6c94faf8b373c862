"""The offline illustrator: one good-looking picture per scene from its prompt, with numpy + Pillow only.

``draw_scene`` reads the prompt's words (night, sun, rain, city, sea, ...),
the mood and the energy, and paints a layered composition in the chosen style
preset: sky, light sources, far land, ground plane, silhouettes, particles and
a per-style finish. Same inputs give the same pixels; a new ``version`` gives a
different take. Pictures are drawn larger than the video frame
(``engine.images.canvas_size``) so the camera can zoom and pan.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

from engine.errors import InputError
from engine.models import CastMember
from engine.providers.local import paint_cast
from engine.providers.local import paint_figures as fig
from engine.providers.local import paint_land as land
from engine.providers.local import paint_sky as sky
from engine.providers.local.paint_fx import Ctx, finish, make_wash, paint_glints, paint_rain, paint_snow
from engine.providers.local.paint_plan import Plan, make_look, plan_scene
from engine.styles import get_preset

log = logging.getLogger(__name__)

ILLUSTRATOR_VERSION = "3"  # 3: the cast drawn in its own look; the writer's shot is followed
MIN_SIDE_PX = 64
MAX_SIDE_PX = 8192


def compose(plan: Plan, *, mood: str, width: int, height: int, cast: Sequence[CastMember] = (),
            masks_out: dict[str, Image.Image] | None = None) -> Image.Image:
    """Paint ``plan`` at ``width`` x ``height`` (back to front) and return the RGB picture.

    ``cast`` members are drawn in their own look in place of anonymous people; ``masks_out`` receives
    each member's figure mask (after the same mirror and tilt as the picture).
    """
    look = make_look(style=plan.style, mood=mood, energy=plan.energy, hue_jitter_deg=plan.hue_jitter)
    rng = np.random.default_rng(plan.seed)
    size = (width, height)
    ctx = Ctx(plan=plan, look=look, rng=rng, size=size, cast=tuple(cast))
    if look.treatment == "wash":
        ctx.wash = make_wash(rng, size)
    base = sky.paint_sky(plan, look, size, rng)
    if plan.shot == "sky" and plan.sky in ("night", "cosmic"):
        base = sky.paint_milky_way(base, plan, look, rng)
    if "stars" in plan.particles or plan.sky in ("night", "cosmic"):
        density = 1.6 if plan.sky == "cosmic" else (0.9 if plan.sky == "night" else 0.4)
        if look.treatment not in ("wash", "flat", "paper") or plan.sky in ("night", "cosmic"):
            base = sky.paint_stars(base, plan, look, rng, density=density * (0.6 if look.treatment in ("flat", "paper") else 1.0))
    if "planet" in plan.lights or (plan.sky == "cosmic" and "sun" not in plan.lights and "moon" not in plan.lights):
        base = sky.paint_planets(base, plan, look, rng)
    if "sun" in plan.lights:
        base = sky.paint_sun(base, plan, look)
    elif "moon" in plan.lights:
        base = sky.paint_moon(base, plan, look, rng)
    if look.treatment == "flat" and plan.shot not in ("facade", "street"):
        base = land.paint_bauhaus(base, ctx)
    if "bird" in plan.subjects:
        base = fig.paint_birds(base, ctx)
    if plan.shot in ("facade", "street"):
        base = _compose_buildings(base, ctx)
    else:
        base = _compose_land(base, ctx)
    for particle in plan.particles:
        if particle == "rain":
            base = paint_rain(base, ctx)
        elif particle == "snow":
            base = paint_snow(base, ctx)
        elif particle in ("fireflies", "embers", "bokeh"):
            base = paint_glints(base, ctx, kind=particle)
    masks = dict(ctx.cast_masks)
    if plan.mirror and plan.style != "synthwave":
        base = base.transpose(Image.FLIP_LEFT_RIGHT)
        masks = {k: m.transpose(Image.FLIP_LEFT_RIGHT) for k, m in masks.items()}
    if plan.tilt_deg:
        base = tilt(base, angle_deg=plan.tilt_deg)
        masks = {k: tilt(m, angle_deg=plan.tilt_deg) for k, m in masks.items()}
    if masks_out is not None:
        masks_out.update(masks)
    return finish(base, ctx)


def tilt(img: Image.Image, *, angle_deg: float) -> Image.Image:
    """A dutch angle: rotate about the centre and zoom just enough to hide the corners."""
    W, H = img.size
    a = math.radians(abs(angle_deg))
    zoom = math.cos(a) + math.sin(a) * max(W / H, H / W)
    rotated = img.rotate(angle_deg, resample=Image.BILINEAR)
    cw, ch = W / zoom, H / zoom
    box = ((W - cw) / 2, (H - ch) / 2, (W + cw) / 2, (H + ch) / 2)
    return rotated.resize((W, H), Image.BILINEAR, box=box)


def _compose_buildings(base: Image.Image, ctx: Ctx) -> Image.Image:
    """Street and facade shots: the buildings fill the frame; people stand in the street or behind a window."""
    plan = ctx.plan
    if plan.shot == "facade":
        base = land.paint_facade(base, ctx)
        if "heart" in plan.subjects:
            base = fig.paint_heart(base, ctx)
        return _cast(base, ctx, count=1) if ctx.cast else base
    base = land.paint_street(base, ctx)
    if "lamps" in plan.lights:
        base = fig.paint_lamps(base, ctx)
    if "heart" in plan.subjects:
        base = fig.paint_heart(base, ctx)
    if "fire" in plan.lights:
        base = fig.paint_fire(base, ctx)
    return _people(base, ctx)


def _people(base: Image.Image, ctx: Ctx) -> Image.Image:
    subjects = ctx.plan.subjects
    count = 2 if "couple" in subjects else 1
    if ctx.cast:
        return _cast(base, ctx, count=count)
    if "figure" in subjects or "couple" in subjects or ctx.plan.pose != "stand":
        base = fig.paint_people(base, ctx, count=count)
    return base


CAST_HEIGHT = 0.26  # a cast figure's height in a medium shot, as a share of the picture's height


def _cast(base: Image.Image, ctx: Ctx, *, count: int) -> Image.Image:
    """The scene's cast in their own look: the lead on the subject's third, a second member (or the lead's
    companion in the lead's colours) beside it; sized by the shot, never by the random stream."""
    W, H = base.size
    plan = ctx.plan
    members = list(ctx.cast[:2])
    if count == 2 and len(members) == 1:
        members.append(members[0].model_copy(update={"id": f"{members[0].id}-companion"}))
    facing = 1.0 if plan.subject_x < 0.5 else -1.0
    scale = 0.35 if plan.shot == "facade" else plan.subject_scale
    h = H * CAST_HEIGHT * scale
    foot = H * 0.97 if plan.shot == "facade" else fig.foot_y(ctx)
    pose = plan.pose if plan.pose in ("run", "dance") else "stand"
    for k, member in enumerate(members):
        x = plan.subject_x * W + (k - (len(members) - 1) / 2) * h * (0.32 if pose == "stand" else 0.5)
        tall = h * (0.7 if member.silhouette in paint_cast.ANIMALS else 1.0) * (0.94 if k else 1.0)
        base, mask = paint_cast.paint_member(base, ctx, member, x=x, foot=foot, height_px=tall, pose=pose, facing=facing,
                                             rim=ctx.look.accent)
        ctx.cast_masks[member.id] = mask
    return base


def _compose_land(base: Image.Image, ctx: Ctx) -> Image.Image:
    """Land shots (wide, medium, close, over, low, high, sky): horizon layers, planes, props, then people."""
    plan, look = ctx.plan, ctx.look
    close = plan.shot in ("close", "over")
    for ground in land.GROUND_ORDER[:3]:
        if ground in plan.grounds:
            base = land.GROUND_PAINTERS[ground](base, ctx)
    if look.treatment == "paper" and not ({"mountains", "desert"} & set(plan.grounds)) and plan.horizon < 1.0:
        base = land.paint_paper_hills(base, ctx)
    if "heart" in plan.subjects and not close:
        base = fig.paint_heart(base, ctx)
    planes = [g for g in ("sea", "desert", "grid") if g in plan.grounds]
    if planes:
        base = land.GROUND_PAINTERS[planes[0]](base, ctx)
    elif plan.horizon < 1.0:
        base = land.paint_ground_plane(base, ctx)
    if "road" in plan.grounds:
        base = land.paint_road(base, ctx)
    if "lamps" in plan.lights:
        base = fig.paint_lamps(base, ctx)
    for subject in ("lighthouse", "train", "house", "tree", "car", "rooftop"):
        if subject in plan.subjects:
            base = fig.SUBJECT_PAINTERS[subject](base, ctx)
    if "fire" in plan.lights:
        base = fig.paint_fire(base, ctx)
    if "heart" in plan.subjects and close:
        base = fig.paint_heart(base, ctx)
    return _people(base, ctx)


def draw_scene(*, prompt: str, mood: str, energy: float, style: str, seed: int, version: int, width: int,
               height: int, cast: Sequence[CastMember] = (), masks_out: dict[str, Image.Image] | None = None) -> Image.Image:
    """Draw one scene picture (RGB, ``width`` x ``height``) from its prompt, mood, energy and style preset.

    Deterministic: the same arguments give the same pixels; another ``version`` gives a different take.
    ``cast`` members are drawn in their own look; ``masks_out`` receives their figure masks (for measuring).
    """
    get_preset(style)  # raises InputError for an unknown style
    if not (MIN_SIDE_PX <= width <= MAX_SIDE_PX and MIN_SIDE_PX <= height <= MAX_SIDE_PX):
        raise InputError(f"picture size {width}x{height} outside {MIN_SIDE_PX}..{MAX_SIDE_PX} px")
    plan = plan_scene(prompt=prompt, mood=mood, energy=energy, style=style, seed=seed, version=version)
    log.debug("plan %s v%d: shot=%s sky=%s grounds=%s lights=%s subjects=%s particles=%s", style, version, plan.shot, plan.sky,
              plan.grounds, plan.lights, plan.subjects, plan.particles)
    img = compose(plan, mood=mood, width=width, height=height, cast=cast, masks_out=masks_out)
    return img.convert("RGB")


def draw_reference(*, member: CastMember, style: str, seed: int, width: int, height: int,
                   masks_out: dict[str, Image.Image] | None = None) -> Image.Image:
    """A cast member's reference picture: the figure standing on a plain ground in the style's lightest and darkest colours."""
    preset = get_preset(style)
    look = make_look(style=style, mood="calm", energy=0.3)
    background = paint_cast.mix(look.light, (236, 232, 224), 0.6)
    img, mask = paint_cast.reference_picture(member, background=background, ground=paint_cast.mix(look.dark, background, 0.5),
                                             size=(width, height))
    if masks_out is not None:
        masks_out[member.id] = mask
    log.debug("reference of %s in %s (seed %d)", member.id, preset.id, seed)
    return img
