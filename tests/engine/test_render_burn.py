"""The Python subtitle burner against libass (ffmpeg's ass filter with today's ASS script of the same lines)."""
from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.ffmpeg import ffmpeg_path
from engine.render import burn, kernels
from engine.render.command import escape_option_value
from engine.render.subtitles import FONTS_DIR, SubtitleStyle, subtitle_style, to_ass
from engine.render.timeline import RenderSpec, SubtitleLine

KARAOKE = SubtitleLine("Hello bright world", 300, 2600, (("Hello", 600, 900), ("bright", 900, 1500), ("world", 1500, 2400)))
LONG = SubtitleLine("Hold me closer now, the night is young and every light is calling out our names\nagain", 3000, 6000)
PLAIN = SubtitleLine("Plain words only", 6500, 8000)
GREY = (126, 128, 128)  # a flat picture: every pixel the text touches changes


def _picture(width: int, height: int, rng: np.random.Generator | None = None) -> tuple[np.ndarray, ...]:
    if rng is None:
        return (np.full((height, width), GREY[0], np.uint8), np.full((height // 2, width // 2), GREY[1], np.uint8),
                np.full((height // 2, width // 2), GREY[2], np.uint8))
    return (rng.integers(0, 256, (height, width), dtype=np.uint8),
            rng.integers(0, 256, (height // 2, width // 2), dtype=np.uint8),
            rng.integers(0, 256, (height // 2, width // 2), dtype=np.uint8))


def _libass(planes: tuple[np.ndarray, ...], lines: list[SubtitleLine], frames: list[int], *, position: str,
            tmp: Path, fps: int = 30) -> list[tuple[np.ndarray, ...]]:
    """The planes with libass's drawing of ``lines`` at each absolute frame (the render's graph before version 7)."""
    y, u, v = planes
    height, width = y.shape
    ass = tmp / "lines.ass"
    ass.write_text(to_ass(lines, width=width, height=height, position=position), encoding="utf-8")
    pts = "+".join(f"eq(N\\,{i})*{f}" for i, f in enumerate(frames))
    graph = (f"setpts=({pts})/({fps}*TB),ass=filename={escape_option_value(str(ass))}:"
             f"fontsdir={escape_option_value(str(FONTS_DIR))}")
    raw = (y.tobytes() + u.tobytes() + v.tobytes()) * len(frames)
    out = subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                          "-video_size", f"{width}x{height}", "-framerate", str(fps), "-i", "pipe:0", "-vf", graph,
                          "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"],
                         input=raw, capture_output=True, check=True, timeout=120).stdout
    luma, chroma = width * height, width * height // 4
    frames_out = []
    for i in range(len(frames)):
        buf = np.frombuffer(out[i * (luma + 2 * chroma):(i + 1) * (luma + 2 * chroma)], np.uint8)
        frames_out.append((buf[:luma].reshape(height, width), buf[luma:luma + chroma].reshape(height // 2, width // 2),
                           buf[luma + chroma:].reshape(height // 2, width // 2)))
    return frames_out


def _burned(planes: tuple[np.ndarray, ...], lines: list[SubtitleLine], frame: int, *, position: str,
            fps: int = 30) -> tuple[np.ndarray, ...]:
    y, u, v = (p.copy() for p in planes)
    height, width = y.shape
    burn.Burner(lines, style=subtitle_style(width=width, height=height, position=position), fps=fps).burn(
        y, u, v, frame=frame)
    return y, u, v


def _changed(planes: tuple[np.ndarray, ...], picture: tuple[np.ndarray, ...]) -> np.ndarray:
    return planes[0] != picture[0]


@pytest.mark.parametrize(("width", "height", "position"), [(1280, 720, "bottom"), (1080, 1920, "top"),
                                                           (720, 720, "middle"), (1080, 1920, "bottom")])
def test_text_is_drawn_where_libass_draws_it(tmp_path: Path, width: int, height: int, position: str) -> None:
    """Mid-karaoke, a long wrapped line, a plain one: the pixels the text changes are libass's, nearly all."""
    picture = _picture(width, height)
    lines = [KARAOKE, LONG, PLAIN]
    frames = [36, 120, 210]  # 1.2 s (mid "bright"), 4.0 s, 7.0 s
    for frame, ref in zip(frames, _libass(picture, lines, frames, position=position, tmp=tmp_path)):
        burned = _burned(picture, lines, frame, position=position)
        ours, theirs = _changed(burned, picture), _changed(ref, picture)
        iou = (ours & theirs).sum() / (ours | theirs).sum()
        assert iou > 0.95, f"frame {frame}: IoU {iou:.3f} with libass"
        diff = np.abs(burned[0].astype(int) - ref[0])[ours | theirs].mean()
        assert diff < 7, f"frame {frame}: luma {diff:.1f} levels from libass's on average over the text"
        rows_a, rows_b = np.nonzero(ours.any(1))[0], np.nonzero(theirs.any(1))[0]
        cols_a, cols_b = np.nonzero(ours.any(0))[0], np.nonzero(theirs.any(0))[0]
        assert abs(rows_a[0] - rows_b[0]) <= 2 and abs(rows_a[-1] - rows_b[-1]) <= 2
        assert abs(cols_a[0] - cols_b[0]) <= 2 and abs(cols_a[-1] - cols_b[-1]) <= 2


def _solid(raster: burn.LineRaster, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Luma and chroma masks of the frame where the fill covers the pixel (all four pixels, for chroma) fully."""
    full = np.zeros((height, width), bool)
    box = raster.fill >= 1.0
    full[raster.y0:raster.y0 + box.shape[0], raster.x0:raster.x0 + box.shape[1]] = box
    chroma = full[0::2, 0::2] & full[0::2, 1::2] & full[1::2, 0::2] & full[1::2, 1::2]
    return full, chroma


def _karaoke_720p() -> tuple[tuple[np.ndarray, ...], SubtitleStyle, burn.LineRaster, np.ndarray, np.ndarray]:
    """A 720p picture, the style, the karaoke line drawn, and where its fill fully covers luma and chroma pixels."""
    picture = _picture(1280, 720)
    style = subtitle_style(width=1280, height=720)
    raster = burn.rasterise(KARAOKE, style)
    fill, fill_c = _solid(raster, 720, 1280)
    return picture, style, raster, fill, fill_c


def test_white_gold_and_black_are_libass_colours(tmp_path: Path) -> None:
    picture, style, _, fill, fill_c = _karaoke_720p()
    for frame in (15, 75):  # before the first word (0.5 s): all white; after the last word (2.5 s): all gold
        [ref] = _libass(picture, [KARAOKE], [frame], position="bottom", tmp=tmp_path)
        ours = _burned(picture, [KARAOKE], frame, position="bottom")
        for k, (a, b) in enumerate(zip(ours, ref)):
            mask = fill if k == 0 else fill_c
            assert abs(float(np.median(a[mask])) - float(np.median(b[mask]))) <= 2, (frame, "YUV"[k])
        expected = burn.ycbcr(style.sung if frame == 75 else style.fill, style.matrix)
        assert [int(np.median(p[m])) for p, m in zip(ours, (fill, fill_c, fill_c))] == list(expected)
    assert burn.ycbcr(0xFFD54A, "TV.709") == (198, 63, 152)  # what libass's output holds for gold
    assert burn.ycbcr(0xFFFFFF, "TV.709") == (235, 128, 128) and burn.ycbcr(0, "TV.709") == (16, 128, 128)
    ours = _burned(picture, [KARAOKE], 15, position="bottom")[0]
    [ref] = _libass(picture, [KARAOKE], [15], position="bottom", tmp=tmp_path)
    assert (ours == 16).sum() > 0.8 * (ref[0] == 16).sum() > 1000  # the solid black outline


def test_karaoke_sweeps_each_word_from_left_to_right(tmp_path: Path) -> None:
    picture, _, raster, _, fill_c = _karaoke_720p()
    height, width = 720, 1280
    _, u_before, _ = _burned(picture, [KARAOKE], 15, position="bottom")  # 0.5 s: the line shows, "Hello" at 0.6 s
    assert (u_before[fill_c] == 128).all(), "before its first word, nothing is gold"
    y_mid, u_mid, _ = _burned(picture, [KARAOKE], 36, position="bottom")  # 1.2 s: half of "bright" (0.9-1.5 s)
    cols_gold = np.nonzero((fill_c & (u_mid < 80)).any(0))[0]
    cols_white = np.nonzero((fill_c & (u_mid == 128)).any(0))[0]
    assert cols_gold.size and cols_white.size and cols_gold.max() < cols_white.min()  # gold on the left, white right
    boundary = int(cols_white.min())
    text = np.nonzero(fill_c.any(0))[0]
    assert text[0] + 0.4 * np.ptp(text) < boundary < text[0] + 0.6 * np.ptp(text)  # in "bright", the middle word
    [ref] = _libass(picture, [KARAOKE], [36], position="bottom", tmp=tmp_path)
    assert abs(int(np.nonzero((fill_c & (ref[1] == 128)).any(0))[0].min()) - boundary) <= 2  # where libass has it
    unfilled = raster_box(raster, height, width) & ~_solid_any(raster, height, width)
    y_end = _burned(picture, [KARAOKE], 75, position="bottom")[0]  # 2.5 s: all sung
    assert (y_mid[unfilled] != GREY[0]).sum() > 1000 and np.array_equal(y_mid[unfilled], y_end[unfilled])  # outline,
    # shadow: never change


def _solid_any(raster: burn.LineRaster, height: int, width: int) -> np.ndarray:
    """The frame's pixels the line's fill touches at all."""
    touched = np.zeros((height, width), bool)
    box = raster.fill > 0
    touched[raster.y0:raster.y0 + box.shape[0], raster.x0:raster.x0 + box.shape[1]] = box
    return touched


def raster_box(raster: burn.LineRaster, height: int, width: int) -> np.ndarray:
    """The frame's pixels inside the line's box."""
    box = np.zeros((height, width), bool)
    box[raster.y0:raster.y0 + raster.keep.shape[0], raster.x0:raster.x0 + raster.keep.shape[1]] = True
    return box


def test_nothing_is_drawn_before_or_after_a_line() -> None:
    width, height = 640, 360
    picture = _picture(width, height, np.random.default_rng(3))
    for frame in (0, 8, 78, 79, 89):  # the line shows from 0.30 s (frame 9) to its end, 2.60 s (frame 78 is 2.6 s)
        assert all(np.array_equal(a, b) for a, b in zip(_burned(picture, [KARAOKE], frame, position="bottom"),
                                                          picture)), frame
    assert not np.array_equal(_burned(picture, [KARAOKE], 9, position="bottom")[0], picture[0])
    assert not np.array_equal(_burned(picture, [KARAOKE], 77, position="bottom")[0], picture[0])


@pytest.mark.parametrize(("width", "height"), [(1080, 1920), (1280, 720), (720, 720)])
def test_a_long_line_wraps_inside_the_margins(width: int, height: int) -> None:
    style = subtitle_style(width=width, height=height)
    picture = _picture(width, height)
    changed = _changed(_burned(picture, [LONG], 100, position="bottom"), picture)
    cols = np.nonzero(changed.any(0))[0]
    slack = style.outline + style.shadow + 1
    assert cols[0] >= style.margin_l - slack and cols[-1] <= width - style.margin_r + slack
    rows = np.nonzero(changed.any(1))[0]
    assert rows[-1] <= height - style.margin_v + slack
    assert rows[-1] - rows[0] > 2.5 * style.font_size  # wrapped, plus the explicit line break: three rows at least


def test_smart_wrap_balances_the_rows() -> None:
    text = burn.Typeset(43)
    words = "one two three four five six seven eight nine ten eleven".split()
    width = text.ink_width(" ".join(words))
    rows = burn.wrap(words, width_of=text.ink_width, max_width=width * 0.8)
    assert len(rows) == 2 and [w for row in rows for w in row] == words
    a, b = (text.ink_width(" ".join(r)) for r in rows)
    assert abs(a - b) < 0.25 * width  # greedy would leave one or two words alone on the second row
    assert burn.wrap(["unbreakable"], width_of=text.ink_width, max_width=10) == [["unbreakable"]]


def test_the_same_lines_burn_the_same_bytes_twice() -> None:
    width, height = 1280, 720
    picture = _picture(width, height, np.random.default_rng(5))
    first = _burned(picture, [KARAOKE, LONG], 36, position="bottom")
    burn.rasterise.cache_clear()
    second = _burned(picture, [KARAOKE, LONG], 36, position="bottom")
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[0], picture[0])


def _blend_reference(planes: tuple[np.ndarray, ...], r: burn.LineRaster, now: int) -> tuple[np.ndarray, ...]:
    """``kernels.burn_line``'s formula in plain float32 numpy, over the whole box (the picture is never clipped)."""
    y, u, v = (p.copy() for p in planes)
    h, w = r.keep.shape
    col = r.colours
    gold = now >= r.sung_from
    box = y[r.y0:r.y0 + h, r.x0:r.x0 + w]
    luma = box.astype(np.float32) * r.keep + r.base + r.fill * np.where(gold, col[3], col[0])
    box[:] = (np.minimum(luma, np.float32(255)) + np.float32(0.5)).astype(np.int32)
    for plane, base, white, sung in ((u, r.base_u, col[1], col[4]), (v, r.base_v, col[2], col[5])):
        part = r.fill * np.where(gold, sung, white)
        fill_c = np.zeros((h // 2, w // 2), np.float32)
        for dr in range(2):
            for dc in range(2):
                fill_c += part[dr::2, dc::2]
        cbox = plane[r.y0 // 2:r.y0 // 2 + h // 2, r.x0 // 2:r.x0 // 2 + w // 2]
        value = cbox.astype(np.float32) * r.keep_c + base + fill_c * np.float32(0.25)
        cbox[:] = (np.clip(value, np.float32(0), np.float32(255)) + np.float32(0.5)).astype(np.int32)
    return y, u, v


def test_the_compiled_blend_is_its_formula_and_leaves_the_rest_of_the_box_alone() -> None:
    width, height = 1280, 720
    picture = _picture(width, height, np.random.default_rng(9))
    raster = burn.rasterise(KARAOKE, subtitle_style(width=width, height=height))
    untouched = raster_box(raster, height, width) & ~_covered(raster, height, width)
    assert untouched.sum() > 1000  # the box has pixels no layer touches: the kernel must give them back as they were
    for now in (300, 1200, 2500):
        planes = tuple(p.copy() for p in picture)
        kernels.burn_line(*planes, raster.x0, raster.y0, raster.keep, raster.base, raster.fill, raster.sung_from,
                          raster.keep_c, raster.base_u, raster.base_v, now, raster.colours)
        expected = _blend_reference(picture, raster, now)
        assert all(np.array_equal(a, b) for a, b in zip(planes, expected)), now
        assert np.array_equal(planes[0][untouched], picture[0][untouched])


def _covered(raster: burn.LineRaster, height: int, width: int) -> np.ndarray:
    """The frame's pixels some layer of the line covers (keep below 1)."""
    mask = np.zeros((height, width), bool)
    mask[raster.y0:raster.y0 + raster.keep.shape[0], raster.x0:raster.x0 + raster.keep.shape[1]] = raster.keep < 1
    return mask


def test_overlapping_lines_are_drawn_in_order() -> None:
    width, height = 640, 360
    picture = _picture(width, height)
    top = SubtitleLine("over", 0, 2000)
    lines = [SubtitleLine("under it all", 0, 2000), top]
    both = _burned(picture, lines, 10, position="bottom")
    alone = _burned(picture, [top], 10, position="bottom")
    fill, _ = _solid(burn.rasterise(top, subtitle_style(width=width, height=height)), height, width)
    assert np.array_equal(both[0][fill], alone[0][fill])  # the later line is on top
    assert (both[0] != alone[0]).sum() > 100  # and the first shows around it


def test_a_chunk_without_lines_gets_no_burner_and_the_key_names_what_decides_the_pixels() -> None:
    spec = RenderSpec(width=640, height=360, fps=30)
    assert burn.chunk_burner([KARAOKE], spec=spec, start_frame=90, end_frame=180) is None  # 3-6 s: no line
    assert burn.chunk_burner([], spec=spec, start_frame=0, end_frame=180) is None
    burner = burn.chunk_burner([KARAOKE, PLAIN], spec=spec, start_frame=0, end_frame=90)
    assert burner is not None and burner.lines == [KARAOKE]
    style = burn.spec_style(spec)
    key = burn.burn_key([KARAOKE], style)
    assert key != burn.burn_key([replace(KARAOKE, words=KARAOKE.words[:2])], style)
    assert key != burn.burn_key([KARAOKE], replace(style, outline=style.outline + 1))
    assert key != burn.burn_key([KARAOKE], burn.spec_style(replace(spec, subtitle_position="top")))
    assert burn._font_identity()[0] in str(key)  # the font file's sha256


def test_explicit_newlines_make_rows_and_complex_scripts_are_shaped() -> None:
    width, height = 1280, 720
    picture = _picture(width, height)
    one = _changed(_burned(picture, [SubtitleLine("first row second row", 0, 1000)], 0, position="bottom"), picture)
    two = _changed(_burned(picture, [SubtitleLine("first row\nsecond row", 0, 1000)], 0, position="bottom"), picture)
    height_of = lambda m: np.ptp(np.nonzero(m.any(1))[0])  # noqa: E731
    assert height_of(two) > height_of(one) + 30
    assert burn.layout_engine() == burn.ImageFont.Layout.RAQM  # Pillow here has raqm: HarfBuzz shapes, FriBidi orders
    arabic = _changed(_burned(picture, [SubtitleLine("مرحبا بالعالم", 0, 1000)], 0, position="bottom"), picture)
    assert arabic.sum() > 500
