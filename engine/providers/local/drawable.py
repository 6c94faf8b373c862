"""The one registry of what the offline illustrator can draw, read by the illustrator and the writer alike.

Each element of a picture (a sky, a ground, a light, a subject, a particle) is listed once with the words
that name it; ``paint_plan`` matches prompt words against these tables, and the writer's vocabulary
(``vocab.py``) may only name things listed here (``tests/engine/test_vocabulary.py`` reads every phrase
the writer can write and checks each of its nouns is in :data:`THINGS` and is drawn). Words that name no
thing (adjectives, verbs, places in a phrase like "in the distance") are in :data:`NOT_THINGS`.

The shots are listed here too: :data:`SHOT_PHRASES` is the camera phrase the writer writes for each shot,
and the phrase the illustrator reads back.
"""
from __future__ import annotations

SKY_WORDS: dict[str, set[str]] = {
    "cosmic": {"space", "galaxy", "galaxies", "nebula", "nebulae", "cosmos", "cosmic", "universe", "planet", "planets", "orbit",
               "astronaut", "comet"},
    "storm": {"storm", "stormy", "thunder", "lightning", "clouds", "cloud", "cloudy", "grey", "gray", "tempest", "overcast", "rain",
              "rainy", "fog", "mist", "misty"},
    "sunset": {"sunset", "sunrise", "dusk", "dawn", "twilight", "golden", "evening", "setting", "horizon"},
    "night": {"night", "midnight", "moon", "moonlight", "moonlit", "stars", "starry", "dark", "darkness", "nocturnal", "neon"},
    "day": {"day", "morning", "noon", "bright", "summer", "blue", "daylight", "sunny", "spring"},
}
GROUND_WORDS: dict[str, set[str]] = {
    "sea": {"sea", "ocean", "waves", "wave", "beach", "shore", "lake", "water", "river", "tide", "coast", "coastline", "island",
            "surf", "harbour", "harbor", "pier", "bay", "boardwalk", "seaside", "lakeside", "valley"},
    "city": {"city", "skyline", "building", "buildings", "town", "urban", "downtown", "rooftop", "rooftops", "tower", "towers",
             "metropolis", "street", "streets", "footbridge", "block", "apartment", "traffic", "bridges", "wall"},
    "mountains": {"mountain", "mountains", "hills", "hill", "hilltop", "peak", "peaks", "cliff", "cliffs", "canyon", "ridge",
                  "crater"},
    "forest": {"forest", "trees", "woods", "woodland", "jungle", "pines", "pine", "grove"},
    "desert": {"desert", "dunes", "dune", "sand", "sahara", "dust", "dry"},
    "road": {"road", "roads", "highway", "asphalt", "drive", "driving", "route", "freeway", "path", "journey", "plains"},
    "grid": {"grid", "retro-futurism", "cyber", "digital", "arcade", "virtual"},
}
LIGHT_WORDS: dict[str, set[str]] = {
    "sun": {"sun", "sunset", "sunrise", "sunlight", "dawn", "sunny", "solar"},
    "moon": {"moon", "moonlight", "lunar", "moonlit"},
    "lamps": {"lamp", "lamps", "lamplight", "streetlight", "streetlights", "streetlamp", "streetlamps", "lantern", "lanterns", "lights",
              "neon-lit"},
    "fire": {"fire", "fires", "flame", "flames", "burning", "candle", "bonfire", "campfire", "blaze", "burn"},
}
SUBJECT_WORDS: dict[str, set[str]] = {
    "couple": {"couple", "lovers", "together", "two", "us", "embrace", "kiss", "hand", "hands", "friends", "figures",
               "silhouettes"},
    "figure": {"figure", "man", "woman", "girl", "boy", "person", "silhouette", "singer", "dancer", "lone", "alone",
               "walking", "stranger", "me", "myself", "i", "she", "he", "traveller", "traveler", "wanderer", "rider"},
    "car": {"car", "cars", "convertible", "driving", "drive", "ride", "wheels", "headlights"},
    "tree": {"tree", "oak", "willow", "branches", "leaves"},
    "heart": {"heart", "hearts", "love", "loved", "loving", "heartbeat"},
    "bird": {"bird", "birds", "wings", "fly", "flying", "flight", "crow", "crows", "gull", "dove", "free", "freedom", "flock"},
    "train": {"train", "station", "rails", "railway", "tracks", "subway", "departure", "platform"},
    "house": {"house", "houses", "home", "cabin", "door", "cottage", "motel", "village"},
    "lighthouse": {"lighthouse"},
}
PARTICLE_WORDS: dict[str, set[str]] = {
    "rain": {"rain", "raining", "rainy", "drizzle", "downpour", "tears", "crying", "storm"},
    "snow": {"snow", "snowy", "snowing", "snowflakes", "winter", "frost", "frozen", "ice", "cold", "snowbound"},
    "fireflies": {"fireflies", "firefly", "glowing", "magic", "summer", "wish"},
    "embers": {"embers", "ember", "sparks", "spark", "fire", "burning", "ashes", "ash", "flames", "fireworks"},
    "stars": {"stars", "star", "starry", "starlight", "constellation", "constellations", "galaxy", "cosmos", "space"},
    "bokeh": {"bokeh", "lights", "glow", "dream", "dreams", "dreaming", "dreamy", "memories", "memory", "blur"},
}
# The cast: who the video follows is drawn as the cast's figure (engine/providers/local/paint_cast.py).
CAST_WORDS: set[str] = {"wolf", "horse", "cat", "bird", "coat", "jacket", "jackets", "hooded", "dress", "raincoat", "cloak"}

# Scene words that decide the composition when the prompt names no shot (checked in the intent only).
SKY_SHOT_WORDS = {"stars", "star", "starry", "sky", "skies", "moon", "heavens", "constellations", "starlight", "starfield", "galaxy"}
STREET_WORDS = {"street", "streets", "streetlights", "streetlight", "streetlamps", "alley", "alleys", "avenue", "boulevard", "lane"}
FACADE_WORDS = {"window", "windows", "facade", "apartment", "apartments", "balcony", "balconies", "room"}
ROOFTOP_WORDS = {"rooftop", "rooftops", "roof", "roofs", "ledge"}
DANCE_WORDS = {"dance", "dances", "dancing", "dancers", "spins", "spinning", "twirl", "party", "crowd"}
RUN_WORDS = {"run", "runs", "running", "runner", "runners", "race", "races", "racing", "sprint", "chase", "chasing", "escape"}

SHOTS = ("wide", "medium", "close", "over", "low", "high", "sky", "street", "facade")
# The camera phrase of each shot: the local writer writes it, the illustrator reads it back (camera_shot).
SHOT_PHRASES: dict[str, str] = {
    "wide": "wide establishing shot",
    "medium": "medium shot",
    "close": "dramatic close-up",
    "over": "over-the-shoulder view",
    "low": "dynamic low-angle shot",
    "high": "sweeping aerial view",
    "sky": "open-sky panorama",
    "street": "street-level view",
    "facade": "view across lit windows",
}
# Camera words of people (and of the writer) -> a shot; the first match in this order wins.
CAMERA_WORDS: tuple[tuple[str, str], ...] = (
    ("street-level", "street"), ("lit windows", "facade"), ("open-sky", "sky"),
    ("close-up", "close"), ("closeup", "close"), ("close", "close"), ("portrait", "close"),
    ("over-the-shoulder", "over"), ("shoulder", "over"),
    ("low-angle", "low"), ("worm's-eye", "low"),
    ("aerial", "high"), ("high-angle", "high"), ("above", "high"), ("bird's-eye", "high"),
    ("wide", "wide"), ("panoramic", "wide"), ("establishing", "wide"), ("distant", "wide"), ("landscape", "wide"),
    ("medium", "medium"), ("tracking", "medium"), ("dutch", "medium"), ("rule-of-thirds", "medium"), ("symmetrical", "wide"),
)

TABLES: dict[str, dict[str, set[str]]] = {
    "sky": SKY_WORDS, "ground": GROUND_WORDS, "light": LIGHT_WORDS, "subject": SUBJECT_WORDS, "particle": PARTICLE_WORDS,
}


def things() -> dict[str, list[tuple[str, str]]]:
    """Every word that names a drawable thing -> the (layer, element) pairs that draw it."""
    out: dict[str, list[tuple[str, str]]] = {}
    for layer, table in TABLES.items():
        for element, words in table.items():
            for word in words:
                out.setdefault(word, []).append((layer, element))
    for word in CAST_WORDS:
        out.setdefault(word, []).append(("cast", "figure"))
    for word in STREET_WORDS:
        out.setdefault(word, []).append(("shot", "street"))
    for word in FACADE_WORDS:
        out.setdefault(word, []).append(("shot", "facade"))
    for word in ROOFTOP_WORDS:
        out.setdefault(word, []).append(("subject", "rooftop"))
    for word in SKY_SHOT_WORDS:
        out.setdefault(word, []).append(("sky", "any"))
    for word in DANCE_WORDS:
        out.setdefault(word, []).append(("pose", "dance"))
    return out


THINGS: dict[str, list[tuple[str, str]]] = things()

# Words of the writer's phrases that name no thing to draw: qualities, actions, directions, measures.
NOT_THINGS = frozenset(
    """above across against air along ancient angle arms aerial backlight beneath beside between black blazing blue bold
    breaking bright bursting catching clasped close coastal cool crossing curious dark deep departing diffuse distance
    distant drifting dynamic edge empty endless establishing faint fading falling far fills first flares floods flowing
    folded full gentle giant glittering gold golden green grey high hooded huge immense infinite into lens lit little
    lone long low main matching medium moment moody old open pale panorama racing red reflecting restless rippling
    roaring rocky rolling row rushing seen shifted shimmering short side silver single slowly small soft softly sprawling
    stark still streaking strong surface swept swirling tall tight top toward towering vast velvet view vivid warm wet
    white wide wild winding windswept world worn young light lighting beams beam glowing sheets shower full quiet
    observant dreamlike reality hushed suspended everything dissolves moves music fades slowly fierce pounding searching
    restless soft glow sky skies land landscape place places shot shots amber candle-like chiaroscuro contrast hazy
    late-afternoon key low-key harsh rim sunlight backlit lost vanishing streaming shedding fresh ray paper layered losing
    lonely leaving below past mirroring sliding vintage abstract spilling overhead last roadside holding leaning spread
    leather orange amid burns bursts wakes flooding scene dramatic drifts shadows follows framed gazes ambient crushing
    heavy pounds strange shifting tense held whirling leaps looks races reaches rests runs sits quietly front stands before
    steps sweeping throws turns waits near walks wanders watches behind silent ablaze leading narrow green""".split()
)
