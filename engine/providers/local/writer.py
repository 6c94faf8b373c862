"""The local (offline, deterministic) writer: scene intents, the style bible and image prompts.

Everything here is a pure function of its inputs: the same analysis, scene and
style always give the same text (choices use stable hashes, never ``hash()``
or a random generator). The vocabulary lives in :mod:`.vocab`.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import Counter

from engine.models import Analysis, ProjectSettings, Scene, StyleBible
from engine.providers.base import StepIO
from engine.providers.local import vocab
from engine.providers.local.drawable import SHOT_PHRASES
from engine.styles import get_preset

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_KNOWN = {**vocab.IMAGERY, **vocab.ABSTRACT}


# --------------------------------------------------------------------------- words


def tokens(text: str) -> list[str]:
    """Lower-case words of ``text`` (apostrophes inside words kept)."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def stem(word: str) -> str:
    """A crude stem that matches the vocabulary keys (stars -> star, burning -> burn, cried -> cry)."""
    tables = (_KNOWN, vocab.SETTINGS, vocab.SUBJECTS)
    if any(word in t for t in tables):
        return word
    candidates = []
    if word.endswith("'s"):
        candidates.append(word[:-2])
    if word.endswith("ies") or word.endswith("ied"):
        candidates.append(word[:-3] + "y")
    for suffix in ("ing", "ed", "es", "s", "ly", "er"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            base = word[: -len(suffix)]
            candidates += [base, base + "e"]
            if len(base) >= 3 and base[-1] == base[-2]:
                candidates.append(base[:-1])  # running -> run
    for c in candidates:
        if any(c in t for t in tables):
            return c
    return word


def content_words(text: str) -> list[str]:
    """Words of ``text`` that are not stop words, as stems, in order."""
    return [stem(w) for w in tokens(text) if w not in vocab.STOPWORDS and len(w) > 2]


def images_in(text: str) -> list[str]:
    """Picture phrases for the words of ``text``: concrete images first, then abstract ones; no repeats."""
    concrete, abstract = [], []
    for w in content_words(text):
        if w in vocab.IMAGERY and vocab.IMAGERY[w] not in concrete:
            concrete.append(vocab.IMAGERY[w])
        elif w in vocab.ABSTRACT and vocab.ABSTRACT[w] not in abstract:
            abstract.append(vocab.ABSTRACT[w])
    return concrete + [a for a in abstract if a not in concrete]


def track_motifs(analysis: Analysis) -> list[str]:
    """The track's recurring images: picture phrases of all lyrics, most frequent first."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for line in analysis.lyrics:
        for phrase in images_in(line.text):
            counts[phrase] += 1
            first.setdefault(phrase, len(first))
    return sorted(counts, key=lambda p: (-counts[p], first[p]))


def _pick(options: tuple[str, ...] | list[str], *parts: object) -> str:
    """A stable choice among ``options`` keyed by ``parts``."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def energy_band(energy: float) -> int:
    """0 calm (< 0.35), 1 moderate (< 0.7), 2 high."""
    return 0 if energy < 0.35 else 1 if energy < 0.7 else 2


def section_key(label: str) -> str:
    """A known section name for ``label`` ('Chorus 2' -> 'chorus'); 'main' if unknown."""
    low = label.lower()
    for key in vocab.SECTION_CUES:
        if low.startswith(key):
            return key
    return "main"


def _by_prefix(table: tuple[tuple[str, str], ...], text: str) -> str | None:
    for word in tokens(text):
        for prefix, value in table:
            if word.startswith(prefix):
                return value
    return None


# --------------------------------------------------------------------------- the style bible


def recurring_subject(analysis: Analysis) -> str:
    """Who the video follows, from the lyrics' animals and pronouns, else from the mood.

    Depends on the analysis only (not on the style or seed), so scene intents
    written before a style change still name the bible's subject.
    """
    words = [w for line in analysis.lyrics for w in tokens(line.text)]
    stems = Counter(stem(w) for w in words)
    for animal in ("wolf", "bird", "horse", "cat"):
        if stems[animal] >= 2:
            return vocab.SUBJECTS[animal]
    people = Counter(vocab.PRONOUNS[w] for w in words if w in vocab.PRONOUNS)
    if people["she"] >= 2 and people["she"] >= people["he"]:
        return vocab.SUBJECTS["she"]
    if people["he"] >= 2:
        return vocab.SUBJECTS["he"]
    if people["we"] > people["i"]:
        return vocab.SUBJECTS["we"]
    if people["i"] or people["you"]:
        return vocab.SUBJECTS["i"]
    moods = " ".join([analysis.mood, *(s.mood for s in analysis.sections)])
    return _by_prefix(vocab.SUBJECT_BY_MOOD, moods) or vocab.DEFAULT_SUBJECT


def setting_for(analysis: Analysis, *, preset_id: str, seed: int) -> str:
    """The place of the video: the lyrics' most named place, else a preset default chosen by mood and seed."""
    places: Counter[str] = Counter()
    for line in analysis.lyrics:
        for w in content_words(line.text):
            if w in vocab.SETTINGS:
                places[vocab.SETTINGS[w]] += 1
    if places:
        return places.most_common(1)[0][0]  # ties: the first named (Counter keeps insertion order)
    options = vocab.DEFAULT_SETTINGS.get(preset_id, vocab.DEFAULT_SETTINGS["synthwave"])
    return _pick(options, preset_id, seed, analysis.mood)


def style_bible_for(analysis: Analysis, *, preset_id: str, seed: int) -> StyleBible:
    """The project-wide look: the preset's palette and keywords, a setting and a recurring subject.

    Raises InputError for an unknown preset.
    """
    preset = get_preset(preset_id)
    return StyleBible(
        preset=preset.id,
        palette=list(preset.palette),
        setting=setting_for(analysis, preset_id=preset.id, seed=seed),
        subject=recurring_subject(analysis),
        look=preset.keywords,
        negative=preset.negative,
    )


# --------------------------------------------------------------------------- scene intents


def visual_intent_for(scene_draft: Scene, *, analysis: Analysis, index: int, style: StyleBible | None = None) -> str:
    """One vivid sentence describing the scene: subject, action, lyric imagery, section feel.

    Imagery comes from the scene's lyric words (concrete words directly,
    abstract words mapped to images); scenes without any borrow the track's
    recurring motifs and their section's imagery. Every phrase names only
    things the illustrator draws (``drawable.py``). The action follows the
    energy, and the choice of action and connector rotates with ``index`` so
    neighbouring scenes differ. ``style`` supplies the recurring subject
    (default: :func:`recurring_subject`).
    """
    subject = style.subject if style is not None else recurring_subject(analysis)
    band = energy_band(scene_draft.energy)
    key = section_key(scene_draft.section)
    images = images_in(scene_draft.lyric_text)
    # a lyric word with no picture in the vocabulary is not named (it would not be drawn): motifs and the section fill in
    motifs = track_motifs(analysis)
    fillers = [motifs[(index + k) % len(motifs)] for k in range(len(motifs))] if motifs else []
    section_images = vocab.SECTION_IMAGERY[key]
    fillers.append(section_images[index % len(section_images)])
    for phrase in fillers:
        if len(images) >= 2:
            break
        if phrase not in images:
            images.append(phrase)
    if len(images) < 2:
        images.append(section_images[(index + 1) % len(section_images)])
    actions = vocab.ACTIONS[band]
    action = actions[index % len(actions)]
    connector = vocab.CONNECTORS[index % len(vocab.CONNECTORS)].format(images[1])
    sentence = f"{subject} {action} {images[0]}, {connector}, {vocab.SECTION_CUES[key][band]}."
    return sentence[0].upper() + sentence[1:]


# --------------------------------------------------------------------------- prompts


def colour_names(palette: list[str]) -> list[str]:
    """Nearest plain colour names for hex colours, without repeats."""
    names: list[str] = []
    for hex_colour in palette:
        h = hex_colour.lstrip("#")
        if len(h) != 6:
            continue
        rgb = tuple(int(h[i : i + 2], 16) for i in (0, 2, 4))
        name = min(vocab.COLOUR_NAMES, key=lambda n: sum((a - b) ** 2 for a, b in zip(vocab.COLOUR_NAMES[n], rgb)))
        if name not in names:
            names.append(name)
    return names


def lighting_for(*, mood: str, energy: float) -> str:
    """Lighting words from the mood, else from the energy."""
    return _by_prefix(vocab.LIGHTING_BY_MOOD, mood) or vocab.LIGHTING_BY_ENERGY[energy_band(energy)]


def shot_for(*, section: str, energy: float, index: int, setting: str = "") -> str:
    """The shot of one scene, from its section and energy, rotating with ``index``.

    Even and odd indexes draw from disjoint shot sets (``vocab.SHOT_POOLS``), so neighbouring scenes never
    repeat a shot; street and window shots only where the setting is a city.
    """
    even, odd = vocab.SHOT_POOLS[section_key(section)][energy_band(energy)]
    pool = even if index % 2 == 0 else odd
    if setting_kind(setting) != "city":
        pool = tuple(s for s in pool if s not in vocab.CITY_ONLY_SHOTS) or pool
    return pool[(index // 2) % len(pool)]


def camera_for(*, energy: float, index: int, section: str = "main", setting: str = "") -> str:
    """The camera phrase of one scene's shot (:func:`shot_for`), as the illustrator reads it (``drawable.SHOT_PHRASES``)."""
    return SHOT_PHRASES[shot_for(section=section, energy=energy, index=index, setting=setting)]


def setting_kind(setting: str) -> str:
    """The kind of a setting (city, coast, space, road, land) from its words."""
    words = set(tokens(setting))
    for kind, cues in vocab.SETTING_KINDS:
        if words & set(cues):
            return kind
    return "land"


def scene_setting(*, setting: str, section: str, index: int) -> str:
    """Where in the project's ``setting`` one scene happens: a place for its section, rotating with ``index``.

    Verses keep to streets and windows, choruses open up to rooftops and sky,
    bridges and breakdowns leave for the sea, the road or a room; the project's
    setting stays named so the video keeps its place.
    """
    places = vocab.SCENE_PLACES[setting_kind(setting)]
    key = section_key(section)
    options = places.get(key) or tuple(p for k in ("verse", "chorus", "bridge") for p in places[k])
    # a stride coprime with the number of places (a different cycle from the shots, which step every second
    # scene), so every place comes round and a shot and a place do not keep returning together
    n = len(options)
    stride = next(k for k in (3, 7, 2, 5) if math.gcd(k, n) == 1)
    return f"{options[(index * stride + index // n) % n]} in {setting}"


def write_prompt(scene: Scene, *, bible: StyleBible) -> tuple[str, str, list[str]]:
    """(image_prompt, negative_prompt, style_hints) for one scene in the bible's style.

    The prompt is: the scene's visual intent (subject and action), a place
    within the bible's setting for the scene's section (:func:`scene_setting`),
    lighting from mood and energy, a camera framing, the preset's style
    keywords and its palette as colour names.
    """
    intent = scene.visual_intent.strip().rstrip(".")
    if not scene.edited and bible.subject and bible.subject.lower() not in intent.lower():
        intent = f"{intent}, featuring {bible.subject}"
    lighting = lighting_for(mood=scene.mood, energy=scene.energy)
    if section_key(scene.section) == "chorus":  # the brightest scenes
        lighting = f"{vocab.CHORUS_LIGHT[energy_band(scene.energy)]}, {lighting}"
    camera = camera_for(energy=scene.energy, index=scene.index, section=scene.section, setting=bible.setting)
    colours = colour_names(bible.palette)
    parts = [
        f"{intent}.",
        f"Setting: {scene_setting(setting=bible.setting, section=scene.section, index=scene.index)}.",
        f"{lighting[0].upper()}{lighting[1:]}, {camera}.",
        f"{bible.look[:1].upper()}{bible.look[1:]}.",
    ]
    if colours:
        parts.append(f"Colour palette: {', '.join(colours)}.")
    hints = [bible.preset, scene.mood, lighting, camera] if scene.mood else [bible.preset, lighting, camera]
    return " ".join(parts), bible.negative, hints


class LocalWriter:
    """The offline :class:`engine.providers.base.PromptWriter`."""

    name = "local"
    version = "3"  # 3: shots follow section and energy (never repeated next door), cues by energy, drawable nouns only

    def style_bible(self, analysis: Analysis, scenes: list[Scene], *, settings: ProjectSettings, io: StepIO) -> StyleBible:
        """The bible from the project's style preset and seed."""
        return style_bible_for(analysis, preset_id=settings.style, seed=settings.seed)

    def write(
        self, scenes: list[Scene], *, bible: StyleBible, settings: ProjectSettings, io: StepIO
    ) -> dict[str, tuple[str, str, list[str]]]:
        """A prompt per scene, keyed by scene id."""
        return {scene.id: write_prompt(scene, bible=bible) for scene in scenes}
