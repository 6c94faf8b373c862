"""One worker per project: an exclusive, non-blocking portalocker lock on jobs/.lock."""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

import portalocker

from engine.errors import BusyError, NotFoundError
from engine.storage import ProjectFolder


@contextlib.contextmanager
def project_lock(folder: ProjectFolder, *, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the project's lock for the ``with`` block; BusyError if someone else holds it.

    ``wait_s`` = 0 fails at once (a second run); short edits wait a moment.

    The OS releases the lock when the holder dies (even by SIGKILL), so a crash
    never leaves a project locked.
    """
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
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            portalocker.unlock(handle)
    finally:
        handle.close()


