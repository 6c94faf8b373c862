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
    if (project.resumable && !project.allowed.includes("recover")) {
      // a stopped or interrupted run (not FAILED: that one resumes through "recover" below)
      buttons.push(h("button", {
        type: "button", class: "btn btn-primary", "data-action": "resume", title: "continue where the run stopped; finished steps are kept",
        onclick: () => guarded(async () => {
          await api.resume(project.id);
          toast("Resumed: finished steps are kept.");
          await api.refresh();
        }),
      }, ACTIONS.recover.label, h("span", { class: "btn-hint" }, "continue where it stopped")));
    }
    if (project.can_generate) { // the machine's rule, from the API
      buttons.push(h("button", {
        type: "button", class: "btn btn-primary", "data-action": "generate",
        title: "Run every remaining step and render the final video",
        onclick: () => guarded(async () => {
          await api.run(project.id, { target: "RENDERED" });
          toast("Generating… finished steps are skipped.");
          await api.refresh();
        }),
      }, "▶ Generate video"));
    }
    for (const { trigger, info } of actionsFor(project.state, project.allowed)) {
      const cls = info.primary ? "btn btn-primary" : info.kind === "goto" ? "btn btn-ghost" : "btn";
      buttons.push(h("button", {
        type: "button", class: cls, "data-action": trigger, title: info.hint,
        onclick: () => perform(project, trigger, nav),
      }, info.label, info.hint ? h("span", { class: "btn-hint" }, info.hint) : null));
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
