"""Real-music evaluation corpus with ground truth, rebuilt from Debian packages.

    python bench/corpus.py build [--out data/corpus] [--only NAME ...] [--force]
    python bench/corpus.py excerpts [--corpus data/corpus] [--out tests/data/real_audio]
    python bench/corpus.py list [--corpus data/corpus]

``build`` fetches the Debian packages it needs (``apt-get download``, cached
in ``OUT/_debs/`` and unpacked in ``OUT/_pkgs/``), installs fluidsynth and
the GM soundfont with apt-get when root and missing, renders / mixes and
writes ``NAME.wav`` (mono, 22.05 kHz, 16-bit) and ``NAME.json`` per track. A
track whose JSON has the current ``recipe_version`` is skipped. Nothing is
downloaded except Debian packages.

``excerpts`` cuts the committed test excerpts (``tests/data/real_audio/``:
OGG Vorbis, mono, 22.05 kHz, 20-30 s, truth relative to the excerpt start).

Truth JSON (seconds): name, kind ("midi" | "charted-recording" |
"recording"), audio, duration_s, tempo_bpm (median tapped tempo or null),
tempo_varies, beats_per_bar (tapped pulses per bar: 2 for 6/8), beats_s,
downbeats_s, sections_s (boundaries where the arrangement changes, without 0
and the end), tags, truth_quality ("exact" | "charted" | "poor" | null),
source {package, file, license}, recipe_version; optionally unpulsed_s
([[start, end], ...] spans without a pulse, whose beats are left out of
beats_s: skip them when scoring), fade_out_s, section_labels,
truth_offset_correction_ms and alignment_check (what the build measured).

The sources and their truth are described in bench/corpus_sources.py, our own
arrangements in bench/corpus_midi.py.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(REPO))

from bench import corpus_tools as ct  # noqa: E402

if TYPE_CHECKING:  # corpus_sources needs mido (the bench extra); load_corpus must not
    from bench import corpus_sources as cs

log = logging.getLogger("bench.corpus")

DEFAULT_OUT = REPO / "data" / "corpus"
EXCERPTS_DIR = REPO / "tests" / "data" / "real_audio"
KINDS = ("midi", "charted-recording", "recording")
_KNOWN = {"name", "kind", "audio", "duration_s", "tempo_bpm", "tempo_varies", "beats_per_bar", "beats_s",
          "downbeats_s", "sections_s", "unpulsed_s", "tags", "truth_quality", "source", "recipe_version"}


@dataclass(frozen=True)
class Track:
    """One corpus track: its audio file and its truth (times in seconds).

    ``beats_s`` / ``downbeats_s`` / ``sections_s`` are None when unknown;
    ``unpulsed_s`` lists spans without a pulse (no beats there: skip them when
    scoring). ``extra`` holds the JSON's other fields (alignment_check, ...)."""

    name: str
    kind: str
    audio: Path
    duration_s: float
    tempo_bpm: float | None
    tempo_varies: bool
    beats_per_bar: int
    beats_s: tuple[float, ...] | None
    downbeats_s: tuple[float, ...] | None
    sections_s: tuple[float, ...] | None
    unpulsed_s: tuple[tuple[float, float], ...]
    tags: tuple[str, ...]
    truth_quality: str | None
    source: dict[str, str] = field(hash=False, compare=False)
    recipe_version: int = 0
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def has_beat_truth(self) -> bool:
        """True when the beats may be scored (exact or checked charted truth)."""
        return self.beats_s is not None and self.truth_quality in ("exact", "charted")

    def in_pulse(self, t: float) -> bool:
        """False inside an unpulsed span."""
        return not any(a <= t < b for a, b in self.unpulsed_s)


def _tup(x: Iterable[float] | None) -> tuple[float, ...] | None:
    return None if x is None else tuple(float(v) for v in x)


def track_from_json(path: Path) -> Track:
    """Read one truth JSON (the audio path is resolved next to it)."""
    d = json.loads(path.read_text())
    return Track(
        name=d["name"], kind=d["kind"], audio=path.parent / d["audio"], duration_s=float(d["duration_s"]),
        tempo_bpm=None if d.get("tempo_bpm") is None else float(d["tempo_bpm"]),
        tempo_varies=bool(d.get("tempo_varies", False)), beats_per_bar=int(d.get("beats_per_bar") or 4),
        beats_s=_tup(d.get("beats_s")), downbeats_s=_tup(d.get("downbeats_s")), sections_s=_tup(d.get("sections_s")),
        unpulsed_s=tuple((float(a), float(b)) for a, b in d.get("unpulsed_s") or ()),
        tags=tuple(d.get("tags") or ()), truth_quality=d.get("truth_quality"), source=dict(d.get("source") or {}),
        recipe_version=int(d.get("recipe_version", 0)), extra={k: v for k, v in d.items() if k not in _KNOWN})


def load_corpus(folder: str | Path) -> list[Track]:
    """All tracks of a built corpus (or of the test excerpts) in ``folder``,
    sorted by name; tracks whose audio file is missing are left out."""
    folder = Path(folder)
    out = []
    for p in sorted(folder.glob("*.json")):
        if p.name.startswith("_"):
            continue
        t = track_from_json(p)
        if t.audio.exists():
            out.append(t)
        else:
            log.warning("%s: audio %s missing, skipped", p.name, t.audio)
    return out


# ---------------------------------------------------------------------- build
def _round(x: Any) -> Any:
    if isinstance(x, float):
        return round(x, 4)
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_round(v) for v in x]
    return x


def _write_json(path: Path, d: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_round(d), indent=1) + "\n")
    tmp.replace(path)


def is_built(out: Path, recipe: cs.Recipe) -> bool:
    """True when ``recipe``'s JSON and audio exist with its current version."""
    js = out / f"{recipe.name}.json"
    if not js.exists() or not (out / f"{recipe.name}.wav").exists():
        return False
    try:
        return json.loads(js.read_text()).get("recipe_version") == recipe.version
    except (OSError, ValueError):
        return False


def build_track(out: Path, recipe: cs.Recipe) -> dict[str, Any]:
    """Make one track (audio + truth JSON) in ``out``; returns the JSON."""
    y, fields = recipe.build(out)
    ct.write_wav(out / f"{recipe.name}.wav", y)
    d: dict[str, Any] = {"name": recipe.name, "kind": fields.pop("kind"), "audio": f"{recipe.name}.wav",
                         "duration_s": round(len(y) / ct.SR, 3)}
    for k in ("tempo_bpm", "tempo_varies", "beats_per_bar", "beats_s", "downbeats_s", "sections_s", "tags",
              "truth_quality", "source"):
        d[k] = fields.pop(k, None)
    d["recipe_version"] = recipe.version
    d.update(fields)
    assert d["kind"] in KINDS, d["kind"]
    _write_json(out / f"{recipe.name}.json", d)
    return d


def build(out: Path = DEFAULT_OUT, only: Sequence[str] | None = None, force: bool = False) -> list[str]:
    """Build the corpus in ``out`` (only the named tracks if given); returns
    the names of the tracks built now (the others were up to date)."""
    from bench import corpus_sources as cs

    out.mkdir(parents=True, exist_ok=True)
    todo = cs.recipes()
    if only:
        unknown = set(only) - {r.name for r in todo}
        if unknown:
            raise KeyError(f"unknown track(s): {', '.join(sorted(unknown))}")
        todo = [r for r in todo if r.name in only]
    done = []
    for r in todo:
        if not force and is_built(out, r):
            log.debug("%s: up to date", r.name)
            continue
        t0 = time.perf_counter()
        log.info("building %s (%s)", r.name, r.family)
        build_track(out, r)
        log.info("built %s in %.1f s", r.name, time.perf_counter() - t0)
        done.append(r.name)
    return done


# ------------------------------------------------------------------- excerpts
@dataclass(frozen=True)
class Excerpt:
    """A window of a corpus track committed for the tests."""

    name: str
    track: str
    start_s: float
    dur_s: float
    why: str
    drop_tags: tuple[str, ...] = ()  # track tags that do not apply to this window


EXCERPTS: tuple[Excerpt, ...] = (
    Excerpt("fof_chaos_god_30s", "fof_chaos_god", 30.0, 25.0, "fast charted real metal (170 BPM, double kick)"),
    Excerpt("fof_internal_degeneration_40s", "fof_internal_degeneration", 40.0, 25.0, "fast charted real metal (190 BPM)"),
    Excerpt("fof_war_of_freedom_20s", "fof_war_of_freedom", 20.0, 25.0, "charted real rock/metal, chart offset corrected"),
    Excerpt("own_waltz_3_4", "own_waltz_144", 8.0, 24.0, "3/4"),
    Excerpt("own_six_eight", "own_six_eight_66", 6.0, 26.0, "6/8 (2 tapped pulses per bar)"),
    Excerpt("own_shuffle", "own_shuffle_112", 4.0, 24.0, "swing / shuffle"),
    Excerpt("own_tempo_change", "own_tempo_change", 18.0, 24.0, "tempo change 100 -> 130 BPM at 28.8 s (10.8 s in)",
            drop_tags=("ritardando",)),
    Excerpt("own_halftime", "own_halftime_140", 8.0, 24.0, "half-time feel (140 BPM, snare on 3)"),
    Excerpt("own_rubato_intro", "own_rubato_intro", None, 26.0, "rubato piano intro, then the band"),  # type: ignore[arg-type]
    Excerpt("own_breakdown", "own_breakdown_124", 34.0, 28.0, "quiet breakdown between choruses"),
)


def _window(xs: Sequence[float] | None, a: float, b: float) -> list[float] | None:
    if xs is None:
        return None
    return [round(x - a, 4) for x in xs if a <= x < b]


def excerpt_truth(track: Track, start: float, dur: float, name: str) -> dict[str, Any]:
    """The truth of ``track`` between start and start + dur, relative to start."""
    end = start + dur
    d: dict[str, Any] = {
        "name": name, "kind": track.kind, "audio": f"{name}.ogg", "duration_s": round(dur, 3),
        "tempo_bpm": track.tempo_bpm, "tempo_varies": track.tempo_varies, "beats_per_bar": track.beats_per_bar,
        "beats_s": _window(track.beats_s, start, end), "downbeats_s": _window(track.downbeats_s, start, end),
        "sections_s": [x for x in (_window(track.sections_s, start, end) or []) if x > 0.05] if track.sections_s is not None else None,
        "tags": list(track.tags), "truth_quality": track.truth_quality, "source": track.source,
        "recipe_version": track.recipe_version,
    }
    if d["beats_s"] is not None and len(d["beats_s"]) > 2:
        ibi = np.diff(d["beats_s"])
        d["tempo_bpm"] = round(float(60 / np.median(ibi)), 2)
        inst = 60 / ibi
        d["tempo_varies"] = bool(inst.max() / inst.min() > 1.02)
    spans = [[round(max(a, start) - start, 4), round(min(b, end) - start, 4)] for a, b in track.unpulsed_s if b > start and a < end]
    if spans:
        d["unpulsed_s"] = spans
    for k in ("truth_offset_correction_ms", "downbeats_verified"):
        if k in track.extra:
            d[k] = track.extra[k]
    d["excerpt_of"] = {"track": track.name, "start_s": start, "dur_s": dur}
    return d


def make_excerpts(corpus: Path = DEFAULT_OUT, out: Path = EXCERPTS_DIR) -> list[Path]:
    """Cut the test excerpts from a built corpus into ``out`` (OGG Vorbis mono 22.05 kHz + JSON)."""
    tracks = {t.name: t for t in load_corpus(corpus)}
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for e in EXCERPTS:
        if e.track not in tracks:
            raise FileNotFoundError(f"{e.track} is not built in {corpus}: run 'build' first")
        t = tracks[e.track]
        start = e.start_s
        if start is None:  # the rubato intro: end 12 s after the band comes in
            start = max(0.0, t.unpulsed_s[0][1] + 12.0 - e.dur_s)
        y = ct.read_audio(t.audio, start, e.dur_s)
        fade = int(0.05 * ct.SR)
        y[:fade] *= np.linspace(0, 1, fade, dtype=np.float32)
        y[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        sf.write(str(out / f"{e.name}.ogg"), y, ct.SR, format="OGG", subtype="VORBIS")
        d = excerpt_truth(t, start, len(y) / ct.SR, e.name)
        d["excerpt_of"]["why"] = e.why
        d["tags"] = [x for x in d["tags"] if x not in e.drop_tags]
        _write_json(out / f"{e.name}.json", d)
        written.append(out / f"{e.name}.ogg")
    (out / "README.md").write_text(excerpts_readme([track_from_json(out / f"{e.name}.json") for e in EXCERPTS]))
    return written


_LICENCE_NOTES = {
    "fretsonfire-songs-muldjord": (
        "Frets on Fire song pack by Muldjord (Debian package fretsonfire-songs-muldjord). Debian's copyright file: "
        "\"The songs, performances and fret files are all Copyright (c) 2009 El Senator <elsenator@gmail.com> and are "
        "licenced under the terms of the Creative Commons Attribution ShareAlike licence 3.0\" "
        "(https://creativecommons.org/licenses/by-sa/3.0/). Composed by El Senator of the Danish metal band Muldjord, "
        "www.muldjord.com. Changes made here: the stems song.ogg and guitar.ogg were mixed, down-mixed to mono, "
        "resampled to 22.05 kHz and cut to the window given; these excerpts are under CC-BY-SA-3.0 as well."),
    "fretsonfire-songs-sectoid": (
        "Frets on Fire song pack by Sectoid (Debian package fretsonfire-songs-sectoid). Debian's copyright file: "
        "\"The songs, performances and fret files are all Copyright (c) 2006/2007 Carlos Viola Iborra "
        "<karuritosu@gmail.com>. Permission is hereby granted, free of charge, to any person obtaining a copy of this "
        "software and associated documentation files (the \"Software\"), to deal in the Software without restriction, "
        "including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or "
        "sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the "
        "following conditions: The above copyright notice and this permission notice shall be included in all copies "
        "or substantial portions of the Software. THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND.\" "
        "(Expat/MIT terms.) Changes: stems mixed, mono, 22.05 kHz, cut."),
    "storybeat": (
        "Our own General-MIDI arrangements (bench/corpus_midi.py), MIT like the rest of storybeat; rendered with "
        "fluidsynth and the FluidR3_GM soundfont (Debian fluid-soundfont-gm, MIT licence, (c) Frank Wen)."),
}


def excerpts_readme(tracks: Sequence[Track]) -> str:
    """The README of the committed excerpts: origin and licence of each."""
    lines = [
        "# Real-music test excerpts",
        "",
        "Generated by `python bench/corpus.py excerpts` from the corpus that `make eval-audio`",
        "(`python bench/corpus.py build`) rebuilds from Debian packages; do not edit by hand.",
        "Each `NAME.ogg` (OGG Vorbis, mono, 22.05 kHz) has a `NAME.json` with its truth in the",
        "corpus schema (see bench/corpus.py), times relative to the excerpt start; `excerpt_of`",
        "names the corpus track and the window. Load them with `bench.corpus.load_corpus(folder)`.",
        "",
        "| excerpt | covers | from | window | tempo | truth | licence |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in tracks:
        ex = t.extra.get("excerpt_of", {})
        src = t.source
        frm = f"{src.get('package')} `{src.get('file')}`"
        lines.append(f"| {t.name} | {ex.get('why', '')} | {frm} (corpus track {ex.get('track')}) | "
                     f"{ex.get('start_s', 0):.1f} s + {ex.get('dur_s', 0):.1f} s | "
                     f"{'-' if t.tempo_bpm is None else f'{t.tempo_bpm:.1f} BPM'} | {t.truth_quality} | "
                     f"{src.get('license', '')} |")
    lines += ["", "## Licences", ""]
    for pkg in sorted({t.source.get("package", "") for t in tracks}):
        lines += [f"**{pkg}**: {_LICENCE_NOTES.get(pkg, '')}", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------ CLI
def _summary(tracks: list[Track]) -> str:
    rows = ["| track | kind | s | BPM | varies | bpb | truth | tags |", "|---|---|---|---|---|---|---|---|"]
    for t in tracks:
        bpm = "-" if t.tempo_bpm is None else f"{t.tempo_bpm:.1f}"
        rows.append(f"| {t.name} | {t.kind} | {t.duration_s:.0f} | {bpm} | {'yes' if t.tempo_varies else ''} | "
                    f"{t.beats_per_bar} | {t.truth_quality or '-'} | {', '.join(t.tags)} |")
    total = sum(t.duration_s for t in tracks)
    rows.append(f"\n{len(tracks)} tracks, {total / 60:.1f} min")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build / excerpts / list."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="fetch packages, render and write the corpus")
    b.add_argument("--out", type=Path, default=DEFAULT_OUT)
    b.add_argument("--only", nargs="+", metavar="NAME")
    b.add_argument("--force", action="store_true", help="rebuild even if up to date")
    e = sub.add_parser("excerpts", help="cut the committed test excerpts from a built corpus")
    e.add_argument("--corpus", type=Path, default=DEFAULT_OUT)
    e.add_argument("--out", type=Path, default=EXCERPTS_DIR)
    ls = sub.add_parser("list", help="summarise a built corpus")
    ls.add_argument("--corpus", type=Path, default=DEFAULT_OUT)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.cmd == "build":
        t0 = time.perf_counter()
        done = build(args.out, args.only, args.force)
        print(_summary(load_corpus(args.out)))
        print(f"built {len(done)} track(s) in {time.perf_counter() - t0:.0f} s")
    elif args.cmd == "excerpts":
        files = make_excerpts(args.corpus, args.out)
        size = sum(p.stat().st_size for p in files)
        print(_summary(load_corpus(args.out)))
        print(f"{len(files)} excerpts, {size / 1e6:.2f} MB")
    else:
        print(_summary(load_corpus(args.corpus)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
