"""Shots follow the music and the words: energy and section choose the wording and the shot, neighbouring
scenes never share a shot or a composition, and a whole 3-minute song has variety (the most common
composition under 15%). Measured with ``bench/bench_cast.py``'s functions (the numbers are in
docs/benchmarks.md); asserted here on a hand-made 3-minute analysis, a rendered 3-minute song and a
real thrash excerpt."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from bench.bench_cast import Shots, shot_stats, song_analysis, storyboard
from engine.models import Analysis, EnergyCurve, Section
from engine.providers.local.writer import section_key

MAX_COMPOSITION_SHARE = 0.15


def hand_made_song(duration_ms: int = 180_000) -> Analysis:
    """Verse / chorus every 20 s at 128 BPM; verses loud (0.8 energy: thrash), choruses louder."""
    beats = list(range(240, duration_ms, 469))
    labels = ["intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "verse", "chorus", "outro"]
    step = duration_ms // len(labels)
    sections = [Section(index=i, label=lab, start_ms=i * step, end_ms=(i + 1) * step if i < len(labels) - 1 else duration_ms,
                        energy=0.95 if lab == "chorus" else 0.8 if lab == "verse" else 0.5, mood="energetic")
                for i, lab in enumerate(labels)]
    hop = 50
    rms = [next(s.energy for s in sections if s.start_ms <= t * hop < s.end_ms) for t in range(duration_ms // hop)]
    return Analysis(duration_ms=duration_ms, tempo_bpm=128.0, beats_ms=beats, downbeats_ms=beats[::4], sections=sections,
                    energy=EnergyCurve(hop_ms=hop, rms=rms, onset=rms, brightness=rms), mood="driving")


def check(stats: Shots, *, whole_song: bool) -> None:
    assert stats.shot_repeats == 0 and stats.composition_repeats == 0, stats
    assert stats.quiet_loud_verses == 0, stats
    if stats.chorus_open == stats.chorus_open:  # not NaN: the song has choruses
        assert stats.chorus_open >= 0.9, stats
    if whole_song:
        assert stats.top_composition[1] < MAX_COMPOSITION_SHARE, stats


@pytest.mark.parametrize("style", ["noir", "synthwave", "watercolor"])
def test_a_loud_three_minute_song_has_varied_shots_that_follow_it(style: str) -> None:
    scenes, _bible, prompts = storyboard(hand_made_song(), style=style)
    assert len(scenes) >= 25
    check(shot_stats(scenes, prompts, style=style), whole_song=True)
    for scene, prompt in zip(scenes, prompts):
        if section_key(scene.section) == "verse":
            assert "quiet" not in prompt.lower() and "fierce" in prompt.lower(), prompt  # a loud verse is not "quiet"
        if section_key(scene.section) == "chorus":
            assert "bright" in prompt.lower(), prompt  # the brightest scenes


@pytest.mark.slow
def test_a_rendered_three_minute_song() -> None:
    from engine.audio import sample

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "song.wav"
        sample.make_song(wav, bpm=128, bars=96, seed=11)
        analysis = song_analysis(wav)
    scenes, _bible, prompts = storyboard(analysis)
    check(shot_stats(scenes, prompts), whole_song=True)


@pytest.mark.slow
def test_a_real_thrash_excerpt() -> None:
    from bench.corpus import EXCERPTS_DIR

    analysis = song_analysis(EXCERPTS_DIR / "fof_internal_degeneration_40s.ogg")
    scenes, _bible, prompts = storyboard(analysis)
    check(shot_stats(scenes, prompts), whole_song=False)
