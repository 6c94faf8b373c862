"""The offline illustrator: determinism, variety, keywords, styles, sizes, structure, PNG metadata."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from engine.errors import InputError
from engine.providers.local.illustrator import canvas_size, draw_scene, png_bytes, read_png_metadata
from engine.providers.local.paint_plan import plan_scene, words_of
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
