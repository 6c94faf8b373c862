"""Encode ahead: render chunks are encoded while the draw step is still drawing (issue 17).

The draw step makes the pictures in scene order.  Once a scene's picture and its
neighbour's are final, the render chunks that show only finished scenes are
known to the byte: the timeline (scene times, camera moves, transitions) does not
depend on the pictures, and a chunk's cache name is the fingerprint of everything
its bytes depend on (:func:`engine.render.render.chunk_fingerprint`).  So a
background thread encodes them (and their stills, and the song's AAC) into the
render cache, on the core the drawing leaves free, and the render step later
finds them cached.

Nothing here is a step's output or state: the machine's order on disk is the
draw step's alone.  Every file is written atomically under its content name, so
a kill mid-draw leaves finished chunks (reused on resume) and temp files (removed
by the next run).  Ahead-encoding is an optimisation only: if it is off, fails or
is cut short, the render step encodes what is missing, with the same bytes.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from engine.config import get_settings
from engine.render.render import ChunkWriter, _Jobs, audio_path_in_cache
from engine.steps.common import StepContext

log = logging.getLogger(__name__)


_IN_FLIGHT: dict[Path, Future[None]] = {}  # cache file -> its running ahead encode, handed over to the render
_IN_FLIGHT_LOCK = threading.Lock()


def in_flight() -> dict[Path, Future[None]]:
    """The chunk files of this process still being encoded ahead (the render step waits for them, see render_video)."""
    with _IN_FLIGHT_LOCK:
        return {path: fut for path, fut in _IN_FLIGHT.items() if not fut.done()}


def _hand_over(path: Path, fut: Future[None]) -> None:
    with _IN_FLIGHT_LOCK:
        _IN_FLIGHT[path] = fut

    def forget(done: Future[None]) -> None:
        with _IN_FLIGHT_LOCK:
            if _IN_FLIGHT.get(path) is done:
                del _IN_FLIGHT[path]

    fut.add_done_callback(forget)


class EncodeAhead:
    """Queues the chunks of finished scenes on ``workers`` threads; use as a context manager around the drawing.

    ``ready(n)`` says the first ``n`` scenes (in segments.json order) have their final picture.  Leaving the
    block normally drops the queued chunks (the render does those with every core) and hands the running ones
    over to the render step (:func:`in_flight`), which waits for them rather than encoding them again; leaving
    on an error or a stop kills the running ffmpegs and waits for the threads.
    """

    def __init__(self, ctx: StepContext, *, workers: int = 1) -> None:
        self.ctx = ctx
        self.jobs = _Jobs()
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="encode-ahead")
        self.queued: set[str] = set()  # chunk file names already handed to the pool
        self.futures: list[tuple[Path, Future[None]]] = []  # (the cache file it writes, its work)
        self.audio_queued = False
        self.closing = threading.Event()  # no more chunks are queued
        self.killed = threading.Event()  # nothing more starts, and errors are expected (ffmpeg killed)
        self.encoded = 0  # chunks (and the audio) actually encoded, for the log and the tests

    def __enter__(self) -> "EncodeAhead":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(kill=exc_type is not None)

    def ready(self, scenes_done: int) -> None:
        """The first ``scenes_done`` scenes are final: queue every chunk (and the audio) that shows only those."""
        if scenes_done <= 0 or self.closing.is_set():
            return
        from engine.steps import render as render_step  # its inputs, defined once there (it imports this module)

        try:
            clips, subtitles, spec, duration_ms = render_step.build_inputs(self.ctx, missing_ok=True)
            timeline = render_step.plan_timeline(self.ctx, clips, spec=spec, duration_ms=duration_ms)
        except Exception as exc:  # noqa: BLE001 - never the draw step's failure: the render step will tell
            log.debug("encode ahead: no timeline yet (%s)", exc)
            return
        order = {scene.id: i for i, scene in enumerate(self.ctx.require_segments().scenes)}
        writer = ChunkWriter(timeline, subtitles=subtitles, cache_dir=self.ctx.folder.render_cache_dir, jobs=self.jobs)
        if not self.audio_queued:
            self.audio_queued = True
            audio = audio_path_in_cache(self.ctx.folder.track_wav, timeline=timeline, cache_dir=writer.cache_dir)
            self._submit(lambda: writer.encode_audio(self.ctx.folder.track_wav), "the audio", audio)
        for chunk in timeline.chunks:
            clips_of = [timeline.clips[i].clip for i in chunk.clip_indexes]
            if any(not c.image_sha256 or order.get(c.scene_id, scenes_done) >= scenes_done for c in clips_of):
                continue
            target = writer.target(chunk)
            if target.name in self.queued:
                continue
            self.queued.add(target.name)
            self._submit(lambda chunk=chunk: writer.encode(chunk), chunk.name, target)

    def _submit(self, work: Callable[[], bool], what: str, target: Path) -> None:
        def run() -> None:
            if self.killed.is_set():
                return
            try:
                if work():
                    self.encoded += 1
                    log.debug("encoded %s ahead", what)
            except Exception as exc:  # noqa: BLE001 - the render step encodes it again and reports its failure
                if not self.killed.is_set():
                    log.warning("encoding %s ahead failed (the render will do it): %s", what, exc)

        self.futures.append((target, self.pool.submit(run)))

    def close(self, *, kill: bool = False) -> None:
        """Drop the queued work; hand the running encodes over to the render, or kill them and wait."""
        self.closing.set()
        if kill:
            self.killed.set()
        for target, fut in self.futures:
            if not kill and not fut.cancel() and not fut.done():
                _hand_over(target, fut)
        if kill:
            self.jobs.kill_all()
        self.pool.shutdown(wait=kill, cancel_futures=True)
        log.info("%s: encoding ahead while drawing: %d pieces encoded, %d handed over to the render",
                 self.ctx.folder.id, self.encoded, sum(1 for _, f in self.futures if not f.done()))


class NoEncodeAhead:
    """The stand-in when ahead-encoding does not apply (no render follows, or it is switched off)."""

    encoded = 0

    def __enter__(self) -> "NoEncodeAhead":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def ready(self, scenes_done: int) -> None:
        """Nothing to do."""


def encode_ahead(ctx: StepContext) -> EncodeAhead | NoEncodeAhead:
    """The ahead-encoder for a draw step, when the run renders next and ``STORYBEAT_ENCODE_AHEAD`` allows it.

    ``auto`` (the default): with a remote illustrator only, which waits on the network while a core is free;
    the local illustrator keeps a core busy itself, and encoding beside it showed no gain (docs/render_speed.md).
    ``on``: always (one encode at a time beside the local illustrator, as many as the render uses beside a remote
    one); ``off``: never.
    """
    mode = get_settings().encode_ahead
    local = ctx.provider.illustrator.name == "local"
    if not ctx.renders_next or mode == "off" or (mode == "auto" and local):
        return NoEncodeAhead()
    return EncodeAhead(ctx, workers=1 if local else get_settings().render_workers)
