"""Offline forced alignment of plain lyric lines to the voice, with pocketsphinx.

Why pocketsphinx: its PyPI wheel (5.x) ships the CMU en-us continuous acoustic
model, an en-us language model, a phone LM and the CMU pronouncing dictionary
(``pocketsphinx/model/en-us``), so alignment needs no key, no network and no
downloaded weights; it decodes several times faster than real time on one core.

How (:func:`align_lyrics`):

1. **Audio** (:func:`prepare_audio`): mono, 16 kHz, 16-bit, optionally with the
   vocal emphasised (``emphasis="bandpass"``: a 120-5000 Hz band-pass;
   ``"repet"``: REPET-SIM foreground (librosa ``nn_filter`` soft mask) then the
   band-pass; ``"hpss"``: the harmonic part of librosa's HPSS, REPET-SIM, band-pass).
   The default is the one that measured best in ``bench/bench_lyrics.py``.
2. **Words**: each line is split into words, lower-cased, punctuation removed;
   a word missing from the dictionary gets a pronunciation from
   :func:`letter_to_sound` (simple English spelling rules); a token with no
   letters (a number, a symbol) is timed by interpolation between its neighbours.
3. **Language**: if less than :data:`MIN_ENGLISH_SHARE` of the words are in the
   English dictionary the text is taken as not English and nothing is aligned
   (every line keeps its estimate, marked ``estimated``).
4. **Pass 1, the whole song**: one finite-state grammar (FSG) of all words in
   order, silence and noise fillers allowed between any two words, decoded over
   the whole track: a rough position for every line that no local error can
   push out of order.
5. **Pass 2, line by line inside windows**: each line alone (an FSG with fillers
   before and after it) is decoded in a window around its pass-1 place, bounded
   by the neighbouring lines (or, if pass 1 lost the line, around its estimate
   inside the vocal parts), so one bad line cannot drag the rest.
6. **Confidence** (0..1) of a line: in pass 2 every word of the line may also
   be skipped (an empty arc in the grammar); the share of the line's letters the
   decoder kept rather than skipped measures how well the text fits the sound
   (the right text keeps nearly all, wrong text or no voice half or fewer:
   0.5 -> 0, 0.85 -> 1), times how well the two passes agree on the start
   (within 0.3 s: 1, 1.5 s apart: 0). pocketsphinx's Python scores are
   normalised per frame, so they are not used as a likelihood.
7. Lines below :data:`MIN_CONFIDENCE`, or out of order with their confident
   neighbours, fall back to the estimate (kept when it fits between the aligned
   neighbours, else spread between them by length) and are marked ``estimated``.

Pure functions apart from the decoder; all times are integer milliseconds.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from engine.audio.lyrics import SectionLike, vocal_spans
from engine.models import LyricLine, LyricWord

if TYPE_CHECKING:  # pragma: no cover
    import pocketsphinx

log = logging.getLogger(__name__)

SR = 16_000
FRAME_MS = 10  # pocketsphinx's default frame rate: 100 frames a second
MIN_CONFIDENCE = 0.5
MIN_ENGLISH_SHARE = 0.75  # English lyrics score ~0.95; French ~0.6 (CMUdict knows "la", "de", "sur")
Emphasis = Literal["none", "bandpass", "repet", "hpss"]
DEFAULT_EMPHASIS: Emphasis = "none"
WINDOW_PAD_MS = 2500  # pass 2: how far around its pass-1 place a line is searched
FALLBACK_WINDOW_MS = 8000  # pass 2 around the estimate, when pass 1 lost the line
NEIGHBOUR_SLACK_MS = 0  # pass 2 may reach this far into a neighbour's pass-1 span
MAX_INNER_GAP_MS = 1200  # a first/last word this far from the rest of its line was heard elsewhere: dropped
HOLD_MS = 400  # a line stays on screen this long after its last word (when the next line allows)
SKIP_PROB = 0.1  # pass 2: the grammar's probability of skipping a word
KEPT_FLOOR, KEPT_FULL = 0.5, 0.85  # share of words kept -> confidence 0 .. 1

_TOKEN = re.compile(r"[^a-z']+")


@dataclass(frozen=True)
class AlignedWord:
    """A word of a line and its time (``found`` False when interpolated, not heard)."""

    text: str
    start_ms: int
    end_ms: int
    found: bool = True


@dataclass
class AlignedLine:
    """One line's aligned time, its words and the confidence (0..1) of the alignment."""

    start_ms: int
    end_ms: int
    words: list[AlignedWord] = field(default_factory=list)
    confidence: float = 0.0


# ---------------------------------------------------------------------------- audio


def prepare_audio(y: np.ndarray, sr: int, *, emphasis: Emphasis = DEFAULT_EMPHASIS) -> np.ndarray:
    """Mono float audio at ``sr`` -> 16 kHz int16 for the decoder, the vocal emphasised as asked."""
    import librosa  # deferred: librosa loads slowly

    y = np.asarray(y, dtype=np.float32)
    if y.ndim > 1:
        y = y.mean(axis=0 if y.shape[0] < y.shape[1] else 1)
    if sr != SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=SR)
    if emphasis != "none" and y.size > 2048:
        hop = 256
        spec = librosa.stft(y, n_fft=1024, hop_length=hop)
        mag, phase = np.abs(spec), np.angle(spec)
        if emphasis == "hpss":
            mag, _ = librosa.decompose.hpss(mag, margin=1.0)
        if emphasis in ("repet", "hpss"):
            width = max(3, min(mag.shape[1] // 4, int(librosa.time_to_frames(2.0, sr=SR, hop_length=hop))))
            background = np.minimum(mag, librosa.decompose.nn_filter(mag, aggregate=np.median, metric="cosine",
                                                                   width=width))
            mag = mag * librosa.util.softmask(mag - background, 2.0 * background, power=2)
        freqs = librosa.fft_frequencies(sr=SR, n_fft=1024)
        mag[(freqs < 120) | (freqs > 5000)] *= 0.05
        y = librosa.istft(mag * np.exp(1j * phase), hop_length=hop, length=len(y))
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0:
        y = 0.9 * y / peak
    return (np.clip(y, -1.0, 1.0) * 32767).astype(np.int16)


# ---------------------------------------------------------------------------- words


def normalise(token: str) -> str:
    """A lyric token as a dictionary key: lower case, letters and inner apostrophes only."""
    return _TOKEN.sub("", token.lower().replace("\u2019", "'")).strip("'")


_LTS_RULES: list[tuple[str, str]] = sorted([
    ("tion", "SH AH N"), ("sion", "ZH AH N"), ("igh", "AY"), ("ough", "AO"), ("sch", "S K"), ("tch", "CH"),
    ("sh", "SH"), ("ch", "CH"), ("th", "TH"), ("ph", "F"), ("wh", "W"), ("ck", "K"), ("ng", "NG"), ("qu", "K W"),
    ("ee", "IY"), ("ea", "IY"), ("ie", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"), ("ai", "EY"), ("ay", "EY"),
    ("ey", "EY"), ("oi", "OY"), ("oy", "OY"), ("au", "AO"), ("aw", "AO"), ("oa", "OW"), ("er", "ER"), ("ir", "ER"),
    ("ur", "ER"), ("ar", "AA R"), ("or", "AO R"), ("kn", "N"), ("wr", "R"),
    ("a", "AE"), ("b", "B"), ("c", "K"), ("d", "D"), ("e", "EH"), ("f", "F"), ("g", "G"), ("h", "HH"), ("i", "IH"),
    ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"), ("o", "AA"), ("p", "P"), ("q", "K"), ("r", "R"),
    ("s", "S"), ("t", "T"), ("u", "AH"), ("v", "V"), ("w", "W"), ("x", "K S"), ("y", "IY"), ("z", "Z"),
], key=lambda rule: -len(rule[0]))


def letter_to_sound(word: str) -> str:
    """A rough ARPABET pronunciation from English spelling rules (for words not in the dictionary).

    Greedy longest match over common graphemes; a final silent ``e`` is dropped,
    doubled letters count once, a leading ``y`` is a consonant. Good enough to
    place the word in time; '' when the word has no letters.
    """
    w = re.sub(r"[^a-z]", "", word.lower())
    if len(w) > 2 and w.endswith("e") and w[-2] not in "aeiou":
        w = w[:-1]
    w = re.sub(r"([b-df-hj-np-tv-z])\1", r"\1", w)
    phones: list[str] = []
    i = 0
    while i < len(w):
        if i == 0 and w[0] == "y" and len(w) > 1:
            phones.append("Y")
            i += 1
            continue
        for graph, sound in _LTS_RULES:
            if w.startswith(graph, i):
                phones.extend(sound.split())
                i += len(graph)
                break
        else:  # pragma: no cover - every letter has a rule
            i += 1
    return " ".join(phones)


# ---------------------------------------------------------------------------- decoder


class _Decoder:
    """One pocketsphinx decoder with the packaged en-us model; FSG and phone-loop searches."""

    def __init__(self) -> None:
        # deferred: pocketsphinx loads its model (~40 MB) only when lyrics are aligned
        import pocketsphinx

        self.ps = pocketsphinx
        self.dec: pocketsphinx.Decoder = pocketsphinx.Decoder(
            loglevel="FATAL", beam=1e-80, wbeam=1e-60, pbeam=1e-80, maxhmmpf=-1, samprate=SR,
        )
        # a small search to return to between grammars (the default n-gram search is never used)
        self.dec.add_allphone_file("phones", pocketsphinx.get_model_path("en-us/en-us-phone.lm.bin"))
        self.logmath = self.dec.get_logmath()
        self._count = 0

    def known(self, word: str) -> bool:
        """Whether the dictionary has ``word``."""
        return self.dec.lookup_word(word) is not None

    def ensure(self, word: str) -> bool:
        """Make sure ``word`` can be decoded (adds a letter-to-sound pronunciation); False if impossible."""
        if self.known(word):
            return True
        phones = letter_to_sound(word)
        if not phones:
            return False
        self.dec.add_word(word, phones, True)
        return True

    def _run(self, pcm: np.ndarray) -> None:
        self.dec.start_utt()
        self.dec.process_raw(pcm.tobytes(), False, True)
        self.dec.end_utt()

    def chain(self, words: Sequence[str], pcm: np.ndarray, *, skip_prob: float = 0.0
              ) -> list[tuple[int, int, int]]:
        """Decode ``pcm`` with the words in order, fillers (silence, noise) allowed between them.

        With ``skip_prob`` > 0 every word may also be skipped (an empty arc):
        words that do not fit the audio are then left out. Returns
        (word index, start frame, end frame) of the words heard, in order.
        """
        if not words or pcm.size < SR // 10:
            return []
        self._count += 1
        name = f"chain{self._count}"
        arcs: list[tuple] = [(i, i + 1, 1.0 - skip_prob, w) for i, w in enumerate(words)]
        if skip_prob > 0:
            arcs += [(i, i + 1, skip_prob) for i in range(len(words))]
        fsg = self.dec.create_fsg(name, 0, len(words), arcs)
        self.dec.add_fsg(name, fsg)
        self.dec.activate_search(name)
        try:
            self._run(pcm)
            out, k = [], 0
            for seg in self.dec.seg() or ():  # None when no path survived
                word = re.sub(r"\(\d+\)$", "", seg.word)
                j = next((j for j in range(k, len(words)) if words[j] == word), None)
                if j is not None:
                    out.append((j, seg.start_frame, seg.end_frame))
                    k = j + 1
            return out
        finally:
            self.dec.activate_search("phones")
            self.dec.remove_search(name)

# ---------------------------------------------------------------------------- alignment


@dataclass
class _LineWords:
    tokens: list[str]  # the line's words as written
    keys: list[str]  # dictionary keys ('' = not decodable, interpolated)


def _frames_to_ms(frame: int, offset_ms: int) -> int:
    return offset_ms + frame * FRAME_MS


def english_share(lines: Sequence[str], known: Callable[[str], bool]) -> float:
    """Share of the lyric words (with letters) found in the English dictionary."""
    keys = [normalise(t) for line in lines for t in line.split()]
    keys = [k for k in keys if k]
    return sum(1 for k in keys if known(k)) / len(keys) if keys else 0.0


def _interpolate_words(tokens: list[str], timed: dict[int, tuple[int, int]], start_ms: int, end_ms: int
                       ) -> list[AlignedWord]:
    """Every token with a time: heard ones as heard, the rest spread between their heard neighbours."""
    out: list[AlignedWord] = []
    n = len(tokens)
    i = 0
    while i < n:
        if i in timed:
            a, b = timed[i]
            out.append(AlignedWord(tokens[i], a, max(a + 1, b), True))
            i += 1
            continue
        j = i
        while j < n and j not in timed:
            j += 1
        lo = out[-1].end_ms if out else start_ms
        hi = timed[j][0] if j < n else end_ms
        hi = max(hi, lo + (j - i))
        weights = [len(t) + 1 for t in tokens[i:j]]
        total, acc = float(sum(weights)), 0.0
        for k in range(i, j):
            a = lo + int((hi - lo) * acc / total)
            acc += weights[k - i]
            b = lo + int((hi - lo) * acc / total)
            out.append(AlignedWord(tokens[k], a, max(a + 1, b), False))
        i = j
    return out


def _align_window(dec: _Decoder, line: _LineWords, pcm: np.ndarray, lo_ms: int, hi_ms: int
                  ) -> tuple[dict[int, tuple[int, int]], float]:
    """Line alone in ``[lo_ms, hi_ms)``, each word skippable: word times by token index, and the share
    (by letters) of the line's words the decoder kept rather than skipped (wrong text or no voice: ~half
    or fewer; the right text: nearly all)."""
    idx = [i for i, k in enumerate(line.keys) if k]
    keys = [line.keys[i] for i in idx]
    a, b = max(0, lo_ms * SR // 1000), min(pcm.size, hi_ms * SR // 1000)
    hits = dec.chain(keys, pcm[a:b], skip_prob=SKIP_PROB)
    if not hits:
        return {}, 0.0
    # a first or last word far from the rest was matched on other sound (a neighbour's tail, a noise)
    while len(hits) > 1 and (hits[1][1] - hits[0][2]) * FRAME_MS > MAX_INNER_GAP_MS:
        hits = hits[1:]
    while len(hits) > 1 and (hits[-1][1] - hits[-2][2]) * FRAME_MS > MAX_INNER_GAP_MS:
        hits = hits[:-1]
    timed = {idx[k]: (_frames_to_ms(s, lo_ms), _frames_to_ms(e + 1, lo_ms)) for k, s, e in hits}
    kept = sum(len(keys[k]) for k, _, _ in hits) / max(1, sum(len(k) for k in keys))
    return timed, kept


def _agreement(a_ms: int | None, b_ms: int) -> float:
    """1 when both passes put the line's start within 0.3 s of each other, falling to 0 at 1.5 s."""
    if a_ms is None:
        return 0.6  # pass 1 lost the line: the local pass alone decides, with less trust
    d = abs(a_ms - b_ms)
    return float(np.clip(1.0 - (d - 300) / 1200, 0.0, 1.0))


def align_lyrics(
    pcm: np.ndarray, lines: Sequence[str], *, estimate: Sequence[LyricLine], duration_ms: int,
    vocal_spans: Sequence[tuple[int, int]] = (), min_confidence: float = MIN_CONFIDENCE,
    source: Literal["text", "gemini"] = "text",
) -> list[LyricLine]:
    """Time ``lines`` on the voice in ``pcm`` (16 kHz int16, :func:`prepare_audio`); see the module docstring.

    ``estimate`` holds one line per text line (the fallback: e.g.
    :func:`engine.audio.lyrics.place_plain_lines`, or Gemini's repaired
    times); ``vocal_spans`` bound the fallback search windows. Every line of
    the result has ``timing`` ``"aligned"`` (with word times) or
    ``"estimated"`` and a ``confidence``.
    """
    if len(estimate) != len(lines):
        raise ValueError("one estimated line per text line is needed")
    started = time.monotonic()
    if not lines:
        return []
    dec = _Decoder()
    share = english_share(lines, dec.known)
    if share < MIN_ENGLISH_SHARE:
        log.info("lyrics look non-English (%.0f%% dictionary words): lines keep their estimate", 100 * share)
        return [line.model_copy(update={"timing": "estimated", "confidence": 0.0}) for line in estimate]
    parsed: list[_LineWords] = []
    for text in lines:
        tokens = text.split()
        keys = [normalise(t) for t in tokens]
        keys = [k if k and dec.ensure(k) else "" for k in keys]
        parsed.append(_LineWords(tokens=tokens, keys=keys))

    # pass 1: every word in order over the whole track
    flat = [(n, i) for n, line in enumerate(parsed) for i, k in enumerate(line.keys) if k]
    hits = dec.chain([parsed[n].keys[i] for n, i in flat], pcm)
    pass1: dict[int, tuple[int, int]] = {}
    for k, s, e in hits:
        n = flat[k][0]
        a, b = _frames_to_ms(s, 0), _frames_to_ms(e + 1, 0)
        pass1[n] = (pass1[n][0], b) if n in pass1 else (a, b)

    # pass 2: each line alone, in a window around its pass-1 place bounded by its neighbours
    results: list[AlignedLine | None] = []
    spans = list(vocal_spans) or [(0, duration_ms)]
    for n, line in enumerate(parsed):
        if not any(line.keys):
            results.append(None)
            continue
        if n in pass1:
            lo, hi = pass1[n][0] - WINDOW_PAD_MS, pass1[n][1] + WINDOW_PAD_MS
            prev = max((pass1[m][1] for m in pass1 if m < n), default=0)  # the previous line's end
            nxt = min((pass1[m][0] for m in pass1 if m > n), default=duration_ms)  # the next line's start
            lo, hi = max(lo, prev - NEIGHBOUR_SLACK_MS), min(hi, nxt + NEIGHBOUR_SLACK_MS)
        else:
            est = estimate[n]
            lo, hi = est.start_ms - FALLBACK_WINDOW_MS, est.end_ms + FALLBACK_WINDOW_MS
            inside = [(a, b) for a, b in spans if b > lo and a < hi]
            if inside:
                lo, hi = max(lo, inside[0][0] - 1000), min(hi, inside[-1][1] + 1000)
        lo, hi = max(0, lo), min(duration_ms, hi)
        if hi - lo < 500:
            results.append(None)
            continue
        timed, kept = _align_window(dec, line, pcm, lo, hi)
        if not timed:
            results.append(None)
            continue
        first = min(a for a, _ in timed.values())
        last = max(b for _, b in timed.values())
        agree = _agreement(pass1[n][0] if n in pass1 else None, first)
        fit = float(np.clip((kept - KEPT_FLOOR) / (KEPT_FULL - KEPT_FLOOR), 0.0, 1.0))
        confidence = round(fit * agree, 3)
        log.debug("line %d: kept %.2f agree %.2f window %d-%d first %d pass1 %s", n, kept, agree, lo, hi, first,
                  pass1.get(n))
        words = _interpolate_words(line.tokens, timed, first, last)
        results.append(AlignedLine(start_ms=first, end_ms=last, words=words, confidence=confidence))

    out = _merge(results, lines=lines, estimate=estimate, duration_ms=duration_ms, min_confidence=min_confidence,
                 source=source)
    elapsed = time.monotonic() - started
    aligned = sum(1 for line in out if line.timing == "aligned")
    log.info("aligned %d of %d lyric lines in %.1f s", aligned, len(out), elapsed)
    return out


def _merge(results: Sequence[AlignedLine | None], *, lines: Sequence[str], estimate: Sequence[LyricLine],
           duration_ms: int, min_confidence: float, source: Literal["text", "gemini"]) -> list[LyricLine]:
    """Confident, in-order alignments kept; the other lines estimated between them (module docstring, 7)."""
    n = len(lines)
    keep = [r is not None and r.confidence >= min_confidence for r in results]
    # out of order with a confident neighbour: the less confident of the two falls back
    changed = True
    while changed:
        changed = False
        kept = [i for i in range(n) if keep[i]]
        for i, j in zip(kept, kept[1:]):
            ri, rj = results[i], results[j]
            assert ri is not None and rj is not None
            if rj.start_ms < ri.end_ms - 200 or rj.start_ms <= ri.start_ms:
                drop = i if ri.confidence < rj.confidence else j
                keep[drop] = False
                changed = True
                break
    starts: list[int] = [0] * n
    ends: list[int] = [0] * n
    for i in range(n):
        if keep[i]:
            r = results[i]
            assert r is not None
            starts[i], ends[i] = r.start_ms, r.end_ms
    # runs of estimated lines between kept ones
    i = 0
    while i < n:
        if keep[i]:
            i += 1
            continue
        j = i
        while j < n and not keep[j]:
            j += 1
        lo = ends[i - 1] if i > 0 else 0
        hi = starts[j] if j < n else duration_ms
        est = [estimate[k].start_ms for k in range(i, j)]
        fits = all(lo <= s < hi for s in est) and all(a < b for a, b in zip(est, est[1:]))
        if fits:
            for k in range(i, j):
                starts[k] = estimate[k].start_ms
            for k in range(i, j):
                ends[k] = min(estimate[k].end_ms, starts[k + 1] if k + 1 < j else hi)
        else:  # spread the run over the gap by length, as the heuristic does
            weights = [len(lines[k]) + 12 for k in range(i, j)]
            total, acc = float(sum(weights)), 0.0
            span = max(hi - lo, j - i)
            for k in range(i, j):
                starts[k] = lo + int(span * acc / total)
                acc += weights[k - i]
                ends[k] = lo + int(span * acc / total)
        i = j
    out: list[LyricLine] = []
    for k in range(n):
        start = min(max(0, starts[k]), duration_ms - 1)
        if out and start <= out[-1].start_ms:
            start = min(duration_ms - 1, out[-1].start_ms + 1)
        nxt = starts[k + 1] if k + 1 < n else duration_ms
        r = results[k]
        if keep[k] and r is not None:
            end = min(max(ends[k] + HOLD_MS, start + 300), max(nxt, start + 1), duration_ms)
            words = [LyricWord(text=w.text, start_ms=min(max(w.start_ms, start), end),
                               end_ms=min(max(w.end_ms, w.start_ms, start), end)) for w in r.words]
            out.append(LyricLine(index=k, text=lines[k], start_ms=start, end_ms=max(end, start + 1), words=words,
                                 source=source, timing="aligned", confidence=r.confidence))
        else:
            end = max(min(ends[k], duration_ms), start + 1)
            if k + 1 < n and end > nxt:
                end = max(start + 1, nxt)
            confidence = r.confidence if r is not None else 0.0
            moved = estimate[k].moved or abs(start - estimate[k].start_ms) > 250
            out.append(estimate[k].model_copy(update={
                "index": k, "text": lines[k], "start_ms": start, "end_ms": min(end, duration_ms), "words": [],
                "source": source, "timing": "estimated", "confidence": round(float(min(confidence, 1.0)), 3),
                "moved": moved,
            }))
    return out


def align_wav(wav: Path, estimate: Sequence[LyricLine], *, duration_ms: int, sections: Sequence[SectionLike],
              source: Literal["text", "gemini"] = "text", emphasis: Emphasis = DEFAULT_EMPHASIS) -> list[LyricLine]:
    """The I/O edge: read the track file, prepare it, and align the estimated lines' text (:func:`align_lyrics`)."""
    import soundfile as sf

    y, sr = sf.read(str(wav), dtype="float32", always_2d=True)
    pcm = prepare_audio(y.mean(axis=1), sr, emphasis=emphasis)
    return align_lyrics(pcm, [line.text for line in estimate], estimate=estimate, duration_ms=duration_ms,
                        vocal_spans=vocal_spans(duration_ms=duration_ms, sections=list(sections)), source=source)
