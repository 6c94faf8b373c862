"""The one rule for a refused text step: Gemini's refusal (SAFETY, PROHIBITED_CONTENT...) gives the local result.

Asking again would send the identical request and be refused again (and paid again), so a refused analysis,
storyboard or prompt-writing call is not retried: the local role's result is used and a note says so
(``io.notes``, which the step keeps in its output and the API and UI show).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from engine.providers.base import StepIO
from engine.providers.gemini.client import Refused

log = logging.getLogger(__name__)

T = TypeVar("T")


def refused_note(*, doing: str, local: str, reason: str) -> str:
    """What the user reads, e.g. "Gemini refused to listen (SAFETY): the local analysis is used"."""
    return f"Gemini refused to {doing} ({reason}): the local {local} is used"


def asked_or_refused(ask: Callable[[], T], *, io: StepIO, doing: str, what: str) -> T | None:
    """``ask()``, or None when Gemini refused it (the note added to ``io.notes``): the caller then uses its
    local result. ``doing``: the refused action ("listen"); ``what``: the local result used ("analysis")."""
    try:
        return ask()
    except Refused as exc:
        log.warning("Gemini refused to %s (%s): using the local %s", doing, exc.reason, what)
        io.notes.append(refused_note(doing=doing, local=what, reason=exc.reason))
        return None
