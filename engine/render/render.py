"""Render a timeline to an MP4: cached per-chunk encodes, joined without re-encoding, plus AAC audio.

Each chunk (a stretch of a scene, maybe ending in the transition to the next) is encoded by its own ffmpeg process
into ``cache_dir`` under its fingerprint (everything that affects its pixels,
the encoder settings and :data:`RENDER_VERSION`).  A re-render after one scene
changed re-encodes only the chunks whose fingerprint changed and joins the
rest as they are, so its output is frame-identical to a fresh full render.

Before the chunks, each picture that a chunk to encode shows is decoded and
scaled once into a raw yuv420p "still" in ``cache_dir`` (see ``command.still_args``),
so no chunk decodes a PNG or scales anything.  A chunk's frames are warped from
its still(s) by :mod:`engine.render.warp` (transitions blended by :mod:`engine.render.crossfades`)
in a feeder thread and piped into its ffmpeg
(which only fades the very ends and encodes); the feeder also burns in the lyrics, in Python, over the
text's box only, in the chunks where a line shows (:mod:`engine.render.burn`).

The cache is pruned after every successful render (:func:`prune_cache`): a file
survives if the newest render of some output format (one small manifest per
width x height x preview, e.g. the newest final *and* the newest preview) uses
it, or if it was written or used in the last :data:`CACHE_KEEP_S` seconds.
"""
from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine import cluster
from engine.errors import CancelledError, RenderError
from engine.ffmpeg import ffmpeg_path
from engine.fingerprint import file_sha256, fingerprint
from engine.render import burn, command, remote, warp
from engine.render.ffmpeg import FeedPipes, FfmpegProcess
from engine.render.subtitles import lines_shown, to_lrc, to_srt
from engine.render.timeline import Chunk, RenderSpec, SubtitleLine, TimedClip, Timeline

log = logging.getLogger(__name__)

RENDER_VERSION = 9  # 2: OpenCV warp from raw stills; 3: transitions drawn in Python and folded into scene chunks, x264 me=dia, no deblock; 4: separable numba warp; 5: eased whole-picture mixes, chroma-aligned dissolve and blur; 6: x264 threads fixed (1 per chunk encode); 7: integer warp (1/256 px, uint16 intermediate), numba transitions, frames fed without a copy; 8: lyrics burned in Python (engine/render/burn.py), not by libass; 9: the warp's intermediate rounded to uint8 (a third less drawing, at most 1 level from exact bilinear)
FRAME_BURST_BYTES = 32 << 20  # frames drawn at a time before they are fed (4-16 frames: 16 at 720p, 10 at 1080p; warp.in_bursts)
CACHE_KEEP_S = 24 * 3600  # unused cache files younger than this survive pruning
# seg_: chunks cached before they were called chunks; subs_*.ass: the libass scripts of renders before version 7
_CACHE_PATTERNS = ("chunk_*.mp4", "seg_*.mp4", "still_*.yuv", "audio_*.m4a", "subs_*.ass", ".*.tmp*", ".concat_*.txt")
ProgressFn = Callable[[float, "float | None"], None]


@dataclass(frozen=True)
class RenderResult:
    """What a render produced."""

    out_path: Path
    duration_ms: int
    width: int
    height: int
    chunks_reused: int
    chunks_encoded: int
    srt_path: Path | None
    lrc_path: Path | None
    fingerprint: str


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def chunk_lines(chunk: Chunk, *, timeline: Timeline, subtitles: list[SubtitleLine]) -> list[SubtitleLine]:
    """The lines some frame of a chunk shows; none means the chunk burns no subtitles at all."""
    return lines_shown(subtitles, start_frame=chunk.start_frame, end_frame=chunk.end_frame, fps=timeline.spec.fps)


def chunk_fingerprint(chunk: Chunk, *, timeline: Timeline, subtitles: list[SubtitleLine]) -> str:
    """Hash of everything that decides a chunk's bytes: graph, pictures, the lines it shows, encoder, version."""
    spec = timeline.spec
    lines = chunk_lines(chunk, timeline=timeline, subtitles=subtitles) if subtitles else []
    graph = command.chunk_graph(chunk, timeline=timeline)
    subs = burn.burn_key(lines, burn.spec_style(spec)) if lines else []
    images = [timeline.clips[i].clip.image_sha256 for i in chunk.clip_indexes]
    cameras = [_camera_key(timeline.clips[i]) for i in chunk.clip_indexes]
    return fingerprint(RENDER_VERSION, "chunk", graph, images, cameras, chunk.start_frame, chunk.dur_frames,
                       chunk.transition, chunk.transition_offset_frames,
                       command.still_filters(spec), subs, command.video_encoder_args(spec), ffmpeg_path(),
                       cv2.__version__, _numba_version())


@functools.cache
def _numba_version() -> str:
    """The version of numba that compiles the warp kernels (read from the package metadata: no import)."""
    return importlib.metadata.version("numba")


def _warm_up_warp() -> None:
    try:
        warp.warm_up()
    except Exception as exc:  # noqa: BLE001 - the first real warp raises it again, as a RenderError
        log.warning("loading the warp kernels failed: %s", exc)


def _camera_key(tc: TimedClip) -> list[object]:
    """Everything the camera path of a clip depends on (the warp reads nothing else)."""
    m = tc.motion
    return [m.kind, m.zoom_from, m.zoom_to, m.cx_from, m.cx_to, m.cy_from, m.cy_to,
            tc.visible_start_frame, tc.visible_end_frame, list(tc.pulse_beat_frames)]


def still_name(image_sha256: str, *, timeline: Timeline) -> str:
    """File name of a picture's raw still for this output format (content + scaling + version)."""
    spec = timeline.spec
    return f"still_{fingerprint(RENDER_VERSION, 'still', image_sha256, command.still_filters(spec), ffmpeg_path())}.yuv"


def still_bytes(spec: RenderSpec) -> int:
    """The size of a complete raw still: one yuv420p frame of the output size."""
    return warp.frame_bytes(spec.width, spec.height)


def still_ready(still: Path, spec: RenderSpec) -> bool:
    """Whether ``still`` is there and complete (a still of another size is made again)."""
    return still.is_file() and still.stat().st_size == still_bytes(spec)


def manifest_name(timeline: Timeline) -> str:
    """Name of the manifest listing the cache files of the newest render of this output format."""
    spec = timeline.spec
    return f"manifest_{spec.width}x{spec.height}{'_preview' if spec.preview else ''}.txt"


def prune_cache(cache_dir: Path, *, keep_names: set[str], now_s: float | None = None,
                max_age_s: float = CACHE_KEEP_S) -> list[Path]:
    """Delete cache files that no manifest names, not in ``keep_names`` and untouched for ``max_age_s``.

    Manifests (``manifest_*.txt``, one per output format) list the files of the newest
    render of that format.  Returns the deleted paths.
    """
    now_s = time.time() if now_s is None else now_s
    keep = set(keep_names)
    for manifest in cache_dir.glob("manifest_*.txt"):
        try:
            keep.update(line.strip() for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip())
        except OSError:
            continue
    deleted: list[Path] = []
    for pattern in _CACHE_PATTERNS:
        for path in cache_dir.glob(pattern):
            try:
                if path.name in keep or not path.is_file() or now_s - path.stat().st_mtime < max_age_s:
                    continue
                path.unlink()
                deleted.append(path)
            except OSError as exc:  # a file vanishing under us is fine
                log.debug("cannot prune %s: %s", path, exc)
    if deleted:
        log.info("pruned %d old files from the render cache %s", len(deleted), cache_dir)
    return deleted


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


class _Progress:
    """Thread-safe frame counter over all chunks; the caller's callback runs on the main thread only."""

    def __init__(self, *, total_frames: int, done_frames: int, callback: ProgressFn | None) -> None:
        self.total = max(1, total_frames)
        self.reused = done_frames
        self.per_job: dict[str, int] = {}
        self.callback = callback
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.last_sent = -1.0

    def update(self, job: str, frames: int) -> None:
        with self.lock:
            self.per_job[job] = frames

    def report(self, *, final_share: float = 0.98, force: float | None = None) -> None:
        if self.callback is None:
            return
        with self.lock:
            encoded = sum(self.per_job.values())
        done = min(self.total, self.reused + encoded)
        fraction = force if force is not None else final_share * done / self.total
        elapsed = time.monotonic() - self.started
        eta: float | None = None
        if force is not None:
            eta = 0.0 if force >= 1.0 else None
        elif encoded > 0 and elapsed > 0:
            rate = encoded / elapsed
            eta = (self.total - done) / rate + 0.5
        if fraction != self.last_sent or force is not None:
            self.last_sent = fraction
            self.callback(fraction, eta)


class _Jobs:
    """The running ffmpeg processes of one render, so a cancel or a failure can kill them all."""

    def __init__(self) -> None:
        self.procs: dict[str, FfmpegProcess] = {}
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()

    def run(self, name: str, args: list[str], *, target: Path, tmp: Path, what: str,
            on_frames: Callable[[int], None] | None = None,
            feeds: tuple[FeedPipes, list[Iterable[memoryview | bytes | np.ndarray]]] | None = None) -> None:
        """Run ffmpeg writing ``tmp``, then move it to ``target`` (atomic); cleans up on any failure."""
        proc = FfmpegProcess(args, on_frames=on_frames, feeds=feeds)
        with self.lock:  # registered under the lock, so a cancel either sees it or it sees the cancel
            if self.stop_flag.is_set():
                if feeds is not None:
                    feeds[0].close_all()
                raise CancelledError("render cancelled")
            self.procs[name] = proc
        try:
            proc.run(what=what)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
            with self.lock:
                self.procs.pop(name, None)

    def kill_all(self) -> None:
        """Stop every running ffmpeg and refuse to start new ones."""
        self.stop_flag.set()
        with self.lock:
            running = list(self.procs.values())
        for proc in running:
            proc.kill()


def _make_still(image_path: Path, *, timeline: Timeline, target: Path, jobs: _Jobs) -> None:
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp.yuv")
    jobs.run(target.name, command.still_args(image_path, spec=timeline.spec, out_path=tmp), target=target, tmp=tmp,
             what=f"preparing the picture {Path(image_path).name}")
    size = target.stat().st_size
    expected = still_bytes(timeline.spec)
    if size != expected:
        target.unlink(missing_ok=True)
        raise RenderError(f"picture {image_path}: raw still has {size} bytes, expected {expected}")


def _encode_chunk(chunk: Chunk, *, timeline: Timeline, stills: list[Path], target: Path,
                  subtitles: list[SubtitleLine], jobs: _Jobs, progress: _Progress) -> None:
    """Encode one chunk to ``target``: its frames warped, blended and burned with the ``subtitles`` it shows."""
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp.mp4")
    spec = timeline.spec
    pictures = [warp.load_still(path, width=spec.width, height=spec.height) for path in stills]
    burner = burn.chunk_burner(subtitles, spec=spec, start_frame=chunk.start_frame, end_frame=chunk.end_frame)
    size = still_bytes(spec)
    burst = min(16, max(4, FRAME_BURST_BYTES // size))
    ring = warp.FrameRing(width=spec.width, height=spec.height, slots=FeedPipes.ring_slots(size) + burst)
    frames = warp.chunk_frames(chunk, clips=timeline.clips, stills=pictures, fps=spec.fps, ring=ring, burner=burner)
    sources = [warp.in_bursts(frames, burst=burst)]
    pipes = FeedPipes(len(sources))
    args = command.chunk_args(chunk, timeline=timeline, input_url=pipes.urls[0], out_path=tmp)
    jobs.run(chunk.name, args, target=target, tmp=tmp, what=f"encoding {chunk.name}",
             on_frames=lambda n: progress.update(chunk.name, n), feeds=(pipes, sources))
    progress.update(chunk.name, chunk.dur_frames)


def _wait_all(futures: list[Future[None]], *, jobs: _Jobs, tracker: _Progress,
              should_stop: Callable[[], bool] | None) -> None:
    """Wait for ``futures``, reporting progress; on the first failure or a stop, kill everything and raise."""
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
            for fut in done:
                fut.result()  # raises the first failure
            if should_stop is not None and should_stop():
                raise CancelledError("render cancelled")
            tracker.report()
    except BaseException:
        for fut in futures:
            fut.cancel()
        jobs.kill_all()
        raise


def _encode_audio(audio_path: Path, *, target: Path, timeline: Timeline) -> None:
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp.m4a")
    try:
        FfmpegProcess(command.audio_args(audio_path, out_path=tmp, bitrate_k=timeline.spec.audio_bitrate_k,
                                         duration_ms=timeline.duration_ms)).run(what="encoding the audio")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _adopt_or_encode_audio(audio_path: Path, *, target: Path, timeline: Timeline, ahead: Future[None] | None) -> None:
    """The song's AAC: wait for its encode ahead if one is running, and encode it if it did not appear."""
    if ahead is not None:
        wait([ahead])
    if not target.is_file():
        _encode_audio(audio_path, target=target, timeline=timeline)


def burned_lines(subtitles: list[SubtitleLine], *, spec: RenderSpec) -> list[SubtitleLine]:
    """The lines a render burns into the picture (none when the spec has subtitles off)."""
    return [s for s in subtitles if s.text.strip()] if spec.subtitles else []


def chunk_path(chunk: Chunk, *, timeline: Timeline, lines: list[SubtitleLine], cache_dir: Path) -> Path:
    """Where a chunk's encode lives in the render cache (named by :func:`chunk_fingerprint`)."""
    return cache_dir / f"chunk_{chunk_fingerprint(chunk, timeline=timeline, subtitles=lines)}.mp4"


def _audio_fingerprint(audio_path: Path, *, timeline: Timeline) -> str:
    return fingerprint(RENDER_VERSION, "audio", file_sha256(audio_path), timeline.spec.audio_bitrate_k,
                       timeline.duration_ms, ffmpeg_path())


def audio_path_in_cache(audio_path: Path, *, timeline: Timeline, cache_dir: Path) -> Path:
    """Where the render keeps the song's AAC encode for this timeline."""
    return cache_dir / f"audio_{_audio_fingerprint(audio_path, timeline=timeline)}.m4a"


class ChunkWriter:
    """Encodes single chunks of a timeline (and the stills they need) into the render cache.

    What it writes is exactly what :func:`render_video` would (same names, same bytes), so a render later
    finds it cached; used to encode ahead while the pictures are still being drawn (:mod:`engine.steps.encode_ahead`).
    :meth:`kill` stops its running ffmpeg processes (a shared ``jobs`` lets one kill reach several writers).
    """

    def __init__(self, timeline: Timeline, *, subtitles: list[SubtitleLine], cache_dir: Path,
                 jobs: _Jobs | None = None) -> None:
        self.timeline = timeline
        self.cache_dir = cache_dir
        self.burn = burned_lines(subtitles, spec=timeline.spec)
        self.jobs = jobs or _Jobs()
        cache_dir.mkdir(parents=True, exist_ok=True)

    def target(self, chunk: Chunk) -> Path:
        """The chunk's file in the cache."""
        return chunk_path(chunk, timeline=self.timeline, lines=self.burn, cache_dir=self.cache_dir)

    def encode(self, chunk: Chunk) -> bool:
        """Encode ``chunk`` into the cache unless it is there; True if it was encoded."""
        target = self.target(chunk)
        if target.is_file() and target.stat().st_size > 0:
            return False
        spec = self.timeline.spec
        stills = []
        for idx in chunk.clip_indexes:
            clip = self.timeline.clips[idx].clip
            still = self.cache_dir / still_name(clip.image_sha256, timeline=self.timeline)
            if not still_ready(still, spec):
                _make_still(Path(clip.image_path), timeline=self.timeline, target=still, jobs=self.jobs)
            stills.append(still)
        _encode_chunk(chunk, timeline=self.timeline, stills=stills, target=target, subtitles=self.burn, jobs=self.jobs,
                      progress=_Progress(total_frames=chunk.dur_frames, done_frames=0, callback=None))
        return True

    def encode_audio(self, audio_path: Path) -> bool:
        """Encode the song's AAC into the cache unless it is there; True if it was encoded."""
        target = audio_path_in_cache(audio_path, timeline=self.timeline, cache_dir=self.cache_dir)
        if target.is_file():
            return False
        _encode_audio(audio_path, target=target, timeline=self.timeline)
        return True

    def kill(self) -> None:
        """Stop every running ffmpeg of this writer and refuse to start new ones."""
        self.jobs.kill_all()


def render_video(timeline: Timeline, *, audio_path: Path, subtitles: list[SubtitleLine], out_path: Path,
                 cache_dir: Path, progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
                 workers: int = 2, in_flight: Mapping[Path, Future[None]] | None = None) -> RenderResult:
    """Render ``timeline`` with the song to ``out_path`` (written atomically) plus ``.srt``/``.lrc`` next to it.

    ``progress(fraction, eta_s)`` is called on this thread; ``should_stop()`` true kills
    ffmpeg and raises CancelledError.  Chunks are reused from ``cache_dir`` by fingerprint.
    ``in_flight``: cache files another thread of this process is writing (encoding ahead); the render waits
    for those (in one of its workers: the core is busy with that encode anyway) instead of encoding them again,
    and encodes one itself only if it did not appear.
    """
    spec = timeline.spec
    for tc in timeline.clips:
        if not Path(tc.clip.image_path).is_file():
            raise RenderError(f"scene {tc.clip.scene_id}: picture {tc.clip.image_path} does not exist")
    if not Path(audio_path).is_file():
        raise RenderError(f"audio {audio_path} does not exist")
    cache_dir.mkdir(parents=True, exist_ok=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    burn_lines = burned_lines(subtitles, spec=spec)

    planned: list[tuple[Chunk, Path, bool]] = []
    for chunk in timeline.chunks:
        target = chunk_path(chunk, timeline=timeline, lines=burn_lines, cache_dir=cache_dir)
        planned.append((chunk, target, target.is_file() and target.stat().st_size > 0))
    audio_fp = _audio_fingerprint(Path(audio_path), timeline=timeline)
    audio_m4a = cache_dir / f"audio_{audio_fp}.m4a"

    in_flight = in_flight or {}
    adopted = [(chunk, target) for chunk, target, cached in planned if not cached and target in in_flight]
    todo = [(chunk, target) for chunk, target, cached in planned if not cached and target not in in_flight]
    reused_frames = sum(chunk.dur_frames for chunk, _, cached in planned if cached)
    tracker = _Progress(total_frames=timeline.total_frames, done_frames=reused_frames, callback=progress)
    log.info("render %dx%d: %d chunks, %d cached, %d being encoded ahead, %d to encode", spec.width, spec.height,
             len(planned), len(planned) - len(todo) - len(adopted), len(adopted), len(todo))

    jobs = _Jobs()
    tracker.report()
    local_todo, encoded_remotely = todo, []
    if todo and cluster.configured():  # the chunks go to the cluster's workers (engine/render/remote.py)
        remote.encode_on_cluster(
            todo, timeline=timeline, image_of={tc.clip.image_sha256: Path(tc.clip.image_path) for tc in timeline.clips},
            still_of=lambda sha: still_name(sha, timeline=timeline),
            lines_of=lambda c: chunk_lines(c, timeline=timeline, subtitles=burn_lines),
            on_chunk_done=lambda c: (tracker.update(c.name, c.dur_frames), tracker.report()), should_stop=should_stop)
        local_todo, encoded_remotely = [], todo
    if local_todo:  # the warp kernels load while the pictures are prepared
        threading.Thread(target=_warm_up_warp, daemon=True, name="warp-warm-up").start()
    stills: dict[str, Path] = {}  # image sha256 -> raw still, for every picture a chunk to encode shows
    for chunk, _ in local_todo + adopted:  # an adopted chunk may have to be encoded here after all
        for idx in chunk.clip_indexes:
            clip = timeline.clips[idx].clip
            stills.setdefault(clip.image_sha256, cache_dir / still_name(clip.image_sha256, timeline=timeline))
    image_of = {tc.clip.image_sha256: Path(tc.clip.image_path) for tc in timeline.clips}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures: list[Future[None]] = []
        for sha, still in stills.items():
            if still_ready(still, spec):
                continue
            futures.append(pool.submit(_make_still, image_of[sha], timeline=timeline, target=still, jobs=jobs))
        _wait_all(futures, jobs=jobs, tracker=tracker, should_stop=should_stop)
        encoded_here: list[Path] = []

        def encode(chunk: Chunk, target: Path) -> None:
            encoded_here.append(target)
            _encode_chunk(chunk, timeline=timeline, stills=[stills[timeline.clips[i].clip.image_sha256]
                                                             for i in chunk.clip_indexes],
                          target=target, jobs=jobs, progress=tracker, subtitles=burn_lines)

        def adopt(chunk: Chunk, target: Path) -> None:
            wait([in_flight[target]])
            if target.is_file() and target.stat().st_size > 0:
                tracker.update(chunk.name, chunk.dur_frames)
            else:
                encode(chunk, target)

        futures = [pool.submit(adopt, chunk, target) for chunk, target in adopted]  # first: a worker waits, not a core
        if not audio_m4a.is_file():
            futures.append(pool.submit(_adopt_or_encode_audio, Path(audio_path), target=audio_m4a, timeline=timeline,
                                       ahead=in_flight.get(audio_m4a)))
        futures += [pool.submit(encode, chunk, target)  # longest first keeps both workers busy to the end
                    for chunk, target in sorted(local_todo, key=lambda st: -(st[0].dur_frames + 2 * st[0].transition_frames))]
        _wait_all(futures, jobs=jobs, tracker=tracker, should_stop=should_stop)

    list_path = cache_dir / f".concat_{uuid.uuid4().hex[:8]}.txt"
    tmp_out = out_path.with_name(f".{out_path.stem}.{uuid.uuid4().hex[:8]}.tmp.mp4")
    try:
        list_path.write_text(command.concat_list([t for _, t, _ in planned]), encoding="utf-8")
        if should_stop is not None and should_stop():
            raise CancelledError("render cancelled")
        FfmpegProcess(command.mux_args(list_path=list_path, audio_m4a=audio_m4a, out_path=tmp_out)).run(
            what="joining chunks")
        os.replace(tmp_out, out_path)
    finally:
        list_path.unlink(missing_ok=True)
        tmp_out.unlink(missing_ok=True)

    srt_path = lrc_path = None
    if subtitles:
        srt_path = out_path.with_suffix(".srt")
        lrc_path = out_path.with_suffix(".lrc")
        _atomic_write_text(srt_path, to_srt(subtitles))
        _atomic_write_text(lrc_path, to_lrc(subtitles))
    all_stills = {still_name(tc.clip.image_sha256, timeline=timeline) for tc in timeline.clips}
    used = {t.name for _, t, _ in planned} | {n for n in all_stills if (cache_dir / n).is_file()} | {audio_m4a.name}
    for name in used:
        _touch(cache_dir / name)
    _atomic_write_text(cache_dir / manifest_name(timeline), "\n".join(sorted(used)) + "\n")
    prune_cache(cache_dir, keep_names=used)
    tracker.report(force=1.0)
    overall = fingerprint(RENDER_VERSION, [t.name for _, t, _ in planned], audio_fp)
    return RenderResult(out_path=out_path, duration_ms=timeline.duration_ms, width=spec.width, height=spec.height,
                        chunks_reused=len(planned) - len(encoded_here) - len(encoded_remotely),
                        chunks_encoded=len(encoded_here) + len(encoded_remotely),
                        srt_path=srt_path, lrc_path=lrc_path, fingerprint=overall)

