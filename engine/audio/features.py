"""Signal features of a track: tempo, beats, downbeats, onsets, energy curve, key, mood and sections.

Pure functions over numpy arrays (librosa + numpy); the only file I/O is
:func:`load_mono` / :func:`load_and_analyze` at the edge.

Method, in short:

* **Beats, downbeats, meter and tempo** - madmom's downbeat network and
  bar-pointer decoder on the 44.1 kHz signal (``engine.audio.beats``; why,
  and how the tempo octave is chosen, is said there).
* **Onsets** - librosa's onset detector on a fine (5.8 ms hop) log-mel
  spectral-flux envelope.
* **Sections** - a regular bar grid from the downbeats (gaps filled, extended
  over drumless intros/outros, silent edge bars left out), bar-synchronous
  MFCC/chroma/loudness/onset/brightness features scaled robustly (median/IQR),
  then the optimal piecewise-constant partition of the bars (dynamic
  programming; a penalty per section relative to the bar-to-bar feature
  spread; inner sections >= 4 bars, intro/outro >= 2). Sections are grouped
  by the similarity of their mean features; labels come from loudness and
  repetition (intro/outro: a much quieter one-off at an end, breakdown: one in
  the middle, chorus: the loudest repeated group, bridge: a one-off late
  section, otherwise verse); neighbours with the same label are merged.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import engine.audio  # noqa: F401  (sets NUMBA_CACHE_DIR before librosa is imported)

import librosa
import numpy as np
import soundfile as sf

from engine.audio.beats import MODEL_SR, track_beats
from engine.errors import InputError
from engine.models import Analysis, EnergyCurve, LyricLine, Section

log = logging.getLogger(__name__)

ANALYSIS_SR = 22050
ONSET_HOP = 128  # 5.8 ms at 22.05 kHz
FEATURE_HOP = 512  # 23 ms
ENERGY_HOP_MS = 50
BEATS_PER_BAR = 4
CHORUS_ENERGY_MARGIN = 0.05  # a chorus is within ~2 dB of the loudest section
BREAKDOWN_MARGIN = 0.15  # an intro, outro or breakdown is > ~6 dB below the loudest section
MIN_SECTION_BARS = 4  # a section in the middle of a song is at least 4 bars long
MIN_EDGE_BARS = 2  # an intro or outro at least 2
SECTION_PENALTY = 2.5  # cost of a section, in units of the bar-to-bar feature spread
SAME_SECTION_DISTANCE = 1.0  # mean bar features this close (robust z units): the same section repeated
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Krumhansl-Kessler key profiles.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class SectionSpan:
    """A section found by segmentation (before it becomes an ``engine.models.Section``)."""

    label: str
    start_ms: int
    end_ms: int
    energy: float
    mood: str


@dataclass(frozen=True)
class SignalFeatures:
    """Everything ``engine.models.Analysis`` needs except lyrics."""

    duration_ms: int
    tempo_bpm: float
    beats_ms: list[int]
    downbeats_ms: list[int]
    onsets_ms: list[int]
    energy: EnergyCurve
    key: str
    mode: str
    mood: str
    sections: list[SectionSpan]
    beats_per_bar: int = BEATS_PER_BAR
    extras: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------- loading


def load_mono(wav_path: Path, *, sr: int = ANALYSIS_SR) -> np.ndarray:
    """Read an audio file as mono float32 at ``sr``."""
    try:
        data, file_sr = sf.read(str(wav_path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise InputError(f"cannot read audio {Path(wav_path).name}: {exc}") from exc
    mono = data.mean(axis=1)
    if file_sr != sr:
        mono = librosa.resample(mono, orig_sr=file_sr, target_sr=sr, res_type="soxr_hq")
    return np.ascontiguousarray(mono, dtype=np.float32)


# ---------------------------------------------------------------------------- small helpers


def _robust_unit(x: np.ndarray, *, lo_pct: float = 0.0, hi_pct: float = 99.0) -> np.ndarray:
    """Scale to 0..1 by percentiles (clipped)."""
    if x.size == 0:
        return x.astype(np.float64)
    lo, hi = np.percentile(x, lo_pct), np.percentile(x, hi_pct)
    if hi - lo < 1e-12:
        return np.zeros_like(x, dtype=np.float64)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def _frames_ms(frames: np.ndarray, *, sr: int, hop: int) -> np.ndarray:
    return np.asarray(frames, dtype=np.float64) * hop * 1000.0 / sr


@dataclass(frozen=True)
class Spectra:
    """Spectral intermediates computed once per track and shared by every feature.

    ``fine_*``: 1024-point STFT, hop 128 (5.8 ms) - onsets.
    ``coarse_*``: 4096-point STFT, hop 512 (23 ms) - chroma, MFCC, loudness, brightness.
    """

    sr: int
    n_samples: int
    fine_hop: int
    fine_mel_db: np.ndarray  # (64, n) log-mel
    coarse_hop: int
    chroma: np.ndarray  # (12, m)
    mfcc: np.ndarray  # (13, m), without c0
    rms: np.ndarray  # (m,) linear
    centroid_hz: np.ndarray  # (m,)
    coarse_onset: np.ndarray  # (m,)


def compute_spectra(y: np.ndarray, sr: int) -> Spectra:
    """All spectral intermediates of a mono signal (chroma assumes A440 tuning)."""
    fine_hop, coarse_hop = ONSET_HOP, FEATURE_HOP
    fine_mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=fine_hop, n_mels=64, fmax=sr / 2)
    stft = np.abs(librosa.stft(y, n_fft=4096, hop_length=coarse_hop))
    power = stft**2
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=96, fmax=sr / 2)
    mel_db = librosa.power_to_db(mel)
    return Spectra(
        sr=sr, n_samples=len(y), fine_hop=fine_hop, fine_mel_db=librosa.power_to_db(fine_mel),
        coarse_hop=coarse_hop,
        chroma=librosa.feature.chroma_stft(S=power, sr=sr, tuning=0.0),
        mfcc=librosa.feature.mfcc(S=mel_db, n_mfcc=14)[1:],
        rms=librosa.feature.rms(S=stft, frame_length=4096)[0],
        centroid_hz=librosa.feature.spectral_centroid(S=stft, sr=sr, n_fft=4096)[0],
        coarse_onset=librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=coarse_hop),
    )


def onset_envelope(spectra: Spectra) -> np.ndarray:
    """Log-mel spectral-flux onset strength on the fine grid (all bands)."""
    return librosa.onset.onset_strength(S=spectra.fine_mel_db, sr=spectra.sr, hop_length=spectra.fine_hop)


def _local_max(env: np.ndarray, radius: int) -> np.ndarray:
    from scipy.ndimage import maximum_filter1d

    return maximum_filter1d(env, size=2 * radius + 1, mode="nearest")


# ---------------------------------------------------------------------------- energy, key, mood


def energy_curve(spectra: Spectra, *, hop_ms: int = ENERGY_HOP_MS) -> EnergyCurve:
    """RMS loudness, onset strength and brightness every ``hop_ms``, each scaled to 0..1.

    RMS is mapped from dB over the track's top 40 dB; onset strength by its
    99th percentile; brightness is the spectral centroid on a log scale
    from 300 Hz (0) to 5 kHz (1), so it is comparable between tracks.
    """
    sr, hop = spectra.sr, spectra.coarse_hop
    rms, onset, centroid = spectra.rms, spectra.coarse_onset, spectra.centroid_hz
    frame_t = np.arange(len(rms)) * hop / sr
    n_out = max(1, int(np.ceil(spectra.n_samples / sr * 1000 / hop_ms)))
    t_out = np.arange(n_out) * hop_ms / 1000.0
    win = max(1, int(round(hop_ms / 1000 * sr / hop)))
    rms_s = np.convolve(rms, np.ones(win) / win, mode="same") if win > 1 else rms
    rms_db = librosa.amplitude_to_db(rms_s, ref=1.0, top_db=None)
    top = np.percentile(rms_db, 99) if rms_db.size else 0.0
    rms_u = np.clip((rms_db - (top - 40.0)) / 40.0, 0.0, 1.0)
    if rms.size == 0 or np.max(rms) < 1e-4:  # silence
        rms_u = np.zeros_like(rms_u)
    onset_u = _robust_unit(_local_max(onset, max(1, win // 2)), hi_pct=99.0)
    bright = np.clip((np.log2(np.maximum(centroid, 1.0)) - np.log2(300.0)) / (np.log2(5000.0) - np.log2(300.0)), 0, 1)
    bright = np.where(rms > 1e-4, bright, 0.0)

    def res(x: np.ndarray) -> list[float]:
        v = np.interp(t_out, frame_t[: len(x)], x[: len(frame_t)])
        return [round(float(a), 4) for a in v]

    return EnergyCurve(hop_ms=hop_ms, rms=res(rms_u), onset=res(onset_u), brightness=res(bright))


def estimate_key(chroma: np.ndarray) -> tuple[str, str, float]:
    """Key and mode by correlating mean chroma with the Krumhansl-Kessler profiles; (key, mode, correlation)."""
    profile = chroma.mean(axis=1)
    if profile.sum() <= 1e-9 or np.ptp(profile) <= 1e-9:
        return "", "", 0.0
    best = ("", "", -2.0)
    for mode, ref in (("major", _KK_MAJOR), ("minor", _KK_MINOR)):
        for pc in range(12):
            r = float(np.corrcoef(profile, np.roll(ref, pc))[0, 1])
            if r > best[2]:
                best = (NOTE_NAMES[pc], mode, r)
    return best


def mood_word(*, energy: float, mode: str, brightness: float, tempo_bpm: float) -> str:
    """One mood word from loudness (0..1), mode, brightness (0..1) and tempo."""
    fast = tempo_bpm >= 115
    minor = mode == "minor"
    if energy < 0.25:
        return "calm" if not minor else "melancholic"
    if energy < 0.5:
        if brightness > 0.55:
            return "dreamy"
        return "wistful" if minor else "warm"
    if energy < 0.75:
        if minor:
            return "driving" if fast else "brooding"
        return "uplifting" if fast else "hopeful"
    if minor:
        return "intense" if fast else "dramatic"
    return "euphoric" if fast else "triumphant"


# ---------------------------------------------------------------------------- sections


def bar_grid(downbeats_ms: np.ndarray, duration_ms: float) -> np.ndarray:
    """A regular bar grid over the whole track from the tracked downbeats.

    Gaps (bars whose downbeat the tracker missed, e.g. in a drumless intro or
    outro) are filled at the median bar period, and the grid is extended back
    to the start and on to the end so that every bar of music is covered; a
    bar is only added when at least half of it lies inside the track.
    """
    db = np.asarray(downbeats_ms, dtype=np.float64)
    if len(db) < 2:
        return db
    period = float(np.median(np.diff(db)))
    if period <= 0:
        return db
    out = [db[0]]
    for t in db[1:]:
        gap = int(round((t - out[-1]) / period))
        for k in range(1, gap):
            out.append(out[-1] + (t - out[-1]) / (gap - k + 1))
        out.append(t)
    head = []
    t = db[0] - period
    while t > -0.5 * period:
        head.append(max(t, 0.0))
        t -= period
    tail = []
    t = out[-1] + period
    while t < duration_ms - 0.5 * period:
        tail.append(t)
        t += period
    grid = np.array([*head[::-1], *out, *tail])
    return grid[np.concatenate([[True], np.diff(grid) > 0])]


def _trim_silent_edges(spectra: Spectra, bars_ms: np.ndarray, *, below_db: float = 20.0) -> np.ndarray:
    """Drop leading and trailing bars more than ``below_db`` quieter than the loud bars (silence, a decaying
    tail); they stay part of the first / last section but do not shape the segmentation."""
    n = len(spectra.rms)
    frames = np.clip(np.round(bars_ms / 1000 * spectra.sr / spectra.coarse_hop).astype(int), 0, n - 1)
    period = int(np.median(np.diff(frames))) if len(frames) > 1 else n
    ends = np.append(frames[1:], min(n, frames[-1] + max(1, period)))
    level = np.array([spectra.rms[a:max(a + 1, b)].mean() for a, b in zip(frames, ends)])
    loud = level >= np.percentile(level, 75) * 10 ** (-below_db / 20)
    if not loud.any():
        return bars_ms
    first, last = int(np.argmax(loud)), len(loud) - int(np.argmax(loud[::-1]))
    return bars_ms[first:last]


def _robust_z(f: np.ndarray, *, clip: float = 3.0) -> np.ndarray:
    """Columns centred on their median and scaled by their IQR (as a standard deviation), clipped."""
    med = np.median(f, axis=0)
    q75, q25 = np.percentile(f, [75, 25], axis=0)
    sd = (q75 - q25) / 1.349
    sd = np.where(sd > 1e-9, sd, np.where(f.std(axis=0) > 1e-9, f.std(axis=0), 1.0))
    return np.clip((f - med) / sd, -clip, clip)


def bar_features(spectra: Spectra, bars_ms: np.ndarray) -> np.ndarray:
    """Per-bar feature matrix (n_bars x 28): robustly scaled MFCC, chroma, loudness, onset density and
    brightness, group-weighted (each group's weight spread over its dimensions).

    Robust scaling (median/IQR, clipped at 3) keeps a silent tail or a single
    crash from squashing the differences between the sections of the music.
    """
    rms_db = librosa.amplitude_to_db(spectra.rms, ref=1.0, top_db=None)
    n = min(spectra.mfcc.shape[1], spectra.chroma.shape[1], len(rms_db), len(spectra.coarse_onset))
    frames = np.clip(np.round(bars_ms / 1000 * spectra.sr / spectra.coarse_hop).astype(int), 0, n - 1)
    # the last bar ends one bar period after its start, not at the end of the file (a decaying tail)
    period = int(np.median(np.diff(frames))) if len(frames) > 1 else n
    bounds = np.append(frames, min(n, frames[-1] + max(1, period)))

    def sync(x: np.ndarray) -> np.ndarray:
        out = librosa.util.sync(np.atleast_2d(x)[:, :n], bounds, aggregate=np.mean, pad=False)
        return out[:, : len(frames)]

    log_centroid = np.log2(np.maximum(spectra.centroid_hz, 50.0))
    groups = [(sync(spectra.mfcc), 1.0), (sync(spectra.chroma), 0.5), (sync(rms_db), 2.0),
              (sync(spectra.coarse_onset), 1.5), (sync(log_centroid), 1.0)]
    cols = [_robust_z(block.T) * (weight / np.sqrt(block.shape[0])) for block, weight in groups]
    return np.hstack(cols)


def optimal_boundaries(
    feats: np.ndarray, *, min_bars: int, max_sections: int, penalty: float, min_edge_bars: int | None = None,
) -> list[int]:
    """Bar indices where sections start (always includes 0): the optimal piecewise-constant partition.

    Minimises the within-section sum of squared deviations of the bar features
    plus ``penalty`` per section, by dynamic programming over bar boundaries,
    with every section at least ``min_bars`` long (the first and the last at
    least ``min_edge_bars``, default ``min_bars``: a short intro or outro) and
    at most ``max_sections`` sections.
    """
    n = feats.shape[0]
    edge = min(min_bars, min_edge_bars if min_edge_bars is not None else min_bars)
    if n < 2 * edge or max_sections < 2:
        return [0]
    x = np.asarray(feats, dtype=np.float64)
    s1 = np.vstack([np.zeros(x.shape[1]), np.cumsum(x, axis=0)])
    s2 = np.concatenate([[0.0], np.cumsum((x**2).sum(axis=1))])
    # cost[a, b]: squared deviations of bars a..b-1 from their mean (inf when too short)
    idx = np.arange(n + 1)
    length = idx[None, :] - idx[:, None]
    gram = s1 @ s1.T  # |s1[b] - s1[a]|^2 = G[b, b] - 2 G[a, b] + G[a, a], without an (n, n, d) array
    sq = np.diag(gram)
    seg_sq = sq[None, :] - 2.0 * gram + sq[:, None]
    cost = (s2[None, :] - s2[:, None]) - seg_sq / np.maximum(length, 1)
    at_edge = (idx[:, None] == 0) | (idx[None, :] == n)
    cost = np.where(length >= np.where(at_edge, edge, min_bars), np.maximum(cost, 0.0), np.inf)
    k_max = min(max_sections, n // edge)
    best = np.full((k_max + 1, n + 1), np.inf)
    prev = np.zeros((k_max + 1, n + 1), dtype=np.int64)
    best[0, 0] = 0.0
    for k in range(1, k_max + 1):
        total = best[k - 1][:, None] + cost  # (a, b)
        prev[k] = np.argmin(total, axis=0)
        best[k] = total[prev[k], idx]
    k_best = int(np.argmin(best[1:, n] + penalty * np.arange(1, k_max + 1))) + 1
    if not np.isfinite(best[k_best, n]):
        return [0]
    starts, b = [], n
    for k in range(k_best, 0, -1):
        b = int(prev[k, b])
        starts.append(b)
    return sorted(starts)


def repetition_groups(feats: list[np.ndarray], *, max_distance: float = SAME_SECTION_DISTANCE) -> list[int]:
    """Group sections whose mean bar features are close (average linkage); returns a group id per section."""
    k = len(feats)
    if k == 0:
        return []
    f = np.vstack(feats)
    d = np.sqrt(((f[:, None, :] - f[None, :, :]) ** 2).sum(axis=-1))
    clusters = [[i] for i in range(k)]
    while len(clusters) > 1:
        best, pair = np.inf, (0, 0)
        for p in range(len(clusters)):
            for q in range(p):
                dist = float(d[np.ix_(clusters[p], clusters[q])].mean())
                if dist < best:
                    best, pair = dist, (p, q)
        if best > max_distance:
            break
        p, q = pair
        clusters[q] = clusters[q] + clusters[p]
        del clusters[p]
    group = [0] * k
    for g, members in enumerate(sorted(clusters, key=min)):
        for i in members:
            group[i] = g
    return group


def label_sections(
    *, energies: list[float], feats: list[np.ndarray], n_bars: list[int]
) -> list[str]:
    """Label sections from their loudness (0..1) and the repetition of their mean bar features.

    Sections are first grouped by similarity. A quiet first (last) section
    that does not come back later (earlier) is the intro (outro); a quiet
    one-off in the middle is a breakdown. The chorus is the loudest group that
    repeats (or, with no repetition, the loudest section after the first) and
    any one-off about as loud as it, a
    one-off after the first chorus in the second half is a bridge, the rest
    are verses; a short, not quiet one-off at either end belongs to its neighbour.
    """
    k = len(energies)
    if k == 0:
        return []
    if k == 1:
        return ["verse"]
    e = np.asarray(energies, dtype=np.float64)
    group = repetition_groups(feats)
    count = {g: group.count(g) for g in set(group)}
    emax = float(e.max())
    labels = [""] * k

    def sparse(i: int) -> bool:  # a one-off, much quieter than the loudest part
        return count[group[i]] == 1 and e[i] < emax - BREAKDOWN_MARGIN

    if sparse(0):
        labels[0] = "intro"
    if k > 2 and sparse(k - 1):
        labels[-1] = "outro"
    for i in range(1, k - 1):
        if not labels[i] and count[group[i]] == 1 and e[i] < emax - BREAKDOWN_MARGIN:
            labels[i] = "breakdown"
    rest = [i for i in range(k) if not labels[i]]
    if not rest:
        return labels
    group_energy = {g: float(np.mean([e[i] for i in rest if group[i] == g])) for g in {group[i] for i in rest}}
    top = max(group_energy.values())
    repeated = [g for g in group_energy if count[g] > 1 and group_energy[g] >= top - CHORUS_ENERGY_MARGIN]
    if repeated:
        chorus_group = max(repeated, key=lambda g: (group_energy[g], count[g]))
    else:
        later = [i for i in rest if i > 0] or rest
        chorus_group = group[max(later, key=lambda i: e[i])]
    chorus_energy = group_energy[chorus_group]
    for i in rest:  # the chorus group, and one-offs as loud as it (a chorus whose features drifted)
        if group[i] == chorus_group or (count[group[i]] == 1 and e[i] >= chorus_energy - CHORUS_ENERGY_MARGIN / 2):
            labels[i] = "chorus"
    first_chorus = next((i for i in range(k) if labels[i] == "chorus"), k)
    for i in rest:
        if labels[i]:
            continue
        one_off = count[group[i]] == 1
        labels[i] = "bridge" if (one_off and i > first_chorus and i >= k // 2 and k >= 4) else "verse"
    # a short one-off at either end that is not quiet is the start / end of its neighbour
    for i, j in ((0, 1), (k - 1, k - 2)):
        if labels[i] in ("verse", "bridge") and n_bars[i] < MIN_SECTION_BARS and count[group[i]] == 1:
            labels[i] = labels[j]
    return labels


def segment_sections(
    spectra: Spectra, *, downbeats_ms: np.ndarray, duration_ms: int, energy: EnergyCurve, mode: str,
    tempo_bpm: float,
) -> list[SectionSpan]:
    """Structural segmentation snapped to downbeats; covers 0..duration_ms without gaps."""
    bars = bar_grid(np.asarray(downbeats_ms, dtype=np.float64), float(duration_ms))
    if len(bars) >= 4:
        bars = _trim_silent_edges(spectra, bars)
    dur_s = duration_ms / 1000.0
    if len(bars) < 4:
        e = float(np.mean(energy.rms)) if energy.rms else 0.0
        b = float(np.mean(energy.brightness)) if energy.brightness else 0.0
        return [SectionSpan("verse", 0, duration_ms, round(e, 3), mood_word(energy=e, mode=mode, brightness=b,
                                                                               tempo_bpm=tempo_bpm))]
    feats = bar_features(spectra, bars)
    n = len(bars)
    bar_ms = float(np.median(np.diff(bars)))
    max_sections = int(np.clip(min(n // 2, round(dur_s / 5.0)), 1, 24))  # at most one per ~5 s on average
    # the penalty scales with the bar-to-bar spread of the features (mostly within sections: chords, melody)
    noise = float(np.median((np.diff(feats, axis=0) ** 2).sum(axis=1))) / 2.0
    starts = optimal_boundaries(feats, min_bars=MIN_SECTION_BARS, min_edge_bars=MIN_EDGE_BARS,
                                max_sections=max_sections, penalty=SECTION_PENALTY * max(noise, 1e-6))
    edges_ms = [0.0, *[bars[i] for i in starts[1:]], float(duration_ms)]
    rms = np.asarray(energy.rms)
    bright = np.asarray(energy.brightness)

    # a section's loudness is that of its music: without the silence before the first bar or after the last
    music = (bars[0], min(float(duration_ms), bars[-1] + bar_ms))

    def frames(k: int) -> tuple[int, int]:
        a = int(max(edges_ms[k], music[0]) / energy.hop_ms)
        return a, max(a + 1, int(min(edges_ms[k + 1], music[1]) / energy.hop_ms))

    energies, mean_feats, n_bars = [], [], []
    for k in range(len(starts)):
        a, b = frames(k)
        energies.append(float(rms[a:b].mean()) if a < len(rms) else 0.0)
        end_bar = starts[k + 1] if k + 1 < len(starts) else n
        mean_feats.append(feats[starts[k] : end_bar].mean(axis=0))
        n_bars.append(end_bar - starts[k])
    labels = label_sections(energies=energies, feats=mean_feats, n_bars=n_bars)
    log.debug("sections %s energies %s labels %s", starts, np.round(energies, 3).tolist(), labels)
    # neighbours with the same label are one section (a doubled chorus)
    keep = [0, *[k for k in range(1, len(labels)) if labels[k] != labels[k - 1]]]
    edges_ms = [*[edges_ms[k] for k in keep], float(duration_ms)]
    labels = [labels[k] for k in keep]
    spans = []
    for k, label in enumerate(labels):
        a, b = frames(k)
        en = round(float(np.clip(rms[a:b].mean() if a < len(rms) else 0.0, 0.0, 1.0)), 3)
        br = float(bright[a:b].mean()) if a < len(bright) else 0.0
        spans.append(SectionSpan(label, int(round(edges_ms[k])), int(round(edges_ms[k + 1])), en,
                                 mood_word(energy=en, mode=mode, brightness=br, tempo_bpm=tempo_bpm)))
    return spans


# ---------------------------------------------------------------------------- main entry


AnalysisProgress = Callable[[float, str], None]  # (fraction of the analysis done, what comes next)


def analyze_signal(y: np.ndarray, sr: int, *, progress: AnalysisProgress | None = None) -> SignalFeatures:
    """Analyse a mono signal: tempo, beats, downbeats, onsets, energy, key, mood and sections.

    Beats are tracked on the signal at its own rate (best at 44.1 kHz, what the
    beat networks were trained on); everything else at 22.05 kHz.
    ``progress(fraction, message)`` is called between the phases (their shares of the time, roughly measured).
    """
    report = progress or (lambda fraction, message: None)
    full = np.asarray(y, dtype=np.float32)
    if full.ndim != 1:
        raise InputError("analyze_signal expects a mono signal")
    full_sr = sr
    y = full if sr == ANALYSIS_SR else librosa.resample(full, orig_sr=sr, target_sr=ANALYSIS_SR, res_type="soxr_hq")
    sr = ANALYSIS_SR
    duration_ms = int(round(len(y) / sr * 1000))
    if duration_ms < 500:
        raise InputError("the track is too short to analyse")
    report(0.05, "spectra")
    if float(np.max(np.abs(y))) < 1e-4:  # silent
        return SignalFeatures(
            duration_ms=duration_ms, tempo_bpm=0.0, beats_ms=[], downbeats_ms=[], onsets_ms=[],
            energy=energy_curve(compute_spectra(y, sr)), key="", mode="", mood="silent",
            sections=[SectionSpan("intro", 0, duration_ms, 0.0, "silent")],
        )
    # the beat trackers (most of the work) run in a second thread while the spectra and onsets are computed here
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="beats") as pool:
        beat_job = pool.submit(track_beats, full, full_sr, y22=y)
        spectra = compute_spectra(y, sr)
        energy = energy_curve(spectra)
        env = onset_envelope(spectra)
        onset_frames = librosa.onset.onset_detect(onset_envelope=env, sr=sr, hop_length=spectra.fine_hop,
                                                  backtrack=False)
        onsets = _frames_ms(onset_frames, sr=sr, hop=spectra.fine_hop)
        report(0.2, "tempo, beats and bars")
        track = beat_job.result()
    beats, downbeats, tempo = track.beats_s * 1000.0, track.downbeats_s * 1000.0, track.tempo_bpm
    report(0.9, "key and sections")
    key, mode, key_r = estimate_key(spectra.chroma)
    sections = segment_sections(
        spectra, downbeats_ms=downbeats, duration_ms=duration_ms, energy=energy, mode=mode, tempo_bpm=tempo
    )
    mean_e = float(np.mean(energy.rms)) if energy.rms else 0.0
    mean_b = float(np.mean(energy.brightness)) if energy.brightness else 0.0
    return SignalFeatures(
        duration_ms=duration_ms, tempo_bpm=round(tempo, 2),
        beats_ms=[int(round(b)) for b in beats], downbeats_ms=[int(round(b)) for b in downbeats],
        onsets_ms=[int(round(o)) for o in onsets], energy=energy, key=key, mode=mode,
        mood=mood_word(energy=mean_e, mode=mode, brightness=mean_b, tempo_bpm=tempo), sections=sections,
        beats_per_bar=track.beats_per_bar, extras={"key_correlation": round(key_r, 3)},
    )


def load_and_analyze(wav_path: Path, *, progress: AnalysisProgress | None = None) -> SignalFeatures:
    """Read a WAV (any rate/channels) and analyse it (``progress`` as in :func:`analyze_signal`)."""
    if progress:
        progress(0.02, "reading the track")
    return analyze_signal(load_mono(wav_path, sr=MODEL_SR), MODEL_SR, progress=progress)


def to_analysis(
    features: SignalFeatures, *, duration_ms: int | None = None, lyrics: list[LyricLine] | None = None,
    provider: str = "local",
) -> Analysis:
    """The ``analysis.json`` model from signal features and (already timed) lyrics."""
    dur = duration_ms if duration_ms is not None else features.duration_ms
    sections = []
    for i, s in enumerate(features.sections):
        end = dur if i == len(features.sections) - 1 else min(s.end_ms, dur)
        sections.append(Section(index=i, label=s.label, start_ms=min(s.start_ms, dur), end_ms=end, energy=s.energy,
                                mood=s.mood))
    within = [b for b in features.beats_ms if 0 <= b < dur]
    summary = (
        f"{features.tempo_bpm:.0f} BPM, {features.key} {features.mode}, {features.mood}; "
        f"{len(sections)} sections: " + ", ".join(s.label for s in sections)
    ).strip()
    return Analysis(
        provider=provider, duration_ms=dur, tempo_bpm=features.tempo_bpm, beats_ms=within,
        downbeats_ms=[b for b in features.downbeats_ms if 0 <= b < dur], beats_per_bar=features.beats_per_bar,
        onsets_ms=[o for o in features.onsets_ms if 0 <= o < dur], energy=features.energy, key=features.key,
        mode=features.mode, mood=features.mood, sections=sections, lyrics=list(lyrics or []), summary=summary,
    )
