"""The state machine: table, export, and property tests of trigger sequences."""
from __future__ import annotations

import json

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import machine
from engine.errors import StateError
from engine.models import ErrorInfo, Project

ALL_TRIGGERS = sorted({t["trigger"] for t in machine.machine_spec()["transitions"]})


def test_pipeline_order_is_the_brief() -> None:
    order = [machine.UPLOADED] + [dest for _, _, dest in machine.PIPELINE]
    assert order == ["UPLOADED", "ANALYZED", "SEGMENTED", "PROMPTED", "IMAGED", "RENDERED"]


def test_happy_path_and_history() -> None:
    p = Project(id="abc")
    for trigger in ["upload", "analyze", "segment", "prompt", "draw", "render", "render"]:
        machine.fire(p, trigger)
    assert p.state == "RENDERED"
    assert [h.trigger for h in p.history][-2:] == ["render", "render"]


def test_illegal_trigger_lists_allowed_and_changes_nothing() -> None:
    p = Project(id="abc")
    machine.fire(p, "upload")
    before = p.model_dump()
    try:
        machine.fire(p, "render")
    except StateError as exc:
        assert exc.state == "UPLOADED"
        assert exc.allowed == ["analyze", "upload", "fail"] or set(exc.allowed) == {"analyze", "upload", "fail"}
    else:  # pragma: no cover
        raise AssertionError("render from UPLOADED must be refused")
    assert p.model_dump() == before


def test_fail_remembers_origin_and_recover_returns_there() -> None:
    p = Project(id="abc")
    for trigger in ["upload", "analyze", "segment"]:
        machine.fire(p, trigger)
    machine.fire(p, "fail", error=ErrorInfo(step="prompt", message="boom", kind="ProviderError"))
    assert (p.state, p.failed_from, p.error.message) == ("FAILED", "SEGMENTED", "boom")
    assert machine.allowed_triggers(p) == ["recover"]
    machine.fire(p, "recover")
    assert (p.state, p.failed_from, p.error) == ("SEGMENTED", None, None)


def test_edits_rewind_to_the_step_to_redo() -> None:
    p = Project(id="abc")
    for trigger in ["upload", "analyze", "segment", "prompt", "draw", "render"]:
        machine.fire(p, trigger)
    assert machine.fire(p.model_copy(deep=True), "edit_intent").state == "SEGMENTED"
    assert machine.fire(p.model_copy(deep=True), "edit_prompt").state == "PROMPTED"
    assert machine.fire(p.model_copy(deep=True), "regenerate").state == "PROMPTED"
    assert machine.fire(p.model_copy(deep=True), "change_output").state == "IMAGED"


def test_exports_are_derived_from_the_table() -> None:
    spec = machine.machine_spec()
    json.dumps(spec)
    assert spec["states"] == machine.STATES
    pairs = {(t["source"], t["dest"]) for t in spec["transitions"]}
    assert ("PROMPTED", "IMAGED") in pairs and ("IMAGED", "RENDERED") in pairs
    text = machine.mermaid("IMAGED")
    assert text.startswith("stateDiagram-v2")
    for _, source, dest in machine.PIPELINE:
        assert f"{source} --> {dest}" in text
    assert "class IMAGED current" in text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ALL_TRIGGERS), max_size=40))
def test_random_trigger_sequences(triggers: list[str]) -> None:
    """Allowed triggers apply; refused ones raise StateError and leave the project untouched."""
    p = Project(id="abc")
    for trigger in triggers:
        allowed = machine.allowed_triggers(p)
        before = p.model_dump()
        if trigger in allowed:
            source = p.state
            machine.fire(p, trigger)
            assert p.state in machine.STATES
            if trigger == "fail":
                assert p.failed_from == source and p.state == "FAILED"
            if source == "FAILED":
                assert trigger == "recover" and p.failed_from is None
        else:
            try:
                machine.fire(p, trigger)
            except StateError as exc:
                assert exc.allowed == allowed
            else:  # pragma: no cover
                raise AssertionError(f"{trigger} from {p.state} must be refused")
            assert p.model_dump() == before
        # the project always round-trips through JSON
        assert Project.model_validate_json(p.model_dump_json()) == p


@pytest.mark.parametrize(("state", "generate", "render"), [
    ("CREATED", False, None), ("UPLOADED", True, "run"), ("ANALYZED", True, "run"), ("SEGMENTED", True, "run"),
    ("PROMPTED", True, "run"), ("IMAGED", True, "render"), ("RENDERED", False, "render"), ("FAILED", False, None),
])
def test_what_the_ui_offers_comes_from_the_machine(state: str, generate: bool, render: str | None) -> None:
    """can_generate / render_kind (exposed on the project view for the UI) follow the transition table."""
    assert machine.can_generate(state) is generate
    assert machine.render_kind(state) == render
    p = Project(id="abc", state=state, failed_from="IMAGED" if state == "FAILED" else None)
    if render == "render":
        assert "render" in machine.allowed_triggers(p)
    if generate:
        assert any(step in machine.allowed_triggers(p) for step in machine.STEP_NAMES)
