"""Test helpers: synthetic songs (cached per session) and accuracy measures against their truth."""
from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from engine.audio.features import SignalFeatures, load_and_analyze
from engine.audio.sample import SongTruth, make_song

_CACHE = Path(tempfile.mkdtemp(prefix="storybeat-songs-"))

# (bpm, seed, bars): the tempo set of the accuracy tests and the benchmark
TEMPO_SONGS: list[tuple[float, int, int]] = [(84.0, 1, 32), (100.0, 2, 32), (128.0, 3, 40), (150.0, 4, 48)]


@functools.cache
def song(bpm: float, seed: int, bars: int) -> tuple[Path, SongTruth]:
    """A synthetic song written once per test session."""
    path = _CACHE / f"song_{bpm:g}_{seed}_{bars}.wav"
    truth = make_song(path, bpm=bpm, bars=bars, seed=seed)
    return path, truth


@functools.cache
def analysed(bpm: float, seed: int, bars: int) -> tuple[SongTruth, SignalFeatures]:
    """A synthetic song and its analysis (computed once per session)."""
    path, truth = song(bpm, seed, bars)
    return truth, load_and_analyze(path)


def beat_errors_ms(found_ms: list[int] | np.ndarray, truth_ms: tuple[float, ...] | list[float]) -> np.ndarray:
    """For every true beat, the distance to the nearest found beat."""
    found = np.asarray(found_ms, dtype=np.float64)
    if found.size == 0:
        return np.full(len(truth_ms), np.inf)
    return np.array([np.min(np.abs(found - t)) for t in truth_ms])


def hit_fraction(found_ms: list[int], truth_ms: list[float] | tuple[float, ...], *, tol_ms: float) -> float:
    """Fraction of ``found_ms`` within ``tol_ms`` of some true time."""
    if not found_ms:
        return 0.0
    truth = np.asarray(truth_ms, dtype=np.float64)
    return float(np.mean([np.min(np.abs(truth - f)) <= tol_ms for f in found_ms]))
