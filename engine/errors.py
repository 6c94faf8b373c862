"""The engine's error hierarchy: every failure the engine raises is a StorybeatError."""
from __future__ import annotations

import errno


class StorybeatError(Exception):
    """Base class of every error the engine raises on purpose."""

    exit_code = 4


class InputError(StorybeatError):
    """Bad input from the user: a bad file, a bad id, a bad setting or edit."""

    exit_code = 2


class NotFoundError(InputError):
    """A project, scene, version or file that does not exist."""


class ProviderError(StorybeatError):
    """A provider (local or Gemini) could not do its job.

    ``transient`` errors (rate limits, 5xx, timeouts, unparseable answers) may
    pass on a retry; others fail the step at once. ``retried``: a lower layer
    (the Gemini client) already spent its retries on it, so nobody retries it
    again (the one policy: :mod:`engine.retry`).
    """

    def __init__(self, message: str, *, transient: bool = False, retry_after_s: float | None = None,
                 retried: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after_s = retry_after_s
        self.retried = retried


class RenderError(StorybeatError):
    """ffmpeg failed; ``stderr_tail`` holds the last lines it printed."""

    def __init__(self, message: str, *, stderr_tail: str = "") -> None:
        super().__init__(f"{message}\n{stderr_tail}".rstrip())
        self.stderr_tail = stderr_tail


class StateError(StorybeatError):
    """A trigger that the state machine does not allow in the current state."""

    exit_code = 2

    def __init__(self, message: str, *, state: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.state = state
        self.allowed = allowed


class StaleError(InputError):
    """An edit made against an older version of what it changes (``If-Match``): ``version`` is the current one,
    ``current`` the current value (e.g. the lyric lines), so the client can merge and try again."""

    def __init__(self, message: str, *, version: str, current: object = None) -> None:
        super().__init__(message)
        self.version = version
        self.current = current


DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
DISK_FULL_MESSAGE = "no space left on device"


class DiskFullError(StorybeatError):
    """The disk (or quota) is full: nothing half-written is kept; free some space, then resume."""

    exit_code = 4


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a full disk: ENOSPC/EDQUOT, or ffmpeg saying so in its message."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFullError):
            return True
        if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
            return True
        if "no space left on device" in str(current).lower() or "disk quota exceeded" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False


class BusyError(StorybeatError):
    """Another process holds the project's lock."""

    exit_code = 3


class LeaseLostError(BusyError):
    """Another worker took over the project (our lease expired, or a conditional write found a newer file)."""


class CancelledError(StorybeatError):
    """The run was stopped on request (SIGTERM / the UI's Stop button)."""

    exit_code = 130  # as a shell reports a run stopped by Ctrl-C; resumable
