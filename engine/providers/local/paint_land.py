"""Grounds: mountains, forest, city skyline, sea, desert dunes, road, neon grid floor, plain hills."""
from __future__ import annotations

import numpy as np
from PIL import Image

from engine.providers.local.paint_base import RGB, glow, gradient_rgb, mix, new_mask, paint, profile_polygon, ridge_profile, smooth_edges, to_image
from engine.providers.local.paint_figures import _person, subject_color
from engine.providers.local.paint_fx import Ctx, fill_shape


def layer_color(ctx: Ctx, depth: float) -> RGB:
    """The colour of a land layer at ``depth`` 0 (far, hazy) .. 1 (near)."""
    lk = ctx.look
    stops = {
        "neon": [(0.0, mix(lk.deep, lk.ink, 0.45)), (1.0, lk.ink)],
        "wash": [(0.0, mix(lk.deep, lk.paper, 0.35)), (0.5, lk.mid), (1.0, mix(lk.dark, lk.mid, 0.3))],
        "ink": [(0.0, (120, 120, 120)), (0.5, (60, 60, 60)), (1.0, (8, 8, 8))],
        "rim": [(0.0, mix(lk.mid, lk.deep, 0.5)), (1.0, lk.ink)],
        "paper": [(0.0, lk.accent), (0.35, lk.deep), (0.7, lk.mid), (1.0, lk.dark)],
        "flat": [(0.0, lk.deep), (0.5, lk.mid), (1.0, lk.dark)],
    }[lk.treatment]
    c = gradient_rgb(stops, np.array([depth], np.float32))[0]
    return tuple(int(v) for v in c)  # type: ignore[return-value]


def rim_color(ctx: Ctx) -> RGB:
    """The neon / rim-light colour of land edges."""
    return ctx.look.warm if ctx.plan.sky in ("sunset",) else ctx.look.accent


def paint_ground_plane(base: Image.Image, ctx: Ctx) -> Image.Image:
    """The flat land below the horizon (behind everything that stands on it)."""
    W, H = base.size
    hy = int(ctx.plan.horizon * H)
    mask, d = new_mask(base.size)
    d.rectangle((0, hy, W, H), fill=255)
    return fill_shape(base, mask, layer_color(ctx, 0.8), ctx, shadow=False)


def paint_mountains(base: Image.Image, ctx: Ctx) -> Image.Image:
    """Two or three ridges with atmospheric perspective (straight peaks in the geometric style)."""
    W, H = base.size
    rng, hy = ctx.rng, ctx.plan.horizon * H
    n = int(rng.integers(2, 4))
    flat = ctx.look.treatment == "flat"
    for i in range(n):
        depth = (i + 0.5) / n * 0.8
        amp = H * float(rng.uniform(0.12, 0.3)) * (1.2 - 0.35 * i) * ctx.plan.land_scale
        pts = int(rng.integers(5, 9)) if flat else 240
        xs, ys = ridge_profile(rng, width=W, points=pts, base_y=hy - amp * 0.45, amp_px=amp, roughness=0.5 if flat else 0.55,
                               octaves=2 if flat else 7)
        mask, d = new_mask(base.size)
        d.polygon(profile_polygon(xs, np.minimum(ys, hy + 2), bottom=int(hy) + 4), fill=255)
        base = fill_shape(base, smooth_edges(mask), layer_color(ctx, depth), ctx, rim=rim_color(ctx))
        if ctx.look.treatment in ("wash", "ink") and i == 0:  # snow caps / light side on the far ridge
            cap, cd = new_mask(base.size)
            cd.polygon(profile_polygon(xs, ys, bottom=int(hy - amp * 0.45)), fill=255)
            paint(base, smooth_edges(cap), mix(layer_color(ctx, depth), (255, 255, 255), 0.35), opacity=0.5)
    return base


def paint_forest(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A treeline of pines in two depths along the horizon."""
    W, H = base.size
    rng, hy, u = ctx.rng, ctx.plan.horizon * H, ctx.unit
    for depth, scale in ((0.45, 0.6), (0.9, 1.0)):
        mask, d = new_mask(base.size)
        x = -20.0
        base_y = hy + (depth - 0.45) * 40 * u
        while x < W + 20:
            th = float(rng.uniform(60, 190)) * u * scale * ctx.plan.land_scale
            tw = th * float(rng.uniform(0.28, 0.4))
            tiers = 3 if ctx.look.treatment != "flat" else 1
            for k in range(tiers):
                top = base_y - th + k * th * 0.22
                bot = base_y - th * 0.25 + k * th * 0.12
                half = tw * (0.5 + 0.25 * k)
                d.polygon([(x, top), (x - half, bot), (x + half, bot)], fill=255)
            d.rectangle((x - tw * 0.06, base_y - th * 0.3, x + tw * 0.06, base_y + 2), fill=255)
            x += tw * float(rng.uniform(0.45, 0.9))
        d.rectangle((0, int(base_y), W, int(base_y + 30 * u)), fill=255)
        base = fill_shape(base, smooth_edges(mask), layer_color(ctx, depth), ctx, rim=rim_color(ctx))
    return base


def paint_city(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A skyline in two depths with lit windows (glowing in neon styles)."""
    W, H = base.size
    rng, hy, u = ctx.rng, ctx.plan.horizon * H, ctx.unit
    win_col = {"neon": ctx.look.warm, "ink": (240, 236, 225), "rim": ctx.look.accent}.get(ctx.look.treatment, ctx.look.warm)
    for depth, hmax in ((0.4, 0.22), (0.85, 0.38)):
        mask, d = new_mask(base.size)
        wins, wd = new_mask(base.size)
        x = float(rng.uniform(-60, 0)) * u
        while x < W:
            bw = float(rng.uniform(45, 130)) * u
            bh = (float(rng.uniform(0.25, 1.0)) ** 1.5 * hmax * H + 30 * u) * ctx.plan.land_scale
            top = hy - bh
            d.rectangle((x, top, x + bw, hy + 2), fill=255)
            if rng.random() < 0.25:
                d.rectangle((x + bw * 0.45, top - bh * 0.15, x + bw * 0.52, top), fill=255)
            if rng.random() < 0.3 and ctx.look.treatment != "flat":
                d.polygon([(x, top), (x + bw / 2, top - bw * 0.35), (x + bw, top)], fill=255)
            ww, wh = 6 * u * (1 + depth), 9 * u * (1 + depth)
            gx, gy = ww * 2.1, wh * 1.9
            lit_p = float(rng.uniform(0.12, 0.4))
            cols, rows = int((bw - ww) // gx), int((bh - 20 * u) // gy)
            if cols > 0 and rows > 0:
                lit = rng.random((rows, cols)) < lit_p
                for r_, c_ in zip(*np.nonzero(lit)):
                    wx, wy = x + ww * 0.8 + c_ * gx, top + 12 * u + r_ * gy
                    wd.rectangle((wx, wy, wx + ww, wy + wh), fill=int(rng.integers(150, 256)))
            x += bw + float(rng.uniform(-10, 12)) * u
        base = fill_shape(base, mask, layer_color(ctx, depth), ctx, rim=rim_color(ctx) if depth > 0.5 else None)
        if ctx.look.treatment in ("neon", "rim"):
            base = glow(base, wins, win_col, radius_px=6 * u, strength=1.5)
        paint(base, wins, win_col if depth > 0.5 else mix(win_col, layer_color(ctx, depth), 0.4))
    return base


def paint_sea(base: Image.Image, ctx: Ctx) -> Image.Image:
    """Water below the horizon: depth gradient, wave strokes and the light's reflection column."""
    W, H = base.size
    rng, u, lk = ctx.rng, ctx.unit, ctx.look
    hy = int(ctx.plan.horizon * H)
    top = mix(base.getpixel((W // 2, max(0, hy - 3))), lk.deep, 0.3)  # type: ignore[arg-type]
    bottom = layer_color(ctx, 1.0) if lk.treatment != "wash" else mix(lk.mid, lk.dark, 0.4)
    t = np.linspace(0, 1, max(2, (H - hy) // 4), dtype=np.float32)
    if lk.treatment in ("flat", "paper"):
        t = np.floor(t * 5) / 4
    col = gradient_rgb([(0.0, top), (1.0, bottom)], t ** 0.7)
    water = to_image(np.repeat(col[:, None, :], 2, axis=1)).resize((W, H - hy), Image.BILINEAR)
    mask, d = new_mask(base.size)
    d.rectangle((0, hy, W, H), fill=255)
    full = Image.new("RGB", base.size)
    full.paste(water, (0, hy))
    base = fill_shape(base, mask, (0, 0, 0), ctx, shadow=False) if lk.treatment == "wash" else base
    paint(base, mask, full, opacity=0.85 if lk.treatment == "wash" else 1.0)
    waves, wd = new_mask(base.size)
    refl, rd = new_mask(base.size)
    lx = ctx.plan.light_x * W
    n = int((300 + 500 * ctx.plan.energy) * W / 2000)
    for _ in range(n):
        f = float(rng.random()) ** 1.6
        y = hy + 2 + f * (H - hy)
        ln = (12 + 110 * f) * u * float(rng.uniform(0.5, 1.4))
        x = float(rng.uniform(-ln, W))
        wd.line((x, y, x + ln, y), fill=int(70 + 120 * f), width=max(1, int((1 + 3 * f) * u)))
        spread = (0.03 + 0.25 * f) * W
        rx = lx + float(rng.normal(0, spread * 0.5))
        rd.line((rx - ln * 0.6, y, rx + ln * 0.6, y), fill=int(rng.integers(120, 256)), width=max(1, int((1 + 3 * f) * u)))
    wave_col = mix(top, (255, 255, 255), 0.35) if lk.treatment != "ink" else (200, 200, 200)
    paint(base, waves, wave_col, opacity=0.5)
    if "sun" in ctx.plan.lights or "moon" in ctx.plan.lights or ctx.plan.sky == "sunset":
        rc = lk.warm if "moon" not in ctx.plan.lights else mix(lk.light, (255, 255, 255), 0.5)
        if lk.treatment == "ink":
            rc = lk.accent if "sun" in ctx.plan.lights else (235, 232, 220)
        if lk.treatment in ("neon", "rim"):
            base = glow(base, refl, rc, radius_px=8 * u, strength=1.2)
        paint(base, refl, rc, opacity=0.85)
    return base


def paint_desert(base: Image.Image, ctx: Ctx) -> Image.Image:
    """Rolling dunes in three depths, warm in most styles."""
    W, H = base.size
    rng, hy = ctx.rng, ctx.plan.horizon * H
    xs = np.linspace(0, W, 200, dtype=np.float32)
    for i, depth in enumerate((0.25, 0.55, 0.85)):
        y0 = hy + i * (H - hy) * 0.28
        ys = y0 - H * 0.05 * (1.3 - 0.3 * i)
        for k in range(3):
            ys = ys + H * 0.025 * float(rng.uniform(0.5, 1.5)) * np.sin(xs / W * np.pi * float(rng.uniform(1, 3.5)) + float(rng.uniform(0, 6.3)))
        mask, d = new_mask(base.size)
        d.polygon(profile_polygon(xs, ys, bottom=H), fill=255)
        col = mix(ctx.look.warm, layer_color(ctx, depth), 0.35 + 0.45 * depth)
        base = fill_shape(base, smooth_edges(mask), col, ctx, rim=rim_color(ctx))
    return base


def paint_road(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A road running to the vanishing point, edge lines and perspective centre dashes."""
    W, H = base.size
    u, lk = ctx.unit, ctx.look
    hy = ctx.plan.horizon * H
    vx = W * (0.5 + (ctx.plan.light_x - 0.5) * 0.3)
    mask, d = new_mask(base.size)
    d.polygon([(vx - 4 * u, hy), (vx + 4 * u, hy), (W * 0.95, H), (W * 0.05, H)], fill=255)
    road = mix(layer_color(ctx, 1.0), (40, 40, 48), 0.3) if lk.treatment not in ("neon", "rim") else lk.ink
    base = fill_shape(base, smooth_edges(mask), road, ctx, shadow=False)
    lines, ld = new_mask(base.size)
    lw = max(2, int(4 * u))
    ld.line((vx - 3 * u, hy, W * 0.08, H), fill=255, width=lw)
    ld.line((vx + 3 * u, hy, W * 0.92, H), fill=255, width=lw)
    z = 1.0
    while z < 40:  # dashes equally spaced in depth
        y1, y2 = hy + (H - hy) / z, hy + (H - hy) / (z + 0.5)
        w1, w2 = 10 * u / z, 10 * u / (z + 0.5)
        ld.polygon([(vx - w1 / 2, y1), (vx + w1 / 2, y1), (vx + w2 / 2, y2), (vx - w2 / 2, y2)], fill=255)
        z *= 1.35
    col = {"neon": lk.accent, "rim": lk.accent, "ink": (235, 232, 220)}.get(lk.treatment, mix(lk.light, (255, 255, 255), 0.4))
    if lk.treatment in ("neon", "rim"):
        base = glow(base, lines, col, radius_px=10 * u, strength=1.4)
    paint(base, smooth_edges(lines), col)
    return base


def paint_grid(base: Image.Image, ctx: Ctx) -> Image.Image:
    """The synthwave floor: a glowing perspective grid."""
    W, H = base.size
    u, lk = ctx.unit, ctx.look
    hy = ctx.plan.horizon * H
    mask, d = new_mask(base.size)
    d.rectangle((0, int(hy), W, H), fill=255)
    floor = Image.new("RGB", base.size, lk.ink)
    paint(base, mask, floor)
    lines, ld = new_mask(base.size)
    vx = W / 2
    lw = max(1, int(2.5 * u))
    for k in range(-24, 25):
        ld.line((vx + k * W * 0.012, hy, vx + k * W * 0.16, H), fill=255, width=lw)
    z = 1.0
    while z < 60:
        y = hy + (H - hy) / z
        ld.line((0, y, W, y), fill=255 if z < 20 else 160, width=lw)
        z *= 1.28
    col = lk.warm if ctx.plan.sky == "sunset" and lk.treatment == "neon" else lk.accent
    base = glow(base, lines, col, radius_px=12 * u, strength=1.6)
    paint(base, smooth_edges(lines), mix(col, (255, 255, 255), 0.3))
    haze, hd = new_mask(base.size)
    hd.rectangle((0, int(hy - 6 * u), W, int(hy + 6 * u)), fill=255)
    return glow(base, haze, lk.warm, radius_px=30 * u, strength=1.0)


def paint_paper_hills(base: Image.Image, ctx: Ctx) -> Image.Image:
    """Paper cut-out depth: two soft hill layers sitting on the horizon, each with its drop shadow."""
    W, H = base.size
    rng, hy = ctx.rng, ctx.plan.horizon * H
    for i, depth in enumerate((0.15, 0.4)):
        xs, ys = ridge_profile(rng, width=W, points=160, base_y=hy - H * (0.05 - 0.02 * i), amp_px=H * 0.07, roughness=0.35, octaves=3)
        mask, d = new_mask(base.size)
        d.polygon(profile_polygon(xs, ys, bottom=int(hy) + 4), fill=255)
        base = fill_shape(base, smooth_edges(mask), layer_color(ctx, depth), ctx)
    return base


def paint_bauhaus(base: Image.Image, ctx: Ctx) -> Image.Image:
    """Geometric style: a few bold flat shapes (half disc, triangle, bar, ring) balancing the sky."""
    W, H = base.size
    rng, lk, u = ctx.rng, ctx.look, ctx.unit
    colors = [lk.accent, lk.warm, lk.deep, lk.light]
    side = 0.12 if ctx.plan.light_x > 0.5 else 0.88
    for k in range(int(rng.integers(2, 4))):
        mask, d = new_mask(base.size)
        x = W * (side + float(rng.uniform(-0.08, 0.08)) * (1 + k))
        y = H * float(rng.uniform(0.12, max(0.2, ctx.plan.horizon - 0.15)))
        s = H * float(rng.uniform(0.06, 0.14))
        kind = int(rng.integers(4))
        if kind == 0:
            d.pieslice((x - s, y - s, x + s, y + s), 180, 360, fill=255)
        elif kind == 1:
            d.polygon([(x - s, y + s * 0.8), (x + s, y + s * 0.8), (x, y - s)], fill=255)
        elif kind == 2:
            d.rectangle((x - s * 1.6, y - s * 0.12, x + s * 1.6, y + s * 0.12), fill=255)
        else:
            d.ellipse((x - s, y - s, x + s, y + s), outline=255, width=max(3, int(14 * u)))
        paint(base, smooth_edges(mask), colors[int(rng.integers(len(colors)))], opacity=0.9)
    return base


def _window_colour(ctx: Ctx) -> RGB:
    return {"neon": ctx.look.warm, "ink": (240, 236, 225), "rim": ctx.look.accent}.get(ctx.look.treatment, ctx.look.warm)


def paint_street(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A street seen from inside: two rows of buildings receding to the vanishing point, lit windows, a strip of sky."""
    W, H = base.size
    rng, u, lk = ctx.rng, ctx.unit, ctx.look
    hy = ctx.plan.horizon * H
    vx = W * (0.5 + (ctx.plan.subject_x - 0.5) * 0.4)
    base = paint_road(base, ctx)
    win_col = _window_colour(ctx)
    for side, edge in ((-1, -0.04 * W), (1, 1.04 * W)):
        walls, wd = new_mask(base.size)
        shade, sd = new_mask(base.size)
        wins, wi = new_mask(base.size)
        z = 1.0
        k = 0
        while z < 30:
            z1 = z * float(rng.uniform(1.25, 1.6))
            height = H * float(rng.uniform(0.7, 1.5))  # building height at z = 1, in pixels above the horizon

            def pt(zz: float, frac: float) -> tuple[float, float]:
                """Screen point at depth zz, ``frac`` 0 street level .. 1 roof."""
                x = vx + (edge - vx) / zz
                return x, hy + ((H - hy) - frac * ((H - hy) + height)) / zz

            poly = [pt(z, 0), pt(z, 1), pt(z1, 1), pt(z1, 0)]
            (sd if k % 2 else wd).polygon(poly, fill=255)
            rows = int(rng.integers(5, 9))
            cols = max(1, int((z1 - z) * 3 / z))
            lit_p = float(rng.uniform(0.3, 0.6))
            for r_ in range(1, rows):
                for c_ in range(cols + 1):
                    if rng.random() >= lit_p:
                        continue
                    za = z + (z1 - z) * (c_ + 0.2) / (cols + 1)
                    zb = z + (z1 - z) * (c_ + 0.75) / (cols + 1)
                    fa, fb = r_ / rows + 0.02, (r_ + 0.55) / rows
                    wi.polygon([pt(za, fa), pt(za, fb), pt(zb, fb), pt(zb, fa)], fill=int(rng.integers(170, 256)))
            z, k = z1, k + 1
        near = layer_color(ctx, 0.9)
        base = fill_shape(base, smooth_edges(walls), near, ctx, rim=rim_color(ctx), shadow=False)
        base = fill_shape(base, smooth_edges(shade), mix(near, layer_color(ctx, 0.55), 0.5), ctx, rim=rim_color(ctx), shadow=False)
        if lk.treatment in ("neon", "rim", "ink", "wash"):
            base = glow(base, wins, win_col, radius_px=10 * u, strength=1.3)
        paint(base, wins, mix(win_col, (255, 255, 255), 0.25))
    return base


def paint_facade(base: Image.Image, ctx: Ctx) -> Image.Image:
    """A close view of apartment fronts: big window grids, some lit, the subject's silhouette in one of them."""
    W, H = base.size
    rng, u, lk = ctx.rng, ctx.unit, ctx.look
    win_col = _window_colour(ctx)
    x = -float(rng.uniform(0, 0.1)) * W
    people, pd = new_mask(base.size)
    wins, wi = new_mask(base.size)
    frames, fd = new_mask(base.size)
    chosen = False
    k = 0
    while x < W:
        bw = W * float(rng.uniform(0.3, 0.55))
        top = H * float(rng.uniform(0.08, 0.3))
        wall, wd = new_mask(base.size)
        wd.rectangle((x, top, x + bw, H), fill=255)
        wd.rectangle((x - 8 * u, top - 14 * u, x + bw + 8 * u, top + 6 * u), fill=255)  # cornice
        tone = layer_color(ctx, 0.7 if k % 2 else 0.9)
        base = fill_shape(base, smooth_edges(wall), tone, ctx, rim=rim_color(ctx), shadow=False)
        cols = int(rng.integers(2, 4))
        cw = bw / cols
        ww, wh = cw * 0.5, H * 0.16
        y = top + H * 0.07
        while y + wh < H * 1.05:
            for c in range(cols):
                wx = x + c * cw + (cw - ww) / 2
                box = (wx, y, wx + ww, y + wh)
                fd.rectangle((box[0] - 5 * u, box[3], box[2] + 5 * u, box[3] + 9 * u), fill=255)  # sill
                if rng.random() < 0.55:
                    wi.rectangle(box, fill=int(rng.integers(190, 256)))
                    if not chosen and 0.2 * W < wx < 0.75 * W and y > H * 0.25:
                        for j, dx in enumerate((0.33, 0.62)):  # the subject, seen through the window
                            _person(pd, x=wx + ww * dx, foot=y + wh * 1.05, height_px=wh * (0.9 - 0.05 * j), rng=rng)
                        chosen = True
                    else:
                        fd.rectangle((wx + ww * 0.47, y, wx + ww * 0.53, y + wh), fill=255)  # mullions
                        fd.rectangle((wx, y + wh * 0.45, wx + ww, y + wh * 0.5), fill=255)
            y += wh * 1.55
        x += bw
        k += 1
    glow_col = win_col if lk.treatment != "ink" else (240, 236, 225)
    base = glow(base, wins, glow_col, radius_px=28 * u, strength=1.2)
    paint(base, wins, mix(glow_col, (255, 255, 255), 0.3))
    paint(base, smooth_edges(frames), subject_color(ctx))
    paint(base, smooth_edges(people), subject_color(ctx))
    return base


GROUND_PAINTERS = {
    "mountains": paint_mountains,
    "forest": paint_forest,
    "city": paint_city,
    "sea": paint_sea,
    "desert": paint_desert,
    "road": paint_road,
    "grid": paint_grid,
}
# back-to-front: what stands on the horizon before the planes in front of it
GROUND_ORDER = ("mountains", "city", "forest", "sea", "desert", "grid", "road")
