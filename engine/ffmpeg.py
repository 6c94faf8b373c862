"""Where the ffmpeg binary is: imageio-ffmpeg's bundled one, or ``$STORYBEAT_FFMPEG``.

Neutral ground for the audio ingest and the render, which both run ffmpeg;
how the render drives it lives in :mod:`engine.render.ffmpeg`.
"""
from __future__ import annotations

import functools
import os

import imageio_ffmpeg


@functools.cache
def ffmpeg_path() -> str:
    """Path of the ffmpeg executable: ``$STORYBEAT_FFMPEG`` if set, else the bundled one."""
    return os.environ.get("STORYBEAT_FFMPEG") or imageio_ffmpeg.get_ffmpeg_exe()
