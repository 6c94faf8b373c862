"""Contact sheet: one PNG grid of every scene's picture with its id, version, time range and lyric."""
from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

BUNDLED_FONTS = Path(__file__).parent / "render" / "fonts"
SYSTEM_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
BACKGROUND = (18, 18, 24)
CARD = (30, 30, 40)
TEXT = (235, 235, 240)
MUTED = (160, 160, 175)
MARGIN_PX = 24
GAP_PX = 16
LYRIC_LINES = 2

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class SheetItem:
    """One scene on the sheet."""

    image_path: Path | None  # None or a missing file draws a placeholder
    scene_id: str
    time_text: str  # e.g. "0:12.4-0:17.9"
    lyric: str
    version: int
    contain: bool = False  # show the whole picture (letterboxed) instead of cover-cropping it, e.g. a cast reference
    image_bytes: bytes | None = None  # the picture's file read already (e.g. from a bucket); image_path names it


def _open(item: SheetItem) -> Image.Image | None:
    """The item's picture (from ``image_bytes``, else from ``image_path``), or None when there is none."""
    if item.image_bytes is not None:
        return Image.open(io.BytesIO(item.image_bytes))
    if item.image_path is not None and Path(item.image_path).is_file():
        return Image.open(item.image_path)
    return None


@lru_cache(maxsize=16)
def load_font(size_px: int, *, bold: bool = False) -> Font:
    """The bundled DejaVu font, else the system DejaVu, else Pillow's default font, at ``size_px``."""
    names = ["DejaVuSans-Bold.ttf", "DejaVuSans.ttf"] if bold else ["DejaVuSans.ttf"]
    candidates = [BUNDLED_FONTS / n for n in names] + [SYSTEM_FONT]
    for path in candidates:
        if path.is_file():
            try:
                return ImageFont.truetype(str(path), size_px)
            except OSError:
                log.warning("unreadable font %s", path)
    return ImageFont.load_default(size=size_px)


def fit_text(draw: ImageDraw.ImageDraw, text: str, *, font: Font, max_width_px: int, max_lines: int) -> list[str]:
    """Word-wrap ``text`` into at most ``max_lines`` lines of ``max_width_px``, ending with an ellipsis if cut."""
    words = text.split()
    lines: list[str] = []
    cur = ""
    for word in words:
        trial = f"{cur} {word}".strip()
        if draw.textlength(trial, font=font) <= max_width_px:
            cur = trial
            continue
        if cur:
            lines.append(cur)
        cur = word
        if len(lines) == max_lines:
            break
    if cur and len(lines) < max_lines:
        lines.append(cur)
    cut = len(" ".join(lines).split()) < len(words)
    lines = lines[:max_lines]
    if lines and cut:
        last = lines[-1]
        while last and draw.textlength(last + "…", font=font) > max_width_px:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return [ln if draw.textlength(ln, font=font) <= max_width_px else _clip(draw, ln, font, max_width_px) for ln in lines]


def _clip(draw: ImageDraw.ImageDraw, text: str, font: Font, max_width_px: int) -> str:
    """Cut one over-long word to fit."""
    while text and draw.textlength(text + "…", font=font) > max_width_px:
        text = text[:-1]
    return text + "…"


def _thumbnail(item: SheetItem, size: tuple[int, int]) -> Image.Image:
    """The scene picture fitted (cover-cropped) into ``size``, or a placeholder."""
    try:
        opened = _open(item)
    except OSError:
        opened = None
        log.warning("unreadable picture %s", item.image_path)
    if opened is not None:
        try:
            with opened as img:
                img = img.convert("RGB")
                if item.contain:
                    img.thumbnail(size, Image.LANCZOS)
                    box = Image.new("RGB", size, CARD)
                    box.paste(img, ((size[0] - img.width) // 2, (size[1] - img.height) // 2))
                    return box
                scale = max(size[0] / img.width, size[1] / img.height)
                w, h = max(size[0], round(img.width * scale)), max(size[1], round(img.height * scale))
                img = img.resize((w, h), Image.LANCZOS, reducing_gap=2.0)
                left, top = (w - size[0]) // 2, (h - size[1]) // 2
                return img.crop((left, top, left + size[0], top + size[1]))
        except OSError:
            log.warning("unreadable picture %s", item.image_path)
    ph = Image.new("RGB", size, (55, 55, 66))
    d = ImageDraw.Draw(ph)
    font = load_font(max(12, size[1] // 10))
    d.text((size[0] // 2, size[1] // 2), "no picture", fill=MUTED, font=font, anchor="mm")
    return ph


def sheet_geometry(n_items: int, *, columns: int, thumb_width: int, thumb_height: int, title: bool) -> dict[str, int]:
    """Pixel layout of a sheet: cell sizes, label height, rows and the total width/height."""
    cols = max(1, min(columns, max(n_items, 1)))
    rows = max(1, -(-n_items // cols))
    label_h = max(40, int(thumb_width * 0.2))
    title_h = int(thumb_width * 0.12) + GAP_PX if title else 0
    cell_h = thumb_height + label_h
    width = 2 * MARGIN_PX + cols * thumb_width + (cols - 1) * GAP_PX
    height = 2 * MARGIN_PX + title_h + rows * cell_h + (rows - 1) * GAP_PX
    return {"cols": cols, "rows": rows, "label_h": label_h, "title_h": title_h, "cell_h": cell_h, "width": width, "height": height}


def make_contact_sheet(items: Sequence[SheetItem], *, columns: int = 4, thumb_width: int = 480, title: str = "") -> Image.Image:
    """A grid of every scene picture with its id, version, time range and lyric (RGB image)."""
    if thumb_width < 64:
        raise ValueError("thumb_width must be at least 64 px")
    ratio = 9 / 16
    for it in items:  # the thumbnails keep the project's aspect (first readable scene picture)
        if not it.contain:
            try:
                opened = _open(it)
                if opened is None:
                    continue
                with opened as img:
                    ratio = img.height / img.width
                break
            except OSError:
                continue
    thumb_h = max(32, round(thumb_width * ratio))
    g = sheet_geometry(len(items), columns=columns, thumb_width=thumb_width, thumb_height=thumb_h, title=bool(title))
    sheet = Image.new("RGB", (g["width"], g["height"]), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    head = load_font(max(12, thumb_width // 22), bold=True)
    body = load_font(max(11, thumb_width // 26))
    if title:
        draw.text((MARGIN_PX, MARGIN_PX), title, fill=TEXT, font=load_font(max(14, int(thumb_width * 0.07)), bold=True))
    pad = max(6, thumb_width // 40)
    for i, item in enumerate(items):
        r, c = divmod(i, g["cols"])
        x = MARGIN_PX + c * (thumb_width + GAP_PX)
        y = MARGIN_PX + g["title_h"] + r * (g["cell_h"] + GAP_PX)
        draw.rectangle((x, y, x + thumb_width - 1, y + g["cell_h"] - 1), fill=CARD)
        sheet.paste(_thumbnail(item, (thumb_width, thumb_h)), (x, y))
        ty = y + thumb_h + pad
        draw.text((x + pad, ty), item.scene_id if item.contain else f"{item.scene_id}  v{item.version}", fill=TEXT, font=head)
        draw.text((x + thumb_width - pad, ty), item.time_text, fill=MUTED, font=body, anchor="ra")
        line_h = int(body.size * 1.25) if hasattr(body, "size") else 14
        ly = ty + int(head.size * 1.35) if hasattr(head, "size") else ty + 16
        lyric = item.lyric.strip() or "(instrumental)"
        for line in fit_text(draw, lyric, font=body, max_width_px=thumb_width - 2 * pad, max_lines=LYRIC_LINES):
            if ly + line_h > y + g["cell_h"]:
                break
            draw.text((x + pad, ly), line, fill=TEXT if item.lyric.strip() else MUTED, font=body)
            ly += line_h
    return sheet
