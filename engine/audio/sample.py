"""Synthetic songs with a known ground truth (numpy only, deterministic).

``make_song`` renders drums (kick, snare, hi-hat, crash), a bass line and
chord pads that follow a one-chord-per-bar progression, plus a melody lead in
the vocal sections, with clear energy differences between sections (quiet
intro, loud chorus, sparse breakdown). It returns the true beat times,
downbeats and section boundaries, which the analysis tests and the benchmark
compare against.

``make_demo_song`` writes the bundled demo track (``demo.wav``) and its
lyrics (``demo.lrc``, partly word-timed) used by ``storybeat demo``.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

log = logging.getLogger(__name__)

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Chord progressions, one chord per bar, as semitone offsets from the tonic.
_MAJOR = {
    "I": (0, 4, 7), "ii": (2, 5, 9), "iii": (4, 7, 11), "IV": (5, 9, 12), "V": (7, 11, 14), "vi": (9, 12, 16),
}
_MINOR = {
    "i": (0, 3, 7), "III": (3, 7, 10), "iv": (5, 8, 12), "v": (7, 10, 14), "VI": (8, 12, 15), "VII": (10, 14, 17),
}
_PROGRESSIONS = {
    "major": {
        "verse": ("I", "vi", "IV", "V"), "chorus": ("IV", "I", "V", "vi"), "bridge": ("ii", "V", "iii", "vi"),
        "other": ("I", "IV", "vi", "V"),
    },
    "minor": {
        "verse": ("i", "VI", "III", "VII"), "chorus": ("VI", "VII", "i", "i"), "bridge": ("iv", "v", "VI", "VII"),
        "other": ("i", "iv", "VI", "v"),
    },
}
_SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}

# Instrument gains per section label: kick, snare, hat, bass, pad, lead.
_MIX: dict[str, tuple[float, float, float, float, float, float]] = {
    "intro": (0.0, 0.0, 0.22, 0.0, 0.45, 0.0),
    "verse": (0.75, 0.55, 0.35, 0.55, 0.40, 0.40),
    "chorus": (1.0, 0.85, 0.55, 0.75, 0.65, 0.60),
    "bridge": (0.6, 0.45, 0.30, 0.50, 0.55, 0.50),
    "breakdown": (0.0, 0.0, 0.0, 0.30, 0.50, 0.0),
    "outro": (0.35, 0.0, 0.20, 0.25, 0.40, 0.0),
}


@dataclass(frozen=True)
class SongTruth:
    """What a synthetic song really contains (times in ms from the start of the file)."""

    bpm: float
    sr: int
    duration_ms: int
    beats_ms: tuple[float, ...]
    downbeats_ms: tuple[float, ...]
    sections: tuple[tuple[str, float, float], ...]  # (label, start_ms, end_ms)
    key: str
    mode: str

    @property
    def boundaries_ms(self) -> list[float]:
        """Inner section boundaries (start of every section but the first)."""
        return [start for _, start, _ in self.sections[1:]]


def default_sections(bars: int) -> list[tuple[str, int]]:
    """A pop-like layout of ``bars`` bars: intro, verse, chorus, breakdown, chorus, outro (scaled)."""
    if bars < 8:
        return [("verse", bars)]
    template = [("intro", 2), ("verse", 4), ("chorus", 4), ("breakdown", 2), ("chorus", 4), ("outro", 2)]
    total = sum(n for _, n in template)
    scaled = [(label, max(1, round(n * bars / total))) for label, n in template]
    diff = bars - sum(n for _, n in scaled)
    label, n = scaled[1]
    scaled[1] = (label, n + diff)
    return scaled


# ---------------------------------------------------------------------------- instruments


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def _env(n: int, sr: int, *, attack_s: float, decay_s: float) -> np.ndarray:
    t = np.arange(n) / sr
    attack = np.clip(t / max(attack_s, 1e-4), 0.0, 1.0)
    return attack * np.exp(-t / decay_s)


def _kick(sr: int) -> np.ndarray:
    n = int(0.35 * sr)
    t = np.arange(n) / sr
    freq = 45.0 + 75.0 * np.exp(-t / 0.03)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    click = np.exp(-t / 0.002) * 0.4
    return (np.sin(phase) * np.exp(-t / 0.12) + click).astype(np.float32)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.22 * sr)
    t = np.arange(n) / sr
    noise = np.diff(rng.standard_normal(n + 1)) * 0.5
    tone = np.sin(2 * np.pi * 185.0 * t) * np.exp(-t / 0.05)
    return ((noise * np.exp(-t / 0.06)) * 0.7 + tone * 0.5).astype(np.float32)


def _hat(sr: int, rng: np.random.Generator, *, decay_s: float = 0.03) -> np.ndarray:
    n = int(0.12 * sr)
    noise = np.diff(rng.standard_normal(n + 2), n=2) * 0.25
    return (noise * _env(n, sr, attack_s=0.0005, decay_s=decay_s)).astype(np.float32)


def _tone(freq_hz: float, dur_s: float, sr: int, *, harmonics: tuple[float, ...], attack_s: float, decay_s: float,
          release_s: float = 0.05) -> np.ndarray:
    n = int((dur_s + release_s) * sr)
    t = np.arange(n) / sr
    wave = np.zeros(n)
    for k, amp in enumerate(harmonics, start=1):
        if freq_hz * k < sr / 2.2:
            wave += amp * np.sin(2 * np.pi * freq_hz * k * t)
    env = _env(n, sr, attack_s=attack_s, decay_s=decay_s)
    release = np.clip((dur_s + release_s - t) / release_s, 0.0, 1.0)
    return (wave * env * release).astype(np.float32)


def _add(buf: np.ndarray, start_s: float, sound: np.ndarray, gain: float, sr: int) -> None:
    if gain <= 0:
        return
    i = int(round(start_s * sr))
    if i >= len(buf):
        return
    j = min(len(buf), i + len(sound))
    buf[i:j] += gain * sound[: j - i]


# ---------------------------------------------------------------------------- song


def render_song(
    *, bpm: float, sections: list[tuple[str, int]], seed: int, sr: int, key_pc: int, mode: str, lead_in_s: float,
    tail_s: float = 1.5,
) -> tuple[np.ndarray, SongTruth]:
    """Render a mono song (float32, peak ~0.9) and its ground truth; pure, no file I/O."""
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / bpm
    bars = sum(n for _, n in sections)
    total_s = lead_in_s + bars * 4 * beat_s + tail_s
    buf = np.zeros(int(total_s * sr) + 1, dtype=np.float32)
    kick, snare = _kick(sr), _snare(sr, rng)
    hat_closed, crash = _hat(sr, rng), _hat(sr, rng, decay_s=0.6) * 0.6
    crash = np.concatenate([crash, _hat(sr, rng, decay_s=0.8)[: int(0.8 * sr)] * 0.5])
    chords, scale = (_MAJOR if mode == "major" else _MINOR), _SCALES[mode]
    tonic = 48 + key_pc  # C3..B3

    beats: list[float] = []
    downbeats: list[float] = []
    truth_sections: list[tuple[str, float, float]] = []
    bar_index = 0
    melody_rng = np.random.default_rng(seed + 7)
    for label, n_bars in sections:
        mix = _MIX.get(label, _MIX["verse"])
        k_g, s_g, h_g, b_g, p_g, l_g = mix
        prog_names = _PROGRESSIONS[mode].get(label, _PROGRESSIONS[mode]["other"])
        sec_start = lead_in_s + bar_index * 4 * beat_s
        truth_sections.append((label, sec_start * 1000, (sec_start + n_bars * 4 * beat_s) * 1000))
        if label not in ("intro", "breakdown"):
            _add(buf, sec_start, crash, 0.25 if label != "outro" else 0.12, sr)
        for b in range(n_bars):
            bar_start = lead_in_s + bar_index * 4 * beat_s
            chord = chords[prog_names[b % len(prog_names)]]
            root = tonic + chord[0]
            downbeats.append(bar_start * 1000)
            # pads: the chord held for the bar, soft attack
            for pc in chord:
                note = tonic + 12 + pc
                pad = _tone(_midi_hz(note), 4 * beat_s, sr, harmonics=(1.0, 0.3, 0.1), attack_s=0.08, decay_s=6.0,
                            release_s=0.15)
                _add(buf, bar_start, pad, 0.10 * p_g, sr)
            for beat in range(4):
                t = bar_start + beat * beat_s
                beats.append(t * 1000)
                if beat in (0, 2):
                    _add(buf, t, kick, k_g * (1.0 if beat == 0 else 0.85), sr)
                else:
                    _add(buf, t, snare, s_g * 0.5, sr)
                for half in range(2):
                    accent = 1.0 if half == 0 else 0.6
                    _add(buf, t + half * beat_s / 2, hat_closed, h_g * 0.35 * accent, sr)
                # bass: root on 1 (long), fifth/octave pickups in busy sections
                if beat == 0 or (beat == 2 and b_g >= 0.5):
                    note = root - 12 + (0 if beat == 0 else 7)
                    dur = beat_s * (1.8 if beat == 0 else 0.9)
                    bass = _tone(_midi_hz(note), dur, sr, harmonics=(1.0, 0.5, 0.25, 0.12), attack_s=0.005,
                                 decay_s=0.5)
                    _add(buf, t, bass, 0.28 * b_g, sr)
            # lead melody: chord tones and scale steps on quarters / eighths
            if l_g > 0:
                octave = 24 if label == "chorus" else 12
                t = bar_start
                while t < bar_start + 4 * beat_s - 1e-6:
                    dur = beat_s if melody_rng.random() < 0.6 else beat_s / 2
                    if melody_rng.random() < 0.8:
                        if abs(t - bar_start) < 1e-6 or melody_rng.random() < 0.5:
                            pc = chord[int(melody_rng.integers(0, 3))]
                        else:
                            pc = scale[int(melody_rng.integers(0, 7))]
                        lead = _tone(_midi_hz(tonic + octave + pc), dur * 0.9, sr, harmonics=(1.0, 0.4, 0.2, 0.1),
                                     attack_s=0.015, decay_s=0.8, release_s=0.06)
                        _add(buf, t, lead, 0.16 * l_g, sr)
                    t += dur
            bar_index += 1
    buf = np.tanh(buf * 1.1)  # gentle glue, never harsh clipping
    peak = float(np.max(np.abs(buf))) or 1.0
    buf = (buf * (0.9 / peak)).astype(np.float32)
    truth = SongTruth(
        bpm=bpm, sr=sr, duration_ms=int(round(len(buf) / sr * 1000)), beats_ms=tuple(beats),
        downbeats_ms=tuple(downbeats), sections=tuple(truth_sections), key=NOTE_NAMES[key_pc], mode=mode,
    )
    return buf, truth


def write_wav(path: Path, mono: np.ndarray, sr: int, *, stereo: bool = False) -> Path:
    """Write ``mono`` (float, -1..1) as a 16-bit WAV, atomically; ``stereo`` duplicates it on two channels."""
    data = np.stack([mono, mono], axis=1) if stereo else mono
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        sf.write(tmp, data, sr, subtype="PCM_16", format="WAV")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def make_song(
    path: Path, *, bpm: float, bars: int, sections: list[tuple[str, int]] | None = None, seed: int = 0,
    sr: int = 22050, stereo: bool = False,
) -> SongTruth:
    """Write a synthetic song to ``path`` (16-bit WAV) and return its ground truth.

    ``sections`` is a list of (label, bars); when given, the bar counts must add
    up to ``bars``. Key, mode and the lead-in before the first beat follow from
    ``seed``.
    """
    layout = sections if sections is not None else default_sections(bars)
    if sum(n for _, n in layout) != bars:
        raise ValueError(f"sections add up to {sum(n for _, n in layout)} bars, not {bars}")
    if not 30 <= bpm <= 300:
        raise ValueError("bpm must be within 30..300")
    rng = np.random.default_rng(seed)
    key_pc = int(rng.integers(0, 12))
    mode = "minor" if rng.random() < 0.5 else "major"
    lead_in_s = float(0.3 + rng.random() * 0.7)
    mono, truth = render_song(bpm=bpm, sections=layout, seed=seed, sr=sr, key_pc=key_pc, mode=mode, lead_in_s=lead_in_s)
    write_wav(path, mono, sr, stereo=stereo)
    log.debug("wrote synthetic song %s (%.1f BPM, %d bars)", path, bpm, bars)
    return truth


# ---------------------------------------------------------------------------- the demo

DEMO_BPM = 110.0
DEMO_SECTIONS = [("intro", 2), ("verse", 8), ("chorus", 8), ("breakdown", 2), ("chorus", 4), ("outro", 2)]
# (section index, bar offset within it, bars long, text, word-timed?)
_DEMO_LYRICS: list[tuple[int, int, str, bool]] = [
    (1, 0, "Streetlights hum a song in blue", False),
    (1, 2, "I trace the skyline back to you", False),
    (1, 4, "Every window holds a spark", False),
    (1, 6, "A thousand stories in the dark", False),
    (2, 0, "We are running with the night", True),
    (2, 2, "Hearts like neon burning bright", True),
    (2, 4, "Hold on tight, the city's ours", True),
    (2, 6, "Dancing underneath the stars", True),
    (4, 0, "We are running with the night", True),
    (4, 1, "Hearts like neon burning bright", True),
    (4, 2, "Hold on tight, the city's ours", False),
    (4, 3, "Dancing underneath the stars", False),
]


def _lrc_stamp(ms: float) -> str:
    cs = int(round(ms / 10.0))
    return f"{cs // 6000:02d}:{(cs // 100) % 60:02d}.{cs % 100:02d}"


def demo_lrc(truth: SongTruth) -> str:
    """The demo's LRC text, timed to the bars of its vocal sections (chorus lines word-timed)."""
    beat_ms = 60000.0 / truth.bpm
    lines = ["[ar:storybeat]", "[ti:Running With the Night]", "[by:storybeat demo generator]", ""]
    for sec_index, bar_offset, text, word_timed in _DEMO_LYRICS:
        start_ms = truth.sections[sec_index][1] + bar_offset * 4 * beat_ms
        if not word_timed:
            lines.append(f"[{_lrc_stamp(start_ms)}]{text}")
            continue
        words = text.split()
        step_ms = min(beat_ms, 4 * beat_ms / len(words)) if len(words) > 4 else beat_ms
        parts = [f"<{_lrc_stamp(start_ms + i * step_ms)}>{w}" for i, w in enumerate(words)]
        lines.append(f"[{_lrc_stamp(start_ms)}]" + " ".join(parts))
    return "\n".join(lines) + "\n"


def make_demo_song(dir: Path) -> tuple[Path, Path]:  # noqa: A002 - the brief's name
    """Write ``demo.wav`` (~57 s, 44.1 kHz stereo) and ``demo.lrc`` into ``dir``; returns both paths."""
    dir.mkdir(parents=True, exist_ok=True)
    wav, lrc = dir / "demo.wav", dir / "demo.lrc"
    mono, truth = render_song(
        bpm=DEMO_BPM, sections=DEMO_SECTIONS, seed=2024, sr=44100, key_pc=9, mode="minor", lead_in_s=0.5,
    )
    write_wav(wav, mono, 44100, stereo=True)
    tmp = lrc.with_name(f".{lrc.name}.{os.getpid()}.tmp")
    tmp.write_text(demo_lrc(truth), encoding="utf-8")
    os.replace(tmp, lrc)
    return wav, lrc
