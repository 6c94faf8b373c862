"""Render a timeline to an MP4: cached per-segment encodes, joined without re-encoding, plus AAC audio.

Each segment (a scene body or a transition) is encoded by its own ffmpeg process
into ``cache_dir`` under its fingerprint (everything that affects its pixels,
the encoder settings and :data:`RENDER_VERSION`).  A re-render after one scene
changed re-encodes only the segments whose fingerprint changed and joins the
rest as they are, so its output is frame-identical to a fresh full render.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from engine.errors import CancelledError, RenderError
from engine.fingerprint import file_sha256, fingerprint
from engine.render import command
from engine.render.ffmpeg import FfmpegProcess, ffmpeg_path
from engine.render.subtitles import FONT_FAMILY, FONTS_DIR, ass_header, events_between, to_ass, to_lrc, to_srt
from engine.render.timeline import Segment, SubtitleLine, Timeline

log = logging.getLogger(__name__)

RENDER_VERSION = 1
ProgressFn = Callable[[float, "float | None"], None]


@dataclass(frozen=True)
class RenderResult:
    """What a render produced."""

    out_path: Path
    duration_ms: int
    width: int
    height: int
    segments_reused: int
    segments_encoded: int
    srt_path: Path | None
    lrc_path: Path | None
    fingerprint: str


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def segment_fingerprint(seg: Segment, *, timeline: Timeline, subtitles: list[SubtitleLine]) -> str:
    """Hash of everything that decides a segment's bytes: graph, pictures, subtitle events, encoder, version."""
    spec = timeline.spec
    fps = spec.fps
    graph = command.segment_graph(seg, timeline=timeline, ass_path=Path("SUBS") if subtitles else None,
                                  fonts_dir=Path("FONTS") if subtitles else None)
    subs: list[str] = []
    if subtitles:
        subs = [ass_header(width=spec.width, height=spec.height, font_family=FONT_FAMILY),
                *events_between(subtitles, start_ms=seg.start_frame * 1000 / fps, end_ms=seg.end_frame * 1000 / fps)]
    images = [timeline.clips[i].clip.image_sha256 for i in seg.clip_indexes]
    return fingerprint(RENDER_VERSION, "segment", graph, images, subs, command.video_encoder_args(spec),
                       seg.dur_frames, ffmpeg_path())


class _Progress:
    """Thread-safe frame counter over all segments; the caller's callback runs on the main thread only."""

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


def _encode_segment(seg: Segment, *, timeline: Timeline, target: Path, ass_path: Path | None,
                    procs: dict[str, FfmpegProcess], progress: _Progress, lock: threading.Lock,
                    stop_flag: threading.Event) -> None:
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp.mp4")
    args = command.segment_args(seg, timeline=timeline, out_path=tmp, ass_path=ass_path,
                                fonts_dir=FONTS_DIR if ass_path else None)
    proc = FfmpegProcess(args, on_frames=lambda n: progress.update(seg.name, n))
    with lock:  # registered under the lock, so a cancel either sees it or it sees the cancel
        if stop_flag.is_set():
            raise CancelledError("render cancelled")
        procs[seg.name] = proc
    try:
        proc.run(what=f"encoding {seg.name}")
        os.replace(tmp, target)
        progress.update(seg.name, seg.dur_frames)
    finally:
        tmp.unlink(missing_ok=True)
        with lock:
            procs.pop(seg.name, None)


def _encode_audio(audio_path: Path, *, target: Path, timeline: Timeline) -> None:
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp.m4a")
    try:
        FfmpegProcess(command.audio_args(audio_path, out_path=tmp, bitrate_k=timeline.spec.audio_bitrate_k,
                                         duration_ms=timeline.duration_ms)).run(what="encoding the audio")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def render_video(timeline: Timeline, *, audio_path: Path, subtitles: list[SubtitleLine], out_path: Path,
                 cache_dir: Path, progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
                 workers: int = 2) -> RenderResult:
    """Render ``timeline`` with the song to ``out_path`` (written atomically) plus ``.srt``/``.lrc`` next to it.

    ``progress(fraction, eta_s)`` is called on this thread; ``should_stop()`` true kills
    ffmpeg and raises CancelledError.  Segments are reused from ``cache_dir`` by fingerprint.
    """
    spec = timeline.spec
    for tc in timeline.clips:
        if not Path(tc.clip.image_path).is_file():
            raise RenderError(f"scene {tc.clip.scene_id}: picture {tc.clip.image_path} does not exist")
    if not Path(audio_path).is_file():
        raise RenderError(f"audio {audio_path} does not exist")
    cache_dir.mkdir(parents=True, exist_ok=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    burn = [s for s in subtitles if s.text.strip()] if spec.subtitles else []

    ass_path: Path | None = None
    if burn:
        ass_text = to_ass(burn, width=spec.width, height=spec.height, font_family=FONT_FAMILY)
        ass_path = cache_dir / f"subs_{fingerprint(ass_text)}.ass"
        if not ass_path.exists():
            _atomic_write_text(ass_path, ass_text)

    planned: list[tuple[Segment, Path, bool]] = []
    for seg in timeline.segments:
        target = cache_dir / f"seg_{segment_fingerprint(seg, timeline=timeline, subtitles=burn)}.mp4"
        planned.append((seg, target, target.is_file() and target.stat().st_size > 0))
    audio_fp = fingerprint(RENDER_VERSION, "audio", file_sha256(Path(audio_path)), spec.audio_bitrate_k,
                           timeline.duration_ms, ffmpeg_path())
    audio_m4a = cache_dir / f"audio_{audio_fp}.m4a"

    todo = [(seg, target) for seg, target, cached in planned if not cached]
    reused_frames = sum(seg.dur_frames for seg, _, cached in planned if cached)
    tracker = _Progress(total_frames=timeline.total_frames, done_frames=reused_frames, callback=progress)
    log.info("render %dx%d: %d segments, %d cached, %d to encode", spec.width, spec.height, len(planned),
             len(planned) - len(todo), len(todo))

    procs: dict[str, FfmpegProcess] = {}
    lock = threading.Lock()
    stop_flag = threading.Event()
    tracker.report()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures: list[Future[None]] = []
        if not audio_m4a.is_file():
            futures.append(pool.submit(_encode_audio, Path(audio_path), target=audio_m4a, timeline=timeline))
        # longest first keeps both workers busy to the end
        for seg, target in sorted(todo, key=lambda st: -st[0].dur_frames * len(st[0].clip_indexes)):
            futures.append(pool.submit(_encode_segment, seg, timeline=timeline, target=target, ass_path=ass_path,
                                       procs=procs, progress=tracker, lock=lock, stop_flag=stop_flag))
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
            stop_flag.set()
            for fut in futures:
                fut.cancel()
            with lock:
                running = list(procs.values())
            for proc in running:
                proc.kill()
            raise

    list_path = cache_dir / f".concat_{uuid.uuid4().hex[:8]}.txt"
    tmp_out = out_path.with_name(f".{out_path.stem}.{uuid.uuid4().hex[:8]}.tmp.mp4")
    try:
        list_path.write_text(command.concat_list([t for _, t, _ in planned]), encoding="utf-8")
        if should_stop is not None and should_stop():
            raise CancelledError("render cancelled")
        FfmpegProcess(command.mux_args(list_path=list_path, audio_m4a=audio_m4a, out_path=tmp_out)).run(
            what="joining segments")
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
    tracker.report(force=1.0)
    overall = fingerprint(RENDER_VERSION, [t.name for _, t, _ in planned], audio_fp)
    return RenderResult(out_path=out_path, duration_ms=timeline.duration_ms, width=spec.width, height=spec.height,
                        segments_reused=len(planned) - len(todo), segments_encoded=len(todo),
                        srt_path=srt_path, lrc_path=lrc_path, fingerprint=overall)

