"""Request and response models of the REST API (a schema family per resource).

Responses never expose internal fields (fingerprints, absolute paths, pids of
other projects); files are referred to by URL under ``/projects/{id}/files/``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, create_model

from engine import machine
from engine.usage import StepEstimate

from engine.models import (
    Aspect,
    CastMember,
    CastMemberFields,
    EnergyCurve,
    ErrorInfo,
    HistoryEntry,
    Job,
    LyricLine,
    ProjectSettings,
    ProviderName,
    Quality,
    Section,
    SourceInfo,
    StyleBible,
    Usage,
)

TargetState = Literal[tuple(machine.RUN_TARGETS)]  # type: ignore[valid-type]


class Strict(BaseModel):
    """Request bodies: unknown keys are an error (a typo must not be silently ignored), and types are strict.

    ``"yes"`` is not a bool, ``false`` or ``"1"`` not an int, ``1`` not a string: a
    wrong type is a 422, never coerced into something the client did not mean.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


# --------------------------------------------------------------------------- system


class Health(BaseModel):
    """GET /health."""

    status: Literal["ok"] = "ok"
    version: str
    default_provider: str


class MachinePublic(BaseModel):
    """GET /machine: engine.machine.machine_spec() plus the Mermaid diagram."""

    model_config = ConfigDict(extra="allow")

    states: list[str]
    initial: str
    pipeline: list[dict[str, Any]]
    edits: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    labels: dict[str, str] = Field(default_factory=dict, description="each trigger in a person's words")
    internal: list[str] = Field(default_factory=list, description="triggers only the runner fires (never offered)")
    state_words: dict[str, str] = Field(default_factory=dict, description="what a project in each work state has")
    mermaid: str


class SessionPublic(BaseModel):
    """POST /session: the media cookie was set (HttpOnly; no secret in it)."""

    expires_in: int = Field(description="seconds the cookie is good for (0: the server has no token, none is needed)")


class StylePublic(BaseModel):
    """One style preset."""

    id: str
    label: str
    description: str
    palette: list[str]
    sample_url: str


# --------------------------------------------------------------------------- projects


class _SettingsChanges(Strict):
    def changes(self) -> dict[str, Any]:
        """Only the keys the client sent."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


def _partial(model: type[BaseModel]) -> dict[str, Any]:
    """Every field of ``model`` as optional (default None), with its type and bounds (``Field`` metadata) kept."""
    return {
        name: (Annotated[info.annotation | None, *info.metadata] if info.metadata else info.annotation | None, None)
        for name, info in model.model_fields.items()
    }


# Partial project settings (POST /projects, PATCH /projects/{id}); omitted keys keep their value. Derived from
# engine.models.ProjectSettings: its types and bounds are not restated; the checks across fields (scene length
# bounds, a known style) run when the merged settings are validated as a ProjectSettings.
SettingsUpdate = create_model(  # type: ignore[call-overload]
    "SettingsUpdate", __base__=_SettingsChanges, __module__=__name__,
    __doc__="Partial project settings (POST /projects, PATCH /projects/{id}); omitted keys keep their value.",
    **_partial(ProjectSettings),
)


class ProjectCreate(Strict):
    """POST /projects."""

    name: str = Field(default="", max_length=200)
    settings: SettingsUpdate | None = None


class ProjectRename(Strict):
    """POST /projects/{id}/rename."""

    name: str = Field(min_length=1, max_length=200)


class ProjectDuplicate(Strict):
    """POST /projects/{id}/duplicate: the copy's name (default "<name> (copy)") and settings to change on it."""

    name: str | None = Field(default=None, max_length=200)
    settings: SettingsUpdate | None = None


class RenderPublic(BaseModel):
    """One finished render with download URLs."""

    version: int
    preview: bool
    url: str
    srt_url: str | None = None
    lrc_url: str | None = None
    width: int
    height: int
    duration_ms: int
    created_at: datetime


class JobsPublic(BaseModel):
    """GET /projects/{id}/jobs."""

    pipeline: Job
    render: Job


class SpendPublic(BaseModel):
    """What the project has spent on provider calls (the ledger jobs/ledger.jsonl, never reset)."""

    total: Usage = Field(description="every call ever made for this project")
    last_job: Usage = Field(description="the share of the job that made the last call")


class NotePublic(BaseModel):
    """A note a step left for the user about its result (e.g. a local fallback after a refusal)."""

    step: str
    message: str


class ProjectPublic(BaseModel):
    """GET /projects/{id}: the project, what may happen next, and its jobs."""

    id: str
    name: str
    state: str
    failed_from: str | None = None
    error: ErrorInfo | None = None
    settings: dict[str, Any]
    source: SourceInfo | None = None
    allowed: list[str]
    busy: bool
    resumable: bool = Field(description="a run was interrupted or failed: POST /projects/{id}/resume continues it")
    jobs: JobsPublic
    renders: list[RenderPublic]
    history: list[HistoryEntry]
    created_at: datetime
    updated_at: datetime
    thumbnail_url: str | None = None
    audio_url: str | None = None
    settings_version: str = Field(default="", description="the settings' version: If-Match of PATCH /projects/{id}")
    status_text: str = Field(default="", description='where the project is in words: "video ready", "video out of date" '
                                                     '(engine.machine.status_words)')
    spend: SpendPublic = Field(default_factory=lambda: SpendPublic(total=Usage(), last_job=Usage()))
    notes: list[NotePublic] = Field(default_factory=list)

    @computed_field(description="a run towards RENDERED has steps to do from this state (engine.machine.can_generate)")
    @property
    def can_generate(self) -> bool:
        """Whether the UI offers "Generate video"; busy is separate."""
        return machine.can_generate(self.state)

    @computed_field(description="the work state this project stands for: where a FAILED project failed from (a "
                                "resume returns there), else its state (engine.machine.stands_for)")
    @property
    def stands_for(self) -> str:
        """Where the UI's state diagram shows the project."""
        return machine.stands_for(self)

    @computed_field(description='how a video is made from this state: "render" (a render job), "run" (a run that makes '
                                'the missing steps first), or null (no track yet, or FAILED) (engine.machine.render_kind)')
    @property
    def render_kind(self) -> Literal["render", "run"] | None:
        """What the UI's render buttons start; busy is separate."""
        return machine.render_kind(self.state)  # type: ignore[return-value]


class ProjectSummary(BaseModel):
    """One row of GET /projects."""

    id: str
    name: str
    state: str
    created_at: datetime
    updated_at: datetime
    thumbnail_url: str | None = None
    duration_ms: int | None = None
    status_text: str = Field(default="", description="where the project is in words (engine.machine.status_words)")


# --------------------------------------------------------------------------- runs


class RunRequest(Strict):
    """POST /projects/{id}/run."""

    target: TargetState = "RENDERED"
    preview: bool = False


class RenderRequest(Strict):
    """POST /projects/{id}/render."""

    preview: bool = False


class RunAccepted(BaseModel):
    """202: a worker was started."""

    pid: int
    job: Job


class CancelResult(BaseModel):
    """POST /projects/{id}/cancel."""

    stopped: bool


# --------------------------------------------------------------------------- analysis


class AnalysisPublic(BaseModel):
    """GET /projects/{id}/analysis."""

    duration_ms: int
    tempo_bpm: float
    beats_ms: list[int]
    downbeats_ms: list[int]
    beats_per_bar: int
    onsets_ms: list[int] = Field(default_factory=list, description="note onsets: the lyrics editor snaps line edges to them")
    sections: list[Section]
    energy: EnergyCurve
    lyrics: list[LyricLine]
    key: str = ""
    mode: str = ""
    mood: str = ""
    language: str | None = None
    summary: str = ""
    provider: str


# --------------------------------------------------------------------------- lyrics


class LyricsPublic(BaseModel):
    """GET /projects/{id}/lyrics (and the answer of PUT): the timed lines and their version (also the ETag)."""

    version: str = Field(description="send it back as If-Match (or in the body) so a stale edit is refused with 412")
    duration_ms: int
    state: str
    estimated: int = Field(description="how many lines have estimated times (the aligner was not confident)")
    lines: list[LyricLine]


class LyricWordIn(Strict):
    """A word with its time (karaoke)."""

    text: str = Field(max_length=200)
    start_ms: int
    end_ms: int


class LyricLineIn(Strict):
    """One line as GET gives it. ``index``, ``timing``, ``confidence``, ``source`` and ``moved`` are the engine's:
    accepted so a GET body can be sent back, and ignored (a line sent back unchanged keeps them; a changed
    line was set by hand: ``timing: "given"``)."""

    text: str = Field(max_length=500)
    start_ms: int
    end_ms: int
    words: list[LyricWordIn] = Field(default_factory=list, max_length=200)
    index: int | None = None
    timing: Literal["given", "aligned", "estimated"] | None = None
    confidence: float | None = None
    source: Literal["lrc", "text", "gemini", "edit"] | None = None
    moved: bool | None = None


class LyricsUpdate(Strict):
    """PUT /projects/{id}/lyrics as JSON: every line, in order (what is not sent is removed)."""

    lines: list[LyricLineIn] = Field(max_length=1000)
    version: str | None = Field(default=None, max_length=64, description="like If-Match: the version the edit was made on")


# --------------------------------------------------------------------------- cast


class CastPublic(BaseModel):
    """GET /projects/{id}/cast (and the answer of PUT): the members, their references and the version (also the ETag)."""

    version: str = Field(description="send it back as If-Match (or in the body) so a stale edit is refused with 412")
    state: str
    edited: bool = Field(description="the user edited the cast (a new style bible no longer re-proposes it)")
    members: list[CastMember]
    reference_urls: dict[str, str] = Field(description="member id -> URL of its reference picture (when drawn or uploaded)")
    silhouettes: list[str] = Field(description="the silhouettes a member may have (each one the local illustrator draws)")


class CastUpdate(Strict):
    """PUT /projects/{id}/cast: every member, in order (what is not sent is removed). References are kept by id."""

    members: list[CastMemberFields] = Field(min_length=1, max_length=6)
    version: str | None = Field(default=None, max_length=64, description="like If-Match: the version the edit was made on")


# --------------------------------------------------------------------------- segments

SceneStatus = Literal["ok", "blocked", "failed", "pending"]


class VersionPublic(BaseModel):
    """One prompt version of a scene and its picture."""

    version: int
    origin: str
    image_prompt: str
    negative_prompt: str
    style_hints: list[str]
    image_url: str | None = None
    status: SceneStatus
    reason: str = ""
    fallback: bool = False
    restored_from: int | None = None
    created_at: datetime
    focus: tuple[float, float] | None = Field(default=None, description="an uploaded picture: the focal point it was cropped around (0..1)")
    original_url: str | None = Field(default=None, description="an uploaded picture: the original as sent (a new focal point re-crops it)")


class SceneLine(BaseModel):
    """A lyric line shown in a scene (a merged scene shows several; a split at a line's start gives it its own)."""

    index: int
    text: str
    start_ms: int
    end_ms: int


class ScenePublic(BaseModel):
    """A scene with its current prompt and picture, and all versions."""

    id: str
    index: int
    start_ms: int
    end_ms: int
    lyric_text: str
    visual_intent: str
    mood: str
    energy: float
    section: str
    edited: bool
    version: int | None = None
    image_prompt: str | None = None
    negative_prompt: str | None = None
    style_hints: list[str] = Field(default_factory=list)
    image_url: str | None = None
    status: SceneStatus
    reason: str = ""
    fallback: bool = False
    versions: list[VersionPublic]
    locked: bool = Field(default=False, description="kept as it is through a new style, frame or redraw")
    lines: list[SceneLine] = Field(default_factory=list, description="the lyric lines shown in this scene")
    etag: str = Field(default="", description="the scene's version: send it as If-Match with an edit (412 when stale)")
    previous_image_url: str | None = Field(default=None, description="while the current version is not drawn yet: "
                                           "the newest earlier picture (shown marked out of date)")
    previous_version: int | None = None


class SegmentsPublic(BaseModel):
    """GET /projects/{id}/segments."""

    style_bible: StyleBible | None = None
    scenes: list[ScenePublic]


class SceneUpdate(Strict):
    """PATCH /projects/{id}/segments/{seg_id}."""

    visual_intent: str | None = Field(default=None, min_length=1, max_length=4000)
    image_prompt: str | None = Field(default=None, min_length=1, max_length=4000)
    negative_prompt: str | None = Field(default=None, max_length=4000)
    style_hints: list[Annotated[str, Field(max_length=200)]] | None = Field(default=None, max_length=32)


class SceneMove(Strict):
    """The structure part of PATCH /projects/{id}/segments/{seg_id}: move the scene's cuts."""

    start_ms: int | None = Field(default=None, ge=0, le=3_600_000)
    end_ms: int | None = Field(default=None, ge=1, le=3_600_000)
    snap: bool = Field(default=True, description="snap to the nearest beat (a downbeat preferred)")


class ScenePatch(SceneUpdate, SceneMove):
    """PATCH /projects/{id}/segments/{seg_id}: one kind of change per request: the times (``start_ms``/``end_ms``,
    ``snap``), the lock (``locked``), or the intent and prompt."""

    locked: bool | None = None


class SplitRequest(Strict):
    """POST /projects/{id}/segments/{seg_id}/split."""

    at_ms: int = Field(ge=1, le=3_600_000)
    snap: bool = True


class MergeRequest(Strict):
    """POST /projects/{id}/segments/{seg_id}/merge."""

    with_: Literal["next", "prev"] = Field(alias="with")


class LockRequest(Strict):
    """PUT /projects/{id}/segments/{seg_id}/lock."""

    locked: bool


class FocusRequest(Strict):
    """PATCH /projects/{id}/segments/{seg_id}/picture: a new focal point of the uploaded picture (0..1 each way)."""

    focus_x: float = Field(ge=0.0, le=1.0)
    focus_y: float = Field(ge=0.0, le=1.0)


class SettingsPublic(BaseModel):
    """GET /projects/{id}/settings: the settings and their version (also the ETag)."""

    version: str
    settings: ProjectSettings


class RestoreRequest(Strict):
    """POST /projects/{id}/segments/{seg_id}/restore."""

    version: int = Field(ge=1, le=100_000)  # strict: "1" or true is a mistake, not version 1


class RegenerateAccepted(BaseModel):
    """202 for a regenerate: the scene's new version and the worker drawing it."""

    scene: ScenePublic
    pid: int | None
    job: Job


class EstimatePublic(BaseModel):
    """Pre-flight estimate of a run (list prices; an estimate, not a bill)."""

    provider: str
    scenes: int
    calls: int
    prompt_tokens: int
    output_tokens: int
    thinking_tokens: int = Field(default=0, description="of output_tokens, the text model's thinking")
    images: int
    cost_usd: float
    steps: list[StepEstimate]  # the engine's own dataclass
