"""Contact sheet: layout size, thumbnails in place, labels drawn, placeholders for missing pictures."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from engine.contact_sheet import GAP_PX, MARGIN_PX, SheetItem, fit_text, load_font, make_contact_sheet, sheet_geometry


def _pictures(tmp_path: Path, n: int, size: tuple[int, int] = (320, 180)) -> list[SheetItem]:
    items = []
    for i in range(n):
        p = tmp_path / f"seg_{i + 1:03d}_v1.png"
        Image.new("RGB", size, ((40 * i) % 256, 200, 90)).save(p)
        items.append(SheetItem(image_path=p, scene_id=f"seg_{i + 1:03d}", time_text=f"0:{i * 5:02d}.0-0:{i * 5 + 5:02d}.0",
                               lyric=f"line number {i} of a song that goes on and on and on for quite a while", version=1))
    return items


def test_layout_size_matches_geometry(tmp_path: Path) -> None:
    items = _pictures(tmp_path, 10)
    sheet = make_contact_sheet(items, columns=4, thumb_width=200, title="My song")
    g = sheet_geometry(10, columns=4, thumb_width=200, thumb_height=round(200 * 180 / 320), title=True)
    assert sheet.size == (g["width"], g["height"])
    assert g["rows"] == 3 and g["cols"] == 4
    assert sheet.width == 2 * MARGIN_PX + 4 * 200 + 3 * GAP_PX


def test_fewer_items_than_columns_shrinks_width(tmp_path: Path) -> None:
    sheet = make_contact_sheet(_pictures(tmp_path, 2), columns=4, thumb_width=160)
    assert sheet.width == 2 * MARGIN_PX + 2 * 160 + GAP_PX


def test_thumbnail_is_pasted_and_labels_drawn(tmp_path: Path) -> None:
    items = _pictures(tmp_path, 1)
    sheet = make_contact_sheet(items, columns=1, thumb_width=200)
    a = np.asarray(sheet)
    thumb = a[MARGIN_PX + 10: MARGIN_PX + 100, MARGIN_PX + 10: MARGIN_PX + 190]
    assert np.allclose(thumb.reshape(-1, 3).mean(0), (0, 200, 90), atol=3)
    label = a[MARGIN_PX + 113: sheet.height - MARGIN_PX, MARGIN_PX: MARGIN_PX + 200]
    assert (label.max(axis=2) > 150).sum() > 100, "text pixels in the label area"


def test_missing_picture_gets_placeholder(tmp_path: Path) -> None:
    items = [SheetItem(image_path=tmp_path / "nope.png", scene_id="seg_001", time_text="0:00-0:05", lyric="", version=3)]
    sheet = make_contact_sheet(items, columns=3, thumb_width=160)
    assert sheet.size[0] == 2 * MARGIN_PX + 160
    assert np.asarray(sheet).std() > 5


def test_portrait_pictures_keep_aspect(tmp_path: Path) -> None:
    items = _pictures(tmp_path, 3, size=(180, 320))
    sheet = make_contact_sheet(items, columns=3, thumb_width=120)
    g = sheet_geometry(3, columns=3, thumb_width=120, thumb_height=round(120 * 320 / 180), title=False)
    assert sheet.size == (g["width"], g["height"])


def test_fit_text_wraps_and_ellipsizes() -> None:
    font = load_font(16)
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    lines = fit_text(draw, "one two three four five six seven eight nine ten eleven twelve", font=font, max_width_px=90, max_lines=2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert all(draw.textlength(ln, font=font) <= 90 for ln in lines)
    assert fit_text(draw, "short", font=font, max_width_px=200, max_lines=2) == ["short"]
    long_word = fit_text(draw, "a" * 80, font=font, max_width_px=60, max_lines=2)
    assert all(draw.textlength(ln, font=font) <= 60 for ln in long_word)
