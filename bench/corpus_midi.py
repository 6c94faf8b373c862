"""Our own General-MIDI arrangements for the real-music corpus (MIT, like the
project): one song per hard case of beat tracking (double-kick metal,
half-time, shuffle, 3/4, 6/8, tempo change + ritardando, rubato intro, quiet
breakdown, fade-out, plain pop, ballad). Each song is a list of sections whose
arrangement changes; drums on channel 10, bass, chords/pad, lead. Timing is
exact (no humanising), so the truth is the MIDI grid itself.

``arrangement(name)`` returns the mido.MidiFile plus the facts the truth needs
that are not in the MIDI (section names and starts, unpulsed spans, tags).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

import mido

TPB = 480
DRUMS, BASS, CHORDS, LEAD, PAD = 9, 1, 2, 3, 4
KICK, SNARE, SIDESTICK, CHH, OHH, PHH, RIDE, CRASH = 36, 38, 37, 42, 46, 44, 51, 49
TOM_HI, TOM_MID, TOM_LO = 50, 47, 43
MAJOR, MINOR = (0, 4, 7), (0, 3, 7)


@dataclass(frozen=True)
class Section:
    """``bars`` bars in one arrangement: drum/bass/chord style names (None:
    silent), whether the lead plays, a velocity scale and a closing drum fill."""

    name: str
    bars: int
    drums: str | None
    bass: str | None
    chords: str | None
    lead: bool = False
    vel: float = 1.0
    fill: bool = True


@dataclass(frozen=True)
class Song:
    """An arrangement: meter (numerator, denominator), a quarter-note tempo per
    pulse ``tempo(bar, pulse)``, key (MIDI note of the bass root), chord
    progression (semitones above the key, triad) cycling per bar, GM programs
    and the sections. ``free_intro_bars`` bars of rubato piano come first (no
    pulse: irregular tempo, left out of the beat truth)."""

    name: str
    meter: tuple[int, int]
    tempo: Callable[[int, int], float]
    key: int
    progression: tuple[tuple[int, tuple[int, int, int]], ...]
    sections: tuple[Section, ...]
    tags: tuple[str, ...]
    programs: dict[int, int] = field(default_factory=dict)
    swing: bool = False
    free_intro_bars: int = 0
    fade_s: float = 0.0
    seed: int = 1


@dataclass(frozen=True)
class Arrangement:
    """What corpus.py needs beside the MIDI: section starts (ticks), names,
    tags, the tick where the pulse starts (after a free intro), the final
    downbeat tick and the fade length."""

    midi: mido.MidiFile
    section_ticks: tuple[int, ...]
    section_names: tuple[str, ...]
    pulse_start_tick: int
    end_tick: int
    tags: tuple[str, ...]
    fade_s: float


class _Writer:
    """Collects (tick, message) per channel and writes a type-1 MIDI file."""

    def __init__(self) -> None:
        self.events: list[tuple[int, int, mido.Message]] = []
        self.meta: list[tuple[int, mido.MetaMessage]] = []

    def note(self, tick: int, ch: int, note: int, vel: float, dur: int) -> None:
        """Add a note (velocity clipped to 1..127)."""
        v = max(1, min(127, int(round(vel))))
        self.events.append((tick, 1, mido.Message("note_on", channel=ch, note=note, velocity=v)))
        self.events.append((tick + max(dur, 10), 0, mido.Message("note_off", channel=ch, note=note, velocity=0)))

    def midi(self, programs: dict[int, int], tail_tick: int) -> mido.MidiFile:
        """The MIDI file: a tempo/meta track and one track per channel, ending at ``tail_tick``."""
        mid = mido.MidiFile(ticks_per_beat=TPB)
        meta = mido.MidiTrack()
        last = 0
        for tick, msg in sorted(self.meta, key=lambda e: e[0]):
            meta.append(msg.copy(time=tick - last))
            last = tick
        meta.append(mido.MetaMessage("end_of_track", time=max(0, tail_tick - last)))
        mid.tracks.append(meta)
        for ch in sorted({m.channel for _, _, m in self.events} | set(programs)):
            tr = mido.MidiTrack()
            if ch != DRUMS:
                tr.append(mido.Message("program_change", channel=ch, program=programs.get(ch, 0), time=0))
            tr.append(mido.Message("control_change", channel=ch, control=7, value=100, time=0))
            last = 0
            for tick, _, msg in sorted((e for e in self.events if e[2].channel == ch), key=lambda e: (e[0], e[1])):
                tr.append(msg.copy(time=tick - last))
                last = tick
            tr.append(mido.MetaMessage("end_of_track", time=max(0, tail_tick - last)))
            mid.tracks.append(tr)
        return mid


def _pulse(meter: tuple[int, int]) -> tuple[int, int]:
    num, den = meter
    unit = TPB * 4 // den
    if den == 8 and num % 3 == 0 and num > 3:
        return unit * 3, num // 3
    return unit, num


def _swing(t: int, swing: bool, pulse: int) -> int:
    """Move a straight 8th offbeat to the last triplet of the pulse."""
    if swing and t % pulse == pulse // 2:
        return t - pulse // 2 + pulse * 2 // 3
    return t


def _drums(w: _Writer, style: str, bar0: int, pulse: int, n: int, vel: float, swing: bool, last_bar: bool,
           fill: bool, first_bar: bool) -> None:
    bar_len = pulse * n
    e8 = pulse // 2
    hits: list[tuple[int, int, float]] = []
    if style in ("rock", "pop", "fast"):
        for p in range(n):
            hits.append((p * pulse, SNARE if p % 2 else KICK, 100 if p % 2 else 105))
            hits += [(p * pulse, CHH, 70), (p * pulse + e8, CHH, 55)]
        if style == "pop":
            hits.append((pulse + e8 + pulse // 4 * 0, KICK, 80))  # "and" of 2
    elif style == "metal":  # double kick 16ths, snare 2 and 4, ride quarters
        for s in range(n * 4):
            hits.append((s * pulse // 4, KICK, 95 if s % 2 == 0 else 85))
        for p in range(n):
            hits.append((p * pulse, RIDE if p else CRASH, 80))
            if p % 2:
                hits.append((p * pulse, SNARE, 112))
    elif style == "halftime":  # snare on 3 only
        hits += [(0, KICK, 108), (pulse + e8 + pulse // 4, KICK, 85), (2 * pulse, SNARE, 115), (3 * pulse + e8, KICK, 80)]
        for p in range(n):
            hits += [(p * pulse, CHH, 72), (p * pulse + e8, CHH, 55)]
    elif style == "shuffle":
        for p in range(n):
            hits.append((p * pulse, SNARE if p % 2 else KICK, 100))
            hits += [(p * pulse, RIDE, 78), (p * pulse + e8, RIDE, 60)]  # offbeat swung below
    elif style == "waltz":
        hits += [(0, KICK, 105), (pulse, CHH, 70), (2 * pulse, CHH, 70), (pulse, SIDESTICK, 60), (2 * pulse, SIDESTICK, 60)]
    elif style == "six8":  # kick on pulse 1, snare on pulse 2, 8th hats
        hits += [(0, KICK, 105), (pulse, SNARE, 100), (pulse + 2 * (pulse // 3), KICK, 70)]
        for k in range(n * 3):
            hits.append((k * pulse // 3, CHH, 72 if k % 3 == 0 else 52))
    elif style == "ballad":
        for p in range(n):
            hits.append((p * pulse, SIDESTICK if p % 2 else KICK, 80 if p % 2 else 85))
            hits.append((p * pulse, PHH, 50))
    elif style == "build":  # snare 8ths growing to 16ths across the bar
        for p in range(n):
            hits.append((p * pulse, KICK, 90))
            sub = 4 if p >= n // 2 else 2
            for s in range(sub):
                hits.append((p * pulse + s * pulse // sub, SNARE, 60 + 10 * p))
    elif style == "soft":  # breakdown: kick on 1 and a pedal hat
        hits += [(0, KICK, 60)] + [(p * pulse, PHH, 40) for p in range(n)]
    if first_bar and style not in ("soft",):
        hits.append((0, CRASH, 100))
    if fill and last_bar and style not in ("soft", "build"):
        hits = [h for h in hits if h[0] < bar_len - pulse]
        for s, tom in enumerate((TOM_HI, TOM_HI, TOM_MID, TOM_LO)):
            hits.append((bar_len - pulse + s * pulse // 4, tom, 95))
    for t, note, v in hits:
        w.note(bar0 + _swing(t, swing, pulse), DRUMS, note, v * vel, 60)


def _bass(w: _Writer, style: str, bar0: int, pulse: int, n: int, root: int, third: int, vel: float, swing: bool) -> None:
    bar_len = pulse * n
    e8 = pulse // 2
    notes: list[tuple[int, int, int]] = []
    if style == "root8":
        notes = [(k * e8, root, e8 - 30) for k in range(2 * n)]
    elif style == "root4":
        notes = [(p * pulse, root if p % 2 == 0 else root + 7, pulse - 40) for p in range(n)]
    elif style == "metal":
        notes = [(k * pulse // 4, root, pulse // 4 - 10) for k in range(4 * n)]
    elif style == "shuffle":  # boogie: root, 5th, 6th, 5th on swung 8ths
        seq = [0, 7, 9, 7, 12, 10, 9, 7]
        notes = [(k * e8, root + seq[k % 8], e8 - 20) for k in range(2 * n)]
    elif style == "waltz":
        notes = [(0, root, pulse - 20)]
    elif style == "six8":
        notes = [(0, root, pulse - 40), (pulse, root + 7, pulse // 3 * 2 - 20), (pulse + 2 * pulse // 3, root + third, pulse // 3 - 20)]
    elif style == "whole":
        notes = [(0, root, bar_len - 40)]
    elif style == "halftime":
        notes = [(0, root, pulse), (pulse + e8 + pulse // 4, root, pulse // 4), (2 * pulse, root + 7, pulse), (3 * pulse + e8, root, e8)]
    for t, note, d in notes:
        w.note(bar0 + _swing(t, swing, pulse), BASS, note, 95 * vel, d)


def _chords(w: _Writer, style: str, bar0: int, pulse: int, n: int, chord: list[int], vel: float, swing: bool) -> None:
    bar_len = pulse * n
    e8 = pulse // 2
    if style == "pad":
        for k in chord:
            w.note(bar0, PAD, k, 70 * vel, bar_len - 20)
    elif style == "stabs":
        for p in range(n):
            for k in chord:
                w.note(bar0 + _swing(p * pulse + (e8 if p % 2 else 0), swing, pulse), CHORDS, k, 80 * vel, e8)
    elif style == "power":  # distorted power chords, palm-muted 8ths
        for j in range(2 * n):
            for k in (chord[0] - 12, chord[0] - 5, chord[0]):
                w.note(bar0 + j * e8, CHORDS, k, (100 if j % 2 == 0 else 80) * vel, e8 - 40)
    elif style == "arp":
        tones = chord + [chord[0] + 12, chord[1] + 12]
        steps = 2 * n if pulse % 3 else 3 * n
        step = bar_len // steps
        for j in range(steps):
            w.note(bar0 + _swing(j * step, swing, pulse), CHORDS, tones[j % len(tones)], 72 * vel, step * 2)
    elif style == "waltz":  # oom-pah-pah: chords on 2 and 3
        for p in (1, 2):
            for k in chord:
                w.note(bar0 + p * pulse, CHORDS, k, 70 * vel, pulse - 60)
    elif style == "comp":  # piano comping: chord on 1 held, pushes on the "and" of 2
        for k in chord:
            w.note(bar0, CHORDS, k, 75 * vel, pulse * 2 - 40)
            w.note(bar0 + _swing(pulse + e8, swing, pulse), CHORDS, k, 70 * vel, pulse)
            if n >= 4:
                w.note(bar0 + 3 * pulse, CHORDS, k, 65 * vel, pulse - 40)


def _lead(w: _Writer, rng: random.Random, bar0: int, pulse: int, n: int, chord: list[int], scale: list[int],
          vel: float, swing: bool) -> None:
    e8 = pulse // 2
    t = 0
    bar_len = pulse * n
    note = rng.choice(chord) + 12
    while t < bar_len:
        dur = rng.choice((pulse, e8, e8, pulse * 2 if t + pulse * 2 <= bar_len else e8))
        dur = min(dur, bar_len - t)
        if rng.random() < 0.85:
            if t % pulse == 0:
                note = min((c + 12 for c in chord), key=lambda c: abs(c - note))
            else:
                cands = [s for s in scale if 0 < abs(s - note) <= 4]
                note = rng.choice(cands) if cands else note
            w.note(bar0 + _swing(t, swing, pulse), LEAD, note, 88 * vel, dur - 20)
        t += dur


def arrangement(song: Song) -> Arrangement:
    """Write the song's MIDI and collect its section / pulse facts."""
    w = _Writer()
    rng = random.Random(song.seed)
    pulse, n = _pulse(song.meter)
    bar_len = pulse * n
    w.meta.append((0, mido.MetaMessage("time_signature", numerator=song.meter[0], denominator=song.meter[1])))
    key = song.key
    major_scale = [0, 2, 4, 5, 7, 9, 11]
    scale = [key + 24 + o + 12 * octv for octv in (0, 1, 2) for o in major_scale]

    def chord_of(bar: int) -> tuple[int, list[int]]:
        off, q = song.progression[bar % len(song.progression)]
        root = key + off
        return root, [root + 24 + i for i in q]

    # Free intro: piano arpeggios, every quarter a new irregular tempo.
    tick = 0
    last_tempo = None
    if song.free_intro_bars:
        for bar in range(song.free_intro_bars):
            root, chord = chord_of(bar)
            for q in range(4):
                bpm = rng.uniform(60, 100) if q < 3 else rng.uniform(38, 52)  # a stretch on each bar's last beat
                w.meta.append((tick + q * TPB, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
            for j, k in enumerate([root + 12] + chord + [chord[0] + 12, chord[1] + 12, chord[2] + 12]):
                w.note(tick + j * TPB // 2, CHORDS, k, 60 + 4 * j, TPB * 4 - j * TPB // 2)
            tick += 4 * TPB
    pulse_start = tick
    section_ticks: list[int] = []
    bar_index = 0
    for sec_i, sec in enumerate(song.sections):
        section_ticks.append(tick)
        for b in range(sec.bars):
            for p in range(n):
                bpm = song.tempo(bar_index, p)
                if bpm != last_tempo:
                    w.meta.append((tick + p * pulse, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
                    last_tempo = bpm
            root, chord = chord_of(bar_index)
            third = chord[1] - chord[0]
            last = b == sec.bars - 1
            if sec.drums:
                _drums(w, sec.drums, tick, pulse, n, sec.vel, song.swing, last, sec.fill, b == 0)
            if sec.bass:
                _bass(w, sec.bass, tick, pulse, n, root, third, sec.vel, song.swing)
            if sec.chords:
                _chords(w, sec.chords, tick, pulse, n, chord, sec.vel, song.swing)
            if sec.lead:
                _lead(w, rng, tick, pulse, n, chord, scale, sec.vel, song.swing)
            tick += bar_len
            bar_index += 1
    # Final hit on the next downbeat, left to ring (a fade-out song just stops).
    root, chord = chord_of(0)
    end = tick
    if not song.fade_s:
        w.note(end, DRUMS, CRASH, 105, 200)
        w.note(end, DRUMS, KICK, 105, 100)
        w.note(end, BASS, root, 95, TPB * 3)
        for k in chord:
            w.note(end, PAD if song.sections[-1].chords == "pad" else CHORDS, k, 80, TPB * 3)
    tail = end + int(TPB * 2.5 * (last_tempo or 120) / 60)  # ~2.5 s of ring-out
    mid = w.midi(song.programs, tail)
    return Arrangement(mid, tuple(section_ticks[1:] if section_ticks and section_ticks[0] == 0 else section_ticks),
                       tuple(s.name for s in song.sections), pulse_start, end, song.tags, song.fade_s)


def _const(bpm: float) -> Callable[[int, int], float]:
    return lambda bar, pulse: bpm


def _tempo_change(bar: int, pulse: int) -> float:
    """100 BPM for 12 bars, 130 BPM after; ritardando 130 -> 78 over the last 4 bars (28..31)."""
    if bar < 12:
        return 100.0
    if bar < 28:
        return 130.0
    k = (bar - 28) * 4 + pulse  # 0..15
    return round(130.0 - 52.0 * (k + 1) / 16, 2)


P = (0, MAJOR), (7, MAJOR), (9, MINOR), (5, MAJOR)  # I V vi IV
PM = (0, MINOR), (8, MAJOR), (3, MAJOR), (10, MAJOR)  # i VI III VII
PBLUES = (0, MAJOR), (0, MAJOR), (5, MAJOR), (0, MAJOR), (7, MAJOR), (5, MAJOR), (0, MAJOR), (7, MAJOR)
GTR_DIST, GTR_OVER, E_PIANO, PIANO, FBASS, PBASS, SYN_LEAD, STRINGS, WARM_PAD, ORGAN, SAX, ABASS = 30, 29, 4, 0, 33, 34, 81, 48, 89, 17, 65, 32

SONGS: tuple[Song, ...] = (
    Song("own_pop_108", (4, 4), _const(108), 36, P, (
        Section("intro", 4, "pop", "root8", "arp"),
        Section("verse", 8, "pop", "root8", "comp", lead=True),
        Section("chorus", 8, "rock", "root8", "stabs", lead=True),
        Section("bridge", 4, "pop", "whole", "pad", vel=0.85),
        Section("chorus", 8, "rock", "root8", "stabs", lead=True),
    ), ("pop", "4/4"), {BASS: FBASS, CHORDS: PIANO, LEAD: SYN_LEAD, PAD: WARM_PAD}, seed=11),
    Song("own_ballad_70", (4, 4), _const(70), 38, P, (
        Section("intro", 2, None, None, "arp", vel=0.8),
        Section("verse", 8, "ballad", "whole", "arp", lead=True, vel=0.85),
        Section("chorus", 8, "ballad", "root4", "pad", lead=True),
    ), ("ballad", "slow", "4/4"), {BASS: FBASS, CHORDS: PIANO, LEAD: STRINGS + 1, PAD: STRINGS}, seed=12),
    Song("own_metal_184", (4, 4), _const(184), 28, PM, (
        Section("intro", 4, None, None, "power", fill=False),
        Section("verse", 12, "metal", "metal", "power"),
        Section("chorus", 8, "rock", "root8", "power", lead=True),
        Section("verse", 12, "metal", "metal", "power"),
        Section("chorus", 8, "rock", "root8", "power", lead=True),
        Section("outro", 4, "metal", "metal", "power"),
    ), ("fast", "double-kick", "metal", "4/4"), {BASS: PBASS, CHORDS: GTR_DIST, LEAD: GTR_OVER}, seed=13),
    Song("own_halftime_140", (4, 4), _const(140), 33, PM, (
        Section("intro", 4, "halftime", None, "pad"),
        Section("verse", 8, "halftime", "halftime", "stabs"),
        Section("chorus", 8, "halftime", "root8", "power", lead=True),
        Section("verse", 8, "halftime", "halftime", "stabs"),
        Section("chorus", 8, "halftime", "root8", "power", lead=True),
    ), ("half-time", "4/4"), {BASS: FBASS, CHORDS: GTR_OVER, LEAD: SYN_LEAD, PAD: WARM_PAD}, seed=14),
    Song("own_shuffle_112", (4, 4), _const(112), 40, PBLUES, (
        Section("intro", 2, "shuffle", None, "comp"),
        Section("head", 8, "shuffle", "shuffle", "comp", lead=True),
        Section("solo", 8, "shuffle", "shuffle", "stabs", lead=True),
        Section("head", 8, "shuffle", "shuffle", "comp", lead=True),
        Section("tag", 4, "shuffle", "shuffle", "stabs"),
    ), ("swing", "shuffle", "4/4"), {BASS: ABASS, CHORDS: ORGAN, LEAD: SAX}, swing=True, seed=15),
    Song("own_waltz_144", (3, 4), _const(144), 41, P, (
        Section("intro", 4, "waltz", "waltz", "waltz"),
        Section("A", 16, "waltz", "waltz", "waltz", lead=True),
        Section("B", 16, "waltz", "waltz", "arp", lead=True),
        Section("A", 16, "waltz", "waltz", "waltz", lead=True),
    ), ("3/4", "waltz"), {BASS: ABASS, CHORDS: PIANO, LEAD: STRINGS + 2}, seed=16),
    Song("own_six_eight_66", (6, 8), _const(99), 38, P, (
        Section("intro", 2, "six8", None, "arp"),
        Section("verse", 8, "six8", "six8", "arp", lead=True),
        Section("chorus", 8, "six8", "six8", "pad", lead=True),
        Section("verse", 8, "six8", "six8", "arp", lead=True),
        Section("chorus", 8, "six8", "six8", "pad", lead=True),
    ), ("6/8", "compound"), {BASS: FBASS, CHORDS: PIANO, LEAD: 73, PAD: STRINGS}, seed=17),
    Song("own_tempo_change", (4, 4), _tempo_change, 40, P, (
        Section("intro", 4, "pop", "root8", "arp"),
        Section("verse", 8, "pop", "root8", "comp", lead=True),
        Section("chorus", 8, "rock", "root8", "power", lead=True),
        Section("verse", 8, "rock", "root8", "stabs", lead=True),
        Section("outro", 4, "rock", "root4", "pad", fill=False),
    ), ("tempo-change", "ritardando", "4/4"), {BASS: FBASS, CHORDS: GTR_OVER, LEAD: SYN_LEAD, PAD: WARM_PAD}, seed=18),
    Song("own_rubato_intro", (4, 4), _const(96), 38, P, (
        Section("verse", 8, "pop", "root8", "comp", lead=True),
        Section("chorus", 8, "rock", "root8", "stabs", lead=True),
        Section("chorus", 4, "rock", "root8", "power", lead=True),
    ), ("rubato-intro", "4/4"), {BASS: FBASS, CHORDS: PIANO, LEAD: SYN_LEAD, PAD: STRINGS}, free_intro_bars=6, seed=19),
    Song("own_breakdown_124", (4, 4), _const(124), 33, PM, (
        Section("intro", 4, "rock", "root8", "power"),
        Section("verse", 8, "pop", "root8", "stabs", lead=True),
        Section("chorus", 8, "rock", "root8", "power", lead=True),
        Section("breakdown", 8, "soft", "whole", "arp", vel=0.45, fill=False),
        Section("build", 4, "build", "root4", "pad", vel=0.8, fill=False),
        Section("chorus", 8, "rock", "root8", "power", lead=True),
    ), ("breakdown", "4/4"), {BASS: FBASS, CHORDS: GTR_OVER, LEAD: SYN_LEAD, PAD: WARM_PAD}, seed=20),
    Song("own_fadeout_116", (4, 4), _const(116), 35, P, (
        Section("intro", 4, "pop", "root8", "arp"),
        Section("verse", 8, "pop", "root8", "comp", lead=True),
        Section("chorus", 8, "rock", "root8", "stabs", lead=True),
        Section("chorus", 8, "rock", "root8", "stabs", lead=True),
    ), ("fade-out", "pop", "4/4"), {BASS: FBASS, CHORDS: E_PIANO, LEAD: SYN_LEAD}, fade_s=16.0, seed=21),
)


def song(name: str) -> Song:
    """The arrangement called ``name``."""
    for s in SONGS:
        if s.name == name:
            return s
    raise KeyError(name)
