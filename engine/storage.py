"""The project folder on disk: paths, atomic writes and typed JSON loading.

Layout (names from the user's design)::

    data/projects/{id}/
      source/track.wav  source/original.<ext>  source/lyrics.(lrc|txt)
      project.json analysis.json segments.json prompts.json lyrics_edit.json (hand-edited lyrics)
      cast.json  cast/lead_r1.png (the cast and its reference pictures)
      images/seg_001_v1.png   renders/final_v1.mp4   jobs/pipeline.json jobs/render.json

With ``STORYBEAT_STORAGE=s3://...`` the same layout lives in a bucket and this
folder is the local working copy: every write below publishes itself and
every read outside the project's lease comes from the bucket (engine.sync).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from engine import sync
from engine.config import get_settings
from engine.errors import DISK_FULL_ERRNOS, DISK_FULL_MESSAGE, DiskFullError, InputError, NotFoundError
from engine.models import JOB_KINDS, SCHEMA_VERSION, Analysis, Cast, CutEdits, Job, LyricsEdit, Project, Prompts, Segments

M = TypeVar("M", bound=BaseModel)

TEMP_GLOB = ".*.tmp*"  # the temp files of atomic writes and render outputs (see ProjectFolder.remove_temp_files)
PROJECT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{2,63}$")
SCENE_ID_RE = re.compile(r"^seg_\d{3,4}$")


def new_project_id() -> str:
    """A fresh random project id (12 hex characters)."""
    return secrets.token_hex(6)


def validate_project_id(project_id: str) -> str:
    """Return ``project_id`` if it is a safe folder name, else raise InputError."""
    if not isinstance(project_id, str) or not PROJECT_ID_RE.match(project_id):
        raise InputError(f"invalid project id {project_id!r}: use 3-64 of a-z, 0-9, '-' and '_'")
    return project_id


def validate_scene_id(scene_id: str) -> str:
    """Return ``scene_id`` if it looks like seg_001, else raise InputError."""
    if not isinstance(scene_id, str) or not SCENE_ID_RE.match(scene_id):
        raise InputError(f"invalid scene id {scene_id!r}: expected e.g. seg_001")
    return scene_id


def fsync_dir(path: Path) -> None:
    """fsync a directory so a rename inside it is durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, replace, fsync folder.

    DiskFullError when the disk is full (the old file stays as it was). With a
    bucket the file is then published in one conditional PUT (engine.sync).
    """
    try:
        _atomic_write_bytes(path, data)
    except OSError as exc:
        if exc.errno in DISK_FULL_ERRNOS:
            raise DiskFullError(f"{DISK_FULL_MESSAGE}: cannot write {path.name}; free some space, then resume") from exc
        raise
    sync.written(path, data)


def publish(path: Path) -> None:
    """A file finished in place by other means (an append, ffmpeg's rename) is published like a write (engine.sync)."""
    sync.written(path)


def read_bytes(path: Path) -> bytes | None:
    """A project file's bytes (from the bucket when it is the storage and we do not hold the project), or None."""
    return sync.read(path)


@contextlib.contextmanager
def local_file(path: Path) -> Iterator[Path | None]:
    """A project file as a file on this machine for the ``with`` block (a tool that wants a path, e.g. the aligner):
    the file itself on disk or under the project's lease, else a temporary copy fetched from the bucket (removed
    after the block); None if there is no such file."""
    key = sync.key_of(path)
    if key is None or sync.holds(key.split("/", 1)[0]):
        yield path if path.is_file() else None
        return
    with tempfile.TemporaryDirectory(prefix="storybeat-fetch-") as tmp:
        dest = Path(tmp) / path.name
        yield dest if sync.store().download(key, dest) is not None else None  # type: ignore[union-attr]


def stamp(path: Path) -> tuple[int, int, int] | str | None:
    """What changes when the file does: (inode, mtime, size) on disk, the ETag in a bucket; None if absent."""
    key = sync.key_of(path)
    if key is not None and not sync.holds(key.split("/", 1)[0]):
        return sync.head(key)
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; these are ordinary shared files
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_json(path: Path, model: BaseModel) -> None:
    """Serialise a pydantic model to ``path`` atomically."""
    atomic_write_bytes(path, model.model_dump_json(indent=2).encode() + b"\n")


def read_model(path: Path, model_type: type[M]) -> M:
    """Load and validate a JSON file; InputError if it is corrupt or of an unknown schema version."""
    data = sync.read(path)
    if data is None:
        raise NotFoundError(f"{path.name} does not exist")
    return _validate(data, path, model_type)


def _validate(data: bytes, path: Path, model_type: type[M]) -> M:
    try:
        model = model_type.model_validate_json(data)  # fast path: pydantic-core parses and validates at once
    except ValidationError:
        model = None
    if model is not None and getattr(model, "schema_version", SCHEMA_VERSION) == SCHEMA_VERSION:
        return model
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name} is corrupt: {exc}") from None
    if isinstance(raw, dict) and raw.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise InputError(f"{path.name} has unknown schema_version {raw.get('schema_version')!r}")
    try:
        return model_type.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{path.name} is invalid: {exc.error_count()} error(s): {exc.errors()[0]['msg']}") from None


_CACHE: dict[tuple[str, str], tuple[object, BaseModel]] = {}
_CACHE_MAX = 256


def read_model_cached(path: Path, model_type: type[M]) -> M | None:
    """Like try_read_model, but reuses the parsed model while the file is unchanged (same inode, mtime, size).

    For read-only callers (the API's views under polling load): the returned
    object is shared, so it must never be mutated. With a bucket: while the
    object's ETag is unchanged (a conditional GET).
    """
    key = (str(path), model_type.__name__)
    hit = _CACHE.get(key)
    store_key = sync.key_of(path)
    if store_key is not None and not sync.holds(store_key.split("/", 1)[0]):
        blob = sync.read_if_changed(store_key, hit[0] if hit is not None and isinstance(hit[0], str) else None)
        if blob is None:
            return None
        if blob.data is None and hit is not None:
            return hit[1]  # type: ignore[return-value]
        model, version = _parse_model(blob.data or b"", path, model_type), blob.etag
    else:
        version = stamp(path)
        if version is None:
            return None
        if hit is not None and hit[0] == version:
            return hit[1]  # type: ignore[return-value]
        model = try_read_model(path, model_type)
    if model is not None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (version, model)
    return model


def _parse_model(data: bytes, path: Path, model_type: type[M]) -> M | None:
    try:
        return _validate(data, path, model_type)
    except InputError:
        return None


def try_read_model(path: Path, model_type: type[M]) -> M | None:
    """Like read_model, but None for a missing, corrupt or unknown file (a step then recomputes)."""
    try:
        return read_model(path, model_type)
    except InputError:
        return None


class DiskReserve:
    """A few hundred KB held on disk during a run, given back when the disk fills so the failure can be recorded.

    Made on entry (DiskFullError if even that does not fit: the run cannot
    start), deleted on exit or by :meth:`release`.
    """

    SIZE = 512 * 1024

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> DiskReserve:
        try:
            with open(self.path, "wb") as fh:
                fh.write(b"\0" * self.SIZE)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            self.release()
            if exc.errno in DISK_FULL_ERRNOS:
                raise DiskFullError(f"{DISK_FULL_MESSAGE}: a run needs free space to start; free some, then resume") from exc
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Give the space back."""
        self.path.unlink(missing_ok=True)


class ProjectFolder:
    """Paths and typed accessors of one project folder."""

    def __init__(self, project_id: str, root: Path | None = None) -> None:
        self.id = validate_project_id(project_id)
        base = root if root is not None else get_settings().projects_dir
        self.path = base / self.id

    # paths -----------------------------------------------------------------
    @property
    def project_json(self) -> Path:
        """project.json."""
        return self.path / "project.json"

    @property
    def analysis_json(self) -> Path:
        """analysis.json."""
        return self.path / "analysis.json"

    @property
    def lyrics_edit_json(self) -> Path:
        """lyrics_edit.json: the hand-edited lyrics (engine.project.edit_lyrics)."""
        return self.path / "lyrics_edit.json"

    @property
    def segments_json(self) -> Path:
        """segments.json."""
        return self.path / "segments.json"

    @property
    def prompts_json(self) -> Path:
        """prompts.json."""
        return self.path / "prompts.json"

    @property
    def cuts_json(self) -> Path:
        """cuts.json: the user's cut decisions (engine.structure)."""
        return self.path / "cuts.json"

    @property
    def originals_dir(self) -> Path:
        """images/originals/: pictures the user uploaded, as sent (re-cropped from when the focal point moves)."""
        return self.images_dir / "originals"

    @property
    def cast_json(self) -> Path:
        """cast.json: the recurring subjects and their reference pictures."""
        return self.path / "cast.json"

    @property
    def cast_dir(self) -> Path:
        """cast/: one reference picture per cast member."""
        return self.path / "cast"

    def cast_reference_path(self, member_id: str, n: int = 1) -> Path:
        """cast/lead_r1.png: reference ``n`` of one member (a redrawn reference is a new file)."""
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", member_id):
            raise InputError(f"bad cast member id {member_id!r}")
        return self.cast_dir / f"{member_id}_r{int(n)}.png"

    @property
    def source_dir(self) -> Path:
        """source/."""
        return self.path / "source"

    @property
    def track_wav(self) -> Path:
        """source/track.wav, the normalised upload."""
        return self.source_dir / "track.wav"

    @property
    def images_dir(self) -> Path:
        """images/."""
        return self.path / "images"

    @property
    def renders_dir(self) -> Path:
        """renders/."""
        return self.path / "renders"

    @property
    def render_cache_dir(self) -> Path:
        """renders/cache/: per-scene segments keyed by fingerprint."""
        return self.renders_dir / "cache"

    @property
    def cache_dir(self) -> Path:
        """cache/: a step's finished sub-results (e.g. the Gemini upload), fingerprinted; safe to delete."""
        return self.path / "cache"

    @property
    def jobs_dir(self) -> Path:
        """jobs/."""
        return self.path / "jobs"

    @property
    def lock_file(self) -> Path:
        """jobs/.lock, held by whoever works on the project."""
        return self.jobs_dir / ".lock"

    def job_json(self, kind: str) -> Path:
        """jobs/pipeline.json or jobs/render.json."""
        if kind not in JOB_KINDS:
            raise InputError(f"unknown job kind {kind!r}")
        return self.jobs_dir / f"{kind}.json"

    def image_path(self, scene_id: str, version: int) -> Path:
        """images/seg_001_v2.png."""
        return self.images_dir / f"{validate_scene_id(scene_id)}_v{int(version)}.png"

    def rel(self, path: Path) -> str:
        """Path relative to the project folder, as stored in JSON."""
        return path.relative_to(self.path).as_posix()

    def resolve(self, rel_path: str) -> Path:
        """A stored relative path back to an absolute one, refusing anything outside the folder."""
        full = (self.path / rel_path).resolve()
        if self.path.resolve() not in full.parents:
            raise InputError(f"path {rel_path!r} escapes the project folder")
        return full

    def remove_temp_files(self) -> list[str]:
        """Delete the temp files that killed writers left (never valid outputs); returns their relative paths.

        Every writer here names its temp file ``.<name>.<random>.tmp[.<ext>]``
        (atomic writes, render outputs) or ``source/.incoming.wav`` (an upload
        being normalised). Call it only while holding the project's lock: every
        writer into the folder holds it, so no temp file is a live writer's.
        """
        removed = []
        for path in [*self.path.rglob(TEMP_GLOB), self.source_dir / ".incoming.wav"]:
            try:
                if path.is_file() and not path.is_symlink():
                    path.unlink()
                    removed.append(self.rel(path))
            except OSError:  # gone meanwhile, or not ours to delete: not worth failing a run for
                continue
        return removed

    def exists(self) -> bool:
        """Whether project.json exists (in the bucket when it is the storage)."""
        key = sync.key_of(self.project_json)
        if key is not None and not sync.holds(self.id):
            return sync.head(key) is not None
        return self.project_json.is_file()

    def publish(self, *, new: bool = False) -> None:
        """Publish what the working copy has that the bucket lacks (a step's finished files); nothing on disk alone.

        ``new``: a project made here outside any lease (a duplicate): all of it, project.json last.
        """
        if sync.store() is not None and (new or sync.holds(self.id)):
            sync.push(self.id, last=sync.key_of(self.project_json) if new else None)

    def remove_stored(self) -> None:
        """Delete the project from the bucket (the folder itself is deleted by the caller); nothing on disk alone."""
        sync.remove_project(self.id)

    # typed files -------------------------------------------------------------
    def load_project(self) -> Project:
        """project.json (NotFoundError if the project does not exist)."""
        if not self.exists():
            raise NotFoundError(f"project {self.id} not found")
        return read_model(self.project_json, Project)

    def save_project(self, project: Project) -> None:
        """Write project.json atomically."""
        atomic_write_json(self.project_json, project)

    def load_analysis(self) -> Analysis | None:
        """analysis.json or None if missing/corrupt."""
        return try_read_model(self.analysis_json, Analysis)

    def load_lyrics_edit(self) -> LyricsEdit | None:
        """lyrics_edit.json or None if missing/corrupt."""
        return try_read_model(self.lyrics_edit_json, LyricsEdit)

    def load_segments(self) -> Segments | None:
        """segments.json or None if missing/corrupt."""
        return try_read_model(self.segments_json, Segments)

    def load_cast(self) -> Cast | None:
        """cast.json or None (not written yet, or unreadable)."""
        return try_read_model(self.cast_json, Cast)

    def load_prompts(self) -> Prompts | None:
        """prompts.json or None if missing/corrupt."""
        return try_read_model(self.prompts_json, Prompts)

    def load_cuts(self) -> CutEdits | None:
        """cuts.json, or None when missing or corrupt."""
        return try_read_model(self.cuts_json, CutEdits)
    def step_notes(self) -> list[tuple[str, str]]:
        """(step, note) the steps left in their outputs for the user, e.g. a local fallback after a refusal."""
        notes = []
        analysis, segments = self.load_analysis(), self.load_segments()
        if analysis is not None and analysis.note:
            notes.append(("analyze", analysis.note))
        if segments is not None and segments.note:
            notes.append(("segment", segments.note))
        prompts = self.load_prompts()
        if prompts is not None and prompts.note:
            notes.append(("prompt", prompts.note))
        return notes

    def load_job(self, kind: str) -> Job:
        """jobs/<kind>.json, or a fresh idle job if missing/corrupt."""
        return try_read_model(self.job_json(kind), Job) or Job(kind=kind)  # type: ignore[arg-type]

    def save_job(self, job: Job) -> None:
        """Write jobs/<kind>.json atomically."""
        atomic_write_json(self.job_json(job.kind), job)


def list_project_ids(root: Path | None = None) -> list[str]:
    """Ids of all projects under the data root, sorted."""
    base = root if root is not None else get_settings().projects_dir
    store = sync.store()
    if store is not None and os.path.abspath(base) == os.path.abspath(get_settings().projects_dir):
        return [pid for pid in store.children() if PROJECT_ID_RE.match(pid) and ProjectFolder(pid, root=base).exists()]
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if PROJECT_ID_RE.match(p.name) and (p / "project.json").is_file())
