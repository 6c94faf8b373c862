"""A render's chunk encode as a self-contained cluster unit (``STORYBEAT_CLUSTER``; see engine/cluster.py).

The runner (:func:`encode_on_cluster`, called by ``render_video`` for the
chunks not in its cache) sends one :class:`ChunkUnit` per chunk: the chunk and
its timeline, the bucket keys of the pictures it shows (with their sha256) and
of their stills, the lyric lines it shows, the key its output goes to (the chunk's
fingerprint, the same name a single-machine render caches it under) and the
runner's tool versions. The worker (:func:`encode_chunk_unit`):

1. refuses the unit if its own tools differ (:func:`tool_versions`: another
   ffmpeg, OpenCV, numba, rasteriser (Pillow, FreeType, HarfBuzz) or render version would make other frames),
   or if it would draw the unit's lyrics with other fallback fonts (:mod:`engine.render.font_fallback`);
2. returns at once if the output is already in the bucket (a unit done twice);
3. takes each still from its scratch folder, or from the bucket, or makes it
   from the picture (fetched and checked against its sha256);
4. encodes the chunk exactly as ``render_video`` does (the same functions,
   x264 with a fixed thread count), into scratch;
5. uploads it in one PUT to the output key.

The runner then fetches each chunk into its cache (``sync.adopt``) and joins
them as usual. A Stop sets the render's stop event; units kill their ffmpeg.
"""
from __future__ import annotations

import functools
import logging
import os
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.errors import RenderError

log = logging.getLogger(__name__)


class ToolMismatch(RenderError):
    """A worker's tools differ from the runner's: it would encode other frames, so it refuses the unit."""


@functools.cache
def _ffmpeg_version(path: str) -> str:
    try:
        out = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unavailable: {exc}"
    return out.splitlines()[0].strip() if out else "unknown"


def tool_versions() -> dict[str, str]:
    """What decides a chunk's bytes besides its inputs: the render version, ffmpeg, OpenCV, numba, the rasteriser."""
    import cv2

    from engine.ffmpeg import ffmpeg_path
    from engine.render.burn import rasteriser_version
    from engine.render.render import RENDER_VERSION, _numba_version

    return {"render": str(RENDER_VERSION), "ffmpeg": _ffmpeg_version(ffmpeg_path()), "cv2": cv2.__version__,
            "numba": _numba_version(), "raster": rasteriser_version()}


def check_tools(expected: dict[str, str], found: dict[str, str] | None = None) -> None:
    """ToolMismatch naming each tool whose version on this worker differs from the runner's."""
    found = tool_versions() if found is None else found
    diff = [f"{name}: runner has {want!r}, this worker {found.get(name)!r}"
            for name, want in sorted(expected.items()) if found.get(name) != want]
    if diff:
        import socket

        raise ToolMismatch(f"worker {socket.gethostname()} refuses the unit, its tools differ ({'; '.join(diff)}); "
                           "install the same versions on every worker")


@dataclass(frozen=True)
class StoreRef:
    """Which bucket a unit reads and writes (the runner's settings; credentials come from the worker's environment)."""

    storage: str
    endpoint_url: str | None
    region: str | None

    @classmethod
    def current(cls) -> StoreRef:
        """The bucket this process is configured for."""
        from engine.config import get_settings

        s = get_settings()
        return cls(s.storage, s.s3_endpoint_url, s.s3_region)

    def open(self):  # type: ignore[no-untyped-def]  # -> Store
        """The store on this worker."""
        from engine.store import _store

        got = _store(self.storage, self.endpoint_url, self.region, 3600)
        if got is None:
            raise RenderError("a cluster unit needs a bucket (STORYBEAT_STORAGE)")
        return got


@dataclass(frozen=True)
class ChunkUnit:
    """Everything a worker needs to encode one chunk (see the module docstring)."""

    chunk: object  # engine.render.timeline.Chunk
    timeline: object  # engine.render.timeline.Timeline
    pictures: tuple[tuple[str, str, str], ...]  # per clip of the chunk: (image sha256, picture key, still key)
    subtitles: tuple[object, ...]  # the engine.render.timeline.SubtitleLine the chunk shows (the style is the spec's)
    target_key: str
    tools: dict[str, str]
    store: StoreRef
    stop_event: str | None = None


def scratch_dir() -> Path:
    """A worker's local folder for stills and encodes in progress."""
    path = Path(tempfile.gettempdir()) / "storybeat-units"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _fetch_still(store, sha: str, picture_key: str, still_key: str, *, timeline, jobs) -> Path:  # type: ignore[no-untyped-def]
    """The raw still of a picture on this worker: cached in scratch, or from the bucket, or made from the picture."""
    from engine.fingerprint import file_sha256
    from engine.render.render import _make_still, still_ready

    spec = timeline.spec
    still = scratch_dir() / still_key.rsplit("/", 1)[-1]
    if still_ready(still, spec):
        return still
    if store.download(still_key, still) is not None and still_ready(still, spec):
        return still
    still.unlink(missing_ok=True)
    picture = scratch_dir() / f".{sha[:16]}.{os.getpid()}.{threading.get_ident()}.png"
    try:
        if store.download(picture_key, picture) is None:
            raise RenderError(f"picture {picture_key} is not in the bucket")
        if file_sha256(picture) != sha:
            raise RenderError(f"picture {picture_key} in the bucket is not the one this render shows")
        _make_still(picture, timeline=timeline, target=still, jobs=jobs)
    finally:
        picture.unlink(missing_ok=True)
    return still


def encode_chunk_unit(unit: ChunkUnit) -> str:
    """On a worker: encode one chunk into the bucket at ``unit.target_key`` (see the module docstring); the key."""
    from engine.render.render import _encode_chunk, _Jobs, _Progress
    from engine.cluster import watch_stop

    check_tools(unit.tools, {**tool_versions(), "fonts": _fonts_of(unit.subtitles)})
    store = unit.store.open()
    if store.head(unit.target_key) is not None:
        return unit.target_key  # done before (a retry after the upload, or another render)
    chunk, timeline = unit.chunk, unit.timeline
    jobs = _Jobs()
    done = threading.Event()
    watch_stop(unit.stop_event, jobs.kill_all, done)
    local = scratch_dir() / f".{unit.target_key.rsplit('/', 1)[-1]}.{os.getpid()}.{threading.get_ident()}.mp4"
    try:
        stills = [_fetch_still(store, sha, pkey, skey, timeline=timeline, jobs=jobs) for sha, pkey, skey in unit.pictures]
        progress = _Progress(total_frames=chunk.dur_frames, done_frames=0, callback=None)  # type: ignore[attr-defined]
        _encode_chunk(chunk, timeline=timeline, stills=stills, target=local, subtitles=list(unit.subtitles),  # type: ignore[arg-type]
                      jobs=jobs, progress=progress)
        store.put_file(unit.target_key, local)  # one PUT: the same bytes if two workers ever both get here
    finally:
        done.set()
        local.unlink(missing_ok=True)
    return unit.target_key


def _fonts_of(lines: tuple[object, ...] | list[object]) -> str:
    """The fallback faces the lines are drawn with (by content): a worker without the same ones would draw others."""
    from engine.render.font_fallback import faces_key

    return " ".join(faces_key([line.text for line in lines]))  # type: ignore[attr-defined]


def chunk_units(todo: list[tuple[object, Path]], *, timeline: object, image_of: dict[str, Path],
                still_of: Callable[[str], str], lines_of: Callable[[object], list],
                stop_event: str | None = None) -> list[ChunkUnit]:
    """One unit per (chunk, cache target) of ``todo``, longest first (every worker busy to the end, as on one machine).

    ``still_of(sha)`` is the still's file name, ``lines_of(chunk)`` the subtitle lines it shows.
    """
    from engine import sync

    tools, ref = tool_versions(), StoreRef.current()
    units = []
    for chunk, target in todo:
        target_key = sync.key_of(target)
        if target_key is None:
            raise RenderError(f"{target} is not in a project folder kept in the bucket: it cannot be encoded on the cluster")
        pictures = []
        for i in chunk.clip_indexes:  # type: ignore[attr-defined]
            sha = timeline.clips[i].clip.image_sha256  # type: ignore[attr-defined]
            picture_key = sync.key_of(image_of[sha])
            if picture_key is None:
                raise RenderError(f"picture {image_of[sha]} is not kept in the bucket")
            pictures.append((sha, picture_key, target_key.rsplit("/", 1)[0] + "/" + still_of(sha)))
        lines = tuple(lines_of(chunk))
        units.append(ChunkUnit(chunk=chunk, timeline=timeline, pictures=tuple(pictures),
                               subtitles=lines, target_key=target_key, tools={**tools, "fonts": _fonts_of(lines)},
                               store=ref, stop_event=stop_event))
    units.sort(key=lambda u: -(u.chunk.dur_frames + 2 * u.chunk.transition_frames))  # type: ignore[attr-defined]
    return units


def encode_on_cluster(todo: list[tuple[object, Path]], *, timeline: object, image_of: dict[str, Path],
                      still_of: Callable[[str], str], lines_of: Callable[[object], list],
                      on_chunk_done: Callable[[object], None], should_stop: Callable[[], bool] | None) -> int:
    """On the runner: encode ``todo`` (chunk, cache target) on the cluster, each fetched into the cache; how many."""
    from engine import cluster, sync

    stop = cluster.StopSignal()
    units = chunk_units(todo, timeline=timeline, image_of=image_of, still_of=still_of, lines_of=lines_of,
                        stop_event=stop.name)
    targets = {sync.key_of(target): target for _, target in todo}

    def fetched(unit: ChunkUnit, key: str) -> None:
        if not sync.adopt(key, targets[key]):
            raise RenderError(f"{key}: a worker reported it encoded but it is not in the bucket")
        on_chunk_done(unit.chunk)

    log.info("encoding %d chunk(s) on the cluster", len(units))
    return cluster.run_units(encode_chunk_unit, [(f"chunk-{u.target_key.rsplit('_', 1)[-1][:16]}", u) for u in units],
                             on_done=fetched, should_stop=should_stop, stop=stop, what="chunk encode")
