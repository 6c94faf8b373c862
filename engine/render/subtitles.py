"""Lyrics as subtitles: ASS for burning in with libass (karaoke when word times are known), SRT and LRC.

libass draws nothing (and ffmpeg still exits 0) when it finds no font, so the
project ships its own font in ``engine/render/fonts`` and the ASS styles name
that font's family; pass :data:`FONTS_DIR` as the ``fontsdir`` of the ass filter.
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


def ass_header(*, width: int, height: int, font_family: str = FONT_FAMILY, size: str = "medium",
               position: str = "bottom") -> str:
    """The [Script Info] and [V4+ Styles] sections for a ``width`` x ``height`` video.

    ``size`` (small, medium, large) scales the text with the frame; ``position`` (bottom, middle, top) places it
    inside the frame's platform safe area (:data:`SAFE_AREAS`), so no app's buttons or captions cover it.
    """
    if size not in SUBTITLE_SIZES or position not in SUBTITLE_ALIGN:
        raise ValueError(f"unknown subtitle size {size!r} or position {position!r}")
    safe = SAFE_AREAS[frame_shape(width, height)]
    font_size = max(10, round(min(width, height) * SUBTITLE_SIZES[size]))
    outline = max(1.0, round(font_size * 0.08, 1))
    shadow = max(0.5, round(font_size * 0.04, 1))
    margin_v = round(height * (safe.top if position == "top" else safe.bottom))
    margin_l, margin_r = round(width * safe.left), round(width * safe.right)
    alignment = SUBTITLE_ALIGN[position]
    white, gold, black = _colour(0xFFFFFF), _colour(0xFFD54A), _colour(0x000000)
    shade = _colour(0x000000, alpha=0x60)
    fmt = ("Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
           "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
           "Alignment, MarginL, MarginR, MarginV, Encoding")

    def style(name: str, primary: str, secondary: str) -> str:
        return (f"Style: {name},{font_family},{font_size},{primary},{secondary},{black},{shade},-1,0,0,0,100,100,0,0,1,"
                f"{outline},{shadow},{alignment},{margin_l},{margin_r},{margin_v},1")

    return "\n".join([
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        fmt,
        style("Lyric", white, white),
        style("Karaoke", gold, white),  # sung words turn gold; unsung ones are white
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]) + "\n"


def ass_event(line: SubtitleLine) -> str:
    """One Dialogue line; with word times it carries karaoke ``\\k`` tags (centiseconds, no drift)."""
    words = [w for w in line.words if w[0].strip()]
    if not words:
        return f"Dialogue: 0,{_ass_time(line.start_ms)},{_ass_time(line.end_ms)},Lyric,,0,0,0,,{_ass_text(line.text)}"
    parts: list[str] = []
    cursor_cs = _cs(line.start_ms)
    for i, (text, w_start, w_end) in enumerate(words):
        start_cs = max(cursor_cs, _cs(w_start))
        if start_cs > cursor_cs:  # a pause before this word: nothing lights up
            parts.append(f"{{\\k{start_cs - cursor_cs}}}")
        end_cs = max(start_cs, _cs(w_end))
        sep = "" if i == len(words) - 1 else " "
        parts.append(f"{{\\kf{end_cs - start_cs}}}{_ass_text(text)}{sep}")
        cursor_cs = end_cs
    end_ms = max(line.end_ms, cursor_cs * 10)
    return f"Dialogue: 0,{_ass_time(line.start_ms)},{_ass_time(end_ms)},Karaoke,,0,0,0,,{''.join(parts)}"


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


def events_between(lines: Iterable[SubtitleLine], *, start_ms: float, end_ms: float) -> list[str]:
    """The ASS events that can show between two times (what a chunk's pixels depend on)."""
    return [ass_event(ln) for ln in _usable(lines) if ln.start_ms < end_ms + 20 and max(ln.end_ms, *(w[2] for w in ln.words), 0) > start_ms - 20]
