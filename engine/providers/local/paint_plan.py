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

from engine.providers.local.paint_base import RGB, hex_rgb, mix, shift
from engine.styles import get_preset

SKY_WORDS: dict[str, set[str]] = {
    "cosmic": {"space", "galaxy", "nebula", "cosmos", "cosmic", "universe", "planet", "planets", "orbit", "astronaut", "comet"},
    "storm": {"storm", "thunder", "lightning", "clouds", "cloudy", "grey", "gray", "tempest", "overcast", "rain", "rainy", "fog", "mist"},
    "sunset": {"sunset", "sunrise", "dusk", "dawn", "twilight", "golden", "evening", "setting", "horizon"},
    "night": {"night", "midnight", "moon", "moonlight", "stars", "starry", "dark", "darkness", "nocturnal", "neon"},
    "day": {"day", "morning", "noon", "bright", "summer", "blue", "daylight", "sunny", "spring"},
}
GROUND_WORDS: dict[str, set[str]] = {
    "sea": {"sea", "ocean", "waves", "wave", "beach", "shore", "lake", "water", "river", "tide", "coast", "island", "surf"},
    "city": {"city", "skyline", "building", "buildings", "town", "urban", "downtown", "rooftop", "rooftops", "tower", "towers", "metropolis", "street", "streets"},
    "mountains": {"mountain", "mountains", "hills", "hill", "peak", "peaks", "valley", "cliff", "cliffs", "canyon"},
    "forest": {"forest", "trees", "woods", "woodland", "jungle", "pines", "grove"},
    "desert": {"desert", "dunes", "dune", "sand", "sahara", "dust", "dry"},
    "road": {"road", "highway", "asphalt", "drive", "driving", "route", "freeway", "path", "journey"},
    "grid": {"grid", "retro-futurism", "cyber", "digital", "arcade", "virtual"},
}
LIGHT_WORDS: dict[str, set[str]] = {
    "sun": {"sun", "sunset", "sunrise", "sunlight", "dawn", "sunny", "solar"},
    "moon": {"moon", "moonlight", "lunar", "moonlit"},
    "lamps": {"lamp", "lamps", "streetlight", "streetlights", "lantern", "lanterns", "lights", "neon-lit"},
    "fire": {"fire", "flame", "flames", "burning", "candle", "bonfire", "campfire", "blaze", "burn"},
}
SUBJECT_WORDS: dict[str, set[str]] = {
    "couple": {"couple", "lovers", "together", "two", "us", "embrace", "kiss", "hand", "hands"},
    "figure": {"figure", "man", "woman", "girl", "boy", "person", "silhouette", "singer", "dancer", "lone", "alone",
               "walking", "stranger", "me", "myself", "i", "she", "he", "traveller", "traveler", "wanderer"},
    "car": {"car", "cars", "convertible", "driving", "drive", "ride", "wheels"},
    "tree": {"tree", "oak", "willow", "branches"},
    "heart": {"heart", "hearts", "love", "loved", "loving", "heartbeat"},
    "bird": {"bird", "birds", "wings", "fly", "flying", "flight", "crow", "crows", "gull", "dove", "free", "freedom"},
    "train": {"train", "station", "rails", "railway", "tracks", "subway", "departure"},
    "house": {"house", "home", "window", "windows", "cabin", "room", "door"},
}
PARTICLE_WORDS: dict[str, set[str]] = {
    "rain": {"rain", "raining", "rainy", "drizzle", "downpour", "tears", "crying", "storm"},
    "snow": {"snow", "snowing", "snowflakes", "winter", "frost", "frozen", "ice", "cold"},
    "fireflies": {"fireflies", "firefly", "glowing", "magic", "summer", "wish"},
    "embers": {"embers", "ember", "sparks", "spark", "fire", "burning", "ashes", "ash", "flames"},
    "stars": {"stars", "star", "starry", "starlight", "constellation", "constellations", "galaxy", "cosmos", "space"},
    "bokeh": {"bokeh", "lights", "glow", "dream", "dreams", "dreaming", "dreamy", "memories", "memory", "blur"},
}

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


def plan_scene(*, prompt: str, mood: str, energy: float, style: str, seed: int, version: int) -> Plan:
    """Pick the scene elements from the prompt words; seed and version choose layout and optional extras."""
    words = words_of(prompt)
    rng = np.random.default_rng(seed_of("plan", style, prompt, mood, round(energy, 3), seed, version))
    skies = _hits(words, SKY_WORDS)
    if "cosmic" in skies:
        sky = "cosmic"
    elif skies:  # several named skies (rain at night under a setting sun): each version picks one
        sky = skies[int(rng.integers(len(skies)))]
    else:
        sky = _default_sky(style, mood, rng)
    if style == "cosmic" and sky == "day":
        sky = "cosmic"
    grounds = _hits(words, GROUND_WORDS)
    if "grid" in grounds and style != "synthwave" and len(grounds) > 1:
        grounds.remove("grid")
    if not grounds and sky != "cosmic":
        pool = {"synthwave": ["grid", "mountains", "road", "city"], "watercolor": ["mountains", "forest", "sea"],
                "noir": ["city", "road", "sea"], "papercut": ["mountains", "forest", "desert"],
                "geometric": ["mountains", "sea", "desert"], "cosmic": ["mountains"]}[style]
        grounds = [pool[int(rng.integers(len(pool)))]]
    if style == "synthwave" and "grid" not in grounds and not ({"sea", "city"} & set(grounds)) and rng.random() < 0.5:
        grounds.append("grid")
    lights = _hits(words, LIGHT_WORDS)
    if not ({"sun", "moon"} & set(lights)):
        if sky in ("sunset", "day"):
            lights.insert(0, "sun")
        elif sky == "night" and rng.random() < 0.65:
            lights.insert(0, "moon")
        elif sky == "cosmic":
            lights.insert(0, "planet")
    subjects = _hits(words, SUBJECT_WORDS)
    if "couple" in subjects and "figure" in subjects:
        subjects.remove("figure")
    if "heart" in subjects and "couple" in subjects and rng.random() < 0.5:
        subjects.remove("heart")
    particles = _hits(words, PARTICLE_WORDS)
    if sky in ("night", "cosmic") and "stars" not in particles and "rain" not in particles:
        particles.append("stars")
    if sky == "storm" and "rain" not in particles and "snow" not in particles and rng.random() < 0.5:
        particles.append("rain")
    if not particles and rng.random() < 0.3 + 0.4 * energy:
        extra = {"synthwave": "bokeh", "watercolor": "fireflies", "noir": "rain", "papercut": "bokeh",
                 "geometric": "bokeh", "cosmic": "stars"}[style]
        particles.append(extra)
    horizon = float(rng.uniform(0.56, 0.72)) if grounds else 1.05
    if "sea" in grounds:
        horizon = float(rng.uniform(0.5, 0.62))
    light_x = float(rng.uniform(0.3, 0.7)) if "grid" in grounds or "road" in grounds else float(rng.uniform(0.2, 0.8))
    light_y = horizon - float(rng.uniform(0.05, 0.3)) if sky != "night" else float(rng.uniform(0.15, 0.35))
    return Plan(
        style=style, sky=sky, grounds=tuple(grounds[:3]), lights=tuple(lights[:3]), subjects=tuple(subjects[:2]),
        particles=tuple(particles[:3]), energy=min(max(energy, 0.0), 1.0), horizon=horizon, light_x=light_x,
        light_y=max(0.12, light_y), subject_x=float(rng.uniform(0.25, 0.75)), mirror=bool(rng.random() < 0.5),
        seed=seed_of("draw", style, prompt, mood, seed, version), hue_jitter=float(rng.uniform(-16, 16)), words=words,
    )
