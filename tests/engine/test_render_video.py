"""Real renders with the bundled ffmpeg: format, duration, faststart, subtitles drawn, smooth motion,
incremental re-render, failures and cancel.  Small sizes keep the whole file to a few seconds per test."""
from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.audio.sample import write_wav
from engine.errors import CancelledError, RenderError
from engine.fingerprint import file_sha256
from engine.ffmpeg import ffmpeg_path
from engine.render.ffmpeg import probe
from engine.render.render import render_video
from engine.render.timeline import Clip, Motion, RenderSpec, SubtitleLine, build_timeline, camera_window, clip_progress
from tests.engine.media import count_video_frames, top_level_atoms

pytestmark = pytest.mark.slow  # ffmpeg renders end to end

W, H, FPS = 320, 180, 30


def _texture(path: Path, *, seed: int, size: tuple[int, int] = (480, 300)) -> Path:
    """A smooth random texture (low-pass noise): good for tracking, nothing like a flat test card."""
    rng = np.random.default_rng(seed)
    small = (rng.random((size[1] // 12, size[0] // 12, 3)) * 255).astype(np.uint8)
    Image.fromarray(small).resize(size, Image.BICUBIC).save(path)
    return path


def _wav(path: Path, *, seconds: float, sample_rate: int = 22050) -> Path:
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    return write_wav(path, 0.3 * np.sin(2 * np.pi * 220 * t), sample_rate)


def _clips(tmp: Path, *, n: int = 3, scene_ms: int = 2000, energy: float = 0.8) -> list[Clip]:
    clips = []
    for i in range(n):
        img = _texture(tmp / f"seg_{i:03d}_v1.png", seed=i)
        clips.append(Clip(scene_id=f"seg_{i:03d}", image_path=img, image_sha256=file_sha256(img),
                          start_ms=i * scene_ms, end_ms=(i + 1) * scene_ms, mood="happy", energy=energy,
                          beats_ms=tuple(range(i * scene_ms, (i + 1) * scene_ms, 500))))
    return clips


def _frames(path: Path, *, width: int = W, height: int = H) -> np.ndarray:
    """All frames decoded as luma, shape (n, height, width), float."""
    raw = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "rawvideo",
                          "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width).astype(np.float64)


def _frame_hashes(path: Path) -> list[str]:
    raw = _frames(path)
    return [hashlib.md5(f.tobytes()).hexdigest() for f in raw]


SUBS = [SubtitleLine("Hello bright world", 300, 2600, (("Hello", 300, 900), ("bright", 900, 1500), ("world", 1500, 2400))),
        SubtitleLine("second line here", 3000, 5500)]


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("song")
    return {"tmp": tmp, "clips": _clips(tmp), "audio": _wav(tmp / "track.wav", seconds=6.0)}


@pytest.fixture(scope="module")
def full_render(song: dict) -> dict:
    spec = RenderSpec(width=W, height=H, fps=FPS, preset="ultrafast", crf=23)
    tl = build_timeline(song["clips"], duration_ms=6000, spec=spec, seed=7)
    calls: list[tuple[float, float | None]] = []
    out = song["tmp"] / "renders" / "final_v1.mp4"
    res = render_video(tl, audio_path=song["audio"], subtitles=SUBS, out_path=out,
                       cache_dir=song["tmp"] / "it's a:cache", progress=lambda f, e: calls.append((f, e)))
    return {"timeline": tl, "result": res, "calls": calls, "spec": spec}


def test_output_format_duration_and_faststart(full_render: dict) -> None:
    res = full_render["result"]
    info = probe(res.out_path)
    assert (info.video_codec, info.pix_fmt, info.audio_codec) == ("h264", "yuv420p", "aac")
    assert (info.width, info.height, info.fps) == (W, H, FPS)
    assert abs(info.duration_ms - 6000) <= 1000 / FPS
    assert count_video_frames(res.out_path) == full_render["timeline"].total_frames == 180
    atoms = top_level_atoms(res.out_path)
    assert atoms.index("moov") < atoms.index("mdat")
    assert res.chunks_encoded == len(full_render["timeline"].chunks) and res.chunks_reused == 0
    assert not list(res.out_path.parent.glob(".*tmp*"))  # atomic: no temp files left


def test_srt_and_lrc_written_next_to_video(full_render: dict) -> None:
    res = full_render["result"]
    assert res.srt_path == res.out_path.with_suffix(".srt") and res.srt_path.read_text().startswith("1\n00:00:00,300")
    assert res.lrc_path == res.out_path.with_suffix(".lrc") and "<00:00.90>bright" in res.lrc_path.read_text()


def test_progress_is_monotonic_and_ends_at_one(full_render: dict) -> None:
    calls = full_render["calls"]
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and calls[-1][1] == 0.0
    assert all(0.0 <= f <= 1.0 for f in fractions)


def test_subtitles_are_really_drawn(song: dict, full_render: dict) -> None:
    spec = replace(full_render["spec"], subtitles=False)
    tl = build_timeline(song["clips"], duration_ms=6000, spec=spec, seed=7)
    res = render_video(tl, audio_path=song["audio"], subtitles=SUBS, out_path=song["tmp"] / "nosubs.mp4",
                       cache_dir=song["tmp"] / "cache2")
    with_subs, without = _frames(full_render["result"].out_path), _frames(res.out_path)
    for frame in (45, 120):  # 1.5 s (karaoke line) and 4.0 s (plain line)
        bottom = np.abs(with_subs[frame, int(H * 0.7):] - without[frame, int(H * 0.7):])
        top = np.abs(with_subs[frame, : int(H * 0.5)] - without[frame, : int(H * 0.5)])
        assert (bottom > 60).sum() > 150, "no text drawn at the bottom"
        assert (top > 60).sum() < 10  # only coding noise away from the text
    # between the lines nothing is drawn
    assert (np.abs(with_subs[85] - without[85]) > 60).sum() < 10


def _shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Sub-pixel (dx, dy) by which ``b`` is ``a`` moved: a global Lucas-Kanade least-squares step.

    Accurate for shifts of about a pixel on a smooth texture (unlike whitened phase
    correlation with a parabolic peak fit, which is biased towards whole pixels).
    """
    gy_a, gx_a = np.gradient(a)
    gy_b, gx_b = np.gradient(b)
    gx, gy, it = (gx_a + gx_b) / 2, (gy_a + gy_b) / 2, b - a
    m = np.array([[np.sum(gx * gx), np.sum(gx * gy)], [np.sum(gx * gy), np.sum(gy * gy)]])
    rhs = -np.array([np.sum(gx * it), np.sum(gy * it)])
    dx, dy = np.linalg.solve(m, rhs)
    return float(dx), float(dy)


def _wobble(frames: np.ndarray, ideal_dx: np.ndarray) -> float:
    """RMS deviation (px) of the measured frame-to-frame shift from the ideal camera path's."""
    crop = frames[:, 20:-20, 30:-30]
    steps = np.array([_shift(crop[i], crop[i + 1])[0] for i in range(len(crop) - 1)])
    return float(np.sqrt(np.mean((steps - ideal_dx) ** 2)))


def test_pan_is_smooth_unlike_naive_zoompan(tmp_path: Path) -> None:
    img = _texture(tmp_path / "tex.png", seed=42, size=(W, H))
    spec = RenderSpec(width=W, height=H, fps=FPS, preset="ultrafast", crf=12, subtitles=False, beat_pulse=False,
                      fade_edges_ms=0)
    clip = Clip("seg_001", img, file_sha256(img), 0, 2000, "calm", 0.3)
    tl = build_timeline([clip], duration_ms=2000, spec=spec, seed=0)
    motion = Motion("pan_right", 1.2, 1.2, cx_from=0.45, cx_to=0.55)
    tl = replace(tl, clips=(replace(tl.clips[0], motion=motion),))
    res = render_video(tl, audio_path=_wav(tmp_path / "a.wav", seconds=2.0), subtitles=[],
                       out_path=tmp_path / "pan.mp4", cache_dir=tmp_path / "cache")
    tc = tl.clips[0]
    centres = np.array([camera_window(motion, progress=clip_progress(tc, frame=f))[1] for f in range(tl.total_frames)])
    ideal = -np.diff(centres) * W * 1.2  # the picture moves left while the camera pans right
    ours = _wobble(_frames(res.out_path), ideal)

    # the naive zoompan on the same picture and the same path, for comparison
    n = tl.total_frames
    span = tc.visible_end_frame - tc.visible_start_frame - 1
    t = f"(on/{span})"
    cx = f"(0.45+0.1*(0.5*{t}+0.5*{t}*{t}*(3-2*{t})))"
    naive = tmp_path / "naive.mp4"
    graph = (f"scale={W}:{H},zoompan=z=1.2:x='iw*({cx}-0.5/zoom)':y='ih*(0.5-0.5/zoom)':d={n}:s={W}x{H}:fps={FPS}")
    subprocess.run([ffmpeg_path(), "-v", "error", "-y", "-i", str(img), "-vf", graph, "-frames:v", str(n),
                    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-pix_fmt", "yuv420p", str(naive)], check=True)
    theirs = _wobble(_frames(naive), ideal)
    assert ours < 0.15, f"our pan wobbles {ours:.3f} px"
    assert theirs > 3 * ours, f"naive zoompan {theirs:.3f} px vs ours {ours:.3f} px"


def test_incremental_rerender_reuses_chunks_and_matches_a_fresh_render(song: dict, full_render: dict) -> None:
    tmp = song["tmp"]
    cache = tmp / "inc_cache"
    spec = full_render["spec"]
    clips = song["clips"]
    first = render_video(build_timeline(clips, duration_ms=6000, spec=spec, seed=7), audio_path=song["audio"],
                         subtitles=SUBS, out_path=tmp / "inc_v1.mp4", cache_dir=cache)
    assert first.chunks_reused == 0
    same = render_video(build_timeline(clips, duration_ms=6000, spec=spec, seed=7), audio_path=song["audio"],
                        subtitles=SUBS, out_path=tmp / "inc_same.mp4", cache_dir=cache)
    assert same.chunks_encoded == 0

    new_img = _texture(tmp / "seg_001_v2.png", seed=99)
    edited = list(clips)
    edited[1] = replace(clips[1], image_path=new_img, image_sha256=file_sha256(new_img))
    tl = build_timeline(edited, duration_ms=6000, spec=spec, seed=7)
    touching = [s for s in tl.chunks if 1 in s.clip_indexes]
    second = render_video(tl, audio_path=song["audio"], subtitles=SUBS, out_path=tmp / "inc_v2.mp4", cache_dir=cache)
    # its own chunk (ending in the transition out) + the one before, which ends in the transition into it
    assert second.chunks_encoded == len(touching) == 2
    assert second.chunks_reused == len(tl.chunks) - len(touching)

    fresh = render_video(tl, audio_path=song["audio"], subtitles=SUBS, out_path=tmp / "fresh_v2.mp4",
                         cache_dir=tmp / "fresh_cache")
    assert fresh.chunks_reused == 0
    assert _frame_hashes(second.out_path) == _frame_hashes(fresh.out_path)
    assert _frame_hashes(second.out_path) != _frame_hashes(first.out_path)


def test_missing_picture_is_a_clear_render_error(song: dict, tmp_path: Path) -> None:
    clips = list(song["clips"])
    clips[2] = replace(clips[2], image_path=tmp_path / "gone.png")
    tl = build_timeline(clips, duration_ms=6000, spec=RenderSpec(width=W, height=H, fps=FPS), seed=1)
    with pytest.raises(RenderError, match=r"seg_002.*gone\.png"):
        render_video(tl, audio_path=song["audio"], subtitles=[], out_path=tmp_path / "x.mp4", cache_dir=tmp_path / "c")


def test_failing_ffmpeg_gives_render_error_with_stderr(song: dict, tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nthis is not really a png")
    clips = list(song["clips"])
    clips[0] = replace(clips[0], image_path=bad, image_sha256="broken")
    tl = build_timeline(clips, duration_ms=6000, spec=RenderSpec(width=W, height=H, fps=FPS, preset="ultrafast"), seed=1)
    out = tmp_path / "x.mp4"
    with pytest.raises(RenderError) as info:
        render_video(tl, audio_path=song["audio"], subtitles=[], out_path=out, cache_dir=tmp_path / "c")
    assert info.value.stderr_tail.strip()
    assert "broken.png" in info.value.stderr_tail or "Invalid" in info.value.stderr_tail or "png" in info.value.stderr_tail.lower()
    assert not out.exists()


def test_cancel_kills_ffmpeg_and_raises(tmp_path: Path) -> None:
    clips = _clips(tmp_path, n=2, scene_ms=10_000)
    spec = RenderSpec(width=640, height=360, fps=30, preset="medium")
    tl = build_timeline(clips, duration_ms=20_000, spec=spec, seed=1)
    seen: list[float] = []

    def stop() -> bool:
        return len(seen) >= 2 or False

    out = tmp_path / "x.mp4"
    with pytest.raises(CancelledError):
        render_video(tl, audio_path=_wav(tmp_path / "a.wav", seconds=20.0), subtitles=[], out_path=out,
                     cache_dir=tmp_path / "c", progress=lambda f, e: seen.append(f), should_stop=stop)
    assert not out.exists()
    alive = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(tmp_path / "c") in cmdline.read_bytes().decode(errors="replace"):
                alive.append(cmdline)
        except OSError:
            pass
    assert not alive, "ffmpeg still running after cancel"
    assert not [p for p in (tmp_path / "c").glob("chunk_*.mp4")]  # nothing half-written is left as a cached chunk
    assert not list((tmp_path / "c").glob(".*tmp*"))


@pytest.mark.parametrize("aspect", ["9:16", "1:1"])
def test_preview_render_in_other_aspects(tmp_path: Path, aspect: str) -> None:
    from engine.render.timeline import render_spec

    spec = render_spec(aspect=aspect, resolution=1080, preview=True)
    clips = _clips(tmp_path, n=2, scene_ms=1000)
    tl = build_timeline(clips, duration_ms=2000, spec=spec, seed=3)
    res = render_video(tl, audio_path=_wav(tmp_path / "a.wav", seconds=2.0), subtitles=SUBS[:1],
                       out_path=tmp_path / "p.mp4", cache_dir=tmp_path / "c")
    info = probe(res.out_path)
    assert (info.width, info.height) == (spec.width, spec.height) and spec.height >= spec.width
    assert count_video_frames(res.out_path) == round(2000 * spec.fps / 1000)


def _feed_args(url: str, out: Path, *, frames: int) -> list[str]:
    return ["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray", "-video_size", "32x16", "-framerate", "10",
            "-i", url, "-frames:v", str(frames), "-c:v", "rawvideo", "-f", "rawvideo", str(out)]


def test_feed_pipes_deliver_frames_in_order(tmp_path: Path) -> None:
    from engine.render.ffmpeg import FeedPipes, FfmpegProcess

    frames = [bytes([i]) * (32 * 16) for i in range(20)]
    pipes = FeedPipes(1)
    out = tmp_path / "o.raw"
    FfmpegProcess(_feed_args(pipes.urls[0], out, frames=20), feeds=(pipes, [iter(frames)])).run()
    assert out.read_bytes() == b"".join(frames)


def _slow_reader_args(url: str, out: Path, *, size: str, frames: int) -> list[str]:
    # a real encode reads slower than the feed writes, so the pipe is full and a reused buffer would show
    return ["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray", "-video_size", size, "-framerate", "10",
            "-i", url, "-frames:v", str(frames), "-vf", "boxblur=2:1,boxblur=2:1", "-c:v", "rawvideo",
            "-f", "rawvideo", str(out)]


@pytest.mark.parametrize("side", [64, 700])  # frames much smaller and a little smaller than the pipe
def test_fed_buffers_may_be_reused_after_ring_slots_and_freed_at_once(tmp_path: Path, side: int) -> None:
    """The zero-copy feed's rule (FeedPipes.ring_slots) holds: a ring of that many buffers, each rewritten as soon as
    the rule allows, and fresh buffers dropped right after being handed over, both arrive intact."""
    import numpy as np

    from engine.render.ffmpeg import FeedPipes, FfmpegProcess

    size, count = side * side, 3 * FeedPipes.PIPE_BYTES // (side * side) + 12
    expected = [np.full(size, (7 * i) % 251, np.uint8) for i in range(count)]
    slots = [np.empty(size, np.uint8) for _ in range(FeedPipes.ring_slots(size))]

    def ring():
        for i, frame in enumerate(expected):
            slot = slots[i % len(slots)]
            slot[:] = frame
            yield slot

    def fresh():
        for frame in expected:
            yield frame.copy()  # nothing else refers to it once it is handed over

    blurred = None
    for source in (ring(), fresh()):
        pipes = FeedPipes(1)
        out = tmp_path / "o.raw"
        FfmpegProcess(_slow_reader_args(pipes.urls[0], out, size=f"{side}x{side}", frames=count),
                      feeds=(pipes, [source])).run()
        got = out.read_bytes()
        if blurred is None:  # what the frames give through the same filters, fed as plain bytes
            ref = tmp_path / "ref.raw"
            plain = FeedPipes(1)
            plain.zero_copy = False
            FfmpegProcess(_slow_reader_args(plain.urls[0], ref, size=f"{side}x{side}", frames=count),
                          feeds=(plain, [iter([f.tobytes() for f in expected])])).run()
            blurred = ref.read_bytes()
        assert len(got) == size * count and got == blurred


def test_a_failing_frame_source_or_ffmpeg_never_hangs(tmp_path: Path) -> None:
    from engine.render.ffmpeg import FeedPipes, FfmpegProcess

    def broken():
        yield bytes(32 * 16)
        raise ValueError("warp exploded")

    open_fds = len(os.listdir("/proc/self/fd"))
    pipes = FeedPipes(1)
    with pytest.raises(RenderError, match="warp exploded"):
        FfmpegProcess(_feed_args(pipes.urls[0], tmp_path / "o.raw", frames=20), feeds=(pipes, [broken()])).run()
    # ffmpeg refusing its arguments while we still have frames to write: its error, not a hang or BrokenPipe
    pipes = FeedPipes(1)
    endless = (bytes(32 * 16) for _ in range(10_000))
    with pytest.raises(RenderError) as info:
        FfmpegProcess([*_feed_args(pipes.urls[0], tmp_path / "o.raw", frames=5), "-no-such-option"],
                      feeds=(pipes, [endless])).run()
    assert "no-such-option" in info.value.stderr_tail
    assert len(os.listdir("/proc/self/fd")) == open_fds  # every pipe end closed
