"""Lyrics in scripts the bundled font lacks: drawn in a system font found through fontconfig, as libass does.

Needs fontconfig and a CJK font (Debian's fonts-droid-fallback; `make test` installs both when root, CI=true
fails without them).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from engine.render import burn, font_fallback, remote
from engine.render.remote import ToolMismatch, check_tools
from engine.render.subtitles import subtitle_style
from engine.render.timeline import SubtitleLine
from tests.conftest import require_tool
from tests.engine.test_render_burn import _burned, _changed, _libass, _picture

NIGHT = "夜の街 city lights"  # Japanese, then Latin: two faces in one row


@pytest.fixture(autouse=True)
def _fresh_font_chain():
    """Every test sees the fonts of its own environment (the chain is cached per process)."""
    for cached in (font_fallback._chain, font_fallback.face_of, burn.rasterise):
        cached.cache_clear()
    yield
    for cached in (font_fallback._chain, font_fallback.face_of, burn.rasterise):
        cached.cache_clear()


def _cjk_face() -> font_fallback.Face:
    require_tool("fc-match")
    face = font_fallback.face_of("夜")
    if face == font_fallback.PRIMARY:
        require_tool("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
        pytest.fail("a CJK font is installed but fontconfig does not offer it for 夜")
    return face


def test_characters_the_bundled_font_lacks_get_a_system_face_and_latin_stays_bundled() -> None:
    face = _cjk_face()
    assert face.path.is_file()
    runs = font_fallback.runs(NIGHT)
    assert [(f == face, text) for f, text in runs] == [(True, "夜の街"), (False, " city lights")]
    assert runs[1][0] == font_fallback.PRIMARY
    assert font_fallback.runs("plain words") == [(font_fallback.PRIMARY, "plain words")]
    # a combining mark stays with its base character, whichever face that is
    assert font_fallback.runs("e\u0301") == [(font_fallback.PRIMARY, "e\u0301")]
    assert font_fallback.runs("夜\u0301")[0] == (face, "夜\u0301")


def test_a_cjk_line_is_drawn_where_libass_draws_it(tmp_path: Path) -> None:
    """libass (ffmpeg's ass filter) asks fontconfig for the missing glyphs too: the same pixels, nearly all."""
    _cjk_face()
    width, height = 1280, 720
    picture = _picture(width, height)
    lines = [SubtitleLine(NIGHT, 0, 2000), SubtitleLine("星が光る", 2000, 4000)]
    frames = [15, 75]
    for frame, ref in zip(frames, _libass(picture, lines, frames, position="bottom", tmp=tmp_path)):
        burned = _burned(picture, lines, frame, position="bottom")
        ours, theirs = _changed(burned, picture), _changed(ref, picture)
        iou = (ours & theirs).sum() / (ours | theirs).sum()
        assert iou > 0.9, f"frame {frame}: IoU {iou:.3f} with libass"
        cols_a, cols_b = np.nonzero(ours.any(0))[0], np.nonzero(theirs.any(0))[0]
        assert abs(cols_a[0] - cols_b[0]) <= 3 and abs(cols_a[-1] - cols_b[-1]) <= 3


def test_without_the_fallback_the_glyphs_would_be_boxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """Without fontconfig every character is drawn in the bundled font: the CJK ones come out as its box glyph."""
    _cjk_face()
    width, height = 1280, 720
    picture = _picture(width, height)
    line = SubtitleLine("夜の街", 0, 2000)
    with_fallback = _changed(_burned(picture, [line], 15, position="bottom"), picture)
    monkeypatch.setenv("PATH", str(tmp_path))  # no fc-match, no fc-query
    font_fallback._chain.cache_clear()
    font_fallback.face_of.cache_clear()
    burn.rasterise.cache_clear()
    with caplog.at_level(logging.INFO, logger="engine.render.font_fallback"):
        boxes = _changed(_burned(picture, [line], 15, position="bottom"), picture)
    assert font_fallback.face_of("夜") == font_fallback.PRIMARY
    assert "fontconfig unavailable" in caplog.text
    assert boxes.sum() > 0 and (boxes != with_fallback).sum() > 0.3 * with_fallback.sum()


def test_a_character_no_font_has_is_logged_and_drawn_as_the_bundled_box(caplog: pytest.LogCaptureFixture) -> None:
    _cjk_face()
    with caplog.at_level(logging.WARNING, logger="engine.render.font_fallback"):
        assert font_fallback.face_of("\U0010fffd") == font_fallback.PRIMARY  # a private-use code point
    assert "U+10FFFD" in caplog.text


def test_the_fallback_faces_decide_the_fingerprint_and_a_worker_without_them_refuses() -> None:
    face = _cjk_face()
    style = subtitle_style(width=1280, height=720)
    latin, cjk = SubtitleLine("city lights", 0, 1000), SubtitleLine(NIGHT, 0, 1000)
    assert font_fallback.faces_key([latin.text]) == []
    key = font_fallback.faces_key([cjk.text])
    assert len(key) == 1 and key[0].endswith(f"#{face.index}") and str(face.path) not in key[0]  # by content
    assert key[0] in str(burn.burn_key([cjk], style))
    # a cluster worker compares the faces it would draw the unit's lines with against the runner's
    check_tools({"fonts": " ".join(key)}, {"fonts": " ".join(key)})
    runner_fonts = "0" * 64 + f"#{face.index}"  # the runner drew them with another CJK font
    unit = remote.ChunkUnit(chunk=None, timeline=None, pictures=(), subtitles=(cjk,), target_key="p/x.mp4",
                            tools={**remote.tool_versions(), "fonts": runner_fonts},
                            store=remote.StoreRef("s3://nowhere/x", None, None))
    with pytest.raises(ToolMismatch, match=f"fonts: runner has '{runner_fonts}', this worker '{key[0]}'"):
        remote.encode_chunk_unit(unit)  # before it touches the bucket or encodes anything


def test_a_latin_line_draws_the_same_pixels_as_one_pillow_call() -> None:
    """Text the bundled face covers is one run: the typesetter adds nothing to what a single draw call gives."""
    from PIL import Image, ImageDraw

    text = burn.Typeset(172, ["-kern"])
    a, b = Image.new("L", (2000, 300)), Image.new("L", (2000, 300))
    text.draw(ImageDraw.Draw(a), (40.5, 220.25), "Hold on tight, AVA", fill=255, stroke_width=12, stroke_fill=255)
    ImageDraw.Draw(b).text((40.5, 220.25), "Hold on tight, AVA", font=text.font(), anchor="ls", fill=255,
                           stroke_width=12, stroke_fill=255, features=["-kern"])
    assert np.array_equal(np.asarray(a), np.asarray(b)) and np.asarray(a).any()
    left, _, right, _ = text.font().getbbox("Hold on tight, AVA", anchor="ls", features=["-kern"])
    assert text.extent("Hold on tight, AVA") == (left, right)


def test_a_face_freetype_cannot_scale_is_never_chosen(tmp_path: Path) -> None:
    """A colour-bitmap emoji or a PCF face has fixed sizes only: Pillow could not draw it at the lyrics' size."""
    bogus = tmp_path / "fixed-size-only.ttf"
    bogus.write_bytes(b"\x00\x01\x00\x00" + b"\x00" * 64)
    assert not font_fallback._scalable(font_fallback.Face(bogus))
    assert font_fallback._scalable(font_fallback.PRIMARY)
