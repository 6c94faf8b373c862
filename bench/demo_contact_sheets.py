"""Contact sheets of the demo song's storyboard in every style preset -> docs/img/demo_<preset>.png.

Runs the real local pipeline (analysis, storyboard, prompts, pictures) on the
bundled sample song once per preset in a temporary data folder, then writes
the contact sheet with ``engine.review.write_contact_sheet``.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    """Render one sheet per preset into docs/img/."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STORYBEAT_DATA"] = tmp
        sys.path.insert(0, str(REPO))
        from PIL import Image

        from engine import machine
        from engine.demo import prepare_demo
        from engine.review import write_contact_sheet
        from engine.runner import Runner
        from engine.styles import PRESETS

        for style in PRESETS:
            project_id = prepare_demo(style=style, project_id=f"demo-{style}")
            Runner(project_id, target=machine.IMAGED).run()
            sheet = write_contact_sheet(project_id, Path(tmp) / f"{style}.png")
            out = REPO / "docs" / "img" / f"demo_{style}.png"
            img = Image.open(sheet).convert("RGB")
            img.thumbnail((1600, 4000))
            img.save(out.with_suffix(".jpg"), quality=85, optimize=True)
            print(f"{style}: {out.with_suffix('.jpg').relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
