"""The local working copy of a project, kept in step with the store (only when STORYBEAT_STORAGE names a bucket).

The rules, each defined here once:

- *Local only*: names starting with ``.`` (temp files of atomic writes and
  renders, ``jobs/.lock``, ``jobs/.reserve``, the ``.lease``) and
  ``jobs/worker.log`` are never uploaded, so a writer killed in the middle
  of a file leaves nothing half-written in the bucket.
- *Under the lease* (:mod:`engine.lease`, held by this process): the working
  copy is first made equal to the bucket (:func:`pull`); after every write
  the working copy's changes are published (:func:`push`: finished files
  uploaded, removed files deleted, the written file last), so the bucket
  sees the files in the order they were written, as a disk would. Reads use
  the working copy.
- *Every PUT is conditional* on the ETag this process last saw of the key
  (If-Match), or on its absence (If-None-Match: *): a write over a file that
  someone else changed raises :class:`engine.errors.LeaseLostError` instead
  of losing their write.
- *Outside a lease* reads go to the bucket (the API on any machine sees what
  the workers published).
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from engine.config import get_settings
from engine.errors import LeaseLostError
from engine.store import Blob, Conflict, Store, get_store

log = logging.getLogger(__name__)

LOCAL_ONLY = frozenset({"jobs/worker.log"})
_MISSING = object()


class Held(Protocol):
    """A lease this process holds (engine.lease.Lease)."""

    def ensure(self) -> None:
        """LeaseLostError unless the lease is still ours."""


_lock = threading.RLock()
_etags: dict[str, str | None] = {}  # key -> the ETag this process last saw (None: known to be absent)
_synced: dict[str, tuple[tuple[int, int, int], str]] = {}  # key -> (local file stamp, ETag) when last equal
_listed: set[str] = set()  # projects pulled under a lease held now: an unseen key of theirs is absent
_held: dict[str, Held] = {}
_refused: set[str] = set()  # projects held now whose publishing a conditional write refused


def store() -> Store | None:
    """The configured store (None: local disk is the storage and nothing here applies)."""
    return get_store()


def local_only(rel: str) -> bool:
    """Whether a project-relative path stays on this machine (temp files, lock, reserve, lease, worker log)."""
    return rel in LOCAL_ONLY or any(part.startswith(".") for part in rel.split("/"))


def _root() -> Path:
    return Path(os.path.abspath(get_settings().projects_dir))


def key_of(path: Path) -> str | None:
    """The store key of a file in a project folder, or None (no store, outside the projects root, or local only)."""
    if store() is None:
        return None
    try:
        rel = Path(os.path.abspath(path)).relative_to(_root()).as_posix()
    except ValueError:
        return None
    if "/" not in rel or local_only(rel):  # a dot-named folder (a duplicate being staged, a deleted one) too
        return None
    return rel


def _project(key: str) -> str:
    return key.split("/", 1)[0]


def holds(project_id: str) -> bool:
    """Whether this process holds the project's lease (its working copy is then current)."""
    return project_id in _held


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _same(key: str, path: Path, etag: str | None) -> bool:
    """Whether the local file is the stored object with ``etag`` (synced since, or the same MD5: a single PUT's ETag)."""
    stamp = _stamp(path)
    if stamp is None or etag is None:
        return stamp is None and etag is None
    if _synced.get(key) == (stamp, etag):
        return True
    if _md5(path) == etag:
        _synced[key] = (stamp, etag)
        return True
    return False


def _conditions(key: str) -> dict[str, object]:
    etag = _etags.get(key, _MISSING)
    if etag is _MISSING:
        return {"if_absent": True} if _project(key) in _listed else {}
    return {"if_absent": True} if etag is None else {"if_match": etag}


def _upload(key: str, path: Path | None = None, data: bytes | None = None) -> None:
    lease = _held.get(_project(key))
    if lease is not None:
        lease.ensure()
    try:
        if data is not None:
            etag = store().put(key, data, **_conditions(key))  # type: ignore[union-attr, arg-type]
        else:
            etag = store().put_file(key, path, **_conditions(key))  # type: ignore[union-attr, arg-type]
    except Conflict:
        if lease is not None:
            _refused.add(_project(key))  # the working copy now disagrees with the bucket: publish nothing more
        raise LeaseLostError(f"{key} was changed by another writer; this run stops (resume to continue)") from None
    _etags[key] = etag
    if path is not None:
        stamp = _stamp(path)
        if stamp is not None:
            _synced[key] = (stamp, etag)


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    root = _root()
    for path in folder.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if not local_only(rel.split("/", 1)[1]) and path.is_file() and not path.is_symlink():
            yield rel, path


def pull(project_id: str) -> None:
    """Make the working copy equal the bucket (under the lease): fetch what differs, drop what the bucket lacks."""
    s = store()
    assert s is not None
    folder = _root() / project_id
    listing = {k: e for k, e in s.list(f"{project_id}/").items() if not local_only(k.split("/", 1)[1])}
    with _lock:
        fetched = 0
        for key, etag in listing.items():
            path = _root() / key
            if not _same(key, path, etag):
                got = s.download(key, path)
                if got is None:  # deleted meanwhile (only by a writer without the lease)
                    continue
                etag, fetched = got, fetched + 1
                stamp = _stamp(path)
                if stamp is not None:
                    _synced[key] = (stamp, etag)
            _etags[key] = etag
        for key, path in list(_files(folder)) if folder.is_dir() else []:
            if key not in listing:
                path.unlink(missing_ok=True)
        for key in [k for k in _etags if _project(k) == project_id and k not in listing]:
            _etags[key] = None
        _listed.add(project_id)
    if fetched:
        log.info("%s: fetched %d file(s) from the store", project_id, fetched)


def push(project_id: str, *, last: str | None = None) -> None:
    """Publish the working copy's changes (under the lease): changed files uploaded, ``last`` after them, removed ones deleted."""
    s = store()
    assert s is not None
    folder = _root() / project_id
    with _lock:
        if project_id in _refused:
            raise LeaseLostError(f"project {project_id}: another writer changed its files; this run stops (resume to continue)")
        present = dict(_files(folder)) if folder.is_dir() else {}
        changed = [k for k, p in present.items() if k != last and not _same(k, p, _etags.get(k))]  # type: ignore[arg-type]
        changed.sort(key=lambda k: k.endswith(".json"))  # the JSON that points at a file goes after it
        if last is not None and last in present and not _same(last, present[last], _etags.get(last)):  # type: ignore[arg-type]
            changed.append(last)
        for key in changed:
            _upload(key, present[key])
        for key in [k for k, e in _etags.items() if e is not None and _project(k) == project_id and k not in present]:
            lease = _held.get(project_id)
            if lease is not None:
                lease.ensure()
            s.delete(key)
            _etags[key] = None


def begin(project_id: str, lease: Held) -> None:
    """The lease was taken: pull the working copy; from now on writes publish themselves."""
    with _lock:
        _held[project_id] = lease
    try:
        pull(project_id)
    except BaseException:
        end(project_id)
        raise


def end(project_id: str, *, publish: bool = True) -> None:
    """The lease is about to be given back: publish what is left (``publish``), then stop acting as its holder."""
    try:
        if publish and project_id in _held and project_id not in _refused:
            push(project_id)
    finally:
        with _lock:
            _held.pop(project_id, None)
            _listed.discard(project_id)
            _refused.discard(project_id)


def written(path: Path, data: bytes | None = None) -> None:
    """A file of the working copy was written (atomically): publish it (with the changes before it, under the lease)."""
    key = key_of(path)
    if key is None:
        return
    with _lock:
        if holds(_project(key)):
            push(_project(key), last=key)
        else:
            _upload(key, path=path, data=data)


def read(path: Path) -> bytes | None:
    """A project file's bytes, from the working copy under the lease or without a store, else from the bucket."""
    key = key_of(path)
    if key is None or holds(_project(key)):
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
    blob = store().get(key)  # type: ignore[union-attr]
    _etags[key] = blob.etag if blob else None
    return blob.data if blob else None


def read_if_changed(key: str, etag: str | None) -> Blob | None:
    """The stored object (data None if its ETag is still ``etag``), or None if absent."""
    blob = store().get(key, unless_etag=etag)  # type: ignore[union-attr]
    _etags[key] = blob.etag if blob else None
    return blob


def adopt(key: str, path: Path) -> bool:
    """Fetch an object another machine uploaded (a cluster unit's output) into the working copy, known as in step.

    The file is then not uploaded again by the next :func:`push`. False if the object is absent.
    """
    with _lock:
        etag = store().download(key, path)  # type: ignore[union-attr]
        if etag is None:
            return False
        _etags[key] = etag
        stamp = _stamp(path)
        if stamp is not None:
            _synced[key] = (stamp, etag)
        return True


def head(key: str) -> str | None:
    """The stored object's ETag (remembered for a later conditional write), or None if absent."""
    etag = store().head(key)  # type: ignore[union-attr]
    _etags[key] = etag
    return etag


def remove_project(project_id: str) -> None:
    """Delete every stored object of a project (its lease last)."""
    s = store()
    if s is None:
        return
    keys = sorted(s.list(f"{project_id}/"), key=lambda k: k.endswith("/.lease"))
    for key in keys:
        s.delete(key)
    with _lock:
        for key in [k for k in _etags if _project(k) == project_id]:
            _etags[key] = None


def reset() -> None:
    """Forget what this process knows of the store (tests switching buckets)."""
    with _lock:
        _etags.clear()
        _synced.clear()
        _listed.clear()
        _held.clear()
        _refused.clear()
