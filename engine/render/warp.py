"""The moving camera: sub-pixel zoom/pan of a raw yuv420p still, one output frame at a time.

A camera window (zoom, centre) is an axis-aligned affine map: output pixel ``(i, j)``
shows the source point ``(by + scale * i, bx + scale * j)``.  Bilinear interpolation of
such a map is *separable*, so each plane is warped in two vectorised passes compiled
with numba (:mod:`engine.render.kernels`; integer weights of 1/256, vectorised):

1. along the columns, on the still's transposed plane (computed once per chunk):
   every output column is a blend of two source columns, i.e. two contiguous rows of
   the transposed plane;
2. after one ``cv2.transpose``, along the rows: every output row is a blend of two rows.

That is exact bilinear interpolation (no whole-pixel rounding, unlike ``zoompan``;
finer than ``cv2.warpAffine``'s 1/32-pixel grid) at about a sixth of ``warpAffine``'s
cost, which evaluates both coordinates per pixel (0.5 ms against 3.4 ms for a 720p luma
plane; docs/benchmarks.md).  Frames are produced in planar 4:2:0 (1.5 bytes per pixel),
the encoder's own format, written straight into one contiguous frame buffer
(:class:`FrameRing`: no fresh, page-faulting buffer per frame) and piped to ffmpeg as
``rawvideo``.

The camera path is the one of :mod:`engine.render.timeline` (``camera_window``,
``clip_progress``, ``pulse_at``), a function of the *absolute* frame, so a move
that continues across chunks is seamless.
"""
from __future__ import annotations

import functools
import itertools
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from engine.errors import RenderError
from engine.render import crossfades
from engine.render.timeline import Chunk, TimedClip, camera_window, clip_progress, pulse_at

if TYPE_CHECKING:
    from engine.render.burn import Burner

log = logging.getLogger(__name__)

cv2.setNumThreads(1)  # one thread per chunk: the render already runs one chunk per core

# Chroma siting of yuv420p as ffmpeg writes it (MPEG-2 style): horizontally on the left
# luma sample, vertically between two luma rows; positions in luma pixels.
_CHROMA_OFFSET_X = 0.0
_CHROMA_OFFSET_Y = 0.5


@dataclass(frozen=True)
class Still:
    """A picture as three yuv420p planes of the output size."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @property
    def width(self) -> int:
        """Luma width in pixels."""
        return int(self.y.shape[1])

    @property
    def height(self) -> int:
        """Luma height in pixels."""
        return int(self.y.shape[0])

    @functools.cached_property
    def transposed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The three planes transposed (columns as rows), made on first use: the warp's first pass reads them."""
        return cv2.transpose(self.y), cv2.transpose(self.u), cv2.transpose(self.v)


Planes = tuple[np.ndarray, np.ndarray, np.ndarray]


def frame_bytes(width: int, height: int) -> int:
    """The size of one yuv420p frame."""
    return width * height + 2 * (width // 2) * (height // 2)


def frame_planes(frame: np.ndarray, *, width: int, height: int) -> Planes:
    """The Y, U and V planes of a contiguous yuv420p frame buffer, as writable views."""
    luma, chroma = width * height, (width // 2) * (height // 2)
    return (frame[:luma].reshape(height, width), frame[luma:luma + chroma].reshape(height // 2, width // 2),
            frame[luma + chroma:luma + 2 * chroma].reshape(height // 2, width // 2))


def load_still(path: Path, *, width: int, height: int) -> Still:
    """Read a raw yuv420p frame of ``width`` x ``height`` (as written by ``command.still_args``)."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size != frame_bytes(width, height):
        raise RenderError(f"raw still {path} has {raw.size} bytes, expected {frame_bytes(width, height)}")
    return Still(*frame_planes(raw, width=width, height=height))


def window_matrices(*, zoom: float, cx: float, cy: float, width: int,
                    height: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse affine maps (output pixel -> source pixel) for the luma and the chroma planes.

    The window of relative size ``1/zoom`` centred at (``cx``, ``cy``) (fractions of the
    picture) fills the output; pixel centres are mapped exactly, so the picture's point
    (cx, cy) lands on the output's centre.
    """
    scale = 1.0 / zoom
    left, top = width * (cx - 0.5 * scale), height * (cy - 0.5 * scale)
    bx, by = left + 0.5 * scale - 0.5, top + 0.5 * scale - 0.5  # source index of output pixel (0, 0)
    luma = np.array([[scale, 0.0, bx], [0.0, scale, by]], dtype=np.float64)
    # a chroma sample i sits at luma 2*i + offset in both pictures
    cbx = (bx + _CHROMA_OFFSET_X * (scale - 1.0)) / 2.0
    cby = (by + _CHROMA_OFFSET_Y * (scale - 1.0)) / 2.0
    chroma = np.array([[scale, 0.0, cbx], [0.0, scale, cby]], dtype=np.float64)
    return luma, chroma


_scratch = threading.local()


def _scratch_buffer(shape: tuple[int, int]) -> np.ndarray:
    """A C-contiguous uint8 work array reused by this thread (no fresh, page-faulting buffer every frame)."""
    size = shape[0] * shape[1]
    flat = getattr(_scratch, "flat", None)
    if flat is None or flat.size < size:
        flat = np.empty(size, np.uint8)
        _scratch.flat = flat
    return flat[:size].reshape(shape)


class FrameRing:
    """``slots`` reusable yuv420p frame buffers handed out in turn (see :func:`chunk_frames`).

    A buffer is written again ``slots`` frames later; the pipe writer decides how many it needs
    (:meth:`engine.render.ffmpeg.FeedPipes.ring_slots`), since it may still be reading one it was given.
    """

    def __init__(self, *, width: int, height: int, slots: int) -> None:
        size, count = frame_bytes(width, height), max(1, slots)
        block = np.empty(size * count, np.uint8)  # one block: numpy backs big ones with huge pages (cheaper to feed)
        self.frames = [block[k * size:(k + 1) * size] for k in range(count)]
        self.planes = [frame_planes(f, width=width, height=height) for f in self.frames]
        self.turn = 0

    def next(self) -> tuple[np.ndarray, Planes]:
        """The next buffer and its planes."""
        k = self.turn
        self.turn = (k + 1) % len(self.frames)
        return self.frames[k], self.planes[k]


def warp_plane(plane: np.ndarray, plane_t: np.ndarray, *, scale: float, bx: float, by: float,
               out: np.ndarray | None = None) -> np.ndarray:
    """Bilinear warp of one plane: output pixel (i, j) is the source point (``by + scale*i``, ``bx + scale*j``).

    ``plane_t`` is ``plane`` transposed.  Writes into ``out`` (C-contiguous uint8 of the same size) or a new plane,
    and returns it.
    """
    height, width = plane.shape
    if height < 2 or width < 2:
        raise RenderError(f"cannot warp a {width}x{height} plane")
    from engine.render import kernels  # imported on first use: numba costs ~0.6 s, and most workers never warp

    col_index, col_weight = kernels.taps(bx, scale, width, width)
    row_index, row_weight = kernels.taps(by, scale, height, height)
    first_row = int(row_index[0])
    rows = int(row_index[-1]) + 2 - first_row
    columns_t = _scratch_buffer((width, rows))
    kernels.blend_source_columns(plane_t, col_index, col_weight, first_row, columns_t)
    columns = cv2.transpose(columns_t)
    if out is None:
        out = np.empty((height, width), np.uint8)
    kernels.blend_rows(columns, row_index, row_weight, first_row, out)
    return out


def warm_up() -> None:
    """Load every compiled kernel a render uses (numba's on-disk cache: the warp, each transition, the lyrics),
    ~1.5 s the first time in a process, e.g. in a thread while the stills are made. Through the render's own
    calls, so each kernel is loaded for the argument types the render passes."""
    from engine.render import kernels

    tiny = np.zeros((4, 4), np.uint8)
    warp_plane(tiny, tiny, scale=0.9, bx=0.1, by=0.1)
    a, b = (frame_planes(np.zeros(frame_bytes(16, 16), np.uint8), width=16, height=16) for _ in range(2))
    out = frame_planes(np.zeros(frame_bytes(16, 16), np.uint8), width=16, height=16)
    for kind in crossfades.KINDS:
        crossfades.blend(kind, a, b, progress=0.5, out=out)
    luma, chroma = np.zeros((2, 2), np.float32), np.ones((1, 1), np.float32)
    kernels.burn_line(*out, 0, 0, luma, luma, luma, np.zeros((2, 2), np.int32), chroma, chroma, chroma, 0,
                      np.zeros(6, np.float32))


def warp_frame(still: Still, *, zoom: float, cx: float, cy: float, out: Planes | None = None) -> Planes:
    """One output frame (Y, U, V planes, each C-contiguous uint8) of the camera window over ``still``, into ``out``."""
    m_luma, m_chroma = window_matrices(zoom=zoom, cx=cx, cy=cy, width=still.width, height=still.height)
    y_t, u_t, v_t = still.transposed
    scale = float(m_luma[0, 0])
    oy, ou, ov = out if out is not None else (None, None, None)
    y = warp_plane(still.y, y_t, scale=scale, bx=float(m_luma[0, 2]), by=float(m_luma[1, 2]), out=oy)
    cbx, cby = float(m_chroma[0, 2]), float(m_chroma[1, 2])
    u = warp_plane(still.u, u_t, scale=scale, bx=cbx, by=cby, out=ou)
    v = warp_plane(still.v, v_t, scale=scale, bx=cbx, by=cby, out=ov)
    return y, u, v


def camera_frame(still: Still, tc: TimedClip, *, frame: int, fps: int, out: Planes | None = None) -> Planes:
    """The clip's camera window over ``still`` at absolute ``frame`` (Y, U, V planes), into ``out``."""
    zoom, cx, cy = camera_window(tc.motion, progress=clip_progress(tc, frame=frame),
                                 pulse=pulse_at(tc, frame=frame, fps=fps))
    return warp_frame(still, zoom=zoom, cx=cx, cy=cy, out=out)


def _frame_out(still: Still, ring: FrameRing | None) -> tuple[np.ndarray, Planes]:
    if ring is not None:
        return ring.next()
    frame = np.empty(frame_bytes(still.width, still.height), np.uint8)
    return frame, frame_planes(frame, width=still.width, height=still.height)


def clip_frames(still: Still, tc: TimedClip, *, start_frame: int, dur_frames: int, fps: int,
                ring: FrameRing | None = None, burner: Burner | None = None) -> Iterator[np.ndarray]:
    """Raw yuv420p frames (one contiguous uint8 buffer each) of a clip's moving camera from absolute ``start_frame``.

    With a ``ring`` the buffers are its slots (reused ``len(ring.frames)`` frames later), else new ones;
    ``burner`` draws the lyrics.
    """
    for frame in range(start_frame, start_frame + dur_frames):
        buf, planes = _frame_out(still, ring)
        camera_frame(still, tc, frame=frame, fps=fps, out=planes)
        if burner is not None:
            burner.burn(*planes, frame=frame)
        yield buf


def chunk_frames(chunk: Chunk, *, clips: tuple[TimedClip, ...], stills: list[Still], fps: int,
                 ring: FrameRing | None = None, burner: Burner | None = None) -> Iterator[np.ndarray]:
    """Raw yuv420p frames (contiguous buffers, see :func:`clip_frames`) of a chunk: its scene's camera, then the
    transition (if any).

    ``stills`` are the pictures of ``chunk.clip_indexes``, in that order; ``burner`` (if any) draws the lyrics.
    """
    first = clips[chunk.clip_indexes[0]]
    body = chunk.transition_offset_frames if chunk.transition else chunk.dur_frames
    yield from clip_frames(stills[0], first, start_frame=chunk.start_frame, dur_frames=body, fps=fps, ring=ring,
                           burner=burner)
    if not chunk.transition:
        return
    second = clips[chunk.clip_indexes[1]]
    size = frame_bytes(stills[0].width, stills[0].height)
    work = [frame_planes(np.empty(size, np.uint8), width=stills[0].width, height=stills[0].height) for _ in range(2)]
    for k in range(chunk.transition_frames):
        frame = chunk.start_frame + body + k
        buf, planes = _frame_out(stills[0], ring)
        crossfades.blend(chunk.transition, camera_frame(stills[0], first, frame=frame, fps=fps, out=work[0]),
                         camera_frame(stills[1], second, frame=frame, fps=fps, out=work[1]),
                         progress=crossfades.transition_progress(index=k, dur_frames=chunk.transition_frames), out=planes)
        if burner is not None:
            burner.burn(*planes, frame=frame)
        yield buf


def in_bursts(frames: Iterator[np.ndarray], *, burst: int) -> Iterator[np.ndarray]:
    """``frames``, drawn ``burst`` at a time before any is handed on.

    Fed one by one, the drawing waits on ffmpeg after every frame and starts each one with cold caches (it cost
    1.7-2.5x as much CPU beside a real encode); in bursts it runs warm (docs/render_speed.md, round 5). The frames
    must come from distinct buffers: a ring needs ``burst`` more slots.
    """
    while True:
        drawn = list(itertools.islice(frames, burst))
        if not drawn:
            return
        yield from drawn
