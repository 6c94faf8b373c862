"""The local illustrator's pictures drawn ahead of the draw step's loop, on both cores.

The draw loop stays what it is: scene by scene, in order, each picture written atomically (its fingerprint
inside) before prompts.json records it. When the illustrator is the local one (pure numpy + Pillow, no
continuity, no batch; :func:`draws_ahead`), :class:`DrawAhead` draws the pictures the loop will ask for (``draw_batch.pictures_to_draw``,
the loop's own rules) a few scenes ahead in a small thread pool: Pillow's drawing and PNG encoding and numpy
release the GIL, so two pictures are drawn at once. The loop takes each one (:meth:`DrawAhead.take`) when it
reaches its scene; a picture the loop wants that was not drawn ahead (another version or fingerprint) is
drawn by the loop itself. Every picture is drawn by the same function with the same arguments as in the loop
(``draw._draw_one``), so its bytes are the same as when drawn one by one.

At most :data:`AHEAD` pictures beyond the one the loop waits for are in flight, so a loop that stops (a Stop,
an error) leaves little work behind: a queued picture first checks for a Stop, and :meth:`DrawAhead.close`
cancels what has not started.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from engine.models import Cast, Prompts, Segments
from engine.steps.common import StepContext
from engine.steps.draw_batch import Wanted, pictures_to_draw

log = logging.getLogger(__name__)

DRAW_THREADS = 2  # the machine's two cores; more only adds memory (each picture is a few MB in flight)
AHEAD = DRAW_THREADS  # pictures submitted beyond the one the loop is waiting for

Drawn = tuple[bytes, dict[str, str]]


def draws_ahead(ctx: StepContext, *, continuity: bool, batch: bool) -> bool:
    """Whether the pictures are drawn ahead: the local illustrator itself (pure, free, never failing on a
    provider's whim), each picture independent of the others. Any other illustrator (Gemini, or one wrapping
    the local one) is asked one picture at a time, so a failure stops the step before the next call."""
    from engine.providers.local import LocalIllustrator

    return isinstance(ctx.provider.illustrator, LocalIllustrator) and not continuity and not batch


class DrawAhead:
    """Pictures of ``wanted`` (in the loop's order) drawn by ``draw(w)`` in a thread pool, a few ahead of the loop."""

    def __init__(self, wanted: list[Wanted], draw: Callable[[Wanted], Drawn], *, check_stop: Callable[[], None],
                 threads: int = DRAW_THREADS) -> None:
        self._wanted = wanted
        self._index = {(w.scene.id, w.version.version, w.want): i for i, w in enumerate(wanted)}
        self._draw = draw
        self._check_stop = check_stop
        self._futures: dict[int, Future[Drawn]] = {}
        self._next = 0  # the next index to submit
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="draw") if wanted else None
        if self._pool is not None:
            self._submit_up_to(AHEAD - 1)  # drawing starts while the loop passes the scenes that are up to date

    def _job(self, w: Wanted) -> Drawn:
        self._check_stop()
        return self._draw(w)

    def _submit_up_to(self, last: int) -> None:
        assert self._pool is not None
        while self._next <= min(last, len(self._wanted) - 1):
            self._futures[self._next] = self._pool.submit(self._job, self._wanted[self._next])
            self._next += 1

    def take(self, scene_id: str, version: int, want: str) -> Drawn | None:
        """The PNG bytes and metadata of this picture, drawn ahead (waits for it); None when it was not planned."""
        i = self._index.get((scene_id, version, want))
        if i is None or self._pool is None:
            return None
        self._submit_up_to(i + AHEAD)
        future = self._futures.pop(i, None)
        if future is None:  # taken before (cannot happen in one loop)
            return None
        return future.result()

    def close(self) -> None:
        """Cancel what has not started and let the threads go (a picture being drawn is finished and dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def start(ctx: StepContext, segments: Segments, prompts: Prompts, cast: Cast, references: dict[str, bytes], *,
          continuity: bool, batch: bool, threads: int = DRAW_THREADS) -> DrawAhead | None:
    """A :class:`DrawAhead` for the pictures this draw step will draw on ``threads`` (one when render chunks are
    encoded ahead beside it, which take the other core), or None when they are not drawn ahead."""
    if not draws_ahead(ctx, continuity=continuity, batch=batch):
        return None
    from engine.cast import CastPicture
    from engine.steps.draw import _draw_one, scene_cast

    def draw(w: Wanted) -> Drawn:
        pictures = [CastPicture(member=m, png=references.get(m.id, b"")) for m in scene_cast(cast, w.scene, w.version)]
        return _draw_one(ctx, w.scene, w.version, prompts, w.want, pictures)

    wanted = pictures_to_draw(ctx, segments, prompts, cast)
    log.debug("%d picture(s) drawn ahead on %d thread(s)", len(wanted), threads)
    return DrawAhead(wanted, draw, check_stop=ctx.check_stop, threads=threads)
