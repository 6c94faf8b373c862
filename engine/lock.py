"""One worker per project: an exclusive, non-blocking portalocker lock on jobs/.lock, or with a bucket its lease.

With ``STORYBEAT_STORAGE`` set the lock is the project's lease in the bucket
(:mod:`engine.lease`), so two machines cannot both work on one project, and
taking it brings the local working copy up to date (:mod:`engine.sync`);
giving it back publishes what is left.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator

import logging

import portalocker

from engine import sync
from engine.errors import BusyError, LeaseLostError, NotFoundError
from engine.storage import ProjectFolder

log = logging.getLogger(__name__)


@contextlib.contextmanager
def project_lock(folder: ProjectFolder, *, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the project's lock for the ``with`` block; BusyError if someone else holds it.

    ``wait_s`` = 0 fails at once (a second run); short edits wait a moment.

    The OS releases the lock when the holder dies (even by SIGKILL), so a crash
    never leaves a project locked (with a bucket: see :mod:`engine.lease`).
    """
    store = sync.store()
    if store is not None:
        with _lease(folder, store, wait_s=wait_s):
            yield
        return
    if not folder.path.is_dir():
        raise NotFoundError(f"project {folder.id} not found")
    folder.jobs_dir.mkdir(parents=True, exist_ok=True)
    handle = open(folder.lock_file, "a+")  # noqa: SIM115 - closed in finally
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                portalocker.lock(handle, portalocker.LOCK_EX | portalocker.LOCK_NB)
                break
            except portalocker.LockException:
                if time.monotonic() >= deadline:
                    raise BusyError(f"project {folder.id} is busy: another run is working on it") from None
                time.sleep(0.05)
        try:  # who holds it, for engine.lock.lock_holder; on a full disk the lock still holds without it
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
        except OSError as exc:
            log.warning("project %s: cannot record the lock holder: %s", folder.id, exc)
        try:
            yield
        finally:
            portalocker.unlock(handle)
    finally:
        handle.close()


@contextlib.contextmanager
def _lease(folder: ProjectFolder, store: sync.Store, *, wait_s: float) -> Iterator[None]:
    """The project's lease for the block: the working copy pulled on entry, published on exit (not once the lease is lost)."""
    from engine.lease import Lease

    if not folder.exists():
        raise NotFoundError(f"project {folder.id} not found")
    lease = Lease(store, folder.id).acquire(wait_s=wait_s)
    try:
        sync.begin(folder.id, lease)
        try:
            yield
        finally:
            sync.end(folder.id, publish=not isinstance(sys.exc_info()[1], LeaseLostError))
    finally:
        lease.release()


def lock_holder(folder: ProjectFolder) -> int | None:
    """The pid recorded by the process holding the project's lock, or None when nobody holds it.

    A probe (a non-blocking shared lock, released at once) on a read-only
    handle: it writes nothing. Call it only when a job needs judging (a live
    pid with a stale heartbeat): for that instant a concurrent ``run`` that
    does not wait could see the project busy. 0 when held but no pid is recorded
    (or, with a bucket, held by another machine).
    """
    store = sync.store()
    if store is not None:
        from engine.lease import lease_holder

        return lease_holder(store, folder.id)
    try:
        handle = open(folder.lock_file, "rb")  # noqa: SIM115 - closed in finally
    except OSError:
        return None  # no lock file: nobody ever held it
    try:
        try:
            portalocker.lock(handle, portalocker.LOCK_SH | portalocker.LOCK_NB)
        except portalocker.LockException:
            text = handle.read(32).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else 0
        portalocker.unlock(handle)
        return None
    finally:
        handle.close()
