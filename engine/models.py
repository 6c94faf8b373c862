"""The data model: one pydantic model per JSON file in a project folder.

Every file carries ``schema_version``; loading a file with an unknown version
raises :class:`engine.errors.InputError` (see ``engine.storage``).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.errors import InputError
from engine.styles import get_preset

SCHEMA_VERSION = 1

Aspect = Literal["16:9", "9:16", "1:1"]
ProviderName = Literal["local", "gemini"]
Quality = Literal["fast", "pro"]
Resolution = Literal[720, 1080]
SubtitleSize = Literal["small", "medium", "large"]
SubtitlePosition = Literal["bottom", "middle", "top"]  # inside the platform safe area of the frame
EncodeSpeed = Literal["balanced", "fast"]  # x264 of the final render: engine.render.timeline.ENCODE_SPEEDS


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class Model(BaseModel):
    """Base: forbid unknown keys so a typo in a file or a PATCH is an error."""

    model_config = ConfigDict(extra="forbid")


class Versioned(Model):
    """A file-level model with a schema version."""

    schema_version: int = SCHEMA_VERSION


# --------------------------------------------------------------------------- project.json


class ProjectSettings(Model):
    """Settings chosen per project (upload screen / CLI flags).

    Declared once: the API's ``SettingsUpdate`` is derived from these fields
    (types and bounds), the CLI's choices and defaults come from them, and the
    checks across fields are the validators below.
    """

    style: str = "synthwave"
    aspect: Aspect = "16:9"
    resolution: Resolution = 720
    fps: int = Field(default=30, ge=12, le=60)
    subtitles: bool = True
    subtitle_size: SubtitleSize = "medium"
    subtitle_position: SubtitlePosition = "bottom"
    quality: Quality = "fast"
    provider: ProviderName = "local"
    min_scene_ms: int = Field(default=2500, ge=500, le=30_000)
    max_scene_ms: int = Field(default=8000, ge=1000, le=60_000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    beat_pulse: bool = True
    # "fast": x264 spends ~27% less CPU for ~25% bigger files at the same SSIM (docs/benchmarks.md ## x264 settings)
    encode_speed: EncodeSpeed = "balanced"
    continuity: bool = False  # Gemini: each picture also gets the previous scene's picture as an input image
    gemini_batch: bool = False  # Gemini: the pictures through the Batch API (half price, answered within hours)

    @field_validator("style")
    @classmethod
    def _known_style(cls, style: str) -> str:
        try:
            get_preset(style)
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return style

    @model_validator(mode="after")
    def _scene_bounds(self) -> ProjectSettings:
        if self.min_scene_ms > self.max_scene_ms:
            raise ValueError("min_scene_ms must not exceed max_scene_ms")
        if self.gemini_batch and self.continuity:
            raise ValueError("gemini_batch and continuity exclude each other: with continuity each picture is drawn "
                             "from the one before, so they cannot be asked for in one batch")
        return self

    @classmethod
    def choices(cls, name: str) -> list[object]:
        """The values a Literal-typed setting may take (e.g. ``"aspect"``), for the CLI's choices."""
        return list(get_args(cls.model_fields[name].annotation))


class SourceInfo(Model):
    """What was uploaded."""

    original_name: str
    original_file: str  # relative to the project folder, e.g. source/original.mp3
    wav_file: str = "source/track.wav"
    sha256: str
    duration_ms: int
    sample_rate: int
    channels: int
    lyrics_file: str | None = None  # e.g. source/lyrics.lrc
    lyrics_sha256: str | None = None

    @property
    def key(self) -> str:
        """What the analysis listens to: the track and the lyrics file (their hashes)."""
        return f"{self.sha256}:{self.lyrics_sha256 or ''}"


class ErrorInfo(Model):
    """Why a project is FAILED."""

    step: str
    message: str
    kind: str
    at: datetime = Field(default_factory=utcnow)


class RenderRecord(Model):
    """One finished render, renders/final_vN.mp4."""

    version: int
    file: str
    fingerprint: str
    preview: bool = False
    width: int
    height: int
    duration_ms: int
    created_at: datetime = Field(default_factory=utcnow)
    srt_file: str | None = None
    lrc_file: str | None = None


class HistoryEntry(Model):
    """One state change, for the UI and for debugging."""

    trigger: str
    source: str
    dest: str
    at: datetime = Field(default_factory=utcnow)


class Project(Versioned):
    """project.json: settings plus the state machine's state."""

    id: str
    name: str = ""
    state: str = "CREATED"
    failed_from: str | None = None
    error: ErrorInfo | None = None
    settings: ProjectSettings = Field(default_factory=ProjectSettings)
    source: SourceInfo | None = None
    renders: list[RenderRecord] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- analysis.json


class LyricWord(Model):
    """A word with its time (enhanced LRC or provider transcription)."""

    text: str
    start_ms: int
    end_ms: int


LyricTiming = Literal["given", "aligned", "estimated"]


class LyricLine(Model):
    """A timed lyric line."""

    index: int
    text: str
    start_ms: int
    end_ms: int
    words: list[LyricWord] = Field(default_factory=list)
    source: Literal["lrc", "text", "gemini", "edit"] = "lrc"  # "edit": set by hand (engine.project.edit_lyrics)
    moved: bool = False  # timing had to be corrected (validation / alignment)
    # how the times were found: "given" (LRC), "aligned" (the speech aligner heard the line there,
    # engine/audio/align.py) or "estimated" (spread over the vocal parts, or Gemini's own clock)
    timing: LyricTiming = "given"
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)  # the aligner's, when it ran on this line

    @model_validator(mode="before")
    @classmethod
    def _timing_from_source(cls, data: object) -> object:
        """Files written before ``timing`` existed: LRC lines were given, plain-text and Gemini lines estimated."""
        if isinstance(data, dict) and "timing" not in data:
            data = {**data, "timing": "given" if data.get("source", "lrc") == "lrc" else "estimated"}
        return data


class Section(Model):
    """A musical section (structural segmentation)."""

    index: int
    label: str  # intro, verse, chorus, bridge, breakdown, outro
    start_ms: int
    end_ms: int
    energy: float  # 0..1, relative to the track
    mood: str


class EnergyCurve(Model):
    """Frame-wise curves, normalised to 0..1, one value every ``hop_ms``."""

    hop_ms: int
    rms: list[float]
    onset: list[float]
    brightness: list[float]


class Analysis(Versioned):
    """analysis.json: what the listening step found."""

    fingerprint: str = ""
    provider: str = "local"
    duration_ms: int
    tempo_bpm: float
    beats_ms: list[int]
    downbeats_ms: list[int]
    beats_per_bar: int = 4
    onsets_ms: list[int] = Field(default_factory=list)
    energy: EnergyCurve
    key: str = ""
    mode: str = ""
    mood: str = ""
    sections: list[Section]
    lyrics: list[LyricLine] = Field(default_factory=list)
    language: str | None = None
    summary: str = ""
    # set when the lyrics were edited by hand (engine.project.edit_lyrics): the hash of the edited lines. The
    # storyboard's fingerprint covers it; ``fingerprint`` stays the analysis' own (what it was made from).
    lyrics_edit: str = ""
    note: str = ""  # shown to the user, e.g. "Gemini refused (SAFETY): the local analysis is used"


class LyricsEdit(Versioned):
    """lyrics_edit.json: the lyrics as last edited by hand, kept beside the analysis so that a fresh analysis of
    the same track and lyrics file (another provider, a newer analyst) keeps them (engine.steps.analyze)."""

    made_from: str  # SourceInfo.key of the upload the edit was made on
    edit: str  # Analysis.lyrics_edit of the edit
    lines: list[LyricLine]


# --------------------------------------------------------------------------- segments.json


class Scene(Model):
    """One scene of the storyboard."""

    id: str  # seg_001
    index: int
    start_ms: int
    end_ms: int
    lyric_text: str = ""
    visual_intent: str
    mood: str
    energy: float
    section: str
    words: list[LyricWord] = Field(default_factory=list)
    edited: bool = False  # the user changed visual_intent
    locked: bool = False  # the user locked it: style, frame and redraws keep its prompt and picture (engine.structure)

    @property
    def duration_ms(self) -> int:
        """Length of the scene."""
        return self.end_ms - self.start_ms

    @property
    def seat(self) -> int:
        """The scene's stable number, from its id (``seg_004`` -> 3), not its position (``index``).

        A fresh storyboard numbers its scenes in order, so seat == index. After the
        storyboard is planned again (a lyrics edit, a new track) a scene that is
        still there keeps its id (``engine.steps.segment.keep_known``) and so its
        seat, while its index may shift: the prompt and picture fingerprints use the
        seat, so a scene that only moved in the list keeps its prompt and picture.
        """
        number = self.id.rpartition("_")[2]
        return int(number) - 1 if number.isdigit() else self.index


class Segments(Versioned):
    """segments.json: the storyboard."""

    fingerprint: str = ""
    provider: str = "local"
    scenes: list[Scene]
    note: str = ""  # shown to the user, e.g. "Gemini refused (SAFETY): the local storyboard is used"


class Span(Model):
    """A scene the user made by hand (a moved cut, a split, a merge): its bounds survive a re-planning."""

    start_ms: int = Field(ge=0)
    end_ms: int = Field(gt=0)


class CutEdits(Versioned):
    """cuts.json: the user's cut decisions, honoured by the segment step whenever it plans the storyboard again.

    ``track_sha256``: the track they were made on; a new track makes them void.
    """

    track_sha256: str = ""
    spans: list[Span] = Field(default_factory=list)


# --------------------------------------------------------------------------- prompts.json


class ImageRecord(Model):
    """The outcome of drawing one prompt version."""

    status: Literal["ok", "blocked", "failed"]
    file: str | None = None  # images/seg_001_v2.png
    fingerprint: str = ""
    sha256: str = ""
    provider: str = "local"
    fallback: bool = False  # drawn by the local illustrator because the provider refused
    reason: str = ""
    model: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    # a picture the user brought (provider "upload", engine.pictures): the kept original and the focal point
    # (0..1 of its width and height) it was cropped around; a new focal point re-crops from the original
    original: str | None = None
    focus: tuple[float, float] | None = None


class PromptVersion(Model):
    """One version of a scene's prompt; each version gets its own picture."""

    version: int
    image_prompt: str
    negative_prompt: str = ""
    style_hints: list[str] = Field(default_factory=list)
    origin: Literal["auto", "user", "regenerate", "restore", "upload"] = "auto"
    source_fingerprint: str = ""  # fingerprint of the scene + style that an auto prompt came from
    restored_from: int | None = None  # a restored version shows the picture of this earlier version
    created_at: datetime = Field(default_factory=utcnow)
    image: ImageRecord | None = None


class ScenePrompts(Model):
    """All prompt versions of one scene; the last one is current."""

    id: str
    versions: list[PromptVersion]

    @property
    def latest(self) -> PromptVersion:
        """The current version (a render always uses it)."""
        return self.versions[-1]


class StyleBible(Model):
    """Project-wide look that keeps scenes consistent."""

    preset: str
    palette: list[str]
    setting: str
    subject: str
    look: str
    negative: str = ""


# --------------------------------------------------------------------------- cast.json

# The silhouettes a cast member can have: each one is a figure the local illustrator draws
# (engine/providers/local/paint_cast.py); a Gemini picture gets the reference image instead.
Silhouette = Literal["long-coat", "jacket", "hooded", "dress", "wolf", "horse", "cat", "bird"]
SILHOUETTES: tuple[str, ...] = get_args(Silhouette)
CastAppears = Literal["always", "named"]
_HEX = r"^#[0-9a-fA-F]{6}$"


class CastReference(Model):
    """The reference picture of one cast member: drawn once by the illustrator, or uploaded by the user."""

    file: str  # cast/lead.png
    sha256: str
    fingerprint: str = ""  # what a drawn reference was drawn from (an upload keeps it empty: never redrawn)
    origin: Literal["drawn", "upload"] = "drawn"
    provider: str = ""
    model: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class CastMemberFields(Model):
    """What the user edits of a cast member: who it is and how it looks (the API's cast body)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1, max_length=400)  # the words prompts use for it
    silhouette: Silhouette = "long-coat"
    colours: list[str] = Field(min_length=1, max_length=4)  # main (clothing / body), second, accent: "#rrggbb"
    clothing: str = Field(default="", max_length=200)
    appears: CastAppears = "always"  # "always": in every scene; "named": where a prompt names it

    @field_validator("colours")
    @classmethod
    def _hex_colours(cls, colours: list[str]) -> list[str]:
        bad = [c for c in colours if not re.match(_HEX, c)]
        if bad:
            raise ValueError(f"colours must be #rrggbb, not {', '.join(map(repr, bad))}")
        return [c.lower() for c in colours]


class CastMember(CastMemberFields):
    """One recurring subject of the video, in every scene it is in, with its reference picture once drawn."""

    reference: CastReference | None = None


class Cast(Versioned):
    """cast.json: the recurring subjects, proposed with the style bible, editable by the user."""

    fingerprint: str = ""  # the proposal it came from (a user edit keeps it, ``edited`` True)
    edited: bool = False
    members: list[CastMember] = Field(default_factory=list, max_length=6)

    @model_validator(mode="after")
    def _unique_ids(self) -> Cast:
        ids = [m.id for m in self.members]
        if len(ids) != len(set(ids)):
            raise ValueError("cast member ids must be unique")
        return self


class Prompts(Versioned):
    """prompts.json: prompts and versions per scene."""

    fingerprint: str = ""
    provider: str = "local"
    style_bible: StyleBible
    scenes: list[ScenePrompts]
    note: str = ""  # shown to the user, e.g. "Gemini refused to write the prompts (SAFETY): the local prompt writer is used"


# --------------------------------------------------------------------------- jobs/*.json

# "not_responding" is never written to a file: views show it for a worker that holds the project's lock while
# its heartbeat has stopped (paused with SIGSTOP, or hung); see engine.jobs.job_as_seen.
JobStatus = Literal["idle", "queued", "running", "done", "failed", "interrupted", "cancelled", "not_responding"]

# The two job files: a pipeline run (jobs/pipeline.json) and a render (jobs/render.json). Which one a run is
# decided by engine.machine.job_kind; the kinds are listed here once.
JobKind = Literal["pipeline", "render"]
JOB_KINDS: tuple[JobKind, ...] = get_args(JobKind)


class StepProgress(Model):
    """Progress of one pipeline step within a job."""

    name: str
    status: Literal["pending", "running", "done", "skipped", "failed"] = "pending"
    done: int = 0
    total: int = 0
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str = ""


class JobError(Model):
    """An error seen during a job (retried or final)."""

    step: str
    message: str
    attempt: int
    final: bool = False
    at: datetime = Field(default_factory=utcnow)


class Usage(Model):
    """Provider usage accounting."""

    calls: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    images: int = 0
    est_cost_usd: float = 0.0
    thinking_tokens: int = 0  # of output_tokens, the model's thinking (Gemini 2.5 thinks by default)


class Job(Versioned):
    """jobs/pipeline.json and jobs/render.json."""

    kind: JobKind
    status: JobStatus = "idle"
    target: str = ""
    pid: int | None = None
    host: str | None = None  # the machine the worker runs on (its pid means something only there)
    step: str = ""
    steps: list[StepProgress] = Field(default_factory=list)
    done: int = 0
    total: int = 0
    fraction: float = 0.0
    eta_s: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    errors: list[JobError] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    message: str = ""
    preview: bool = False  # a preview render (a resume makes a preview again)
    continues_crash: bool = False  # queued to continue a run whose worker died: attempts and usage carry over
