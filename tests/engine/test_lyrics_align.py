"""Plain lyrics aligned to the voice (engine/audio/align.py) on a committed generated case.

tests/data/lyrics_align/speech_over_rock.ogg: espeak-ng speech, word by word, at 6 dB over a
real rock excerpt, with exact line and word times in the JSON beside it (made by
``python bench/lyrics_songs.py fixture``), so no TTS is needed at test time.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio.align import align_lyrics, english_share, letter_to_sound, normalise, prepare_audio
from engine.audio.lyrics import place_plain_lines
from engine.models import Analysis, LyricLine

CASE = Path(__file__).resolve().parent.parent / "data" / "lyrics_align" / "speech_over_rock"


@pytest.fixture(scope="module")
def case() -> tuple[np.ndarray, int, list[dict]]:
    y, sr = sf.read(CASE.with_suffix(".ogg"), dtype="float32")
    truth = json.loads(CASE.with_suffix(".json").read_text())["lines"]
    return prepare_audio(y, sr), int(1000 * len(y) / sr), truth


def _estimate(texts: list[str], duration_ms: int) -> list[LyricLine]:
    return place_plain_lines(texts, duration_ms=duration_ms, energy=None, beats_ms=list(range(0, duration_ms, 500)),
                             sections=[])


def test_lines_and_words_land_on_the_voice(case):
    pcm, duration_ms, truth = case
    texts = [t["text"] for t in truth]
    out = align_lyrics(pcm, texts, estimate=_estimate(texts, duration_ms), duration_ms=duration_ms)
    assert [o.timing for o in out] == ["aligned"] * len(truth)
    line_err = [abs(o.start_ms - t["start_ms"]) for o, t in zip(out, truth)]
    assert max(line_err) < 300, line_err
    word_err = [abs(w.start_ms - tw["start_ms"]) for o, t in zip(out, truth) for w, tw in zip(o.words, t["words"])]
    assert [len(o.words) for o in out] == [len(t["words"]) for t in truth]
    assert np.median(word_err) < 100 and max(word_err) < 500, word_err
    assert all(0.5 <= o.confidence <= 1 for o in out)
    starts = [o.start_ms for o in out]
    assert starts == sorted(starts) and all(a.end_ms <= b.start_ms for a, b in zip(out, out[1:]))


def test_a_word_not_in_the_dictionary_is_still_timed(case):
    pcm, duration_ms, truth = case
    assert "zorblax" in truth[2]["text"]
    assert letter_to_sound("zorblax") == "Z AO R B L AE K S"
    texts = [t["text"] for t in truth]
    out = align_lyrics(pcm, texts, estimate=_estimate(texts, duration_ms), duration_ms=duration_ms)
    word = next(w for w in out[2].words if w.text == "zorblax")
    want = next(w for w in truth[2]["words"] if w["text"] == "zorblax")
    assert abs(word.start_ms - want["start_ms"]) < 300


def test_wrong_text_falls_back_to_the_estimate_marked_estimated(case):
    pcm, duration_ms, truth = case
    texts = [t["text"] for t in truth]
    texts[1] = "quantum bicycle teapot umbrella seventeen"  # not what is said there
    estimate = _estimate(texts, duration_ms)
    out = align_lyrics(pcm, texts, estimate=estimate, duration_ms=duration_ms)
    assert out[1].timing == "estimated" and out[1].confidence < 0.5 and out[1].words == []
    assert out[0].end_ms <= out[1].start_ms < out[2].start_ms  # placed between its aligned neighbours
    assert [o.timing for i, o in enumerate(out) if i != 1] == ["aligned"] * (len(truth) - 1)


def test_non_english_lyrics_keep_the_estimate(case):
    pcm, duration_ms, _ = case
    texts = ["la nuit tombe sur la ville silencieuse", "je marche seul sous la pluie de néons"]
    assert english_share(texts, lambda w: w in {"la", "sur"}) < 0.6
    estimate = _estimate(texts, duration_ms)
    out = align_lyrics(pcm, texts, estimate=estimate, duration_ms=duration_ms)
    assert [o.timing for o in out] == ["estimated", "estimated"]
    assert [(o.start_ms, o.end_ms) for o in out] == [(e.start_ms, e.end_ms) for e in estimate]


def test_tokens_without_letters_are_interpolated(case):
    pcm, duration_ms, truth = case
    texts = [t["text"] for t in truth]
    texts[0] = texts[0].replace("falling", "falling 99")
    out = align_lyrics(pcm, texts, estimate=_estimate(texts, duration_ms), duration_ms=duration_ms)
    words = out[0].words
    k = [w.text for w in words].index("99")
    assert words[k - 1].start_ms <= words[k].start_ms <= words[k + 1].start_ms
    assert normalise("Don’t,") == "don't" and normalise("99") == ""


def test_old_analysis_files_load_with_timing_from_source():
    line = {"index": 0, "text": "a", "start_ms": 0, "end_ms": 10, "source": "text"}
    assert LyricLine.model_validate(line).timing == "estimated"
    assert LyricLine.model_validate({**line, "source": "lrc"}).timing == "given"
    assert LyricLine.model_validate({**line, "timing": "aligned", "confidence": 0.9}).confidence == 0.9
    assert "timing" in Analysis.model_fields["lyrics"].annotation.__args__[0].model_fields
