"""Transitions drawn in Python on yuv420p planes (engine.render.crossfades)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.errors import RenderError
from engine.render import crossfades
from engine.render.timeline import CALM_TRANSITIONS, HIGH_TRANSITIONS, MID_TRANSITIONS

W, H = 64, 36


def _frame(seed: int) -> crossfades.Planes:
    rng = np.random.default_rng(seed)
    return (rng.integers(16, 236, (H, W), dtype=np.uint8), rng.integers(16, 241, (H // 2, W // 2), dtype=np.uint8),
            rng.integers(16, 241, (H // 2, W // 2), dtype=np.uint8))


def _dist(x: crossfades.Planes, y: crossfades.Planes) -> float:
    return float(np.mean([np.abs(p.astype(int) - q.astype(int)).mean() for p, q in zip(x, y)]))


def test_every_transition_the_timeline_picks_is_drawn() -> None:
    assert set(CALM_TRANSITIONS + MID_TRANSITIONS + HIGH_TRANSITIONS) <= set(crossfades.KINDS)


@pytest.mark.parametrize("kind", crossfades.KINDS)
def test_transition_goes_from_a_to_b(kind: str) -> None:
    a, b = _frame(1), _frame(2)
    start = crossfades.blend(kind, a, b, progress=0.0)
    end = crossfades.blend(kind, a, b, progress=1.0)
    mid = crossfades.blend(kind, a, b, progress=0.5)
    for out in (start, mid, end):
        assert [p.shape for p in out] == [p.shape for p in a] and all(p.dtype == np.uint8 for p in out)
        assert all(p.flags["C_CONTIGUOUS"] for p in out)
    assert _dist(start, a) < 1.0 and _dist(end, b) < 1.0
    assert _dist(mid, a) > 5.0 and _dist(mid, b) > 5.0  # half way it is neither picture
    # the share of b grows steadily over the transition
    shares = [_dist(crossfades.blend(kind, a, b, progress=p), a) for p in np.linspace(0, 1, 9)]
    if kind != "fadeblack":  # fadeblack goes through black, far from both
        assert shares[-1] > shares[0] and all(y >= x - 3.0 for x, y in zip(shares, shares[1:]))


def test_fade_is_the_weighted_mean_and_fadeblack_passes_through_black() -> None:
    a, b = _frame(3), _frame(4)
    mid = crossfades.blend("fade", a, b, progress=0.25)
    w = crossfades.eased(0.25)  # the S-curve's weight of b
    expected = (1 - w) * a[0].astype(float) + w * b[0].astype(float)
    assert np.abs(mid[0] - expected).max() <= 1.0
    black = crossfades.blend("fadeblack", a, b, progress=0.5)
    assert np.abs(black[0].astype(int) - 16).max() <= 1 and np.abs(black[1].astype(int) - 128).max() <= 1


def test_progress_is_symmetric_and_never_a_pure_picture() -> None:
    ps = [crossfades.transition_progress(index=k, dur_frames=10) for k in range(10)]
    assert 0.0 < ps[0] < ps[-1] < 1.0 and abs(ps[0] + ps[-1] - 1.0) < 1e-9


def test_unknown_transition_is_a_render_error() -> None:
    with pytest.raises(RenderError):
        crossfades.blend("spiral", _frame(1), _frame(2), progress=0.5)


def test_chunk_frames_are_the_camera_then_the_blend_into_the_next_clip() -> None:
    from pathlib import Path

    from engine.render import warp
    from engine.render.timeline import Clip, RenderSpec, build_timeline

    spec = RenderSpec(width=W, height=H, fps=30)
    clips = [Clip(f"s{i}", Path(f"/img/{i}.png"), f"sha{i}", i * 2000, (i + 1) * 2000, "calm", 0.2) for i in range(2)]
    tl = build_timeline(clips, duration_ms=4000, spec=spec, seed=3)
    chunk = tl.chunks[0]
    assert chunk.transition and chunk.transition_frames == tl.transitions[0].dur_frames
    stills = [warp.Still(*_frame(10 + i)) for i in range(2)]
    out = b"".join(bytes(b) for b in warp.chunk_frames(chunk, clips=tl.clips, stills=stills, fps=30))
    size = W * H * 3 // 2
    assert len(out) == chunk.dur_frames * size
    body = b"".join(bytes(b) for b in warp.clip_frames(stills[0], tl.clips[0], start_frame=chunk.start_frame,
                                                         dur_frames=chunk.transition_offset_frames, fps=30))
    assert out[:len(body)] == body
    k = chunk.transition_frames // 2
    frame = chunk.start_frame + chunk.transition_offset_frames + k
    mixed = crossfades.blend(chunk.transition, warp.camera_frame(stills[0], tl.clips[0], frame=frame, fps=30),
                              warp.camera_frame(stills[1], tl.clips[1], frame=frame, fps=30),
                              progress=crossfades.transition_progress(index=k, dur_frames=chunk.transition_frames))
    at = (chunk.transition_offset_frames + k) * size
    assert out[at:at + size] == b"".join(p.tobytes() for p in mixed)


# --------------------------------------------------------------------------- frames mid-transition look intentional


def _picture_planes(prompt: str, *, seed: int) -> crossfades.Planes:
    """A real local picture as yuv420p planes (OpenCV's I420 conversion)."""
    import cv2

    from engine.providers.local.illustrator import draw_scene

    rgb = np.asarray(draw_scene(prompt=prompt, mood="calm", energy=0.5, style="synthwave", seed=seed, version=1,
                                width=320, height=180))
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
    h, w = rgb.shape[:2]
    return (np.ascontiguousarray(yuv[:h]), np.ascontiguousarray(yuv[h:h + h // 4].reshape(h // 2, w // 2)),
            np.ascontiguousarray(yuv[h + h // 4:].reshape(h // 2, w // 2)))


def _weights(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, how much of ``b`` the output holds (where the pictures differ enough to tell)."""
    d = b.astype(np.float32) - a.astype(np.float32)
    ok = np.abs(d) >= 40
    return np.where(ok, (out.astype(np.float32) - a) / np.where(ok, d, 1.0), 0.5), ok


IN_PLACE = ("fade", "dissolve", "smoothleft", "wipeleft", "circleopen", "hblur")  # blends without moving the pictures


@pytest.mark.parametrize("kind", IN_PLACE)
def test_mid_transition_frames_are_no_long_double_exposure_and_no_colour_strips(kind: str) -> None:
    """Two real pictures through each transition at its longest length (1 s at 30 fps): a frame where most of
    the picture is a 20-80% mix of both (a ghosted double image) is shown for at most 0.15 s (it was 0.6 s
    for a 1 s fade), and the chroma planes switch with their luma (no coloured strip or speckle: at most 1% of
    chroma samples disagree; the old dissolve had 15%)."""
    import cv2

    a = _picture_planes("A figure stands before a huge low sun. Setting: a city. Wide shot.", seed=1)
    b = _picture_planes("A couple under the stars by the sea. Setting: a coast. Close-up.", seed=2)
    fps, frames = 30, 30
    ghost, worst = 0, 0.0
    for i in range(frames):
        out = crossfades.blend(kind, a, b, progress=crossfades.transition_progress(index=i, dur_frames=frames))
        w, ok = _weights(out[0], a[0], b[0])
        if np.mean(((w > 0.2) & (w < 0.8))[ok]) > 0.5:
            ghost += 1
        size = (a[1].shape[1], a[1].shape[0])
        w_luma = cv2.resize(np.clip(w, 0, 1).astype(np.float32), size, interpolation=cv2.INTER_AREA)
        ok_luma = cv2.resize(ok.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.99
        for c in (1, 2):
            wc, okc = _weights(out[c], a[c], b[c])
            both = okc & ok_luma
            if both.any():
                worst = max(worst, float(np.mean(np.abs(wc[both] - w_luma[both]) > 0.5)))
    assert ghost / fps <= 0.15, f"{kind}: a double exposure for {ghost / fps:.2f} s"
    if kind != "hblur":  # a blur moves pixels: its weights against the sharp pictures say nothing about colour
        assert worst <= 0.01, f"{kind}: chroma off its luma in {worst:.1%} of samples"


def test_whole_picture_mixes_follow_a_steep_s_curve() -> None:
    assert crossfades.eased(0.0) == pytest.approx(0.0) and crossfades.eased(1.0) == pytest.approx(1.0)
    assert crossfades.eased(0.5) == pytest.approx(0.5)
    assert crossfades.eased(0.4) < 0.2 and crossfades.eased(0.6) > 0.8
