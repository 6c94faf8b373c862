"""The pipeline steps, one module each, keyed by the machine's trigger names."""
from __future__ import annotations

from types import ModuleType

from engine.steps import analyze, draw, prompt, render, segment

STEPS: dict[str, ModuleType] = {
    "analyze": analyze,
    "segment": segment,
    "prompt": prompt,
    "draw": draw,
    "render": render,
}
