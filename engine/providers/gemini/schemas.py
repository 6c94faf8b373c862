"""Structured-output schemas: what the Gemini text model is asked to answer.

These are deliberately plain pydantic models (no ``extra="forbid"``, no dicts,
no unions beyond ``X | None``) so that the SDK can turn them into Gemini's
``responseSchema`` without losing anything. The provider maps them onto the
engine's own models (``engine.models``) after validating the timing.

Out-of-range numbers are **clamped, not rejected** (a negative timestamp
becomes 0, an energy of 1.7 becomes 1.0, ``"1234"`` or ``1234.6`` ms become
an integer): one odd value must not cost a repair call or the whole answer.
The timing is repaired later against the signal anyway (``align.py``).
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return value  # not a number: the schema's error says so
    return value


def clamp_ms(value: Any) -> Any:
    """A time in ms as a non-negative integer (rounded; numeric strings accepted)."""
    value = _number(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        return max(0, round(value))
    return value


def clamp_unit(value: Any) -> Any:
    """A 0..1 value (numeric strings accepted; out of range clamped)."""
    value = _number(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        return min(1.0, max(0.0, float(value)))
    return value


Ms = Annotated[int, BeforeValidator(clamp_ms)]
Unit = Annotated[float, BeforeValidator(clamp_unit)]


class AnswerLyricLine(BaseModel):
    """A transcribed lyric line with Gemini's (unreliable) timestamps."""

    text: str
    start_ms: Ms
    end_ms: Ms


class AnswerSection(BaseModel):
    """A musical section as Gemini hears it."""

    label: str
    start_ms: Ms
    end_ms: Ms
    mood: str
    energy: Unit


class AnalysisAnswer(BaseModel):
    """Answer of the listening step (audio in, words and moods out)."""

    language: str
    mood: str
    genre: str
    summary: str
    lyrics: list[AnswerLyricLine]
    sections: list[AnswerSection]


class AnswerScene(BaseModel):
    """One storyboard scene proposed by Gemini."""

    start_ms: Ms
    end_ms: Ms
    lyric_text: str
    visual_intent: str
    mood: str
    energy: Unit


class StoryboardAnswer(BaseModel):
    """Answer of the storyboard step."""

    scenes: list[AnswerScene]


class AnswerStyleBible(BaseModel):
    """The project-wide look Gemini proposes."""

    palette: list[str]
    setting: str
    subject: str
    look: str
    negative: str


class AnswerPrompt(BaseModel):
    """The image prompt for one scene, keyed by the scene id (seg_001)."""

    id: str
    image_prompt: str
    negative_prompt: str
    style_hints: list[str]


class PromptsAnswer(BaseModel):
    """Answer of the prompt-writing step."""

    style_bible: AnswerStyleBible
    scenes: list[AnswerPrompt]
