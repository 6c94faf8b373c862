"""Test songs with exactly known line and word times: espeak-ng speech mixed over real music.

Each word is synthesised on its own by espeak-ng (``espeak-ng -w``), its
leading and trailing silence trimmed, and the words of a line are joined with
short gaps; so every word's first sample, and so every line's start, is known
exactly. Lines are laid over a music track with pauses between them (some long,
like an instrumental bar) and mixed at a given voice-to-music ratio in dB
(RMS of the voice where it sounds against RMS of the music over the same
samples).

Used by ``bench/bench_lyrics.py`` and to make the committed test fixture
(``python bench/lyrics_songs.py fixture``). Needs ``espeak-ng`` (Debian).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SR = 22_050

# Plain English lines (some repeated like a chorus) and one made-up word not in any dictionary.
LYRIC_BANK = [
    "the night is falling on the silent town",
    "I walk alone beneath the neon rain",
    "every window holds a different dream",
    "and I keep running till the morning comes",
    "hold on to me we are burning bright",
    "the river carries all our names away",
    "we were young and the road was long",
    "a thousand voices singing in the dark",
    "follow the light across the frozen sea",
    "nothing can stop us when the drums begin",
    "the zorblax engine hums beneath the hill",
    "I hear your heartbeat in the falling snow",
    "take my hand and never let it go",
    "the city sleeps but we are wide awake",
    "tomorrow is a story we will write",
    "under the stars we find our way back home",
]


@dataclass
class TruthLine:
    """One spoken line: its text, start and end, and each word's (text, start_ms, end_ms)."""

    text: str
    start_ms: int
    end_ms: int
    words: list[tuple[str, int, int]] = field(default_factory=list)


def have_espeak() -> bool:
    """True when the espeak-ng program is on PATH."""
    return shutil.which("espeak-ng") is not None


def _trim(y: np.ndarray, *, threshold: float = 0.01) -> np.ndarray:
    """The samples between the first and last one louder than ``threshold`` of the peak."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak <= 0:
        return y[:0]
    idx = np.flatnonzero(np.abs(y) > threshold * peak)
    return y[idx[0]: idx[-1] + 1]


def speak_word(word: str, *, voice: str = "en-us", speed: int = 165, pitch: int = 50, tmp: Path) -> np.ndarray:
    """One word from espeak-ng at :data:`SR`, silence trimmed (float32, peak 1)."""
    import librosa
    import soundfile as sf

    out = tmp / "w.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), word],
                   check=True, capture_output=True)
    y, sr = sf.read(out, dtype="float32")
    if y.ndim > 1:
        y = y.mean(axis=1)
    if sr != SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=SR)
    y = _trim(y)
    return y / max(1e-9, float(np.max(np.abs(y))))


# espeak-ng pitch settings (``-p``, 0-99, the voice's formants stay) a sung-like line moves on, and its slow
# speeds (``-s``, words per minute; 165 is the spoken default): held vowels, a melody, the voice's own timbre.
SUNG_PITCHES = [15, 30, 45, 55, 70, 85, 99]
SUNG_SPEEDS = (80, 115)
VIBRATO_HZ, VIBRATO_SEMITONES = 5.5, 0.5


def vibrato(y: np.ndarray, *, hz: float = VIBRATO_HZ, semitones: float = VIBRATO_SEMITONES) -> np.ndarray:
    """``y`` with a singer's vibrato: its pitch swings +-``semitones`` ``hz`` times a second (the time warp
    of a frequency modulation; the word keeps its length)."""
    depth = 2 ** (semitones / 12) - 1  # the largest relative change of the playback rate
    t = np.arange(len(y), dtype=np.float64)
    warped = t + depth * SR / (2 * np.pi * hz) * np.sin(2 * np.pi * hz * t / SR)
    return np.interp(np.clip(warped, 0, len(y) - 1), t, y).astype(np.float32)


def build_voice(lines: list[str], *, duration_s: float, first_s: float, rng: np.random.Generator,
                voice: str = "en-us", sung: bool = False) -> tuple[np.ndarray, list[TruthLine]]:
    """The voice track (length ``duration_s``) and the truth; lines that do not fit are left out.

    ``sung``: every word is spoken slowly (80-115 words per minute: held vowels) at a pitch of
    :data:`SUNG_PITCHES` (a melody over about an octave, the formants kept), with a 5.5 Hz vibrato of
    +-0.5 semitone (:func:`vibrato`): sung-like, not singing.
    """
    n_total = int(duration_s * SR)
    track = np.zeros(n_total, dtype=np.float32)
    truth: list[TruthLine] = []
    t = int(first_s * SR)
    cache: dict[tuple[str, tuple[int, int]], np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for k, text in enumerate(lines):
            pieces, words = [], []
            pos = 0
            for j, word in enumerate(text.split()):
                how = (int(rng.integers(*SUNG_SPEEDS)), int(rng.choice(SUNG_PITCHES))) if sung else (165, 50)
                if (word, how) not in cache:
                    cache[(word, how)] = speak_word(word, voice=voice, speed=how[0], pitch=how[1], tmp=tmp)
                y = vibrato(cache[(word, how)]) if sung else cache[(word, how)]
                if j:
                    pos += int(SR * rng.uniform(0.05, 0.14))
                words.append((word, pos, pos + len(y)))
                pieces.append((pos, y))
                pos += len(y)
            if t + pos >= n_total - SR // 2:
                break
            for p, y in pieces:
                track[t + p: t + p + len(y)] += y
            truth.append(TruthLine(
                text=text, start_ms=round(1000 * t / SR), end_ms=round(1000 * (t + pos) / SR),
                words=[(w, round(1000 * (t + a) / SR), round(1000 * (t + b) / SR)) for w, a, b in words],
            ))
            gap = rng.uniform(0.6, 2.0) if (k + 1) % 4 else rng.uniform(4.0, 7.0)  # a long pause every 4 lines
            t += pos + int(gap * SR)
    return track, truth


def mix(music: np.ndarray, voice: np.ndarray, *, snr_db: float) -> np.ndarray:
    """Voice over music at ``snr_db`` (voice RMS where it sounds vs. music RMS there), peak-normalised to 0.9."""
    n = min(len(music), len(voice))
    music, voice = music[:n].astype(np.float32), voice[:n].astype(np.float32)
    active = np.abs(voice) > 1e-4
    v_rms = float(np.sqrt(np.mean(voice[active] ** 2))) if active.any() else 1.0
    m_rms = float(np.sqrt(np.mean(music[active] ** 2))) if active.any() else float(np.sqrt(np.mean(music ** 2)))
    gain = (m_rms * 10 ** (snr_db / 20)) / max(v_rms, 1e-9)
    out = music + gain * voice
    return (0.9 * out / max(1e-9, float(np.max(np.abs(out))))).astype(np.float32)


def load_music(path: Path, *, offset_s: float = 0.0, duration_s: float | None = None) -> np.ndarray:
    """A music file as mono float32 at :data:`SR`."""
    import librosa

    y, _ = librosa.load(str(path), sr=SR, mono=True, offset=offset_s, duration=duration_s)
    return y.astype(np.float32)


def make_song(music: np.ndarray, *, lines: list[str], snr_db: float, seed: int,
              first_s: float = 2.0, sung: bool = False) -> tuple[np.ndarray, list[TruthLine]]:
    """Speech (or sung-like, see :func:`build_voice`) lines over ``music`` at ``snr_db``: the mix and its truth
    (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    voice, truth = build_voice(lines, duration_s=len(music) / SR, first_s=first_s, rng=rng, sung=sung)
    return mix(music, voice, snr_db=snr_db), truth


def truth_json(truth: list[TruthLine]) -> list[dict]:
    """The truth as JSON-ready dicts."""
    return [{"text": t.text, "start_ms": t.start_ms, "end_ms": t.end_ms,
             "words": [{"text": w, "start_ms": a, "end_ms": b} for w, a, b in t.words]} for t in truth]


def make_fixture(out_dir: Path) -> None:
    """The committed test case: 6 dB speech over a real-music excerpt (tests/data/lyrics_align/)."""
    import soundfile as sf

    music = load_music(REPO / "tests/data/real_audio/fof_war_of_freedom_20s.ogg")
    lines = ["the night is falling on the silent town", "I walk alone beneath the neon rain",
             "the zorblax engine hums beneath the hill", "hold on to me we are burning bright",
             "take my hand and never let it go"]
    song, truth = make_song(music, lines=lines, snr_db=6.0, seed=13, first_s=1.5)
    out_dir.mkdir(parents=True, exist_ok=True)
    sf.write(out_dir / "speech_over_rock.ogg", song, SR, format="OGG", subtype="VORBIS")
    (out_dir / "speech_over_rock.json").write_text(json.dumps({
        "made_by": "python bench/lyrics_songs.py fixture (espeak-ng en-us, word by word, 6 dB over "
                   "tests/data/real_audio/fof_war_of_freedom_20s.ogg, seed 13)",
        "snr_db": 6.0, "lines": truth_json(truth)}, indent=1) + "\n")
    print(f"wrote {out_dir}: {len(truth)} lines")


def main(argv: list[str] | None = None) -> int:
    """``fixture``: write the committed test case."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["fixture"])
    parser.add_argument("--out", type=Path, default=REPO / "tests/data/lyrics_align")
    args = parser.parse_args(argv)
    if not have_espeak():
        print("espeak-ng is missing (apt-get install espeak-ng)", file=sys.stderr)
        return 2
    make_fixture(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
