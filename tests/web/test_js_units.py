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
        for (const st of L.stay) for (const s of st.states) drawn.add(`${st.trigger}:${s}>${s}`);
        const missing = spec.transitions
            .filter((t) => t.trigger !== 'fail' && t.trigger !== 'recover')
            .filter((t) => ![...drawn].some((d) => d.startsWith(`${t.trigger}:`) && d.endsWith(`>${t.dest}`)));
        return {line: L.line, xs: L.line.map((s) => L.pos[s].x), failedBelow: L.pos.FAILED.y > L.pos.CREATED.y,
                failSources: L.failSources.length, missing, forward: L.forward.map((e) => e.triggers.join('+')),
                stay: L.stay.map((x) => x.trigger), backTriggers: L.back.flatMap((g) => g.triggers)};
    }""")
    assert out["line"] == ["CREATED", "UPLOADED", "ANALYZED", "SEGMENTED", "PROMPTED", "IMAGED", "RENDERED"]
    assert out["xs"] == sorted(out["xs"])
    assert out["failedBelow"] and out["failSources"] == 6
    assert out["missing"] == []
    assert out["forward"] == ["upload", "analyze", "segment", "prompt", "draw", "render"]
    # a trigger that keeps the state wherever it fires is listed once, not drawn as an arc into every group
    assert out["stay"] == ["lock_scene"] and "lock_scene" not in out["backTriggers"]


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


def test_picked_older_render_keeps_playing_until_a_new_one_appears(page: Page, ui_server: UiServer) -> None:
    """▶ on v1 plays v1 (it used to snap back to the newest); a new render (v4) takes the player over."""
    out = _run(page, ui_server, """async () => {
        const {mountRenderPanel} = await import('/static/js/components/renderPanel.js');
        const render = (v) => ({version: v, preview: true, url: `/nowhere/r_v${v}.mp4`, srt_url: null, lrc_url: null,
            width: 320, height: 180, duration_ms: 14000, created_at: '2026-11-25T10:00:00Z'});
        const idle = {status: 'idle', steps: [], errors: [], fraction: 0};
        const project = (versions) => ({id: 'p', state: 'RENDERED', allowed: ['render'], busy: false, can_generate: false, render_kind: 'render',
            renders: versions.map(render), jobs: {pipeline: idle, render: idle}});
        const host = document.createElement('div');
        document.body.appendChild(host);
        const panel = mountRenderPanel(host, project([1, 2, 3]));
        const playing = () => host.querySelector('video.player').getAttribute('aria-label');
        const first = playing();
        host.querySelector('[aria-label="Play render v1"]').click();
        const picked = playing();
        panel.update(project([1, 2, 3]));       // any later project event (a job's progress, a setting)
        const afterUpdate = playing();
        panel.update(project([1, 2, 3, 4]));    // a new render appears
        const afterNew = playing();
        host.remove();
        return {first, picked, afterUpdate, afterNew};
    }""")
    assert out == {"first": "Render v3 (preview)", "picked": "Render v1 (preview)",
                   "afterUpdate": "Render v1 (preview)", "afterNew": "Render v4 (preview)"}


def test_video_tab_job_is_the_one_making_the_video(page: Page, ui_server: UiServer) -> None:
    """The Video tab shows the Generate job while it heads for RENDERED, else the render job."""
    out = _run(page, ui_server, """async () => {
        const {videoJob} = await import('/static/js/components/renderPanel.js');
        const job = (status, target, started) => ({status, target, started_at: started, steps: [], errors: [], fraction: 0});
        const idle = job('idle', '', null);
        const pick = (p, r) => videoJob(p, r).title;
        return [
            pick(job('running', 'RENDERED', '2026-01-01T10:00:00Z'), idle),                              // render from UPLOADED
            pick(job('done', 'RENDERED', '2026-01-01T10:00:00Z'), idle),                                 // it finished
            pick(job('running', 'IMAGED', '2026-01-01T10:00:00Z'), job('done', 'RENDERED', '2026-01-01T09:00:00Z')),  // a regenerate
            pick(job('done', 'RENDERED', '2026-01-01T09:00:00Z'), job('running', 'RENDERED', '2026-01-01T10:00:00Z')), // a re-render
            pick(job('done', 'RENDERED', '2026-01-01T11:00:00Z'), job('done', 'RENDERED', '2026-01-01T10:00:00Z')),
            pick(idle, idle),
        ];
    }""")
    assert out == ["Generate job", "Generate job", "Render job", "Render job", "Generate job", "Render job"]


def test_stopped_job_is_not_a_failure(page: Page, ui_server: UiServer) -> None:
    """A cancelled job: neutral "stopped" step and note, no red error; a real failure stays red; steps in user words."""
    out = _run(page, ui_server, """async () => {
        const {renderJobProgress} = await import('/static/js/components/jobProgress.js');
        const {stepLabel} = await import('/static/js/format.js');
        const steps = (last) => [{name: 'analyze', status: 'done', done: 1, total: 1, attempts: 1},
                                 {name: 'draw', status: last, done: 2, total: 5, attempts: 1}];
        const job = (status, message) => ({status, step: 'draw', fraction: 0.5, eta_s: null, steps: steps('failed'),
            errors: [{step: 'draw', message, attempt: 1, final: true}], usage: null, message: ''});
        const host = document.createElement('div');
        renderJobProgress(host, job('cancelled', 'CancelledError: stopped on request'), {title: 'Generate job'});
        const stopped = {errors: host.querySelectorAll('.error-text').length, dot: host.querySelector('[data-step=draw]').className,
                         note: host.querySelector('[data-job-stopped]')?.textContent, bad: !!host.querySelector('.bar-bad')};
        renderJobProgress(host, job('failed', 'ProviderError: out of paint'), {title: 'Generate job'});
        const failed = {errors: [...host.querySelectorAll('.error-text')].map((e) => e.textContent),
                        dot: host.querySelector('[data-step=draw]').className, note: !!host.querySelector('[data-job-stopped]')};
        return {stopped, failed, labels: ['analyze', 'segment', 'prompt', 'draw', 'render', 'other', ''].map(stepLabel)};
    }""")
    assert out["stopped"] == {"errors": 0, "dot": "step step-stopped",
                              "note": "■ Stopped during Pictures — Resume to continue; finished steps are kept.", "bad": False}
    assert out["failed"] == {"errors": ["✖ Pictures: ProviderError: out of paint"], "dot": "step step-failed", "note": False}
    assert out["labels"] == ["Analyse", "Storyboard", "Prompts", "Pictures", "Render", "other", ""]


def test_a_job_not_responding_says_what_to_do(page: Page, ui_server: UiServer) -> None:
    """A paused or hung worker: "Not responding" and the API's advice, in red, not "Interrupted" with a Resume."""
    out = _run(page, ui_server, """async () => {
        const {renderJobProgress} = await import('/static/js/components/jobProgress.js');
        const host = document.createElement('div');
        renderJobProgress(host, {status: 'not_responding', step: 'draw', fraction: 0.4, eta_s: null, steps: [], errors: [],
            usage: null, message: 'the worker (pid 42) holds the project but has not reported for 9 s: kill -CONT 42'},
            {title: 'Generate job'});
        return {pill: host.querySelector('.pill').textContent, note: host.querySelector('[data-job-not-responding]')?.textContent};
    }""")
    assert out["pill"] == "Not responding"
    assert out["note"].startswith("⚠ Not responding: the worker (pid 42)") and "kill -CONT 42" in out["note"]


def test_scene_editor_rights_from_allowed_triggers(page: Page, ui_server: UiServer) -> None:
    """The dialog's buttons follow the project's allowed triggers and busy flag, and keep following them (sync)."""
    out = _run(page, ui_server, """async () => {
        const {editorRights, openSceneEditor} = await import('/static/js/components/sceneEditor.js');
        const all = ['render', 'edit_intent', 'change_style', 'edit_prompt', 'regenerate', 'restore', 'change_frame', 'change_output'];
        const pick = (r) => [r.intent, r.prompt, r.save, r.regenerate, r.restore, Boolean(r.why)];
        const rights = {
            rendered: pick(editorRights({state: 'RENDERED', allowed: all, busy: false})),
            busy: pick(editorRights({state: 'RENDERED', allowed: all, busy: true})),
            segmented: pick(editorRights({state: 'SEGMENTED', allowed: ['edit_intent', 'change_style', 'prompt', 'fail'], busy: false})),
            failed: pick(editorRights({state: 'FAILED', allowed: ['recover'], busy: false})),
        };
        const v = (n, status) => ({version: n, origin: 'auto', image_prompt: 'p', image_url: null, status, reason: '',
            created_at: '2026-11-25T10:00:00Z'});
        const scene = {id: 'seg_001', index: 0, start_ms: 0, end_ms: 4000, lyric_text: 'la', visual_intent: 'a sea',
            mood: 'calm', energy: 0.5, section: 'verse', edited: false, version: 2, image_prompt: 'p', negative_prompt: '',
            style_hints: [], image_url: null, status: 'pending', reason: '', fallback: false, versions: [v(1, 'failed'), v(2, 'pending')]};
        let project = {id: 'p', state: 'RENDERED', allowed: all, busy: true};
        const ed = openSceneEditor('p', scene, {reload: async () => [], project: () => project});
        const d = document.querySelector('dialog.scene-editor');
        const state = () => ({regen: d.querySelector('[data-action=regenerate]').disabled,
            prompt: d.querySelector('textarea:nth-of-type(2)').readOnly, why: d.querySelector('[data-editor-why]').hidden,
            pending: d.querySelector("[data-version='2'] [data-version-status]").textContent,
            pendingRed: !!d.querySelector("[data-version='2'] .error-text"), failedRed: !!d.querySelector("[data-version='1'] .error-text")});
        const whileBusy = state();
        project = {...project, busy: false};
        ed.sync();
        const idle = state();
        project = {id: 'p', state: 'SEGMENTED', allowed: ['edit_intent', 'change_style', 'prompt', 'fail'], busy: false};
        ed.sync();
        const segmented = state();
        ed.close();
        return {rights, whileBusy, idle, segmented};
    }""")
    assert out["rights"] == {
        "rendered": [True, True, True, True, True, False],
        "busy": [True, True, False, False, False, True],
        "segmented": [True, False, True, False, False, True],
        "failed": [False, False, False, False, False, True],
    }
    assert out["whileBusy"] == {"regen": True, "prompt": False, "why": False, "pending": "drawing…", "pendingRed": False, "failedRed": True}
    assert out["idle"] == {"regen": False, "prompt": False, "why": True, "pending": "not drawn yet", "pendingRed": False, "failedRed": True}
    assert out["segmented"] == {"regen": True, "prompt": True, "why": False, "pending": "not drawn yet", "pendingRed": False, "failedRed": True}


def test_toast_is_on_top_of_an_open_modal_dialog(page: Page, ui_server: UiServer) -> None:
    """With the scene dialog open, "Nothing changed." is the topmost element at its centre; it goes back to <body> after."""
    out = _run(page, ui_server, """async () => {
        const {openSceneEditor} = await import('/static/js/components/sceneEditor.js');
        const {toast} = await import('/static/js/components/toast.js');
        const scene = {id: 'seg_001', index: 0, start_ms: 0, end_ms: 4000, lyric_text: 'la', visual_intent: 'a sea',
            mood: 'calm', energy: 0.5, section: 'verse', edited: false, version: 1, image_prompt: 'p', negative_prompt: '',
            style_hints: [], image_url: null, status: 'pending', reason: '', fallback: false,
            versions: [{version: 1, origin: 'auto', image_prompt: 'p', image_url: null, status: 'pending', reason: '', created_at: ''}]};
        const project = {id: 'p', state: 'PROMPTED', allowed: ['edit_intent', 'edit_prompt', 'regenerate', 'restore'], busy: false};
        const ed = openSceneEditor('p', scene, {reload: async () => [], project: () => project});
        document.querySelector('dialog.scene-editor [data-action=save-scene]').click();
        await new Promise((ok) => setTimeout(ok, 50));
        const onTop = (el) => {
            const r = el.getBoundingClientRect();
            const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            return r.width > 0 && !!hit && el.contains(hit);
        };
        const item = [...document.querySelectorAll('.toast')].find((t) => t.textContent.includes('Nothing changed.'));
        const inDialog = !!item && onTop(item);
        const closed = new Promise((ok) => document.querySelector('dialog.scene-editor')
            .addEventListener('close', () => setTimeout(ok, 0), {once: true}));
        ed.close();
        await closed;  // the close event is a task of its own
        const home = document.querySelector('#toasts').parentElement.tagName;
        toast('After the dialog');
        const after = [...document.querySelectorAll('.toast')].find((t) => t.textContent.includes('After the dialog'));
        return {found: !!item, inDialog, home, after: !!after && onTop(after), stillShown: !!item && item.isConnected};
    }""")
    assert out == {"found": True, "inDialog": True, "home": "BODY", "after": True, "stillShown": True}


def test_lyrics_times_tap_and_body(page: Page, ui_server: UiServer) -> None:
    """Lyric lines' pure helpers: mm:ss.mmm both ways, a tap, retiming with the words, a text edit, a save's body."""
    out = _run(page, ui_server, """async () => {
        const l = await import('/static/js/lyrics.js');
        const p = await import('/static/js/components/lyricsPanel.js');
        const lines = [{text: 'a', start_ms: 1000, end_ms: 3000}, {text: 'b', start_ms: 3000, end_ms: 5000}];
        const tapped = l.applyTap(lines, 1, 4200, 20000);
        const late = l.applyTap(lines, 0, 3500, 20000);
        const words = [{text: 'one', start_ms: 1000, end_ms: 1500}, {text: 'two', start_ms: 2000, end_ms: 3000}];
        const worded = {text: 'one two', start_ms: 1000, end_ms: 3000, words};
        const outside = {text: 'x', start_ms: 0, end_ms: 500, words: [{text: 'x', start_ms: 600, end_ms: 700}]};
        return {
            fmt: [l.lyricTime(83456), l.lyricTime(0), l.lyricTime(-3)],
            parse: [l.parseLyricTime('01:23.456'), l.parseLyricTime('1:02.5'), l.parseLyricTime('7.25'), l.parseLyricTime('x'), l.parseLyricTime('1:2:3')],
            tapped: tapped.map((x) => [x.start_ms, x.end_ms]), unchanged: lines[1].start_ms,
            late: [late[0].start_ms, late[0].end_ms, late[0].timing],
            moved: l.retime(worded, 2000, 4000).words.map((w) => [w.start_ms, w.end_ms]),
            stretched: l.retime(worded, 1000, 5000).words.map((w) => [w.start_ms, w.end_ms]),
            typo: l.retext(worded, 'one too').words.map((w) => w.text),
            rewritten: l.retext(worded, 'a whole new line').words.length,
            body: [l.linesToSend([worded])[0].words.length, l.linesToSend([outside])[0].words.length, l.linesToSend([{text: ' b ', start_ms: 0, end_ms: 9}])[0].text],
            note: ['en', 'EN-us', 'de', 'pt-BR', null, ''].map(p.notAligned),
        };
    }""")
    assert out == {
        "fmt": ["01:23.456", "00:00.000", "00:00.000"],
        "parse": [83456, 62500, 7250, None, None],
        "tapped": [[1000, 4200], [4200, 5000]], "unchanged": 3000,
        "late": [3500, 5500, "given"],  # ended before its new start: keeps its length
        "moved": [[2000, 2500], [3000, 4000]],  # words travel with their line
        "stretched": [[1000, 2000], [3000, 5000]],  # and stretch with it
        "typo": ["one", "too"],  # same number of words: times kept
        "rewritten": 0,  # other words: their karaoke times are dropped
        "body": [2, 0, "b"],  # words outside their line are not sent
        "note": [False, False, True, True, False, False],  # the "check by hand" note for non-English songs
    }


def test_lyrics_lane_placing(page: Page, ui_server: UiServer) -> None:
    """A dragged line edge stays between its neighbours and leaves the line at least 200 ms; a moved line keeps its length."""
    out = _run(page, ui_server, """async () => {
        const lane = await import('/static/js/components/lyricsLane.js');
        const lines = [{text: 'a', start_ms: 1000, end_ms: 3000}, {text: 'b', start_ms: 4000, end_ms: 6000},
                       {text: 'c', start_ms: 7000, end_ms: 8000}];
        const at = (i, edge, ms) => { const x = lane.placeLine(lines, i, edge, ms, 10000); return [x.start_ms, x.end_ms]; };
        return [at(1, 'start', 2000), at(1, 'start', 5950), at(1, 'end', 9000), at(1, 'end', 4100),
                at(1, 'move', 4500), at(1, 'move', 9000), at(0, 'move', -500), at(2, 'end', 12000),
                lane.lineRoom(lines, 1, 10000)];
    }""")
    assert out == [[3000, 6000], [4000 + 1800, 6000], [4000, 7000], [4000, 4200],
                   [4500, 6500], [5000, 7000], [0, 2000], [7000, 10000], {"lo": 3000, "hi": 7000}]


def test_drag_snapping_and_steps(page: Page, ui_server: UiServer) -> None:
    """A dragged time snaps to the nearest point within the tolerance; arrows step to the next point."""
    out = _run(page, ui_server, """async () => {
        const d = await import('/static/js/drag.js');
        const pts = [1000, 1500, 2000, 4000];
        return [d.snapTo(1040, pts, 80), d.snapTo(1260, pts, 80), d.snapTo(1749, pts, 300), d.snapTo(1751, pts, 300),
                d.snapTo(99999, pts, 80), d.snapTo(700, [], 80), d.snapTo(1200.6, pts, 0),
                d.stepTo(1500, pts, 1), d.stepTo(1500, pts, -1), d.stepTo(4000, pts, 1, 250), d.stepTo(900, pts, -1, 250),
                d.clamp(5, 10, 20), d.clamp(25, 10, 20)];
    }""")
    assert out == [1000, 1260, 1500, 2000, 99999, 700, 1201, 2000, 1000, 4250, 650, 10, 20]


def test_cut_placing_prefers_downbeats_and_keeps_both_scenes_in_bounds(page: Page, ui_server: UiServer) -> None:
    """The timeline's cut placing mirrors the engine's snap (a downbeat within 3/4 of a beat wins) and the bounds."""
    out = _run(page, ui_server, """async () => {
        const d = await import('/static/js/drag.js');
        const {placeCut} = await import('/static/js/components/timeline.js');
        const {splitPoints, structureRights} = await import('/static/js/components/sceneStructure.js');
        const beats = []; for (let t = 500; t < 20000; t += 500) beats.push(t);
        const downbeats = beats.filter((_, i) => i % 4 === 0);  // 500, 2500, 4500, ...
        const o = {beats, downbeats, lo: 2000, hi: 6000, free: false};
        const scene = {start_ms: 0, end_ms: 6000, locked: false};
        return [
            d.period(beats), d.snapPreferring(2800, downbeats, beats, 375, 500), d.snapPreferring(2900, downbeats, beats, 375, 500),
            d.snapPreferring(3000, downbeats, beats, 375, 500),
            placeCut(2800, o), placeCut(2900, o), placeCut(1700, o), placeCut(7100, o), placeCut(2777, {...o, free: true}),
            splitPoints(scene, {beats_ms: beats, downbeats_ms: downbeats}, 2500).map((p) => [p.ms, p.bar]),
            structureRights({allowed: ['edit_cuts', 'lock_scene', 'upload_picture'], busy: false}, scene),
            structureRights({allowed: ['edit_cuts', 'unlock_scene', 'upload_picture'], busy: false}, {...scene, locked: true}),
            structureRights({allowed: ['edit_cuts'], busy: true}, scene),
        ];
    }""")
    assert out == [500, 2500, 3000, 3000, 2500, 3000, 2000, 6000, 2777, [[2500, True], [3000, False], [3500, False]],
                   {"cuts": True, "lock": True, "picture": True}, {"cuts": False, "lock": True, "picture": False},
                   {"cuts": False, "lock": False, "picture": False}]
