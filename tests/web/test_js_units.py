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


def test_coalesced_reload_never_returns_data_older_than_the_call(page: Page, ui_server: UiServer) -> None:
    """A call made while a load runs waits for a load begun after it; a burst shares that one load."""
    out = _run(page, ui_server, """async () => {
        const {coalesced} = await import('/static/js/coalesce.js');
        let server = 0;          // the 'server' value; bumped by a change
        let shown = null;        // what the last finished load drew
        const releases = [];
        let started = 0;
        const load = () => new Promise((ok) => {
            started += 1;
            const seen = server;              // the load reads the server when it starts
            releases.push(() => { shown = seen; ok(); });
        });
        const reload = coalesced(load);
        const tick = () => new Promise((ok) => setTimeout(ok, 0));

        const first = reload();               // load 1 starts, reads 0
        server = 1;                           // our change lands while load 1 runs
        let afterChange = null;
        const mine = reload().then(() => { afterChange = shown; });
        const burst = [reload(), reload(), reload()];
        const shared = burst.every((p) => p === burst[0]) && burst[0] === reload();
        releases.shift()();                   // load 1 ends with stale data
        await first;
        await tick();
        const startedAfterFirst = started;    // the queued load has started (once)
        const resolvedEarly = afterChange !== null;
        releases.shift()();
        await mine;
        await Promise.all(burst);

        // a failed load rejects its callers, and the next call loads again
        let failures = 0;
        const failing = coalesced(() => (failures += 1) === 1 ? Promise.reject(new Error('boom')) : Promise.resolve());
        let rejected = '';
        await failing().catch((e) => { rejected = e.message; });
        await failing();
        return {afterChange, resolvedEarly, started, startedAfterFirst, shared, rejected, failures};
    }""")
    assert out["shared"], "calls during a running load share one next load"
    assert out["resolvedEarly"] is False, "a call made during a load must not resolve with that load's data"
    assert out["afterChange"] == 1, out
    assert out["startedAfterFirst"] == 2 and out["started"] == 2, out  # 5 calls, 2 loads
    assert out["rejected"] == "boom" and out["failures"] == 2


def test_scene_editor_ignores_a_reply_from_before_its_own_change(page: Page, ui_server: UiServer) -> None:
    """The dialog shows v2 after a save; a late reply still showing v1 as current must not bring v1 back."""
    out = _run(page, ui_server, """async () => {
        const {openSceneEditor} = await import('/static/js/components/sceneEditor.js');
        const version = (n, image) => ({version: n, origin: n === 1 ? 'auto' : 'user', image_prompt: `prompt ${n}`,
            image_url: image ? `/projects/p/files/images/seg_001_v${n}.png` : null, status: image ? 'ok' : 'pending',
            reason: '', fallback: false, created_at: '2026-11-25T10:00:00Z', style_hints: [], negative_prompt: ''});
        const scene = (versions) => {
            const last = versions[versions.length - 1];
            return {id: 'seg_001', index: 0, start_ms: 0, end_ms: 4000, lyric_text: 'la', visual_intent: 'a sea',
                mood: 'calm', energy: 0.5, section: 'verse', edited: false, version: last.version,
                image_prompt: last.image_prompt, negative_prompt: '', style_hints: [], image_url: last.image_url,
                status: last.status, reason: '', fallback: false, versions};
        };
        const ed = openSceneEditor('p', scene([version(1, true), version(2, false)]), {
            reload: async () => [], project: () => ({})});
        const current = () => document.querySelector('dialog .version.current').getAttribute('data-version');
        const before = current();
        ed.update([scene([version(1, true)])]);                       // a stale reply: v1 current
        const afterStale = current();
        ed.update([scene([version(1, true), version(2, true)])]);     // the drawn v2
        const drawn = !!document.querySelector("dialog .version.current[data-version='2'] img");
        ed.close();
        return {before, afterStale, drawn};
    }""")
    assert out == {"before": "2", "afterStale": "2", "drawn": True}


def test_an_older_project_state_never_replaces_a_newer_one(page: Page, ui_server: UiServer) -> None:
    """An SSE event and a refresh() reply can cross; the project with the older updated_at is dropped."""
    out = _run(page, ui_server, """async () => {
        const {Api} = await import('/static/js/api.js');
        const client = new Api();
        const seen = [];
        client.addEventListener('project', (ev) => seen.push(ev.detail.state));
        const p = (state, at) => ({id: 'p1', state, updated_at: at});
        client._emitProject(p('PROMPTED', '2026-11-25T10:00:01.250000Z'));
        client._emitProject(p('RENDERED', '2026-11-25T10:00:00.900000Z'));   // older: dropped
        client._emitProject(p('IMAGED', '2026-11-25T10:00:03Z'));
        client._emitProject({...p('IMAGED', '2026-11-25T10:00:03Z'), name: 'renamed'});  // same time, new content
        client._emitProject({id: 'p2', state: 'CREATED', updated_at: '2020-01-01T00:00:00Z'});  // another project
        return seen;
    }""")
    assert out == ["PROMPTED", "IMAGED", "IMAGED", "CREATED"]


def test_an_ended_run_never_comes_back_to_life(page: Page, ui_server: UiServer) -> None:
    """A 'running' reply for a run already seen ending is dropped; a new run (later started_at) is shown."""
    out = _run(page, ui_server, """async () => {
        const {Api} = await import('/static/js/api.js');
        const client = new Api();
        const seen = [];
        client.addEventListener('job', (ev) => seen.push(`${ev.detail.kind}:${ev.detail.status}:${ev.detail.fraction}`));
        const job = (status, started, fraction, kind = 'render') => ({kind, status, started_at: started, fraction});
        const t1 = '2026-11-25T10:00:00.100000Z', t2 = '2026-11-25T10:05:00Z';
        client._emitJob(job('running', t1, 0.5));
        client._emitJob(job('done', t1, 1));
        client._emitJob(job('running', t1, 0.9));                 // fetched before the end: dropped
        client._emitJob(job('queued', '2026-11-25T09:59:59Z', 0)); // the old queued record: dropped
        client._emitJob(job('running', t1, 0.2, 'pipeline'));     // the other kind is independent
        client._emitJob(job('queued', t2, 0));                    // a new run
        client._emitJob(job('running', t2, 0.1));
        return seen;
    }""")
    assert out == ["render:running:0.5", "render:done:1", "pipeline:running:0.2", "render:queued:0", "render:running:0.1"]
