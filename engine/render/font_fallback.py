"""Faces for the characters the bundled font lacks (CJK, Devanagari, ...), found through fontconfig as libass does.

The lyrics are drawn in the bundled DejaVu Sans Bold (:data:`engine.render.subtitles.FONT_FILE`). A character
it has no glyph for is drawn in the first face of fontconfig's fallback list for a bold sans-serif
(``fc-match -s``, each face with its character set) that has it; one that no face has stays in the bundled font
(its "missing glyph" box, as libass draws it). Combining marks stay in the face of the character they modify,
so a cluster is never split between two faces.

Without fontconfig's tools (``fc-match``, ``fc-query``) every character is drawn in the bundled font, as before.
The faces a line uses are part of its chunk's fingerprint and of what a cluster worker must have
(:func:`faces_key`), by content, not by path.
"""
from __future__ import annotations

import bisect
import functools
import logging
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from engine.fingerprint import file_sha256
from engine.render.subtitles import FONT_FILE

log = logging.getLogger(__name__)

_PATTERN = "sans-serif:bold"  # the styles are bold
_TIMEOUT_S = 30


@dataclass(frozen=True)
class Face:
    """One face of a font file (``index``: its number in a collection such as a ``.ttc``)."""

    path: Path
    index: int = 0


PRIMARY = Face(FONT_FILE)


@dataclass(frozen=True)
class _Charset:
    """A face's characters as sorted, disjoint inclusive ranges (fontconfig's ``%{charset}``)."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> _Charset:
        """From fontconfig's format: hex code points and ranges, e.g. ``20-7e a0 100-17f``."""
        ranges = []
        for part in text.split():
            lo, _, hi = part.partition("-")
            ranges.append((int(lo, 16), int(hi or lo, 16)))
        ranges.sort()
        return cls(tuple(lo for lo, _ in ranges), tuple(hi for _, hi in ranges))

    def __contains__(self, code: int) -> bool:
        k = bisect.bisect_right(self.starts, code) - 1
        return k >= 0 and code <= self.ends[k]


def _fontconfig(*args: str) -> str | None:
    """The output of a fontconfig tool, or None when it is missing or fails."""
    if shutil.which(args[0]) is None:
        return None
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=_TIMEOUT_S, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("%s failed (%s): lyrics use only the bundled font", args[0], exc)
        return None


@functools.cache
def _chain() -> tuple[tuple[Face, _Charset], ...]:
    """The bundled face, then fontconfig's fallback list for a bold sans-serif, each with its characters."""
    own = _fontconfig("fc-query", "-f", "%{charset}\n", str(FONT_FILE))
    listed = _fontconfig("fc-match", "-s", "-f", "%{file}|%{index}|%{charset}\n", _PATTERN)
    if own is None or listed is None:
        log.info("fontconfig unavailable: characters the bundled font lacks are drawn as boxes")
        return ()
    chain = [(PRIMARY, _Charset.parse(own.splitlines()[0] if own.strip() else ""))]
    for row in listed.splitlines():
        path, index, charset = (row.split("|", 2) + ["", ""])[:3]
        if path and Path(path).is_file() and Path(path).resolve() != FONT_FILE.resolve():
            chain.append((Face(Path(path), int(index or 0)), _Charset.parse(charset)))
    return tuple(chain)


@functools.cache
def _scalable(face: Face) -> bool:
    """Whether FreeType draws ``face`` at any size (a colour-bitmap emoji or a PCF face has fixed sizes only)."""
    from PIL import ImageFont

    try:
        ImageFont.truetype(str(face.path), 77, index=face.index)
    except (OSError, ValueError) as exc:
        log.info("font %s (face %d) skipped for the lyrics: %s", face.path, face.index, exc)
        return False
    return True


@functools.cache
def face_of(char: str) -> Face:
    """The face that draws ``char``: the bundled one if it has it, else the first fallback that does (and scales)."""
    code = ord(char)
    chain = _chain()
    for face, charset in chain:
        if code in charset and (face == PRIMARY or _scalable(face)):
            return face
    if chain and not char.isspace():
        log.warning("no installed font has U+%04X (%r): it is drawn as a box", code, char)
    return PRIMARY


def runs(text: str) -> list[tuple[Face, str]]:
    """``text`` cut into runs that one face draws, in order (a combining mark goes with the character before it)."""
    out: list[tuple[Face, str]] = []
    for char in text:
        joins = bool(out) and (unicodedata.category(char).startswith("M") or char in "\u200d\ufe0e\ufe0f")
        face = out[-1][0] if joins else face_of(char)
        if out and out[-1][0] == face:
            out[-1] = (face, out[-1][1] + char)
        else:
            out.append((face, char))
    return out


def faces_used(texts: list[str]) -> list[Face]:
    """The fallback faces (not the bundled one) that drawing ``texts`` needs, in first use order."""
    seen: dict[Face, None] = {}
    for text in texts:
        for face, _ in runs(text):
            if face != PRIMARY:
                seen.setdefault(face, None)
    return list(seen)


@functools.cache
def _identity(face: Face) -> str:
    return f"{file_sha256(face.path)}#{face.index}"


def faces_key(texts: list[str]) -> list[str]:
    """What decides the fallback glyphs of ``texts``: each fallback face by content (sha256 of the file, face index)."""
    return [_identity(face) for face in faces_used(texts)]
