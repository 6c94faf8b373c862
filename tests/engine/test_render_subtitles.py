"""Subtitle writers: ASS (karaoke, bundled font), SRT, LRC."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from PIL import ImageFont

from engine.render.subtitles import FONT_FAMILY, FONT_FILE, FONTS_DIR, frame_time_ms, lines_shown, to_ass, to_lrc, to_srt
from engine.render.timeline import SubtitleLine

LINES = [
    SubtitleLine("Hello bright world", 1000, 3500, (("Hello", 1000, 1400), ("bright", 1600, 2100), ("world", 2100, 3000))),
    SubtitleLine("no words {here}\\", 4000, 6000),
    SubtitleLine("  ", 6000, 7000),  # blank: skipped everywhere
    SubtitleLine("last", 62_345, 65_000),
]


def test_bundled_font_matches_the_family_named_in_the_styles() -> None:
    files = sorted(FONTS_DIR.glob("*.ttf"))
    assert files, "a font must be bundled"
    assert (FONTS_DIR / "LICENSE").is_file()
    families = {ImageFont.truetype(str(f), 20).getname()[0] for f in files}
    assert FONT_FAMILY in families
    assert ImageFont.truetype(str(FONT_FILE), 20).getname() == (FONT_FAMILY, "Bold")  # the styles are bold
    ass = to_ass(LINES, width=1280, height=720)
    styles = [ln for ln in ass.splitlines() if ln.startswith("Style:")]
    assert styles and all(ln.split(",")[1] == FONT_FAMILY for ln in styles)


def test_ass_header_is_sized_for_the_video_with_outline_and_shadow() -> None:
    ass = to_ass(LINES, width=1080, height=1920)
    assert "PlayResX: 1080" in ass and "PlayResY: 1920" in ass
    style = next(ln for ln in ass.splitlines() if ln.startswith("Style: Lyric"))
    fields = style[len("Style: "):].split(",")
    size, outline, shadow, alignment = float(fields[2]), float(fields[16]), float(fields[17]), fields[18]
    assert size == round(1080 * 0.06)
    assert outline >= 2 and shadow > 0 and alignment == "2"


def test_ass_karaoke_tags_add_up_to_the_word_times() -> None:
    ass = to_ass(LINES, width=1280, height=720)
    events = [ln for ln in ass.splitlines() if ln.startswith("Dialogue:")]
    assert len(events) == 3
    first = events[0]
    assert first.startswith("Dialogue: 0,0:00:01.00,0:00:03.50,Karaoke,")
    ks = [int(k) for k in re.findall(r"\\kf?(\d+)", first)]
    assert ks == [40, 20, 50, 90]  # Hello 0.4 s, a 0.2 s pause, bright 0.5 s, world 0.9 s
    assert sum(ks) * 10 == 3000 - 1000
    plain = events[1]
    assert ",Lyric," in plain and "{" not in plain.split(",,", 1)[1] and "\\k" not in plain  # braces neutralised
    assert events[2].startswith("Dialogue: 0,0:01:02.35,0:01:05.00,Lyric,")


def test_srt() -> None:
    srt = to_srt(LINES)
    assert srt.startswith("1\n00:00:01,000 --> 00:00:03,500\nHello bright world\n\n2\n00:00:04,000 --> 00:00:06,000\n")
    assert "3\n00:01:02,345 --> 00:01:05,000\nlast\n" in srt
    assert "4\n" not in srt


def test_lrc_with_word_tags_and_clearing_gaps() -> None:
    lrc = to_lrc(LINES).splitlines()
    assert lrc[0] == "[00:01.00]<00:01.00>Hello <00:01.60>bright <00:02.10>world"
    assert lrc[1] == "[00:03.50]"  # gap before the next line clears the text
    assert lrc[2] == "[00:04.00]no words {here}\\"
    assert lrc[-2:] == ["[01:02.35]last", "[01:05.00]"]


def test_lines_shown_are_those_a_frame_of_the_range_shows() -> None:
    assert lines_shown(LINES, start_frame=0, end_frame=27, fps=30) == []  # up to 0.9 s
    assert lines_shown(LINES, start_frame=90, end_frame=135, fps=30) == [LINES[0], LINES[1]]  # 3.0-4.5 s
    assert lines_shown(LINES, start_frame=1800, end_frame=2100, fps=30) == [LINES[3]]
    assert lines_shown(LINES, start_frame=0, end_frame=30, fps=30) == []  # frame 30 (1.0 s) is the first to show
    assert lines_shown(LINES, start_frame=0, end_frame=31, fps=30) == [LINES[0]]
    assert lines_shown(LINES, start_frame=105, end_frame=120, fps=30) == []  # 3.5 s to 4.0 s: between the lines
    blink = SubtitleLine("blink", 1010, 1020)  # shorter than a frame, and no frame falls inside it
    assert lines_shown([blink], start_frame=0, end_frame=100, fps=30) == []


def test_frame_time_is_libass_clock_in_whole_ms() -> None:
    assert [frame_time_ms(n, 30) for n in (0, 1, 2, 3, 30)] == [0, 33, 66, 100, 1000]
    assert frame_time_ms(7, 24) == 291


def test_empty_inputs() -> None:
    assert to_srt([]) == ""
    assert to_lrc([]) == ""
    assert "Dialogue" not in to_ass([], width=640, height=360)


def _style(ass: str) -> dict[str, float]:
    fields = next(ln for ln in ass.splitlines() if ln.startswith("Style: Lyric"))[len("Style: "):].split(",")
    return {"size": float(fields[2]), "align": int(fields[18]), "left": int(fields[19]), "right": int(fields[20]),
            "v": int(fields[21])}


def test_vertical_subtitles_stay_out_of_the_apps_overlay() -> None:
    """9:16 (TikTok, Reels, Shorts): above the caption zone (lowest ~fifth) and clear of the button column."""
    tall = _style(to_ass(LINES, width=1080, height=1920))
    assert tall["v"] >= 0.2 * 1920 and tall["right"] >= 0.15 * 1080 and tall["align"] == 2
    wide = _style(to_ass(LINES, width=1920, height=1080))
    assert wide["v"] <= 0.12 * 1080  # landscape keeps the lyrics low


def test_subtitle_size_and_position_are_the_users() -> None:
    small = _style(to_ass(LINES, width=1280, height=720, size="small"))
    large = _style(to_ass(LINES, width=1280, height=720, size="large"))
    assert small["size"] < _style(to_ass(LINES, width=1280, height=720))["size"] < large["size"]
    top = _style(to_ass(LINES, width=1080, height=1920, position="top"))
    assert top["align"] == 8 and top["v"] >= 0.12 * 1920  # below the app's top bar
    assert _style(to_ass(LINES, width=1080, height=1920, position="middle"))["align"] == 5
    with pytest.raises(ValueError):
        to_ass(LINES, width=1280, height=720, size="huge")


def test_subtitle_settings_are_render_only(data_root: Path) -> None:
    """Changing the subtitle size or position rewinds a rendered project to IMAGED (change_output): no redraw."""
    from engine import machine
    from engine.project import create_project, update_settings
    from engine.storage import ProjectFolder

    project = create_project()
    folder = ProjectFolder(project.id)
    project.state = machine.RENDERED
    folder.save_project(project)
    assert update_settings(project.id, {"subtitle_position": "top"}).state == machine.IMAGED
    assert folder.load_project().history[-1].trigger == "change_output"
