"""The corpus' tracks: how each one is made and what its truth is.

Four families, all from Debian packages or our own MIDI (bench/corpus_midi.py):

* ``fof``: Frets on Fire songs (real recorded metal/rock; stems song.ogg +
  guitar.ogg [+ rhythm.ogg] mixed). Truth = the chart's tempo map, shifted by
  song.ini's ``delay`` (Frets on Fire plays chart time t at audio time
  t + delay: ``Song.getPosition() = audio position - delay``), then checked
  against the audio (see :func:`fof_alignment`).
* ``own``: our arrangements rendered with fluidsynth; exact truth.
* ``pkgmidi``: MIDI files of Debian game packages rendered with fluidsynth;
  truth from their tempo map and time signatures.
* ``recording``: game-soundtrack recordings without truth; or, for Planet
  Blupi's OGGs (its own renderings of the MIDIs in planetblupi-music-midi),
  the MIDI's grid checked against the recording like the FoF charts.

Every builder returns (mono audio at SR, truth fields); corpus.py adds name,
audio, duration_s and recipe_version and writes the files.
"""
from __future__ import annotations

import configparser
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import mido
import numpy as np

try:
    from bench import corpus_midi as cm
    from bench import corpus_tools as ct
except ImportError:  # run as a script from bench/
    import corpus_midi as cm  # type: ignore[no-redef]
    import corpus_tools as ct  # type: ignore[no-redef]

log = logging.getLogger("bench.corpus")

Fields = dict[str, object]
Builder = Callable[[Path], tuple[np.ndarray, Fields]]

# What the alignment check (on the percussive part) measures for an *exactly*
# timed grid: fluidsynth renders of our own MIDI with exact truth measure
# +10..+16 ms, +30 for dense 16th double-kick metal (attack time of the GM
# samples on top of the envelope lag that align() already removes).
EXACT_GRID_MS = 12.0
CORRECT_ABOVE_MS = 20.0  # residual offsets below this are left alone
AGREE_MS = 25.0  # two independent measurements "agree" within this

FOF_ROOT = "usr/share/games/fretsonfire/data/songs"
LICENSES = {
    "fretsonfire-songs-muldjord": "CC-BY-SA-3.0 (songs, performances and fret files (c) 2009 El Senator / Muldjord, www.muldjord.com)",
    "fretsonfire-songs-sectoid": "MIT/Expat-style (songs, performances and fret files (c) 2006/2007 Carlos Viola Iborra 'Sectoid')",
    "planetblupi-music-midi": "GPL-3+ ((c) 1997 Daniel Roux, EPSITEC SA & Denis Dumoulin; 2017-2018 Mathieu Schroeter)",
    "planetblupi-music-ogg": "GPL-3+ ((c) 1997 Daniel Roux, EPSITEC SA & Denis Dumoulin; 2017-2018 Mathieu Schroeter)",
    "openttd-openmsx": "GPL-2 (OpenMSX music set for OpenTTD (c) 2010-2021 OpenMSX Authors)",
    "hyperrogue-music": "CC-BY-SA-3.0",
    "drascula-music": "Drascula licence (BSD-like, freely redistributable; (c) 1996-2008 Alcachofa Soft S.L.)",
    "storybeat": "MIT (our own arrangement, rendered with FluidR3_GM (MIT) in fluidsynth)",
}


@dataclass(frozen=True)
class Recipe:
    """How to make one track: its name, the builder, the Debian packages it
    needs, and a version bumped whenever its output or truth changes."""

    name: str
    family: str
    build: Builder = field(repr=False)
    packages: tuple[str, ...] = ()
    version: int = 1


# ------------------------------------------------------------ MIDI grid truth
def grid_truth(tm: ct.TempoMap, t0: float = 0.0, t1: float = float("inf"), start_tick: int = 0,
               end_tick: int | None = None, shift_s: float = 0.0) -> Fields:
    """Beats, downbeats, pulses per bar and tempo of a tempo map between
    ``start_tick`` and ``end_tick``, shifted by ``shift_s``, keeping times in
    [t0, t1] (returned relative to t0)."""
    beats, downs, per_bar = ct.grid_ticks(tm, end_tick)
    b = tm.seconds([k for k in beats if k >= start_tick]) + shift_s
    d = tm.seconds([k for k in downs if k >= start_tick]) + shift_s
    keep_b = b[(b >= t0) & (b <= t1)] - t0
    keep_d = d[(d >= t0) & (d <= t1)] - t0
    ibi = np.diff(keep_b)
    tempo = float(60.0 / np.median(ibi)) if len(ibi) else None
    inst = 60.0 / ibi if len(ibi) else np.array([0.0])
    varies = bool(len(ibi) and inst.max() / inst.min() > 1.02)
    counts = [c for k, c in zip(downs, per_bar) if k >= start_tick]
    bpb = int(np.bincount(counts).argmax()) if counts else 4
    return {"beats_s": [round(float(x), 4) for x in keep_b], "downbeats_s": [round(float(x), 4) for x in keep_d],
            "beats_per_bar": bpb, "tempo_bpm": None if tempo is None else round(tempo, 2), "tempo_varies": varies}


def _truncated(mid: mido.MidiFile, tm: ct.TempoMap, dur_s: float) -> mido.MidiFile:
    """A copy of ``mid`` without note-ons after ``dur_s`` (for fast rendering of long files)."""
    # the tick at dur_s
    lo, hi = 0, max(tm.end_tick, 1)
    while tm.seconds(hi)[0] < dur_s and hi < 10**9:
        hi *= 2
    while hi - lo > 1:
        mid_k = (lo + hi) // 2
        lo, hi = (mid_k, hi) if tm.seconds(mid_k)[0] < dur_s else (lo, mid_k)
    cut = hi
    out = mido.MidiFile(type=mid.type, ticks_per_beat=mid.ticks_per_beat)
    for track in mid.tracks:
        tr = mido.MidiTrack()
        tick = last = 0
        for msg in track:
            tick += msg.time
            if tick > cut + mid.ticks_per_beat * 8 and not msg.is_meta:
                continue
            if msg.type == "note_on" and msg.velocity > 0 and tick >= cut:
                continue
            tr.append(msg.copy(time=tick - last))
            last = tick
        out.tracks.append(tr)
    return out


def _render_truncated(path: Path, dur_s: float) -> tuple[np.ndarray, ct.TempoMap]:
    mid = mido.MidiFile(str(path))
    tm = ct.tempo_map(mid)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "cut.mid"
        _truncated(mid, tm, dur_s).save(str(p))
        y = ct.render_midi(p)
    y = y[: int(dur_s * ct.SR)]
    return ct.fade_out(y, 1.0), tm


def _swung(mid: mido.MidiFile) -> bool:
    """True when more note onsets fall on the swung 8th (2/3 of a quarter) than on the straight one."""
    q = mid.ticks_per_beat
    straight = swung = 0
    for tr in mid.tracks:
        tick = 0
        for msg in tr:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                r = (tick % q) / q
                straight += abs(r - 0.5) < 0.04
                swung += abs(r - 2 / 3) < 0.04
    return swung > 1.5 * straight and swung > 50


def grid_phase_ticks(mid: mido.MidiFile) -> int:
    """A constant shift of all notes off the notated grid, in ticks (0 if none):
    the most common onset position modulo a 16th, when more than half of the
    onsets sit within 2 ticks of it. (Planet Blupi's MIDIs are played 20 ticks
    late against their own bar lines.)"""
    step = max(1, mid.ticks_per_beat // 4)
    pos = np.array([t % step for t in _onset_ticks(mid)], dtype=int)
    if len(pos) < 50:
        return 0
    counts = np.bincount(pos, minlength=step)
    mode = int(counts.argmax())
    near = sum(counts[(mode + d) % step] for d in range(-2, 3))
    if abs(mode if mode <= step // 2 else mode - step) <= 2 or near < 0.5 * len(pos):
        return 0
    return mode if mode <= step // 2 else mode - step


def _onset_ticks(mid: mido.MidiFile) -> list[int]:
    out = []
    for tr in mid.tracks:
        tick = 0
        for msg in tr:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                out.append(tick)
    return out


def _shift_s(mid: mido.MidiFile, tm: ct.TempoMap) -> float:
    """The grid shift of grid_phase_ticks in seconds (at the opening tempo)."""
    k = grid_phase_ticks(mid)
    return float(tm.seconds(abs(k))[0] - tm.seconds(0)[0]) * (1 if k >= 0 else -1)


def _exact_check(y: np.ndarray, beats_s: list[float]) -> Fields:
    """The onset alignment check on a rendering with exact truth (a sanity check of the grid)."""
    a = ct.align(ct.onset_envelope(ct.percussive(y)), np.asarray(beats_s))
    return a.as_dict()


# -------------------------------------------------------------- own MIDI songs
def own_builder(song: cm.Song) -> Builder:
    """Builder of one of our arrangements."""

    def build(cache: Path) -> tuple[np.ndarray, Fields]:
        arr = cm.arrangement(song)
        tm = ct.tempo_map(arr.midi)
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / f"{song.name}.mid"
            arr.midi.save(str(p))
            y = ct.render_midi(p)
        if arr.fade_s:
            y = y[: int(tm.seconds(arr.end_tick)[0] * ct.SR)]
            y = ct.fade_out(y, arr.fade_s)
        y = ct.normalize(y)
        dur = len(y) / ct.SR
        t_last = float(tm.seconds(arr.end_tick)[0])
        if arr.fade_s:  # beats where the fade is below -40 dB are not audible: leave them out
            t_last = dur - 0.1 * arr.fade_s
        f = grid_truth(tm, 0.0, t_last, start_tick=arr.pulse_start_tick, end_tick=arr.end_tick)
        secs = [round(float(x), 4) for x in tm.seconds(list(arr.section_ticks))]
        f.update({
            "kind": "midi", "sections_s": secs, "section_labels": list(arr.section_names), "tags": list(arr.tags),
            "truth_quality": "exact",
            "source": {"package": "storybeat", "file": f"bench/corpus_midi.py:{song.name}", "license": LICENSES["storybeat"]},
            "alignment_check": _exact_check(y, f["beats_s"]),  # type: ignore[arg-type]
        })
        if arr.pulse_start_tick:
            f["unpulsed_s"] = [[0.0, round(float(tm.seconds(arr.pulse_start_tick)[0]), 4)]]
        if arr.fade_s:
            f["fade_out_s"] = [round(dur - arr.fade_s, 3), round(dur, 3)]
        return y, f

    return build


# ------------------------------------------------------------ package MIDIs
@dataclass(frozen=True)
class PkgMidi:
    """A MIDI file of a Debian package: ``dur_s`` seconds from ``start_s`` are kept."""

    name: str
    package: str
    file: str
    tags: tuple[str, ...]
    dur_s: float = 60.0
    start_s: float = 0.0


def pkgmidi_builder(spec: PkgMidi) -> Builder:
    """Builder of a package MIDI rendering."""

    def build(cache: Path) -> tuple[np.ndarray, Fields]:
        root = ct.fetch_package(spec.package, cache)
        y, tm = _render_truncated(root / spec.file, spec.start_s + spec.dur_s)
        y = y[int(spec.start_s * ct.SR):]
        fade = int(0.05 * ct.SR)
        y[:fade] *= np.linspace(0, 1, fade, dtype=np.float32)
        y = ct.normalize(y)
        dur = len(y) / ct.SR
        shift = _shift_s(mido.MidiFile(str(root / spec.file)), tm)
        f = grid_truth(tm, spec.start_s, spec.start_s + dur - 1.0, shift_s=shift)
        if shift:
            f["truth_offset_correction_ms"] = round(shift * 1000, 1)
            f["truth_note"] = "all notes sit a constant offset after the notated grid; the beats follow the notes"
        check = _exact_check(y, f["beats_s"])  # type: ignore[arg-type]
        # The grid is the MIDI's own, so the truth is exact; but note when the
        # strongest onsets sit off it (accented off-beats, swung 8ths).
        on_grid = abs(float(check["best_offset_ms"]) - EXACT_GRID_MS) <= AGREE_MS  # type: ignore[arg-type]
        tags = [t for t in spec.tags if t != "tempo-change"] + (["tempo-change"] if f["tempo_varies"] else [])
        tags += [] if on_grid else ["offbeat-accents"]
        if _swung(mido.MidiFile(str(root / spec.file))) and "swing" not in tags:
            tags.append("swing")
        sig = ",".join(f"{n}/{d}" for _, n, d in tm.signatures)
        f.update({"kind": "midi", "sections_s": None, "tags": tags, "truth_quality": "exact",
                  "time_signatures": sig,
                  "source": {"package": spec.package, "file": "/" + spec.file, "license": LICENSES[spec.package],
                             "version": ct.package_version(spec.package, cache), "start_s": spec.start_s},
                  "alignment_check": check})
        if not on_grid:
            log.info("%s: strongest onsets off the MIDI grid (%+.0f ms): tagged offbeat-accents", spec.name, check["best_offset_ms"])
        return y, f

    return build


# ------------------------------------------------------------- Frets on Fire
@dataclass(frozen=True)
class FofSong:
    """A Frets on Fire song folder; the first ``dur_s`` seconds are kept."""

    name: str
    package: str
    folder: str
    tags: tuple[str, ...]
    dur_s: float = 120.0


def _chart_notes(mid: mido.MidiFile) -> list[int]:
    """Ticks of the expert-difficulty chart notes (MIDI notes 96..100)."""
    out: list[int] = []
    for tr in mid.tracks:
        tick = 0
        for msg in tr:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0 and 96 <= msg.note <= 100:
                out.append(tick)
    return sorted(set(out))


def _low_envelope(y: np.ndarray) -> np.ndarray:
    """Onset strength of the lowest mel bands (< ~290 Hz: kick and bass), z-scored."""
    import librosa

    S = librosa.feature.melspectrogram(y=y, sr=ct.SR, hop_length=128, n_mels=64, fmax=8000)
    env = librosa.onset.onset_strength(S=librosa.power_to_db(S[:6]), sr=ct.SR, hop_length=128)
    return (env - env.mean()) / (env.std() + 1e-9)


def fof_alignment(mix: np.ndarray, guitar: np.ndarray, beats_s: np.ndarray, notes_s: np.ndarray,
                  period_s: float) -> Fields:
    """Check a chart's beat grid against the audio three ways, all on the
    percussive part (HPSS): the full-band onset envelope of the mix at the
    beats, its kick/bass band at the beats, and the guitar stem's onsets at
    the chart's notes (which are the guitar
    part, so they fix the chart-vs-audio offset independently of where the
    beat falls). Each gives a best offset and a runner-up peak >= 40 ms away.
    The offset is *unambiguous* when the note offset agrees with a peak of
    the full-band or the low-band beat curve within AGREE_MS; the proposed
    correction is then their mean minus EXACT_GRID_MS. Also the tempo-octave
    numbers: envelope at the half-beats and on even vs odd beats."""
    perc = ct.percussive(mix)
    full = ct.align(ct.onset_envelope(perc), beats_s)
    low = ct.align(_low_envelope(perc), beats_s)
    notes = ct.align(ct.onset_envelope(ct.percussive(guitar)), notes_s)
    cands = []
    for a in (full, low):
        for off, sc in ((a.best_ms, a.best_score), (a.second_ms, a.second_score)):
            if abs(off - notes.best_ms) <= AGREE_MS and sc > 0.2:
                cands.append(off)
    unambiguous = bool(cands) and notes.best_score - notes.second_score > 0.05
    if not unambiguous and abs(full.best_ms - low.best_ms) <= AGREE_MS and full.best_score - full.second_score > 0.3:
        cands, unambiguous = [full.best_ms, low.best_ms], True  # both beat curves agree clearly
    measured = float(np.mean(cands + ([notes.best_ms] if cands and abs(notes.best_ms - np.mean(cands)) <= AGREE_MS else []))) if cands else None
    env = ct.onset_envelope(perc)
    lag = ct.envelope_bias_ms() / 1000 + (measured or EXACT_GRID_MS) / 1000
    octave = {"on_beats": ct.mean_at(env, beats_s + lag), "half_beats": ct.mean_at(env, beats_s + period_s / 2 + lag),
              "even_beats": ct.mean_at(env, beats_s[0::2] + lag), "odd_beats": ct.mean_at(env, beats_s[1::2] + lag)}
    lowenv = _low_envelope(perc)
    phase = [ct.mean_at(lowenv, beats_s[k::4] + lag) for k in range(4)]
    return {"beats_full_band": full.as_dict(), "beats_low_band": low.as_dict(), "chart_notes_guitar_stem": notes.as_dict(),
            "unambiguous": unambiguous, "measured_offset_ms": None if measured is None else round(measured, 1),
            "exact_grid_reference_ms": EXACT_GRID_MS,
            "octave_check": {k: round(v, 3) for k, v in octave.items()},
            "low_band_by_beat_of_bar": [round(v, 3) for v in phase]}


def fof_builder(spec: FofSong) -> Builder:
    """Builder of a Frets on Fire song (full song checked, first dur_s kept)."""

    def build(cache: Path) -> tuple[np.ndarray, Fields]:
        root = ct.fetch_package(spec.package, cache) / FOF_ROOT / spec.folder
        stems = {p.name: ct.read_audio(p) for p in sorted(root.glob("*.ogg")) if p.name != "preview.ogg"}
        y = ct.mix(list(stems.values()))
        ini = configparser.ConfigParser()
        ini.read(root / "song.ini")
        delay_ms = float(ini.get("song", "delay", fallback="0") or 0)
        mid = mido.MidiFile(str(root / "notes.mid"))
        tm = ct.tempo_map(mid)
        full_dur = len(y) / ct.SR
        beats, _, _ = ct.grid_ticks(tm, end_tick=10**9)
        bt = tm.seconds(beats) + delay_ms / 1000
        bt = bt[(bt >= 0) & (bt < full_dur - 0.5)]
        nt = tm.seconds(_chart_notes(mid)) + delay_ms / 1000
        check = fof_alignment(y, stems.get("guitar.ogg", y), bt, nt, 60.0 / tm.bpm_at(0))
        correction = 0.0
        quality = "charted"
        if not check["unambiguous"]:
            quality = "poor"
        else:
            resid = float(check["measured_offset_ms"]) - EXACT_GRID_MS  # type: ignore[arg-type]
            if abs(resid) > CORRECT_ABOVE_MS:
                correction = round(resid)
        y = ct.normalize(ct.fade_out(y[: int(spec.dur_s * ct.SR)], 1.0))
        dur = len(y) / ct.SR
        end_tick = int(beats[-1]) if beats else None
        f = grid_truth(tm, 0.0, dur - 1.0, end_tick=end_tick, shift_s=(delay_ms + correction) / 1000)
        # Charts carry no bar lines the game uses: the downbeats assume the chart
        # starts on one. Verified when the kick/bass band is strongest on beat 1.
        bar = check["low_band_by_beat_of_bar"]
        f["downbeats_verified"] = bool(bar[0] >= 1.1 * max(bar[1:]))  # type: ignore[index]
        f.update({"kind": "charted-recording", "sections_s": None, "tags": list(spec.tags), "truth_quality": quality,
                  "truth_offset_correction_ms": correction, "song_ini_delay_ms": delay_ms,
                  "stems": sorted(stems), "full_song_duration_s": round(full_dur, 2),
                  "source": {"package": spec.package, "file": f"/{FOF_ROOT}/{spec.folder}/",
                             "license": LICENSES[spec.package], "version": ct.package_version(spec.package, cache)},
                  "alignment_check": check})
        log.info("%s: alignment %s, correction %+.0f ms, quality %s", spec.name, check["measured_offset_ms"], correction, quality)
        return y, f

    return build


# ----------------------------------------------------------------- recordings
@dataclass(frozen=True)
class Recording:
    """A recording without truth (or with the MIDI it was rendered from)."""

    name: str
    package: str
    file: str
    tags: tuple[str, ...]
    start_s: float = 0.0
    dur_s: float = 90.0
    midi: tuple[str, str] | None = None  # (package, file) of the MIDI it renders


def recording_builder(spec: Recording) -> Builder:
    """Builder of a trimmed recording (with truth from its MIDI when it has one and it lines up)."""

    def build(cache: Path) -> tuple[np.ndarray, Fields]:
        root = ct.fetch_package(spec.package, cache)
        y = ct.read_audio(root / spec.file, spec.start_s, spec.dur_s)
        y = ct.normalize(ct.fade_out(y, 1.0))
        dur = len(y) / ct.SR
        f: Fields = {"kind": "recording", "tempo_bpm": None, "tempo_varies": False, "beats_per_bar": 4,
                     "beats_s": None, "downbeats_s": None, "sections_s": None, "tags": list(spec.tags),
                     "truth_quality": None,
                     "source": {"package": spec.package, "file": "/" + spec.file, "license": LICENSES[spec.package],
                                "version": ct.package_version(spec.package, cache)}}
        if spec.midi:
            mroot = ct.fetch_package(spec.midi[0], cache)
            mid = mido.MidiFile(str(mroot / spec.midi[1]))
            tm = ct.tempo_map(mid)
            shift = _shift_s(mid, tm)  # the notes' own offset from their grid, as in pkgmidi_builder
            g = grid_truth(tm, spec.start_s, spec.start_s + dur - 1.0, shift_s=shift)
            perc = ct.percussive(y)
            full = ct.align(ct.onset_envelope(perc), np.asarray(g["beats_s"]))
            low = ct.align(_low_envelope(perc), np.asarray(g["beats_s"]))
            agree = abs(full.best_ms - low.best_ms) <= AGREE_MS and full.best_score - full.second_score > 0.3
            resid = (full.best_ms + low.best_ms) / 2 - EXACT_GRID_MS
            corr = round(resid) if agree and abs(resid) > CORRECT_ABOVE_MS else 0
            f["alignment_check"] = {"beats_full_band": full.as_dict(), "beats_low_band": low.as_dict(), "unambiguous": agree,
                                    "exact_grid_reference_ms": EXACT_GRID_MS}
            if agree:
                g = grid_truth(tm, spec.start_s, spec.start_s + dur - 1.0, shift_s=shift + corr / 1000)
                f.update(g)
                f.update({"kind": "charted-recording", "truth_quality": "charted",
                          "truth_offset_correction_ms": round(shift * 1000 + corr, 1), "midi_grid_shift_ms": round(shift * 1000, 1),
                          "midi_source": {"package": spec.midi[0], "file": "/" + spec.midi[1]}})
            else:
                f["tempo_bpm"] = g["tempo_bpm"]
                f["truth_quality"] = "poor"
            log.info("%s: MIDI grid vs recording: %s / %s (agree %s)", spec.name, full.best_ms, low.best_ms, agree)
        return y, f

    return build


# -------------------------------------------------------------------- the list
FOF = (
    FofSong("fof_armygeddon", "fretsonfire-songs-muldjord", "muldjord/armygeddon", ("metal", "fast", "double-kick", "4/4")),
    FofSong("fof_chaos_god", "fretsonfire-songs-muldjord", "muldjord/chaos_god", ("metal", "fast", "double-kick", "4/4")),
    FofSong("fof_internal_degeneration", "fretsonfire-songs-muldjord", "muldjord/internal_degeneration", ("metal", "fast", "double-kick", "4/4")),
    FofSong("fof_mutilated_mime", "fretsonfire-songs-muldjord", "muldjord/mutilated_mime", ("metal", "fast", "double-kick", "4/4")),
    FofSong("fof_escape_from_chaosland", "fretsonfire-songs-sectoid", "sectoid/Escape from chaosland", ("metal", "rock", "4/4")),
    FofSong("fof_feelings", "fretsonfire-songs-sectoid", "sectoid/Feelings", ("rock", "mid-tempo", "4/4")),
    FofSong("fof_metal_madness", "fretsonfire-songs-sectoid", "sectoid/Metal madness", ("metal", "rock", "4/4")),
    FofSong("fof_war_of_freedom", "fretsonfire-songs-sectoid", "sectoid/War of freedom", ("metal", "rock", "4/4")),
)
OPENMSX = "usr/share/games/openttd/baseset/openmsx/"
BLUPI_MID = "usr/share/planetblupi/music/"
PKG_MIDIS = (
    PkgMidi("msx_boogi_marabi", "openttd-openmsx", OPENMSX + "boogi_marabi_redfarn.mid", ("3/4", "gm-render")),
    PkgMidi("msx_the_hobo", "openttd-openmsx", OPENMSX + "the_hobo_redfarn.mid", ("6/4", "gm-render")),
    PkgMidi("msx_5432gone", "openttd-openmsx", OPENMSX + "5432gone_redfarn.mid", ("5/4", "gm-render")),
    PkgMidi("msx_midnight_snow_run", "openttd-openmsx", OPENMSX + "midnight_snow_run.mid", ("accelerando", "gm-render"), start_s=20.0),
    PkgMidi("msx_be_sharp", "openttd-openmsx", OPENMSX + "be_sharp_bw_redfarn.mid", ("ritardando", "gm-render"), start_s=80.0),
    PkgMidi("msx_chuggachugga", "openttd-openmsx", OPENMSX + "chuggachugga.mid", ("fast", "ritardando", "gm-render"), start_s=30.0, dur_s=54.0),
    PkgMidi("msx_flying_scotsman", "openttd-openmsx", OPENMSX + "flying_scotsman.mid", ("fast", "gm-render")),
    PkgMidi("blupi_music004_mid", "planetblupi-music-midi", BLUPI_MID + "music004.mid", ("game", "gm-render")),
)
HR = "usr/share/hyperrogue/music/"
DRAS = "usr/share/scummvm/drascula/audio/"
RECORDINGS = (
    Recording("blupi_music004_ogg", "planetblupi-music-ogg", BLUPI_MID + "music004.ogg", ("game", "synth-render"), dur_s=60.0,
              midi=("planetblupi-music-midi", BLUPI_MID + "music004.mid")),
    Recording("blupi_music007_ogg", "planetblupi-music-ogg", BLUPI_MID + "music007.ogg", ("game", "synth-render"), dur_s=60.0,
              midi=("planetblupi-music-midi", BLUPI_MID + "music007.mid")),
    Recording("hr_hell", "hyperrogue-music", HR + "hr3-hell.ogg", ("game", "orchestral"), dur_s=60.0),
    Recording("hr_motion", "hyperrogue-music", HR + "hr3-motion.ogg", ("game",), dur_s=60.0),
    Recording("hr_caribbean", "hyperrogue-music", HR + "hr-savino-caribbean.ogg", ("game",), dur_s=60.0),
    Recording("hr_hunting", "hyperrogue-music", HR + "hr-domina-hunting.ogg", ("game",), dur_s=60.0),
    Recording("drascula_track1", "drascula-music", DRAS + "track1.ogg", ("game",), dur_s=60.0),
    Recording("drascula_track5", "drascula-music", DRAS + "track5.ogg", ("game",), dur_s=60.0),
)


def recipes() -> list[Recipe]:
    """Every track of the corpus, in build order."""
    out = [Recipe(s.name, "fof", fof_builder(s), (s.package,)) for s in FOF]
    out += [Recipe(s.name, "own", own_builder(s)) for s in cm.SONGS]
    out += [Recipe(s.name, "pkgmidi", pkgmidi_builder(s), (s.package,)) for s in PKG_MIDIS]
    out += [Recipe(s.name, "recording", recording_builder(s), (s.package,) + ((s.midi[0],) if s.midi else ())) for s in RECORDINGS]
    return out
