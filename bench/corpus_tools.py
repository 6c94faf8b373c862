"""Shared helpers of the real-music corpus (bench/corpus.py): Debian packages,
fluidsynth rendering, MIDI tempo maps -> beat grids, audio I/O and the
onset-based alignment check of a beat grid against a recording.

Nothing here downloads anything but Debian packages through apt-get.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

log = logging.getLogger("bench.corpus")

SR = 22050  # the corpus' audio: mono, 22.05 kHz, 16-bit PCM WAV
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
_APT_UPDATED = False


# --------------------------------------------------------------- Debian packages
def _apt(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], cwd=cwd, env=env, text=True, capture_output=True)


def _apt_update_once() -> None:
    global _APT_UPDATED
    if not _APT_UPDATED:
        log.info("apt-get update")
        _apt(["update", "-qq"])
        _APT_UPDATED = True


def fetch_package(package: str, cache: Path) -> Path:
    """Download the Debian package ``package`` (``apt-get download``, cached as
    ``cache/_debs/*.deb``), unpack it to ``cache/_pkgs/<package>/`` and return that
    folder. Needs no root; runs ``apt-get update`` once if apt does not know it."""
    root = cache / "_pkgs" / package
    if (root / ".unpacked").exists():
        return root
    debs = cache / "_debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        log.info("apt-get download %s", package)
        r = _apt(["download", package], cwd=debs)
        if r.returncode != 0:
            _apt_update_once()
            r = _apt(["download", package], cwd=debs)
        found = sorted(debs.glob(f"{package}_*.deb"))
        if r.returncode != 0 or not found:
            raise RuntimeError(f"apt-get download {package} failed: {r.stderr.strip()[-400:]}")
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(root)], check=True)
    (root / ".unpacked").write_text(found[-1].name + "\n")
    return root


def package_version(package: str, cache: Path) -> str:
    """The version of the cached .deb of ``package`` (from its file name), or ''."""
    found = sorted((cache / "_debs").glob(f"{package}_*.deb"))
    return found[-1].name.split("_")[1] if found else ""


def ensure_fluidsynth() -> None:
    """Make sure ``fluidsynth`` and the FluidR3 GM soundfont are installed
    (``apt-get install`` when root and missing); raise if they cannot be."""
    if shutil.which("fluidsynth") and SOUNDFONT.exists():
        return
    if os.geteuid() != 0:
        raise RuntimeError("need fluidsynth and fluid-soundfont-gm: apt-get install fluidsynth fluid-soundfont-gm")
    log.info("apt-get install fluidsynth fluid-soundfont-gm")
    r = _apt(["install", "-y", "-qq", "fluidsynth", "fluid-soundfont-gm"])
    if r.returncode != 0:
        _apt_update_once()
        r = _apt(["install", "-y", "-qq", "fluidsynth", "fluid-soundfont-gm"])
    if r.returncode != 0 or not shutil.which("fluidsynth") or not SOUNDFONT.exists():
        raise RuntimeError(f"could not install fluidsynth: {r.stderr.strip()[-400:]}")


def render_midi(midi_path: Path, gain: float = 0.6) -> np.ndarray:
    """Render a MIDI file with fluidsynth and the GM soundfont; mono float32 at SR."""
    ensure_fluidsynth()
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        cmd = ["fluidsynth", "-ni", "-q", "-F", str(wav), "-r", "44100", "-g", str(gain),
               str(SOUNDFONT), str(midi_path)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0 or not wav.exists():
            raise RuntimeError(f"fluidsynth failed on {midi_path}: {r.stderr[-400:]}")
        y, sr = sf.read(wav, dtype="float32", always_2d=True)
    return trim_silence(to_mono_sr(y, sr))


def trim_silence(y: np.ndarray, db: float = -60.0, keep_s: float = 0.3) -> np.ndarray:
    """Cut the silence fluidsynth leaves after the last sound (keeps ``keep_s``)."""
    loud = np.flatnonzero(np.abs(y) > 10 ** (db / 20))
    if not len(loud):
        return y
    return y[: min(len(y), loud[-1] + int(keep_s * SR))]


# ----------------------------------------------------------------------- audio
def to_mono_sr(y: np.ndarray, sr: int) -> np.ndarray:
    """Down-mix (frames x channels or 1-D) to mono and resample to SR."""
    import librosa

    if y.ndim == 2:
        y = y.mean(axis=1)
    y = np.ascontiguousarray(y, dtype=np.float32)
    if sr != SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=SR).astype(np.float32)
    return y


def read_audio(path: Path, start_s: float = 0.0, dur_s: float | None = None) -> np.ndarray:
    """Read (part of) an audio file as mono float32 at SR."""
    info = sf.info(str(path))
    start = int(start_s * info.samplerate)
    frames = -1 if dur_s is None else int(dur_s * info.samplerate)
    y, sr = sf.read(str(path), start=start, frames=frames, dtype="float32", always_2d=True)
    return to_mono_sr(y, sr)


def mix(stems: list[np.ndarray]) -> np.ndarray:
    """Sum stems (truncated to the shortest)."""
    n = min(len(s) for s in stems)
    return np.sum([s[:n] for s in stems], axis=0).astype(np.float32)


def normalize(y: np.ndarray, peak: float = 0.89) -> np.ndarray:
    """Scale to the given peak (no-op on silence)."""
    m = float(np.max(np.abs(y))) if len(y) else 0.0
    return (y * (peak / m)).astype(np.float32) if m > 0 else y


def fade_out(y: np.ndarray, seconds: float) -> np.ndarray:
    """Apply a linear-in-dB-ish (squared) fade over the last ``seconds``."""
    n = min(len(y), int(seconds * SR))
    if n <= 0:
        return y
    ramp = np.linspace(1.0, 0.0, n, dtype=np.float32) ** 2
    out = y.copy()
    out[-n:] *= ramp
    return out


def write_wav(path: Path, y: np.ndarray) -> None:
    """Write mono 16-bit PCM WAV at SR (atomically, via a temporary name)."""
    tmp = path.with_suffix(".tmp.wav")
    sf.write(str(tmp), np.clip(y, -1.0, 1.0), SR, subtype="PCM_16")
    tmp.replace(path)


# ------------------------------------------------------------------ tempo maps
@dataclass(frozen=True)
class TempoMap:
    """A MIDI file's timing: ticks per quarter, tempo changes (tick, us per
    quarter) and time signatures (tick, numerator, denominator), merged over all
    tracks, plus the last event's tick."""

    tpb: int
    tempos: tuple[tuple[int, int], ...]
    signatures: tuple[tuple[int, int, int], ...]
    end_tick: int

    def seconds(self, ticks: np.ndarray | list[int] | int) -> np.ndarray:
        """Ticks -> seconds through the tempo changes."""
        t = np.atleast_1d(np.asarray(ticks, dtype=float))
        starts = [0.0]
        for (k0, us0), (k1, _) in zip(self.tempos, self.tempos[1:]):
            starts.append(starts[-1] + (k1 - k0) * us0 / 1e6 / self.tpb)
        ticks0 = np.array([k for k, _ in self.tempos], dtype=float)
        idx = np.searchsorted(ticks0, t, side="right") - 1
        us = np.array([u for _, u in self.tempos], dtype=float)[idx]
        return np.asarray(starts)[idx] + (t - ticks0[idx]) * us / 1e6 / self.tpb

    def bpm_at(self, tick: int) -> float:
        """Quarter-note tempo at a tick."""
        i = bisect_right([k for k, _ in self.tempos], tick) - 1
        return 60e6 / self.tempos[max(i, 0)][1]


def tempo_map(mid: "mido.MidiFile") -> TempoMap:  # noqa: F821
    """Collect the tempo map of a mido.MidiFile (default 120 BPM, 4/4)."""
    tempos: dict[int, int] = {}
    sigs: dict[int, tuple[int, int]] = {}
    end = 0
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempos[tick] = msg.tempo  # the last one at a tick wins
            elif msg.type == "time_signature":
                sigs[tick] = (msg.numerator, msg.denominator)
        end = max(end, tick)
    if 0 not in tempos:
        tempos[0] = tempos[min(tempos)] if tempos else 500000
    if 0 not in sigs:
        sigs[0] = sigs[min(sigs)] if sigs else (4, 4)
    return TempoMap(mid.ticks_per_beat, tuple(sorted(tempos.items())),
                    tuple((k, n, d) for k, (n, d) in sorted(sigs.items())), end)


def pulse_of(numerator: int, denominator: int, tpb: int) -> tuple[int, int]:
    """(ticks per tapped pulse, pulses per bar) of a time signature: the
    dotted quarter in compound x/8 (6/8 -> 2 per bar, 9/8 -> 3, 12/8 -> 4),
    otherwise the denominator's note."""
    unit = tpb * 4 // denominator
    if denominator >= 8 and numerator % 3 == 0 and numerator > 3:
        return unit * 3, numerator // 3
    return unit, numerator


def grid_ticks(tm: TempoMap, end_tick: int | None = None) -> tuple[list[int], list[int], list[int]]:
    """Pulse ticks, downbeat ticks and pulses-per-bar (one per bar) of the tempo
    map up to ``end_tick``; bars restart at each time-signature change."""
    end = tm.end_tick if end_tick is None else end_tick
    beats: list[int] = []
    downs: list[int] = []
    per_bar: list[int] = []
    sigs = list(tm.signatures)
    for i, (k0, num, den) in enumerate(sigs):
        k1 = sigs[i + 1][0] if i + 1 < len(sigs) else end + 1
        step, n = pulse_of(num, den, tm.tpb)
        k = k0
        while k < min(k1, end + 1):
            downs.append(k)
            per_bar.append(n)
            for j in range(n):
                if k + j * step < min(k1, end + 1):
                    beats.append(k + j * step)
            k += step * n
    return beats, downs, per_bar


# ---------------------------------------------------- onset alignment check
def onset_envelope(y: np.ndarray, hop: int = 128) -> np.ndarray:
    """librosa's onset strength, z-scored (hop ``hop`` at SR)."""
    import librosa

    env = librosa.onset.onset_strength(y=y, sr=SR, hop_length=hop)
    return (env - env.mean()) / (env.std() + 1e-9)


def percussive(y: np.ndarray) -> np.ndarray:
    """The percussive part (librosa HPSS, margin 2): drum and pick transients
    without the sustained tones whose slow attacks shift the onset envelope
    (on exact grids distorted guitars moved it by up to +46 ms; the
    percussive part keeps it at +10..+16 ms)."""
    import librosa

    D = librosa.stft(y, n_fft=2048, hop_length=512)
    _, P = librosa.decompose.hpss(D, margin=2.0)
    return librosa.istft(P, hop_length=512, length=len(y)).astype(np.float32)


def mean_at(env: np.ndarray, times: np.ndarray, hop: int = 128) -> float:
    """Mean of an envelope at the given times (nearest frame); nan if none."""
    fr = np.round(np.asarray(times) * SR / hop).astype(int)
    fr = fr[(fr >= 0) & (fr < len(env))]
    return float(env[fr].mean()) if len(fr) else float("nan")


_BIAS_MS: float | None = None


def envelope_bias_ms() -> float:
    """How late the onset envelope peaks after a true onset, measured on a
    synthetic click track (decaying noise bursts plus a low thump) at exactly
    known times; subtracted from measured offsets. About +20..25 ms."""
    global _BIAS_MS
    if _BIAS_MS is None:
        rng = np.random.default_rng(0)
        y = np.zeros(SR * 30, dtype=np.float32)
        t = np.arange(int(0.15 * SR)) / SR
        burst = (rng.standard_normal(len(t)) * np.exp(-t * 40) + np.sin(2 * np.pi * 60 * t) * np.exp(-t * 20)).astype(np.float32)
        times = np.arange(0.5, 29.0, 0.5)
        for s in times:
            i = int(round(s * SR))
            y[i:i + len(burst)] += burst * 0.5
        env = onset_envelope(y)
        offs = np.arange(-0.03, 0.0801, 0.001)
        _BIAS_MS = float(offs[int(np.argmax([mean_at(env, times + o) for o in offs]))] * 1000)
    return _BIAS_MS


def offset_curve(env: np.ndarray, times: np.ndarray, lo: float = -0.25, hi: float = 0.25,
                 step: float = 0.002) -> tuple[np.ndarray, np.ndarray]:
    """Mean envelope at ``times + offset`` for offsets lo..hi (seconds)."""
    offs = np.arange(lo, hi + step / 2, step)
    return offs, np.array([mean_at(env, times + o) for o in offs])


@dataclass(frozen=True)
class Alignment:
    """Result of checking a grid against a recording, all offsets in ms and
    already corrected for the envelope's own lag (positive: the audio comes
    later than the grid)."""

    best_ms: float
    best_score: float
    zero_score: float
    second_ms: float  # best offset at least 40 ms away from best_ms
    second_score: float
    scores: dict[str, float]  # mean envelope (z) at fixed shifts "-200".."+200"

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"best_offset_ms": round(self.best_ms, 1), "best_score": round(self.best_score, 3),
                "score_at_0": round(self.zero_score, 3), "second_peak_offset_ms": round(self.second_ms, 1),
                "second_peak_score": round(self.second_score, 3),
                "score_at_shift_ms": {k: round(v, 3) for k, v in self.scores.items()}}


def align(env: np.ndarray, times: np.ndarray) -> Alignment:
    """Measure where ``times`` best line up with the onsets in ``env``."""
    bias = envelope_bias_ms() / 1000
    offs, sc = offset_curve(env, times + bias)
    i = int(np.argmax(sc))
    far = np.abs(offs - offs[i]) > 0.04
    j = int(np.argmax(np.where(far, sc, -np.inf)))
    fixed = {f"{s:+d}": mean_at(env, times + bias + s / 1000) for s in (-200, -100, -50, -20, -10, 0, 10, 20, 50, 100, 200)}
    return Alignment(float(offs[i] * 1000), float(sc[i]), mean_at(env, times + bias),
                     float(offs[j] * 1000), float(sc[j]), fixed)
