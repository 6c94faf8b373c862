"""Docs stay true: the state diagram in docs/architecture.md is the machine's own export."""
from __future__ import annotations

from pathlib import Path

from engine import machine

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_architecture_diagram_matches_the_machine() -> None:
    text = DOC.read_text()
    block = text.split("<!-- machine:begin -->", 1)[1].split("<!-- machine:end -->", 1)[0]
    diagram = block.strip().removeprefix("```mermaid").removesuffix("```").strip()
    assert diagram == machine.mermaid().strip(), "run: python -m engine machine --mermaid, and paste into docs/architecture.md"
