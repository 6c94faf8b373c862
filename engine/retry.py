"""The one retry policy: what is retried, by which layer, and how long to wait.

* **What**: a :class:`engine.errors.ProviderError` with ``transient=True``
  (429, 5xx, timeouts, dropped connections, unusable answers, a storyboard or
  prompts that came back incomplete). Anything else fails at once.
* **Which layer, once**: a failure is retried where it happens, never again
  on top. The Gemini client is the only layer that retries a Gemini call:
  transport errors and 429/5xx (unbilled) with backoff that honours the
  server's retry delay, capped (``STORYBEAT_GEMINI_MAX_WAIT_S``); a bad
  answer gets exactly one repair call (paid). Everything it gives up on
  carries ``retried=True``, so the runner does not retry the step for it: the
  project goes to ``FAILED`` with the reason. The runner counts step attempts
  (``STORYBEAT_STEP_ATTEMPTS``, in the job file, so a crash loop still gives
  up) and retries a step only for transient errors no lower layer retried: a
  step's own checks, providers without a retry of their own. Its waits are
  capped at ``STORYBEAT_RETRY_MAX_S`` and end at once on Stop.
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
