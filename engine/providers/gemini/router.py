"""Routing the shared Gemini client's usage reports to the step that is running."""
from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from engine.providers.base import StepIO
from engine.usage import UsageDelta, UsageSink

log = logging.getLogger(__name__)


class UsageRouter:
    """The client's ``on_usage``: forwards each call's usage to the sink of the step now running."""

    def __init__(self) -> None:
        self._sink: UsageSink | None = None
        self._lock = threading.Lock()

    def __call__(self, delta: UsageDelta) -> None:
        with self._lock:
            sink = self._sink
        if sink is None:
            log.debug("usage outside a step: %s", delta)
            return
        sink(delta)

    @contextlib.contextmanager
    def to(self, io: StepIO) -> Iterator[None]:
        """Send usage to ``io.on_usage`` while the block runs."""
        with self._lock:
            previous, self._sink = self._sink, io.on_usage
        try:
            yield
        finally:
            with self._lock:
                self._sink = previous
