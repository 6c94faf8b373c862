"""Pictures the user brings (a scene's own picture; reference pictures): one rule to read, orient and crop them.

* :func:`read_picture` accepts PNG, JPEG or WebP only (by content, not by name), at most ``max_bytes`` and
  ``max_pixels`` (checked from the header before anything is decoded, and Pillow's decompression-bomb
  guard is an error, not a warning), at least ``MIN_SIDE`` pixels a side; it applies the EXIF orientation
  and returns an RGB image. Anything else is an InputError saying what was wrong.
* :func:`cover_crop` fills a ``width`` x ``height`` canvas (the project's aspect and size) with the largest
  window of the picture that has that aspect, placed so that the focal point ``focus`` (0..1 of the width
  and height) is as near its centre as the picture allows; then scales it (Lanczos).
* :func:`crop_fingerprint` is what such a crop depends on: the original's bytes, the focal point, the size.
"""
from __future__ import annotations

import io
import logging
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from engine.errors import InputError
from engine.fingerprint import bytes_sha256, fingerprint
from engine.images import png_bytes
from engine.models import ImageRecord
from engine.storage import ProjectFolder, atomic_write_bytes

log = logging.getLogger(__name__)

FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # e.g. 8000 x 5000
MIN_SIDE = 64
CENTRE = (0.5, 0.5)


def read_picture(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> tuple[Image.Image, str]:
    """The picture in ``data`` upright and in RGB, and its format (``PNG``, ``JPEG``, ``WEBP``); InputError otherwise."""
    if not data:
        raise InputError("the picture is empty")
    if len(data) > max_bytes:
        raise InputError(f"the picture is larger than {max_bytes // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            kind = img.format or ""
            if kind not in FORMATS:
                raise InputError(f"the picture must be PNG, JPEG or WebP (this is {kind or 'not a picture'})")
            width, height = img.size
            if width * height > max_pixels:
                raise InputError(f"the picture has {width} x {height} pixels; at most {max_pixels:,} are accepted")
            if min(width, height) < MIN_SIDE:
                raise InputError(f"the picture is {width} x {height} pixels; each side needs at least {MIN_SIDE}")
            img.load()
            upright = ImageOps.exif_transpose(img)
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError("the file is not a picture (send a PNG, JPEG or WebP)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"the picture has too many pixels: {str(exc)[:200]}") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged data
        raise InputError(f"the picture is damaged: {str(exc)[:200]}") from None
    return upright.convert("RGB"), kind


def clamp_focus(focus: tuple[float, float] | None) -> tuple[float, float]:
    """A focal point inside the picture (0..1 each way); the centre when none is given."""
    if focus is None:
        return CENTRE
    return (min(1.0, max(0.0, float(focus[0]))), min(1.0, max(0.0, float(focus[1]))))


def crop_box(size: tuple[int, int], *, width: int, height: int, focus: tuple[float, float] | None = None) -> tuple[int, int, int, int]:
    """The window (left, top, right, bottom) of a picture of ``size`` with the aspect ``width:height``, the
    largest there is, centred on the focal point as far as the picture's edges allow."""
    src_w, src_h = size
    fx, fy = clamp_focus(focus)
    if src_w * height > src_h * width:  # wider than the canvas: full height, a slice of the width
        win_w, win_h = max(1, round(src_h * width / height)), src_h
    else:
        win_w, win_h = src_w, max(1, round(src_w * height / width))
    left = min(max(0, round(fx * src_w - win_w / 2)), src_w - win_w)
    top = min(max(0, round(fy * src_h - win_h / 2)), src_h - win_h)
    return left, top, left + win_w, top + win_h


def cover_crop(img: Image.Image, *, width: int, height: int, focus: tuple[float, float] | None = None) -> Image.Image:
    """``img`` cropped to the canvas' aspect around ``focus`` and scaled to ``width`` x ``height``."""
    box = crop_box(img.size, width=width, height=height, focus=focus)
    return img.crop(box).resize((width, height), Image.Resampling.LANCZOS)


def crop_fingerprint(original: bytes, *, focus: tuple[float, float] | None, width: int, height: int) -> str:
    """What a crop of an uploaded picture depends on (its PNG carries it, like a drawn picture)."""
    return fingerprint("upload", bytes_sha256(original), list(clamp_focus(focus)), width, height)


UPLOAD = "upload"  # the ImageRecord provider of a picture the user brought


def is_upload(record: ImageRecord | None) -> bool:
    """Whether a picture is one the user brought (never redrawn by the draw step)."""
    return record is not None and record.provider == UPLOAD


def crop_upload(folder: ProjectFolder, scene_id: str, version: int, *, original_rel: str, focus: tuple[float, float] | None,
                width: int, height: int) -> ImageRecord:
    """Crop the kept original ``original_rel`` to ``width`` x ``height`` around ``focus`` into the picture of
    ``scene_id`` version ``version`` (written atomically, its fingerprint inside), and its record."""
    original = folder.resolve(original_rel).read_bytes()
    img, _ = read_picture(original)
    want = crop_fingerprint(original, focus=focus, width=width, height=height)
    data = png_bytes(cover_crop(img, width=width, height=height, focus=focus),
                     metadata={"storybeat:fingerprint": want, "storybeat:status": "ok", "storybeat:provider": UPLOAD})
    path = folder.image_path(scene_id, version)
    atomic_write_bytes(path, data)
    return ImageRecord(status="ok", file=folder.rel(path), fingerprint=want, sha256=bytes_sha256(data), provider=UPLOAD,
                       model=UPLOAD, original=original_rel, focus=clamp_focus(focus))


REFERENCE_MAX_SIDE = 1024  # an uploaded cast reference is kept at most this long a side (a drawn one is 768 x 1024)


def reference_png(data: bytes) -> bytes:
    """A cast member's reference picture from the user's file: read like any picture the user brings (type,
    size, bomb guard, EXIF orientation), scaled down to at most ``REFERENCE_MAX_SIDE`` a side, as a PNG
    marked ``storybeat:provider=upload`` (the drawn-reference step never adopts it as one of its own)."""
    img, _ = read_picture(data)
    img.thumbnail((REFERENCE_MAX_SIDE, REFERENCE_MAX_SIDE), Image.Resampling.LANCZOS)
    return png_bytes(img, metadata={"storybeat:provider": UPLOAD, "storybeat:status": "ok",
                                    "storybeat:original": bytes_sha256(data)})
