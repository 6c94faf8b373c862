"""Style presets: the project-wide look, shared by prompt writers and illustrators."""
from __future__ import annotations

from dataclasses import dataclass

from engine.errors import InputError


@dataclass(frozen=True)
class StylePreset:
    """One visual style a project can choose."""

    id: str
    label: str
    description: str
    palette: tuple[str, ...]  # hex colours, darkest to brightest
    keywords: str  # words appended to every image prompt
    negative: str  # negative prompt shared by every scene


COMMON_NEGATIVE = "text, watermark, logo, signature, blurry, deformed hands, extra fingers, low quality"

PRESETS: dict[str, StylePreset] = {
    p.id: p
    for p in (
        StylePreset(
            "synthwave",
            "Neon synthwave",
            "Retro-futurist night drives: magenta and cyan neon, grid horizons, a huge setting sun.",
            ("#0b0221", "#2a0a4a", "#7b1fa2", "#ff2e97", "#ff9e3d", "#29f0ff"),
            "neon synthwave, 1980s retro-futurism, glowing grid, chrome highlights, cinematic",
            f"{COMMON_NEGATIVE}, daylight, muted colours",
        ),
        StylePreset(
            "watercolor",
            "Watercolour",
            "Soft washes on textured paper, bleeding edges, gentle pastel light.",
            ("#2f3e46", "#52796f", "#84a98c", "#cad2c5", "#f4acb7", "#fff8e7"),
            "loose watercolour painting, soft washes, paper texture, bleeding pigment edges",
            f"{COMMON_NEGATIVE}, photorealistic, hard edges, 3d render",
        ),
        StylePreset(
            "noir",
            "Ink noir",
            "High-contrast black ink and paper white with a single red accent, film-noir shadows.",
            ("#050505", "#1c1c1c", "#3d3d3d", "#8c8c8c", "#f2efe6", "#c1121f"),
            "black ink illustration, film noir, dramatic shadows, high contrast, single red accent",
            f"{COMMON_NEGATIVE}, colourful, pastel, cheerful",
        ),
        StylePreset(
            "cosmic",
            "Cosmic",
            "Deep space nebulae, stars and planets, luminous violet and teal gas clouds.",
            ("#03001c", "#1b1464", "#5b2a86", "#0fa3b1", "#f7b2ff", "#ffffff"),
            "cosmic space art, nebula clouds, starfields, glowing planets, ethereal light",
            f"{COMMON_NEGATIVE}, indoor, flat lighting",
        ),
        StylePreset(
            "papercut",
            "Paper cut-out",
            "Layered paper silhouettes with soft drop shadows, warm handmade colours.",
            ("#3d2c2e", "#8c5e58", "#d98e73", "#f2c57c", "#a7c5bd", "#f7ede2"),
            "layered paper cut-out art, handmade craft, soft drop shadows, depth layers",
            f"{COMMON_NEGATIVE}, photorealistic, glossy",
        ),
        StylePreset(
            "geometric",
            "Minimal geometric",
            "Bold flat shapes, circles and triangles, Bauhaus-like balance, strong primaries.",
            ("#14213d", "#1d3557", "#e63946", "#f1c40f", "#a8dadc", "#f1faee"),
            "minimal geometric poster art, flat bold shapes, bauhaus composition, clean lines",
            f"{COMMON_NEGATIVE}, photorealistic, cluttered, noisy",
        ),
    )
}

DEFAULT_STYLE = "synthwave"


def get_preset(style_id: str) -> StylePreset:
    """Return the preset called ``style_id`` or raise InputError listing the known ones."""
    try:
        return PRESETS[style_id]
    except KeyError:
        raise InputError(f"unknown style {style_id!r}; choose one of: {', '.join(PRESETS)}") from None
