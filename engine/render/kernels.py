"""The render's compiled kernels (numba, cached on disk next to this file): the camera warp
(:mod:`engine.render.warp`) and the burned-in lyrics (:mod:`engine.render.burn`).

Both warp passes read and write whole contiguous rows of uint8 in 16-bit integer
arithmetic (weights of 256, each pass rounded to the nearest level), so LLVM
vectorises them 16 lanes wide and the transposed intermediate is a quarter of the
bytes of float32.  No ``fastmath``: the same
inputs give the same bytes on every run, which the render cache relies on.
"""
from __future__ import annotations

import numba
import numpy as np


WEIGHT_ONE = 256  # interpolation weights in 1/256 (positions to 1/256 pixel): integer blends, exact on every machine


@numba.njit(cache=True, nogil=True)
def taps(start: float, step: float, count: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """For source positions ``start + step * k``: the left/top sample index and the weight (of 256) of the next one.

    Positions outside the plane repeat its edge (like ``BORDER_REPLICATE``).
    """
    index = np.empty(count, np.int32)
    weight = np.empty(count, np.int32)
    for k in range(count):
        x = start + step * k
        if x <= 0.0:
            index[k] = 0
            weight[k] = 0
        elif x >= size - 1:
            index[k] = size - 2
            weight[k] = WEIGHT_ONE
        else:
            i = int(x)  # at most size - 2, so sample i + 1 exists (a weight rounded up to 256 is that sample)
            index[k] = i
            weight[k] = int((x - i) * WEIGHT_ONE + 0.5)
    return index, weight


@numba.njit(cache=True, nogil=True)
def blend_source_columns(plane_t: np.ndarray, index: np.ndarray, weight: np.ndarray, first_row: int,
                         out_t: np.ndarray) -> None:
    """Pass 1: row ``j`` of ``out_t`` (uint8) is source column ``index[j]`` blended with the next, rounded.

    ``plane_t`` is the plane transposed (its rows are the source columns).
    """
    rows = out_t.shape[1]
    for j in range(index.shape[0]):
        w1 = np.uint16(weight[j])
        w0 = np.uint16(WEIGHT_ONE - weight[j])
        a = plane_t[index[j], first_row:first_row + rows]
        b = plane_t[index[j] + 1, first_row:first_row + rows]
        o = out_t[j]
        for r in range(rows):
            o[r] = np.uint8((np.uint16(a[r]) * w0 + np.uint16(b[r]) * w1 + np.uint16(128)) >> np.uint16(8))


@numba.njit(cache=True, nogil=True)
def blend_rows(tmp: np.ndarray, index: np.ndarray, weight: np.ndarray, first_row: int, out: np.ndarray) -> None:
    """Pass 2: output row ``i`` is row ``index[i]`` of the column-blended picture (uint8) blended with the next.

    At most 255 x 256 + 128 < 2**16, so the products fit the 16-bit lanes.
    """
    for i in range(out.shape[0]):
        w1 = np.uint16(weight[i])
        w0 = np.uint16(WEIGHT_ONE - weight[i])
        a = tmp[index[i] - first_row]
        b = tmp[index[i] - first_row + 1]
        o = out[i]
        for j in range(out.shape[1]):
            o[j] = np.uint8((np.uint16(a[j]) * w0 + np.uint16(b[j]) * w1 + np.uint16(128)) >> np.uint16(8))


@numba.njit(cache=True, nogil=True)
def mix(a: np.ndarray, b: np.ndarray, weight_b: int, out: np.ndarray) -> None:
    """``out = a + (b - a) * weight_b / 256``, rounded (a whole-plane cross-fade)."""
    w1 = np.int32(weight_b)
    w0 = np.int32(WEIGHT_ONE) - w1
    for i in range(out.shape[0]):
        ra, rb, ro = a[i], b[i], out[i]
        for j in range(out.shape[1]):
            ro[j] = np.uint8((np.int32(ra[j]) * w0 + np.int32(rb[j]) * w1 + np.int32(128)) >> np.int32(8))


@numba.njit(cache=True, nogil=True)
def mix_columns(a: np.ndarray, b: np.ndarray, weight_b: np.ndarray, out: np.ndarray) -> None:
    """Like :func:`mix` with a weight (of 256) per column (a wipe)."""
    for i in range(out.shape[0]):
        ra, rb, ro = a[i], b[i], out[i]
        for j in range(out.shape[1]):
            w1 = weight_b[j]
            ro[j] = np.uint8((np.int32(ra[j]) * (np.int32(WEIGHT_ONE) - w1) + np.int32(rb[j]) * w1 + np.int32(128))
                             >> np.int32(8))


@numba.njit(cache=True, nogil=True)
def mix_radial(a: np.ndarray, b: np.ndarray, radius: np.ndarray, edge: float, soft: float, out: np.ndarray) -> None:
    """Like :func:`mix` with the weight of ``b`` rising from 0 to 1 as ``radius`` falls from ``edge`` to ``edge - soft``."""
    scale = np.float32(WEIGHT_ONE / soft)
    e = np.float32(edge)
    for i in range(out.shape[0]):
        ra, rb, rr, ro = a[i], b[i], radius[i], out[i]
        for j in range(out.shape[1]):
            w = (e - rr[j]) * scale
            w1 = np.int32(min(np.float32(WEIGHT_ONE), max(np.float32(0.0), w)) + np.float32(0.5))
            ro[j] = np.uint8((np.int32(ra[j]) * (np.int32(WEIGHT_ONE) - w1) + np.int32(rb[j]) * w1 + np.int32(128))
                             >> np.int32(8))


@numba.njit(cache=True, nogil=True)
def burn_line(y: np.ndarray, u: np.ndarray, v: np.ndarray, x0: int, y0: int, keep: np.ndarray, base: np.ndarray,
              fill: np.ndarray, sung_from: np.ndarray, keep_c: np.ndarray, base_u: np.ndarray, base_v: np.ndarray,
              now: int, colours: np.ndarray) -> None:
    """Blend one rasterised lyric line (:class:`engine.render.burn.LineRaster`) into the planes at ``now`` ms.

    A pixel becomes ``picture * keep + base + fill * colour``, the colour gold where ``now >= sung_from``, else
    white (``colours``: Y, U, V of white, then of gold); chroma pixels mix their four luma pixels' fills.
    The box is clipped to the planes. Branch-free over the whole box, so LLVM vectorises it (5x faster than
    skipping the pixels the line leaves alone): there ``keep`` is 1 and ``base`` and ``fill`` are 0, so the
    picture's value comes back exactly.
    """
    rows = min(keep.shape[0], y.shape[0] - y0)
    cols = min(keep.shape[1], y.shape[1] - x0)
    white, gold = colours[0], colours[3]
    half = np.float32(0.5)
    top = np.float32(255.0)
    for r in range(rows):
        py = y[y0 + r, x0:x0 + cols]
        kr, br, fr, sr = keep[r], base[r], fill[r], sung_from[r]
        for c in range(cols):
            colour = gold if now >= sr[c] else white
            value = np.float32(py[c]) * kr[c] + br[c] + fr[c] * colour
            py[c] = np.uint8(np.int32(min(value, top) + half))
    cy0, cx0 = y0 // 2, x0 // 2
    white_u, white_v, gold_u, gold_v = colours[1], colours[2], colours[4], colours[5]
    zero = np.float32(0.0)
    quarter = np.float32(0.25)
    for r in range(rows // 2):
        pu = u[cy0 + r, cx0:cx0 + cols // 2]
        pv = v[cy0 + r, cx0:cx0 + cols // 2]
        kc, bu, bv = keep_c[r], base_u[r], base_v[r]
        for c in range(cols // 2):
            fill_u = zero
            fill_v = zero
            for dr in range(2):  # the four luma pixels, in this order (the same float sums every run)
                fd, sd = fill[2 * r + dr], sung_from[2 * r + dr]
                for dc in range(2):
                    f = fd[2 * c + dc]
                    sung = now >= sd[2 * c + dc]
                    fill_u += f * (gold_u if sung else white_u)
                    fill_v += f * (gold_v if sung else white_v)
            k = kc[c]
            value_u = np.float32(pu[c]) * k + bu[c] + fill_u * quarter
            value_v = np.float32(pv[c]) * k + bv[c] + fill_v * quarter
            pu[c] = np.uint8(np.int32(min(max(value_u, zero), top) + half))
            pv[c] = np.uint8(np.int32(min(max(value_v, zero), top) + half))
