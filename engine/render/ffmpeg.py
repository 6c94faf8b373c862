"""Locating and running the ffmpeg binary (imageio-ffmpeg's, or STORYBEAT_FFMPEG)."""
from __future__ import annotations

import functools
import os

import imageio_ffmpeg


@functools.cache
def ffmpeg_path() -> str:
    """Path of the ffmpeg executable: ``$STORYBEAT_FFMPEG`` if set, else the bundled one."""
    return os.environ.get("STORYBEAT_FFMPEG") or imageio_ffmpeg.get_ffmpeg_exe()
