"""The offline illustrator: determinism, variety, keywords, styles, sizes, structure, PNG metadata."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from engine.errors import InputError
from engine.images import canvas_size, png_bytes, read_png_metadata
from engine.providers.local.illustrator import draw_scene
from engine.providers.local.paint_plan import plan_scene, split_prompt, words_of
from engine.styles import PRESETS

W, H = 480, 270
PROMPT = "A lone figure on a neon-lit highway at night under a huge setting sun, rain on the asphalt, glowing grid"


def draw(prompt: str = PROMPT, *, style: str = "synthwave", seed: int = 7, version: int = 1, mood: str = "hopeful",
         energy: float = 0.6, size: tuple[int, int] = (W, H)) -> Image.Image:
    return draw_scene(prompt=prompt, mood=mood, energy=energy, style=style, seed=seed, version=version, width=size[0], height=size[1])


def arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img, np.float32)


def mad(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute pixel difference, 0..255."""
    return float(np.abs(arr(a) - arr(b)).mean())


@pytest.mark.parametrize("style", sorted(PRESETS))
def test_same_input_gives_identical_png_bytes(style: str) -> None:
    one = png_bytes(draw(style=style), metadata={"k": "v"})
    two = png_bytes(draw(style=style), metadata={"k": "v"})
    assert one == two


@pytest.mark.parametrize("style", sorted(PRESETS))
def test_picture_is_rgb_of_requested_size_and_not_flat(style: str) -> None:
    img = draw(style=style)
    assert img.mode == "RGB" and img.size == (W, H)
    a = arr(img)
    assert a.std() > 20, "a picture, not a flat fill"
    edges = np.asarray(img.convert("L").filter(ImageFilter.FIND_EDGES), np.float32)
    assert (edges > 40).mean() > 0.01, "has shapes with edges"
    assert (edges > 40).mean() < 0.6, "not pure noise"
    assert len(np.unique(a.reshape(-1, 3)[::7], axis=0)) > 200, "more than a few flat colours"


@pytest.mark.parametrize("style", sorted(PRESETS))
def test_new_version_is_a_visibly_different_take(style: str) -> None:
    assert mad(draw(style=style, version=1), draw(style=style, version=2)) > 12


def test_different_prompts_differ() -> None:
    a = draw("a quiet forest with mountains at dawn", style="watercolor")
    b = draw("a city skyline at night with the moon", style="watercolor")
    assert mad(a, b) > 15


def test_rain_keyword_adds_streaks() -> None:
    dry = draw("a lone figure on a road at night", style="noir")
    wet = draw("a lone figure on a road at night in the rain", style="noir")
    assert "rain" in plan_scene(prompt="a road in the rain", mood="", energy=0.5, style="noir", seed=1, version=1).particles
    # streaks are thin near-vertical lines: vertical structure rises
    def vertical_detail(img: Image.Image) -> float:
        g = np.asarray(img.convert("L"), np.float32)
        return float(np.abs(np.diff(g, axis=1)).mean())
    assert mad(dry, wet) > 3
    assert vertical_detail(wet) > vertical_detail(dry)


@pytest.mark.parametrize(
    ("words", "attr", "value"),
    [
        ("a city at night", "grounds", "city"),
        ("waves on the sea", "grounds", "sea"),
        ("a forest", "grounds", "forest"),
        ("a road through the desert", "grounds", "desert"),
        ("snow falling", "particles", "snow"),
        ("a campfire burning", "lights", "fire"),
        ("two lovers", "subjects", "couple"),
        ("my heart", "subjects", "heart"),
        ("the moon", "lights", "moon"),
        ("a train station", "subjects", "train"),
        ("stars in a galaxy", "sky", "cosmic"),
    ],
)
def test_keywords_choose_elements(words: str, attr: str, value: str) -> None:
    plan = plan_scene(prompt=words, mood="calm", energy=0.5, style="papercut", seed=3, version=1)
    got = getattr(plan, attr)
    assert value == got if isinstance(got, str) else value in got


def test_keyword_changes_picture_more_than_noise() -> None:
    base = draw("an empty plain at sunset", style="geometric")
    with_city = draw("an empty plain at sunset with a city skyline", style="geometric")
    assert mad(base, with_city) > 5


def test_words_split_hyphens() -> None:
    assert {"neon-lit", "neon", "lit"} <= words_of("A neon-lit street")


def test_each_style_has_its_own_colours() -> None:
    stats = {}
    for style in PRESETS:
        a = arr(draw("a figure under the sky above the hills", style=style, mood="calm"))
        hsv = np.asarray(Image.fromarray(a.astype(np.uint8)).convert("HSV"), np.float32)
        stats[style] = np.concatenate([a.reshape(-1, 3).mean(0), [hsv[..., 1].mean(), hsv[..., 2].std()]])
    names = sorted(stats)
    for i, s1 in enumerate(names):
        for s2 in names[i + 1:]:
            assert np.abs(stats[s1] - stats[s2]).max() > 8, (s1, s2)
    noir = arr(draw("a street at night", style="noir"))
    sat = np.asarray(Image.fromarray(noir.astype(np.uint8)).convert("HSV"), np.float32)[..., 1]
    assert np.median(sat) < 40, "noir stays near-monochrome"


def test_mood_changes_brightness() -> None:
    dark = arr(draw("mountains at dawn", style="papercut", mood="dark")).mean()
    hopeful = arr(draw("mountains at dawn", style="papercut", mood="hopeful")).mean()
    assert hopeful > dark + 5


def test_energy_changes_picture() -> None:
    assert mad(draw(energy=0.1), draw(energy=0.95)) > 2


def test_unknown_style_and_bad_size_raise_input_error() -> None:
    with pytest.raises(InputError):
        draw(style="vaporwave")
    with pytest.raises(InputError):
        draw(size=(10, 10))


@pytest.mark.parametrize(
    ("aspect", "height", "expected"),
    [("16:9", 720, (1600, 900)), ("16:9", 1080, (2400, 1350)), ("9:16", 720, (900, 1600)), ("1:1", 1080, (1350, 1350))],
)
def test_canvas_size(aspect: str, height: int, expected: tuple[int, int]) -> None:
    assert canvas_size(aspect, out_height=height) == expected


def test_canvas_is_larger_than_frame_and_even() -> None:
    for aspect in ("16:9", "9:16", "1:1"):
        for h in (360, 720, 1080):
            w_, h_ = canvas_size(aspect, out_height=h, headroom=1.2)
            assert min(w_, h_) >= h * 1.2 - 1 and w_ % 2 == 0 and h_ % 2 == 0
    with pytest.raises(InputError):
        canvas_size("wide", out_height=720)
    with pytest.raises(InputError):
        canvas_size("16:9", out_height=720, headroom=0.5)


def test_portrait_picture_draws() -> None:
    img = draw(size=(270, 480))
    assert img.size == (270, 480) and arr(img).std() > 20


def test_png_metadata_round_trip(tmp_path) -> None:
    meta = {"storybeat:fingerprint": "abc123", "storybeat:status": "ok", "note": "ünïcode ok?"}
    data = png_bytes(draw(), metadata=meta)
    path = tmp_path / "seg_001_v1.png"
    path.write_bytes(data)
    got = read_png_metadata(path)
    assert got["storybeat:fingerprint"] == "abc123" and got["storybeat:status"] == "ok"
    assert Image.open(io.BytesIO(data)).size == (W, H)


def test_read_png_metadata_rejects_non_png(tmp_path) -> None:
    p = tmp_path / "x.jpg"
    draw().save(p, format="JPEG")
    with pytest.raises(InputError):
        read_png_metadata(p)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage")
    with pytest.raises(Exception):
        read_png_metadata(broken)


# --------------------------------------------------------------------------- composition and variety

DEMO_LINES = [
    "Streetlights hum a song in blue",
    "I trace the skyline back to you",
    "Every window holds a spark",
    "A thousand stories in the dark",
    "We are running with the night",
    "Hearts like neon burning bright",
    "Hold on tight, the city's ours",
    "Dancing underneath the stars",
]


def project_prompts(style: str) -> list[tuple[str, str, float]]:
    """(prompt, mood, energy) per lyric line of one project, written by the local writer."""
    from engine.models import LyricLine, Scene
    from engine.providers.local.writer import style_bible_for, visual_intent_for, write_prompt
    from tests.engine.test_storyboard import synthetic_analysis

    analysis = synthetic_analysis().model_copy(update={"lyrics": [
        LyricLine(index=i, text=t, start_ms=i * 4000, end_ms=i * 4000 + 3000) for i, t in enumerate(DEMO_LINES)]})
    bible = style_bible_for(analysis, preset_id=style, seed=0)
    out = []
    for i, text in enumerate(DEMO_LINES):
        draft = Scene(id=f"seg_{i + 1:03d}", index=i, start_ms=i * 4000, end_ms=i * 4000 + 4000, lyric_text=text,
                      visual_intent="", mood="brooding", energy=0.7, section="verse" if i < 4 else "chorus")
        scene = draft.model_copy(update={"visual_intent": visual_intent_for(draft, analysis=analysis, index=i, style=bible)})
        out.append((write_prompt(scene, bible=bible)[0], scene.mood, scene.energy))
    return out


@pytest.mark.parametrize("style", ["watercolor", "noir", "synthwave"])
def test_one_projects_lyric_lines_give_varied_compositions_and_pictures(style: str) -> None:
    prompts = project_prompts(style)
    plans = [plan_scene(prompt=p, mood=m, energy=e, style=style, seed=0, version=1) for p, m, e in prompts]
    compositions = {(pl.shot, pl.sky, pl.grounds, pl.subjects, pl.pose) for pl in plans}
    assert len(compositions) >= 7, compositions
    assert len({pl.shot for pl in plans}) >= 4, [pl.shot for pl in plans]
    pics = [draw(p, style=style, mood=m, energy=e, seed=0, size=(240, 135)) for p, m, e in prompts]
    diffs = [mad(a, b) for i, a in enumerate(pics) for b in pics[i + 1:]]
    assert float(np.mean(diffs)) > 22, np.mean(diffs)
    assert min(diffs) > 6


def test_lyric_words_choose_their_own_pictures() -> None:
    def plan(prompt: str):
        return plan_scene(prompt=prompt, mood="calm", energy=0.6, style="watercolor", seed=1, version=1)

    assert plan("A couple dances beneath a crowd of dancers").pose == "dance"
    assert plan("A couple dances beneath a crowd of dancers").crowd >= 2
    running = plan("A lone figure runs toward the hills")
    assert running.pose == "run" and "road" in running.grounds
    assert plan("A couple reaches out to a wall of lit windows in the dark").shot == "facade"
    assert plan("A figure walks down a dark street of glowing windows").shot == "street"
    stars = plan("A couple gazes up at a sky full of stars. Setting: a sprawling city of towers. Soft light.")
    assert stars.shot == "sky" and stars.sky == "night" and "stars" in stars.particles
    named = plan("A couple gazes up at a sky full of stars. Setting: a sprawling city of towers. Soft light, medium shot.")
    assert named.shot == "medium", "the shot the prompt names wins over the scene's words"
    assert "city" in stars.grounds and stars.horizon > 0.85, "the setting only as a thin strip under the sky"
    heart = plan("A couple bursts through a huge glowing neon heart. Setting: a city. Moody light, dramatic close-up.")
    assert heart.shot == "close" and heart.subjects[0] == "heart"
    assert "embers" in plan("Every window holds a spark").particles


def test_setting_is_a_fallback_background_only() -> None:
    sea = plan_scene(prompt="A figure stands by the restless sea. Setting: a sprawling city of towers and bridges. Soft light.",
                     mood="calm", energy=0.4, style="noir", seed=2, version=1)
    assert sea.grounds == ("sea",), "the scene's own place wins over the project's setting"
    nowhere = plan_scene(prompt="A figure holds two hands clasped tight. Setting: a sprawling city of towers and bridges.",
                         mood="calm", energy=0.4, style="noir", seed=2, version=1)
    assert nowhere.grounds == ("city",)


@pytest.mark.parametrize(
    ("camera", "shot"),
    [("close-up", "close"), ("dramatic close-up", "close"), ("dynamic low-angle shot", "low"), ("sweeping aerial view", "high"),
     ("gentle high-angle view", "high"), ("wide establishing shot", "wide"), ("over-the-shoulder view", "over"),
     ("medium shot", "medium")],
)
def test_camera_words_choose_the_framing(camera: str, shot: str) -> None:
    prompt = f"A lone figure walks toward the mountains. Setting: high mountain passes. Soft moonlight, {camera}. Ink."
    plan = plan_scene(prompt=prompt, mood="calm", energy=0.5, style="noir", seed=4, version=1)
    assert plan.shot == shot
    assert split_prompt(prompt)[1] == "high mountain passes"


def test_close_up_people_are_bigger_than_a_wide_shot() -> None:
    def plan(camera: str):
        return plan_scene(prompt=f"A lone figure on the plain at sunset. Setting: open plains. Soft light, {camera}.",
                          mood="calm", energy=0.5, style="geometric", seed=3, version=1)

    close, wide, low = plan("close-up"), plan("wide establishing shot"), plan("dynamic low-angle shot")
    assert close.subject_scale > 4 * wide.subject_scale
    assert close.subject_x in (1 / 3, 2 / 3), "close-ups put the subject on a third"
    assert low.horizon > 0.75 > close.horizon, "a low angle shows mostly sky"
    assert mad(draw(close_prompt := "A lone figure on the plain at sunset. Setting: open plains. Soft light, close-up.", style="noir"),
               draw(close_prompt.replace("close-up", "wide establishing shot"), style="noir")) > 15


def test_dutch_angle_tilts_the_picture() -> None:
    prompt = "A lone figure on a road in the desert. Setting: a desert. Harsh light, {}."
    tilted = plan_scene(prompt=prompt.format("tilted dutch angle"), mood="", energy=0.5, style="papercut", seed=1, version=1)
    assert 3.5 < abs(tilted.tilt_deg) < 7.5
    assert plan_scene(prompt=prompt.format("medium shot"), mood="", energy=0.5, style="papercut", seed=1, version=1).tilt_deg == 0
    img = draw(prompt.format("tilted dutch angle"), style="papercut")
    assert img.size == (W, H) and arr(img).std() > 20
