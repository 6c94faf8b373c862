"""Test doubles that speak real wire protocols (no mocking of SDK objects).

``fake_gemini`` is a pytest fixture; import it into a test module
(``from tests.fakes import fake_gemini``) or a conftest to use it.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.gemini_server import DEFAULT_API_KEY, Fault, FakeGemini

__all__ = ["DEFAULT_API_KEY", "Fault", "FakeGemini", "fake_gemini"]


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    """A running fake Gemini server on a free loopback port, stopped after the test."""
    with FakeGemini(processing_polls=1) as fake:
        yield fake
