"""Transitions drawn in Python on yuv420p planes, so a chunk's ffmpeg only fades the ends and burns subtitles.

ffmpeg's ``xfade`` evaluates its transitions per pixel in plain C (about 25 ms per
720p frame, and it slows every frame of a chunk it sits in, not just the
transition's); these use small numba kernels (:mod:`engine.render.kernels`, integer
weights of 1/256) and OpenCV whole-plane operations instead, written into the frame
buffer.  The names are the ``xfade`` names the timeline picks.

``progress`` runs from 0 (all the outgoing picture ``a``) to 1 (all the incoming ``b``).
Blends of two whole pictures follow a steep S-curve (:func:`eased`), so a double exposure of two
unrelated pictures lasts a few frames, not half the transition; every transition moves the chroma
planes with their luma (same edge, same blur, same 2x2 block), so no coloured strip or speckle
appears where the two pictures meet.
"""
from __future__ import annotations

import functools
import logging
import math

import cv2
import numpy as np

from engine.errors import RenderError

log = logging.getLogger(__name__)

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]
KINDS = ("fade", "fadeblack", "dissolve", "smoothleft", "wipeleft", "circleopen", "slideleft", "zoomin", "hblur")
_BLACK = (16, 128, 128)  # limited-range yuv black, per plane


def transition_progress(*, index: int, dur_frames: int) -> float:
    """Progress (0..1, exclusive) of transition frame ``index`` of ``dur_frames``: symmetric about the middle."""
    return (index + 0.5) / dur_frames


GHOST_STEEPNESS = 9.0  # of the S-curve: the mix is between 25% and 75% for about a sixth of the transition


def eased(p: float, *, steepness: float = GHOST_STEEPNESS) -> float:
    """The weight of the incoming picture in a whole-picture mix at progress ``p``: a steep, symmetric S-curve (0 -> 0, 1 -> 1)."""
    half = math.tanh(steepness / 2.0)
    return 0.5 + 0.5 * math.tanh(steepness * (p - 0.5)) / half


def _kernels():  # type: ignore[no-untyped-def]
    from engine.render import kernels  # on first use: numba costs ~0.6 s to import

    return kernels


def _weight(w: float) -> int:
    """A weight (0..1) in the kernels' 1/256 steps."""
    return int(round(min(1.0, max(0.0, w)) * _kernels().WEIGHT_ONE))


def _mix(a: np.ndarray, b: np.ndarray, weight_b: float, out: np.ndarray) -> np.ndarray:
    _kernels().mix(a, b, _weight(weight_b), out)
    return out


@functools.cache
def _noise(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(12345).random((height, width), dtype=np.float32)


@functools.cache
def _radius(height: int, width: int) -> np.ndarray:
    """Distance of each pixel from the centre, as a fraction of the half diagonal."""
    ys = (np.arange(height, dtype=np.float32) + 0.5 - height / 2) / (height / 2)
    xs = (np.arange(width, dtype=np.float32) + 0.5 - width / 2) / (width / 2)
    return np.sqrt((xs[None, :] ** 2 * width ** 2 + ys[:, None] ** 2 * height ** 2) / (width ** 2 + height ** 2))


def _plane(kind: str, a: np.ndarray, b: np.ndarray, *, p: float, black: int, chroma: bool, out: np.ndarray) -> np.ndarray:
    h, w = a.shape
    if kind == "fade":
        return _mix(a, b, eased(p), out)
    if kind == "fadeblack":
        dark = np.full_like(a, black)
        return _mix(a, dark, p * 2.0, out) if p < 0.5 else _mix(dark, b, p * 2.0 - 1.0, out)
    if kind == "dissolve":  # in 2x2 luma blocks, each switching with its chroma sample (no colour speckle)
        noise = _noise((h + 1) // 2 if not chroma else h, (w + 1) // 2 if not chroma else w)
        if not chroma:
            noise = np.repeat(np.repeat(noise, 2, axis=0), 2, axis=1)[:h, :w]
        np.copyto(out, np.where(noise < p, b, a))
        return out
    if kind in ("wipeleft", "smoothleft"):
        soft = 0.002 if kind == "wipeleft" else 0.2  # width of the edge, fraction of the picture
        x = (np.arange(w, dtype=np.float32) + 0.5) / w
        edge = 1.0 - p * (1.0 + soft)  # moves from the right edge to past the left one
        weights = np.rint(np.clip((x - edge) / soft, 0.0, 1.0) * _kernels().WEIGHT_ONE).astype(np.int32)
        _kernels().mix_columns(a, b, weights, out)
        return out
    if kind == "circleopen":
        soft = 0.04
        _kernels().mix_radial(a, b, _radius(h, w), p * (1.0 + soft), soft, out)
        return out
    if kind == "slideleft":
        shift = int(round(p * w)) if chroma else 2 * int(round(p * w / 2))  # luma moves twice the chroma
        out[:, :w - shift] = a[:, shift:]
        out[:, w - shift:] = b[:, :shift]
        return out
    if kind == "zoomin":
        zoom = 1.0 + 0.5 * p
        m = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), 0.0, zoom)
        grown = cv2.warpAffine(a, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return _mix(grown, b, eased(p), out)
    if kind == "hblur":
        k = 1 + 2 * int(round(math.sin(math.pi * p) * w * 0.02))  # the same share of each plane's width: chroma with luma
        if k <= 1:
            return _mix(a, b, eased(p), out)
        mixed = _mix(a, b, eased(p), np.empty_like(out))
        cv2.blur(mixed, (k, 1), dst=out)
        return out
    raise RenderError(f"unknown transition {kind!r}")


def blend(kind: str, a: Planes, b: Planes, *, progress: float, out: Planes | None = None) -> Planes:
    """One frame of transition ``kind`` from frame ``a`` to frame ``b`` (Y, U, V planes, C-contiguous uint8).

    Written into ``out`` (three C-contiguous planes of the same shapes) when given, else into new planes.
    """
    p = min(1.0, max(0.0, float(progress)))
    targets = out if out is not None else tuple(np.empty_like(pa) for pa in a)
    return tuple(_plane(kind, pa, pb, p=p, black=blk, chroma=k > 0, out=o)  # type: ignore[return-value]
                 for k, (pa, pb, blk, o) in enumerate(zip(a, b, _BLACK, targets)))
