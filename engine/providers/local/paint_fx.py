"""Per-style shape treatments, particles and finishing (texture, hatching, grain, vignette, scanlines)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageChops

from engine.providers.local.paint_base import (
    RGB, drop_shadow, fractal_noise, glow, mix, new_mask, paint, radial, soft_blur, to_image,
)
from engine.models import CastMember
from engine.providers.local.paint_plan import Look, Plan


@dataclass
class Ctx:
    """Everything a painter needs: the plan, the look, the random stream and shared textures."""

    plan: Plan
    look: Look
    rng: np.random.Generator
    size: tuple[int, int]
    wash: Image.Image | None = None  # watercolour pigment texture (L), made once per picture
    cast: tuple[CastMember, ...] = ()  # the scene's cast members, drawn in their own look (paint_cast)
    cast_masks: dict[str, Image.Image] = field(default_factory=dict)  # each member's figure as painted

    @property
    def unit(self) -> float:
        """One thousandth of the canvas height, in pixels."""
        return self.size[1] / 1000.0


def make_wash(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A blotchy pigment-density texture (L, 150..255) for watercolour fills."""
    w, h = size[0] // 4, size[1] // 4
    n = fractal_noise(rng, width=w, height=h, cells=4, octaves=5, persistence=0.6)
    return to_image(150 + 105 * n, size=size)


def edge_band(mask: Image.Image, *, width_px: float, gain: int = 4) -> Image.Image:
    """The inner edge band of a mask (mask minus its blur), amplified."""
    inner = ImageChops.subtract(mask, soft_blur(mask, radius_px=width_px, factor=2))
    return inner.point(lambda v: min(255, v * gain))


def fill_shape(base: Image.Image, mask: Image.Image, color: RGB, ctx: Ctx, *, rim: RGB | None = None,
               shadow: bool = True) -> Image.Image:
    """Fill ``mask`` with ``color`` the way the style paints (neon rim, wash, paper shadow, ink, flat)."""
    t, u = ctx.look.treatment, ctx.unit
    if t == "paper" and shadow:
        paint(base, drop_shadow(mask, int(9 * u), int(12 * u)), ctx.look.dark, opacity=0.55)
    if t == "wash" and ctx.wash is not None:
        paint(base, ImageChops.multiply(mask, ctx.wash), color, opacity=0.92)
        paint(base, edge_band(mask, width_px=6 * u, gain=3), mix(color, ctx.look.ink, 0.45), opacity=0.55)
        return base
    paint(base, mask, color)
    if rim is not None and t in ("neon", "rim"):
        band = edge_band(mask, width_px=3 * u, gain=6)
        top_only = ImageChops.subtract(band, _shift_down(band, int(5 * u)))
        edge = band if t == "neon" else top_only
        base = glow(base, edge, rim, radius_px=14 * u, strength=1.4)
        paint(base, edge, mix(rim, (255, 255, 255), 0.25), opacity=0.9)
    if t == "paper":
        paint(base, edge_band(mask, width_px=2 * u, gain=2), mix(color, (255, 255, 255), 0.25), opacity=0.35)
    return base


def _shift_down(mask: Image.Image, dy: int) -> Image.Image:
    """The mask moved down by ``dy`` pixels."""
    out = Image.new("L", mask.size, 0)
    out.paste(mask, (0, dy))
    return out


# --------------------------------------------------------------------------- particles


def paint_rain(base: Image.Image, ctx: Ctx) -> Image.Image:
    """Slanted rain streaks, denser with energy."""
    W, H = base.size
    rng, u = ctx.rng, ctx.unit
    n = int((500 + 1500 * ctx.plan.energy) * W * H / 2.0e6)
    mask, draw = new_mask(base.size)
    slant = float(rng.uniform(-0.25, 0.1))
    xs, ys = rng.integers(-W // 8, W, n), rng.integers(-H // 10, H, n)
    lens = (rng.uniform(18, 55, n) * u).astype(int)
    vals = rng.integers(70, 200, n)
    width = max(1, int(1.3 * u))
    for x, y, ln, v in zip(xs.tolist(), ys.tolist(), lens.tolist(), vals.tolist()):
        draw.line((x, y, x + int(ln * slant), y + ln), fill=v, width=width)
    col = (210, 225, 255) if ctx.look.treatment not in ("wash", "paper", "flat") else mix(ctx.look.mid, ctx.look.light, 0.4)
    if ctx.look.treatment == "neon":
        col = mix(ctx.look.accent, (255, 255, 255), 0.4)
    paint(base, mask, col, opacity=0.55)
    return base


def paint_snow(base: Image.Image, ctx: Ctx) -> Image.Image:
    """Snowflakes of three depths: big soft near ones, small crisp far ones."""
    W, H = base.size
    rng, u = ctx.rng, ctx.unit
    mask, draw = new_mask(base.size)
    n = int((250 + 700 * ctx.plan.energy) * W * H / 2.0e6)
    for x, y, s in zip(rng.integers(0, W, n).tolist(), rng.integers(0, H, n).tolist(), (rng.random(n) ** 3 * 7 * u + u).tolist()):
        draw.ellipse((x - s, y - s, x + s, y + s), fill=230)
    mask = soft_blur(mask, radius_px=1.5 * u, factor=1) if u > 1 else mask
    paint(base, mask, (250, 250, 255), opacity=0.9)
    return base


def paint_glints(base: Image.Image, ctx: Ctx, *, kind: str) -> Image.Image:
    """Fireflies (green-gold, low), embers (orange, rising) or bokeh (big soft discs)."""
    W, H = base.size
    rng, u, look = ctx.rng, ctx.unit, ctx.look
    mask, draw = new_mask(base.size)
    if kind == "bokeh":
        n = int(8 + 16 * ctx.plan.energy)
        cx, cy = float(rng.uniform(0.1, 0.9)) * W, float(rng.uniform(0.3, 0.8)) * H
        for _ in range(n):  # a drifting cluster of out-of-focus lights
            x, y = cx + float(rng.normal(0, 0.22)) * W, cy + float(rng.normal(0, 0.15)) * H
            r = float(rng.uniform(10, 45)) * u
            draw.ellipse((x - r, y - r, x + r, y + r), fill=int(rng.integers(30, 90)))
        mask = soft_blur(mask, radius_px=3 * u, factor=2)
        col = mix(mix(look.warm, look.accent, float(rng.random())), (255, 255, 255), 0.3)
        paint(base, mask, col)
        return base
    n = int((60 + 160 * ctx.plan.energy) * W * H / 2.0e6)
    top = ctx.plan.horizon * 0.5 if kind == "fireflies" else 0.1
    for _ in range(n):
        x, y = int(rng.integers(0, W)), int(rng.uniform(top, 0.98) * H)
        s = float(rng.uniform(1.5, 4.5)) * u
        if kind == "embers":
            dx, dy = float(rng.uniform(-6, 6)) * u, -float(rng.uniform(6, 22)) * u
            draw.line((x, y, x + dx, y + dy), fill=255, width=max(1, int(s * 0.7)))
        else:
            draw.ellipse((x - s, y - s, x + s, y + s), fill=255)
    col = (255, 140, 40) if kind == "embers" else (220, 255, 140)
    if look.treatment == "ink":
        col = (245, 240, 230)
    base = glow(base, mask, col, radius_px=10 * u, strength=2.0)
    paint(base, mask, mix(col, (255, 255, 255), 0.5))
    return base


# --------------------------------------------------------------------------- finishing


def hatch(base: Image.Image, ctx: Ctx) -> Image.Image:
    """Noir ink hatching in the mid-tones (diagonal lines, cross-hatched in the darker ones)."""
    W, H = base.size
    u = ctx.unit
    gray = base.convert("L").reduce(2).resize(base.size, Image.BILINEAR)
    lines, d = new_mask(base.size)
    step = max(5, int(9 * u))
    for x in range(-H, W, step):
        d.line((x, H, x + H, 0), fill=255, width=max(1, int(1.4 * u)))
    cross, dc = new_mask(base.size)
    for x in range(0, W + H, step):
        dc.line((x, H, x - H, 0), fill=255, width=max(1, int(1.2 * u)))
    mid = gray.point(lambda v: 200 if 35 < v < 150 else 0)
    dark = gray.point(lambda v: 200 if 35 < v < 95 else 0)
    paint(base, ImageChops.multiply(lines, mid), ctx.look.ink, opacity=0.55)
    paint(base, ImageChops.multiply(cross, dark), ctx.look.ink, opacity=0.5)
    return base


def contrast_lut(base: Image.Image, *, factor: float) -> Image.Image:
    """Contrast around the picture's mean brightness, as one lookup-table pass."""
    if abs(factor - 1.0) < 0.01:
        return base
    hist = base.reduce(8).convert("L").histogram()
    mean = sum(i * n for i, n in enumerate(hist)) / max(1, sum(hist))
    lut = [min(255, max(0, int(round(mean + (i - mean) * factor)))) for i in range(256)]
    return base.point(lut * 3)


def modulation(ctx: Ctx, *, vignette: float, grain: int, paper: float, scan_period_px: int = 0,
               scan_depth: float = 0.0) -> Image.Image:
    """One L map (255 = unchanged) combining vignette, paper texture, film grain and scanlines."""
    W, H = ctx.size
    f = 8
    r = radial(ctx.size, cx=W / 2, cy=H / 2, radius_px=0.85 * np.hypot(W, H) / 2, factor=f)
    low = 1 - vignette + vignette * np.clip(r * 1.6, 0, 1) ** 0.8
    if paper > 0:
        fibres = fractal_noise(ctx.rng, width=W // f, height=H // f, cells=6, octaves=3, persistence=0.7)
        low = low * (1 - paper * fibres)
    m = np.asarray(to_image(255 * low, size=ctx.size), np.float32)
    if paper > 0:
        tooth = ctx.rng.random((H // 2, W // 2), dtype=np.float32)
        m *= 1 - paper * 0.6 * np.asarray(Image.fromarray(tooth).resize(ctx.size, Image.BILINEAR), np.float32)
    if grain > 0:
        m *= 1 - (grain / 255.0) * ctx.rng.random((H, W), dtype=np.float32)
    if scan_period_px > 1:
        m[::scan_period_px] *= 1 - scan_depth
    return Image.fromarray(np.clip(m, 0, 255).astype(np.uint8))


def chromatic(base: Image.Image) -> Image.Image:
    """A 1-2 px red/blue split: the synthwave CRT hint."""
    r, g, b = base.split()
    shift_px = max(1, base.height // 540)
    return Image.merge("RGB", (ImageChops.offset(r, shift_px, 0), g, ImageChops.offset(b, -shift_px, 0)))


FINISH = {  # treatment -> (vignette, grain levels, paper texture)
    "ink": (0.55, 40, 0.0),
    "neon": (0.45, 22, 0.0),
    "rim": (0.4, 16, 0.0),
    "wash": (0.15, 10, 0.16),
    "paper": (0.25, 10, 0.08),
    "flat": (0.1, 8, 0.05),
}


def finish(base: Image.Image, ctx: Ctx) -> Image.Image:
    """Per-style finishing pass: hatching, contrast, then one multiply by vignette/texture/grain/scanlines."""
    t = ctx.look.treatment
    if t == "ink":
        base = hatch(base, ctx)
    base = contrast_lut(base, factor=ctx.look.contrast)
    vig, amount, paper = FINISH[t]
    scan = max(3, base.height // 300) if t == "neon" else 0
    m = modulation(ctx, vignette=vig, grain=amount, paper=paper, scan_period_px=scan, scan_depth=0.16)
    base = ImageChops.multiply(base, Image.merge("RGB", (m, m, m)))
    return chromatic(base) if t == "neon" else base
