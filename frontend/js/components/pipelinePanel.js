// @ts-check
/** Screen 3: the live state diagram, the failure reason, allowed actions, the pipeline job. */
import { h, replace } from "../dom.js";
import { ago, stateLabel, stepLabel } from "../format.js";
import { renderActionBar } from "./actionBar.js";
import { renderJobProgress } from "./jobProgress.js";
import { centreDiagram, renderStateDiagram } from "./stateDiagram.js";

/** @typedef {import("../types.js").ProjectPublic} ProjectPublic */
/** @typedef {import("../types.js").Job} Job */

/**
 * @param {HTMLElement} host
 * @param {any} machineSpec from GET /machine
 * @param {ProjectPublic} project
 * @param {{goto: (tab: string) => void}} nav
 */
export function mountPipeline(host, machineSpec, project, nav) {
  let current = project;
  /** @type {Job|null} */ let pipelineJob = project.jobs?.pipeline || null;
  /** @type {Job|null} */ let renderJob = project.jobs?.render || null;
  const diagram = h("div", { class: "diagram-host", "aria-live": "off" });
  const status = h("div", { class: "state-line", "aria-live": "polite", tabindex: "-1", "data-status-region": "" });
  const failure = h("div", { class: "failure" });
  const notes = h("div", { class: "notes" }); // step notes (a local fallback after a refusal) and the spend ledger
  const actions = h("div", { class: "action-bar", role: "group", "aria-label": "Allowed actions" });
  const job = h("div", { class: "job card" });
  const history = h("ol", { class: "history", "aria-label": "Recent state changes" });

  replace(host, h("section", { class: "screen pipeline-screen", "aria-labelledby": "pipe-title" },
    h("div", { class: "screen-head" }, h("h2", { id: "pipe-title" }, "Pipeline"), status),
    h("div", { class: "card diagram-card" }, diagram, failure, notes, actions),
    h("div", { class: "pipeline-grid" }, job,
      h("div", { class: "card" }, h("h3", null, "History"), history))));

  function running() {
    const j = [pipelineJob, renderJob].find((x) => x && (x.status === "running" || x.status === "queued"));
    return j || null;
  }

  /** @type {Record<string, string>} */
  const drawn = {};
  /** Redraw a part only when its inputs changed (keeps keyboard focus on buttons). @param {string} part @param {unknown} inputs */
  function changed(part, inputs) {
    const key = JSON.stringify(inputs);
    if (drawn[part] === key) return false;
    drawn[part] = key;
    return true;
  }

  function draw() {
    const p = current;
    const live = running();
    const now = { state: p.state, failedFrom: p.failed_from, standsFor: p.stands_for, allowed: p.busy ? [] : p.allowed, running: Boolean(live), step: live?.step };
    if (changed("diagram", now)) renderStateDiagram(diagram, machineSpec, now);
    if (changed("status", [p.state, live?.step])) {
      replace(status,
        h("span", null, "State: "), h("strong", { class: `badge state-${p.state.toLowerCase()}`, "data-current-state": p.state }, stateLabel(p.state)),
        live ? h("span", { class: "muted" }, ` · working on ${stepLabel(live.step) || "…"}`) : null);
    }
    if (changed("failure", [p.state, p.error])) {
      replace(failure, p.state === "FAILED" && p.error
        ? h("div", { class: "flag-box", role: "alert" },
          h("strong", null, `Failed during ${stepLabel(p.error.step) || stateLabel(p.failed_from || "")}: `), p.error.message,
          h("span", { class: "muted small" }, ` (${p.error.kind}, ${ago(p.error.at)}). Resume continues from ${stateLabel(p.failed_from || "")}; finished steps are kept.`))
        : null);
    }
    if (changed("notes", [p.notes, p.spend])) renderNotes(notes, p);
    if (changed("actions", [p.id, p.state, p.allowed, p.busy, p.resumable, p.renders?.length, Boolean(p.source)])) renderActionBar(actions, p, nav);
    if (changed("history", p.history)) {
      replace(history, [...(p.history || [])].reverse().slice(0, 8).map((e) =>
        h("li", null, h("code", null, e.trigger), " ", h("span", { class: "muted" }, `${stateLabel(e.source)} → ${stateLabel(e.dest)} · ${ago(e.at)}`))));
      if (!p.history?.length) replace(history, h("li", { class: "muted" }, "No changes yet."));
    }
  }

  /** @param {ProjectPublic} p */
  function update(p) {
    current = p;
    if (p.jobs) { pipelineJob = p.jobs.pipeline; renderJob = p.jobs.render; }
    draw();
    renderJobProgress(job, pipelineJob, { title: "Generate job" });
  }

  /** @param {Job & {kind?: string}} j */
  function onJob(j) {
    if (j.kind === "render") renderJob = j;
    else { pipelineJob = j; renderJobProgress(job, j, { title: "Generate job" }); }
    draw();
  }

  update(project);
  // the diagram was drawn while its tab may have been hidden: centre it again once it is seen
  return { update, job: onJob, shown: () => centreDiagram(diagram) };
}

/** @param {{calls:number, est_cost_usd:number}} u */
const spent = (u) => `≈ $${u.est_cost_usd.toFixed(3)} in ${u.calls} call${u.calls === 1 ? "" : "s"}`;

/**
 * What the steps noted about their results, and what the project has spent (the ledger, never reset).
 * @param {HTMLElement} host @param {ProjectPublic} p
 */
function renderNotes(host, p) {
  const total = p.spend?.total;
  replace(host,
    ...(p.notes || []).map((n) => h("p", { class: "flag-box", role: "note", "data-note-step": n.step },
      h("strong", null, `${stepLabel(n.step) || n.step}: `), n.message)),
    total && total.calls > 0
      ? h("p", { class: "muted small", "data-spend": "" },
        `Spent ${spent(total)} in all; the last job ${spent(p.spend.last_job)}.`)
      : null);
}
