"""Drawing primitives for the offline illustrator: colours, noise, gradients, masks, glow.

Everything smooth (noise, gradients, blur) is computed at low resolution and
upscaled by Pillow, so a 2400x1350 picture costs a few tens of milliseconds
per layer. Sharp shapes are drawn at full resolution with ImageDraw.
"""
from __future__ import annotations

import colorsys
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

RGB = tuple[int, int, int]


# --------------------------------------------------------------------------- colours


def hex_rgb(value: str) -> RGB:
    """'#ff2e97' -> (255, 46, 151)."""
    v = value.lstrip("#")
    return int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear mix of two colours, ``t`` = 0 gives ``a``, 1 gives ``b``."""
    t = min(max(t, 0.0), 1.0)
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


def shift(color: RGB, *, hue_deg: float = 0.0, sat_mul: float = 1.0, val_mul: float = 1.0) -> RGB:
    """Rotate the hue and scale saturation/value of one colour."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255.0 for c in color))
    h = (h + hue_deg / 360.0) % 1.0
    s = min(max(s * sat_mul, 0.0), 1.0)
    v = min(max(v * val_mul, 0.0), 1.0)
    return tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(h, s, v))  # type: ignore[return-value]


def luma(color: RGB) -> float:
    """Perceived brightness 0..255."""
    r, g, b = color
    return 0.299 * r + 0.587 * g + 0.114 * b


# --------------------------------------------------------------------------- noise and gradients


def fractal_noise(rng: np.random.Generator, *, width: int, height: int, cells: int = 3, octaves: int = 5,
                  persistence: float = 0.55) -> np.ndarray:
    """Fractal value noise in 0..1, shape (height, width), float32; ``cells`` = lattice cells on the short side."""
    acc = np.zeros((height, width), np.float32)
    amp, total = 1.0, 0.0
    short = min(width, height)
    for octave in range(octaves):
        n = cells * 2**octave
        gw = max(2, int(round(n * width / short)) + 2)
        gh = max(2, int(round(n * height / short)) + 2)
        grid = rng.random((gh, gw), dtype=np.float32)
        up = Image.fromarray(grid).resize((width, height), Image.BICUBIC, box=(0.5, 0.5, gw - 1.5, gh - 1.5))
        acc += amp * np.asarray(up, np.float32)
        total += amp
        amp *= persistence
    lo, hi = float(acc.min()), float(acc.max())
    return (acc - lo) / max(hi - lo, 1e-6)


def gradient_rgb(stops: Sequence[tuple[float, RGB]], t: np.ndarray) -> np.ndarray:
    """Map a 0..1 field ``t`` through colour stops [(pos, rgb), ...] -> float32 (..., 3)."""
    pos = np.array([p for p, _ in stops], np.float32)
    cols = np.array([c for _, c in stops], np.float32)
    out = np.empty(t.shape + (3,), np.float32)
    for ch in range(3):
        out[..., ch] = np.interp(t, pos, cols[:, ch])
    return out


def to_image(arr: np.ndarray, *, size: tuple[int, int] | None = None) -> Image.Image:
    """float RGB/L array (0..255) -> Pillow image, optionally upscaled (bicubic) to ``size``."""
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if size is not None and img.size != size:
        img = img.resize(size, Image.BILINEAR)
    return img


# --------------------------------------------------------------------------- masks


def new_mask(size: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """A black L mask and a drawer for it."""
    m = Image.new("L", size, 0)
    return m, ImageDraw.Draw(m)


def padded_bbox(mask: Image.Image, pad_px: float) -> tuple[int, int, int, int] | None:
    """The bounding box of a mask's non-zero pixels grown by ``pad_px`` and clipped (None if empty)."""
    box = mask.getbbox()
    if box is None:
        return None
    p = int(pad_px) + 1
    return max(0, box[0] - p), max(0, box[1] - p), min(mask.width, box[2] + p), min(mask.height, box[3] + p)


def soft_blur(img: Image.Image, *, radius_px: float, factor: int = 4) -> Image.Image:
    """A wide Gaussian blur done at 1/``factor`` resolution (fast) on the mask's padded bbox, full size back."""
    if radius_px <= 0:
        return img
    box = padded_bbox(img, radius_px * 3)
    if box is None:
        return img
    crop = img.crop(box)
    factor = max(1, min(factor, int(radius_px // 2) or 1, crop.width // 2 or 1, crop.height // 2 or 1))
    small = crop.reduce(factor) if factor > 1 else crop
    small = small.filter(ImageFilter.GaussianBlur(radius_px / factor))
    blurred = small.resize(crop.size, Image.BILINEAR) if factor > 1 else small
    out = Image.new(img.mode, img.size, 0)
    out.paste(blurred, box[:2])
    return out


def smooth_edges(mask: Image.Image) -> Image.Image:
    """Anti-alias a hard mask with a 1-px box blur (only inside its bounding box)."""
    box = padded_bbox(mask, 2)
    if box is None:
        return mask
    out = Image.new("L", mask.size, 0)
    out.paste(mask.crop(box).filter(ImageFilter.BoxBlur(1)), box[:2])
    return out


def scale_mask(mask: Image.Image, opacity: float) -> Image.Image:
    """Multiply a mask by a constant opacity 0..1."""
    if opacity >= 0.999:
        return mask
    return mask.point(lambda v: int(v * opacity))


def profile_polygon(xs: np.ndarray, ys: np.ndarray, *, bottom: int) -> list[tuple[float, float]]:
    """A closed polygon under a height profile (screen y per x), down to ``bottom``."""
    pts = list(zip(xs.tolist(), ys.tolist()))
    return [(float(xs[0]), float(bottom))] + pts + [(float(xs[-1]), float(bottom))]


def ridge_profile(rng: np.random.Generator, *, width: int, points: int, base_y: float, amp_px: float,
                  roughness: float = 0.55, octaves: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D fractal ridge line (midpoint-like value noise): xs and screen ys."""
    xs = np.linspace(0, width, points, dtype=np.float32)
    ys = np.zeros(points, np.float32)
    amp, total = 1.0, 0.0
    for octave in range(octaves):
        n = 2 + 2**octave
        knots = rng.random(n + 1, dtype=np.float32) * 2 - 1
        ys += amp * np.interp(np.linspace(0, n, points), np.arange(n + 1), knots).astype(np.float32)
        total += amp
        amp *= roughness
    return xs, base_y - amp_px * ys / total


# --------------------------------------------------------------------------- compositing


def drop_shadow(mask: Image.Image, dx: int, dy: int) -> Image.Image:
    """A mask moved by (dx, dy) and softened: a drop shadow."""
    shifted = Image.new("L", mask.size, 0)
    shifted.paste(mask, (dx, dy))
    return soft_blur(shifted, radius_px=max(dx, 4) * 1.2)



def paint(base: Image.Image, mask: Image.Image, color: RGB | Image.Image, *, opacity: float = 1.0) -> None:
    """Paint ``color`` (a colour or an RGB image) onto ``base`` through ``mask``, in place (only its bbox)."""
    box = mask.getbbox()
    if box is None:
        return
    m = scale_mask(mask.crop(box), opacity)
    if isinstance(color, Image.Image):
        base.paste(color.crop(box), box[:2], m)
    else:
        base.paste(color, box, m)


def glow(base: Image.Image, mask: Image.Image, color: RGB, *, radius_px: float, strength: float = 1.0) -> Image.Image:
    """Screen a blurred, coloured copy of ``mask`` over ``base`` (neon / light glow); returns the new image."""
    box = padded_bbox(mask, radius_px * 2.5)
    if box is None:
        return base
    crop = mask.crop(box)
    factor = max(1, min(4 if radius_px >= 8 else 2, crop.width // 2 or 1, crop.height // 2 or 1))
    small = (crop.reduce(factor) if factor > 1 else crop).filter(ImageFilter.GaussianBlur(radius_px / factor))
    if strength != 1.0:
        small = small.point(lambda v: min(255, int(v * strength)))
    tint = Image.new("RGB", small.size, color)
    light = ImageChops.multiply(Image.merge("RGB", (small, small, small)), tint)
    region = base.crop(box)
    base.paste(ImageChops.screen(region, light.resize(region.size, Image.BILINEAR)), box[:2])
    return base


def radial(size: tuple[int, int], *, cx: float, cy: float, radius_px: float, factor: int = 8) -> np.ndarray:
    """A low-res radial falloff field 1 at (cx, cy) -> 0 at ``radius_px``; shape (h/f, w/f)."""
    w, h = size[0] // factor, size[1] // factor
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.hypot(xx - cx / factor, yy - cy / factor) / max(radius_px / factor, 1e-3)
    return np.clip(1.0 - d, 0.0, 1.0)
