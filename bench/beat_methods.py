"""The beat trackers compared in ``bench_beats.py``: storybeat's own and the library baselines.

Every method takes a mono float32 signal at 44.1 kHz and returns a
:class:`Tracked` (beat and downbeat times in seconds, the tempo it reports).
The baselines are called with their documented defaults; nothing is tuned to
the corpus.

* ``librosa`` - ``librosa.beat.beat_track`` with default settings (22.05 kHz).
* ``librosa-plp`` - ``librosa.beat.plp`` (predominant local pulse), beats at
  the local maxima of the pulse curve; tempo from the median beat interval.
* ``essentia`` - ``RhythmExtractor2013(method="multifeature")`` (essentia is
  AGPL: a bench dependency only).
* ``madmom-beats`` - madmom's ``RNNBeatProcessor`` + ``DBNBeatTrackingProcessor``.
* ``madmom-downbeats`` - madmom's ``RNNDownBeatProcessor`` +
  ``DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4])``.
* ``storybeat`` - the product's whole local analysis (``engine.audio.features``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SR = 44100


@dataclass(frozen=True)
class Tracked:
    """What a beat tracker found: beats and downbeats (seconds), the tempo it reports (BPM)."""

    beats_s: np.ndarray
    downbeats_s: np.ndarray | None
    tempo_bpm: float
    extra: object = None  # storybeat: the SignalFeatures (for the cut and section measures)


def _median_tempo(beats_s: np.ndarray) -> float:
    if len(beats_s) < 2:
        return 0.0
    return float(60.0 / np.median(np.diff(beats_s)))


def _to_22k(y: np.ndarray) -> np.ndarray:
    import librosa

    return librosa.resample(y, orig_sr=SR, target_sr=22050, res_type="soxr_hq")


def librosa_default(y: np.ndarray) -> Tracked:
    """librosa.beat.beat_track with its defaults."""
    import librosa

    tempo, beats = librosa.beat.beat_track(y=_to_22k(y), sr=22050, units="time")
    return Tracked(np.asarray(beats, dtype=np.float64), None, float(np.atleast_1d(tempo)[0]))


def librosa_plp(y: np.ndarray) -> Tracked:
    """librosa.beat.plp: beats at the local maxima of the predominant local pulse."""
    import librosa

    y22 = _to_22k(y)
    env = librosa.onset.onset_strength(y=y22, sr=22050)
    pulse = librosa.beat.plp(onset_envelope=env, sr=22050)
    beats = librosa.frames_to_time(np.flatnonzero(librosa.util.localmax(pulse)), sr=22050)
    return Tracked(np.asarray(beats, dtype=np.float64), None, _median_tempo(beats))


def essentia_multifeature(y: np.ndarray) -> Tracked:
    """essentia's RhythmExtractor2013, multifeature method."""
    import essentia.standard as es

    bpm, beats, _conf, _est, _intervals = es.RhythmExtractor2013(method="multifeature")(y.astype(np.float32))
    return Tracked(np.asarray(beats, dtype=np.float64), None, float(bpm))


def _madmom_signal(y: np.ndarray):  # noqa: ANN202
    from madmom.audio.signal import Signal

    return Signal(y.astype(np.float32), sample_rate=SR)


def madmom_beats(y: np.ndarray) -> Tracked:
    """madmom's RNN beat activations decoded by its DBN beat tracker."""
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor

    act = RNNBeatProcessor()(_madmom_signal(y))
    beats = DBNBeatTrackingProcessor(fps=100)(act)
    return Tracked(np.asarray(beats, dtype=np.float64), None, _median_tempo(beats))


def madmom_downbeats(y: np.ndarray) -> Tracked:
    """madmom's RNN downbeat activations decoded by its bar-pointer DBN (3 or 4 beats per bar)."""
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor

    act = RNNDownBeatProcessor()(_madmom_signal(y))
    out = DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=100)(act)
    beats = out[:, 0] if len(out) else np.zeros(0)
    downs = out[out[:, 1] == 1, 0] if len(out) else np.zeros(0)
    return Tracked(np.asarray(beats, dtype=np.float64), np.asarray(downs, dtype=np.float64), _median_tempo(beats))


def storybeat(y: np.ndarray) -> Tracked:
    """The product's local analysis of the same signal."""
    from engine.audio.features import analyze_signal

    f = analyze_signal(y, SR)
    return Tracked(np.asarray(f.beats_ms, dtype=np.float64) / 1000.0,
                   np.asarray(f.downbeats_ms, dtype=np.float64) / 1000.0, float(f.tempo_bpm), extra=f)


METHODS: dict[str, Callable[[np.ndarray], Tracked]] = {
    "storybeat": storybeat,
    "librosa": librosa_default,
    "librosa-plp": librosa_plp,
    "essentia": essentia_multifeature,
    "madmom-beats": madmom_beats,
    "madmom-downbeats": madmom_downbeats,
}


def quiet_libraries() -> None:
    """Silence onnxruntime's shape warnings and essentia's info lines (they are not errors)."""
    try:
        import onnxruntime

        onnxruntime.set_default_logger_severity(3)
    except ImportError:
        pass
    try:
        import essentia

        essentia.log.infoActive = False
        essentia.log.warningActive = False
    except ImportError:
        pass
