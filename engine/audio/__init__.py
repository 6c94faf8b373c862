"""Offline audio analysis: ingest (any format -> WAV), features (tempo, beats, sections), lyrics, sample songs.

Importing this package points numba's JIT cache at a persistent folder
(``$NUMBA_CACHE_DIR``, default ``~/.cache/storybeat/numba``) *before* librosa
is imported anywhere below it, so librosa's ``cache=True`` kernels are
compiled once per machine instead of on every run. :func:`librosa_beat` imports
``librosa.beat`` with its one uncached kernel cached there too.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)


def _numba_cache_dir() -> Path:
    """Set ``NUMBA_CACHE_DIR`` unless the environment already chose one; return it."""
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen:
        return Path(chosen)
    path = Path.home() / ".cache" / "storybeat" / "numba"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home: numba falls back to its own default
        return path
    os.environ["NUMBA_CACHE_DIR"] = str(path)
    return path


NUMBA_CACHE_DIR = _numba_cache_dir()


def librosa_beat() -> ModuleType:
    """``librosa.beat``, imported so that all its numba kernels come from the on-disk cache.

    librosa 0.11 declares one of them (``__beat_local_score``) with ``cache=False``, and
    ``guvectorize`` compiles eagerly, so every fresh process paid ~1.6 s of CPU compiling it on
    import. The same kernel is compiled with ``cache=True`` instead (same code, same signatures:
    the same machine code, once per machine). A no-op when ``librosa.beat`` is already imported.
    """
    loaded = sys.modules.get("librosa.beat")
    if loaded is not None:
        return loaded
    import numba

    original = numba.guvectorize

    def cached(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - numba's own signature
        kwargs["cache"] = True
        return original(*args, **kwargs)

    numba.guvectorize = cached
    try:
        import librosa.beat
    finally:
        numba.guvectorize = original
    return librosa.beat


def warm_up() -> float:
    """Run a tiny analysis once so numba kernels are compiled/loaded; returns the seconds it took."""
    import time

    import numpy as np

    from engine.audio.features import analyze_signal

    t0 = time.perf_counter()
    sr = 22050
    t = np.arange(int(sr * 6.0)) / sr
    clicks = (np.mod(t, 0.5) < 0.01).astype(np.float32) * np.sin(2 * np.pi * 880 * t).astype(np.float32)
    analyze_signal(clicks, sr)
    took = time.perf_counter() - t0
    log.debug("audio warm-up took %.2f s", took)
    return took
