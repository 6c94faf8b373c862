"""The one retry policy: what is retried, by which layer, and how long to wait.

* **What**: a :class:`engine.errors.ProviderError` with ``transient=True``
  (429, 5xx, timeouts, dropped connections, unusable answers, a storyboard or
  prompts that came back incomplete). Anything else fails at once.
* **Which layer, once**: a failure is retried where it happens, never again
  on top. The Gemini client retries one call (its own attempts, waiting at
  least the server's retry delay); when they run out it raises with
  ``retried=True`` and the runner does not retry the step for it: the project
  goes to ``FAILED`` with the reason. The runner retries a step
  (``STORYBEAT_STEP_ATTEMPTS``, counted in the job file so a crash loop still
  gives up) for transient errors no lower layer retried: a step's own checks,
  providers without a retry of their own, and a call whose server asked for a
  longer pause than the client sleeps.
* **How long**: :func:`backoff_s`, for both layers.
"""
from __future__ import annotations

import random

from engine.errors import ProviderError

_rng = random.Random()


def retryable(exc: BaseException) -> bool:
    """A transient provider error that no lower layer has retried yet."""
    return isinstance(exc, ProviderError) and exc.transient and not exc.retried


def backoff_s(*, attempt: int, initial_s: float, max_s: float, retry_after_s: float | None = None,
              rng: random.Random | None = None) -> float:
    """Seconds to wait before try ``attempt + 1``: the server's delay if given, else
    exponential (``initial_s * 2**(attempt-1)``, capped at ``max_s``), plus up to 10 % jitter."""
    if retry_after_s is not None:
        base = retry_after_s
    else:
        base = min(max_s, initial_s * 2 ** max(attempt - 1, 0))
    return base + (rng or _rng).uniform(0.0, 0.1 * base)
