"""Old local working copies of projects kept in a bucket are removed (only with ``STORYBEAT_STORAGE=s3://...``).

With a bucket as the storage, ``data/projects/{id}/`` on a machine is a cache: taking the project's lease makes it
equal to the bucket (:func:`engine.sync.pull`), and reads outside a lease go to the bucket. Without pruning, every
machine would keep a full copy (pictures, renders) of every project it ever worked on. A copy untouched for
``STORYBEAT_WORKING_COPY_KEEP_S`` is deleted here, under the project's lease, so no run or edit (of this or
another machine) works in it meanwhile; the bucket is not touched. A copy of a project no longer in the bucket
(deleted from another machine) goes too. The API prunes when it starts and then every
:data:`PRUNE_EVERY_S`; ``storybeat prune-copies`` does it by hand.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from pathlib import Path

from engine import sync
from engine.config import get_settings
from engine.errors import BusyError
from engine.storage import PROJECT_ID_RE

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0


def last_touched(folder: Path) -> float:
    """The newest modification time of the folder or anything in it (seconds since the epoch)."""
    newest = folder.stat().st_mtime
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            try:
                newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
            except FileNotFoundError:
                continue
    return newest


def _remove(folder: Path) -> None:
    """Rename the folder to a dot-name (gone at once for every reader: dot-names are never projects), then delete."""
    doomed = folder.with_name(f".pruned-{folder.name}-{uuid.uuid4().hex[:8]}")
    os.replace(folder, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def prune_working_copies(*, keep_s: float | None = None, now: float | None = None) -> list[str]:
    """Delete the working copies untouched for ``keep_s`` (default: the setting) that nobody holds; their ids.

    Nothing happens without a bucket (the folders are then the projects themselves).
    """
    from engine.lease import Lease

    store = sync.store()
    root = get_settings().projects_dir
    if store is None or not root.is_dir():
        return []
    keep = get_settings().working_copy_keep_s if keep_s is None else keep_s
    now = time.time() if now is None else now
    removed: list[str] = []
    for folder in sorted(root.iterdir()):
        pid = folder.name
        if not folder.is_dir() or folder.is_symlink() or not PROJECT_ID_RE.match(pid) or sync.holds(pid):
            continue
        if now - last_touched(folder) < keep:
            continue
        if store.head(f"{pid}/project.json") is None:  # deleted from the bucket: nobody can be working on it
            _remove(folder)
            removed.append(pid)
            continue
        try:
            lease = Lease(store, pid).acquire(wait_s=0)
        except BusyError:
            continue  # a run or an edit holds it (here or elsewhere): it is in use
        try:
            _remove(folder)
        finally:
            lease.release()
        removed.append(pid)
    if removed:
        log.info("removed %d old working copies: %s", len(removed), ", ".join(removed))
    return removed
