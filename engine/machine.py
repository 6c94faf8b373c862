"""The project state machine: the single source of truth for states and triggers.

Built on ``transitions``. Callbacks hold no side effects: a runner does a
step's work first, then fires the trigger with :func:`fire`, then saves.
The API, the CLI and the UI read :func:`machine_spec` / :func:`mermaid`.
"""
from __future__ import annotations

import functools
import logging
from typing import Any, Protocol

from transitions import EventData, Machine, MachineError

from engine.errors import StateError
from engine.models import ErrorInfo, HistoryEntry, JobKind, Project, utcnow

log = logging.getLogger(__name__)

CREATED, UPLOADED, ANALYZED, SEGMENTED, PROMPTED, IMAGED, RENDERED, FAILED = (
    "CREATED", "UPLOADED", "ANALYZED", "SEGMENTED", "PROMPTED", "IMAGED", "RENDERED", "FAILED",
)
STATES: list[str] = [CREATED, UPLOADED, ANALYZED, SEGMENTED, PROMPTED, IMAGED, RENDERED, FAILED]
WORK_STATES: list[str] = [UPLOADED, ANALYZED, SEGMENTED, PROMPTED, IMAGED, RENDERED]
RUN_TARGETS: list[str] = WORK_STATES[1:]  # where a run can head for: the states a step reaches

# (trigger, source, dest): the pipeline steps, in order. The trigger is also the step's name.
PIPELINE: list[tuple[str, str, str]] = [
    ("analyze", UPLOADED, ANALYZED),
    ("segment", ANALYZED, SEGMENTED),
    ("prompt", SEGMENTED, PROMPTED),
    ("draw", PROMPTED, IMAGED),
    ("render", IMAGED, RENDERED),
]
STEP_NAMES: list[str] = [t for t, _, _ in PIPELINE]

SAME = "="  # an edit's dest: the state does not change (``transitions``' reflexive transition)

# Edits move a finished project back to the state whose step must be redone.
EDITS: list[tuple[str, list[str], str, str]] = [
    ("upload", [CREATED, *WORK_STATES], UPLOADED, "store a new track (and lyrics); after a run, earlier pictures stay as versions"),
    ("edit_lyrics", [ANALYZED, SEGMENTED, PROMPTED, IMAGED, RENDERED], ANALYZED,
     "the lyrics' text or times changed: the storyboard is planned again"),
    ("edit_intent", [SEGMENTED, PROMPTED, IMAGED, RENDERED], SEGMENTED, "a scene's visual intent changed"),
    ("change_style", [SEGMENTED, PROMPTED, IMAGED, RENDERED], SEGMENTED, "the style preset changed"),
    ("edit_prompt", [PROMPTED, IMAGED, RENDERED], PROMPTED, "a scene's prompt changed"),
    ("regenerate", [PROMPTED, IMAGED, RENDERED], PROMPTED, "a new version of one picture"),
    ("restore", [PROMPTED, IMAGED, RENDERED], PROMPTED, "an earlier version made current again"),
    ("change_frame", [PROMPTED, IMAGED, RENDERED], PROMPTED, "aspect or quality changed"),
    ("edit_cast", [PROMPTED, IMAGED, RENDERED], PROMPTED,
     "the cast changed: its references and the pictures that show it are drawn again"),
    ("change_output", [RENDERED], IMAGED, "render-only settings changed"),
    ("edit_cuts", [SEGMENTED, PROMPTED, IMAGED, RENDERED], SEGMENTED,
     "a cut moved, a scene split or two merged: only the scenes it made are redone, and the cuts survive a new plan"),
    ("lock_scene", [SEGMENTED, PROMPTED, IMAGED, RENDERED], SAME,
     "a scene locked: it keeps its prompt and picture through a new style, frame or redraw (nothing to redo)"),
    ("unlock_scene", [SEGMENTED, PROMPTED, IMAGED, RENDERED], SEGMENTED,
     "a scene unlocked: it follows the style and frame again (rewritten and redrawn if they changed)"),
    ("upload_picture", [PROMPTED, IMAGED, RENDERED], PROMPTED,
     "the user's own picture (or a new focal point of it) is a scene's new version; the draw step keeps it"),
]

# Each trigger in a person's words (the UI's diagram and buttons, the CLI's status); the trigger name is
# shown on hover. A test checks every trigger of the table has one.
TRIGGER_LABELS: dict[str, str] = {
    "analyze": "listen", "segment": "plan scenes", "prompt": "write prompts", "draw": "draw pictures",
    "render": "render video", "upload": "new song", "edit_lyrics": "fix lyrics", "edit_intent": "edit scene",
    "change_style": "new style", "edit_prompt": "edit prompt", "regenerate": "redraw", "restore": "restore version",
    "change_frame": "new aspect or quality", "change_output": "new subtitles or output", "fail": "error",
    "recover": "resume", "edit_cuts": "move, split or merge scenes", "lock_scene": "lock a scene",
    "unlock_scene": "unlock a scene", "upload_picture": "your own picture", "edit_cast": "edit the cast",
}
INTERNAL_TRIGGERS: frozenset[str] = frozenset({"fail"})  # fired by the runner only: never offered as an action

# What a project has, in a person's words (the project list, the CLI), by the state it stands for.
STATE_WORDS: dict[str, str] = {
    CREATED: "no song yet", UPLOADED: "song uploaded", ANALYZED: "song analysed", SEGMENTED: "scenes planned",
    PROMPTED: "prompts written", IMAGED: "pictures drawn", RENDERED: "video ready",
}


class _FailedFrom:
    """Condition of ``recover``: the project failed from ``state``."""

    def __init__(self, state: str) -> None:
        self.state = state

    def __call__(self, event: EventData) -> bool:
        return event.model.project.failed_from == self.state


def _transitions() -> list[dict[str, Any]]:
    """The transition table handed to ``transitions.Machine``."""
    table: list[dict[str, Any]] = []
    for trigger, source, dest in PIPELINE:
        table.append({"trigger": trigger, "source": source, "dest": dest})
    table.append({"trigger": "render", "source": RENDERED, "dest": RENDERED})  # re-render
    for trigger, sources, dest, _ in EDITS:
        table.append({"trigger": trigger, "source": sources, "dest": dest})
    table.append({"trigger": "fail", "source": WORK_STATES, "dest": FAILED})
    for state in [CREATED, *WORK_STATES]:
        table.append({"trigger": "recover", "source": FAILED, "dest": state, "conditions": [_FailedFrom(state)]})
    return table


TRANSITIONS: list[dict[str, Any]] = _transitions()


class _Holder:
    """The model object ``transitions`` drives; wraps a Project."""

    def __init__(self, project: Project) -> None:
        self.project = project


def _machine_for(project: Project) -> tuple[Machine, _Holder]:
    holder = _Holder(project)
    if project.state not in STATES:
        raise StateError(f"unknown state {project.state!r}", state=project.state, allowed=[])
    machine = Machine(
        model=holder,
        states=STATES,
        transitions=TRANSITIONS,
        initial=project.state,
        auto_transitions=False,
        send_event=True,
    )
    return machine, holder


def allowed_triggers(project: Project) -> list[str]:
    """Triggers that may fire now (conditions included), in table order."""
    return list(_allowed(project.state, project.failed_from))


def require_allowed(project: Project, trigger: str) -> None:
    """StateError (with the state and the allowed triggers) unless ``trigger`` may fire now: the one check."""
    allowed = allowed_triggers(project)
    if trigger not in allowed:
        raise StateError(
            f"cannot {trigger!r} a project in state {project.state}; allowed: {', '.join(allowed) or 'none'}",
            state=project.state, allowed=allowed,
        )


@functools.lru_cache(maxsize=64)
def _allowed(state: str, failed_from: str | None) -> tuple[str, ...]:
    """allowed_triggers depends only on the state and failed_from: computed once per pair."""
    probe = Project(id="probe", state=state, failed_from=failed_from)
    machine, holder = _machine_for(probe)
    return tuple(t for t in machine.get_triggers(state) if holder.may_trigger(t))


RENDERABLE: frozenset[str] = frozenset(  # every picture drawn: the states the render trigger leaves
    state for row in TRANSITIONS if row["trigger"] == "render"
    for state in (row["source"] if isinstance(row["source"], list) else [row["source"]])
)


class _HasState(Protocol):
    state: str
    failed_from: str | None


def stands_for(project: _HasState) -> str:
    """The work state a project stands for: where a FAILED project failed from (a resume returns there), else its state."""
    if project.state == FAILED:
        return project.failed_from or CREATED
    return project.state


def user_triggers(project: Project) -> list[str]:
    """The allowed triggers a person can ask for (:data:`INTERNAL_TRIGGERS` left out), in table order."""
    return [t for t in allowed_triggers(project) if t not in INTERNAL_TRIGGERS]


class _HasRenders(_HasState, Protocol):
    renders: list[Any]


def status_words(project: _HasRenders) -> str:
    """Where a project is, in words: "video ready", "video out of date" (rendered once, edited since), "failed: ...".

    Derived from :func:`stands_for` and :data:`STATE_WORDS`; the project list and the CLI show it.
    """
    words = STATE_WORDS[stands_for(project)]
    if project.state == FAILED:
        return f"failed, resume to continue ({words})"
    if project.renders and project.state != RENDERED:
        return "video out of date"
    return words


def job_kind(state: str, target: str) -> JobKind:
    """Which job a run from ``state`` towards ``target`` is: a render when only the render step is left, else a pipeline run.

    ``state`` is the state the project stands for (:func:`stands_for`). The
    CLI's ``run``, the API's ``/run`` and a worker all decide the job file by
    this rule, so the job recorded as queued is the one the worker runs.
    """
    return "render" if target == RENDERED and state in RENDERABLE else "pipeline"


def check_run(project: Project, *, target: str, kind: JobKind) -> None:
    """StateError unless a run of ``kind`` towards ``target`` can start on ``project`` (a track uploaded; a render needs pictures)."""
    state = stands_for(project)
    if state == CREATED or project.source is None or target not in RUN_TARGETS:
        raise StateError(f"cannot run a project in state {project.state}: upload a track first",
                         state=project.state, allowed=allowed_triggers(project))
    if kind == "render" and state not in RENDERABLE:
        raise StateError(f"cannot render in state {project.state}: make the pictures first",
                         state=project.state, allowed=allowed_triggers(project))


def state_index(state: str) -> int:
    """Position of a work state in the pipeline (CREATED=0 ... RENDERED=6)."""
    return STATES.index(state)


def fire(project: Project, trigger: str, *, error: ErrorInfo | None = None) -> Project:
    """Apply ``trigger`` to ``project`` in memory; StateError (with allowed triggers) if illegal.

    ``fail`` records where the project failed from and ``error``; ``recover``
    clears them. The caller persists the project.
    """
    require_allowed(project, trigger)
    _, holder = _machine_for(project)
    source = project.state
    try:
        holder.trigger(trigger)
    except MachineError as exc:  # pragma: no cover - guarded by require_allowed above
        raise StateError(str(exc), state=source, allowed=allowed_triggers(project)) from None
    dest = holder.state
    if trigger == "fail":
        project.failed_from = source
        project.error = error or ErrorInfo(step="", message="failed", kind="Error")
    elif trigger == "recover":
        project.failed_from = None
        project.error = None
    project.state = dest
    project.updated_at = utcnow()
    project.history.append(HistoryEntry(trigger=trigger, source=source, dest=dest))
    del project.history[:-200]
    log.info("project %s: %s --%s--> %s", project.id, source, trigger, dest)
    return project


def can_generate(state: str) -> bool:
    """Whether a run towards RENDERED ("Generate video") has work from ``state``: a pipeline step leaves it.

    Derived from :data:`PIPELINE`; CREATED (no track), RENDERED (done) and
    FAILED (resume first) have none.
    """
    return any(source == state for _, source, _ in PIPELINE)


def render_kind(state: str) -> str | None:
    """How a video is made from ``state``: ``"render"``, ``"run"`` or None.

    ``"render"`` when the ``render`` trigger leaves ``state`` in
    :data:`TRANSITIONS` (every picture is drawn: a render job); ``"run"`` when
    a run towards RENDERED makes the missing steps first (:func:`can_generate`);
    None when there is nothing to render from (no track yet, or FAILED until
    it is resumed).
    """
    if state in RENDERABLE:
        return "render"
    return "run" if can_generate(state) else None


def machine_spec(project: Project | None = None) -> dict[str, Any]:
    """The machine as JSON: states, pipeline, transitions, and (given a project) its state and allowed triggers."""
    transitions = []
    for row in TRANSITIONS:
        sources = row["source"] if isinstance(row["source"], list) else [row["source"]]
        for source in sources:
            item = {"trigger": row["trigger"], "source": source, "dest": source if row["dest"] == SAME else row["dest"]}
            if row.get("conditions"):
                item["condition"] = f"failed_from == {row['dest']}"
            transitions.append(item)
    spec: dict[str, Any] = {
        "states": STATES,
        "initial": CREATED,
        "pipeline": [{"step": t, "source": s, "dest": d} for t, s, d in PIPELINE],
        "edits": [{"trigger": t, "sources": s, "dest": d, "meaning": m} for t, s, d, m in EDITS],
        "transitions": transitions,
        "labels": TRIGGER_LABELS,
        "internal": sorted(INTERNAL_TRIGGERS),
        "state_words": STATE_WORDS,
    }
    if project is not None:
        spec["current"] = project.state
        spec["failed_from"] = project.failed_from
        spec["allowed"] = allowed_triggers(project)
    return spec


def mermaid(current: str | None = None) -> str:
    """A Mermaid stateDiagram-v2 of the machine, optionally highlighting ``current``."""
    lines = ["stateDiagram-v2", "    state WORK <<choice>>", f"    [*] --> {CREATED}"]
    seen: set[tuple[str, str]] = set()
    labels: dict[tuple[str, str], list[str]] = {}
    for item in machine_spec()["transitions"]:
        key = (item["source"], item["dest"])
        if item["trigger"] == "fail" or item["trigger"] == "recover":
            continue
        labels.setdefault(key, []).append(item["trigger"])
    for (source, dest), triggers in labels.items():
        if (source, dest) not in seen:
            seen.add((source, dest))
            lines.append(f"    {source} --> {dest}: {', '.join(dict.fromkeys(triggers))}")
    lines.append(f"    {'WORK'} --> {FAILED}: fail (from any work state)")
    lines.append(f"    {FAILED} --> {'WORK'}: recover (back to failed_from)")
    lines.append(f"    {RENDERED} --> [*]")
    if current:
        lines.append("    classDef current fill:#ff2e97,color:#fff,stroke:#333")
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"
