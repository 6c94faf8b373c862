"""Every noun the local writer can put in a prompt is drawn by the local illustrator (or not named).

The writer's phrases are read from its tables (``vocab.py``); every word of them must be a drawable thing of
the one registry (``drawable.THINGS``), or a word that names no thing (``drawable.NOT_THINGS``), or a stop
word. Then each phrase, as a scene's words, makes a plan that holds an element for each thing it names.
"""
from __future__ import annotations

import re

import pytest

from engine.providers.local import vocab
from engine.providers.local.drawable import NOT_THINGS, SHOT_PHRASES, THINGS
from engine.providers.local.paint_plan import Plan, camera_shot, plan_scene


def _flatten(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [p for v in value.values() for p in _flatten(v)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [p for v in value for p in _flatten(v)]
    return []


SCENE_PHRASES = sorted(set(_flatten([vocab.IMAGERY, vocab.ABSTRACT, vocab.SECTION_IMAGERY, vocab.SCENE_PLACES,
                                     vocab.SETTINGS, vocab.DEFAULT_SETTINGS])))
SUBJECT_PHRASES = sorted(set(_flatten([vocab.SUBJECTS, [s for _, s in vocab.SUBJECT_BY_MOOD], vocab.DEFAULT_SUBJECT])))
OTHER_PHRASES = sorted(set(_flatten([vocab.SECTION_CUES, vocab.ACTIONS, [c.format("") for c in vocab.CONNECTORS],
                                     [v for _, v in vocab.LIGHTING_BY_MOOD], vocab.LIGHTING_BY_ENERGY, vocab.CHORUS_LIGHT,
                                     list(SHOT_PHRASES.values())])))


def words(phrase: str) -> list[str]:
    found = [w.removesuffix("'s").strip("'") for w in re.findall(r"[a-z][a-z'\-]*", phrase.lower())]
    return [w for w in found if w not in vocab.STOPWORDS]


def unknown(phrase: str) -> list[str]:
    out = []
    for w in words(phrase):
        parts = [w, *w.split("-")] if "-" in w else [w]
        if not any(p in THINGS or p in NOT_THINGS or p in vocab.STOPWORDS or len(p) <= 2 for p in parts):
            out.append(w)
    return out


def test_every_word_the_writer_writes_is_a_drawable_thing_or_names_none() -> None:
    bad = {p: unknown(p) for p in [*SCENE_PHRASES, *SUBJECT_PHRASES, *OTHER_PHRASES] if unknown(p)}
    assert not bad, f"nouns the illustrator cannot draw (add a painter to drawable.py, or do not name them): {bad}"


def drawn(plan: Plan, layer: str, element: str, *, named: set[tuple[str, str]]) -> bool:
    """Whether the plan draws ``element``. A picture has one sky and one shot: when a phrase names several
    (clouds and stars, a street of windows), the one drawn must be one of those it names."""
    skies = {e for lay, e in named if lay == "sky"}
    shots = {e for lay, e in named if lay == "shot"}
    return {
        "sky": element == "any" or plan.sky in skies or (element == "storm" and "rain" in plan.particles),
        "ground": element in plan.grounds or (element == "city" and plan.shot in ("street", "facade")),
        "light": element in plan.lights,
        "subject": element in plan.subjects,
        "particle": element in plan.particles,
        "cast": True,  # drawn as the cast's figure in every scene (tests/engine/test_cast_consistency.py)
        "shot": plan.shot in shots,
        "pose": plan.pose == element,
    }[layer]


@pytest.mark.parametrize("phrase", SCENE_PHRASES + SUBJECT_PHRASES)
def test_each_thing_a_phrase_names_is_in_its_picture(phrase: str) -> None:
    plan = plan_scene(prompt=f"{phrase}.", mood="calm", energy=0.5, style="synthwave", seed=3, version=1)
    named = {pair for w in words(phrase) for pair in THINGS.get(w, [])}
    missing = [w for w in words(phrase) if w in THINGS and not any(drawn(plan, *pair, named=named) for pair in THINGS[w])]
    assert not missing, f"{phrase!r}: {missing} named but not drawn ({plan})"


def test_every_shot_phrase_is_read_back_as_its_shot() -> None:
    for shot, phrase in SHOT_PHRASES.items():
        assert camera_shot(phrase) == shot
        prompt = f"A figure waits. Setting: a sprawling city of towers. Soft light, {phrase}."
        assert plan_scene(prompt=prompt, mood="calm", energy=0.5, style="noir", seed=1, version=1).shot == shot


def test_a_lyric_word_without_a_picture_is_not_named() -> None:
    from engine.models import Analysis, EnergyCurve, Scene
    from engine.providers.local.writer import visual_intent_for

    analysis = Analysis(duration_ms=10_000, tempo_bpm=120, beats_ms=[], downbeats_ms=[], sections=[], energy=EnergyCurve(hop_ms=50, rms=[0.5], onset=[0.5], brightness=[0.5]))
    draft = Scene(id="seg_001", index=0, start_ms=0, end_ms=4000, lyric_text="my motorbike thunders", visual_intent="",
                  mood="driving", energy=0.9, section="verse")
    intent = visual_intent_for(draft, analysis=analysis, index=0)
    assert "motorbike" not in intent.lower() and not unknown(intent.lower()), intent
