// @ts-check
/** One project: header with live status, tabs for Setup, Pipeline, Storyboard, Video. */
import { POLL_MS, api, ApiError } from "../api.js";
import { $, SEL, h, replace } from "../dom.js";
import { percent, stateLabel, stepLabel } from "../format.js";
import { mountPipeline } from "./pipelinePanel.js";
import { mountRenderPanel } from "./renderPanel.js";
import { mountSetup } from "./setupForm.js";
import { mountStoryboard } from "./storyboard.js";
import { tabs } from "./tabs.js";
import { toast } from "./toast.js";

/** @typedef {import("../types.js").ProjectPublic} ProjectPublic */
/** @typedef {import("../types.js").Job} Job */

export const TABS = [
  { id: "setup", label: "Song & settings" },
  { id: "pipeline", label: "Pipeline" },
  { id: "storyboard", label: "Storyboard" },
  { id: "video", label: "Video" },
];

/** What the dot in the top bar says (its colour shows the same). */
export const CONNECTION_TITLE = Object.freeze(/** @type {Record<string,string>} */ ({
  sse: "Live updates (server-sent events)",
  polling: `Polling for updates every ${POLL_MS / 1000} s (live updates unavailable)`,
  closed: "Not following a project",
}));

/**
 * The tab to open when none is asked for.
 * @param {ProjectPublic} p
 */
export function defaultTab(p) {
  if (p.state === "CREATED") return "setup";
  if (p.state === "RENDERED" && !p.busy) return "video";
  return "pipeline";
}

/**
 * Mount the project screen; returns a cleanup function.
 * @param {HTMLElement} host
 * @param {string} id
 * @param {string|null} tab
 * @param {{machine: any, styles: any[], defaultProvider: string, route: (tab: string) => void}} ctx
 * @returns {Promise<() => void>}
 */
export async function mountProject(host, id, tab, ctx) {
  /** @type {ProjectPublic} */
  let project;
  try {
    project = await api.getProject(id);
  } catch (err) {
    const missing = err instanceof ApiError && err.status === 404;
    replace(host, h("section", { class: "screen" },
      h("h1", null, missing ? "Project not found" : "Could not open the project"),
      h("p", { class: "error-text" }, /** @type {Error} */ (err).message),
      h("a", { href: "#/", class: "btn" }, "← All projects")));
    return () => {};
  }
  const nav = { goto: (/** @type {string} */ t) => ctx.route(t) };

  const title = h("h1", { class: "project-title", tabindex: "-1" });
  const stateBadge = h("span", { class: "badge" });
  const mini = h("div", { class: "mini-progress", hidden: true, role: "status" });
  const t = tabs(TABS, { label: "Project screens", onSelect: (tabId) => ctx.route(tabId) });
  const header = h("header", { class: "project-header" },
    h("a", { href: "#/", class: "back", "aria-label": "All projects" }, "←"),
    h("div", { class: "project-heading" }, title, h("div", { class: "project-sub" }, stateBadge, mini)),
    t.list);
  replace(host, header, ...TABS.map((x) => t.panels[x.id]));

  const setup = mountSetup(t.panels.setup, project, { styles: ctx.styles, defaultProvider: ctx.defaultProvider, goto: nav.goto });
  const pipeline = mountPipeline(t.panels.pipeline, ctx.machine, project, nav);
  const storyboard = mountStoryboard(t.panels.storyboard, () => project);
  const video = mountRenderPanel(t.panels.video, project);
  let active = tab && TABS.some((x) => x.id === tab) ? tab : defaultTab(project);
  let stale = true;
  /** @type {number|null} */ let reloadTimer = null;

  function scheduleStoryboard() {
    stale = true;
    if (active !== "storyboard" || reloadTimer !== null) return;
    reloadTimer = window.setTimeout(() => {
      reloadTimer = null;
      stale = false;
      storyboard.reload().catch(() => { stale = true; });
    }, 400);
  }

  function header_() {
    title.textContent = project.name || project.id;
    document.title = `${project.name || project.id} · storybeat`;
    stateBadge.className = `badge state-${project.state.toLowerCase()}`;
    stateBadge.textContent = stateLabel(project.state);
    stateBadge.dataset.state = project.state;
    const n = project.renders?.length || 0;
    t.badge("video", n ? String(n) : "");
  }

  /** @param {Job & {kind?: string}} j */
  function miniProgress(j) {
    const live = j.status === "running" || j.status === "queued";
    mini.hidden = !live;
    if (live) {
      replace(mini, h("span", { class: "mini-bar" }, h("span", { style: `width:${(j.fraction * 100).toFixed(1)}%` })),
        h("span", { class: "small" }, `${j.kind === "render" ? "Rendering" : stepLabel(j.step) || "Working"} ${percent(j.fraction)}`));
    }
  }

  const onProject = (/** @type {Event} */ ev) => {
    const prevState = project.state;
    project = /** @type {CustomEvent} */ (ev).detail;
    header_();
    setup(project);
    pipeline.update(project);
    video.update(project);
    storyboard.sync();
    if (prevState !== project.state) scheduleStoryboard();
  };
  const onJob = (/** @type {Event} */ ev) => {
    const j = /** @type {CustomEvent} */ (ev).detail;
    pipeline.job(j);
    video.job(j);
    miniProgress(j);
    if (j.kind === "pipeline" && ["segment", "prompt", "draw"].includes(j.step)) scheduleStoryboard();
    if (j.status === "done" || j.status === "failed") scheduleStoryboard();
  };
  const onConnection = (/** @type {Event} */ ev) => {
    const mode = /** @type {CustomEvent} */ (ev).detail.mode;
    document.body.dataset.connection = mode;
    $(SEL.connection).title = CONNECTION_TITLE[mode] || CONNECTION_TITLE.closed;
  };
  const onProjectError = (/** @type {Event} */ ev) => {
    const problem = /** @type {CustomEvent} */ (ev).detail;
    toast(`This project cannot be read: ${ApiError.describe(problem.status, problem.detail)}`, { kind: "error" });
  };
  api.addEventListener("project", onProject);
  api.addEventListener("job", onJob);
  api.addEventListener("connection", onConnection);
  api.addEventListener("project-error", onProjectError);
  api.watch(id);

  header_();
  /** @param {string} tabId @param {boolean} focus */
  const show = (tabId, focus) => {
    active = tabId;
    t.select(tabId, focus);
    if (tabId === "storyboard" && stale) scheduleStoryboard();
    if (tabId === "pipeline") pipeline.shown();
  };
  show(active, false);

  const cleanup = () => {
    api.removeEventListener("project", onProject);
    api.removeEventListener("job", onJob);
    api.removeEventListener("connection", onConnection);
    api.removeEventListener("project-error", onProjectError);
    api.unwatch();
    document.body.dataset.connection = "closed";
    $(SEL.connection).title = CONNECTION_TITLE.closed;
    if (reloadTimer !== null) clearTimeout(reloadTimer);
    storyboard.close();
    document.querySelectorAll("dialog").forEach((d) => d.remove());
  };
  /** @type {any} */ (cleanup).show = show;
  /** @type {any} */ (cleanup).id = id;
  return cleanup;
}
