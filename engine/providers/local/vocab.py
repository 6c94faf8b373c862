"""Small, readable vocabulary tables for the local writer.

Keys are word stems as produced by :func:`engine.providers.local.writer.stem`.
Values are noun phrases that a picture can show.
"""
from __future__ import annotations

# Concrete words: things a picture can show directly.
IMAGERY: dict[str, str] = {
    "night": "a deep blue night sky",
    "sun": "a huge low sun",
    "rain": "silver sheets of rain",
    "city": "a glittering city skyline",
    "street": "a wet street reflecting lights",
    "sea": "a restless sea",
    "ocean": "a restless sea",
    "wave": "towering waves",
    "fire": "roaring flames",
    "flame": "roaring flames",
    "burn": "roaring flames",
    "forest": "a dark pine forest",
    "tree": "a lone old tree",
    "star": "a sky full of stars",
    "road": "an endless empty road",
    "highway": "an endless empty road",
    "drive": "a car's headlights on an empty road",
    "car": "a vintage car on a night road",
    "heart": "a huge glowing neon heart",
    "sky": "a vast open sky",
    "river": "a winding river",
    "mountain": "distant snowy mountains",
    "moon": "a full moon",
    "train": "a night train rushing past",
    "window": "a wall of lit windows in the dark",
    "run": "a night road racing into the distance",
    "dance": "a crowd of dancers",
    "light": "beams of light",
    "flower": "glowing fireflies on a summer evening",
    "rose": "a glowing red heart",
    "snow": "drifting snow",
    "wind": "storm clouds racing over the hills",
    "cloud": "towering clouds",
    "bird": "a flock of birds",
    "door": "an open door spilling light",
    "mirror": "a still lake mirroring the sky",
    "shadow": "a lone figure against a low sun",
    "dark": "deep velvet darkness",
    "gold": "a golden sunset",
    "ice": "glittering ice",
    "storm": "a lightning storm",
    "thunder": "a lightning storm",
    "desert": "rolling desert dunes",
    "bridge": "a footbridge above the city traffic",
    "home": "a small house with a warm light",
    "house": "a small house with a warm light",
    "phone": "a wall of lit windows at night",
    "wall": "the lit windows of an apartment block",
    "water": "rippling water",
    "morning": "pale morning light",
    "summer": "a golden summer day",
    "winter": "a frozen winter lake",
    "skyline": "a glittering city skyline",
    "streetlight": "a row of glowing streetlights",
    "neon": "neon-lit streets at night",
    "spark": "a shower of bright sparks",
    "tonight": "a deep blue night sky",
}

# Abstract words: mapped to an image that carries the feeling.
ABSTRACT: dict[str, str] = {
    "love": "two silhouettes holding hands",
    "kiss": "two silhouettes leaning close",
    "alone": "an empty train platform",
    "lonely": "an empty train platform",
    "free": "birds bursting into the open sky",
    "freedom": "birds bursting into the open sky",
    "dream": "a hilltop above the clouds under the stars",
    "time": "a sunset sliding below the horizon",
    "hope": "a first ray of dawn breaking through clouds",
    "lost": "an empty road vanishing into the fog",
    "fear": "a lone figure under a stormy sky",
    "cry": "rain streaming over the city lights",
    "tear": "rain streaming over the city lights",
    "memory": "soft bokeh lights drifting like memories",
    "remember": "soft bokeh lights drifting like memories",
    "cold": "frost and drifting snow",
    "fly": "wings spread wide",
    "fall": "a lone tree losing its leaves",
    "story": "a dark street of glowing windows",
    "together": "two figures side by side",
    "goodbye": "a departing train",
    "forever": "an infinite horizon",
    "soul": "a figure glowing with soft light",
    "broken": "a storm breaking over the city",
    "young": "a small house at dusk",
    "rise": "a sunrise over the rooftops",
    "hold": "two hands clasped tight",
    "wait": "a lone figure under a streetlight",
    "money": "neon-lit city towers at night",
    "war": "fires burning under a stormy sky",
    "fight": "fires burning under a stormy sky",
    "pain": "a lone tree in a storm",
    "sleep": "a moonlit room with a tall window",
    "wild": "a wild storm over the hills",
    "high": "a rooftop above the clouds",
    "gone": "an empty road at dusk",
    "world": "the planet seen from space",
    "feel": "a figure by still water",
}

# Places that can become the project's setting (first hit in lyric order of frequency wins).
SETTINGS: dict[str, str] = {
    "city": "a sprawling city of towers and bridges",
    "street": "a sprawling city of towers and bridges",
    "sea": "a windswept coastline",
    "ocean": "a windswept coastline",
    "wave": "a windswept coastline",
    "forest": "an ancient forest",
    "tree": "an ancient forest",
    "road": "a long highway across open plains",
    "highway": "a long highway across open plains",
    "drive": "a long highway across open plains",
    "car": "a long highway across open plains",
    "desert": "a wide desert under a huge sky",
    "mountain": "high mountain roads",
    "star": "a hilltop under an immense starry sky",
    "moon": "a hilltop under an immense starry sky",
    "sky": "a hilltop under an immense starry sky",
    "river": "a green river valley",
    "snow": "a snowbound small town",
    "winter": "a snowbound small town",
    "home": "a small town of little houses",
    "house": "a small town of little houses",
    "window": "a small town of little houses",
    "train": "a railway across the open plains",
}

# Where inside the project's setting a scene takes place, by the setting's kind and the scene's section
# (a scene picks one by its index). Each place names something the offline illustrator can draw.
SETTING_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("space", ("planet", "space", "nebula", "nebulae", "station", "orbit", "galaxy")),
    ("city", ("city", "alley", "alleys", "towers", "streetlamps", "street", "shapes")),
    ("coast", ("coast", "coastline", "sea", "harbour", "lakeside", "lake", "ocean", "river")),
    ("road", ("highway", "road", "railway", "plains", "desert")),
)
SCENE_PLACES: dict[str, dict[str, tuple[str, ...]]] = {
    "city": {
        "intro": ("the skyline seen from across the water", "the edge of town under a wide sky"),
        "verse": ("a rain-wet street between tall buildings", "the lit windows of an apartment block", "a narrow street under streetlamps", "a footbridge above the traffic"),
        "chorus": ("the rooftops high above the skyline", "a hilltop above the lights", "a wide sky over the bay",
                   "a harbour pier under the night sky", "a highway under the stars"),
        "bridge": ("a harbour pier by the dark sea", "an empty highway out of the city", "a room with a tall window"),
        "breakdown": ("an empty highway out of the city", "a harbour pier by the dark sea", "a room with a tall window"),
        "outro": ("a long road leaving the city", "the skyline seen from across the water"),
    },
    "coast": {
        "intro": ("a misty shore at first light", "a wide bay under a huge sky"),
        "verse": ("a harbour of little houses", "the lit windows of a seaside house", "a boardwalk by the water"),
        "chorus": ("a cliff top above the sea", "an open sky over the waves", "the rooftops above the bay",
                   "a coastal highway under the stars", "a lighthouse on the shore at dusk"),
        "bridge": ("a lighthouse along the coast", "a room with a tall window onto the sea"),
        "breakdown": ("a still lake under the stars", "a coastal road at night"),
        "outro": ("a long beach fading into the distance", "a wide bay under a huge sky"),
    },
    "space": {
        "intro": ("a silent orbit above a blue planet", "a sky of distant galaxies"),
        "verse": ("the rocky ridge of a moon", "the lit windows of a space station", "a crater ridge under the planets"),
        "chorus": ("an open sky full of stars and nebulae", "a ridge under a giant planet"),
        "bridge": ("a frozen sea on a distant planet", "a long road across a desert planet"),
        "breakdown": ("a frozen sea on a distant planet", "a dark room with a tall window onto the stars"),
        "outro": ("a fading view of the planet from space", "a sky of distant galaxies"),
    },
    "road": {
        "intro": ("an empty highway at first light", "open plains under a wide sky"),
        "verse": ("a small town main street", "the lit windows of a roadside motel", "a road through the hills"),
        "chorus": ("an open sky over the plains", "a hilltop above the highway", "the rooftops of a small town", "a lake under a wide sky"),
        "bridge": ("a desert road under the stars", "a lake beside the road"),
        "breakdown": ("a lake beside the road", "a room with a tall window"),
        "outro": ("a long road into the distance", "open plains under a wide sky"),
    },
    "land": {
        "intro": ("a misty valley at first light", "rolling hills under a wide sky"),
        "verse": ("a village street of little houses", "the lit windows of a cottage", "a path through the forest"),
        "chorus": ("a hilltop under an open sky", "the mountains under the stars", "the village rooftops", "a wide lake under the sky"),
        "bridge": ("a still lake in the hills", "a long road across the plains"),
        "breakdown": ("a still lake in the hills", "a room with a tall window"),
        "outro": ("a path fading into the distance", "rolling hills under a wide sky"),
    },
}

# Settings per preset when the lyrics name no place (picked by mood and seed).
DEFAULT_SETTINGS: dict[str, tuple[str, ...]] = {
    "synthwave": ("a neon-lit coastal city at night", "an endless highway toward a glowing horizon"),
    "watercolor": ("a misty lakeside village", "rolling hills with fireflies"),
    "noir": ("a rain-soaked city of alleys and streetlamps", "an empty harbour at midnight"),
    "cosmic": ("a lonely planet under swirling nebulae", "a drifting space station above a blue planet"),
    "papercut": ("a layered land of hills and little houses", "a folded paper forest"),
    "geometric": ("an abstract city of bold towers", "a horizon of bold hills"),
}

# The recurring subject: who the video follows.
SUBJECTS: dict[str, str] = {
    "she": "a young woman in a flowing red coat",
    "he": "a young man in a worn leather jacket",
    "we": "a couple of friends in matching jackets",
    "i": "a lone figure in a long coat",
    "you": "a lone figure in a long coat",
    "wolf": "a silver wolf",
    "bird": "a small white bird",
    "horse": "a wild black horse",
    "cat": "a curious black cat",
}
PRONOUNS: dict[str, str] = {
    "she": "she", "her": "she", "hers": "she",
    "he": "he", "him": "he", "his": "he",
    "we": "we", "us": "we", "our": "we",
    "i": "i", "me": "i", "my": "i", "i'm": "i",
    "you": "you", "your": "you",
}
SUBJECT_BY_MOOD: tuple[tuple[str, str], ...] = (
    ("dark", "a hooded wanderer in a grey cloak"),
    ("brood", "a hooded wanderer in a grey cloak"),
    ("dramat", "a hooded wanderer in a grey cloak"),
    ("driving", "a lone rider in a black leather jacket"),
    ("wistful", "a lone traveller in a long blue coat"),
    ("warm", "a young traveller in a warm orange coat"),
    ("hope", "a young traveller in a warm orange coat"),
    ("uplift", "a young singer in a shimmering gold jacket"),
    ("triumph", "a young singer in a shimmering gold jacket"),
    ("tense", "a hooded wanderer in a grey cloak"),
    ("sad", "a lone traveller in a long blue coat"),
    ("melanch", "a lone traveller in a long blue coat"),
    ("calm", "a young traveller in a warm orange coat"),
    ("dream", "a young traveller in a warm orange coat"),
    ("happy", "a young singer in a shimmering gold jacket"),
    ("euphor", "a young singer in a shimmering gold jacket"),
    ("energ", "a young singer in a shimmering gold jacket"),
)
DEFAULT_SUBJECT = "a lone traveller in a long coat"

# What the subject does, by energy band (low, mid, high); each ends so a noun phrase can follow.
ACTIONS: tuple[tuple[str, ...], ...] = (
    ("stands still before", "gazes up at", "sits quietly beside", "drifts slowly past", "rests beneath", "watches", "waits near"),
    ("walks toward", "turns to look back at", "wanders through", "reaches out to", "follows", "steps into", "looks across"),
    ("runs toward", "dances beneath", "leaps across", "spins in front of", "races past", "throws open arms to", "bursts through"),
)

# How a second image joins the sentence.
CONNECTORS: tuple[str, ...] = ("with {} behind", "framed by {}", "amid {}", "with {} in the distance", "beside {}")

# The feel of a section, appended to the sentence, by energy band (calm, moderate, loud): a loud verse is not "quiet".
SECTION_CUES: dict[str, tuple[str, str, str]] = {
    "intro": ("as the world slowly fades in", "as the world wakes up around them", "as the world bursts into view"),
    "verse": ("in a quiet, observant moment", "in a restless, searching moment", "in a fierce, pounding moment"),
    "chorus": ("as a soft bright glow fills the sky", "as light floods everything", "as blazing light floods everything"),
    "bridge": ("in a dreamlike, shifted reality", "in a strange, shifting moment", "in a wild, whirling moment"),
    "breakdown": ("in a hushed, suspended moment", "in a tense, held moment", "in a crushing, heavy moment"),
    "outro": ("as everything dissolves into the distance", "as everything slowly fades", "as everything burns out in one last blaze"),
    "main": ("in a still moment", "in a moment that moves with the music", "in a fierce moment that pounds with the music"),
}

# Images for scenes without lyric imagery, by section.
SECTION_IMAGERY: dict[str, tuple[str, ...]] = {
    "intro": ("a far horizon at first light", "mist rolling over still water", "a single distant lighthouse"),
    "verse": ("a winding path", "rooftops under a wide sky", "a lone rooftop under the sky"),
    "chorus": ("fireworks bursting overhead", "a blazing horizon", "a sky ablaze with embers and stars"),
    "bridge": ("a sky of drifting clouds and stars", "a moonlit lake below the hills", "a path up into the clouds"),
    "breakdown": ("slowly falling snow in the lamplight", "a still lake reflecting the sky", "a single lighthouse beam in the fog"),
    "outro": ("a fading sunset", "a road leading into the distance", "the last light on the horizon"),
    "main": ("a wide open landscape", "glowing clouds across the sky", "a path into the distance"),
}

# Lighting by mood word (prefix match) and, failing that, by energy band.
LIGHTING_BY_MOOD: tuple[tuple[str, str], ...] = (
    ("calm", "soft diffuse light"),
    ("peace", "soft diffuse light"),
    ("melanch", "cool blue twilight"),
    ("sad", "cool blue twilight"),
    ("bitter", "fading golden-hour light with cool shadows"),
    ("happy", "warm golden light"),
    ("bright", "warm golden light"),
    ("joy", "warm golden light"),
    ("dark", "low-key light with deep shadows"),
    ("tense", "harsh side light with deep shadows"),
    ("angry", "harsh red backlight"),
    ("euphor", "vivid glowing light and lens flares"),
    ("energ", "vivid glowing light and lens flares"),
    ("intense", "vivid glowing light and lens flares"),
    ("dream", "hazy glowing light"),
    ("romant", "warm candle-like glow"),
    ("wistful", "hazy late-afternoon light"),
    ("warm", "warm amber light"),
    ("hope", "soft sunrise light"),
    ("uplift", "bright sunlight breaking through clouds"),
    ("triumph", "blazing golden backlight"),
    ("driving", "streaking lights and strong contrast"),
    ("brood", "moody low-key light"),
    ("dramat", "stark chiaroscuro light"),
    ("silent", "faint pale light"),
)
LIGHTING_BY_ENERGY: tuple[str, ...] = ("soft moonlight", "gentle ambient light", "dramatic rim light")

# Shots by section and energy band (calm, moderate, loud). Each entry is (shots for even scene indexes, shots for
# odd ones): the two never share a shot (EVEN_SHOTS / ODD_SHOTS), so neighbouring scenes never repeat one.
# Choruses, intros and outros get the widest, brightest shots; loud scenes the dynamic ones.
EVEN_SHOTS = frozenset({"wide", "close", "high", "street"})
ODD_SHOTS = frozenset({"medium", "low", "over", "sky", "facade"})
_OPEN = (("wide", "high"), ("sky", "low"))
SHOT_POOLS: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    "intro": ((("wide", "high"), ("sky", "medium")), (("wide", "high"), ("sky", "medium")), _OPEN),
    "verse": ((("close", "wide", "street"), ("medium", "over", "facade")),
              (("street", "close", "high"), ("medium", "over", "low")),
              (("close", "high", "street"), ("low", "over", "medium"))),
    "chorus": (_OPEN, _OPEN, (("high", "wide"), ("low", "sky"))),
    "bridge": ((("close", "wide"), ("over", "sky", "medium")), (("close", "high"), ("over", "sky", "medium")),
               (("high", "close"), ("low", "over", "sky"))),
    "breakdown": ((("close", "wide"), ("over", "medium", "sky")), (("close", "high"), ("over", "low", "medium")),
                  (("close", "high"), ("low", "over", "sky"))),
    "outro": ((("wide", "high"), ("sky", "medium")), (("wide", "high"), ("sky", "medium")), _OPEN),
    "main": ((("close", "wide", "street"), ("medium", "over", "facade")),
             (("street", "close", "high"), ("medium", "over", "low")),
             (("close", "high", "street", "wide"), ("low", "over", "medium", "sky"))),
}
CITY_ONLY_SHOTS = frozenset({"street", "facade"})  # shots that need buildings: only in a city setting
# Lighting words for choruses (the brightest scenes), by energy band.
CHORUS_LIGHT: tuple[str, ...] = ("a soft bright glow", "bright light flooding the scene", "blazing bright light and lens flares")

# Named colours for palette descriptions.
COLOUR_NAMES: dict[str, tuple[int, int, int]] = {
    "black": (10, 10, 10),
    "charcoal": (55, 55, 60),
    "grey": (140, 140, 140),
    "white": (250, 250, 250),
    "cream": (245, 235, 215),
    "deep navy": (15, 25, 70),
    "deep violet": (40, 10, 80),
    "purple": (120, 40, 160),
    "magenta": (255, 40, 150),
    "pink": (245, 170, 190),
    "red": (200, 30, 40),
    "orange": (255, 150, 60),
    "gold": (240, 195, 60),
    "teal": (20, 160, 170),
    "cyan": (40, 235, 255),
    "sage green": (130, 170, 140),
    "forest green": (50, 100, 80),
    "terracotta": (210, 130, 110),
    "brown": (110, 75, 65),
}

STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from up down out over under again
    is are was were be been being am do does did have has had will would can could should
    i me my mine you your yours he him his she her hers it its we us our they them their
    this that these those there here what when where why how who whom which all any some
    no not nor so too very just only own same than then once oh ooh yeah hey la na baby
    gonna wanna gotta let lets got get go goes going come came make made say said know
    like one more into onto through about around tell want need take give see look way
    every ever never still back off now ain't don't can't won't i'm you're it's we're""".split()
)
