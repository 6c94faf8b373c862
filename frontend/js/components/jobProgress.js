// @ts-check
/** A job's progress: bar, step checklist, ETA, retried and final errors, provider usage. */
import { h, replace } from "../dom.js";
import { eta, percent, stepLabel } from "../format.js";

/** @typedef {import("../types.js").Job} Job */

const STATUS_TEXT = /** @type {Record<string,string>} */ ({
  idle: "Idle", queued: "Queued", running: "Running", done: "Done", failed: "Failed",
  interrupted: "Interrupted", cancelled: "Stopped", not_responding: "Not responding",
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
  // Stop is not a failure: the step it interrupted reads "stopped", not as a red error
  const stopped = job.status === "cancelled";
  const frac = job.status === "done" ? 1 : job.fraction || 0;
  const finalErrors = (job.errors || []).filter((e) => e.final && !(stopped && isStopError(e.message)));
  const retried = (job.errors || []).filter((e) => !e.final);
  const head = h("div", { class: "job-head" },
    h("strong", null, title),
    h("span", { class: `pill pill-${job.status}` }, STATUS_TEXT[job.status] || job.status),
    running && job.step ? h("span", { class: "muted" }, `· ${stepLabel(job.step)}`) : null,
    h("span", { class: "job-eta" }, running ? [percent(frac), job.eta_s != null ? ` · ${eta(job.eta_s)}` : ""] : job.status === "done" ? "100%" : percent(frac)),
  );
  const bar = h("div", {
    class: `bar${running ? " bar-live" : ""}${job.status === "failed" ? " bar-bad" : ""}${stopped ? " bar-stopped" : ""}`, role: "progressbar",
    "aria-label": `${title} progress`, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(frac * 100)),
  }, h("span", { style: `width:${(frac * 100).toFixed(1)}%` }));
  const steps = h("ol", { class: "steps" }, (job.steps || []).map((s) => {
    const status = stopped && (s.status === "failed" || s.status === "running") && !hasRealError(job, s.name) ? "stopped" : s.status;
    return h("li", { class: `step step-${status}`, "data-step": s.name, "data-status": status, title: status === "stopped" ? "Stopped here" : s.message || "" },
      h("span", { class: "step-dot", "aria-hidden": "true" }),
      h("span", null, stepLabel(s.name)),
      s.total > 1 && s.status !== "skipped"
        ? h("span", { class: "muted" }, s.total > 200 ? ` ${percent(s.done / s.total)}` : ` ${s.done}/${s.total}`) : null,
      s.status === "skipped" ? h("span", { class: "muted" }, " up to date") : null,
      status === "stopped" ? h("span", { class: "muted" }, " stopped") : null,
      s.attempts > 1 ? h("span", { class: "warn" }, ` · ${s.attempts} tries`) : null,
    );
  }));
  const stoppedAt = stopped ? (job.steps || []).find((s) => s.status === "failed" || s.status === "running")?.name || job.step : "";
  const stoppedNote = stopped
    ? h("p", { class: "job-stopped", "data-job-stopped": "" }, `■ Stopped${stoppedAt ? ` during ${stepLabel(stoppedAt)}` : ""} — Resume to continue; finished steps are kept.`)
    : null;
  const usage = job.usage && job.usage.calls > 0
    ? h("p", { class: "muted small" }, `Provider: ${job.usage.calls} calls, ${job.usage.images} images, ≈ $${job.usage.est_cost_usd.toFixed(3)}`)
    : null;
  const errors = finalErrors.length || retried.length
    ? h("div", { class: "job-errors" },
      finalErrors.map((e) => h("p", { class: "error-text" }, `✖ ${stepLabel(e.step)}: ${e.message}`)),
      retried.length ? h("details", null, h("summary", null, `${retried.length} retried error${retried.length > 1 ? "s" : ""}`),
        h("ul", null, retried.slice(-8).map((e) => h("li", null, `${stepLabel(e.step)} (try ${e.attempt}): ${e.message}`)))) : null)
    : null;
  // a worker that holds the project but beats no more (paused or hung): the API says what can be done
  const message = job.status === "not_responding"
    ? h("p", { class: "error-text", "data-job-not-responding": "" }, `⚠ Not responding: ${job.message} (Stop wakes a paused worker and stops it).`)
    : job.message && !running && !(stopped && isStopError(job.message))
    ? h("p", { class: "muted small" }, /^[A-Z]+$/.test(job.message) ? `Reached ${job.message.toLowerCase()}.` : job.message) : null;
  replace(host, head, bar, steps, stoppedNote, message, errors, usage);
}

/** The error a step ends with when it is stopped on request (not a failure). @param {string} message */
export function isStopError(message) {
  return /^(CancelledError\b|stopped on request|render cancelled)/i.test(message || "");
}

/** Whether step `name` of `job` ended with a real (not a stop) final error. @param {Job} job @param {string} name */
function hasRealError(job, name) {
  return (job.errors || []).some((e) => e.final && e.step === name && !isStopError(e.message));
}
