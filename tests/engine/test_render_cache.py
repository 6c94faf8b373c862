"""The render cache: raw stills made once per picture, and pruning that keeps the newest final and preview."""
from __future__ import annotations

import os
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine.fingerprint import file_sha256
from engine.render import command
from engine.ffmpeg import ffmpeg_path
from tests.engine.media import run_ffmpeg
from engine.render.render import CACHE_KEEP_S, manifest_name, prune_cache, render_video, still_name
from engine.render.timeline import RenderSpec, build_timeline, render_spec
from tests.engine.test_render_video import SUBS, _clips, _texture, _wav

W, H, FPS = 320, 180, 30
DAY_S = 24 * 3600


def _age(folder: Path, *, seconds: float) -> None:
    """Make every file in ``folder`` look ``seconds`` old."""
    past = time.time() - seconds
    for p in folder.iterdir():
        os.utime(p, (past, past))


def test_prune_keeps_manifest_files_recent_files_and_keep_names(tmp_path: Path) -> None:
    now = 1_000_000_000.0
    names = ["seg_old.mp4", "seg_listed.mp4", "seg_recent.mp4", "still_old.yuv", "audio_old.m4a",
             "subs_old.ass", ".seg_x.1234.tmp.mp4", "seg_kept.mp4", "notes.txt"]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
        os.utime(tmp_path / n, (now - 2 * DAY_S, now - 2 * DAY_S))
    os.utime(tmp_path / "seg_recent.mp4", (now - 3600, now - 3600))
    (tmp_path / "manifest_320x180.txt").write_text("seg_listed.mp4\n\n")
    deleted = prune_cache(tmp_path, keep_names={"seg_kept.mp4"}, now_s=now)
    assert sorted(p.name for p in deleted) == sorted(
        [".seg_x.1234.tmp.mp4", "audio_old.m4a", "seg_old.mp4", "still_old.yuv", "subs_old.ass"])
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["seg_listed.mp4", "seg_recent.mp4", "seg_kept.mp4", "notes.txt", "manifest_320x180.txt"])
    assert CACHE_KEEP_S == DAY_S


def test_cache_keeps_newest_final_and_preview_and_drops_the_rest(tmp_path: Path) -> None:
    clips = _clips(tmp_path, n=3, scene_ms=1000)
    audio = _wav(tmp_path / "a.wav", seconds=3.0)
    cache = tmp_path / "cache"
    final = RenderSpec(width=W, height=H, fps=FPS, preset="ultrafast", crf=23)
    preview = render_spec(aspect="16:9", resolution=720, preview=True)
    tl_final = build_timeline(clips, duration_ms=3000, spec=final, seed=4)
    tl_prev = build_timeline(clips, duration_ms=3000, spec=preview, seed=4)
    first = render_video(tl_final, audio_path=audio, subtitles=SUBS, out_path=tmp_path / "f1.mp4", cache_dir=cache)
    render_video(tl_prev, audio_path=audio, subtitles=SUBS, out_path=tmp_path / "p1.mp4", cache_dir=cache)
    v1_chunks = set(cache.glob("chunk_*.mp4"))
    # one raw still per picture and format, of exactly one yuv420p frame
    stills = sorted(cache.glob("still_*.yuv"))
    assert len(stills) == 6
    assert (cache / still_name(clips[0].image_sha256, timeline=tl_final)).stat().st_size == W * H * 3 // 2
    assert (cache / manifest_name(tl_final)).is_file() and (cache / manifest_name(tl_prev)).is_file()

    _age(cache, seconds=2 * DAY_S)  # two days later the user edits scene 1 and renders the final again
    new_img = _texture(tmp_path / "seg_001_v2.png", seed=50)
    edited = list(clips)
    edited[1] = replace(clips[1], image_path=new_img, image_sha256=file_sha256(new_img))
    tl_v2 = build_timeline(edited, duration_ms=3000, spec=final, seed=4)
    second = render_video(tl_v2, audio_path=audio, subtitles=SUBS, out_path=tmp_path / "f2.mp4", cache_dir=cache)
    assert second.chunks_encoded == 2 and second.chunks_reused == len(tl_v2.chunks) - 2

    gone = v1_chunks - set(cache.glob("chunk_*.mp4"))
    assert len(gone) == 2  # exactly the old final's chunks that show the replaced picture
    assert not (cache / still_name(clips[1].image_sha256, timeline=tl_final)).exists()
    assert (cache / still_name(clips[1].image_sha256, timeline=tl_prev)).exists()  # the preview still uses it
    assert not list(cache.glob(".*tmp*")) and not list(cache.glob(".concat_*"))
    # the newest preview survived whole: re-rendering it encodes nothing
    again = render_video(tl_prev, audio_path=audio, subtitles=SUBS, out_path=tmp_path / "p2.mp4", cache_dir=cache)
    assert again.chunks_encoded == 0
    # and the newest final too
    assert render_video(tl_v2, audio_path=audio, subtitles=SUBS, out_path=tmp_path / "f3.mp4",
                        cache_dir=cache).chunks_encoded == 0
    assert first.fingerprint != second.fingerprint


def _rgb(args: list[str]) -> np.ndarray:
    raw = subprocess.run([ffmpeg_path(), "-v", "error", *args, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(np.float64)


def test_raw_still_keeps_the_picture_and_its_colours(tmp_path: Path) -> None:
    """The still is the picture cover-scaled to the output: back in RGB it matches a direct scale of the PNG."""
    img = _texture(tmp_path / "tex.png", seed=3, size=(400, 300))  # 4:3, so the top and bottom are cropped
    spec = RenderSpec(width=W, height=H, fps=FPS)
    out = tmp_path / "still.yuv"
    run_ffmpeg(command.still_args(img, spec=spec, out_path=out))
    assert out.stat().st_size == W * H * 3 // 2
    ours = _rgb(command.raw_input_args(str(out), spec=spec))
    in_graph = _rgb(["-i", str(img), "-vf", command.still_filters(spec)])
    assert np.array_equal(ours, in_graph)  # bit-identical to converting inside the chunk graph (the old path)
    direct = _rgb(["-i", str(img), "-vf", f"scale={W}:-1:flags=lanczos,crop={W}:{H}"])
    # against the RGB picture only 4:2:0 chroma loss on this very colourful texture, and no colour cast
    assert (np.abs(ours - direct).mean(axis=(0, 1)) < 8.0).all()
    assert np.abs(ours.mean(axis=(0, 1)) - direct.mean(axis=(0, 1))).max() < 2.0


def test_chunks_written_by_another_thread_are_awaited_not_encoded_twice(tmp_path: Path) -> None:
    """``in_flight`` (encoding ahead): the render waits for those files; one that never appears it encodes itself."""
    from concurrent.futures import Future, ThreadPoolExecutor

    from engine.render.render import ChunkWriter, audio_path_in_cache

    clips = _clips(tmp_path, n=3, scene_ms=1000)
    audio = _wav(tmp_path / "a.wav", seconds=3.0)
    spec = RenderSpec(width=W, height=H, fps=FPS, preset="ultrafast", crf=23)
    tl = build_timeline(clips, duration_ms=3000, spec=spec, seed=4)
    plain = render_video(tl, audio_path=audio, subtitles=SUBS, out_path=tmp_path / "plain.mp4", cache_dir=tmp_path / "c1")
    assert len(tl.chunks) >= 2

    cache = tmp_path / "c2"
    writer = ChunkWriter(tl, subtitles=SUBS, cache_dir=cache)
    first, second = tl.chunks[0], tl.chunks[1]
    with ThreadPoolExecutor(max_workers=1) as pool:
        written = pool.submit(writer.encode, first)  # really written by another thread
        never: Future[None] = Future()
        never.set_result(None)  # "done", but its file never appeared (an ahead encode that failed)
        audio_fut = pool.submit(writer.encode_audio, audio)
        in_flight = {writer.target(first): written, writer.target(second): never,
                     audio_path_in_cache(audio, timeline=tl, cache_dir=cache): audio_fut}
        result = render_video(tl, audio_path=audio, subtitles=SUBS, out_path=tmp_path / "ahead.mp4", cache_dir=cache,
                              in_flight=in_flight)  # type: ignore[arg-type]
    assert written.result() is True  # the other thread encoded it, the render did not
    assert result.chunks_reused == 1 and result.chunks_encoded == len(tl.chunks) - 1
    assert (tmp_path / "ahead.mp4").read_bytes() == (tmp_path / "plain.mp4").read_bytes()
    assert plain.chunks_encoded == len(tl.chunks)
