"""Pure parts of the render engine: timeline frame maths, motion choice, and the ffmpeg argument builders."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError, RenderError
from engine.render import command, warp
from engine.render.timeline import (
    MOTIONS,
    Clip,
    RenderSpec,
    build_timeline,
    camera_window,
    clip_progress,
    ms_to_frame,
    pulse_at,
    render_spec,
)
from tests.conftest import REPO

SPEC = RenderSpec(width=320, height=180, fps=30)


def _clips(starts_ms: list[int], *, energy: float = 0.5, mood: str = "happy", beats: bool = False) -> list[Clip]:
    ends = starts_ms[1:] + [starts_ms[-1] + 3000]
    return [Clip(scene_id=f"seg_{i:03d}", image_path=Path(f"/img/seg_{i:03d}.png"), image_sha256=f"sha{i}",
                 start_ms=s, end_ms=e, mood=mood, energy=energy,
                 beats_ms=tuple(range(s, e, 500)) if beats else ())
            for i, (s, e) in enumerate(zip(starts_ms, ends))]


@st.composite
def _songs(draw: st.DrawFn) -> tuple[list[Clip], int, RenderSpec]:
    fps = draw(st.sampled_from([12, 24, 25, 30, 60]))
    n = draw(st.integers(min_value=1, max_value=25))
    gaps = draw(st.lists(st.integers(min_value=1, max_value=9000), min_size=n, max_size=n))
    starts = [0]
    for g in gaps[:-1]:
        starts.append(starts[-1] + g)
    duration = starts[-1] + max(gaps[-1], 100)  # at least one frame of audio
    energy = draw(st.floats(min_value=0.0, max_value=1.0))
    mood = draw(st.sampled_from(["calm", "happy", "dark", "energetic", ""]))
    spec = RenderSpec(width=64, height=36, fps=fps, beat_pulse=draw(st.booleans()))
    return _clips(starts, energy=energy, mood=mood, beats=True), duration, spec


@settings(max_examples=300, deadline=None)
@given(song=_songs(), seed=st.integers(min_value=0, max_value=2**32))
def test_timeline_frames_sum_to_audio_and_cut_on_boundaries(song, seed) -> None:
    clips, duration_ms, spec = song
    tl = build_timeline(clips, duration_ms=duration_ms, spec=spec, seed=seed)
    total = ms_to_frame(duration_ms, fps=spec.fps)
    assert tl.total_frames == total
    assert abs(total * 1000 / spec.fps - duration_ms) <= 500 / spec.fps + 1e-6  # within half a frame of the audio
    # clips tile the video; each boundary is the frame of the scene's start time
    assert tl.clips[0].start_frame == 0 and tl.clips[-1].end_frame == total
    for a, b in zip(tl.clips, tl.clips[1:]):
        assert a.end_frame == b.start_frame == ms_to_frame(b.clip.start_ms, fps=spec.fps)
        assert a.dur_frames > 0
    # chunks tile the video exactly, in order, without gaps or overlaps
    pos = 0
    for chunk in tl.chunks:
        assert chunk.start_frame == pos and chunk.dur_frames > 0
        pos = chunk.end_frame
    assert pos == total
    # transitions are centred on their boundary and stay inside both clips
    for tr, (a, b) in zip(tl.transitions, zip(tl.clips, tl.clips[1:])):
        assert tr.boundary_frame == a.end_frame
        assert tr.start_frame == tr.boundary_frame - tr.dur_frames // 2
        assert a.start_frame <= tr.start_frame and tr.end_frame <= b.end_frame
    # never the same camera move twice in a row
    kinds = [tc.motion.kind for tc in tl.clips]
    assert all(k in MOTIONS for k in kinds)
    assert all(x != y for x, y in zip(kinds, kinds[1:]))
    # deterministic from the seed
    assert build_timeline(clips, duration_ms=duration_ms, spec=spec, seed=seed) == tl


@settings(max_examples=150, deadline=None)
@given(song=_songs(), seed=st.integers(min_value=0, max_value=1000))
def test_camera_window_stays_inside_the_picture(song, seed) -> None:
    clips, duration_ms, spec = song
    tl = build_timeline(clips, duration_ms=duration_ms, spec=spec, seed=seed)
    for tc in tl.clips:
        for frame in {tc.visible_start_frame, (tc.visible_start_frame + tc.visible_end_frame) // 2, tc.visible_end_frame - 1}:
            zoom, cx, cy = camera_window(tc.motion, progress=clip_progress(tc, frame=frame),
                                         pulse=pulse_at(tc, frame=frame, fps=spec.fps))
            assert zoom >= 1.0 - 1e-9
            half = 0.5 / zoom
            assert cx - half >= -1e-9 and cx + half <= 1 + 1e-9
            assert cy - half >= -1e-9 and cy + half <= 1 + 1e-9


def test_frame_boundaries_round_to_the_nearest_frame() -> None:
    tl = build_timeline(_clips([0, 1016, 2017, 3049]), duration_ms=5999, spec=SPEC, seed=3)
    assert [tc.start_frame for tc in tl.clips] == [0, 30, 61, 91]
    assert tl.total_frames == 180


def test_scene_that_rounds_to_nothing_is_dropped() -> None:
    tl = build_timeline(_clips([0, 1000, 1010, 2000]), duration_ms=4000, spec=SPEC, seed=0)
    assert [tc.clip.scene_id for tc in tl.clips] == ["seg_000", "seg_002", "seg_003"]


def test_energy_picks_transition_family_and_length() -> None:
    calm = build_timeline(_clips([0, 5000, 10000]), duration_ms=15000, spec=SPEC, seed=1)
    loud = build_timeline(_clips([0, 5000, 10000], energy=0.9), duration_ms=15000, spec=SPEC, seed=1)
    calm = build_timeline([replace(c, energy=0.1, mood="calm") for c in _clips([0, 5000, 10000])],
                          duration_ms=15000, spec=SPEC, seed=1)
    assert all(t.kind in ("fade", "fadeblack", "dissolve") and t.dur_frames == 30 for t in calm.transitions)
    assert all(t.kind in ("slideleft", "zoomin", "hblur", "fade") and t.dur_frames == 10 for t in loud.transitions)


def test_very_short_scenes_get_a_hard_cut() -> None:
    tl = build_timeline(_clips([0, 100, 200]), duration_ms=300, spec=SPEC, seed=0)
    assert [t.kind for t in tl.transitions] == ["cut", "cut"]
    assert [s.kind for s in tl.chunks] == ["scene", "scene", "scene"]


def test_long_scene_is_split_into_chunks() -> None:
    tl = build_timeline(_clips([0]), duration_ms=20_000, spec=SPEC, seed=0)
    assert [s.dur_frames for s in tl.chunks] == [200, 200, 200]


def test_beat_pulse_only_in_energetic_scenes_and_when_enabled() -> None:
    loud = build_timeline(_clips([0, 4000], energy=0.9, beats=True), duration_ms=8000, spec=SPEC, seed=0)
    assert loud.clips[0].pulse_beat_frames[:3] == (0, 15, 30)
    quiet = build_timeline(_clips([0, 4000], energy=0.2, beats=True), duration_ms=8000, spec=SPEC, seed=0)
    assert all(not tc.pulse_beat_frames for tc in quiet.clips)
    off = build_timeline(_clips([0, 4000], energy=0.9, beats=True), duration_ms=8000,
                         spec=replace(SPEC, beat_pulse=False), seed=0)
    assert all(not tc.pulse_beat_frames for tc in off.clips)
    tc = loud.clips[0]
    assert pulse_at(tc, frame=14, fps=30) < pulse_at(tc, frame=17, fps=30)  # rises just after the beat
    assert 0.0 < pulse_at(tc, frame=17, fps=30) <= 0.0125


def test_render_spec_sizes() -> None:
    assert (render_spec(aspect="16:9", resolution=1080).width, render_spec(aspect="16:9", resolution=1080).height) == (1920, 1080)
    assert (render_spec(aspect="9:16", resolution=720).width, render_spec(aspect="9:16", resolution=720).height) == (720, 1280)
    assert render_spec(aspect="1:1", resolution=720).width == 720
    prev = render_spec(aspect="16:9", resolution=1080, preview=True)
    assert (prev.width, prev.height, prev.preset, prev.preview) == (640, 360, "ultrafast", True)
    with pytest.raises(InputError):
        render_spec(aspect="4:3", resolution=720)
    with pytest.raises(InputError):
        RenderSpec(width=321, height=180)


def _ramp_still(width: int, height: int) -> warp.Still:
    """Planes whose value is a linear ramp of the pixel position (bilinear interpolation is exact on it)."""
    xs = np.arange(width, dtype=np.float64)
    y = np.tile(40 + xs * 0.5, (height, 1)).astype(np.uint8)  # horizontal ramp, 0.5 per luma pixel
    cys = np.arange(height // 2, dtype=np.float64)[:, None]
    u = np.tile(30 + cys * 1.5, (1, width // 2)).astype(np.uint8)  # vertical ramp, 1.5 per chroma row
    v = np.full((height // 2, width // 2), 128, np.uint8)
    return warp.Still(y, u, v)


def test_warp_at_zoom_one_is_the_still_itself() -> None:
    rng = np.random.default_rng(1)
    still = warp.Still(*(rng.integers(0, 255, shape, dtype=np.uint8) for shape in ((36, 64), (18, 32), (18, 32))))
    y, u, v = warp.warp_frame(still, zoom=1.0, cx=0.5, cy=0.5)
    assert np.array_equal(y, still.y) and np.array_equal(u, still.u) and np.array_equal(v, still.v)


def test_warp_maps_the_camera_window_with_sub_pixel_accuracy() -> None:
    width, height = 320, 180
    still = _ramp_still(width, height)
    zoom, cx, cy = 1.25, 0.53, 0.47
    y, u, _ = warp.warp_frame(still, zoom=zoom, cx=cx, cy=cy)
    # output pixel x shows the source point at pixel-centre coordinate left + (x + 0.5) / zoom - 0.5
    xs = np.arange(width)
    src_x = width * (cx - 0.5 / zoom) + (xs + 0.5) / zoom - 0.5
    assert np.abs(y[90].astype(float) - (40 + 0.5 * src_x)).max() <= 1.0
    # the picture's point (cx, cy) lands on the output's centre, in the chroma planes too (chroma sited at y+0.5)
    rows = np.arange(height // 2)
    src_luma_y = height * (cy - 0.5 / zoom) + (2 * rows + 0.5 + 0.5) / zoom - 0.5
    src_chroma_row = (src_luma_y - 0.5) / 2
    assert np.abs(u[:, 80].astype(float) - (30 + 1.5 * src_chroma_row)).max() <= 1.0


@settings(max_examples=40, deadline=None)
@given(zoom=st.floats(1.0, 1.6), cx=st.floats(0.3, 0.7), cy=st.floats(0.3, 0.7), seed=st.integers(0, 2**16))
def test_separable_warp_equals_opencv_bilinear(zoom: float, cx: float, cy: float, seed: int) -> None:
    """The two-pass numba warp is the same bilinear map as cv2.warpAffine (which rounds positions to 1/32 px)."""
    import cv2

    rng = np.random.default_rng(seed)
    still = warp.Still(*(cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (5, 5), 0)
                         for shape in ((72, 128), (36, 64), (36, 64))))
    got = warp.warp_frame(still, zoom=zoom, cx=cx, cy=cy)
    m_luma, m_chroma = warp.window_matrices(zoom=zoom, cx=cx, cy=cy, width=128, height=72)
    for plane, out, m in zip((still.y, still.u, still.v), got, (m_luma, m_chroma, m_chroma)):
        ref = cv2.warpAffine(plane, m, (plane.shape[1], plane.shape[0]),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        assert out.shape == plane.shape and out.dtype == np.uint8 and out.flags.c_contiguous
        assert np.abs(out.astype(int) - ref.astype(int)).max() <= 2


def _exact_bilinear(plane: np.ndarray, *, scale: float, bx: float, by: float) -> np.ndarray:
    """Bilinear interpolation in float64 of output pixel (i, j) at source (by + scale*i, bx + scale*j), edges repeated."""
    h, w = plane.shape
    xs, ys = np.clip(bx + scale * np.arange(w), 0, w - 1), np.clip(by + scale * np.arange(h), 0, h - 1)
    x0, y0 = np.minimum(xs.astype(int), w - 2), np.minimum(ys.astype(int), h - 2)
    fx, fy = (xs - x0)[None, :], (ys - y0)[:, None]
    p = plane.astype(np.float64)
    top = p[y0][:, x0] * (1 - fx) + p[y0][:, x0 + 1] * fx
    bottom = p[y0 + 1][:, x0] * (1 - fx) + p[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


@pytest.mark.parametrize("zoom", [1.02, 1.1, 1.37])
def test_warp_is_within_one_level_of_exact_bilinear_without_bias(zoom: float) -> None:
    """Both passes round to uint8 (render version 9): at most one level from exact bilinear, and no drift on average."""
    import cv2

    rng = np.random.default_rng(7)
    plane = cv2.GaussianBlur(rng.integers(0, 256, (180, 320), dtype=np.uint8), (0, 0), 2.0)
    plane = cv2.normalize(plane, None, 0, 255, cv2.NORM_MINMAX)
    scale = 1 / zoom
    bx, by = 320 * (0.5 - 0.5 * scale) + 2.37, 180 * (0.5 - 0.5 * scale) + 1.61
    got = warp.warp_plane(plane, cv2.transpose(plane), scale=scale, bx=bx, by=by)
    error = got - _exact_bilinear(plane, scale=scale, bx=bx, by=by)
    assert np.abs(error).max() <= 1.1  # a pass rounds to half a level; weights in 1/256 add at most ~0.5 more
    assert abs(error.mean()) < 0.05 and np.sqrt((error ** 2).mean()) < 0.45


def test_warp_has_no_sub_pixel_wobble_on_a_slow_pan() -> None:
    """A pan of 0.1 source px per frame moves the picture by exactly that much every frame (no rounding steps).

    The still is a sine wave along x; the phase of each output row gives the source
    position it shows, to about a thousandth of a pixel.
    """
    width, height, period = 320, 180, 40.0
    xs = np.arange(width)
    y = np.tile(np.round(128 + 100 * np.sin(2 * np.pi * xs / period)), (height, 1)).astype(np.uint8)
    still = warp.Still(y, y[::2, ::2].copy(), y[::2, ::2].copy())
    zoom = 1.25
    js = np.arange(40, 280)
    positions = []
    for k in range(12):
        row = warp.warp_frame(still, zoom=zoom, cx=0.5 + k * 0.1 / width, cy=0.5)[0][90, 40:280].astype(float)
        phase = np.angle(np.sum((row - row.mean()) * np.exp(-2j * np.pi * js / zoom / period)))
        positions.append(phase)  # 2 pi / period * (source x of output pixel 0) + a constant
    steps = np.diff(np.unwrap(positions)) * period / (2 * np.pi)
    assert np.abs(steps - 0.1).max() < 0.02  # every frame moves 0.1 px; whole-pixel rounding would give 0 or 1


@pytest.mark.parametrize("size", [2, 3, 36, 720])
def test_warp_taps_stay_inside_the_plane(size: int) -> None:
    from engine.render import kernels

    for start, step in ((-3.0, 0.5), (size - 2 + 0.999, 0.0), (size - 1.0001, 1e-5), (0.0, 1.0), (size * 0.3, 0.77)):
        index, weight = kernels.taps(start, step, 64, size)
        assert index.min() >= 0 and index.max() <= size - 2  # sample index + 1 is always there
        assert weight.min() >= 0 and weight.max() <= kernels.WEIGHT_ONE


def test_motion_frames_follow_the_python_camera_path() -> None:
    tl = build_timeline(_clips([0, 4000], energy=0.9, beats=True), duration_ms=8000, spec=SPEC, seed=5)
    chunk, tc = tl.chunks[-1], tl.clips[1]
    still = _ramp_still(320, 180)
    frames = list(warp.clip_frames(still, tc, start_frame=chunk.start_frame, dur_frames=chunk.dur_frames, fps=30))
    assert len(frames) == chunk.dur_frames
    assert {len(f) for f in frames} == {320 * 180 + 2 * 160 * 90}
    for n in (0, 7, chunk.dur_frames - 1):
        frame = chunk.start_frame + n
        zoom, cx, cy = camera_window(tc.motion, progress=clip_progress(tc, frame=frame),
                                     pulse=pulse_at(tc, frame=frame, fps=30))
        expected = warp.warp_frame(still, zoom=zoom, cx=cx, cy=cy)
        assert bytes(frames[n]) == b"".join(p.tobytes() for p in expected)


def test_a_frame_ring_gives_the_same_frames_as_new_buffers() -> None:
    tl = build_timeline(_clips([0, 4000], energy=0.9, beats=True), duration_ms=8000, spec=SPEC, seed=5)
    still = _ramp_still(320, 180)
    for chunk in tl.chunks:
        stills = [still] * len(chunk.clip_indexes)
        fresh = [bytes(f) for f in warp.chunk_frames(chunk, clips=tl.clips, stills=stills, fps=30)]
        ring = warp.FrameRing(width=320, height=180, slots=2)
        reused = [bytes(f) for f in warp.chunk_frames(chunk, clips=tl.clips, stills=stills, fps=30, ring=ring)]
        assert reused == fresh and len(fresh) == chunk.dur_frames


def test_load_still_checks_its_size(tmp_path: Path) -> None:
    raw = tmp_path / "s.yuv"
    raw.write_bytes(bytes(range(192)) * 18)  # 64x36 yuv420p is 3456 bytes
    still = warp.load_still(raw, width=64, height=36)
    assert (still.width, still.height, still.u.shape, still.v.shape) == (64, 36, (18, 32), (18, 32))
    with pytest.raises(RenderError, match="expected"):
        warp.load_still(raw, width=64, height=38)


def test_chunk_args_scene_and_transition() -> None:
    tl = build_timeline(_clips([0, 3000]), duration_ms=6000, spec=SPEC, seed=2)
    trans, scene = tl.chunks  # scene 0 ends in the transition into scene 1; scene 1 stands alone
    assert trans.transition and trans.clip_indexes == (0, 1) and not scene.transition
    args = command.chunk_args(scene, timeline=tl, input_url="pipe:7", out_path=Path("/c/s.mp4"))
    i = args.index("-i")
    assert args[i + 1] == "pipe:7" and args[i - 8:i] == ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size",
                                                         "320x180", "-framerate", "30"]
    assert args.count("-i") == 1
    graph = args[args.index("-filter_complex") + 1]
    assert "perspective" not in graph and "zoompan" not in graph and "scale" not in graph  # the camera is in Python
    assert "xfade" not in graph and "fade=t=out" in graph  # the video ends in black
    assert args[args.index("-frames:v") + 1] == str(scene.dur_frames)
    for flag, value in (("-c:v", "libx264"), ("-pix_fmt", "yuv420p"), ("-r", "30"), ("-preset", "veryfast"),
                        ("-x264-params", SPEC.x264_params)):
        assert args[args.index(flag) + 1] == value
    assert args[-1] == "/c/s.mp4" and "-progress" in args
    targs = command.chunk_args(trans, timeline=tl, input_url="pipe:9", out_path=Path("/c/t.mp4"))
    assert [targs[i + 1] for i, a in enumerate(targs) if a == "-i"] == ["pipe:9"]
    tgraph = targs[targs.index("-filter_complex") + 1]
    assert "fade=t=in:start_frame=0" in tgraph and "xfade" not in tgraph  # transitions are drawn in Python
    assert targs[targs.index("-frames:v") + 1] == str(trans.dur_frames)


@settings(max_examples=200, deadline=None)
@given(song=_songs(), seed=st.integers(min_value=0, max_value=2**32))
def test_each_transition_ends_the_chunk_of_the_scene_before_it(song, seed) -> None:
    clips, duration_ms, spec = song
    tl = build_timeline(clips, duration_ms=duration_ms, spec=spec, seed=seed)
    assert tl.chunks[0].start_frame == 0 and tl.chunks[-1].end_frame == tl.total_frames
    for a, b in zip(tl.chunks, tl.chunks[1:]):
        assert a.end_frame == b.start_frame  # contiguous, no overlap
    folded = [s for s in tl.chunks if s.transition]
    real = [t for t in tl.transitions if t.dur_frames > 0]
    assert len(folded) == len(real)
    for chunk, tr in zip(folded, real):
        assert chunk.clip_indexes == (tr.index, tr.index + 1) and chunk.transition == tr.kind
        assert chunk.start_frame + chunk.transition_offset_frames == tr.start_frame and chunk.end_frame == tr.end_frame
        assert chunk.transition_frames == tr.dur_frames
    for chunk in tl.chunks:
        assert chunk.dur_frames <= 8 * spec.fps + max((t.dur_frames for t in tl.transitions), default=0)
        assert all(tl.clips[i].visible_start_frame <= chunk.start_frame + (chunk.transition_offset_frames if k else 0)
                   and chunk.end_frame <= tl.clips[i].visible_end_frame for k, i in enumerate(chunk.clip_indexes))


def test_still_args_scale_once_to_yuv420p() -> None:
    args = command.still_args(Path("/img/a%d.png"), spec=SPEC, out_path=Path("/c/s.yuv"))
    assert args[args.index("-pattern_type") + 1] == "none" and args[args.index("-i") + 1] == "/img/a%d.png"
    vf = args[args.index("-vf") + 1]
    assert vf.startswith("scale=w=320:h=180:force_original_aspect_ratio=increase:flags=lanczos,crop=320:180")
    assert args[args.index("-frames:v") + 1] == "1" and args[-3:] == ["-pix_fmt", "yuv420p", "/c/s.yuv"]
    assert "flags=bilinear" in command.still_filters(replace(SPEC, preview=True))


def test_the_chunk_graph_only_fades_the_ends() -> None:
    tl = build_timeline(_clips([0, 3000]), duration_ms=6000, spec=SPEC, seed=2)
    first, last = tl.chunks[0], tl.chunks[-1]
    assert command.chunk_graph(last, timeline=tl) == (f"[0:v]setsar=1,fade=t=out:start_frame={last.dur_frames - 12}:"
                                                      "nb_frames=12,null[vout]")  # the last chunk fades to black
    assert "fade=t=in:start_frame=0:nb_frames=12" in command.chunk_graph(first, timeline=tl)
    assert all("ass" not in command.chunk_graph(c, timeline=tl) for c in tl.chunks)  # lyrics come burned in


def test_escape_option_value() -> None:
    assert command.escape_option_value("plain/path.ass") == "plain/path.ass"
    assert command.escape_option_value("it's") == "it\\\\\\'s"
    assert command.escape_option_value("a,b;[c]") == "a\\,b\\;\\[c\\]"


def test_concat_list_and_mux_args() -> None:
    text = command.concat_list([Path("/c/a.mp4"), Path("/c/it's.mp4")])
    assert text == "file '/c/a.mp4'\nfile '/c/it'\\''s.mp4'\n"
    args = command.mux_args(list_path=Path("/c/l.txt"), audio_m4a=Path("/c/a.m4a"), out_path=Path("/o/v.mp4"))
    assert args[args.index("-f") + 1] == "concat"
    assert args[args.index("-c") + 1] == "copy"
    assert args[args.index("-movflags") + 1] == "+faststart"
    aargs = command.audio_args(Path("/s/track.wav"), out_path=Path("/c/a.m4a"), duration_ms=6000)
    assert aargs[aargs.index("-c:a") + 1] == "aac" and aargs[aargs.index("-t") + 1] == "6"


def test_chunks_without_a_lyric_burn_no_subtitles_and_keep_their_cache_key() -> None:
    from engine.render.render import chunk_fingerprint, chunk_lines
    from engine.render.timeline import SubtitleLine

    tl = build_timeline(_clips([0, 9000, 18000]), duration_ms=27_000, spec=SPEC, seed=1)
    line = SubtitleLine("only in the first seconds", 500, 2500)
    with_line = [s for s in tl.chunks if chunk_lines(s, timeline=tl, subtitles=[line])]
    assert with_line == [tl.chunks[0]]
    for chunk in tl.chunks:
        same = chunk_fingerprint(chunk, timeline=tl, subtitles=[line]) == chunk_fingerprint(chunk, timeline=tl,
                                                                                               subtitles=[])
        assert same == (chunk not in with_line)  # adding a line re-encodes only the chunks where it shows


def test_encode_speed_picks_the_x264_options_and_only_re_renders(data_root: Path) -> None:
    """The project's ``encode_speed``: fast adds x264's cheapest sub-pixel search; changing it rewinds to IMAGED."""
    from typing import get_args

    from engine import machine
    from engine.models import EncodeSpeed
    from engine.project import create_project, update_settings
    from engine.render.timeline import ENCODE_SPEEDS, render_spec
    from engine.storage import ProjectFolder

    balanced = render_spec(aspect="16:9", resolution=720)
    fast = render_spec(aspect="16:9", resolution=720, encode_speed="fast")
    assert balanced.x264_params == ENCODE_SPEEDS["balanced"] == RenderSpec(width=16, height=16).x264_params
    assert "subme=1" in fast.x264_params and "subme" not in balanced.x264_params
    assert command.video_encoder_args(fast) != command.video_encoder_args(balanced)  # its own cached chunks
    assert set(get_args(EncodeSpeed)) == set(ENCODE_SPEEDS)  # the setting's choices are the render's
    project = create_project()
    folder = ProjectFolder(project.id)
    project.state = machine.RENDERED
    folder.save_project(project)
    assert update_settings(project.id, {"encode_speed": "fast"}).state == machine.IMAGED
    assert folder.load_project().settings.encode_speed == "fast"


def test_warm_up_loads_every_kernel_the_render_calls() -> None:
    """After ``warp.warm_up()`` the render's own calls (camera, every transition, the lyrics) load no other kernel."""
    script = """
import numba, numpy as np
from engine.render import burn, crossfades, kernels, warp
from engine.render.subtitles import subtitle_style
from engine.render.timeline import SubtitleLine
warp.warm_up()
dispatchers = {n: k for n, k in vars(kernels).items() if isinstance(k, numba.core.registry.CPUDispatcher)}
before = {n: len(k.signatures) for n, k in dispatchers.items()}
assert all(before.values()), before
rng = np.random.default_rng(3)
still = warp.Still(*(rng.integers(0, 256, s, dtype=np.uint8) for s in ((72, 128), (36, 64), (36, 64))))
a, b = warp.warp_frame(still, zoom=1.2, cx=0.5, cy=0.5), warp.warp_frame(still, zoom=1.1, cx=0.4, cy=0.6)
ring = warp.FrameRing(width=128, height=72, slots=2)
for kind in crossfades.KINDS:
    crossfades.blend(kind, a, b, progress=0.3, out=ring.next()[1])
line = SubtitleLine("Hello bright world", 0, 2000, (("Hello", 0, 500), ("bright", 500, 900), ("world", 900, 1500)))
burn.Burner([line], style=subtitle_style(width=128, height=72), fps=30).burn(*ring.next()[1], frame=20)
after = {n: len(k.signatures) for n, k in dispatchers.items()}
assert after == before, (before, after)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
