"""The cast: the recurring subjects of a video, the rules that tie them to scenes and pictures.

The prompt step proposes a cast from the style bible's subject (which the writer took from the lyrics and
the analysis): :func:`propose_cast`. The user may edit it (``edit_cast`` in ``engine.project``). The draw
step draws each member's reference picture once (its own unit of work, fingerprinted by
:func:`reference_fingerprint`), then every picture whose scene the member is in (:func:`members_in`)
carries the member's look and its reference's hash in its fingerprint (:func:`cast_part`): changing the
cast redraws exactly the pictures that used it. An uploaded reference (``origin="upload"``) is never
redrawn; it replaces a drawn one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from engine.fingerprint import fingerprint
from engine.models import Cast, CastMember, CastMemberFields, StyleBible

CAST_VERSION = "1"  # the proposal rules; part of the proposal's fingerprint
REFERENCE_SIZE = (768, 1024)  # a drawn reference picture (width, height): portrait, the whole figure

# words of a subject description -> silhouette (first match wins: animals before clothing)
SILHOUETTE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wolf", ("wolf", "wolves", "fox", "dog", "hound")),
    ("horse", ("horse", "horses", "stallion", "mare", "deer")),
    ("cat", ("cat", "cats", "kitten", "panther")),
    ("bird", ("bird", "birds", "raven", "crow", "dove", "owl")),
    ("hooded", ("hood", "hooded", "hoodie", "cloak", "cape")),
    ("dress", ("dress", "gown", "skirt")),
    ("jacket", ("jacket", "jackets", "leather", "rider", "biker", "shirt")),
    ("long-coat", ("coat", "trench", "overcoat", "raincoat")),
)
# colour words of a description -> #rrggbb
COLOUR_WORDS: dict[str, str] = {
    "red": "#c8283a", "crimson": "#a3162b", "scarlet": "#d62a2a", "orange": "#f08a2c", "yellow": "#f2cd3c",
    "gold": "#e6b43c", "golden": "#e6b43c", "green": "#3c9a5a", "teal": "#1ca0aa", "blue": "#2f64c8",
    "navy": "#1c2a5c", "purple": "#7a34a8", "violet": "#6a3cc0", "pink": "#f08cb4", "white": "#f0f0ec",
    "silver": "#c4cad2", "grey": "#8a8e96", "gray": "#8a8e96", "black": "#1a1a20", "brown": "#7a4e34",
    "leather": "#5a3824", "cream": "#f0e6cc", "shimmering": "#e8d4ff",
}
HEAD_NOUNS = ("woman", "man", "girl", "boy", "figure", "traveller", "wanderer", "rider", "dancer", "friends", "couple",
              "wolf", "bird", "horse", "cat", "singer", "stranger")
_ARTICLE = re.compile(r"^(a|an|the)\s+", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def silhouette_for(description: str) -> str:
    """The silhouette a description names (an animal, a hood, a dress, a jacket, a coat); a long coat by default."""
    words = set(_words(description))
    for silhouette, cues in SILHOUETTE_WORDS:
        if words & set(cues):
            return silhouette
    return "long-coat"


def colours_for(description: str, palette: list[str]) -> list[str]:
    """Main, second and accent colours: the colours the description names first, then the palette's brightest."""
    named = [COLOUR_WORDS[w] for w in _words(description) if w in COLOUR_WORDS]
    bright = sorted(palette, key=lambda h: -sum(int(h.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)) if len(h) == 7 else 0)
    out: list[str] = []
    for colour in [*named, *bright[1:3], *bright[:1], "#d8d0c0"]:
        colour = colour.lower()
        if colour not in out and re.fullmatch(r"#[0-9a-f]{6}", colour):
            out.append(colour)
        if len(out) == 3:
            break
    return out


def name_for(description: str) -> str:
    """A short name from the description's head noun ("a lone traveller in a long coat" -> "The traveller")."""
    words = _words(description)
    head = next((w for w in words if w in HEAD_NOUNS), None)
    return f"The {head}" if head else "The lead"


def clothing_for(description: str) -> str:
    """What the member wears: the description after "in" / "with" ("a flowing red coat"), else ""."""
    m = re.search(r"\b(?:in|wearing|with)\s+(.+)$", description.strip().rstrip("."), flags=re.IGNORECASE)
    return m.group(1) if m else ""


def propose_cast(bible: StyleBible) -> Cast:
    """The cast proposed for a style bible: the recurring subject as the lead, in every scene."""
    description = bible.subject.strip() or "a lone traveller in a long coat"
    lead = CastMember(
        id="lead", name=name_for(description), description=description,
        silhouette=silhouette_for(description), colours=colours_for(description, bible.palette),  # type: ignore[arg-type]
        clothing=clothing_for(description), appears="always",
    )
    return Cast(fingerprint=proposal_fingerprint(bible), members=[lead])


def proposal_fingerprint(bible: StyleBible) -> str:
    """What a proposed cast depends on: the bible's subject and palette, and the proposal rules."""
    return fingerprint("cast", CAST_VERSION, bible.subject, bible.palette)


def cast_version(cast: Cast | None) -> str:
    """The version (ETag) of a project's cast: changes with every edit, a new proposal and a new reference."""
    return fingerprint("cast-version", cast.model_dump(mode="json", exclude={"schema_version"}) if cast else None)[:16]


def look_fingerprint(member: CastMemberFields) -> str:
    """A member's look: everything the user may edit (name, description, silhouette, colours, clothing, appears)."""
    return fingerprint("cast-look", CastMemberFields.model_validate(member.model_dump(include=set(CastMemberFields.model_fields))))


def reference_fingerprint(member: CastMember, *, illustrator: str, model: str, preset: str, seed: int) -> str:
    """What a drawn reference of ``member`` depends on: its look, the illustrator and model, the style, the seed."""
    return fingerprint("cast-ref", CAST_VERSION, look_fingerprint(member), illustrator, model, preset, seed)


def members_in(cast: Cast | None, text: str) -> list[CastMember]:
    """The members a scene shows: every ``always`` member, and the ``named`` ones whose name or description ``text`` names."""
    if cast is None:
        return []
    low = text.lower()

    def named(m: CastMember) -> bool:
        name = _ARTICLE.sub("", m.name.strip()).lower()
        return bool(name and name in low) or m.description.lower() in low

    return [m for m in cast.members if m.appears == "always" or named(m)]


def cast_part(members: list[CastMember]) -> list[tuple[str, str, str]]:
    """The part of a picture's fingerprint its cast makes: each member's id, look and reference hash."""
    return [(m.id, look_fingerprint(m), m.reference.sha256 if m.reference else "") for m in members]


@dataclass(frozen=True)
class CastPicture:
    """A cast member with its reference picture's PNG bytes (empty before it is drawn), as illustrators get it."""

    member: CastMember
    png: bytes = b""


def merge_edit(old: Cast | None, members: list[CastMemberFields]) -> Cast:
    """The cast after a user edit: the given members, each keeping its reference when its id is known.

    A drawn reference whose look changed is redrawn by the next draw step (its fingerprint no longer
    matches); an uploaded one is kept as it is.
    """
    known = {m.id: m for m in old.members} if old else {}
    out = []
    for fields in members:
        ref = known[fields.id].reference if fields.id in known else None
        out.append(CastMember(**fields.model_dump(), reference=ref))
    return Cast(fingerprint=old.fingerprint if old else "", edited=True, members=out)
