"""The engine's error hierarchy: every failure the engine raises is a StorybeatError."""
from __future__ import annotations


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


class BusyError(StorybeatError):
    """Another process holds the project's lock."""

    exit_code = 3


class CancelledError(StorybeatError):
    """The run was stopped on request (SIGTERM / the UI's Stop button)."""

    exit_code = 130  # as a shell reports a run stopped by Ctrl-C; resumable
