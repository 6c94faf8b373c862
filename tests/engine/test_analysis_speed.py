"""What makes the analysis cheaper without changing an answer: librosa.beat's kernels from numba's cache, one STFT
shared by madmom's two networks, onnxruntime at one thread per session, the render's kernels warmed up early."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.audio import NUMBA_CACHE_DIR, beats
from engine.audio.sample import render_song

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def song44() -> np.ndarray:
    """Eight seconds of a synthetic song at 44.1 kHz."""
    mono, _ = render_song(bpm=126, sections=[("verse", 4)], seed=9, sr=44100, key_pc=0, mode="major", lead_in_s=0.5)
    return np.asarray(mono[: 8 * 44100], dtype=np.float32)


def test_librosa_beat_kernels_come_from_the_cache_in_a_fresh_process() -> None:
    beats.librosa_beats(np.zeros(22050 * 3, dtype=np.float32))  # this process built the cache (if it was missing)
    env = {**os.environ, "NUMBA_DEBUG_CACHE": "1", "NUMBA_CACHE_DIR": str(NUMBA_CACHE_DIR), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", "import engine.audio.beats"], env=env, capture_output=True, text=True,
                         check=True, cwd=REPO).stdout
    local_score = [line for line in out.splitlines() if "__beat_local_score" in line and ".nbc" in line]
    assert local_score and all("data loaded from" in line for line in local_score), local_score  # never compiled again


def test_librosa_beat_is_imported_once_through_the_cache() -> None:
    import librosa.beat

    from engine.audio import librosa_beat

    assert librosa_beat() is librosa.beat  # a no-op once imported


def test_network_inputs_are_what_each_network_makes_itself(song44: np.ndarray) -> None:
    from madmom.features.beats import RNNBeatProcessor
    from madmom.features.downbeats import RNNDownBeatProcessor

    down_inputs, beat_inputs = beats.network_inputs(song44)
    signal = beats._signal(song44)
    own_down = RNNDownBeatProcessor()  # madmom's defaults: its own STFTs, 2 onnxruntime threads per session
    own_beat = RNNBeatProcessor()
    assert np.array_equal(down_inputs, own_down.processors[0](signal))
    assert np.array_equal(beat_inputs, own_beat.processors[0](signal))
    assert np.array_equal(beats.beat_activations(song44, beats.MODEL_SR, inputs=down_inputs), own_down(signal))
    assert np.array_equal(beats.beat_activations(song44, beats.MODEL_SR), own_down(signal))


def test_each_network_session_runs_on_one_thread() -> None:
    ensembles = [beats._processors()[0].processors[1], beats._beat_network().processors[1]]
    for ensemble in ensembles:
        networks = ensemble.processors[0].processors
        assert networks and all(n._runtime.session_options.intra_op_num_threads == beats.ONNX_THREADS == 1 for n in networks)


def test_track_beats_gives_the_same_answer_every_time(song44: np.ndarray) -> None:
    one, two = beats.track_beats(song44, beats.MODEL_SR), beats.track_beats(song44, beats.MODEL_SR)
    assert np.array_equal(one.beats_s, two.beats_s) and np.array_equal(one.downbeats_s, two.downbeats_s)
    assert len(one.beats_s) > 8


def test_the_render_kernels_warm_up_in_the_background() -> None:
    from engine.render import kernels
    from engine.runner import _warm_up_render

    _warm_up_render()
    assert kernels.blend_rows.signatures  # loaded (compiled or from the cache), so the render starts without it
