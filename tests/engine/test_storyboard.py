"""Storyboard planning: property tests of plan_cuts on synthetic beat grids, and build_scenes."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.models import Analysis, EnergyCurve, LyricLine, LyricWord, Section
from engine.providers.local.storyboard import LocalStoryboarder, build_scenes
from engine.storyboard import (
    beat_period_ms,
    candidate_points,
    energy_function,
    lyric_anchors,
    plan_cuts,
)

PROPS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- synthetic songs


def beat_grid(*, duration_ms: int, bpm: float, offset_frac: float, beats_per_bar: int = 4, phase: int = 0) -> tuple[list[int], list[int]]:
    """A regular beat grid and its downbeats."""
    period = 60_000 / bpm
    beats = []
    k = 0
    while True:
        t = round(offset_frac * period + k * period)
        if t >= duration_ms:
            break
        beats.append(t)
        k += 1
    return beats, beats[phase % beats_per_bar :: beats_per_bar]


@st.composite
def songs(draw, *, strict_bounds: bool, separated_lyrics: bool = False):
    """A random synthetic song: grid, energies, lyrics, sections, scene bounds."""
    bpm = draw(st.floats(min_value=60, max_value=180))
    duration_ms = draw(st.integers(min_value=10_000, max_value=150_000))
    beats, downs = beat_grid(
        duration_ms=duration_ms,
        bpm=bpm,
        offset_frac=draw(st.floats(min_value=0, max_value=0.99)),
        beats_per_bar=draw(st.sampled_from([3, 4])),
        phase=draw(st.integers(min_value=0, max_value=3)),
    )
    period = math.ceil(60_000 / bpm) + 1
    min_ms = draw(st.integers(min_value=500, max_value=4000))
    if strict_bounds:
        max_ms = 2 * min_ms + 3 * period + draw(st.integers(min_value=0, max_value=15_000))
    else:
        max_ms = min_ms + draw(st.integers(min_value=0, max_value=15_000))
    blocks = draw(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=40))
    block_ms = max(1, duration_ms // len(blocks) + 1)

    def energy_at(t_ms: int) -> float:
        return blocks[min(len(blocks) - 1, max(0, t_ms // block_ms))]

    spans: list[tuple[int, int]] = []
    t = draw(st.integers(min_value=0, max_value=20_000))
    if separated_lyrics:
        t = max(t, min_ms + period)
    for _ in range(draw(st.integers(min_value=0, max_value=30))):
        length = draw(st.integers(min_value=200, max_value=9000))
        end = min(duration_ms, t + length)
        if separated_lyrics and t > duration_ms - min_ms - period:
            break
        if t >= duration_ms - 1:
            break
        spans.append((t, max(end, t + 1)))
        gap = draw(st.integers(min_value=0, max_value=25_000))
        t = end + gap
        if separated_lyrics:
            t = max(t, spans[-1][0] + min_ms + period)
    cuts_at = sorted(set(draw(st.lists(st.integers(min_value=1, max_value=duration_ms - 1), max_size=6))))
    bounds = [0, *cuts_at, duration_ms]
    sections = list(zip(bounds, bounds[1:]))
    return {
        "duration_ms": duration_ms,
        "beats_ms": beats,
        "downbeats_ms": downs,
        "energy_at": energy_at,
        "lyric_spans": spans,
        "sections": sections,
        "min_scene_ms": min_ms,
        "max_scene_ms": max_ms,
        "period_ms": period,
    }


def plan(song: dict) -> list[int]:
    args = {k: v for k, v in song.items() if k != "period_ms"}
    return plan_cuts(**args)


def nearest_beats(beats: list[int], t_ms: int) -> set[int]:
    """The beat(s) nearest to t (two on an exact tie)."""
    best = min(abs(b - t_ms) for b in beats)
    return {b for b in beats if abs(b - t_ms) == best}


# --------------------------------------------------------------------------- plan_cuts properties


@PROPS
@given(songs(strict_bounds=False))
def test_cuts_cover_the_track_in_order_and_sit_on_beats(song):
    cuts = plan(song)
    assert cuts[0] == 0 and cuts[-1] == song["duration_ms"]
    assert all(a < b for a, b in zip(cuts, cuts[1:]))
    beats = set(song["beats_ms"])
    assert all(c in beats for c in cuts[1:-1]), "every inner cut is a beat on a regular grid"


@PROPS
@given(songs(strict_bounds=True))
def test_lengths_within_bounds_when_the_grid_allows(song):
    cuts = plan(song)
    lengths = [b - a for a, b in zip(cuts, cuts[1:])]
    lo, hi = song["min_scene_ms"], song["max_scene_ms"]
    assert all(lo <= n <= hi for n in lengths), (lengths, lo, hi)


@PROPS
@given(songs(strict_bounds=False))
def test_every_lyric_line_starts_a_scene_or_is_merged_within_min(song):
    cuts = plan(song)
    for start_ms, _end in song["lyric_spans"]:
        snapped = nearest_beats(song["beats_ms"], start_ms)
        if snapped & set(cuts):
            continue
        # merged: a cut (possibly 0 or the end) lies closer than one minimum scene
        gap = min(abs(c - s) for c in cuts for s in snapped)
        assert gap < song["min_scene_ms"], (start_ms, snapped, cuts)


@PROPS
@given(songs(strict_bounds=True, separated_lyrics=True))
def test_separated_lyric_lines_each_start_a_scene_on_the_nearest_beat(song):
    cuts = set(plan(song))
    for start_ms, _end in song["lyric_spans"]:
        assert nearest_beats(song["beats_ms"], start_ms) & cuts, start_ms


@PROPS
@given(songs(strict_bounds=True))
def test_long_instrumental_gaps_get_several_scenes(song):
    cuts = plan(song)
    hi = song["max_scene_ms"]
    spans = song["lyric_spans"]
    gaps = [(end, nxt[0]) for (_s, end), nxt in zip(spans, spans[1:])]
    gaps.append((0, spans[0][0]) if spans else (0, song["duration_ms"]))
    if spans:
        gaps.append((spans[-1][1], song["duration_ms"]))
    for a, b in gaps:
        if b - a >= 2 * hi + 2 * song["period_ms"]:
            inside = [c for c in cuts if a < c < b]
            assert len(inside) >= (b - a) // hi - 1 >= 1, (a, b, cuts)


def test_scene_length_follows_energy():
    beats, downs = beat_grid(duration_ms=120_000, bpm=120, offset_frac=0.0)
    cuts = plan_cuts(
        duration_ms=120_000,
        beats_ms=beats,
        downbeats_ms=downs,
        energy_at=lambda t: 0.05 if t < 60_000 else 0.95,
        lyric_spans=[],
        sections=[(0, 60_000), (60_000, 120_000)],
        min_scene_ms=2000,
        max_scene_ms=10_000,
    )
    calm = [b - a for a, b in zip(cuts, cuts[1:]) if b <= 60_000]
    loud = [b - a for a, b in zip(cuts, cuts[1:]) if a >= 60_000]
    assert sum(calm) / len(calm) > 2 * (sum(loud) / len(loud))
    assert 60_000 in cuts, "the section boundary (a downbeat) is a cut"


def test_cuts_prefer_downbeats():
    beats, downs = beat_grid(duration_ms=90_000, bpm=100, offset_frac=0.3)
    cuts = plan_cuts(
        duration_ms=90_000, beats_ms=beats, downbeats_ms=downs, energy_at=lambda t: 0.5,
        lyric_spans=[], sections=[], min_scene_ms=2500, max_scene_ms=8000,
    )
    assert set(cuts[1:-1]) <= set(downs)


def test_no_beats_falls_back_to_an_even_grid():
    cuts = plan_cuts(
        duration_ms=40_000, beats_ms=[], downbeats_ms=[], energy_at=lambda t: 0.5,
        lyric_spans=[], sections=[], min_scene_ms=2500, max_scene_ms=8000,
    )
    lengths = [b - a for a, b in zip(cuts, cuts[1:])]
    assert len(lengths) >= 5
    assert max(lengths) - min(lengths) <= 500
    assert all(2500 <= n <= 8000 for n in lengths)


def test_a_beatless_intro_is_filled_and_still_split():
    beats, downs = beat_grid(duration_ms=60_000, bpm=120, offset_frac=0.0)
    beats = [b for b in beats if b >= 30_000]
    downs = [b for b in downs if b >= 30_000]
    cuts = plan_cuts(
        duration_ms=60_000, beats_ms=beats, downbeats_ms=downs, energy_at=lambda t: 0.2,
        lyric_spans=[], sections=[], min_scene_ms=2500, max_scene_ms=8000,
    )
    assert len([c for c in cuts if 0 < c < 30_000]) >= 3
    assert all(2500 <= b - a <= 8000 for a, b in zip(cuts, cuts[1:]))
    assert all(c in beats for c in cuts if 30_000 < c < 60_000)


def test_short_track_is_one_scene():
    assert plan_cuts(
        duration_ms=1800, beats_ms=[500, 1000, 1500], downbeats_ms=[500], energy_at=lambda t: 1.0,
        lyric_spans=[(100, 1700)], sections=[(0, 1800)], min_scene_ms=2500, max_scene_ms=8000,
    ) == [0, 1800]


def test_short_lines_are_merged():
    beats, downs = beat_grid(duration_ms=30_000, bpm=120, offset_frac=0.0)
    spans = [(5000, 5600), (5600, 6200), (6200, 6800), (10_000, 13_000)]
    cuts = plan_cuts(
        duration_ms=30_000, beats_ms=beats, downbeats_ms=downs, energy_at=lambda t: 0.5,
        lyric_spans=spans, sections=[], min_scene_ms=2500, max_scene_ms=8000,
    )
    assert 5000 in cuts and 10_000 in cuts
    assert 5500 not in cuts and 6000 not in cuts and 6500 not in cuts


def test_invalid_bounds_raise_input_error():
    with pytest.raises(InputError):
        plan_cuts(duration_ms=10_000, beats_ms=[], downbeats_ms=[], energy_at=lambda t: 0.5,
                  lyric_spans=[], sections=[], min_scene_ms=5000, max_scene_ms=4000)
    with pytest.raises(InputError):
        plan_cuts(duration_ms=0, beats_ms=[], downbeats_ms=[], energy_at=lambda t: 0.5,
                  lyric_spans=[], sections=[], min_scene_ms=1000, max_scene_ms=4000)


def test_helpers():
    assert beat_period_ms([]) == 500
    assert beat_period_ms([0, 400, 800, 1300]) == 400
    pts = candidate_points(duration_ms=10_000, beats_ms=[6000, 6500, 7000], downbeats_ms=[6000])
    assert [p.kind for p in pts if p.ms >= 6000] == ["downbeat", "beat", "beat", "fill", "fill", "fill", "fill", "fill"]
    assert sum(p.kind == "fill" for p in pts if p.ms < 6000) >= 10
    assert lyric_anchors(duration_ms=20_000, point_ms=[1000, 3000, 4000, 9000], lyric_spans=[(3100, 4000), (4100, 5000), (8800, 9500)], min_scene_ms=2500) == [3000, 9000]
    curve = EnergyCurve(hop_ms=100, rms=[0.0] * 50 + [1.0] * 50, onset=[], brightness=[])
    f = energy_function(curve, window_ms=200)
    assert f(1000) == 0.0 and f(9000) == 1.0 and 0 < f(5000) < 1


# --------------------------------------------------------------------------- build_scenes


def synthetic_analysis(*, duration_ms: int = 90_000, bpm: float = 110, with_lyrics: bool = True) -> Analysis:
    """A small song: intro, verse, chorus, outro, with energy rising into the chorus."""
    beats, downs = beat_grid(duration_ms=duration_ms, bpm=bpm, offset_frac=0.1)
    hop = 50
    rms = [min(1.0, 0.15 + 0.8 * (45_000 <= i * hop < 75_000) + 0.1 * ((i // 20) % 2)) for i in range(duration_ms // hop)]
    texts = [
        "Neon rain is falling on the city",
        "I drive all night down the empty road",
        "Your heart is a fire in the dark",
        "We dance beneath a thousand stars",
        "Hold on, the sun will rise again",
        "Hold on, the sun will rise again",
    ]
    lines = []
    if with_lyrics:
        starts = [16_000, 22_000, 30_000, 47_000, 55_000, 62_000]
        for i, (text, start) in enumerate(zip(texts, starts)):
            words = text.split()
            step = 3500 // len(words)
            lines.append(
                LyricLine(
                    index=i, text=text, start_ms=start, end_ms=start + 3800,
                    words=[LyricWord(text=w, start_ms=start + k * step, end_ms=start + (k + 1) * step) for k, w in enumerate(words)],
                )
            )
    bounds = [(0, 15_000, "intro", 0.2, "calm"), (15_000, 45_000, "verse", 0.4, "melancholic"),
              (45_000, 75_000, "chorus", 0.95, "euphoric"), (75_000, duration_ms, "outro", 0.2, "dreamy")]
    return Analysis(
        duration_ms=duration_ms, tempo_bpm=bpm, beats_ms=beats, downbeats_ms=downs,
        energy=EnergyCurve(hop_ms=hop, rms=rms, onset=[0.0] * len(rms), brightness=[0.5] * len(rms)),
        mood="bittersweet",
        sections=[Section(index=i, label=l, start_ms=a, end_ms=b, energy=e, mood=m) for i, (a, b, l, e, m) in enumerate(bounds)],
        lyrics=lines,
    )


def test_build_scenes_covers_the_track_with_lyrics_sections_and_energy():
    analysis = synthetic_analysis()
    scenes = build_scenes(analysis, min_scene_ms=2500, max_scene_ms=8000)
    assert [s.id for s in scenes] == [f"seg_{i + 1:03d}" for i in range(len(scenes))]
    assert [s.index for s in scenes] == list(range(len(scenes)))
    assert scenes[0].start_ms == 0 and scenes[-1].end_ms == analysis.duration_ms
    assert all(a.end_ms == b.start_ms for a, b in zip(scenes, scenes[1:]))
    for line in analysis.lyrics:
        mid = (line.start_ms + line.end_ms) // 2
        home = next(s for s in scenes if s.start_ms <= mid < s.end_ms)
        assert line.text in home.lyric_text.split("\n")
        assert all(w in home.words for w in line.words if home.start_ms <= w.start_ms < home.end_ms)
    for s in scenes:
        assert 0.0 <= s.energy <= 1.0
        assert s.visual_intent
        assert s.section in {"intro", "verse", "chorus", "outro"}
    chorus = [s for s in scenes if s.section == "chorus"]
    intro = [s for s in scenes if s.section == "intro"]
    assert min(s.energy for s in chorus) > max(s.energy for s in intro)
    assert all(s.mood == "euphoric" for s in chorus)
    assert any(not s.lyric_text for s in scenes), "instrumental parts keep their own scenes"


def test_build_scenes_is_deterministic_and_intents_differ():
    analysis = synthetic_analysis()
    a = build_scenes(analysis, min_scene_ms=2500, max_scene_ms=8000)
    b = build_scenes(analysis.model_copy(deep=True), min_scene_ms=2500, max_scene_ms=8000)
    assert [s.model_dump() for s in a] == [s.model_dump() for s in b]
    intents = [s.visual_intent for s in a]
    assert len(set(intents)) == len(intents)


def test_build_scenes_without_lyrics_or_sections():
    analysis = synthetic_analysis(with_lyrics=False).model_copy(update={"sections": [], "mood": ""})
    scenes = build_scenes(analysis, min_scene_ms=3000, max_scene_ms=9000)
    assert len(scenes) >= 10
    assert all(s.section == "main" and s.mood in {"calm", "steady", "intense"} for s in scenes)
    assert len({s.visual_intent for s in scenes}) == len(scenes)


def test_local_storyboarder_uses_the_project_bounds():
    from engine.models import ProjectSettings
    from engine.providers.base import StepIO

    analysis = synthetic_analysis()
    board = LocalStoryboarder()
    scenes = board.storyboard(analysis, settings=ProjectSettings(min_scene_ms=4000, max_scene_ms=12_000), io=StepIO())
    assert scenes[0].start_ms == 0 and scenes[-1].end_ms == analysis.duration_ms
    assert all(a.end_ms == b.start_ms for a, b in zip(scenes, scenes[1:]))
    assert len({s.id for s in scenes}) == len(scenes)
    assert all(4000 <= s.duration_ms <= 12_000 for s in scenes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(songs(strict_bounds=False))
def test_every_lyric_line_lands_in_a_scene(song):
    duration_ms = song["duration_ms"]
    hop = 100
    rms = [song["energy_at"](i * hop) for i in range(duration_ms // hop)]
    lines = [LyricLine(index=i, text=f"line {i}", start_ms=a, end_ms=b) for i, (a, b) in enumerate(song["lyric_spans"])]
    analysis = Analysis(
        duration_ms=duration_ms, tempo_bpm=120, beats_ms=song["beats_ms"], downbeats_ms=song["downbeats_ms"],
        energy=EnergyCurve(hop_ms=hop, rms=rms, onset=[], brightness=[]),
        sections=[Section(index=i, label="verse", start_ms=a, end_ms=b, energy=0.5, mood="calm") for i, (a, b) in enumerate(song["sections"])],
        lyrics=lines,
    )
    scenes = build_scenes(analysis, min_scene_ms=song["min_scene_ms"], max_scene_ms=song["max_scene_ms"])
    assert scenes[0].start_ms == 0 and scenes[-1].end_ms == duration_ms
    assert all(a.end_ms == b.start_ms for a, b in zip(scenes, scenes[1:]))
    for line in lines:
        mid = (line.start_ms + line.end_ms) // 2
        home = next(s for s in scenes if s.start_ms <= mid < s.end_ms)
        assert line.text in home.lyric_text.split("\n")
    for s in scenes:
        shown = [t for t in s.lyric_text.split("\n") if t]
        for t in shown:  # a scene only shows lines that overlap it
            line = lines[int(t.split()[1])]
            assert line.start_ms < s.end_ms and line.end_ms > s.start_ms
        assert 0.0 <= s.energy <= 1.0


def test_a_line_at_the_very_end_lands_in_the_last_scene():
    analysis = synthetic_analysis(with_lyrics=False)
    end = analysis.duration_ms
    analysis = analysis.model_copy(update={"lyrics": [LyricLine(index=0, text="the end", start_ms=end, end_ms=end)]})
    scenes = build_scenes(analysis, min_scene_ms=2500, max_scene_ms=8000)
    assert scenes[-1].lyric_text == "the end"
    assert all(not s.lyric_text for s in scenes[:-1])
