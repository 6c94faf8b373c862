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
    "car": "a vintage car with glowing tail lights",
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
    "flower": "a field of blooming flowers",
    "rose": "a single red rose",
    "snow": "drifting snow",
    "wind": "wind-swept grass",
    "cloud": "towering clouds",
    "bird": "a flock of birds",
    "door": "an open door spilling light",
    "mirror": "a tall cracked mirror",
    "shadow": "long stretching shadows",
    "dark": "deep velvet darkness",
    "gold": "shimmering gold dust",
    "ice": "glittering ice",
    "storm": "a lightning storm",
    "thunder": "a lightning storm",
    "desert": "rolling desert dunes",
    "bridge": "a long suspension bridge",
    "home": "a small house with a warm light",
    "house": "a small house with a warm light",
    "phone": "a glowing phone screen",
    "wall": "a crumbling brick wall",
    "water": "rippling water",
    "morning": "pale morning light",
    "summer": "a golden summer field",
    "winter": "a frozen winter lake",
    "skyline": "a glittering city skyline",
    "streetlight": "a row of glowing streetlights",
    "neon": "flickering neon signs",
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
    "dream": "floating islands in the clouds",
    "time": "a giant clock face",
    "hope": "a first ray of dawn breaking through clouds",
    "lost": "a fog-bound crossroads",
    "fear": "a figure in a long dark corridor",
    "cry": "raindrops running down glass",
    "tear": "raindrops running down glass",
    "memory": "faded photographs drifting in the air",
    "remember": "faded photographs drifting in the air",
    "cold": "frost spreading across glass",
    "fly": "wings spread wide",
    "fall": "falling autumn leaves",
    "story": "a dark street of glowing windows",
    "together": "two figures side by side",
    "goodbye": "a departing train",
    "forever": "an infinite horizon",
    "soul": "a softly glowing aura",
    "broken": "shattered glass catching the light",
    "young": "an old playground at dusk",
    "rise": "a sunrise over the rooftops",
    "hold": "two hands clasped tight",
    "wait": "a lone bench under a streetlamp",
    "money": "scattered coins and neon signs",
    "war": "smoke drifting over ruins",
    "fight": "smoke drifting over ruins",
    "pain": "a thorned vine",
    "sleep": "a moonlit bedroom",
    "wild": "wild horses galloping",
    "high": "a rooftop above the clouds",
    "gone": "an empty chair",
    "world": "the curve of the earth from above",
    "feel": "a hand touching the surface of water",
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
    "mountain": "high mountain passes",
    "star": "a hilltop under an immense starry sky",
    "moon": "a hilltop under an immense starry sky",
    "sky": "a hilltop under an immense starry sky",
    "river": "a quiet river valley",
    "snow": "a snowbound small town",
    "winter": "a snowbound small town",
    "home": "a quiet small town",
    "house": "a quiet small town",
    "window": "a quiet small town",
    "train": "a railway line crossing the countryside",
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
        "verse": ("a rain-wet street between tall buildings", "the lit windows of an apartment block", "a quiet street corner under streetlamps", "a footbridge above the traffic"),
        "chorus": ("the rooftops high above the skyline", "an open sky over the city lights", "a rooftop under the stars"),
        "bridge": ("a harbour pier by the dark sea", "an empty highway out of the city", "a room with a tall window"),
        "breakdown": ("an empty highway out of the city", "a harbour pier by the dark sea", "a room with a tall window"),
        "outro": ("a long road leaving the city", "the skyline seen from across the water"),
    },
    "coast": {
        "intro": ("a misty shore at first light", "a wide bay under a huge sky"),
        "verse": ("a harbour street of little houses", "the lit windows of a seaside house", "a boardwalk by the water"),
        "chorus": ("a cliff top above the sea", "an open sky over the waves", "the rooftops above the bay"),
        "bridge": ("a lighthouse road along the coast", "a room with a tall window onto the sea"),
        "breakdown": ("a still lake under the stars", "a coastal road at night"),
        "outro": ("a long beach fading into the distance", "a wide bay under a huge sky"),
    },
    "space": {
        "intro": ("a silent orbit above a blue planet", "a field of distant galaxies"),
        "verse": ("the rocky surface of a moon", "the lit windows of a space station", "a crater rim under the planets"),
        "chorus": ("an open sky full of stars and nebulae", "a ridge under a giant ringed planet"),
        "bridge": ("a frozen sea on an alien world", "a long road across a desert planet"),
        "breakdown": ("a frozen sea on an alien world", "a quiet dome with a tall window"),
        "outro": ("a fading view of the planet from space", "a field of distant galaxies"),
    },
    "road": {
        "intro": ("an empty highway at first light", "open plains under a wide sky"),
        "verse": ("a small town main street", "the lit windows of a roadside motel", "a road through the hills"),
        "chorus": ("an open sky over the plains", "a hilltop above the highway", "the rooftops of a small town"),
        "bridge": ("a desert road under the stars", "a lake beside the road"),
        "breakdown": ("a lake beside the road", "a room with a tall window"),
        "outro": ("a long road into the distance", "open plains under a wide sky"),
    },
    "land": {
        "intro": ("a misty valley at first light", "rolling hills under a wide sky"),
        "verse": ("a village street of little houses", "the lit windows of a cottage", "a path through the forest"),
        "chorus": ("a hilltop under an open sky", "the mountains under the stars", "the village rooftops"),
        "bridge": ("a still lake in the hills", "a long road across the plains"),
        "breakdown": ("a still lake in the hills", "a room with a tall window"),
        "outro": ("a path fading into the distance", "rolling hills under a wide sky"),
    },
}

# Settings per preset when the lyrics name no place (picked by mood and seed).
DEFAULT_SETTINGS: dict[str, tuple[str, ...]] = {
    "synthwave": ("a neon-lit coastal city at night", "an endless highway toward a glowing horizon"),
    "watercolor": ("a misty lakeside village", "rolling hills with wildflowers"),
    "noir": ("a rain-soaked city of alleys and streetlamps", "an empty harbour at midnight"),
    "cosmic": ("a lonely planet under swirling nebulae", "a drifting space station above a blue world"),
    "papercut": ("a layered landscape of hills and little houses", "a folded paper forest"),
    "geometric": ("an abstract city of bold shapes", "a horizon of circles and triangles"),
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
    ("dark", "a hooded wanderer"),
    ("brood", "a hooded wanderer"),
    ("dramat", "a hooded wanderer"),
    ("driving", "a lone rider on a motorbike"),
    ("wistful", "a lone traveller with a lantern"),
    ("warm", "a quiet traveller with a backpack"),
    ("hope", "a quiet traveller with a backpack"),
    ("uplift", "a dancer in a shimmering jacket"),
    ("triumph", "a dancer in a shimmering jacket"),
    ("tense", "a hooded wanderer"),
    ("sad", "a lone traveller with a lantern"),
    ("melanch", "a lone traveller with a lantern"),
    ("calm", "a quiet traveller with a backpack"),
    ("dream", "a quiet traveller with a backpack"),
    ("happy", "a dancer in a shimmering jacket"),
    ("euphor", "a dancer in a shimmering jacket"),
    ("energ", "a dancer in a shimmering jacket"),
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

# The feel of a section, appended to the sentence.
SECTION_CUES: dict[str, str] = {
    "intro": "as the world slowly fades in",
    "verse": "in a quiet, observant moment",
    "chorus": "as light floods everything",
    "bridge": "in a dreamlike, shifted reality",
    "breakdown": "in a hushed, suspended moment",
    "outro": "as everything dissolves into the distance",
    "main": "in a moment that moves with the music",
}

# Images for scenes without lyric imagery, by section.
SECTION_IMAGERY: dict[str, tuple[str, ...]] = {
    "intro": ("a quiet horizon at first light", "mist rolling over still water", "a single distant light"),
    "verse": ("a winding path", "rooftops under a wide sky", "a quiet street corner"),
    "chorus": ("fireworks bursting overhead", "a blazing horizon", "swirling ribbons of light"),
    "bridge": ("an upside-down sky", "floating fragments of the landscape", "a staircase into the clouds"),
    "breakdown": ("slowly falling particles of light", "a still pool reflecting the sky", "a single beam of light"),
    "outro": ("a fading sunset", "footprints leading into the distance", "the last light on the horizon"),
    "main": ("a wide open landscape", "rippling light across the sky", "a path into the distance"),
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

# Camera and composition, by energy band.
CAMERAS: tuple[tuple[str, ...], ...] = (
    ("wide establishing shot", "slow panoramic view", "distant silhouette composition", "symmetrical wide shot"),
    ("medium shot", "over-the-shoulder view", "rule-of-thirds composition", "gentle high-angle view", "close-up"),
    ("dynamic low-angle shot", "dramatic close-up", "tilted dutch angle", "sweeping aerial view", "motion-blurred tracking shot"),
)

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
