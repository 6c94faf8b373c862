"""The camera warp's compiled kernels (numba, cached on disk next to this file): see :mod:`engine.render.warp`.

Both blend passes read and write whole contiguous rows in float32, so LLVM
vectorises them (8 pixels per AVX2 instruction).  No ``fastmath``: the same
inputs give the same bytes on every run, which the render cache relies on.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def taps(start: float, step: float, count: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """For source positions ``start + step * k``: the left/top sample index and the weight of the next one.

    Positions outside the plane repeat its edge (like ``BORDER_REPLICATE``).
    """
    index = np.empty(count, np.int32)
    weight = np.empty(count, np.float32)
    for k in range(count):
        x = start + step * k
        if x <= 0.0:
            index[k] = 0
            weight[k] = 0.0
        elif x >= size - 1:
            index[k] = size - 2
            weight[k] = 1.0
        else:
            i = int(x)
            index[k] = i
            weight[k] = x - i
    return index, weight


@numba.njit(cache=True, nogil=True)
def blend_source_columns(plane_t: np.ndarray, index: np.ndarray, weight: np.ndarray, first_row: int,
                         out_t: np.ndarray) -> None:
    """Pass 1: row ``j`` of ``out_t`` is source column ``index[j]`` blended with the next (rows of ``plane_t``)."""
    rows = out_t.shape[1]
    for j in range(index.shape[0]):
        w1 = weight[j]
        w0 = np.float32(1.0) - w1
        a = plane_t[index[j], first_row:first_row + rows]
        b = plane_t[index[j] + 1, first_row:first_row + rows]
        o = out_t[j]
        for r in range(rows):
            o[r] = np.float32(a[r]) * w0 + np.float32(b[r]) * w1


@numba.njit(cache=True, nogil=True)
def blend_rows(tmp: np.ndarray, index: np.ndarray, weight: np.ndarray, first_row: int, out: np.ndarray) -> None:
    """Pass 2: output row ``i`` is row ``index[i]`` of the column-blended picture blended with the next one."""
    for i in range(out.shape[0]):
        w1 = weight[i]
        w0 = np.float32(1.0) - w1
        a = tmp[index[i] - first_row]
        b = tmp[index[i] - first_row + 1]
        o = out[i]
        for j in range(out.shape[1]):
            o[j] = np.uint8(np.int32(a[j] * w0 + b[j] * w1 + np.float32(0.5)))
