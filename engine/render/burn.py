"""Burned-in lyrics drawn in Python, over the text's bounding box only, so each chunk's ffmpeg only encodes.

Each line is rasterised **once** (Pillow's FreeType, HarfBuzz shaping through raqm when Pillow has it; a
character the bundled font lacks in a system font that has it, found through fontconfig as libass finds one,
:mod:`engine.render.font_fallback`) in the look that :func:`engine.render.subtitles.ass_header` describes for
libass: the bundled bold font at libass's size, a black outline, a black shadow at 62% behind it, white text
that a karaoke sweep turns gold word by word (``\\kf``), centred between the margins of the frame's safe area
and wrapped like libass's ``WrapStyle: 0`` (lines of about equal width). From the three coverage masks
(shadow, outline, fill) it precomputes, at luma and at 4:2:0 chroma resolution, what the per-frame blend
needs: how much of the picture shows through, the premultiplied outline and shadow, the fill's coverage and,
per pixel, the millisecond from which the fill is gold. A frame then costs one small compiled loop over the
box (:func:`engine.render.kernels.burn_line`, no fastmath: the same input gives the same bytes).

Layers are composited as ffmpeg's ass filter does (shadow, then outline, then fill, each over the last;
chroma with the 2x2 mean of the luma coverage), in the colours the ASS script's ``YCbCr Matrix`` names.
The timing is the ASS script's (:func:`~engine.render.subtitles.event_times`,
:func:`~engine.render.subtitles.karaoke`) on libass's clock (:func:`~engine.render.subtitles.frame_time_ms`).
"""
from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from engine.fingerprint import file_sha256
from engine.render.font_fallback import PRIMARY, Face, faces_key, runs
from engine.render.subtitles import (FONT_FILE, SubtitleStyle, display_rows, event_times, frame_time_ms, karaoke,
                                     lines_shown, subtitle_style)
from engine.render.timeline import RenderSpec, SubtitleLine

log = logging.getLogger(__name__)

BURN_VERSION = 1  # bump when the burner draws other pixels from the same lines and style
# Drawn this many times larger, then averaged down: exact area coverage, as libass's own rasteriser gives (at
# 1x, FreeType's hinting thins and shifts the stems: 15 levels mean difference to libass at 720p, 5 at 4x).
_SUPERSAMPLE = 4
NEVER = np.iinfo(np.int32).max  # "sung from" of a pixel that never turns gold
_MATRICES = {"TV.601": (0.299, 0.114), "TV.709": (0.2126, 0.0722)}  # (Kr, Kb) of the ASS YCbCr matrices


def ycbcr(rgb: int, matrix: str) -> tuple[int, int, int]:
    """An 0xRRGGBB colour as limited-range 8-bit Y, Cb, Cr in ``matrix`` (an ASS ``YCbCr Matrix``: TV.601/TV.709)."""
    kr, kb = _MATRICES[matrix]
    r, g, b = ((rgb >> 16) & 255) / 255, ((rgb >> 8) & 255) / 255, (rgb & 255) / 255
    luma = kr * r + (1 - kr - kb) * g + kb * b
    cb, cr = (b - luma) / (2 * (1 - kb)), (r - luma) / (2 * (1 - kr))
    return round(16 + 219 * luma), round(128 + 224 * cb), round(128 + 224 * cr)


def layout_engine() -> ImageFont.Layout:
    """raqm (HarfBuzz shaping, FriBidi ordering: complex scripts and right-to-left text) if Pillow has it."""
    return ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


@functools.cache
def _font(size_px: float, face: Face = PRIMARY) -> tuple[ImageFont.FreeTypeFont, float]:
    """``face`` at libass's size ``size_px`` (its ascent + descent, not the em) and its ascent in pixels."""
    probe = ImageFont.truetype(str(face.path), 2048, index=face.index)
    asc, desc = probe.getmetrics()
    em = size_px * 2048 / (asc + desc)
    return (ImageFont.truetype(str(face.path), em, index=face.index, layout_engine=layout_engine()),
            size_px * asc / (asc + desc))


def _features(style: SubtitleStyle) -> list[str] | None:
    """The OpenType features to shape with: kerning off unless the style has it (raqm only)."""
    return None if style.kerning or layout_engine() != ImageFont.Layout.RAQM else ["-kern"]


class Typeset:
    """Text at one size in the bundled face, each character it lacks in a fallback face (:mod:`font_fallback`).

    Runs of one face are shaped, measured and drawn one after the other on the same baseline; text the bundled
    face covers is one run, drawn exactly as a single Pillow call would.
    """

    def __init__(self, size_px: float, features: list[str] | None = None) -> None:
        self.size_px = size_px
        self.features = features

    def font(self, face: Face = PRIMARY) -> ImageFont.FreeTypeFont:
        """``face`` at this size."""
        return _font(self.size_px, face)[0]

    def length(self, text: str) -> float:
        """The advance of ``text`` (where the next character would start)."""
        return sum(self.font(face).getlength(part, features=self.features) for face, part in runs(text))

    def extent(self, text: str) -> tuple[float, float]:
        """The ink's left and right edge of ``text`` drawn from pen position 0."""
        pen, left, right = 0.0, math.inf, -math.inf
        for face, part in runs(text):
            font = self.font(face)
            l, _, r, _ = font.getbbox(part, anchor="ls", features=self.features)
            left, right = min(left, pen + l), max(right, pen + r)
            pen += font.getlength(part, features=self.features)
        return (0.0, 0.0) if left > right else (float(left), float(right))

    def ink_width(self, text: str) -> float:
        """The width of ``text``'s ink."""
        left, right = self.extent(text)
        return right - left

    def draw(self, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, **options: object) -> None:
        """Draw ``text`` with its baseline's left end at ``xy`` (Pillow's ``text`` ``options``: fill, stroke)."""
        x, y = xy
        for face, part in runs(text):
            font = self.font(face)
            draw.text((x, y), part, font=font, anchor="ls", features=self.features, **options)  # type: ignore[arg-type]
            x += font.getlength(part, features=self.features)


def wrap(tokens: list[str], *, width_of: Callable[[str], float], max_width: float) -> list[list[str]]:
    """Words of one explicit line broken into rows that fit ``max_width``, balanced like libass's smart wrap.

    First greedily (a word that does not fit starts a row, a single word too wide stays alone); then, as libass,
    the last word of a row moves down while that makes the two rows' widths closer. ``width_of`` measures a row's ink.
    """
    rows: list[list[str]] = []
    for token in tokens:
        if rows and width_of(" ".join([*rows[-1], token])) <= max_width:
            rows[-1].append(token)
        else:
            rows.append([token])
    changed = True
    while changed:
        changed = False
        for k in range(len(rows) - 1):
            upper, lower = rows[k], rows[k + 1]
            if len(upper) < 2:
                continue
            before = abs(width_of(" ".join(upper)) - width_of(" ".join(lower)))
            after = abs(width_of(" ".join(upper[:-1])) - width_of(" ".join([upper[-1], *lower])))
            if after < before:
                rows[k], rows[k + 1] = upper[:-1], [upper[-1], *lower]
                changed = True
    return rows


@dataclass(frozen=True)
class LineRaster:
    """One line, ready to blend: a box at (``x0``, ``y0``) (even) of the frame and its per-pixel layers.

    Luma: ``keep`` (how much picture shows through with the fill drawn), ``base`` (outline and shadow,
    premultiplied), ``fill`` (fill coverage), ``sung_from`` (ms from which the fill is gold; :data:`NEVER`).
    Chroma (half size): ``keep_c``, ``base_u``, ``base_v``; the fill's chroma comes from the four luma pixels.
    ``colours``: Y, U, V of the unsung fill, then of the sung one.
    """

    x0: int
    y0: int
    keep: np.ndarray
    base: np.ndarray
    fill: np.ndarray
    sung_from: np.ndarray
    keep_c: np.ndarray
    base_u: np.ndarray
    base_v: np.ndarray
    start_ms: int
    end_ms: int
    colours: np.ndarray


def _tokens(line: SubtitleLine) -> list[tuple[list[str], list[int]]]:
    """The explicit lines of the text as words, each word with its karaoke syllable (-1 for a plain line)."""
    syllables = karaoke(line)
    if not syllables:
        return [(row.split(), [-1] * len(row.split())) for row in display_rows(line.text)]
    words, owner = [], []
    for i, syl in enumerate(syllables):
        for word in syl.text.split():
            words.append(word)
            owner.append(i)
    return [(words, owner)]


@functools.lru_cache(maxsize=64)
def rasterise(line: SubtitleLine, style: SubtitleStyle) -> LineRaster:
    """The line's layers in ``style`` (cached: a line is drawn once per process and style)."""
    width, height = style.width, style.height
    _, ascent_big = _font(style.font_size * _SUPERSAMPLE)  # all metrics from the faces drawn, in output pixels
    ascent = ascent_big / _SUPERSAMPLE
    big = Typeset(style.font_size * _SUPERSAMPLE, _features(style))

    def length(text: str) -> float:
        return big.length(text) / _SUPERSAMPLE

    line_h = float(style.font_size)
    max_width = width - style.margin_l - style.margin_r
    rows: list[tuple[list[str], list[int]]] = []  # the rows shown, each word with its syllable
    for words, owner in _tokens(line):
        k = 0
        for row in wrap(words, width_of=big.ink_width, max_width=max_width * _SUPERSAMPLE):
            rows.append((row, owner[k:k + len(row)]))
            k += len(row)
    block_h = line_h * len(rows)
    if style.alignment == 8:
        top = float(style.margin_v)
    elif style.alignment == 5:
        top = (height - block_h) / 2
    else:
        top = height - style.margin_v - block_h
    pad = int(math.ceil(style.outline + style.shadow)) + 2
    c_top = max(0, int(math.floor(top)) - pad) & ~1
    c_bottom = min(height, int(math.ceil(top + block_h)) + pad + 1)
    c_bottom += c_bottom & 1
    pens = [style.margin_l + (max_width - length(" ".join(row))) / 2 for row, _ in rows]
    c_left = max(0, int(math.floor(min(pens))) - pad - style.font_size) & ~1  # a glyph may start left of its pen
    c_right = min(width, int(math.ceil(max(p + length(" ".join(row)) for p, (row, _) in zip(pens, rows))))
                  + pad + style.font_size)
    c_right += c_right & 1
    canvas = ((c_right - c_left) * _SUPERSAMPLE, (c_bottom - c_top) * _SUPERSAMPLE)
    masks = {name: Image.new("L", canvas, 0) for name in ("fill", "outline", "shadow")}
    draws = {name: ImageDraw.Draw(img) for name, img in masks.items()}
    syllables = karaoke(line)
    spans: dict[tuple[int, int], list[float]] = {}  # (syllable, row) -> [x_start, x_end, y_top, y_bottom] (canvas)
    for r, ((row, owner), pen) in enumerate(zip(rows, pens)):
        text = " ".join(row)
        pen_x = pen - c_left
        base_y = top + r * line_h + ascent - c_top
        for name, dx, stroke in (("shadow", style.shadow, style.outline), ("outline", 0.0, style.outline),
                                 ("fill", 0.0, 0.0)):
            big.draw(draws[name], ((pen_x + dx) * _SUPERSAMPLE, (base_y + dx) * _SUPERSAMPLE), text, fill=255,
                     stroke_width=stroke * _SUPERSAMPLE, stroke_fill=255)
        offset = 0
        for word, syl in zip(row, owner):
            if syl >= 0:
                x = pen_x + length(text[:offset])
                left, right = (edge / _SUPERSAMPLE for edge in big.extent(word))
                x_end = x + right
                if syl < len(syllables) - 1:
                    x_end = max(x_end, x + length(word + " "))  # libass sweeps the space after a word too
                span = spans.setdefault((syl, r), [math.inf, -math.inf, base_y - ascent, base_y - ascent + line_h])
                span[0], span[1] = min(span[0], round(x + left)), max(span[1], round(x_end))
            offset += len(word) + 1
    fill, outline, shadow = (_coverage(masks[n]) for n in ("fill", "outline", "shadow"))
    shadow = shadow * ((255 - style.shadow_alpha) / 255.0)
    sung_from = np.full(fill.shape, NEVER, np.int64)
    columns = np.arange(c_left, c_right, dtype=np.float64)
    for (syl, _), (xs, xe, y_top, y_bottom) in spans.items():
        s = syllables[syl]
        xs, xe = xs + c_left, xe + c_left  # frame columns
        if xe > xs and s.end_ms > s.start_ms:  # the fill sweeps from left to right over the word's time
            share = np.clip((columns - xs + 0.5) / (xe - xs), 0.0, 1.0)
            at = np.ceil(s.start_ms + (s.end_ms - s.start_ms) * share).astype(np.int64)
        else:
            at = np.full(columns.size, s.start_ms, np.int64)
        lo, hi = max(0, int(math.floor(y_top))), min(fill.shape[0], int(math.ceil(y_bottom)))
        cols = slice(max(0, int(xs) - 2 - c_left), min(columns.size, int(xe) + 3 - c_left))
        band = sung_from[lo:hi, cols]
        band[:] = np.where(fill[lo:hi, cols] > 0, at[None, cols], band)
    # the box: every pixel any layer touches, on even coordinates (4:2:0)
    touched = (fill > 0) | (outline > 0) | (shadow > 0)
    ys, xs_ = np.nonzero(touched)
    if ys.size == 0:
        y0 = x0 = 0
        y1 = x1 = 2
    else:
        y0, y1 = int(ys.min()) & ~1, int(ys.max()) + 1
        x0, x1 = int(xs_.min()) & ~1, int(xs_.max()) + 1
        y1 += y1 & 1
        x1 += x1 & 1
    box = (slice(y0, y1), slice(x0, x1))
    fill, outline, shadow, sung_from = fill[box], outline[box], shadow[box], sung_from[box]

    white, gold = ycbcr(style.fill, style.matrix), ycbcr(style.sung, style.matrix)
    k_o, k_s = ycbcr(style.outline_colour, style.matrix), ycbcr(style.shadow_colour, style.matrix)

    def layers(f: np.ndarray, o: np.ndarray, s: np.ndarray, channel: int) -> tuple[np.ndarray, np.ndarray]:
        keep = (1 - s) * (1 - o) * (1 - f)
        base = (k_s[channel] * s * (1 - o) + k_o[channel] * o) * (1 - f)
        return keep, base

    def half(a: np.ndarray) -> np.ndarray:
        return (a[0::2, 0::2] + a[0::2, 1::2] + a[1::2, 0::2] + a[1::2, 1::2]) / 4

    keep, base = layers(fill, outline, shadow, 0)
    keep_c, base_u = layers(half(fill), half(outline), half(shadow), 1)
    _, base_v = layers(half(fill), half(outline), half(shadow), 2)
    start_ms, end_ms = event_times(line)
    f32 = functools.partial(np.ascontiguousarray, dtype=np.float32)
    return LineRaster(x0=x0 + c_left, y0=y0 + c_top, keep=f32(keep), base=f32(base), fill=f32(fill),
                      sung_from=np.ascontiguousarray(sung_from, dtype=np.int32), keep_c=f32(keep_c),
                      base_u=f32(base_u), base_v=f32(base_v), start_ms=start_ms, end_ms=end_ms,
                      colours=np.array([*white, *gold], np.float32))


def _coverage(mask: Image.Image) -> np.ndarray:
    """A supersampled 8-bit mask averaged down to output pixels, as coverage in [0, 1]."""
    big = np.asarray(mask, dtype=np.float32) * np.float32(1 / 255)
    size = (big.shape[1] // _SUPERSAMPLE, big.shape[0] // _SUPERSAMPLE)
    return cv2.resize(big, size, interpolation=cv2.INTER_AREA).astype(np.float64)


def burn_key(lines: Iterable[SubtitleLine], style: SubtitleStyle) -> list[object]:
    """Everything that decides the burned pixels of ``lines`` in ``style`` (for a chunk's fingerprint)."""
    lines = list(lines)
    return [BURN_VERSION, asdict(style), _font_identity(), layout_engine().name, faces_key([ln.text for ln in lines]),
            [[ln.text, ln.start_ms, ln.end_ms, [list(w) for w in ln.words]] for ln in lines]]


@functools.cache
def _font_identity() -> list[str]:
    """The font file's sha256 and the rasteriser's versions (Pillow, FreeType, raqm, HarfBuzz, FriBidi)."""
    import PIL

    return [file_sha256(FONT_FILE), PIL.__version__,
            *(str(features.version(name)) for name in ("freetype2", "raqm", "harfbuzz", "fribidi"))]


def rasteriser_version() -> str:
    """The versions that decide how a line is rasterised (a cluster worker must have the same)."""
    return " ".join(_font_identity()[1:])


class Burner:
    """Draws the lyric lines into frames, in place: ``burn(y, u, v, frame=n)`` for absolute frame ``n``."""

    def __init__(self, lines: Iterable[SubtitleLine], *, style: SubtitleStyle, fps: int) -> None:
        self.lines = list(lines)
        self.style = style
        self.fps = fps
        self._times = [event_times(ln) for ln in self.lines]
        from engine.render import kernels  # numba loads only where lyrics are burned (see warp.warp_plane)

        self._blend = kernels.burn_line

    def burn(self, y: np.ndarray, u: np.ndarray, v: np.ndarray, *, frame: int) -> None:
        """Blend every line that shows at ``frame`` into the planes (writable C-contiguous uint8), in order."""
        now = frame_time_ms(frame, self.fps)
        for line, (start_ms, end_ms) in zip(self.lines, self._times):
            if start_ms <= now < end_ms:
                r = rasterise(line, self.style)
                self._blend(y, u, v, r.x0, r.y0, r.keep, r.base, r.fill, r.sung_from, r.keep_c, r.base_u, r.base_v,
                            now, r.colours)


def chunk_burner(lines: Iterable[SubtitleLine], *, spec: RenderSpec, start_frame: int,
                 end_frame: int) -> Burner | None:
    """A burner of the lines that frames [``start_frame``, ``end_frame``) show, or None if they show none."""
    shown = lines_shown(lines, start_frame=start_frame, end_frame=end_frame, fps=spec.fps)
    if not shown:
        return None
    return Burner(shown, style=spec_style(spec), fps=spec.fps)


def spec_style(spec: RenderSpec) -> SubtitleStyle:
    """The subtitle style of a render's output format and settings."""
    return subtitle_style(width=spec.width, height=spec.height, size=spec.subtitle_size,
                          position=spec.subtitle_position)
