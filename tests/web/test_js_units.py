"""The UI's pure JavaScript helpers, run in chromium as ES modules (no build step, no Node)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.web.conftest import UiServer

pytestmark = pytest.mark.slow


def _run(page: Page, server: UiServer, script: str) -> object:
    page.goto(server.base_url + "/")
    page.wait_for_selector("h1")
    return page.evaluate(script)


def test_format_helpers(page: Page, ui_server: UiServer) -> None:
    """Clock, ranges, ETA, percentages."""
    out = _run(page, ui_server, """async () => {
        const f = await import('/static/js/format.js');
        return [f.clock(83500), f.clock(83560, {tenths: true}), f.clock(-5), f.range(4200, 9800),
                f.eta(null), f.eta(3), f.eta(42.4), f.eta(125), f.percent(0.456), f.percent(7), f.stateLabel('IMAGED')];
    }""")
    assert out == ["1:23", "1:23.5", "0:00", "0:04.2 – 0:09.8", "", "a few seconds left", "about 42 s left",
                   "about 2 min 5 s left", "46%", "100%", "Imaged"]


def test_actions_from_allowed_triggers(page: Page, ui_server: UiServer) -> None:
    """Allowed triggers become buttons: 'fail' hidden, edits grouped per screen, unknown triggers still shown."""
    out = _run(page, ui_server, """async () => {
        const a = await import('/static/js/actions.js');
        const names = (s, t) => a.actionsFor(s, t).map((x) => x.trigger);
        return {
            rendered: names('RENDERED', ['render', 'edit_intent', 'change_style', 'edit_prompt', 'regenerate', 'restore', 'change_frame', 'change_output', 'fail']),
            failed: names('FAILED', ['recover']),
            unknown: names('X', ['teleport']),
            runTarget: a.ACTIONS.draw.target,
        };
    }""")
    assert out == {
        "rendered": ["render", "edit_intent", "change_style"],  # one button per screen
        "failed": ["recover"],
        "unknown": ["teleport"],
        "runTarget": "IMAGED",
    }


def test_machine_layout_from_server_spec(page: Page, ui_server: UiServer) -> None:
    """The diagram layout of GET /machine: pipeline order left to right, FAILED below, every non-fail edge drawn."""
    out = _run(page, ui_server, """async () => {
        const {layoutMachine} = await import('/static/js/components/stateDiagram.js');
        const spec = await (await fetch('/machine')).json();
        const L = layoutMachine(spec);
        const drawn = new Set();
        for (const e of L.forward) for (const t of e.triggers) drawn.add(`${t}:${e.source}>${e.dest}`);
        for (const g of L.back) for (const s of g.sources) for (const t of g.triggers) drawn.add(`${t}:${s}>${g.dest}`);
        const missing = spec.transitions
            .filter((t) => t.trigger !== 'fail' && t.trigger !== 'recover')
            .filter((t) => ![...drawn].some((d) => d.startsWith(`${t.trigger}:`) && d.endsWith(`>${t.dest}`)));
        return {line: L.line, xs: L.line.map((s) => L.pos[s].x), failedBelow: L.pos.FAILED.y > L.pos.CREATED.y,
                failSources: L.failSources.length, missing, forward: L.forward.map((e) => e.triggers.join('+'))};
    }""")
    assert out["line"] == ["CREATED", "UPLOADED", "ANALYZED", "SEGMENTED", "PROMPTED", "IMAGED", "RENDERED"]
    assert out["xs"] == sorted(out["xs"])
    assert out["failedBelow"] and out["failSources"] == 6
    assert out["missing"] == []
    assert out["forward"] == ["upload", "analyze", "segment", "prompt", "draw", "render"]


def test_envelope_and_api_error(page: Page, ui_server: UiServer) -> None:
    """The waveform path is closed and bounded; ApiError carries status, detail and allowed triggers."""
    out = _run(page, ui_server, """async () => {
        const {envelopePath} = await import('/static/js/components/timeline.js');
        const {api, ApiError} = await import('/static/js/api.js');
        const d = envelopePath([0, 0.5, 1, 0.25], {width: 100, height: 50, points: 4});
        const ys = [...d.matchAll(/[\\d.]+,([\\d.]+)/g)].map((m) => +m[1]);
        let notFound = null;
        try { await api.getProject('no-such-project'); } catch (e) {
            notFound = {cls: e instanceof ApiError, isError: e instanceof Error, status: e.status, msg: e.message};
        }
        const conflict = new ApiError(409, {message: 'cannot render', state: 'UPLOADED', allowed: ['analyze']}, '/x');
        const invalid = new ApiError(422, [{loc: ['body', 'settings', 'aspect'], msg: 'bad value'}], '/x');
        return {closed: d.endsWith('Z'), empty: envelopePath([]), minY: Math.min(...ys), maxY: Math.max(...ys),
                notFound, conflict: [conflict.message, conflict.allowed, conflict.busy], invalid: invalid.message};
    }""")
    assert out["closed"] and out["empty"] == ""
    assert 0 <= out["minY"] < 25 < out["maxY"] <= 50
    assert out["notFound"]["cls"] and out["notFound"]["isError"] and out["notFound"]["status"] == 404
    assert out["conflict"] == ["cannot render", ["analyze"], False]
    assert out["invalid"] == "settings.aspect: bad value"
