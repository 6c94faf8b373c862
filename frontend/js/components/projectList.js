// @ts-check
/** Screen 1: the projects — list, create, delete. */
import { api } from "../api.js";
import { h, replace, uniqueId } from "../dom.js";
import { ago, clock, stateLabel } from "../format.js";
import { confirmDialog } from "./confirm.js";
import { guarded, toast } from "./toast.js";

/** @typedef {import("../types.js").ProjectSummary} ProjectSummary */

/**
 * Mount the projects screen into `host`.
 * @param {HTMLElement} host
 * @param {{open: (id: string, tab?: string) => void}} nav
 */
export async function mountProjectList(host, nav) {
  const nameId = uniqueId("new-name");
  const list = h("ul", { class: "project-list", "aria-label": "Projects", "aria-busy": "true" });
  const heading = h("h1", { id: "projects-title", tabindex: "-1" }, "Your projects");
  const createBtn = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "btn btn-primary", "data-action": "create" }, "+ Create project"));
  let creating = false;
  const form = h("form", {
    class: "card create-card", "aria-labelledby": "create-title",
    onsubmit: async (/** @type {SubmitEvent} */ ev) => {
      ev.preventDefault();
      if (creating) return; // a double click submits twice: one project only
      creating = true;
      createBtn.disabled = true;
      const input = /** @type {HTMLInputElement} */ (form.querySelector("input"));
      const project = await guarded(() => api.createProject({ name: input.value.trim() || "Untitled song" }));
      creating = false;
      createBtn.disabled = false;
      if (!project) return;
      toast(`Created “${project.name || project.id}”.`, { kind: "ok" });
      nav.open(project.id, "setup");
    },
  },
  h("h2", { id: "create-title" }, "New video"),
  h("p", { class: "muted" }, "Give it a name, then upload a song on the next screen."),
  h("div", { class: "row" },
    h("label", { for: nameId, class: "sr-only" }, "Project name"),
    h("input", { id: nameId, name: "name", type: "text", placeholder: "Song title", maxlength: "120", autocomplete: "off" }),
    createBtn));

  replace(host,
    h("section", { class: "screen projects-screen", "aria-labelledby": "projects-title" },
      h("div", { class: "screen-head" },
        heading,
        h("p", { class: "muted" }, "Each project turns one song into an illustrated music video.")),
      form,
      list));

  const refresh = async () => {
    /** @type {ProjectSummary[]} */
    let projects;
    try {
      projects = await api.listProjects();
    } catch (err) {
      replace(list, h("li", { class: "error-text" }, `Could not load projects: ${/** @type {Error} */ (err).message}`));
      return;
    }
    list.setAttribute("aria-busy", "false");
    projects.sort((a, b) => (b.updated_at || "").localeCompare(a.updated_at || ""));
    if (!projects.length) {
      replace(list, h("li", { class: "empty" }, "No projects yet. Create one above — a 30-second song makes a video in under a minute with the local provider."));
      return;
    }
    replace(list, projects.map((p) => row(p, nav, afterDelete)));
  };
  // the deleted row (and its button) is gone: keyboard focus goes to the list's heading
  const afterDelete = async () => {
    await refresh();
    heading.focus();
  };
  await refresh();
}

/**
 * @param {ProjectSummary} p
 * @param {{open: (id: string, tab?: string) => void}} nav
 * @param {() => Promise<void>} afterDelete
 */
function row(p, nav, afterDelete) {
  const thumb = p.thumbnail_url
    ? h("img", { src: api.fileUrl(p.thumbnail_url), alt: "", loading: "lazy" })
    : h("div", { class: "thumb-empty", "aria-hidden": "true" }, "♪");
  const name = p.name || p.id;
  return h("li", { class: "project-row card", "data-project-id": p.id },
    h("div", { class: "project-thumb" }, thumb),
    h("div", { class: "project-main" },
      h("a", { href: `#/p/${encodeURIComponent(p.id)}`, class: "project-name" }, name),
      h("div", { class: "project-meta" },
        h("span", { class: `badge state-${p.state.toLowerCase()}`, "data-status": "", title: `state ${p.state}` }, p.status_text || stateLabel(p.state)),
        p.duration_ms ? h("span", null, clock(p.duration_ms)) : null,
        h("span", null, `updated ${ago(p.updated_at)}`))),
    h("div", { class: "project-actions" },
      p.state === "RENDERED"
        ? h("button", { type: "button", class: "btn", "data-action": "watch", "aria-label": `Watch the video of ${name}`, onclick: () => nav.open(p.id, "video") }, "▶ Watch")
        : null,
      h("button", { type: "button", class: "btn btn-ghost", onclick: () => nav.open(p.id) }, "Open"),
      h("button", {
        type: "button", class: "btn btn-ghost btn-danger-text", "data-action": "delete", "aria-label": `Delete ${name}`,
        onclick: async () => {
          const ok = await confirmDialog({ title: `Delete “${name}”?`, body: "The song, pictures and videos of this project are removed from disk.", confirm: "Delete", danger: true });
          if (!ok) return;
          await guarded(async () => {
            await api.deleteProject(p.id);
            toast(`Deleted “${name}”.`);
            await afterDelete();
          });
        },
      }, "Delete")));
}
