"""Lyrics: LRC / enhanced LRC parsing and validation; plain-text placement properties."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.audio.lyrics import (
    ParsedPlain,
    line_cap_ms,
    parse_lyrics,
    place_plain_lines,
    validate_lyrics_text,
    vocal_spans,
)
from engine.audio.sample import DEMO_SECTIONS, make_demo_song
from engine.errors import InputError
from engine.models import LyricLine, Section


def _lines(text: str, duration_ms: int = 60_000) -> list[LyricLine]:
    parsed = parse_lyrics(text, duration_ms=duration_ms)
    assert isinstance(parsed, list)
    return parsed


def test_lrc_basic_times_and_ends() -> None:
    lines = _lines("[ar:Someone]\n[ti:Song]\n[00:01.50]first\n[00:04.25] second \n[00:09.000]third\n")
    assert [(l.text, l.start_ms) for l in lines] == [("first", 1500), ("second", 4250), ("third", 9000)]
    assert lines[0].end_ms == 4250  # the next line's start
    assert lines[1].end_ms == 4250 + line_cap_ms("second") < 9000  # capped: a one-word line is not held 5 s
    assert 9000 < lines[2].end_ms <= 60_000
    assert [l.index for l in lines] == [0, 1, 2] and all(l.source == "lrc" and not l.moved for l in lines)


def test_lrc_several_time_tags_on_one_line() -> None:
    lines = _lines("[00:20.00]verse\n[00:10.00][00:30.00]chorus\n")
    assert [(l.text, l.start_ms) for l in lines] == [("chorus", 10000), ("verse", 20000), ("chorus", 30000)]


@pytest.mark.parametrize(("offset", "shift"), [("+500", -500), ("-250", 250)])
def test_lrc_offset_tag(offset: str, shift: int) -> None:
    lines = _lines(f"[offset:{offset}]\n[00:10.00]<00:10.00>a <00:11.00>b\n[00:15.00]c\n")
    assert lines[0].start_ms == 10000 + shift and lines[1].start_ms == 15000 + shift
    assert [w.start_ms for w in lines[0].words] == [10000 + shift, 11000 + shift]


def test_enhanced_lrc_words() -> None:
    lines = _lines("[00:05.00]<00:05.00>We <00:05.40>are <00:05.90>running\n[00:08.00]next\n")
    words = lines[0].words
    assert [w.text for w in words] == ["We", "are", "running"]
    assert [(w.start_ms, w.end_ms) for w in words] == [(5000, 5400), (5400, 5900), (5900, 8000)]
    assert lines[0].text == "We are running"


def test_out_of_range_times_are_dropped_or_clamped() -> None:
    lines = _lines("[offset:+2000]\n[00:01.00]too early\n[00:20.00]fine\n[02:00.00]after the end\n", 30_000)
    assert [l.text for l in lines] == ["too early", "fine"]
    assert lines[0].start_ms == 0 and lines[0].moved
    assert all(l.end_ms <= 30_000 for l in lines)


def test_words_outside_their_line_are_clamped() -> None:
    lines = _lines("[00:10.00]<00:09.00>early <00:11.00>mid <00:30.00>late\n[00:12.00]x\n")
    words = lines[0].words
    assert lines[0].moved
    assert all(lines[0].start_ms <= w.start_ms <= w.end_ms <= lines[0].end_ms for w in words)
    assert [w.start_ms for w in words] == sorted(w.start_ms for w in words)


def test_empty_tag_ends_a_line() -> None:
    lines = _lines("[00:10.00]sung\n[00:12.00]\n[00:20.00]again\n")
    assert [l.text for l in lines] == ["sung", "again"] and lines[0].end_ms == 12000


def test_plain_text_is_returned_for_placement() -> None:
    parsed = parse_lyrics("[Verse 1]\nfirst line\n\n  second   line \n(x2)\n", duration_ms=60_000)
    assert parsed == ParsedPlain(lines=["first line", "second line"])


@pytest.mark.parametrize(
    "text", ["", "   \n\n", "\x00\x01\x02binary\x00junk", "".join(chr(i % 32) for i in range(1000)), "[Chorus]\n"]
)
def test_unusable_lyrics_raise(text: str) -> None:
    with pytest.raises(InputError):
        parse_lyrics(text, duration_ms=60_000)


def test_lrc_with_no_line_inside_the_track_raises() -> None:
    with pytest.raises(InputError):
        parse_lyrics("[05:00.00]way too late\n", duration_ms=60_000)


def test_validate_lyrics_text_kinds() -> None:
    assert validate_lyrics_text("[00:01.00]x\n", duration_ms=10_000) == "lrc"
    assert validate_lyrics_text("just words\n", duration_ms=10_000) == "text"


def test_demo_lrc_parses_with_word_timing(tmp_path) -> None:
    _, lrc = make_demo_song(tmp_path)
    lines = _lines(lrc.read_text(encoding="utf-8"), 57_000)
    assert 10 <= len(lines) <= 14
    assert any(l.words for l in lines) and any(not l.words for l in lines)
    assert not any(l.moved for l in lines)
    assert all(a.end_ms <= b.start_ms for a, b in zip(lines, lines[1:]))


# ---------------------------------------------------------------------------- plain placement


def _sections(duration_ms: int, layout: list[tuple[str, float]]) -> list[Section]:
    total = sum(w for _, w in layout)
    out, t = [], 0
    for i, (label, w) in enumerate(layout):
        end = duration_ms if i == len(layout) - 1 else t + int(duration_ms * w / total)
        out.append(Section(index=i, label=label, start_ms=t, end_ms=end, energy=0.5, mood="x"))
        t = end
    return out


def test_placement_skips_intro_outro_and_breakdown() -> None:
    duration = 100_000
    sections = _sections(duration, [("intro", 1), ("verse", 2), ("breakdown", 1), ("chorus", 2), ("outro", 1)])
    beats = list(range(500, duration, 500))
    lines = place_plain_lines([f"line {i}" for i in range(8)], duration_ms=duration, energy=None, beats_ms=beats,
                              sections=sections)
    vocal = [(s.start_ms, s.end_ms) for s in sections if s.label in ("verse", "chorus")]
    for line in lines:
        assert any(a <= line.start_ms and line.end_ms <= b for a, b in vocal)
    assert {l.start_ms < sections[3].start_ms for l in lines} == {True, False}  # both vocal parts used


layouts = st.lists(
    st.tuples(st.sampled_from(["intro", "verse", "chorus", "bridge", "breakdown", "outro"]),
              st.floats(min_value=0.5, max_value=4.0)),
    min_size=1, max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(
    n_lines=st.integers(min_value=1, max_value=60),
    duration_ms=st.integers(min_value=5_000, max_value=600_000),
    bpm=st.floats(min_value=60, max_value=200),
    first_beat_ms=st.integers(min_value=0, max_value=2000),
    layout=layouts,
)
def test_placement_properties(n_lines: int, duration_ms: int, bpm: float, first_beat_ms: int,
                              layout: list[tuple[str, float]]) -> None:
    sections = _sections(duration_ms, layout)
    period = 60000.0 / bpm
    beats = [int(first_beat_ms + k * period) for k in range(int((duration_ms - first_beat_ms) / period))]
    texts = [f"line number {i} " + "la " * (i % 5) for i in range(n_lines)]
    placed = place_plain_lines(texts, duration_ms=duration_ms, energy=None, beats_ms=beats, sections=sections)
    assert [l.text for l in placed] == [" ".join(t.split()) for t in texts]  # all placed, order kept
    starts = [l.start_ms for l in placed]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)  # strictly increasing
    assert all(0 <= l.start_ms < l.end_ms <= duration_ms for l in placed)  # within the track
    assert all(a.end_ms <= b.start_ms for a, b in zip(placed, placed[1:]))  # no overlap
    assert all(l.source == "text" and l.index == i for i, l in enumerate(placed))
    spans = vocal_spans(duration_ms=duration_ms, sections=sections)
    on_vocal_beats = [b for b in beats if any(a <= b < e for a, e in spans)]
    if len(on_vocal_beats) >= n_lines:
        assert set(starts) <= set(on_vocal_beats)  # every line starts on a beat of a vocal part


def test_demo_layout_has_vocal_sections() -> None:
    assert {label for label, _ in DEMO_SECTIONS} >= {"intro", "verse", "chorus", "outro"}


def test_enhanced_lrc_keeps_untimed_words_before_the_first_word_tag() -> None:
    """'Second line <00:05.00>with <00:05.50>words': 'Second line' is sung from the line's start, not lost."""
    from engine.audio.lyrics import parse_lrc

    (line,) = parse_lrc("[00:04.50]Second line <00:05.00>with <00:05.50>words\n", duration_ms=20_000)
    assert line.text == "Second line with words"
    assert [(w.text, w.start_ms) for w in line.words] == [("Second", 4500), ("line", 4750), ("with", 5000), ("words", 5500)]
    assert all(a.end_ms == b.start_ms for a, b in zip(line.words, line.words[1:]))


def test_a_byte_order_mark_does_not_hide_the_first_line() -> None:
    """Files saved by Windows editors start with U+FEFF; the first time tag must still be read."""
    from engine.audio.lyrics import parse_lyrics

    lines = parse_lyrics("\ufeff[00:01.00]BOM line\n[00:03.00]two\n", duration_ms=10_000)
    assert [line.text for line in lines] == ["BOM line", "two"]  # type: ignore[union-attr]


def test_lrc_with_untimed_lines_is_refused_not_silently_cut() -> None:
    """A file mixing timed and untimed lines would lose the untimed ones: say which instead."""
    from engine.audio.lyrics import parse_lyrics

    with pytest.raises(InputError, match=r"1 line\(s\) without.*line 2: 'no tag here'"):
        parse_lyrics("[00:05.00]first\nno tag here\n[ar:Someone]\n[Chorus]\n\n[00:07.00]third\n", duration_ms=20_000)


def test_lines_with_the_same_time_tag_become_one_line() -> None:
    """Two voices tagged at the same time: one line 'a / b' for the whole span, not a 1 ms flash."""
    from engine.audio.lyrics import parse_lrc

    lines = parse_lrc("[00:02.00]Lead: run\n[00:02.00]Choir: away\n[00:05.00]next\n", duration_ms=20_000)
    assert [(x.text, x.start_ms, x.end_ms) for x in lines] == [("Lead: run / Choir: away", 2000, 5000), ("next", 5000, 8000)]
    timed = parse_lrc("[00:02.00]<00:02.00>run <00:02.50>fast\n[00:02.00]<00:03.00>away\n", duration_ms=20_000)
    assert [w.text for w in timed[0].words] == ["run", "fast", "/", "away"]


def test_a_time_tag_with_60_or_more_seconds_is_refused() -> None:
    """[00:99.00] is a typo, not 1:39: say so instead of guessing."""
    from engine.audio.lyrics import parse_lyrics

    with pytest.raises(InputError, match=r"\[00:99\.00\]"):
        parse_lyrics("[00:01.00]one\n[00:99.00]two\n", duration_ms=200_000)
