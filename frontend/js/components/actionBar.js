// @ts-check
/** The allowed actions of the current state as buttons (plus Generate and Stop). */
import { api } from "../api.js";
import { ACTIONS, actionsFor } from "../actions.js";
import { h, replace } from "../dom.js";
import { guarded, toast } from "./toast.js";

/** @typedef {import("../types.js").ProjectPublic} ProjectPublic */

/**
 * Render the buttons for `project` into `host`.
 * @param {HTMLElement} host
 * @param {ProjectPublic} project
 * @param {{goto: (tab: string) => void}} nav
 */
export function renderActionBar(host, project, nav) {
  const buttons = [];
  if (project.busy) {
    buttons.push(h("button", {
      type: "button", class: "btn btn-danger", "data-action": "cancel",
      onclick: () => guarded(async () => {
        const res = await api.cancel(project.id);
        toast(res && res.stopped ? "Stopped." : "Nothing was running.");
        await api.refresh();
      }),
    }, "■ Stop"));
  } else {
    const stopped = project.resumable && !project.allowed.includes("recover"); // (FAILED resumes through "recover")
    const hasVideo = project.state === "RENDERED" && (project.renders?.length || 0) > 0;
    // one primary action, the rest secondary: Resume after a stop, Generate while steps are left, Watch when done,
    // else the machine's own (Resume after a failure, Upload a song before there is one)
    const lead = stopped ? "resume" : project.can_generate ? "generate" : hasVideo ? "watch" : "";
    const cls = (/** @type {string} */ key, /** @type {boolean} */ wantsPrimary) => (key === lead || (!lead && wantsPrimary) ? "btn btn-primary" : "btn");
    if (hasVideo) {
      buttons.push(h("button", {
        type: "button", class: cls("watch", false), "data-action": "watch", onclick: () => nav.goto("video"),
      }, "▶ Watch the video", h("span", { class: "btn-hint" }, "the latest render, with downloads")));
    }
    if (stopped) {
      buttons.push(h("button", {
        type: "button", class: cls("resume", true), "data-action": "resume", title: "continue where the run stopped; finished steps are kept",
        onclick: () => guarded(async () => {
          await api.resume(project.id);
          toast("Resumed: finished steps are kept.");
          await api.refresh();
        }),
      }, ACTIONS.recover.label, h("span", { class: "btn-hint" }, "continue the stopped run")));
    }
    if (project.can_generate) { // the machine's rule, from the API
      buttons.push(h("button", {
        type: "button", class: cls("generate", true), "data-action": "generate",
        title: "Run every remaining step and render the final video",
        onclick: () => guarded(async () => {
          await api.run(project.id, { target: "RENDERED" });
          toast("Generating… finished steps are skipped.");
          await api.refresh();
        }),
      }, "▶ Generate video", h("span", { class: "btn-hint" }, stopped ? "a new run, all the way to the final video" : "every remaining step, then the video")));
    }
    for (const { trigger, info } of actionsFor(project.state, project.allowed, { hasTrack: Boolean(project.source) })) {
      const klass = info.kind === "goto" && !(info.primary && !lead) ? "btn btn-ghost" : cls(trigger, Boolean(info.primary));
      const hint = stopped && info.kind === "run" ? `a new run that stops after this step` : info.hint;
      buttons.push(h("button", {
        type: "button", class: klass, "data-action": trigger, title: hint,
        onclick: () => perform(project, trigger, nav),
      }, info.label, hint ? h("span", { class: "btn-hint" }, hint) : null));
    }
    // the primary first, so it is the first thing read and reached with Tab
    const first = buttons.findIndex((b) => b.classList.contains("btn-primary"));
    if (first > 0) buttons.unshift(...buttons.splice(first, 1));
    if (stopped) {
      buttons.push(h("p", { class: "action-note muted small", "data-action-note": "" },
        "The run was stopped. Resume continues it where it stopped (finished steps are kept); the other buttons start a new run that goes as far as they say."));
    }
  }
  replace(host, buttons.length ? buttons : h("p", { class: "muted" }, "No actions right now."));
}

/**
 * @param {ProjectPublic} project
 * @param {string} trigger
 * @param {{goto: (tab: string) => void}} nav
 */
function perform(project, trigger, nav) {
  const info = ACTIONS[trigger];
  if (!info || info.kind === "goto") {
    nav.goto(info?.tab || "pipeline");
    return;
  }
  return guarded(async () => {
    if (info.kind === "run") await api.run(project.id, { target: info.target });
    else if (info.kind === "render") {
      nav.goto("video");
      await api.render(project.id, { preview: false });
    } else if (info.kind === "resume") await api.resume(project.id);
    toast(`${info.label} started.`);
    await api.refresh();
  });
}
