"""The Gemini storyboarder: Gemini proposes scenes, the local beat grid decides where they cut.

Gemini answers a :class:`StoryboardAnswer` (structured JSON). Its scene
bounds are only proposals: they are snapped to the analysis' beats and
bounded by the project's scene lengths (:func:`align.snap_scene_cuts`), so
the scenes always cover the track without gaps. Each final scene takes the
visual intent and mood of the proposed scene it overlaps most; its lyrics,
section and energy come from the analysis (the signal), not from Gemini.
An answer that cannot make a storyboard (:class:`UnusableStoryboard`) is
fed back to Gemini in the client's one repair call. A refused request falls
back to the local storyboarder (``base``) with a note in ``io.notes``.
"""
from __future__ import annotations

import logging

from engine.models import Analysis, LyricWord, ProjectSettings, Scene
from engine.providers.base import StepIO, Storyboarder
from engine.providers.gemini.align import best_overlap, proposed_cuts, snap_scene_cuts
from engine.providers.gemini.client import GeminiClient
from engine.providers.gemini.fallback import asked_or_refused
from engine.providers.gemini.router import UsageRouter
from engine.providers.gemini.schemas import StoryboardAnswer
from engine.storyboard import lines_for_scene, mean_energy, mood_for, section_for

log = logging.getLogger(__name__)

MIN_COVERAGE = 0.5  # proposals covering less of the track than this are not a storyboard
SYSTEM = (
    "You are a music-video director. You write storyboards as JSON that follows the given schema. "
    "Times are integer milliseconds from the start of the track."
)


def storyboard_prompt(analysis: Analysis, *, settings: ProjectSettings) -> str:
    """The instruction for the storyboard call (carries ``duration_ms``)."""
    lines = [
        f"Song: duration_ms: {analysis.duration_ms}, {analysis.tempo_bpm:.0f} BPM, mood {analysis.mood or '?'}, "
        f"language {analysis.language or '?'}.",
        f"About the song: {analysis.summary}" if analysis.summary else "",
        f"Visual style of the video: {settings.style}.",
        "Sections:",
        *(f"- {s.label} {s.start_ms}-{s.end_ms} ms, mood {s.mood}, energy {s.energy:.2f}" for s in analysis.sections),
        "Lyrics (start-end ms):" if analysis.lyrics else "The song has no lyrics: tell the story with images only.",
        *(f"- {line.start_ms}-{line.end_ms}: {line.text}" for line in analysis.lyrics),
        "Write the storyboard: scenes in time order that cover the whole track from 0 to duration_ms without gaps "
        "or overlaps.",
        f"Each scene lasts {settings.min_scene_ms}-{settings.max_scene_ms} ms; start a new scene where a lyric line "
        "or a section starts; give instrumental passages their own scenes.",
        "visual_intent: one concrete sentence of what the viewer sees (subject, place, action, camera), following "
        "one recurring protagonist and place so the video tells one story. lyric_text: the words sung in the "
        "scene ('' if none). mood: one word. energy: 0..1.",
    ]
    return "\n".join(line for line in lines if line)


class UnusableStoryboard(ValueError):
    """A storyboard answer that parsed but cannot make scenes (what is wrong, in words for the repair call)."""


def scenes_from_answer(answer: StoryboardAnswer, *, analysis: Analysis, settings: ProjectSettings) -> list[Scene]:
    """Scenes covering the track, cut on the beat grid, from Gemini's proposal (pure).

    Raises UnusableStoryboard when the proposal is unusable: no scene with
    an intent, or proposals covering less than half the track.
    """
    duration = analysis.duration_ms
    proposals = []
    for s in answer.scenes:
        start, end = max(0, min(s.start_ms, duration)), max(0, min(s.end_ms, duration))
        if end > start and s.visual_intent.strip():
            proposals.append((start, end, s))
    if not proposals:
        raise UnusableStoryboard("no scene with start_ms < end_ms inside the track and a visual_intent")
    covered = _union_ms([(a, b) for a, b, _ in proposals])
    if covered < MIN_COVERAGE * duration:
        raise UnusableStoryboard(f"the scenes cover only {covered} of the track's {duration} ms; "
                                 "cover it from 0 to duration_ms without gaps")
    spans = [(a, b) for a, b, _ in proposals]
    lines = sorted(analysis.lyrics, key=lambda line: (line.start_ms, line.index))
    cuts = snap_scene_cuts(
        proposed_cuts(spans, duration_ms=duration), duration_ms=duration, beats_ms=analysis.beats_ms,
        downbeats_ms=analysis.downbeats_ms, energy=analysis.energy,
        lyric_spans=[(line.start_ms, line.end_ms) for line in lines],
        sections=[(s.start_ms, s.end_ms) for s in analysis.sections],
        min_scene_ms=settings.min_scene_ms, max_scene_ms=settings.max_scene_ms,
    )
    scenes: list[Scene] = []
    used: dict[int, int] = {}
    for index, (start_ms, end_ms) in enumerate(zip(cuts, cuts[1:])):
        k = best_overlap(spans, start_ms=start_ms, end_ms=end_ms)
        assert k is not None  # proposals is not empty
        proposal = proposals[k][2]
        repeat = used.get(k, 0)
        used[k] = repeat + 1
        intent = proposal.visual_intent.strip()
        if repeat:
            intent = f"{intent} (continued, a different angle)"
        shown = lines_for_scene(lines, start_ms=start_ms, end_ms=end_ms, duration_ms=duration)
        words: list[LyricWord] = [w for line in shown for w in line.words if w.end_ms > start_ms and w.start_ms < end_ms]
        section = section_for(analysis.sections, start_ms=start_ms, end_ms=end_ms)
        energy = round(mean_energy(analysis.energy, start_ms=start_ms, end_ms=end_ms), 4)
        mood = proposal.mood.strip()[:40] or mood_for(section=section, analysis_mood=analysis.mood, energy=energy)
        scenes.append(Scene(
            id=f"seg_{index + 1:03d}", index=index, start_ms=start_ms, end_ms=end_ms,
            lyric_text="\n".join(line.text for line in shown), visual_intent=intent[:2000], mood=mood, energy=energy,
            section=section.label if section is not None else "main", words=words,
        ))
    return scenes


def _union_ms(spans: list[tuple[int, int]]) -> int:
    total, reach = 0, 0
    for a, b in sorted(spans):
        a = max(a, reach)
        if b > a:
            total += b - a
            reach = b
    return total


class GeminiStoryboarder:
    """:class:`engine.providers.base.Storyboarder` asking Gemini for scenes, cut on the local beat grid."""

    name = "gemini"

    def __init__(self, client: GeminiClient, *, model: str, router: UsageRouter,
                 base: Storyboarder | None = None) -> None:
        self.client = client
        self.model = model
        self.router = router
        self.base = base  # the fallback when Gemini refuses (None: the refusal is raised)
        self.version = f"1+{model}"

    def storyboard(self, analysis: Analysis, *, settings: ProjectSettings, io: StepIO) -> list[Scene]:
        """One structured call (plus at most one repair) checked by :func:`scenes_from_answer`."""
        made: list[Scene] = []

        def check(answer: StoryboardAnswer) -> None:
            made[:] = scenes_from_answer(answer, analysis=analysis, settings=settings)

        def ask() -> StoryboardAnswer:
            with self.router.to(io):
                return self.client.generate_json(
                    self.model, contents=[storyboard_prompt(analysis, settings=settings)], schema=StoryboardAnswer,
                    system=SYSTEM, temperature=0.6, check=check, should_stop=io.should_stop,
                )

        if self.base is None:
            answer = ask()
        else:
            asked = asked_or_refused(ask, io=io, doing="write the storyboard", what="storyboard")
            if asked is None:
                return self.base.storyboard(analysis, settings=settings, io=io)
            answer = asked
        log.info("storyboard: %d proposed, %d scenes after snapping", len(answer.scenes), len(made))
        return list(made)
