"""Render one contact sheet per style preset from varied sample prompts into docs/img/contact_<preset>.png.

Run: .venv/bin/python bench/contact_sheets.py [--out docs/img] [--thumb 400]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PIL import Image  # noqa: E402

from engine.contact_sheet import SheetItem, make_contact_sheet  # noqa: E402
from engine.images import canvas_size  # noqa: E402
from engine.providers.local.illustrator import draw_scene  # noqa: E402
from engine.styles import PRESETS  # noqa: E402
from sample_prompts import SAMPLES  # noqa: E402


def _mmss(ms: int) -> str:
    return f"{ms // 60000}:{ms % 60000 / 1000:04.1f}"


def render_sheet(style: str, *, out_dir: Path, thumb_width: int, work: Path) -> Path:
    """Draw the sample scenes in ``style`` and save their contact sheet; returns its path."""
    width, height = canvas_size("16:9", out_height=720, headroom=1.0)
    items = []
    for i, (prompt, mood, energy, lyric) in enumerate(SAMPLES):
        img = draw_scene(prompt=prompt, mood=mood, energy=energy, style=style, seed=42 + i, version=1, width=width, height=height)
        path = work / f"{style}_seg_{i + 1:03d}_v1.png"
        img.save(path)
        start = i * 5200
        items.append(SheetItem(image_path=path, scene_id=f"seg_{i + 1:03d}", time_text=f"{_mmss(start)}-{_mmss(start + 5200)}",
                               lyric=lyric, version=1))
    sheet = make_contact_sheet(items, columns=4, thumb_width=thumb_width, title=f"storybeat offline illustrator - {PRESETS[style].label}")
    out = out_dir / f"contact_{style}.png"
    sheet.save(out, optimize=True)
    if out.stat().st_size > 1_500_000:  # keep the docs light: an adaptive 256-colour palette
        sheet.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.FLOYDSTEINBERG).save(out, optimize=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    ap.add_argument("--thumb", type=int, default=400)
    ap.add_argument("--style", choices=sorted(PRESETS), action="append")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for style in args.style or list(PRESETS):
            out = render_sheet(style, out_dir=args.out, thumb_width=args.thumb, work=Path(tmp))
            print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}  {out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
