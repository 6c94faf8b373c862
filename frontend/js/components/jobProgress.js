// @ts-check
/** A job's progress: bar, step checklist, ETA, retried and final errors, provider usage. */
import { h, replace } from "../dom.js";
import { eta, percent } from "../format.js";

/** @typedef {import("../types.js").Job} Job */

const STEP_LABEL = /** @type {Record<string,string>} */ ({
  analyze: "Analyse", segment: "Storyboard", prompt: "Prompts", draw: "Pictures", render: "Render",
});

const STATUS_TEXT = /** @type {Record<string,string>} */ ({
  idle: "Idle", queued: "Queued", running: "Running", done: "Done", failed: "Failed",
  interrupted: "Interrupted", cancelled: "Stopped",
});

/**
 * @param {HTMLElement} host
 * @param {Job|null|undefined} job
 * @param {{title: string}} opts
 */
export function renderJobProgress(host, job, { title }) {
  if (!job || job.status === "idle") {
    replace(host, h("p", { class: "muted job-idle" }, `${title}: nothing has run yet.`));
    return;
  }
  const running = job.status === "running" || job.status === "queued";
  const frac = job.status === "done" ? 1 : job.fraction || 0;
  const finalErrors = (job.errors || []).filter((e) => e.final);
  const retried = (job.errors || []).filter((e) => !e.final);
  const head = h("div", { class: "job-head" },
    h("strong", null, title),
    h("span", { class: `pill pill-${job.status}` }, STATUS_TEXT[job.status] || job.status),
    running && job.step ? h("span", { class: "muted" }, `· ${STEP_LABEL[job.step] || job.step}`) : null,
    h("span", { class: "job-eta" }, running ? [percent(frac), job.eta_s != null ? ` · ${eta(job.eta_s)}` : ""] : job.status === "done" ? "100%" : percent(frac)),
  );
  const bar = h("div", {
    class: `bar${running ? " bar-live" : ""}${job.status === "failed" ? " bar-bad" : ""}`, role: "progressbar",
    "aria-label": `${title} progress`, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(frac * 100)),
  }, h("span", { style: `width:${(frac * 100).toFixed(1)}%` }));
  const steps = h("ol", { class: "steps" }, (job.steps || []).map((s) =>
    h("li", { class: `step step-${s.status}`, title: s.message || "" },
      h("span", { class: "step-dot", "aria-hidden": "true" }),
      h("span", null, STEP_LABEL[s.name] || s.name),
      s.total > 1 && s.status !== "skipped"
        ? h("span", { class: "muted" }, s.total > 200 ? ` ${percent(s.done / s.total)}` : ` ${s.done}/${s.total}`) : null,
      s.status === "skipped" ? h("span", { class: "muted" }, " up to date") : null,
      s.attempts > 1 ? h("span", { class: "warn" }, ` · ${s.attempts} tries`) : null,
    )));
  const usage = job.usage && job.usage.calls > 0
    ? h("p", { class: "muted small" }, `Provider: ${job.usage.calls} calls, ${job.usage.images} images, ≈ $${job.usage.est_cost_usd.toFixed(3)}`)
    : null;
  const errors = finalErrors.length || retried.length
    ? h("div", { class: "job-errors" },
      finalErrors.map((e) => h("p", { class: "error-text" }, `✖ ${STEP_LABEL[e.step] || e.step}: ${e.message}`)),
      retried.length ? h("details", null, h("summary", null, `${retried.length} retried error${retried.length > 1 ? "s" : ""}`),
        h("ul", null, retried.slice(-8).map((e) => h("li", null, `${e.step} (try ${e.attempt}): ${e.message}`)))) : null)
    : null;
  replace(host, head, bar, steps, job.message && !running ? h("p", { class: "muted small" }, /^[A-Z]+$/.test(job.message) ? `Reached ${job.message.toLowerCase()}.` : job.message) : null, errors, usage);
}
