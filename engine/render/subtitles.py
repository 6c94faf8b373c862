"""Lyrics as subtitles: the burned-in look and timing (one rule for the render and the ASS), ASS, SRT and LRC.

The render burns the lines into the frames in Python (:mod:`engine.render.burn`); the ASS script
(:func:`to_ass`, karaoke when word times are known) describes the very same look for libass, with
the same numbers (:func:`subtitle_style`) and times (:func:`karaoke`, :func:`event_times`). libass
draws nothing (and ffmpeg still exits 0) when it finds no font, so the project ships its own font in
``engine/render/fonts`` and the ASS styles name that font's family (pass :data:`FONTS_DIR` as the
``fontsdir`` of an ass filter); the burner draws with the same file (:data:`FONT_FILE`).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine.render.timeline import SubtitleLine

log = logging.getLogger(__name__)

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FAMILY = "DejaVu Sans"  # family name of the bundled DejaVuSans(-Bold).ttf
FONT_FILE = FONTS_DIR / "DejaVuSans-Bold.ttf"  # the styles are bold (Bold=-1): the face libass picks


def _cs(ms: int) -> int:
    """Milliseconds to centiseconds, rounding halves up (no banker's rounding)."""
    return max(0, (int(ms) + 5) // 10)


def _ass_time(ms: int) -> str:
    cs = _cs(ms)
    h, rest = divmod(cs, 360_000)
    m, rest = divmod(rest, 6000)
    s, c = divmod(rest, 100)
    return f"{h}:{m:02d}:{s:02d}.{c:02d}"


def _srt_time(ms: int) -> str:
    ms = max(0, int(ms))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{milli:03d}"


def _lrc_time(ms: int) -> str:
    cs = _cs(ms)
    m, rest = divmod(cs, 6000)
    s, c = divmod(rest, 100)
    return f"{m:02d}:{s:02d}.{c:02d}"


def _ass_text(text: str) -> str:
    """Text made safe for an ASS event: no override blocks, no stray escapes, newlines as \\N."""
    clean = text.replace("\\", "/").replace("{", "(").replace("}", ")")
    return "\\N".join(part.strip() for part in clean.splitlines() if part.strip())


def _colour(rgb: int, *, alpha: int = 0) -> str:
    r, g, b = (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255
    return f"&H{alpha:02X}{b:02X}{g:02X}{r:02X}"


@dataclass(frozen=True)
class SafeArea:
    """Fractions of the frame that a platform's own overlay covers (captions, buttons, the progress bar)."""

    top: float
    bottom: float
    left: float
    right: float


# Vertical video (TikTok, Reels, Shorts): the account name, caption and music line cover about the lowest
# fifth, the like/comment/share column the right edge, the tabs the top; keep the lyrics out of all three.
# Landscape (YouTube): the controls and progress bar show over the bottom when paused. Square feeds: a margin.
SAFE_AREAS: dict[str, SafeArea] = {
    "portrait": SafeArea(top=0.14, bottom=0.24, left=0.06, right=0.16),
    "landscape": SafeArea(top=0.07, bottom=0.10, left=0.06, right=0.06),
    "square": SafeArea(top=0.08, bottom=0.09, left=0.06, right=0.06),
}
SUBTITLE_SIZES: dict[str, float] = {"small": 0.045, "medium": 0.06, "large": 0.075}  # of the frame's short side
SUBTITLE_ALIGN: dict[str, int] = {"bottom": 2, "middle": 5, "top": 8}  # ASS numpad alignment, centred


def frame_shape(width: int, height: int) -> str:
    """ "portrait", "landscape" or "square" (what decides the safe area)."""
    if height > width * 1.1:
        return "portrait"
    return "landscape" if width > height * 1.1 else "square"


WHITE, GOLD, BLACK = 0xFFFFFF, 0xFFD54A, 0x000000  # unsung (and plain) text, sung karaoke text, outline and shadow
SHADOW_ALPHA = 0x60  # ASS alpha of the shadow (0 opaque, 255 clear): ~62% opaque
# The matrix the subtitle colours are converted to YCbCr with: the ASS header declares it and ffmpeg's ass
# filter honours it (gold is Y 198, U 63, V 152 in libass's output), so the burner converts with it too.
YCBCR_MATRIX = "TV.709"


@dataclass(frozen=True)
class SubtitleStyle:
    """The look of the burned-in lyrics in one frame format, in output pixels (what ASS and the burner both draw)."""

    width: int
    height: int
    font_size: int  # libass's size: the font's ascent + descent (winAscent + winDescent) in pixels
    outline: float  # border width, black
    shadow: float  # shadow offset right and down, black at SHADOW_ALPHA
    margin_l: int
    margin_r: int
    margin_v: int  # from the bottom (bottom, middle) or the top (top)
    alignment: int  # ASS numpad alignment, centred: 2 bottom, 5 middle, 8 top
    fill: int = WHITE
    sung: int = GOLD
    outline_colour: int = BLACK
    shadow_colour: int = BLACK
    shadow_alpha: int = SHADOW_ALPHA
    matrix: str = YCBCR_MATRIX
    kerning: bool = False  # libass's default (no "Kerning: yes" in the script): the font's pairs are not applied


def subtitle_style(*, width: int, height: int, size: str = "medium", position: str = "bottom") -> SubtitleStyle:
    """The style for a ``width`` x ``height`` video.

    ``size`` (small, medium, large) scales the text with the frame; ``position`` (bottom, middle, top) places it
    inside the frame's platform safe area (:data:`SAFE_AREAS`), so no app's buttons or captions cover it.
    """
    if size not in SUBTITLE_SIZES or position not in SUBTITLE_ALIGN:
        raise ValueError(f"unknown subtitle size {size!r} or position {position!r}")
    safe = SAFE_AREAS[frame_shape(width, height)]
    font_size = max(10, round(min(width, height) * SUBTITLE_SIZES[size]))
    return SubtitleStyle(width=width, height=height, font_size=font_size,
                         outline=max(1.0, round(font_size * 0.08, 1)), shadow=max(0.5, round(font_size * 0.04, 1)),
                         margin_l=round(width * safe.left), margin_r=round(width * safe.right),
                         margin_v=round(height * (safe.top if position == "top" else safe.bottom)),
                         alignment=SUBTITLE_ALIGN[position])


def ass_header(*, width: int, height: int, font_family: str = FONT_FAMILY, size: str = "medium",
               position: str = "bottom") -> str:
    """The [Script Info] and [V4+ Styles] sections for a ``width`` x ``height`` video (:func:`subtitle_style`)."""
    st = subtitle_style(width=width, height=height, size=size, position=position)
    white, gold, black = _colour(st.fill), _colour(st.sung), _colour(st.outline_colour)
    shade = _colour(st.shadow_colour, alpha=st.shadow_alpha)
    fmt = ("Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
           "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
           "Alignment, MarginL, MarginR, MarginV, Encoding")

    def style(name: str, primary: str, secondary: str) -> str:
        return (f"Style: {name},{font_family},{st.font_size},{primary},{secondary},{black},{shade},-1,0,0,0,100,100,"
                f"0,0,1,{st.outline},{st.shadow},{st.alignment},{st.margin_l},{st.margin_r},{st.margin_v},1")

    return "\n".join([
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        f"Kerning: {'yes' if st.kerning else 'no'}",
        f"YCbCr Matrix: {st.matrix}",
        "",
        "[V4+ Styles]",
        fmt,
        style("Lyric", white, white),
        style("Karaoke", gold, white),  # sung words turn gold; unsung ones are white
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]) + "\n"


@dataclass(frozen=True)
class Syllable:
    """A karaoke word as shown: its text (with the space after it, but the last) and its fill's sweep (ms)."""

    text: str
    start_ms: int
    end_ms: int


def display_rows(text: str) -> list[str]:
    """The text's explicit lines as shown: each stripped, empty ones dropped."""
    return [part.strip() for part in text.splitlines() if part.strip()]


def karaoke(line: SubtitleLine) -> list[Syllable]:
    """The line's words as karaoke syllables, on the centisecond grid of ASS (no drift); [] without word times.

    A word never starts before the previous one ends (nor before the line); a pause before a word lights nothing.
    """
    words = [w for w in line.words if w[0].strip()]
    out: list[Syllable] = []
    cursor_cs = _cs(line.start_ms)
    for i, (text, w_start, w_end) in enumerate(words):
        start_cs = max(cursor_cs, _cs(w_start))
        end_cs = max(start_cs, _cs(w_end))
        out.append(Syllable(" ".join(display_rows(text)) + ("" if i == len(words) - 1 else " "),
                            start_cs * 10, end_cs * 10))
        cursor_cs = end_cs
    return out


def event_times(line: SubtitleLine) -> tuple[int, int]:
    """When the line shows, in ms on the centisecond grid: [start, end); a karaoke line lasts to its last word."""
    syllables = karaoke(line)
    end_cs = max(_cs(line.end_ms), syllables[-1].end_ms // 10 if syllables else 0)
    return _cs(line.start_ms) * 10, end_cs * 10


def frame_time_ms(frame: int, fps: int) -> int:
    """The time (whole ms) at which the subtitles of absolute ``frame`` are drawn: libass's clock in ffmpeg's ass
    filter (the frame's time in seconds as a double, times 1000, truncated)."""
    return int(frame * (1.0 / fps) * 1000)


def ass_event(line: SubtitleLine) -> str:
    """One Dialogue line; with word times it carries karaoke ``\\k`` tags (centiseconds, :func:`karaoke`)."""
    start_ms, end_ms = event_times(line)
    syllables = karaoke(line)
    if not syllables:
        return f"Dialogue: 0,{_ass_time(start_ms)},{_ass_time(end_ms)},Lyric,,0,0,0,,{_ass_text(line.text)}"
    parts: list[str] = []
    cursor_cs = start_ms // 10
    for syl in syllables:
        start_cs, end_cs = syl.start_ms // 10, syl.end_ms // 10
        if start_cs > cursor_cs:  # a pause before this word: nothing lights up
            parts.append(f"{{\\k{start_cs - cursor_cs}}}")
        word, sep = (syl.text[:-1], " ") if syl.text.endswith(" ") else (syl.text, "")
        parts.append(f"{{\\kf{end_cs - start_cs}}}{_ass_text(word)}{sep}")
        cursor_cs = end_cs
    return f"Dialogue: 0,{_ass_time(start_ms)},{_ass_time(end_ms)},Karaoke,,0,0,0,,{''.join(parts)}"


def _usable(lines: Iterable[SubtitleLine]) -> list[SubtitleLine]:
    return sorted((ln for ln in lines if ln.text.strip() and ln.end_ms > ln.start_ms), key=lambda ln: ln.start_ms)


def to_ass(lines: Iterable[SubtitleLine], *, width: int, height: int, font_family: str = FONT_FAMILY,
           size: str = "medium", position: str = "bottom") -> str:
    """A complete ASS script: readable white text with a dark outline and shadow, karaoke where possible."""
    events = [ass_event(ln) for ln in _usable(lines)]
    header = ass_header(width=width, height=height, font_family=font_family, size=size, position=position)
    return header + "".join(e + "\n" for e in events)


def to_srt(lines: Iterable[SubtitleLine]) -> str:
    """SubRip text of the lines (numbered from 1)."""
    blocks = []
    for n, ln in enumerate(_usable(lines), start=1):
        text = "\n".join(p.strip() for p in ln.text.splitlines() if p.strip())
        blocks.append(f"{n}\n{_srt_time(ln.start_ms)} --> {_srt_time(ln.end_ms)}\n{text}\n")
    return "\n".join(blocks)


def to_lrc(lines: Iterable[SubtitleLine]) -> str:
    """LRC text: ``[mm:ss.xx]line`` (enhanced ``<mm:ss.xx>`` word tags when word times are known).

    A line that ends before the next one starts is followed by an empty timed line,
    so players clear the text during instrumental gaps.
    """
    usable = _usable(lines)
    out: list[str] = []
    for i, ln in enumerate(usable):
        words = [w for w in ln.words if w[0].strip()]
        if words:
            body = " ".join(f"<{_lrc_time(ws)}>{wt.strip()}" for wt, ws, _ in words)
        else:
            body = " ".join(ln.text.split())
        out.append(f"[{_lrc_time(ln.start_ms)}]{body}")
        next_start = usable[i + 1].start_ms if i + 1 < len(usable) else None
        if next_start is None or next_start - ln.end_ms >= 100:
            out.append(f"[{_lrc_time(ln.end_ms)}]")
    return "\n".join(out) + ("\n" if out else "")


def lines_shown(lines: Iterable[SubtitleLine], *, start_frame: int, end_frame: int, fps: int) -> list[SubtitleLine]:
    """The usable lines that some frame in [``start_frame``, ``end_frame``) shows (what a chunk's pixels depend on)."""
    out = []
    for ln in _usable(lines):
        start_ms, end_ms = event_times(ln)
        first = max(start_frame, start_ms * fps // 1000 - 1)  # the first frame at or after the line's start
        while frame_time_ms(first, fps) < start_ms:
            first += 1
        if first < end_frame and frame_time_ms(first, fps) < end_ms:
            out.append(ln)
    return out
