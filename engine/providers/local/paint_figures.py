"""Silhouette subjects (figure, couple, car, tree, heart, birds, train, house) and foreground lights (lamps, fire)."""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from engine.providers.local.paint_base import RGB, glow, mix, new_mask, paint, smooth_edges
from engine.providers.local.paint_fx import Ctx, fill_shape


def subject_color(ctx: Ctx) -> RGB:
    """Silhouette colour: near-black ink (a deep paper brown / navy in the flat styles)."""
    return {"paper": ctx.look.dark, "flat": ctx.look.dark, "wash": mix(ctx.look.ink, ctx.look.mid, 0.2)}.get(ctx.look.treatment, ctx.look.ink)


def foot_y(ctx: Ctx) -> float:
    """Where subjects stand, in pixels: in the foreground, below the frame for close-ups, on a rooftop if there is one."""
    H = ctx.size[1]
    shot = ctx.plan.shot
    if shot == "close":
        return H * 1.1
    if shot == "over":
        return H * 1.45
    if shot == "low":
        return H * 0.985
    if "rooftop" in ctx.plan.subjects:
        return H * rooftop_y(ctx)
    hz = min(ctx.plan.horizon, 0.9)
    return H * (hz + (1 - hz) * 0.62)


def rooftop_y(ctx: Ctx) -> float:
    """The y of the rooftop's surface as a fraction of the height (below the horizon)."""
    return min(0.93, max(ctx.plan.horizon + 0.12, 0.8))


def _person(d: ImageDraw.ImageDraw, *, x: float, foot: float, height_px: float, rng: np.random.Generator, lean: float = 0.0,
            pose: str = "stand", facing: float = 1.0) -> None:
    """One person (head, coat, legs, arms) with its feet at (x, foot): standing, running (``facing`` +1 right) or dancing."""
    h = height_px
    coat = float(rng.uniform(0.0, 0.12))
    stance = float(rng.uniform(0.03, 0.07))
    if pose == "run":
        lean = 0.2 * facing

    def p(px: float, py: float) -> tuple[float, float]:
        return x + (px + lean * py) * h, foot - py * h

    def limb(x0: float, y0: float, x1: float, y1: float, w: float) -> None:
        d.line([p(x0, y0), p(x1, y1)], fill=255, width=max(2, int(w * h)))
        r = w * h / 2
        ex, ey = p(x1, y1)
        d.ellipse((ex - r, ey - r, ex + r, ey + r), fill=255)

    d.ellipse([*p(-0.06, 0.995), *p(0.06, 0.865)], fill=255)
    d.polygon([p(-0.025, 0.88), p(0.025, 0.88), p(0.03, 0.83), p(-0.03, 0.83)], fill=255)
    if pose == "run":
        f = facing
        d.polygon([p(-0.1, 0.83), p(0.1, 0.83), p(0.085, 0.45), p(-0.085, 0.45)], fill=255)
        limb(0.0, 0.47, 0.16 * f, 0.26, 0.075)  # front thigh
        limb(0.16 * f, 0.26, 0.2 * f, 0.02, 0.06)  # front shin
        limb(0.0, 0.47, -0.1 * f, 0.24, 0.075)  # back thigh
        limb(-0.1 * f, 0.24, -0.28 * f, 0.17, 0.06)  # back shin, kicked up
        limb(0.06 * f, 0.8, 0.18 * f, 0.62, 0.05)
        limb(0.18 * f, 0.62, 0.26 * f, 0.72, 0.045)  # front forearm up
        limb(-0.06 * f, 0.8, -0.18 * f, 0.62, 0.05)
        limb(-0.18 * f, 0.62, -0.22 * f, 0.48, 0.045)
        return
    d.polygon([p(-0.115, 0.83), p(0.115, 0.83), p(0.1, 0.6), p(0.085 + coat, 0.42 - coat), p(-0.085 - coat, 0.42 - coat), p(-0.1, 0.6)], fill=255)
    if pose == "dance":
        kick = float(rng.uniform(-0.12, 0.12))
        d.polygon([p(-0.075, 0.47), p(-0.005, 0.47), p(-stance - 0.04 + kick, 0.0), p(-stance - 0.1 + kick, 0.0)], fill=255)
        d.polygon([p(0.005, 0.47), p(0.075, 0.47), p(stance + 0.1, 0.02), p(stance + 0.04, 0.02)], fill=255)
        for side in (-1, 1):
            reach = float(rng.uniform(0.16, 0.3))
            limb(0.1 * side, 0.8, (0.1 + reach * 0.6) * side, 1.0, 0.05)
            limb((0.1 + reach * 0.6) * side, 1.0, (0.1 + reach) * side, 1.22 - reach * 0.5, 0.045)
        return
    d.polygon([p(-0.075, 0.47), p(-0.005, 0.47), p(-stance + 0.02, 0.0), p(-stance - 0.035, 0.0)], fill=255)
    d.polygon([p(0.005, 0.47), p(0.075, 0.47), p(stance + 0.035, 0.0), p(stance - 0.02, 0.0)], fill=255)
    d.polygon([p(-0.115, 0.82), p(-0.075, 0.8), p(-0.12, 0.45), p(-0.15, 0.46)], fill=255)
    d.polygon([p(0.115, 0.82), p(0.075, 0.8), p(0.12, 0.45), p(0.15, 0.46)], fill=255)


def paint_people(base: Image.Image, ctx: Ctx, *, count: int) -> Image.Image:
    """A lone figure or a couple (plus dancers around them), standing, running or dancing, sized by the shot."""
    W, H = base.size
    plan, rng = ctx.plan, ctx.rng
    mask, d = new_mask(base.size)
    x, foot = plan.subject_x * W, foot_y(ctx)
    h = H * float(rng.uniform(0.2, 0.3)) * plan.subject_scale
    facing = 1.0 if plan.subject_x < 0.5 else -1.0
    gap = 0.085 if plan.pose == "stand" else 0.2
    if count == 1:
        _person(d, x=x, foot=foot, height_px=h, rng=rng, pose=plan.pose, facing=facing)
    else:
        _person(d, x=x - h * gap, foot=foot, height_px=h, rng=rng, lean=0.03, pose=plan.pose, facing=facing)
        _person(d, x=x + h * gap, foot=foot, height_px=h * 0.93, rng=rng, lean=-0.03, pose=plan.pose, facing=facing)
    for k in range(plan.crowd):  # dancers around, a little further back and smaller
        side = -1 if k % 2 == 0 else 1
        dx = side * h * (0.45 + 0.32 * (k // 2) + float(rng.uniform(0, 0.1)))
        _person(d, x=x + dx, foot=foot - h * 0.06 * (1 + k // 2), height_px=h * float(rng.uniform(0.78, 0.9)), rng=rng,
                lean=float(rng.uniform(-0.06, 0.06)), pose="dance")
    if plan.shot in ("close", "over", "low") or "rooftop" in plan.subjects:
        pass  # no ground patch: cropped by the frame, or standing on the roof
    elif "sea" in plan.grounds:  # something to stand on: a rocky spit of shore
        d.polygon([(x - h * 1.6, H + 5), (x - h * 0.7, foot - h * 0.02), (x + h * 0.5, foot - h * 0.03),
                   (x + h * 1.4, foot + h * 0.12), (x + h * 2.2, H + 5)], fill=255)
    else:
        d.ellipse((x - h * 0.3, foot - h * 0.015, x + h * 0.3, foot + h * 0.015), fill=255)
    return fill_shape(base, smooth_edges(mask), subject_color(ctx), ctx, rim=ctx.look.accent)


def paint_rooftop(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A flat roof in the foreground with a parapet, a water tank and an antenna: the city lies below."""
    W, H = base.size
    u, rng = ctx.unit, ctx.rng
    y = rooftop_y(ctx) * H
    mask, d = new_mask(base.size)
    d.rectangle((0, y, W, H), fill=255)
    d.rectangle((0, y - 18 * u, W, y), fill=255)  # parapet
    tx = W * (0.12 if ctx.plan.subject_x > 0.5 else 0.8) + float(rng.uniform(-40, 40)) * u
    tw = 120 * u
    d.rectangle((tx - tw / 2, y - tw * 1.3, tx + tw / 2, y - tw * 0.55), fill=255)  # water tank on legs
    d.polygon([(tx - tw / 2, y - tw * 1.3), (tx, y - tw * 1.6), (tx + tw / 2, y - tw * 1.3)], fill=255)
    for lx in (-0.4, 0.4):
        d.line((tx + lx * tw, y - tw * 0.55, tx + lx * tw * 1.2, y), fill=255, width=max(2, int(6 * u)))
    ax = W * float(rng.uniform(0.35, 0.65))
    d.line((ax, y - 18 * u, ax, y - 260 * u), fill=255, width=max(2, int(5 * u)))
    d.line((ax - 40 * u, y - 200 * u, ax + 40 * u, y - 200 * u), fill=255, width=max(2, int(4 * u)))
    return fill_shape(base, smooth_edges(mask), subject_color(ctx), ctx, rim=ctx.look.accent)


def paint_car(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A retro coupe in side view, with glowing tail and head lights."""
    W, H = base.size
    u = ctx.unit
    L = H * 0.42
    x0 = (1 - ctx.plan.subject_x) * W - L / 2
    y = foot_y(ctx) + 20 * u
    mask, d = new_mask(base.size)
    body = [(0, 0.13), (0.02, 0.3), (0.28, 0.33), (0.4, 0.5), (0.68, 0.5), (0.8, 0.33), (1.0, 0.3), (1.0, 0.13)]
    d.polygon([(x0 + bx * L, y - by * L * 0.5) for bx, by in body], fill=255)
    for wx in (0.2, 0.8):
        r = L * 0.075
        d.ellipse((x0 + wx * L - r, y - r * 1.1, x0 + wx * L + r, y + r * 0.9), fill=255)
    base = fill_shape(base, smooth_edges(mask), subject_color(ctx), ctx, rim=ctx.look.accent)
    lights, ld = new_mask(base.size)
    ld.rectangle((x0 - 2 * u, y - 0.27 * L * 0.5, x0 + 0.04 * L, y - 0.2 * L * 0.5), fill=255)
    ld.rectangle((x0 + 0.96 * L, y - 0.27 * L * 0.5, x0 + L + 2 * u, y - 0.21 * L * 0.5), fill=255)
    col = (255, 40, 60) if ctx.look.treatment != "ink" else ctx.look.accent
    base = glow(base, lights, col, radius_px=16 * u, strength=2.0)
    paint(base, lights, mix(col, (255, 255, 255), 0.3))
    return base


def paint_tree(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A lone broad tree: trunk, two branches and a crown of overlapping blobs."""
    W, H = base.size
    rng = ctx.rng
    x = (ctx.plan.subject_x + (0.3 if ctx.plan.subject_x < 0.5 else -0.3)) * W
    foot = foot_y(ctx)
    h = H * float(rng.uniform(0.35, 0.5))
    mask, d = new_mask(base.size)
    d.polygon([(x - h * 0.04, foot), (x + h * 0.04, foot), (x + h * 0.02, foot - h * 0.6), (x - h * 0.02, foot - h * 0.6)], fill=255)
    for side in (-1, 1):
        d.line((x, foot - h * 0.45, x + side * h * 0.18, foot - h * 0.7), fill=255, width=max(2, int(h * 0.02)))
    flat = ctx.look.treatment == "flat"
    for _ in range(1 if flat else 14):
        cx = x + float(rng.normal(0, h * 0.16)) * (0 if flat else 1)
        cy = foot - h * 0.75 + float(rng.normal(0, h * 0.08)) * (0 if flat else 1)
        r = h * (0.3 if flat else float(rng.uniform(0.09, 0.16)))
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    return fill_shape(base, smooth_edges(mask), subject_color(ctx), ctx, rim=ctx.look.accent)


def paint_heart(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A big heart in the sky, in the accent colour, glowing in neon/cosmic styles."""
    W, H = base.size
    s = H * 0.011 * float(ctx.rng.uniform(0.8, 1.2))
    cx = (1 - ctx.plan.light_x) * W if ctx.plan.lights else W / 2
    cy = H * min(0.32, ctx.plan.horizon * 0.45)
    if ctx.plan.shot in ("close", "over"):  # a close-up of the heart: big, on the third opposite the people
        s, cx, cy = H * 0.026, (1 - ctx.plan.subject_x) * W, H * 0.45
    mask, d = new_mask(base.size)
    pts = []
    for i in range(120):
        t = 2 * math.pi * i / 120
        pts.append((cx + s * 16 * math.sin(t) ** 3, cy - s * (13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t))))
    d.polygon(pts, fill=255)
    mask = smooth_edges(mask)
    col = ctx.look.accent if ctx.look.treatment in ("ink", "flat") else mix(ctx.look.warm, ctx.look.accent, 0.3)
    if ctx.look.treatment in ("neon", "rim"):
        base = glow(base, mask, col, radius_px=30 * ctx.unit * s / (H * 0.011), strength=1.6)
    return fill_shape(base, mask, col, ctx)


def paint_birds(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A loose flock of birds (curved V strokes) in the sky."""
    W, H = base.size
    rng, u = ctx.rng, ctx.unit
    mask, d = new_mask(base.size)
    cx, cy = float(rng.uniform(0.2, 0.8)) * W, float(rng.uniform(0.15, 0.35)) * H
    for _ in range(int(rng.integers(5, 13))):
        x, y = cx + float(rng.normal(0, 0.1)) * W, cy + float(rng.normal(0, 0.05)) * H
        s = float(rng.uniform(10, 26)) * u
        flap = float(rng.uniform(-0.3, 0.5))
        width = max(2, int(3 * u))
        d.line([(x - s, y - s * flap), (x - s * 0.4, y - s * 0.35), (x, y)], fill=255, width=width, joint="curve")
        d.line([(x, y), (x + s * 0.4, y - s * 0.35), (x + s, y - s * flap)], fill=255, width=width, joint="curve")
    return fill_shape(base, smooth_edges(mask), subject_color(ctx), ctx, shadow=ctx.look.treatment == "paper")


def paint_train(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A train crossing the middle distance on its embankment, with lit windows."""
    W, H = base.size
    u = ctx.unit
    y = H * min(0.95, ctx.plan.horizon + (1 - ctx.plan.horizon) * 0.3)
    ch = 70 * u
    mask, d = new_mask(base.size)
    wins, wd = new_mask(base.size)
    d.rectangle((0, y, W, y + 10 * u), fill=255)
    x = W * float(ctx.rng.uniform(-0.2, 0.2))
    for car in range(7):
        cw = 260 * u
        d.rounded_rectangle((x, y - ch, x + cw, y - 6 * u), radius=int(12 * u), fill=255)
        for k in range(6):
            wx = x + 20 * u + k * 40 * u
            wd.rectangle((wx, y - ch * 0.8, wx + 24 * u, y - ch * 0.45), fill=255)
        x += cw + 10 * u
    base = fill_shape(base, mask, subject_color(ctx), ctx, rim=ctx.look.accent)
    col = ctx.look.warm if ctx.look.treatment != "ink" else (240, 236, 225)
    base = glow(base, wins, col, radius_px=10 * u, strength=1.2)
    paint(base, wins, mix(col, (255, 255, 255), 0.3))
    return base


def paint_house(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A small house with a pitched roof, chimney and warm lit windows."""
    W, H = base.size
    u = ctx.unit
    s = H * 0.2
    x = (1 - ctx.plan.subject_x) * W
    foot = foot_y(ctx) - 10 * u
    mask, d = new_mask(base.size)
    d.rectangle((x - s * 0.5, foot - s * 0.6, x + s * 0.5, foot), fill=255)
    d.polygon([(x - s * 0.62, foot - s * 0.58), (x, foot - s * 1.05), (x + s * 0.62, foot - s * 0.58)], fill=255)
    d.rectangle((x + s * 0.22, foot - s * 1.0, x + s * 0.34, foot - s * 0.7), fill=255)
    base = fill_shape(base, smooth_edges(mask), subject_color(ctx), ctx, rim=ctx.look.accent)
    wins, wd = new_mask(base.size)
    for wx in (-0.32, 0.12):
        wd.rectangle((x + wx * s, foot - s * 0.45, x + (wx + 0.2) * s, foot - s * 0.22), fill=255)
    col = ctx.look.warm if ctx.look.treatment != "ink" else ctx.look.accent
    base = glow(base, wins, col, radius_px=18 * u, strength=1.5)
    paint(base, wins, mix(col, (255, 255, 255), 0.4))
    return base


def paint_lamps(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A row of street lamps receding toward the horizon, each with a pool of light."""
    W, H = base.size
    u, lk = ctx.unit, ctx.look
    hy = ctx.plan.horizon * H
    side = -1 if ctx.plan.subject_x > 0.5 else 1
    vx = W / 2
    poles, pd = new_mask(base.size)
    heads, hd = new_mask(base.size)
    for k in range(5):
        z = 1.0 + k * 0.9
        x = vx + side * (W * 0.45) / z
        yb = hy + (H - hy) / z * 0.95
        hgt = H * 0.45 / z
        pd.line((x, yb, x, yb - hgt), fill=255, width=max(2, int(8 * u / z)))
        pd.line((x, yb - hgt, x - side * hgt * 0.15, yb - hgt), fill=255, width=max(2, int(6 * u / z)))
        r = 9 * u / z
        hx = x - side * hgt * 0.15
        hd.ellipse((hx - r, yb - hgt - r * 0.2, hx + r, yb - hgt + r * 1.2), fill=255)
    base = fill_shape(base, poles, subject_color(ctx), ctx, shadow=False)
    col = mix(lk.light, (255, 220, 150), 0.5) if lk.treatment != "ink" else (245, 240, 225)
    base = glow(base, heads, col, radius_px=40 * u, strength=1.6)
    paint(base, heads, (255, 250, 235))
    return base


def paint_fire(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A campfire: layered flame tongues with a wide warm glow."""
    W, H = base.size
    rng, u = ctx.rng, ctx.unit
    x = (0.5 + (0.5 - ctx.plan.subject_x) * 0.6) * W
    foot = foot_y(ctx) + 15 * u
    outer, od = new_mask(base.size)
    inner, idr = new_mask(base.size)
    for k in range(9):
        fx = x + float(rng.normal(0, 22)) * u
        fh = float(rng.uniform(80, 190)) * u
        fw = fh * float(rng.uniform(0.22, 0.32))
        tip = fx + float(rng.normal(0, 14)) * u
        od.polygon([(fx - fw, foot), (fx - fw * 0.6, foot - fh * 0.5), (tip, foot - fh), (fx + fw * 0.6, foot - fh * 0.5), (fx + fw, foot)], fill=255)
        idr.polygon([(fx - fw * 0.5, foot), (tip, foot - fh * 0.55), (fx + fw * 0.5, foot)], fill=255)
    hot = (255, 120, 30) if ctx.look.treatment != "ink" else ctx.look.accent
    base = glow(base, outer, hot, radius_px=90 * u, strength=1.3)
    paint(base, smooth_edges(outer), hot)
    paint(base, smooth_edges(inner), (255, 225, 120) if ctx.look.treatment != "ink" else (245, 240, 230))
    return base


def paint_lighthouse(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A lighthouse on the horizon opposite the subject: a tapered tower, a lamp room and a long beam."""
    W, H = base.size
    u, lk = ctx.unit, ctx.look
    x = (1 - ctx.plan.subject_x) * W
    foot = min(ctx.plan.horizon, 0.92) * H + 6 * u
    h = H * 0.3 * ctx.plan.land_scale
    mask, d = new_mask(base.size)
    d.polygon([(x - h * 0.09, foot), (x + h * 0.09, foot), (x + h * 0.055, foot - h * 0.82), (x - h * 0.055, foot - h * 0.82)], fill=255)
    d.rectangle((x - h * 0.075, foot - h * 0.86, x + h * 0.075, foot - h * 0.82), fill=255)  # the gallery
    d.polygon([(x - h * 0.05, foot - h * 0.95), (x, foot - h * 1.02), (x + h * 0.05, foot - h * 0.95)], fill=255)  # the roof
    d.polygon([(x - h * 1.4, foot + 4 * u), (x - h * 0.3, foot - h * 0.04), (x + h * 0.35, foot - h * 0.05),
               (x + h * 1.5, foot + 4 * u)], fill=255)  # the rock it stands on
    base = fill_shape(base, smooth_edges(mask), subject_color(ctx), ctx, rim=lk.accent)
    lamp, ld = new_mask(base.size)
    ld.rectangle((x - h * 0.045, foot - h * 0.95, x + h * 0.045, foot - h * 0.86), fill=255)
    side = -1 if ctx.plan.subject_x > 0.5 else 1
    ld.polygon([(x, foot - h * 0.92), (x + side * W * 0.45, foot - h * 1.25), (x + side * W * 0.45, foot - h * 0.75)], fill=90)
    col = mix(lk.light, (255, 236, 180), 0.5) if lk.treatment != "ink" else (245, 240, 225)
    base = glow(base, lamp, col, radius_px=30 * u, strength=1.3)
    paint(base, smooth_edges(lamp), col, opacity=0.8)
    return base


SUBJECT_PAINTERS = {
    "lighthouse": paint_lighthouse,
    "rooftop": paint_rooftop,
    "car": paint_car,
    "tree": paint_tree,
    "house": paint_house,
    "train": paint_train,
    "heart": paint_heart,
    "bird": paint_birds,
}
