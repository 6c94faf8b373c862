"""The committed real-music excerpts (tests/data/real_audio/, made by
``python bench/corpus.py excerpts``) are complete and their truth is
self-consistent; load_corpus needs no bench-only dependency (mido)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bench.corpus import load_corpus

FOLDER = Path(__file__).parent / "data" / "real_audio"
TRACKS = load_corpus(FOLDER)


def test_the_set_is_complete_and_small() -> None:
    assert 8 <= len(TRACKS) <= 10
    assert sum(p.stat().st_size for p in FOLDER.glob("*.ogg")) <= 4_000_000
    tags = {tag for t in TRACKS for tag in t.tags}
    assert {"3/4", "6/8", "swing", "tempo-change", "half-time", "rubato-intro", "breakdown"} <= tags
    assert sum(t.kind == "charted-recording" and "metal" in t.tags for t in TRACKS) >= 2
    assert (FOLDER / "README.md").exists()


def test_load_corpus_needs_no_bench_extra() -> None:
    code = "import sys; sys.modules['mido'] = None; from bench.corpus import load_corpus; print(len(load_corpus(sys.argv[1])))"
    out = subprocess.run([sys.executable, "-c", code, str(FOLDER)], capture_output=True, text=True,
                         cwd=Path(__file__).parent.parent, check=True)
    assert int(out.stdout) == len(TRACKS)


@pytest.mark.parametrize("track", TRACKS, ids=lambda t: t.name)
def test_excerpt_truth_is_consistent(track) -> None:
    info = sf.info(str(track.audio))
    assert info.samplerate == 22050 and info.channels == 1
    assert 20.0 <= info.duration <= 30.5
    assert abs(info.duration - track.duration_s) < 0.1
    assert track.has_beat_truth
    beats = np.asarray(track.beats_s)
    assert np.all(np.diff(beats) > 0) and beats[0] >= 0 and beats[-1] <= track.duration_s
    assert set(track.downbeats_s) <= set(track.beats_s)
    assert track.beats_per_bar in (2, 3, 4)
    assert all(track.in_pulse(b) for b in beats)
    if not track.tempo_varies:
        assert abs(60 / np.median(np.diff(beats)) - track.tempo_bpm) < 0.5
