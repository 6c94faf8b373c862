"""Structured-output schemas: what the Gemini text model is asked to answer.

These are deliberately plain pydantic models (no ``extra="forbid"``, no dicts,
no unions beyond ``X | None``) so that the SDK can turn them into Gemini's
``responseSchema`` without losing anything. The provider maps them onto the
engine's own models (``engine.models``) after validating the timing.
"""
from __future__ import annotations

from pydantic import BaseModel, Field


class AnswerLyricLine(BaseModel):
    """A transcribed lyric line with Gemini's (unreliable) timestamps."""

    text: str
    start_ms: int = Field(ge=0)
    end_ms: int = Field(ge=0)


class AnswerSection(BaseModel):
    """A musical section as Gemini hears it."""

    label: str
    start_ms: int = Field(ge=0)
    end_ms: int = Field(ge=0)
    mood: str
    energy: float = Field(ge=0.0, le=1.0)


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

    start_ms: int = Field(ge=0)
    end_ms: int = Field(ge=0)
    lyric_text: str
    visual_intent: str
    mood: str
    energy: float = Field(ge=0.0, le=1.0)


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
