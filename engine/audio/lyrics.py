"""Lyrics from the user: LRC / enhanced LRC with timestamps, or plain text placed on the music.

LRC (``[mm:ss.xx] line``): times are used as given. A line may carry several
time tags (a repeated chorus); metadata tags (``[ar:]``, ``[ti:]``, ...) are
ignored except ``[offset:+/-ms]``, which is honoured as in the LRC convention
(a positive offset makes lyrics appear *earlier*). Enhanced LRC word tags
(``<mm:ss.xx>word``) become :class:`engine.models.LyricWord`\\ s. A line ends
where the next one starts, at most :func:`line_cap_ms` later (0.8 s a word
+ 1.5 s, within 3-10 s), and never after the end of the track. Times are
validated: a tag before 0 is clamped to 0, a line starting at or after the
end of the track is dropped, and lines that had to be moved carry
``moved=True``. An empty time-tagged line only ends the previous line
(a common way to mark an instrumental break).

Plain text (no time tags) is placed by :func:`place_plain_lines` with this
rule: the *vocal* parts of the track are its sections other than intro,
outro and breakdown (if the analysis found none, the whole track without its
first and last 5%). Lines are spread over the vocal parts in order, each
taking time in proportion to its length (characters + a constant), never
straddling a gap between vocal parts; each line then starts on the nearest
beat at or after its proportional position (a later free beat when that one
is taken), so starts are strictly increasing; a line ends where the next
starts, or at the end of its vocal part, capped by :func:`line_cap_ms`. If there
are more lines than beats, lines fall back to their proportional times.
"""
from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass
from typing import Literal, Protocol

from engine.errors import InputError
from engine.models import EnergyCurve, LyricLine, LyricWord

log = logging.getLogger(__name__)

MAX_LINE_MS = 10_000
MIN_LINE_MS = 300
MAX_LINES = 1000
MAX_TEXT_CHARS = 200_000
INSTRUMENTAL_LABELS = frozenset({"intro", "outro", "breakdown"})

_TIME_TAG = re.compile(r"\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_WORD_TAG = re.compile(r"<(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?>")
_META_TAG = re.compile(r"^\s*\[([A-Za-z#]+)\s*:(.*)\]\s*$")
_HEADER_LINE = re.compile(r"^\s*[\[(][^\])]*[\])]\s*$")  # "[Chorus]" / "(x2)" in plain text


@dataclass(frozen=True)
class ParsedPlain:
    """Plain lyric lines without times, to be placed with :func:`place_plain_lines`."""

    lines: list[str]


class SectionLike(Protocol):
    """What placement needs of a section (``engine.models.Section`` or ``SectionSpan``)."""

    label: str
    start_ms: int
    end_ms: int


def _tag_ms(minutes: str, seconds: str, frac: str | None) -> int:
    ms = (int(minutes) * 60 + int(seconds)) * 1000
    if frac:
        ms += int(frac) * {1: 100, 2: 10, 3: 1}[len(frac)]
    return ms


def line_cap_ms(text: str) -> int:
    """Longest a line may last: ~0.8 s per word + 1.5 s, within 3..10 s."""
    return int(min(MAX_LINE_MS, max(3000, 800 * len(text.split()) + 1500)))


def _check_text(text: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"the lyrics are too long (more than {MAX_TEXT_CHARS} characters)")
    if "\x00" in text:
        raise InputError("the lyrics file looks binary, not text")
    sample = text[:20_000]
    bad = sum(1 for c in sample if (ord(c) < 32 and c not in "\t\r\n\f") or c == "\ufffd")
    if sample and bad / len(sample) > 0.02:
        raise InputError("the lyrics file does not look like text (too many control or undecodable characters)")


def is_lrc(text: str) -> bool:
    """True if any line starts with an LRC time tag."""
    return any(_TIME_TAG.match(line.strip()) for line in text.splitlines())


def _parse_words(body: str, *, offset_ms: int) -> tuple[str, list[tuple[str, int]]]:
    """Split an enhanced-LRC body into plain text and (word, start_ms) pairs."""
    if not _WORD_TAG.search(body):
        return " ".join(body.split()), []
    words: list[tuple[str, int]] = []
    pieces = _WORD_TAG.split(body)
    # pieces: [before, m, s, f, text, m, s, f, text, ...]
    words.extend((token, -1) for token in pieces[0].split())  # untimed words before the first tag
    for k in range(1, len(pieces), 4):
        start = _tag_ms(pieces[k], pieces[k + 1], pieces[k + 2]) - offset_ms
        chunk = pieces[k + 3]
        for j, token in enumerate(chunk.split()):
            words.append((token, start if j == 0 else -1))
    text = " ".join(w for w, _ in words)
    return text, words


def parse_lrc(text: str, *, duration_ms: int) -> list[LyricLine]:
    """Parse (enhanced) LRC into validated, sorted lines (see the module docstring for the rules)."""
    text = text.removeprefix("\ufeff")
    offset_ms = 0
    raw: list[tuple[int, str, list[tuple[str, int]]]] = []  # (start, text, words)
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        meta = _META_TAG.match(stripped)
        if meta and not _TIME_TAG.match(stripped):
            if meta.group(1).lower() == "offset":
                try:
                    offset_ms = int(meta.group(2).strip())
                except ValueError:
                    log.warning("ignoring bad LRC offset %r", meta.group(2))
            continue
        starts: list[int] = []
        rest = stripped
        while m := _TIME_TAG.match(rest):
            starts.append(_tag_ms(*m.groups()))
            rest = rest[m.end():].lstrip()
        if not starts:
            continue
        raw.extend((s, rest, []) for s in starts)
    # offset applies to every tag; parse words now that the offset is known
    parsed = []
    for start, body, _ in raw:
        line_text, words = _parse_words(body, offset_ms=offset_ms)
        parsed.append((start - offset_ms, line_text, words))
    parsed.sort(key=lambda item: item[0])  # stable: same-time lines keep file order
    return _finish_lrc(parsed, duration_ms=duration_ms)


def _merge_same_time(parsed: list[tuple[int, str, list[tuple[str, int]]]]) -> list[tuple[int, str, list[tuple[str, int]]]]:
    """Lines sharing one time tag (e.g. two voices of a duet) become one line 'a / b', not a 1 ms flash each."""
    merged: list[tuple[int, str, list[tuple[str, int]]]] = []
    for start, body, words in parsed:
        if merged and body and merged[-1][1] and merged[-1][0] == start:
            prev_start, prev_body, prev_words = merged[-1]
            # karaoke only when both are word-timed (else its words would leave part of the line out)
            joined_words = prev_words + [("/", -1)] + words if prev_words and words else []
            merged[-1] = (prev_start, f"{prev_body} / {body}", joined_words)
        else:
            merged.append((start, body, words))
    return merged


def _finish_lrc(parsed: list[tuple[int, str, list[tuple[str, int]]]], *, duration_ms: int) -> list[LyricLine]:
    out: list[LyricLine] = []
    parsed = _merge_same_time(parsed)
    for k, (start, body, words) in enumerate(parsed):
        if not body:
            continue  # an empty tag only ends the previous line
        moved = False
        if start < 0:
            start, moved = 0, True
        if start >= duration_ms:
            log.warning("dropping lyric line %r: starts after the end of the track", body)
            continue
        if out and start <= out[-1].start_ms:
            start, moved = out[-1].start_ms + 1, True
            if start >= duration_ms:
                continue
        nxt = next((p[0] for p in parsed[k + 1:] if p[0] > start), None)
        end = min(start + line_cap_ms(body), duration_ms, nxt if nxt is not None else duration_ms)
        if end <= start:
            end = min(duration_ms, start + 1)
        line_words, words_moved = _words(words, start_ms=start, end_ms=end)
        out.append(LyricLine(index=len(out), text=body, start_ms=start, end_ms=end, words=line_words, source="lrc",
                             moved=moved or words_moved))
    # a nudged line may now overlap the previous one's end
    for a, b in zip(out, out[1:]):
        if a.end_ms > b.start_ms:
            a.end_ms = b.start_ms
            a.words = _words([(w.text, w.start_ms) for w in a.words], start_ms=a.start_ms, end_ms=a.end_ms)[0]
    return out


def _words(words: list[tuple[str, int]], *, start_ms: int, end_ms: int) -> tuple[list[LyricWord], bool]:
    """Timed words clamped into the line, monotonic; untimed words share the previous word's slot."""
    if not words:
        return [], False
    moved = False
    starts: list[int] = []
    last = start_ms
    for _, t in words:
        if t < 0:  # untimed token: placed later, between its neighbours
            starts.append(-1)
            continue
        c = max(min(max(t, start_ms), max(start_ms, end_ms - 1)), last)
        moved |= c != t
        starts.append(c)
        last = c
    # untimed tokens before the first timed one share the line's start evenly
    lead = next((i for i, s in enumerate(starts) if s >= 0), len(starts))
    first = starts[lead] if lead < len(starts) else end_ms
    filled: list[int] = [start_ms + (first - start_ms) * i // lead for i in range(lead)]
    # later untimed tokens split the gap after the last timed one
    for i, s in enumerate(starts[lead:], start=lead):
        if s >= 0:
            filled.append(s)
            continue
        prev = filled[-1] if filled else start_ms
        nxt = next((x for x in starts[i + 1:] if x >= 0), end_ms)
        filled.append(prev + (nxt - prev) // 2)
    out = []
    for i, (text, _) in enumerate(words):
        w_end = filled[i + 1] if i + 1 < len(filled) else end_ms
        out.append(LyricWord(text=text, start_ms=filled[i], end_ms=max(filled[i], w_end)))
    return out, moved


def parse_plain(text: str) -> ParsedPlain:
    """Non-empty lines of plain lyrics, without bracketed headers such as ``[Chorus]``."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line and not _HEADER_LINE.match(line)]
    return ParsedPlain(lines=lines[:MAX_LINES])


def parse_lyrics(text: str, *, duration_ms: int) -> list[LyricLine] | ParsedPlain:
    """LRC / enhanced LRC -> timed lines; plain text -> :class:`ParsedPlain`. InputError if unusable."""
    text = text.removeprefix("\ufeff")  # a byte-order mark (Windows editors) would hide the first time tag
    _check_text(text)
    if is_lrc(text):
        untimed = [
            (n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not _TIME_TAG.match(line.strip()) and not _META_TAG.match(line)
            and not _HEADER_LINE.match(line.strip())
        ]
        bad = [m.group(0) for line in text.splitlines() for m in _TIME_TAG.finditer(line) if int(m.group(2)) >= 60]
        if bad:
            raise InputError(f"bad LRC time tag {bad[0]}: seconds go up to 59 ([mm:ss.xx])")
        if untimed:  # they would be dropped without a word
            shown = "; ".join(f"line {n}: {body[:40]!r}" for n, body in untimed[:3])
            raise InputError(
                f"the lyrics mix timed LRC lines and {len(untimed)} line(s) without a [mm:ss.xx] tag ({shown}); "
                "time every line, or remove all tags to upload plain text"
            )
        lines = parse_lrc(text, duration_ms=duration_ms)
        if not lines:
            raise InputError("the LRC lyrics have no lines inside the track")
        return lines
    plain = parse_plain(text)
    if not plain.lines:
        raise InputError("the lyrics contain no lines")
    return plain


def check_lines(lines: list[LyricLine], *, duration_ms: int) -> None:
    """Hand-set lines (the lyrics editor): InputError naming the first bad line (1-based) and why.

    Every line has text; 0 <= start < end <= the track's length; a line starts at or after the previous
    one's end (times monotonic, no overlap). Words, when given, have text, lie inside their line and start
    in order, each ending at or after its start.
    """
    if len(lines) > MAX_LINES:
        raise InputError(f"too many lyric lines ({len(lines)}; at most {MAX_LINES})")
    previous: LyricLine | None = None
    for n, line in enumerate(lines, start=1):
        where = f"line {n} ({line.text[:40]!r})"
        if not line.text.strip():
            raise InputError(f"line {n} has no text (remove the line instead)")
        if len(line.text) > 500:
            raise InputError(f"{where} is too long (at most 500 characters)")
        if line.start_ms < 0:
            raise InputError(f"{where} starts before the track ({line.start_ms} ms)")
        if line.end_ms <= line.start_ms:
            raise InputError(f"{where} must end after it starts ({line.start_ms}-{line.end_ms} ms)")
        if line.end_ms > duration_ms:
            raise InputError(f"{where} ends after the track ({line.end_ms} ms > {duration_ms} ms)")
        if previous is not None and line.start_ms < previous.end_ms:
            raise InputError(f"{where} starts at {line.start_ms} ms, before line {n - 1} ends ({previous.end_ms} ms): "
                             "times must be in order without overlaps")
        last_word = line.start_ms
        for k, word in enumerate(line.words, start=1):
            if not word.text.strip():
                raise InputError(f"{where}: word {k} has no text")
            if not line.start_ms <= word.start_ms <= word.end_ms <= line.end_ms:
                raise InputError(f"{where}: word {k} ({word.text!r}, {word.start_ms}-{word.end_ms} ms) is not inside its line")
            if word.start_ms < last_word:
                raise InputError(f"{where}: word {k} ({word.text!r}) starts before the word before it")
            last_word = word.start_ms
        previous = line


def _tag(ms: int, *, word: bool = False) -> str:
    minutes, rest = divmod(max(0, ms), 60_000)
    text = f"{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"
    return f"<{text}>" if word else f"[{text}]"


def to_lrc(lines: list[LyricLine], *, enhanced: bool = True) -> str:
    """The one LRC writer: ``[mm:ss.mmm] line`` (with ``<mm:ss.mmm>`` word tags when ``enhanced`` and a line has
    words), read back by :func:`parse_lrc` to the same lines.

    Milliseconds (three digits) keep the times exact. A line's end is written as an empty time tag when the
    next line does not start there (LRC's way to end a line); :func:`parse_lrc` still caps a line at
    :func:`line_cap_ms`, so a longer hand-set line comes back shorter. Word ends are not written (a word
    ends where the next starts, the last one at the line's end).
    """
    out: list[str] = []
    for k, line in enumerate(lines):
        text = " ".join(line.text.split())
        if enhanced and line.words:
            text = " ".join(f"{_tag(w.start_ms, word=True)}{' '.join(w.text.split())}" for w in line.words)
        out.append(f"{_tag(line.start_ms)}{text}")
        nxt = lines[k + 1].start_ms if k + 1 < len(lines) else None
        if nxt != line.end_ms:
            out.append(_tag(line.end_ms))
    return "\n".join(out) + ("\n" if out else "")


def validate_lyrics_text(text: str, *, duration_ms: int) -> Literal["lrc", "text"]:
    """Check uploaded lyrics are usable; returns their kind. Raises InputError otherwise."""
    parsed = parse_lyrics(text, duration_ms=duration_ms)
    return "text" if isinstance(parsed, ParsedPlain) else "lrc"


# ---------------------------------------------------------------------------- plain placement


def vocal_spans(*, duration_ms: int, sections: list[SectionLike]) -> list[tuple[int, int]]:
    """(start_ms, end_ms) of the parts where lines may go: sections other than intro/outro/breakdown."""
    spans = [(max(0, s.start_ms), min(duration_ms, s.end_ms)) for s in sections if s.label not in INSTRUMENTAL_LABELS]
    spans = [(a, b) for a, b in spans if b - a >= MIN_LINE_MS]
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    if not merged:
        margin = duration_ms // 20
        merged = [(margin, max(margin + 1, duration_ms - margin))]
    return merged


def place_plain_lines(
    lines: list[str], *, duration_ms: int, energy: EnergyCurve | None, beats_ms: list[int], sections: list[SectionLike]
) -> list[LyricLine]:
    """Place untimed lines in order over the vocal parts, each starting on a beat (rule: module docstring).

    ``energy`` is accepted for callers that have it; the placement uses the
    sections' labels, which already encode the low-energy intro/outro/breakdowns.
    """
    del energy  # the section labels carry the energy decisions
    lines = [" ".join(t.split()) for t in lines if t and t.strip()]
    if not lines:
        return []
    if duration_ms <= 0:
        raise InputError("cannot place lyrics on an empty track")
    spans = vocal_spans(duration_ms=duration_ms, sections=sections)
    total = sum(b - a for a, b in spans)
    weights = [len(t) + 12 for t in lines]
    wsum = float(sum(weights))
    # proportional position of each line on the concatenated vocal timeline
    cum, positions = 0.0, []
    for w in weights:
        positions.append(total * cum / wsum)
        cum += w
    span_starts = [0]
    for a, b in spans:
        span_starts.append(span_starts[-1] + (b - a))

    def to_time(pos: float) -> tuple[int, int]:
        k = min(len(spans) - 1, bisect.bisect_right(span_starts, pos) - 1)
        a, _ = spans[k]
        return int(a + (pos - span_starts[k])), k

    beats = sorted(b for b in beats_ms if 0 <= b < duration_ms)
    starts: list[int] = []
    span_of: list[int] = []
    usable = [b for b in beats if any(a <= b < e for a, e in spans)]
    snap = len(usable) >= len(lines)
    for pos in positions:
        t, k = to_time(pos)
        if snap:
            lo = starts[-1] + 1 if starts else 0
            i = bisect.bisect_left(usable, max(t, lo))
            remaining_lines = len(lines) - len(starts)
            i = min(i, len(usable) - remaining_lines)  # leave a beat for every later line
            if i < 0 or usable[i] < lo:
                i = bisect.bisect_left(usable, lo)
            t = usable[i]
            k = next(j for j, (a, e) in enumerate(spans) if a <= t < e)
        elif starts and t <= starts[-1]:
            t = starts[-1] + 1
        starts.append(min(t, duration_ms - 1))
        span_of.append(k)
    out: list[LyricLine] = []
    for i, (text, start) in enumerate(zip(lines, starts)):
        span_end = spans[span_of[i]][1]
        nxt = starts[i + 1] if i + 1 < len(starts) else duration_ms
        end = min(nxt, span_end if span_end > start else nxt, start + line_cap_ms(text), duration_ms)
        end = max(end, min(start + 1, duration_ms))
        out.append(LyricLine(index=i, text=text, start_ms=start, end_ms=end, source="text"))
    return out
