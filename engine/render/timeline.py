"""The render timeline: clips in integer frames, camera motions, transitions, chunks.

Everything here is pure: ``build_timeline`` turns scene clips (milliseconds) into a
frame-exact :class:`Timeline` that the command builders and the runner read.

Frame maths: the boundary of a scene that starts at ``start_ms`` is the frame
``round(start_ms * fps / 1000)``; the last scene ends at
``round(duration_ms * fps / 1000)`` so the video has exactly the audio's length
(within half a frame).  A transition of ``T`` frames is centred on its boundary:
it covers ``[B - T//2, B + T - T//2)``, so the cut's midpoint is the boundary frame.
"""
from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import InputError

log = logging.getLogger(__name__)

MOTIONS = ("zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down")
CALM_TRANSITIONS = ("fade", "fadeblack", "dissolve")
MID_TRANSITIONS = ("fade", "smoothleft", "wipeleft", "circleopen")
HIGH_TRANSITIONS = ("slideleft", "zoomin", "hblur", "fade")
CALM_MOODS = frozenset({"calm", "sad", "melancholic", "dreamy", "peaceful", "tender", "mellow", "dark", "ambient"})

_MAX_CHUNK_FRAMES_S = 8.0  # long scene bodies are split into chunks of at most this many seconds


@dataclass(frozen=True)
class Clip:
    """One scene to show: a still picture from ``start_ms`` to ``end_ms``."""

    scene_id: str
    image_path: Path
    image_sha256: str
    start_ms: int
    end_ms: int
    mood: str = ""
    energy: float = 0.5
    beats_ms: tuple[int, ...] = ()


@dataclass(frozen=True)
class SubtitleLine:
    """A lyric line; ``words`` holds ``(text, start_ms, end_ms)`` when word times are known."""

    text: str
    start_ms: int
    end_ms: int
    words: tuple[tuple[str, int, int], ...] = ()


# The final render's x264 options per project setting ``encode_speed`` (docs/benchmarks.md ## x264 settings):
# balanced: diamond motion search (the camera moves smoothly, a wide search finds nothing better) and no in-loop
# deblocking (at crf 20 the blocks it smooths are invisible; it only blurs the picture's fine texture);
# fast: also the cheapest sub-pixel refinement, ~27% less x264 CPU for ~25% bigger files at the same SSIM.
ENCODE_SPEEDS = {"balanced": "me=dia:no-deblock=1", "fast": "me=dia:no-deblock=1:subme=1"}


@dataclass(frozen=True)
class RenderSpec:
    """Output format and encoder settings."""

    width: int
    height: int
    fps: int = 30
    preview: bool = False
    subtitles: bool = True
    beat_pulse: bool = True
    subtitle_size: str = "medium"  # engine.render.subtitles.SUBTITLE_SIZES
    subtitle_position: str = "bottom"  # inside the frame's safe area (engine.render.subtitles.SAFE_AREAS)
    crf: int = 20
    preset: str = "veryfast"
    x264_params: str = ENCODE_SPEEDS["balanced"]
    # x264's own threads per chunk encode.  Explicit, because x264's output depends on its thread count and its
    # default follows the machine's cores: with it fixed, every machine (and a cluster's workers) encodes the same
    # bytes.  The render runs one encode per core at once, so one thread each keeps the cores busy.
    x264_threads: int = 1
    audio_bitrate_k: int = 192
    fade_edges_ms: int = 400  # fade in from / out to black at the very start and end

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or self.width < 16 or self.height < 16:
            raise InputError(f"video size must be even and at least 16x16, got {self.width}x{self.height}")
        if not 1 <= self.fps <= 120:
            raise InputError(f"fps out of range: {self.fps}")


_SIZES = {
    ("16:9", 720): (1280, 720), ("16:9", 1080): (1920, 1080),
    ("9:16", 720): (720, 1280), ("9:16", 1080): (1080, 1920),
    ("1:1", 720): (720, 720), ("1:1", 1080): (1080, 1080),
}
_PREVIEW_SIZES = {"16:9": (640, 360), "9:16": (360, 640), "1:1": (360, 360)}


def render_spec(*, aspect: str, resolution: int, fps: int = 30, preview: bool = False,
                subtitles: bool = True, beat_pulse: bool = True, subtitle_size: str = "medium",
                subtitle_position: str = "bottom", encode_speed: str = "balanced") -> RenderSpec:
    """The spec for a project's settings: 16:9 / 9:16 / 1:1 at 720p or 1080p; preview is 360p, fast and rough.

    ``encode_speed`` picks the final render's x264 options (:data:`ENCODE_SPEEDS`).
    """
    if preview:
        if aspect not in _PREVIEW_SIZES:
            raise InputError(f"unknown aspect {aspect!r}")
        width, height = _PREVIEW_SIZES[aspect]
        return RenderSpec(width=width, height=height, fps=min(fps, 24), preview=True, subtitles=subtitles,
                          beat_pulse=beat_pulse, subtitle_size=subtitle_size, subtitle_position=subtitle_position,
                          crf=28, preset="ultrafast")
    if (aspect, resolution) not in _SIZES:
        raise InputError(f"unknown format {aspect} {resolution}p")
    width, height = _SIZES[(aspect, resolution)]
    if encode_speed not in ENCODE_SPEEDS:
        raise InputError(f"unknown encode speed {encode_speed!r}")
    return RenderSpec(width=width, height=height, fps=fps, preview=False, subtitles=subtitles,
                      beat_pulse=beat_pulse, subtitle_size=subtitle_size, subtitle_position=subtitle_position,
                      x264_params=ENCODE_SPEEDS[encode_speed])


@dataclass(frozen=True)
class Motion:
    """A camera move over a clip: zoom and centre (fractions of the picture) go from -> to."""

    kind: str
    zoom_from: float
    zoom_to: float
    cx_from: float = 0.5
    cx_to: float = 0.5
    cy_from: float = 0.5
    cy_to: float = 0.5


@dataclass(frozen=True)
class Transition:
    """The transition at the boundary frame between clip ``index`` and ``index + 1``."""

    index: int
    kind: str  # a transition of engine.render.crossfades (named like ffmpeg xfade's), or "cut"
    boundary_frame: int
    dur_frames: int

    @property
    def start_frame(self) -> int:
        """First frame of the transition (the boundary is its midpoint)."""
        return self.boundary_frame - self.dur_frames // 2

    @property
    def end_frame(self) -> int:
        """One past the last frame of the transition."""
        return self.start_frame + self.dur_frames


@dataclass(frozen=True)
class TimedClip:
    """A clip placed on the frame grid, with its motion and the frames where it is visible."""

    clip: Clip
    start_frame: int
    end_frame: int
    visible_start_frame: int  # includes the outgoing half of the previous transition
    visible_end_frame: int  # includes the incoming half of the next transition
    motion: Motion
    pulse_beat_frames: tuple[int, ...] = ()  # absolute frames of beats that pulse the picture

    @property
    def dur_frames(self) -> int:
        """Frames between the clip's boundaries."""
        return self.end_frame - self.start_frame


@dataclass(frozen=True)
class Chunk:
    """One independently encoded piece of the video: a stretch of one scene, maybe ending in a transition.

    A chunk with two clips shows the first clip for all its frames and, from
    ``transition_offset_frames`` to its end, blends (``transition``) into the second one;
    folding each transition into the scene before it halves the number of chunks (and of
    keyframes, ffmpeg processes and x264 start-ups) against separate transition chunks.
    """

    kind: str  # "scene"
    start_frame: int
    dur_frames: int
    clip_indexes: tuple[int, ...]  # one clip, or two when the chunk ends in a transition
    transition: str = ""
    transition_offset_frames: int = 0  # first frame of the transition, counted from the chunk's start

    @property
    def end_frame(self) -> int:
        """One past the last frame."""
        return self.start_frame + self.dur_frames

    @property
    def transition_frames(self) -> int:
        """Frames of the transition at the chunk's end (0 if none): the second clip's frames to feed."""
        return self.dur_frames - self.transition_offset_frames if self.transition else 0

    @property
    def name(self) -> str:
        """A short readable name, e.g. ``scene_003_f000120``."""
        return f"{self.kind}_{'_'.join(f'{i:03d}' for i in self.clip_indexes)}_f{self.start_frame:07d}"


@dataclass(frozen=True)
class Timeline:
    """Everything the renderer needs to know about the picture track."""

    spec: RenderSpec
    duration_ms: int
    total_frames: int
    clips: tuple[TimedClip, ...]
    transitions: tuple[Transition, ...]
    chunks: tuple[Chunk, ...] = field(default=())


def ms_to_frame(ms: int, *, fps: int) -> int:
    """The frame on which a time in milliseconds falls (nearest frame)."""
    return int(round(ms * fps / 1000))


def ease(progress: float) -> float:
    """Gentle ease-in-out: half linear, half smoothstep (never stops dead, never jerks)."""
    p = min(1.0, max(0.0, progress))
    return 0.5 * p + 0.5 * (p * p * (3.0 - 2.0 * p))


def camera_window(motion: Motion, *, progress: float, pulse: float = 0.0) -> tuple[float, float, float]:
    """Zoom and centre (cx, cy as fractions) at ``progress`` 0..1 of a clip; ``pulse`` adds zoom."""
    e = ease(progress)
    zoom = (motion.zoom_from + (motion.zoom_to - motion.zoom_from) * e) * (1.0 + pulse)
    cx = motion.cx_from + (motion.cx_to - motion.cx_from) * e
    cy = motion.cy_from + (motion.cy_to - motion.cy_from) * e
    return zoom, cx, cy


def pick_motion(*, mood: str, energy: float, previous: str | None, rng: random.Random) -> Motion:
    """A camera move for a scene: calm scenes drift slowly, energetic ones zoom more; never ``previous``."""
    energy = min(1.0, max(0.0, float(energy)))
    calm = mood.lower() in CALM_MOODS or energy < 0.35
    preferred = ("zoom_out", "pan_left", "pan_right", "zoom_in") if calm else ("zoom_in", "pan_right", "pan_left", "zoom_out", "pan_up", "pan_down")
    weights = [len(preferred) - i for i in range(len(preferred))]
    choices = [(k, w) for k, w in zip(preferred, weights) if k != previous]
    kinds, ws = zip(*choices)
    kind = rng.choices(kinds, weights=ws, k=1)[0]
    amount = 0.08 + 0.12 * energy  # total zoom change over the clip
    if kind == "zoom_in":
        return Motion(kind, 1.0, 1.0 + amount)
    if kind == "zoom_out":
        return Motion(kind, 1.0 + amount, 1.0)
    zoom = 1.12 + 0.5 * amount
    reach = (1.0 - 1.0 / zoom) / 2.0 * 0.9  # how far the centre may move and stay inside the picture
    if kind == "pan_left":
        return Motion(kind, zoom, zoom, cx_from=0.5 + reach, cx_to=0.5 - reach)
    if kind == "pan_right":
        return Motion(kind, zoom, zoom, cx_from=0.5 - reach, cx_to=0.5 + reach)
    if kind == "pan_up":
        return Motion(kind, zoom, zoom, cy_from=0.5 + reach, cy_to=0.5 - reach)
    return Motion(kind, zoom, zoom, cy_from=0.5 - reach, cy_to=0.5 + reach)


def pick_transition(*, energy: float, rng: random.Random) -> tuple[str, float]:
    """A transition kind and its length in seconds for a boundary whose loudness is ``energy`` (0..1)."""
    if energy < 0.4:
        return rng.choice(CALM_TRANSITIONS), 1.0
    if energy < 0.7:
        return rng.choice(MID_TRANSITIONS), 0.6
    return rng.choice(HIGH_TRANSITIONS), 0.35


def build_timeline(clips: list[Clip] | tuple[Clip, ...], *, duration_ms: int, spec: RenderSpec, seed: int = 0) -> Timeline:
    """Place clips on the frame grid, choose motions and transitions, and cut the video into chunks.

    Clip ``i`` runs from its own start boundary to the next clip's start (the first
    starts at frame 0, the last ends at the audio's end).  Clips that round to no
    frame at all are dropped.  Deterministic for a given ``seed``.
    """
    if duration_ms <= 0:
        raise InputError("duration_ms must be positive")
    if not clips:
        raise InputError("no clips to render")
    fps = spec.fps
    total = ms_to_frame(duration_ms, fps=fps)
    if total < 1:
        raise InputError("the audio is shorter than one frame")
    ordered = sorted(clips, key=lambda c: c.start_ms)
    starts = [0] + [min(total, max(0, ms_to_frame(c.start_ms, fps=fps))) for c in ordered[1:]]
    bounds: list[tuple[Clip, int, int]] = []
    for i, clip in enumerate(ordered):
        start = starts[i]
        end = starts[i + 1] if i + 1 < len(ordered) else total
        if end <= start:
            log.warning("scene %s rounds to no frame; dropped", clip.scene_id)
            continue
        if bounds:
            start = bounds[-1][2]  # contiguous even after a drop
        bounds.append((clip, start, end))
    rng = random.Random(seed)

    transitions: list[Transition] = []
    for i in range(len(bounds) - 1):
        left, right = bounds[i], bounds[i + 1]
        energy = (left[0].energy + right[0].energy) / 2.0
        kind, seconds = pick_transition(energy=energy, rng=rng)
        shortest = min(left[2] - left[1], right[2] - right[1])
        dur = min(int(round(seconds * fps)), int(shortest * 0.4))
        if dur < 2:
            kind, dur = "cut", 0
        transitions.append(Transition(index=i, kind=kind, boundary_frame=left[2], dur_frames=dur))

    timed: list[TimedClip] = []
    previous: str | None = None
    for i, (clip, start, end) in enumerate(bounds):
        motion = pick_motion(mood=clip.mood, energy=clip.energy, previous=previous, rng=rng)
        previous = motion.kind
        vis_start = transitions[i - 1].start_frame if i > 0 else start
        vis_end = transitions[i].end_frame if i < len(transitions) else end
        pulses: tuple[int, ...] = ()
        if spec.beat_pulse and clip.energy >= 0.6:
            pulses = tuple(sorted({ms_to_frame(b, fps=fps) for b in clip.beats_ms
                                   if vis_start <= ms_to_frame(b, fps=fps) < vis_end}))
        timed.append(TimedClip(clip, start, end, vis_start, vis_end, motion, pulses))

    chunks = _cut_chunks(timed, transitions, fps=fps)
    return Timeline(spec=spec, duration_ms=duration_ms, total_frames=total, clips=tuple(timed),
                    transitions=tuple(transitions), chunks=chunks)


def _cut_chunks(clips: list[TimedClip], transitions: list[Transition], *, fps: int) -> tuple[Chunk, ...]:
    """Scene bodies in chunks of at most ~8 s, each transition folded into the end of the last chunk before it."""
    max_frames = max(1, int(_MAX_CHUNK_FRAMES_S * fps))
    out: list[Chunk] = []
    for i, tc in enumerate(clips):
        body_start = transitions[i - 1].end_frame if i > 0 else tc.start_frame
        body_end = transitions[i].start_frame if i < len(transitions) else tc.end_frame
        spans: list[tuple[int, int]] = []
        length = body_end - body_start
        if length > 0:
            pieces = -(-length // max_frames)
            step = -(-length // pieces)
            spans = [(s, min(step, body_end - s)) for s in range(body_start, body_end, step)]
        tr = transitions[i] if i < len(transitions) and transitions[i].dur_frames > 0 else None
        if tr is None:
            out.extend(Chunk("scene", s, n, (i,)) for s, n in spans)
            continue
        last_start, last_len = spans.pop() if spans else (tr.start_frame, 0)
        out.extend(Chunk("scene", s, n, (i,)) for s, n in spans)
        out.append(Chunk("scene", last_start, last_len + tr.dur_frames, (i, i + 1), tr.kind,
                           transition_offset_frames=last_len))
    return tuple(out)


def clip_progress(tc: TimedClip, *, frame: int) -> float:
    """How far (0..1) the clip's camera move is at an absolute frame."""
    span = max(1, tc.visible_end_frame - tc.visible_start_frame - 1)
    return (frame - tc.visible_start_frame) / span


PULSE_AMOUNT = 0.012  # extra zoom at the top of a beat pulse
PULSE_ATTACK_FRAMES = 2.0


def pulse_at(tc: TimedClip, *, frame: int, fps: int) -> float:
    """The beat pulse (extra zoom fraction) at an absolute frame: a quick rise and a short decay per beat."""
    total = 0.0
    attack = PULSE_ATTACK_FRAMES * fps / 30.0
    for b in tc.pulse_beat_frames:
        if frame >= b:
            x = (frame - b) / attack
            if x < 12:
                total += PULSE_AMOUNT * x * math.exp(1.0 - x)
    return total

