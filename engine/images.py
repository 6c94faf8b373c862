"""Pictures as files: the canvas size a scene is drawn at, and PNGs that carry metadata in tEXt chunks.

Used by the draw step (every illustrator's picture is stored this way, its
fingerprint inside the PNG), by the API's style samples and by the local
illustrator's callers; no provider owns these rules.
"""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, PngImagePlugin

from engine.errors import InputError

# zlib level of every stored picture. 1: a third less CPU than 3 for ~6 % more bytes (a 1600x900 picture
# 0.09 s against 0.14 s, 1.78 MB against 1.66 MB; 2400x1350 0.22 s against 0.35 s; docs/benchmarks.md).
# Lossless either way: the pixels are the same, so the level is not part of a picture's fingerprint (pictures
# stored at another level are kept; see engine.steps.draw.STEP_VERSION).
PNG_COMPRESS_LEVEL = 1


def canvas_size(aspect: str, *, out_height: int, headroom: float = 1.25) -> tuple[int, int]:
    """Picture size for an aspect whose short side is ``out_height`` in the video, times ``headroom``.

    720p 16:9 -> (1600, 900); 1080p 16:9 -> (2400, 1350); 720p 9:16 -> (900, 1600). Both sides even.
    """
    try:
        w_ratio, h_ratio = (int(x) for x in aspect.split(":"))
    except ValueError:
        raise InputError(f"bad aspect {aspect!r}; use e.g. 16:9, 9:16 or 1:1") from None
    if w_ratio <= 0 or h_ratio <= 0 or out_height <= 0 or headroom < 1.0:
        raise InputError(f"bad canvas request: aspect={aspect!r} out_height={out_height} headroom={headroom}")
    short = round(out_height * headroom / 2) * 2
    long_ = round(short * max(w_ratio, h_ratio) / min(w_ratio, h_ratio) / 2) * 2
    return (long_, short) if w_ratio >= h_ratio else (short, long_)


def png_bytes(img: Image.Image, *, metadata: dict[str, str], level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """Encode ``img`` as PNG with one tEXt chunk per metadata item (deterministic bytes; ``level``: zlib's, for
    measuring other levels)."""
    info = PngImagePlugin.PngInfo()
    for key, value in metadata.items():
        info.add_text(str(key), str(value))
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info, compress_level=level)
    return buf.getvalue()


def read_png_metadata(path: Path | str) -> dict[str, str]:
    """The tEXt/iTXt chunks of a PNG file as a dict (raises for a file that is not a readable PNG)."""
    with Image.open(path) as img:
        if img.format != "PNG":
            raise InputError(f"{path} is not a PNG")
        img.load()  # text chunks after the image data are only seen once it is read
        return {str(k): str(v) for k, v in getattr(img, "text", {}).items()}
