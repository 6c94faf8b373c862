"""The local writer: deterministic intents, style bibles and prompts that follow the lyrics and the preset."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.models import LyricLine, ProjectSettings, Scene
from engine.providers.base import StepIO
from engine.providers.local import vocab
from engine.providers.local.drawable import SHOT_PHRASES
from engine.providers.local.writer import (
    shot_for,
    LocalWriter,
    colour_names,
    images_in,
    recurring_subject,
    stem,
    style_bible_for,
    visual_intent_for,
    write_prompt,
)
from engine.providers.local.storyboard import build_scenes
from engine.styles import PRESETS
from tests.engine.test_storyboard import synthetic_analysis

ROOT = Path(__file__).resolve().parents[2]


def scene(*, index: int = 0, lyric: str = "", section: str = "verse", mood: str = "calm", energy: float = 0.5, intent: str = "") -> Scene:
    return Scene(
        id=f"seg_{index + 1:03d}", index=index, start_ms=index * 4000, end_ms=index * 4000 + 4000,
        lyric_text=lyric, visual_intent=intent, mood=mood, energy=energy, section=section,
    )


def with_intent(draft: Scene, analysis) -> Scene:
    return draft.model_copy(update={"visual_intent": visual_intent_for(draft, analysis=analysis, index=draft.index)})


def test_stem_matches_the_vocabulary():
    assert stem("stars") == "star"
    assert stem("burning") == "burn"
    assert stem("cried") == "cry"
    assert stem("running") == "run"
    assert stem("dancing") == "dance"
    assert stem("waves") == "wave"
    assert stem("nights") == "night"
    assert stem("xylophone") == "xylophone"


def test_images_prefer_concrete_words_and_map_abstract_ones():
    assert images_in("I feel the love, rain on the city") == [vocab.IMAGERY["rain"], vocab.IMAGERY["city"], vocab.ABSTRACT["feel"], vocab.ABSTRACT["love"]]
    assert images_in("oh yeah la la la") == []


def test_known_imagery_words_surface_in_the_prompt():
    analysis = synthetic_analysis()
    bible = style_bible_for(analysis, preset_id="synthwave", seed=0)
    s = with_intent(scene(lyric="Rain falls on the city tonight under the moon"), analysis)
    prompt, negative, hints = write_prompt(s, bible=bible)
    for word in ("rain", "city"):
        assert word in s.visual_intent.lower()
        assert word in prompt.lower()
    assert vocab.ABSTRACT["love"] in write_prompt(with_intent(scene(lyric="All my love"), analysis), bible=bible)[0]
    assert bible.subject in prompt.lower()
    assert bible.setting in prompt
    assert PRESETS["synthwave"].keywords in prompt.lower()
    assert negative == PRESETS["synthwave"].negative
    assert hints[0] == "synthwave"


def test_intent_is_one_sentence_with_the_subject():
    analysis = synthetic_analysis()
    intent = visual_intent_for(scene(lyric="Your heart is a fire in the dark"), analysis=analysis, index=3)
    assert intent.endswith(".") and intent.count(".") == 1 and "\n" not in intent
    assert intent.startswith(recurring_subject(analysis)[0].upper() + recurring_subject(analysis)[1:])
    assert "heart" in intent and "flames" in intent


def test_same_input_same_output():
    analysis = synthetic_analysis()
    copy = analysis.model_copy(deep=True)
    draft = scene(index=4, lyric="We dance beneath a thousand stars", section="chorus", mood="euphoric", energy=0.9)
    assert visual_intent_for(draft, analysis=analysis, index=4) == visual_intent_for(draft, analysis=copy, index=4)
    assert style_bible_for(analysis, preset_id="noir", seed=7) == style_bible_for(copy, preset_id="noir", seed=7)
    s = with_intent(draft, analysis)
    bible = style_bible_for(analysis, preset_id="noir", seed=7)
    assert write_prompt(s, bible=bible) == write_prompt(s.model_copy(deep=True), bible=bible.model_copy(deep=True))


def test_output_does_not_depend_on_the_interpreter_hash_seed():
    code = (
        "import json\n"
        "from tests.engine.test_storyboard import synthetic_analysis\n"
        "from engine.providers.local.storyboard import build_scenes\n"
        "from engine.providers.local.writer import style_bible_for, write_prompt\n"
        "a = synthetic_analysis(); b = style_bible_for(a, preset_id='cosmic', seed=3)\n"
        "s = build_scenes(a, min_scene_ms=2500, max_scene_ms=8000)\n"
        "print(json.dumps([b.model_dump(), [x.visual_intent for x in s], [write_prompt(x, bible=b) for x in s]]))\n"
    )
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        outs.append(json.loads(done.stdout))
    assert outs[0] == outs[1]


def test_different_scenes_get_different_intents_and_prompts():
    analysis = synthetic_analysis()
    scenes = build_scenes(analysis, min_scene_ms=2500, max_scene_ms=8000)
    bible = style_bible_for(analysis, preset_id="watercolor", seed=0)
    prompts = [write_prompt(s, bible=bible)[0] for s in scenes]
    assert len(set(prompts)) == len(prompts)
    instrumental = [s for s in scenes if not s.lyric_text]
    assert len(instrumental) >= 3
    assert len({s.visual_intent for s in instrumental}) == len(instrumental)


def test_instrumental_scenes_without_any_lyrics_still_vary():
    analysis = synthetic_analysis(with_lyrics=False)
    drafts = [scene(index=i, section="chorus" if i % 2 else "intro", energy=(i % 10) / 10) for i in range(35)]
    intents = [visual_intent_for(d, analysis=analysis, index=d.index) for d in drafts]
    assert len(set(intents)) == len(intents)
    assert any(img in intents[1] for img in vocab.SECTION_IMAGERY["chorus"])


def test_every_preset_gives_a_different_prompt():
    analysis = synthetic_analysis()
    s = with_intent(scene(lyric="Neon rain is falling on the city"), analysis)
    results = {pid: write_prompt(s, bible=style_bible_for(analysis, preset_id=pid, seed=0)) for pid in PRESETS}
    assert len({r[0] for r in results.values()}) == len(PRESETS)
    assert len({r[1] for r in results.values()}) == len(PRESETS)
    for pid, (prompt, negative, _hints) in results.items():
        assert PRESETS[pid].keywords[:1].upper() + PRESETS[pid].keywords[1:] in prompt
        assert negative == PRESETS[pid].negative


def test_lighting_and_camera_follow_mood_and_energy():
    analysis = synthetic_analysis()
    bible = style_bible_for(analysis, preset_id="geometric", seed=0)
    calm = write_prompt(with_intent(scene(mood="melancholic", energy=0.1), analysis), bible=bible)
    wild = write_prompt(with_intent(scene(mood="euphoric", energy=0.95), analysis), bible=bible)
    calm_shot = shot_for(section="verse", energy=0.1, index=0, setting=bible.setting)
    wild_shot = shot_for(section="verse", energy=0.95, index=0, setting=bible.setting)
    assert "cool blue twilight" in calm[0].lower() and SHOT_PHRASES[calm_shot] in calm[0]
    assert "lens flares" in wild[0] and SHOT_PHRASES[wild_shot] in wild[0]
    assert "quiet" in calm[0] and "quiet" not in wild[0] and "fierce" in wild[0]  # a loud verse is not "quiet"


def test_style_bible_follows_preset_lyrics_and_seed():
    analysis = synthetic_analysis()
    for pid, preset in PRESETS.items():
        bible = style_bible_for(analysis, preset_id=pid, seed=0)
        assert bible.palette == list(preset.palette) and bible.look == preset.keywords and bible.negative == preset.negative
    with pytest.raises(InputError):
        style_bible_for(analysis, preset_id="vaporwave", seed=0)
    she = analysis.model_copy(update={"lyrics": [
        LyricLine(index=0, text="She walks by the sea", start_ms=1000, end_ms=3000),
        LyricLine(index=1, text="Her eyes like waves on the ocean", start_ms=4000, end_ms=6000),
    ]})
    bible = style_bible_for(she, preset_id="watercolor", seed=0)
    assert bible.subject == vocab.SUBJECTS["she"]
    assert bible.setting == vocab.SETTINGS["sea"]
    silent = analysis.model_copy(update={"lyrics": []})
    settings_by_seed = {style_bible_for(silent, preset_id="cosmic", seed=seed).setting for seed in range(12)}
    assert settings_by_seed == set(vocab.DEFAULT_SETTINGS["cosmic"])


def test_colour_names():
    assert colour_names(["#000000", "#0a0a0a", "#ffffff", "#ff2e97"]) == ["black", "white", "magenta"]


def test_edited_intent_is_used_verbatim():
    analysis = synthetic_analysis()
    bible = style_bible_for(analysis, preset_id="papercut", seed=0)
    s = scene(intent="A paper boat on a pond.", mood="calm", energy=0.2).model_copy(update={"edited": True})
    prompt, _neg, _hints = write_prompt(s, bible=bible)
    assert prompt.startswith("A paper boat on a pond.")
    assert bible.subject not in prompt


def test_local_writer_protocol():
    analysis = synthetic_analysis()
    scenes = build_scenes(analysis, min_scene_ms=2500, max_scene_ms=8000)
    writer = LocalWriter()
    project = ProjectSettings(style="cosmic", seed=2)
    bible = writer.style_bible(analysis, scenes, settings=project, io=StepIO())
    assert bible == style_bible_for(analysis, preset_id="cosmic", seed=2)
    answers = writer.write(scenes[:4], bible=bible, settings=project, io=StepIO())
    assert list(answers) == [s.id for s in scenes[:4]]
    assert answers[scenes[0].id] == write_prompt(scenes[0], bible=bible)


@settings(max_examples=60, deadline=None)
@given(
    lyric=st.text(alphabet=st.characters(codec="utf-8", categories=["L", "Zs", "P"]), max_size=120),
    index=st.integers(min_value=0, max_value=500),
    energy=st.floats(min_value=0, max_value=1),
    section=st.sampled_from(["intro", "verse", "Chorus 2", "bridge", "breakdown", "outro", "weird"]),
    preset=st.sampled_from(sorted(PRESETS)),
)
def test_any_lyric_gives_a_sentence_and_a_full_prompt(lyric, index, energy, section, preset):
    analysis = synthetic_analysis()
    draft = scene(index=index, lyric=lyric, section=section, energy=energy, mood="")
    intent = visual_intent_for(draft, analysis=analysis, index=index)
    assert intent.endswith(".") and "\n" not in intent and len(intent) > 40
    prompt, negative, hints = write_prompt(draft.model_copy(update={"visual_intent": intent}), bible=style_bible_for(analysis, preset_id=preset, seed=0))
    assert prompt.startswith(intent[:-1]) and negative and hints


def test_scene_settings_move_within_the_project_setting_by_section():
    from engine.providers.local.writer import scene_setting, setting_kind

    city = vocab.SETTINGS["city"]
    assert setting_kind(city) == "city" and setting_kind(vocab.DEFAULT_SETTINGS["cosmic"][0]) == "space"
    assert setting_kind("a quiet small town") == "land"
    verses = {scene_setting(setting=city, section="Verse 1", index=i) for i in range(8)}
    choruses = {scene_setting(setting=city, section="chorus", index=i) for i in range(8)}
    assert len(verses) >= 3 and len(choruses) >= 2 and not verses & choruses
    assert all(s.endswith(f" in {city}") for s in verses | choruses)
    assert any("street" in s for s in verses) and any("rooftop" in s or "sky" in s for s in choruses)
    assert scene_setting(setting=city, section="weird", index=5) == scene_setting(setting=city, section="weird", index=5)
    analysis = synthetic_analysis()
    bible = style_bible_for(analysis, preset_id="noir", seed=0)
    prompts = [write_prompt(with_intent(scene(index=i, lyric="Hold me", section="verse"), analysis), bible=bible)[0] for i in range(4)]
    assert len({p.split("Setting: ")[1].split(".")[0] for p in prompts}) >= 3


def test_lyric_imagery_names_drawable_things():
    assert "heart" in images_in("Hearts like neon burning bright")[0]
    assert "windows" in images_in("Every window holds a spark")[0]
    assert any("road" in p for p in images_in("We are running with the night"))
    assert "street" in images_in("A thousand stories in the dark")[-1]
    assert "dancers" in images_in("Dancing underneath the stars")[0]
