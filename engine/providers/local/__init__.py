"""The offline provider: librosa analysis, beat-grid storyboard, template writer, procedural illustrator."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from engine.audio.lyrics import ParsedPlain, parse_lyrics, place_plain_lines
from engine.cast import CastPicture
from engine.models import Analysis, CastMember, LyricLine, ProjectSettings, PromptVersion, Scene, StyleBible
from engine.providers.base import Drawing, Provider, StepIO
from engine.providers.local.illustrator import ILLUSTRATOR_VERSION, draw_reference, draw_scene
from engine.providers.local.storyboard import LocalStoryboarder
from engine.providers.local.writer import LocalWriter


class LocalAnalyst:
    """Real signal analysis (tempo, beats, energy, key, sections) plus user lyrics (LRC or plain text)."""

    name = "local"
    # 2: lyrics parsing (words before the first word tag, same-time lines, BOM); 3: madmom beats;
    # 4: plain lyrics aligned to the voice (engine/audio/align.py), timing + confidence per line
    version = "4"

    def analyze(self, *, wav: Path, lyrics_text: str | None, settings: ProjectSettings, io: StepIO) -> Analysis:
        """Analyse the normalised track; time the lyrics (LRC as given, plain text on the vocal parts)."""
        from engine.audio.features import load_and_analyze, to_analysis  # deferred: librosa and numba load slowly

        features = load_and_analyze(wav, progress=io.on_progress)
        analysis = to_analysis(features, provider=self.name)
        if lyrics_text and lyrics_text.strip():
            io.on_progress(0.9, "aligning the lyrics to the voice")
            analysis.lyrics = timed_lyrics(lyrics_text, analysis=analysis, wav=wav)
        return analysis


def timed_lyrics(text: str, *, analysis: Analysis, wav: Path | None = None) -> list[LyricLine]:
    """User lyrics with times: LRC as given; plain text aligned to the voice in ``wav`` where the aligner is
    confident, else spread over the vocal sections on beats (``timing="estimated"``)."""
    parsed = parse_lyrics(text, duration_ms=analysis.duration_ms)
    if isinstance(parsed, ParsedPlain):
        estimate = place_plain_lines(
            parsed.lines, duration_ms=analysis.duration_ms, energy=analysis.energy,
            beats_ms=analysis.beats_ms, sections=analysis.sections,
        )
        if wav is None:
            return estimate
        from engine.audio.align import align_wav  # deferred: pocketsphinx loads on first use

        return align_wav(wav, estimate, duration_ms=analysis.duration_ms, sections=analysis.sections)
    return parsed


class LocalIllustrator:
    """The procedural numpy + Pillow illustrator: deterministic from prompt, seed and version."""

    name = "local"
    version = ILLUSTRATOR_VERSION

    def model_for(self, settings: ProjectSettings) -> str:
        """The local illustrator has one 'model' regardless of quality."""
        return "procedural"

    def draw(
        self, *, scene: Scene, prompt: PromptVersion, bible: StyleBible, settings: ProjectSettings,
        width: int, height: int, seed: int, io: StepIO, cast: Sequence[CastPicture] = (),
        previous_png: bytes | None = None,
    ) -> Drawing:
        """Draw the scene's picture for this prompt version, its cast in their own look (the previous picture is not used)."""
        image = draw_scene(
            prompt=prompt.image_prompt, mood=scene.mood, energy=scene.energy, style=bible.preset,
            seed=seed, version=prompt.restored_from or prompt.version, width=width, height=height,
            cast=[c.member for c in cast],
        )
        return Drawing(png=None, image=image, model="procedural")

    def draw_reference(
        self, *, member: CastMember, bible: StyleBible, settings: ProjectSettings, width: int, height: int, seed: int,
        io: StepIO,
    ) -> Drawing:
        """The member's figure, standing, on a plain ground in the style's colours."""
        image = draw_reference(member=member, style=bible.preset, seed=seed, width=width, height=height)
        return Drawing(png=None, image=image, model="procedural")


@functools.cache
def local_provider() -> Provider:
    """The offline provider bundle."""
    return Provider(
        name="local", analyst=LocalAnalyst(), storyboarder=LocalStoryboarder(), writer=LocalWriter(),
        illustrator=LocalIllustrator(),
    )
