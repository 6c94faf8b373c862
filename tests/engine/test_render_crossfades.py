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
    expected = 0.75 * a[0].astype(float) + 0.25 * b[0].astype(float)
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
