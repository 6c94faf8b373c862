"""From prompt words, mood, energy, style and seed to a scene plan and a colour look (pure, no drawing).

Keywords are matched with plain word sets (no ML). The plan says *what* is in
the picture (sky, ground, lights, silhouettes, particles) and *where*; the
look says *which colours* and which per-style treatment draws it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np

from engine.providers.local.drawable import (  # the one registry of drawable things, shared with the writer
    CAMERA_WORDS, DANCE_WORDS, FACADE_WORDS, GROUND_WORDS, LIGHT_WORDS, PARTICLE_WORDS, ROOFTOP_WORDS, RUN_WORDS, SHOTS,
    SKY_SHOT_WORDS, SKY_WORDS, STREET_WORDS, SUBJECT_WORDS,
)
from engine.providers.local.paint_base import RGB, hex_rgb, mix, shift
from engine.styles import get_preset

# mood -> (hue shift in degrees, saturation x, brightness x, contrast x)
MOODS: dict[str, tuple[float, float, float, float]] = {
    "calm": (-4.0, 0.85, 1.04, 0.92),
    "peaceful": (-4.0, 0.85, 1.06, 0.92),
    "melancholic": (14.0, 0.70, 0.90, 0.95),
    "sad": (16.0, 0.65, 0.86, 0.95),
    "hopeful": (-10.0, 1.05, 1.10, 1.00),
    "euphoric": (-6.0, 1.28, 1.12, 1.10),
    "happy": (-8.0, 1.18, 1.10, 1.05),
    "tense": (4.0, 0.90, 0.88, 1.22),
    "dark": (6.0, 0.80, 0.74, 1.20),
    "dreamy": (10.0, 0.88, 1.08, 0.88),
    "energetic": (-3.0, 1.20, 1.04, 1.15),
    "romantic": (-12.0, 1.10, 1.04, 0.98),
    "angry": (-14.0, 1.15, 0.90, 1.25),
    "nostalgic": (-8.0, 0.82, 0.98, 0.94),
}

TREATMENT = {
    "synthwave": "neon",
    "watercolor": "wash",
    "noir": "ink",
    "cosmic": "rim",
    "papercut": "paper",
    "geometric": "flat",
}


@dataclass(frozen=True)
class Look:
    """Colour roles and treatment of one picture (style palette after the mood shift)."""

    style: str
    treatment: str
    dark: RGB
    mid: RGB
    deep: RGB
    warm: RGB
    light: RGB
    accent: RGB
    paper: RGB
    ink: RGB
    contrast: float
    saturation: float


@dataclass(frozen=True)
class Plan:
    """What one picture contains and where (all positions as fractions of the canvas)."""

    style: str
    sky: str
    grounds: tuple[str, ...]
    lights: tuple[str, ...]
    subjects: tuple[str, ...]
    particles: tuple[str, ...]
    energy: float
    horizon: float  # y of the horizon, 0 top .. 1 bottom
    light_x: float  # x of the sun/moon
    light_y: float  # y of the sun/moon centre
    subject_x: float
    mirror: bool
    seed: int
    hue_jitter: float = 0.0  # degrees: each version leans the palette a little warmer or cooler
    words: frozenset[str] = field(default_factory=frozenset)
    shot: str = "medium"  # one of SHOTS: how the camera frames the scene
    pose: str = "stand"  # stand | run | dance: what the people do
    crowd: int = 0  # extra people around the subject (dancers)
    subject_scale: float = 1.0  # people size relative to a medium shot
    land_scale: float = 1.0  # height of skylines / ridges / trees relative to a medium shot
    tilt_deg: float = 0.0  # a dutch angle: the finished picture is rotated by this much


# (horizon range, people scale, land scale) per shot
SHOT_LAYOUT: dict[str, tuple[tuple[float, float], float, float]] = {
    "wide": ((0.58, 0.7), 0.55, 0.85),
    "medium": ((0.56, 0.72), 1.0, 1.0),
    "close": ((0.5, 0.64), 2.9, 0.9),
    "over": ((0.5, 0.62), 3.4, 0.9),
    "low": ((0.8, 0.88), 2.0, 0.55),
    "high": ((0.3, 0.4), 0.7, 0.7),
    "sky": ((0.87, 0.93), 0.5, 0.35),
    "street": ((0.5, 0.58), 1.0, 1.0),
    "facade": ((0.9, 0.95), 1.0, 1.0),
}


def split_prompt(prompt: str) -> tuple[str, str, str]:
    """(scene words, setting, the rest) of a prompt written as "<intent>. Setting: <setting>. <lighting>, ...".

    A prompt without a "Setting:" part is all scene words.
    """
    m = re.search(r"\bsetting:\s*([^.]*)\.?", prompt, flags=re.IGNORECASE)
    if m is None:
        return prompt, "", ""
    return prompt[: m.start()], m.group(1), prompt[m.end():]


def camera_shot(text: str) -> str | None:
    """The shot named by camera words in ``text`` (see ``drawable.CAMERA_WORDS``), or None."""
    low = text.lower()
    for word, shot in CAMERA_WORDS:
        if re.search(r"(?<![a-z-])" + re.escape(word) + r"(?![a-z])", low):
            return shot
    return None


def words_of(prompt: str) -> frozenset[str]:
    """Lower-case words of a prompt (hyphenated words kept whole and also split)."""
    raw = re.findall(r"[a-z][a-z'\-]*", prompt.lower())
    out = set(raw)
    for w in raw:
        out.update(p for p in w.split("-") if p)
        out.add(w.strip("'"))
    return frozenset(out)


def _hits(words: frozenset[str], table: dict[str, set[str]]) -> list[str]:
    """Keys of ``table`` whose word set meets ``words``, in table order."""
    return [k for k, vocab in table.items() if words & vocab]


def _in_order(keys: list[str], text: str, table: dict[str, set[str]]) -> list[str]:
    """``keys`` ordered by where ``text`` first names them (the scene's own place before the project's setting)."""
    found = re.findall(r"[a-z][a-z'\-]*", text.lower())

    def first(key: str) -> int:
        return next((i for i, w in enumerate(found) if w in table[key]), len(found))

    return sorted(keys, key=first)


def seed_of(*parts: object) -> int:
    """A stable 63-bit seed from any printable parts (independent of PYTHONHASHSEED)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def mood_params(mood: str) -> tuple[float, float, float, float]:
    """(hue shift, saturation x, brightness x, contrast x) for a mood word or phrase."""
    for w in re.findall(r"[a-z]+", mood.lower()):
        if w in MOODS:
            return MOODS[w]
    return (0.0, 1.0, 1.0, 1.0)


def make_look(*, style: str, mood: str, energy: float, hue_jitter_deg: float = 0.0) -> Look:
    """The colour roles of ``style`` shifted by ``mood``; ``energy`` raises contrast and saturation."""
    pal = [hex_rgb(c) for c in get_preset(style).palette]
    hue, sat, val, con = mood_params(mood)
    hue += hue_jitter_deg
    roles = {
        "synthwave": dict(dark=pal[0], mid=pal[1], deep=pal[2], warm=pal[3], light=pal[4], accent=pal[5], paper=pal[1], ink=(6, 1, 16)),
        "watercolor": dict(dark=pal[0], mid=pal[1], deep=pal[2], warm=pal[4], light=(255, 226, 178), accent=pal[4], paper=pal[5], ink=pal[0]),
        "noir": dict(dark=pal[0], mid=pal[2], deep=pal[3], warm=pal[3], light=pal[4], accent=pal[5], paper=pal[4], ink=pal[0]),
        "cosmic": dict(dark=pal[0], mid=pal[1], deep=pal[2], warm=pal[4], light=pal[5], accent=pal[3], paper=pal[0], ink=(2, 0, 12)),
        "papercut": dict(dark=pal[0], mid=pal[1], deep=pal[2], warm=pal[3], light=pal[5], accent=pal[4], paper=pal[5], ink=pal[0]),
        "geometric": dict(dark=pal[0], mid=pal[1], deep=pal[4], warm=pal[3], light=pal[5], accent=pal[2], paper=pal[5], ink=pal[0]),
    }[style]
    keep = {"accent"} if style == "noir" else set()  # the noir red stays red
    e = min(max(energy, 0.0), 1.0)
    sat *= 0.9 + 0.3 * e  # energy saturates the palette (cheaper than a saturation pass over the picture)
    shifted = {k: (v if k in keep else shift(v, hue_deg=hue, sat_mul=sat, val_mul=val)) for k, v in roles.items()}
    return Look(style=style, treatment=TREATMENT[style], contrast=con * (0.92 + 0.22 * e),
                saturation=0.9 + 0.3 * e, **shifted)


def _default_sky(style: str, mood: str, rng: np.random.Generator) -> str:
    """The sky when the prompt names none."""
    if style == "cosmic":
        return "cosmic"
    if any(w in mood.lower() for w in ("dark", "tense", "melanchol", "sad")):
        return "night" if rng.random() < 0.7 else "storm"
    options = {"synthwave": ["sunset", "night"], "watercolor": ["day", "sunset"], "noir": ["night", "storm"],
               "papercut": ["sunset", "day", "night"], "geometric": ["day", "sunset", "night"]}[style]
    return options[int(rng.integers(len(options)))]


def choose_shot(*, scene_words: frozenset[str], all_words: frozenset[str], camera: str | None, has_ground: bool,
                rng: np.random.Generator) -> str:
    """The composition: the scene's own words first (street, windows, a sky with no ground), then the camera words."""
    if scene_words & STREET_WORDS:
        return "street"
    if scene_words & FACADE_WORDS and not scene_words & ROOFTOP_WORDS:
        return "facade"
    if scene_words & SKY_SHOT_WORDS and not has_ground and camera not in ("close", "over"):
        return "sky"
    if camera is not None:
        return camera
    return ("wide", "medium", "medium", "low", "close")[int(rng.integers(5))]


def plan_scene(*, prompt: str, mood: str, energy: float, style: str, seed: int, version: int) -> Plan:
    """Pick the scene elements from the prompt words; seed and version choose layout and optional extras.

    The scene's own words (before "Setting:") decide the sky, the ground, the
    subjects and the composition; the setting only fills in a ground when the
    scene names none, and the rest (lighting, style keywords) only a sky. Camera
    words ("close-up", "low-angle", "aerial", "wide", "dutch angle") choose the
    framing unless the scene's words call for a street, a wall of windows or an
    open sky.
    """
    scene_text, setting_text, rest_text = split_prompt(prompt)
    words = words_of(prompt)
    scene_w, setting_w, rest_w = words_of(scene_text), words_of(setting_text), words_of(rest_text)
    rng = np.random.default_rng(seed_of("plan", style, prompt, mood, round(energy, 3), seed, version))
    skies = _hits(scene_w, SKY_WORDS) or _hits(rest_w, SKY_WORDS) or _hits(setting_w, SKY_WORDS)
    if "cosmic" in skies or "cosmic" in _hits(words, SKY_WORDS) and style == "cosmic":
        sky = "cosmic"
    elif skies:  # several named skies (rain at night under a setting sun): each version picks one
        sky = skies[int(rng.integers(len(skies)))]
    else:
        sky = _default_sky(style, mood, rng)
    if style == "cosmic" and sky == "day":
        sky = "cosmic"
    own_grounds = _hits(scene_w, GROUND_WORDS)
    if "grid" in own_grounds and len(own_grounds) == 1 and style != "synthwave":
        own_grounds = []
    named_shot = camera_shot(rest_text)  # the writer's camera phrase decides; then the scene's words
    shot = named_shot or choose_shot(scene_words=scene_w, all_words=words, camera=camera_shot(scene_text),
                                     has_ground=bool(own_grounds) or bool(scene_w & ROOFTOP_WORDS), rng=rng)
    grounds = own_grounds or _in_order(_hits(setting_w, GROUND_WORDS), setting_text, GROUND_WORDS)
    if "grid" in grounds and style != "synthwave" and len(grounds) > 1:
        grounds.remove("grid")
    if shot == "street":
        grounds = [g for g in grounds if g in ("road",)]
    if not grounds and sky != "cosmic" and shot != "street":
        pool = {"synthwave": ["grid", "mountains", "road", "city"], "watercolor": ["mountains", "forest", "sea"],
                "noir": ["city", "road", "sea"], "papercut": ["mountains", "forest", "desert"],
                "geometric": ["mountains", "sea", "desert"], "cosmic": ["mountains"]}[style]
        grounds = [pool[int(rng.integers(len(pool)))]]
    pose = "dance" if scene_w & DANCE_WORDS else "run" if scene_w & RUN_WORDS else "stand"
    if pose == "run" and "road" not in grounds and shot not in ("street", "facade", "sky"):
        grounds.append("road")
    if style == "synthwave" and "grid" not in grounds and not ({"sea", "city"} & set(grounds)) and rng.random() < 0.5:
        grounds.append("grid")
    lights = _hits(scene_w | setting_w, LIGHT_WORDS)
    if not ({"sun", "moon"} & set(lights)):
        if sky in ("sunset", "day"):
            lights.insert(0, "sun")
        elif sky == "night" and rng.random() < (0.9 if shot == "sky" else 0.65):
            lights.insert(0, "moon")
        elif sky == "cosmic":
            lights.insert(0, "planet")
    subjects = _hits(scene_w, SUBJECT_WORDS)
    if "couple" in subjects and "figure" in subjects:
        subjects.remove("figure")
    if "heart" in subjects and "couple" in subjects and shot not in ("close", "over") and rng.random() < 0.5:
        subjects.remove("heart")
    if shot in ("close", "over") and len(subjects) > 1 and "heart" in subjects:
        subjects = ["heart"] + [s for s in subjects if s != "heart"]  # a close-up of the heart
    if scene_w & ROOFTOP_WORDS and shot not in ("street", "facade"):
        subjects.append("rooftop")
    crowd = int(rng.integers(2, 5)) if pose == "dance" and ({"dancers", "crowd", "party"} & scene_w) else 0
    particles = _hits(scene_w, PARTICLE_WORDS)
    if sky in ("night", "cosmic") and "stars" not in particles and "rain" not in particles:
        particles.append("stars")
    if sky == "storm" and "rain" not in particles and "snow" not in particles and rng.random() < 0.5:
        particles.append("rain")
    if not particles and rng.random() < 0.3 + 0.4 * energy:
        extra = {"synthwave": "bokeh", "watercolor": "fireflies", "noir": "rain", "papercut": "bokeh",
                 "geometric": "bokeh", "cosmic": "stars"}[style]
        particles.append(extra)
    (h_lo, h_hi), subject_scale, land_scale = SHOT_LAYOUT[shot]
    horizon = float(rng.uniform(h_lo, h_hi)) if grounds or shot in ("street", "facade", "sky") else 1.05
    if "sea" in grounds and shot in ("wide", "medium"):
        horizon = float(rng.uniform(0.5, 0.62))
    light_x = float(rng.uniform(0.3, 0.7)) if "grid" in grounds or "road" in grounds else float(rng.uniform(0.2, 0.8))
    light_y = horizon - float(rng.uniform(0.05, 0.3)) if sky != "night" else float(rng.uniform(0.15, 0.35))
    if shot == "high":
        light_y = min(light_y, horizon - 0.08)
    side = float(rng.choice([1 / 3, 2 / 3]))
    subject_x = {"close": side, "over": 0.14 if side < 0.5 else 0.86, "street": 0.5 + (side - 0.5) * 0.3,
                 "low": side}.get(shot, float(rng.uniform(0.25, 0.75)))
    if "symmetrical" in rest_w or "symmetrical" in scene_w:
        subject_x = 0.5
    tilt = float(rng.choice([-1.0, 1.0])) * float(rng.uniform(4.0, 7.0)) if "dutch" in words else 0.0
    return Plan(
        style=style, sky=sky, grounds=tuple(grounds[:3]), lights=tuple(lights[:3]), subjects=tuple(subjects[:3]),
        particles=tuple(particles[:3]), energy=min(max(energy, 0.0), 1.0), horizon=horizon, light_x=light_x,
        light_y=max(0.12, light_y), subject_x=subject_x, mirror=bool(rng.random() < 0.5),
        seed=seed_of("draw", style, prompt, mood, seed, version), hue_jitter=float(rng.uniform(-16, 16)), words=words,
        shot=shot, pose=pose, crowd=crowd, subject_scale=subject_scale, land_scale=land_scale, tilt_deg=tilt,
    )
