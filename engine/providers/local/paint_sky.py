"""Skies and light sources: gradients, clouds, nebulae, sun, moon, planets, stars."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from engine.providers.local.paint_base import (
    RGB, drop_shadow, fractal_noise, glow, gradient_rgb, mix, new_mask, paint, radial, smooth_edges, soft_blur, to_image,
)
from engine.providers.local.paint_plan import Look, Plan

LOW = 4  # sky fields are computed at 1/LOW resolution


def sky_stops(look: Look, sky: str) -> list[tuple[float, RGB]]:
    """Colour stops from the top of the picture (0) to the horizon (1) for a sky type."""
    d, m, p, w, li = look.dark, look.mid, look.deep, look.warm, look.light
    stops = {
        "night": [(0.0, d), (0.55, mix(d, m, 0.7)), (1.0, mix(m, p, 0.55))],
        "sunset": [(0.0, mix(d, m, 0.5)), (0.4, m), (0.72, p), (1.0, w)],
        "day": [(0.0, mix(m, li, 0.35)), (0.55, mix(p, li, 0.45)), (1.0, mix(li, w, 0.25))],
        "storm": [(0.0, mix(d, (90, 90, 98), 0.35)), (0.6, mix(m, (120, 120, 128), 0.5)), (1.0, mix(p, (170, 170, 176), 0.5))],
        "cosmic": [(0.0, d), (0.6, mix(d, m, 0.6)), (1.0, m)],
    }[sky]
    if look.treatment == "wash":  # watercolour: pigment on white paper
        lift = 0.25 if sky == "night" else 0.55
        stops = [(t, mix(c, look.paper, lift)) for t, c in stops]
    if look.treatment == "ink":  # noir: no hue at all
        stops = [(t, (int(sum(c) / 3),) * 3) for t, c in stops]  # type: ignore[misc]
    return stops


def _bands(t: np.ndarray, n: int) -> np.ndarray:
    """Posterise a 0..1 field into ``n`` flat bands (paper and geometric skies)."""
    return np.floor(np.clip(t, 0, 0.999) * n) / max(n - 1, 1)


def paint_sky(plan: Plan, look: Look, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """The whole background: sky gradient, light halo, clouds or nebula (soft, computed at low resolution)."""
    w, h = size[0] // LOW, size[1] // LOW
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    t = np.clip(yy / max(plan.horizon, 0.3), 0, 1)
    treat = look.treatment
    if treat in ("paper", "flat"):
        t = _bands(t, 6 if treat == "paper" else 4)
    rgb = gradient_rgb(sky_stops(look, plan.sky), t)
    halo = radial(size, cx=plan.light_x * size[0], cy=plan.light_y * size[1], radius_px=0.75 * size[1], factor=LOW)
    if plan.sky in ("sunset", "day", "night") and treat not in ("flat",):
        strength = {"sunset": 0.75, "day": 0.45, "night": 0.35}[plan.sky]
        hc = look.warm if plan.sky != "night" else look.deep
        if treat == "ink":
            hc = (200, 200, 200)
        if treat == "paper":
            halo = _bands(halo, 5)
        rgb += (np.array(hc, np.float32) - rgb) * (halo[..., None] ** 2 * strength)
    if plan.sky == "cosmic" or (treat == "rim" and plan.sky == "night"):
        rgb = _nebula(rgb, look, rng, w, h, strength=1.0 if plan.sky == "cosmic" else 0.55)
    elif plan.sky in ("day", "sunset", "storm") and treat not in ("flat", "paper"):
        rgb = _clouds(rgb, plan, look, rng, w, h)
    if treat == "wash":
        blot = fractal_noise(rng, width=w, height=h, cells=3, octaves=5)
        rgb *= (0.9 + 0.2 * blot)[..., None]
        tint = fractal_noise(rng, width=w, height=h, cells=2, octaves=3)
        rgb += (np.array(look.warm, np.float32) - rgb) * (np.clip(tint - 0.55, 0, 1) * 0.8)[..., None]
    return to_image(rgb, size=size)


def _clouds(rgb: np.ndarray, plan: Plan, look: Look, rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Soft fractal clouds, thicker for storms, lit by the warm colour at sunset."""
    n = fractal_noise(rng, width=w, height=h, cells=2, octaves=6, persistence=0.6)
    stretch = np.asarray(Image.fromarray(n).resize((w, h), Image.BILINEAR, box=(0, 0, w, h / 3)), np.float32)
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    band = np.clip(1.0 - np.abs(yy - plan.horizon * 0.45) / (plan.horizon * 0.5), 0, 1)
    thr = 0.38 if plan.sky == "storm" else 0.55
    cover = np.clip((stretch - thr) / 0.25, 0, 1) * band
    if plan.sky == "storm":
        col = mix(look.dark, (60, 60, 66), 0.5)
        lit = mix(look.mid, (150, 150, 156), 0.5)
    elif plan.sky == "sunset":
        col, lit = mix(look.mid, look.deep, 0.5), look.warm
    else:
        col, lit = mix(look.light, (255, 255, 255), 0.6), (255, 255, 255)
    if look.treatment == "ink":
        col, lit = (40, 40, 40), (200, 200, 200)
    shade = np.clip(stretch - thr, 0, 1) / max(1 - thr, 1e-3)
    ccol = gradient_rgb([(0.0, lit), (1.0, col)], shade)
    a = (cover * (0.9 if plan.sky == "storm" else 0.7))[..., None]
    return rgb * (1 - a) + ccol * a


def _nebula(rgb: np.ndarray, look: Look, rng: np.random.Generator, w: int, h: int, *, strength: float) -> np.ndarray:
    """Luminous gas clouds: two fractal fields tinted deep/accent with warm filaments where they meet."""
    n1 = fractal_noise(rng, width=w, height=h, cells=2, octaves=6, persistence=0.58)
    n2 = fractal_noise(rng, width=w, height=h, cells=3, octaves=6, persistence=0.55)
    ridge = 1.0 - np.abs(2 * fractal_noise(rng, width=w, height=h, cells=2, octaves=6) - 1)
    a1 = np.clip((n1 - 0.42) / 0.45, 0, 1) ** 1.5
    a2 = np.clip((n2 - 0.5) / 0.4, 0, 1) ** 1.5
    fil = np.clip((ridge - 0.82) / 0.18, 0, 1) ** 2 * a1
    out = rgb + (np.array(look.deep, np.float32) * 1.3 - rgb) * (a1 * 0.85 * strength)[..., None]
    out += np.array(look.accent, np.float32) * (a2 * 0.55 * strength)[..., None]
    out += np.array(look.warm, np.float32) * (fil * 0.9 * strength)[..., None]
    dust = np.clip((fractal_noise(rng, width=w, height=h, cells=4, octaves=4) - 0.6) / 0.3, 0, 1)
    return out * (1 - 0.5 * dust[..., None] * strength)


# --------------------------------------------------------------------------- light sources


def _disc_gradient(d: int, top: RGB, bottom: RGB) -> Image.Image:
    """A d x d image with a vertical gradient from ``top`` to ``bottom``."""
    col = gradient_rgb([(0.0, top), (1.0, bottom)], np.linspace(0, 1, d, dtype=np.float32))
    return to_image(np.repeat(col[:, None, :], 2, axis=1)).resize((d, d), Image.BILINEAR)


def paint_sun(base: Image.Image, plan: Plan, look: Look) -> Image.Image:
    """The sun: banded neon disc, soft wash, red ink disc, paper disc or flat circle by style."""
    W, H = base.size
    r = int(H * (0.2 if look.treatment in ("neon", "flat") else 0.13) * (1.15 if plan.sky == "sunset" else 1.0))
    cx, cy = int(plan.light_x * W), int(plan.light_y * H)
    if look.treatment == "neon":
        cy = int(plan.horizon * H - r * 0.55)
    mask, draw = new_mask(base.size)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    if look.treatment == "neon":  # synthwave bands cut out of the lower half
        y = cy + r * 0.05
        gap = r * 0.03
        step = r * 0.16
        while y < cy + r:
            draw.rectangle((cx - r, int(y), cx + r, int(y + gap)), fill=0)
            y += step
            gap *= 1.45
            step *= 0.92
    mask = smooth_edges(mask)
    d = 2 * r
    if look.treatment == "neon":
        fill = _disc_gradient(d, mix(look.light, (255, 240, 120), 0.55), look.warm)
    elif look.treatment == "ink":
        fill = _disc_gradient(d, look.accent, look.accent)
    elif look.treatment == "wash":
        fill = _disc_gradient(d, mix(look.light, (255, 255, 255), 0.2), look.warm)
        mask = soft_blur(mask, radius_px=r * 0.12)
    elif look.treatment == "rim":
        fill = _disc_gradient(d, (255, 255, 255), look.light)
    else:
        fill = _disc_gradient(d, look.warm, mix(look.warm, look.accent, 0.25 if look.treatment == "paper" else 0.0))
    if look.treatment == "paper":
        paint(base, drop_shadow(mask, r // 10, r // 10), look.dark, opacity=0.35)
    if look.treatment in ("neon", "rim"):
        base = glow(base, mask, look.warm if look.treatment == "neon" else look.light, radius_px=r * 0.6, strength=1.3)
    full = Image.new("RGB", base.size, fill.getpixel((r, d - 1)))
    full.paste(fill, (cx - r, cy - r))
    paint(base, mask, full, opacity=0.92 if look.treatment == "wash" else 1.0)
    return base


def paint_moon(base: Image.Image, plan: Plan, look: Look, rng: np.random.Generator) -> Image.Image:
    """A moon (full or crescent) with a soft halo and faint maria."""
    W, H = base.size
    r = int(H * float(rng.uniform(0.06, 0.1)))
    cx, cy = int(plan.light_x * W), int(min(plan.light_y, 0.3) * H)
    mask, draw = new_mask(base.size)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    if rng.random() < 0.45:
        off = int(r * float(rng.uniform(0.35, 0.6)))
        draw.ellipse((cx - r + off, cy - r - off // 3, cx + r + off, cy + r - off // 3), fill=0)
    mask = smooth_edges(mask)
    col = (235, 232, 220) if look.treatment == "ink" else mix(look.light, (255, 255, 255), 0.5)
    if look.treatment != "flat":
        base = glow(base, mask, mix(col, look.deep, 0.3), radius_px=r * 1.2, strength=0.9)
    if look.treatment == "paper":
        paint(base, drop_shadow(mask, r // 8, r // 8), look.dark, opacity=0.35)
    paint(base, mask, col)
    maria = fractal_noise(rng, width=2 * r, height=2 * r, cells=2, octaves=4)
    spots = Image.fromarray((np.clip((maria - 0.55) * 2.2, 0, 1) * 70).astype(np.uint8))
    full = Image.new("L", base.size, 0)
    full.paste(spots, (cx - r, cy - r))
    paint(base, Image.fromarray(np.minimum(np.asarray(full), np.asarray(mask))), mix(col, look.deep, 0.6))
    return base


def paint_planets(base: Image.Image, plan: Plan, look: Look, rng: np.random.Generator) -> Image.Image:
    """One large shaded planet (maybe ringed) plus a small moon."""
    W, H = base.size
    for k in range(2):
        r = int(H * (float(rng.uniform(0.16, 0.28)) if k == 0 else float(rng.uniform(0.035, 0.06))))
        cx = int((plan.light_x if k == 0 else 1 - plan.light_x) * W)
        cy = int((plan.light_y if k == 0 else float(rng.uniform(0.15, 0.4))) * H)
        d = 2 * r
        yy, xx = np.mgrid[0:d, 0:d].astype(np.float32)
        nx, ny = (xx - r) / r, (yy - r) / r
        inside = np.clip((1 - np.hypot(nx, ny)) * r, 0, 1)
        lx, ly = (-0.6, -0.5) if cx > W / 2 else (0.6, -0.5)
        nz = np.sqrt(np.clip(1 - nx**2 - ny**2, 0, 1))
        lit = np.clip(nx * lx + ny * ly + nz * 0.6, 0, 1) ** 0.8
        bands = fractal_noise(rng, width=d, height=d, cells=1, octaves=3)
        stripes = 0.5 + 0.5 * np.sin(ny * float(rng.uniform(6, 14)) + bands * 4)
        c1, c2 = (look.accent, look.warm) if k == 0 else (look.light, look.deep)
        surface = gradient_rgb([(0.0, c1), (1.0, c2)], stripes * 0.7 + bands * 0.3)
        shade = surface * (0.08 + 0.92 * lit)[..., None] + np.array(look.light, np.float32) * (lit**8 * 0.5)[..., None]
        img = to_image(shade)
        m = Image.fromarray((inside * 255).astype(np.uint8))
        full_mask = Image.new("L", base.size, 0)
        full_mask.paste(m, (cx - r, cy - r))
        base = glow(base, full_mask, look.accent if k == 0 else look.light, radius_px=r * 0.35, strength=0.7)
        full = Image.new("RGB", base.size)
        full.paste(img, (cx - r, cy - r))
        paint(base, full_mask, full)
        if k == 0 and rng.random() < 0.6:
            ring, rd = new_mask(base.size)
            tilt = float(rng.uniform(0.18, 0.3))
            for i, f in enumerate((1.55, 1.7, 1.85)):
                rd.ellipse((cx - r * f, cy - r * f * tilt, cx + r * f, cy + r * f * tilt), outline=200 - 40 * i, width=max(2, r // 30))
            front, fd = new_mask(base.size)
            fd.rectangle((0, cy, W, H), fill=255)
            behind_cut = Image.fromarray(np.where(np.asarray(full_mask) > 0, np.asarray(front), 255).astype(np.uint8))
            ring = Image.fromarray(np.minimum(np.asarray(ring), np.asarray(behind_cut)))
            paint(base, smooth_edges(ring), mix(look.light, look.warm, 0.4), opacity=0.85)
    return base


def paint_stars(base: Image.Image, plan: Plan, look: Look, rng: np.random.Generator, *, density: float) -> Image.Image:
    """A starfield above the horizon: many faint points, a few bright ones with glow and cross flares."""
    W, H = base.size
    n = int(W * H / 2500 * density)
    limit = int(min(plan.horizon, 1.0) * H)
    mask, draw = new_mask(base.size)
    xs = rng.integers(0, W, n)
    ys = (rng.random(n) ** 1.3 * limit).astype(int)
    vals = (60 + 195 * rng.random(n) ** 3).astype(int)
    for x, y, v in zip(xs.tolist(), ys.tolist(), vals.tolist()):
        draw.point((x, y), fill=v)
    bright, bd = new_mask(base.size)
    u = max(1, H // 600)
    for _ in range(max(3, n // 120)):
        x, y = int(rng.integers(0, W)), int(rng.random() ** 1.3 * limit)
        s = int(rng.integers(1, 3)) * u
        bd.ellipse((x - s, y - s, x + s, y + s), fill=255)
        if rng.random() < 0.35:
            L = s * 6
            bd.line((x - L, y, x + L, y), fill=150, width=1)
            bd.line((x, y - L, x, y + L), fill=150, width=1)
    star_col = (255, 255, 255) if look.treatment != "wash" else mix(look.dark, look.paper, 0.2)
    if look.treatment == "wash":  # paint dark pigment dots on light paper skies
        star_col = (255, 252, 240)
    base = glow(base, bright, mix(star_col, look.accent, 0.3), radius_px=H / 160, strength=1.5)
    paint(base, mask, star_col)
    paint(base, bright, star_col)
    return base


def paint_milky_way(base: Image.Image, plan: Plan, look: Look, rng: np.random.Generator) -> Image.Image:
    """A diagonal band of glowing star dust across the sky (for open-sky shots)."""
    W, H = base.size
    w, h = W // LOW, H // LOW
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    slope = float(rng.uniform(-0.45, 0.45))
    cy = h * float(rng.uniform(0.3, 0.5)) + slope * (xx - w / 2)
    band = np.exp(-(((yy - cy) / (h * 0.16)) ** 2))
    dust = fractal_noise(rng, width=w, height=h, cells=5, octaves=5, persistence=0.6)
    a = np.clip(band * (0.35 + 0.9 * dust) - 0.2, 0, 1) * (0.55 if look.treatment != "wash" else 0.35)
    a *= np.clip((plan.horizon * h - yy) / (0.1 * h), 0, 1)
    col = mix(look.light, look.accent, 0.3) if look.treatment != "ink" else (225, 225, 225)
    arr = np.asarray(base.resize((w, h), Image.BILINEAR), np.float32)
    arr = arr + (np.array(col, np.float32) - arr) * a[..., None]
    layer = to_image(arr, size=base.size)
    mask = to_image(a * 255 * 2.5, size=base.size).convert("L")
    base.paste(layer, (0, 0), mask)
    return base
