"""The Gemini prompt writer: a style bible for the whole video and one image prompt per scene.

One structured call (:class:`PromptsAnswer`) returns both the bible and the
prompts. :meth:`GeminiWriter.style_bible` makes that call and keeps the
prompts it got; :meth:`GeminiWriter.write` hands them out for the same
scenes and bible, and asks again only for scenes it has no prompt for
(e.g. after an edit, with the saved bible). Answers are validated: a bad
palette falls back to the style preset's, an empty prompt counts as missing
(and is asked for in the client's one repair call). A refused call gives the
local writer's bible and prompts with a note (``fallback.asked_or_refused``,
the rule of every text step), and the same bible's later prompts are written
locally too without asking again.
"""
from __future__ import annotations

import json
import logging
import re

from engine.errors import ProviderError
from engine.models import Analysis, ProjectSettings, Scene, StyleBible
from engine.providers.base import PromptWriter, StepIO
from engine.providers.gemini.client import GeminiClient
from engine.providers.gemini.fallback import asked_or_refused
from engine.providers.gemini.router import UsageRouter
from engine.providers.gemini.schemas import AnswerPrompt, AnswerStyleBible, PromptsAnswer
from engine.styles import StylePreset, get_preset

log = logging.getLogger(__name__)

HEX_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_HINTS = 8
SYSTEM = (
    "You are the art director of a music video. You write a style bible that keeps every picture consistent, "
    "and one text-to-image prompt per scene, as JSON that follows the given schema."
)

PromptTriple = tuple[str, str, list[str]]


def scene_key(scene: Scene) -> str:
    """What a prompt for ``scene`` depends on (its content, not the user's edited flag)."""
    return json.dumps(scene.model_dump(mode="json", exclude={"edited"}), sort_keys=True)


def _bible_text(bible: StyleBible) -> str:
    return (f"palette {', '.join(bible.palette)}; setting: {bible.setting}; recurring subject: {bible.subject}; "
            f"look: {bible.look}; avoid: {bible.negative}")


def prompts_prompt(scenes: list[Scene], *, settings: ProjectSettings, analysis: Analysis | None,
                   bible: StyleBible | None) -> str:
    """The instruction for the prompts call; lists every scene by id (``seg_NNN``)."""
    preset = get_preset(settings.style)
    lines = [f"Style preset: {preset.label}: {preset.description} Keywords: {preset.keywords}."]
    if analysis is not None:
        lines.append(f"Song: mood {analysis.mood or '?'}, {analysis.tempo_bpm:.0f} BPM. {analysis.summary}")
    if bible is None:
        lines.append("First write the style bible for the whole video: palette (4-6 hex colours like #1a2b3c), "
                     "setting, recurring subject, look (medium, lighting, lens), negative (what never to show).")
    else:
        lines.append(f"The style bible is fixed; repeat it unchanged and follow it: {_bible_text(bible)}")
    lines.append("Then one prompt per scene below, keyed by its id: image_prompt (one paragraph: subject, action, "
                 "place, composition, light; no text or lettering in the picture), negative_prompt, style_hints "
                 "(2-5 short tags).")
    lines.append("Scenes:")
    for s in scenes:
        lyric = s.lyric_text.replace("\n", " / ") or "(instrumental)"
        lines.append(f"- {s.id} [{s.start_ms}-{s.end_ms} ms] {s.section}, mood {s.mood}, energy {s.energy:.2f}; "
                     f"lyrics: {lyric}; intent: {s.visual_intent}")
    return "\n".join(lines)


def _merge_negative(*parts: str) -> str:
    seen: dict[str, None] = {}
    for part in parts:
        for item in part.split(","):
            item = item.strip()
            if item and item.lower() not in {k.lower() for k in seen}:
                seen[item] = None
    return ", ".join(seen)


def bible_from_answer(answer: AnswerStyleBible, *, preset: StylePreset) -> StyleBible:
    """A StyleBible from Gemini's proposal, with the preset's palette/negative as a safety net (pure)."""
    palette = [c.lower() for c in answer.palette if HEX_RE.match(c.strip())][:6]
    if len(palette) < 3:
        palette = list(preset.palette)
    return StyleBible(
        preset=preset.id,
        palette=palette,
        setting=answer.setting.strip()[:500] or preset.description,
        subject=answer.subject.strip()[:500] or "a lone figure",
        look=answer.look.strip()[:500] or preset.keywords,
        negative=_merge_negative(preset.negative, answer.negative)[:1000],
    )


def prompts_from_answer(answers: list[AnswerPrompt], scenes: list[Scene], *, bible: StyleBible) -> dict[str, PromptTriple]:
    """(image_prompt, negative_prompt, style_hints) per scene id that got a non-empty prompt (pure)."""
    wanted = {s.id for s in scenes}
    out: dict[str, PromptTriple] = {}
    for a in answers:
        sid = a.id.strip()
        text = " ".join(a.image_prompt.split())
        if sid not in wanted or not text or sid in out:
            continue
        hints = [h.strip()[:60] for h in a.style_hints if h.strip()][:MAX_HINTS]
        out[sid] = (text[:4000], _merge_negative(a.negative_prompt, bible.negative)[:1000], hints)
    return out


class GeminiWriter:
    """:class:`engine.providers.base.PromptWriter` over one structured Gemini call per step."""

    name = "gemini"

    def __init__(self, client: GeminiClient, *, model: str, router: UsageRouter, base: PromptWriter | None = None) -> None:
        self.client = client
        self.model = model
        self.router = router
        self.base = base  # the fallback when Gemini refuses (None: the refusal is raised)
        self.version = f"1+{model}"
        # the bible of the last style_bible call and the prompts it brought (None: refused, written locally)
        self._pending: tuple[StyleBible, dict[str, PromptTriple] | None] | None = None

    def _ask(self, scenes: list[Scene], *, settings: ProjectSettings, analysis: Analysis | None,
             bible: StyleBible | None, io: StepIO) -> PromptsAnswer | None:
        """One prompts call; None when Gemini refused it and the local writer is to be used (a note added)."""
        def check(answer: PromptsAnswer) -> None:
            given = {a.id.strip() for a in answer.scenes if " ".join(a.image_prompt.split())}
            missing = [s.id for s in scenes if s.id not in given]
            if missing:
                raise ValueError(f"no image_prompt for {', '.join(missing[:20])}: write one for every scene id")

        def ask() -> PromptsAnswer:
            with self.router.to(io):
                return self.client.generate_json(
                    self.model, contents=[prompts_prompt(scenes, settings=settings, analysis=analysis, bible=bible)],
                    schema=PromptsAnswer, system=SYSTEM, temperature=0.7, check=check, should_stop=io.should_stop,
                )

        if self.base is None:
            return ask()
        return asked_or_refused(ask, io=io, doing="write the prompts", what="prompt writer")

    def style_bible(self, analysis: Analysis, scenes: list[Scene], *, settings: ProjectSettings, io: StepIO) -> StyleBible:
        """The bible (and, kept for :meth:`write`, the prompts of ``scenes``) from one call."""
        answer = self._ask(scenes, settings=settings, analysis=analysis, bible=None, io=io)
        if answer is None:
            assert self.base is not None
            bible = self.base.style_bible(analysis, scenes, settings=settings, io=io)
            self._pending = (bible, None)
            return bible
        bible = bible_from_answer(answer.style_bible, preset=get_preset(settings.style))
        by_id = prompts_from_answer(answer.scenes, scenes, bible=bible)
        self._pending = (bible, {scene_key(s): by_id[s.id] for s in scenes if s.id in by_id})
        return bible

    def write(self, scenes: list[Scene], *, bible: StyleBible, settings: ProjectSettings, io: StepIO) -> dict[str, PromptTriple]:
        """A prompt per scene: those kept from :meth:`style_bible`, one more call for the rest.

        A scene missing from an answer is asked for in the client's one repair call;
        ProviderError(retried=True) when one is still missing after it.
        """
        out: dict[str, PromptTriple] = {}
        refused = False
        if self._pending is not None and self._pending[0] == bible:
            cached = self._pending[1]
            refused = cached is None
            out = {s.id: cached[scene_key(s)] for s in scenes if cached is not None and scene_key(s) in cached}
        missing = [s for s in scenes if s.id not in out]
        answer = self._ask(missing, settings=settings, analysis=None, bible=bible, io=io) if missing and not refused else None
        if answer is not None:
            out.update(prompts_from_answer(answer.scenes, missing, bible=bible))
        elif missing:  # refused now, or the bible's call was: the local writer writes them
            assert self.base is not None
            out.update(self.base.write(missing, bible=bible, settings=settings, io=io))
        self._pending = None
        still = [s.id for s in scenes if s.id not in out]
        if still:
            raise ProviderError(f"Gemini gave no prompt for {', '.join(still[:5])}", transient=True, retried=True)
        return out
