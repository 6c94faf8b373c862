"""Lyrics alignment: the old heuristic (place_plain_lines) and the pocketsphinx aligner side by side.

Test songs with exactly known line and word times (``bench/lyrics_songs.py``:
espeak-ng speech, word by word, over real music from the corpus) at 0, 6 and
12 dB voice-to-music. Each mix is analysed by the local analyst's signal
analysis (sections and beats for the heuristic), then timed twice: by
:func:`engine.audio.lyrics.place_plain_lines` alone (the old way) and by
:func:`engine.audio.align.align_lyrics` (which falls back to that estimate
for lines it is not confident about). Per level: median and p90 absolute
line-start error, word-start error (aligned lines only: the heuristic has no
word times), the share of lines starting within 0.5 s, the share of lines
marked aligned, and the alignment time per minute of audio (wall, this
machine; audio preparation included).

``--sung`` makes the voice sung-like instead: each word spoken slowly (80-115 words per minute, so the
vowels are held) at a pitch that jumps over about an octave word to word (espeak-ng's ``-p``, formants
kept), with a 5.5 Hz +-0.5 semitone vibrato: long vowels, a melody and vibrato, three things that make
singing hard for a speech aligner. It is still espeak-ng, not a singer: no legato, no reverb or doubling.

Run: ``.venv/bin/python bench/bench_lyrics.py [--corpus /path/to/corpus] [--quick] [--emphasis none] [--sung] [--levels 6]``
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from lyrics_songs import LYRIC_BANK, SR, have_espeak, load_music, make_song  # noqa: E402

DEFAULT_CORPUS = Path("/work/main/data/corpus")
SONGS = [  # (corpus track, offset s): real recorded rock/metal and our own band arrangements
    ("fof_war_of_freedom", 20.0), ("fof_chaos_god", 30.0), ("fof_feelings", 15.0),
    ("own_pop_108", 4.0), ("own_breakdown_124", 10.0),
]
LEVELS_DB = [0.0, 6.0, 12.0]
LENGTH_S = 75.0


def _corpus_dir(arg: Path | None) -> Path:
    for cand in [arg, REPO / "data" / "corpus", DEFAULT_CORPUS]:
        if cand is not None and cand.is_dir() and any(cand.glob("*.wav")):
            return cand
    raise SystemExit("no corpus: run `make eval-audio` or pass --corpus")


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(corpus: Path, *, songs: list[tuple[str, float]], emphasis: str, sung: bool = False,
        levels: list[float] = LEVELS_DB) -> list[str]:
    """Markdown lines of the results table."""
    import soundfile as sf

    from engine.audio.align import align_lyrics, prepare_audio
    from engine.audio.features import load_and_analyze, to_analysis
    from engine.audio.lyrics import place_plain_lines, vocal_spans

    rows = []
    for level in levels:
        old_err, new_err, word_err, aligned, n_lines, align_s, audio_s = [], [], [], 0, 0, 0.0, 0.0
        for k, (name, offset) in enumerate(songs):
            music = load_music(corpus / f"{name}.wav", offset_s=offset, duration_s=LENGTH_S)
            rng = np.random.default_rng(k)
            lines = [LYRIC_BANK[i] for i in rng.permutation(len(LYRIC_BANK))]
            lines = lines[:8] + lines[:4] + lines[8:]  # a repeated 'chorus'
            song, truth = make_song(music, lines=lines, snr_db=level, seed=100 + k, sung=sung)
            with tempfile.TemporaryDirectory() as tmp:
                wav = Path(tmp) / "mix.wav"
                sf.write(wav, song, SR, subtype="PCM_16")
                analysis = to_analysis(load_and_analyze(wav), provider="local")
            texts = [t.text for t in truth]
            estimate = place_plain_lines(texts, duration_ms=analysis.duration_ms, energy=analysis.energy,
                                         beats_ms=analysis.beats_ms, sections=analysis.sections)
            started = time.monotonic()
            pcm = prepare_audio(song, SR, emphasis=emphasis)  # type: ignore[arg-type]
            out = align_lyrics(pcm, texts, estimate=estimate, duration_ms=analysis.duration_ms,
                               vocal_spans=vocal_spans(duration_ms=analysis.duration_ms, sections=analysis.sections))
            align_s += time.monotonic() - started
            audio_s += len(song) / SR
            for t, e, o in zip(truth, estimate, out):
                old_err.append(abs(e.start_ms - t.start_ms) / 1000)
                new_err.append(abs(o.start_ms - t.start_ms) / 1000)
                n_lines += 1
                if o.timing == "aligned":
                    aligned += 1
                    word_err.extend(abs(w.start_ms - tw[1]) / 1000 for w, tw in zip(o.words, t.words))
        rows.append((level, old_err, new_err, word_err, aligned, n_lines, align_s, audio_s))
    out_lines = [
        f"{len(songs)} songs x {LENGTH_S:.0f} s of real music ({', '.join(n for n, _ in songs)}), "
        f"{n_lines} {'sung-like' if sung else 'spoken'} lines each level (espeak-ng en-us, word by word"
        f"{', each word slow (80-115 wpm) on a pitch jumping over about an octave, vibrato' if sung else ''}; a repeated chorus; pauses of "
        f"0.6-2 s and 4-7 s), audio emphasis `{emphasis}`. Errors are absolute, in seconds.",
        "",
        "| voice/music | method | line start median | line start p90 | lines within 0.5 s | word start median "
        "| word start p90 | lines aligned | time per minute of audio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for level, old_err, new_err, word_err, aligned, n, align_s, audio_s in rows:
        within_old = sum(e <= 0.5 for e in old_err) / len(old_err)
        within_new = sum(e <= 0.5 for e in new_err) / len(new_err)
        out_lines.append(f"| {level:.0f} dB | heuristic (place_plain_lines) | {_pct(old_err, 50):.2f} | "
                         f"{_pct(old_err, 90):.2f} | {100 * within_old:.0f} % | - | - | - | - |")
        out_lines.append(f"| {level:.0f} dB | aligner (pocketsphinx) | {_pct(new_err, 50):.2f} | "
                         f"{_pct(new_err, 90):.2f} | {100 * within_new:.0f} % | {_pct(word_err, 50):.2f} | "
                         f"{_pct(word_err, 90):.2f} | {100 * aligned / n:.0f} % | "
                         f"{60 * align_s / audio_s:.1f} s |")
    return out_lines


def main(argv: list[str] | None = None) -> int:
    """Print the markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="two songs")
    parser.add_argument("--emphasis", default="none", choices=["none", "bandpass", "repet", "hpss"])
    parser.add_argument("--sung", action="store_true", help="sung-like voice (held words on a melody)")
    parser.add_argument("--levels", type=float, nargs="+", default=LEVELS_DB, help="voice-to-music levels, dB")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    print(f"## Lyrics alignment{' (sung-like voice)' if args.sung else ''}\n")
    if not have_espeak():
        print("espeak-ng is missing (`apt-get install espeak-ng`): no test songs, nothing measured.")
        return 0
    songs = SONGS[:2] if args.quick else SONGS
    print("\n".join(run(_corpus_dir(args.corpus), songs=songs, emphasis=args.emphasis, sung=args.sung, levels=args.levels)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
