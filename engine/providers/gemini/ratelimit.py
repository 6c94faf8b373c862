"""A thread-safe sliding-window limit on requests per minute."""
from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class RateLimiter:
    """Allow at most ``requests_per_minute`` acquisitions in any ``window_s`` window.

    ``clock`` and ``sleep`` are injectable so tests run on a fake clock; the
    real ones are :func:`time.monotonic` and :func:`time.sleep`. A limit of 0
    or less means no limit.
    """

    def __init__(
        self,
        *,
        requests_per_minute: int,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.requests_per_minute = requests_per_minute
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._stamps: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one slot, sleeping until one is free; return the seconds waited.

        Waiting happens under the lock, so concurrent callers queue up in
        order instead of racing for the next free slot.
        """
        if self.requests_per_minute <= 0:
            return 0.0
        waited_s = 0.0
        with self._lock:
            while True:
                now_s = self._clock()
                while self._stamps and self._stamps[0] <= now_s - self.window_s:
                    self._stamps.popleft()
                if len(self._stamps) < self.requests_per_minute:
                    self._stamps.append(now_s)
                    return waited_s
                wait_s = max(self._stamps[0] + self.window_s - now_s, 1e-3)
                logger.info("rate limit %d/min reached, waiting %.2f s", self.requests_per_minute, wait_s)
                self._sleep(wait_s)
                waited_s += wait_s
