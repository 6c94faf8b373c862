// @ts-check
/** Screen 4: the storyboard — timeline of the song plus the scenes in time order. */
import { api, ApiError } from "../api.js";
import { coalesced } from "../coalesce.js";
import { h, replace } from "../dom.js";
import { mountCast } from "./castPanel.js";
import { mountLyrics } from "./lyricsPanel.js";
import { toast } from "./toast.js";
import { sceneCard } from "./sceneCard.js";
import { openSceneEditor } from "./sceneEditor.js";
import { timeline } from "./timeline.js";

/** @typedef {import("../types.js").Scene} Scene */
/** @typedef {import("../types.js").Analysis} Analysis */
/** @typedef {import("../types.js").ProjectPublic} ProjectPublic */

/**
 * Mount the storyboard. Returns `reload()`, called when the project or a job changes, and
 * `sync()`, called on every project change (the open scene dialog follows what is allowed).
 * @param {HTMLElement} host
 * @param {() => ProjectPublic} getProject
 * @returns {{reload: () => Promise<void>, sync: () => void, close: () => void}}
 */
export function mountStoryboard(host, getProject) {
  /** @type {Analysis|null} */ let analysis = null;
  /** @type {Scene[]} */ let scenes = [];
  /** @type {string|null} */ let selected = null;
  /** @type {{update: (s: Scene[]) => void, sync: () => void, close: () => void}|null} */ let editor = null;

  const tl = h("div", { class: "timeline-host card" });
  const summary = h("p", { class: "muted small", "aria-live": "polite" });
  const grid = h("ol", { class: "scene-grid", "aria-label": "Scenes in time order" });
  const lyricsHost = h("div", { class: "lyrics-host" });
  const castHost = h("div", { class: "cast-host" });
  replace(host, h("section", { class: "screen storyboard-screen", "aria-labelledby": "sb-title" },
    h("div", { class: "screen-head" }, h("h2", { id: "sb-title" }, "Storyboard"), summary),
    tl, lyricsHost, castHost, grid));
  const cast = mountCast(castHost, getProject, { onSaved: () => { api.refresh().catch(() => {}); } });
  const lyrics = mountLyrics(lyricsHost, getProject, {
    language: () => /** @type {any} */ (analysis)?.language || null,
    analysis: () => analysis,
    // the edit rewinds the machine to ANALYZED: fetch the project (its state event reloads the storyboard)
    onSaved: () => { api.refresh().catch(() => {}); reload().catch(() => {}); },
  });

  /** @param {Scene} s */
  function open(s) {
    selected = s.id;
    draw();
    const opened = openSceneEditor(getProject().id, s, {
      reload: async () => { await reload(); return scenes; },
      project: getProject,
      onClose: () => {
        if (editor === opened) editor = null;
        focusScene(s.id);
      },
    });
    editor = opened;
  }

  /** Put keyboard focus back on a scene's card (its button was redrawn while the dialog was open). @param {string} id */
  function focusScene(id) {
    /** @type {HTMLElement|null} */ (grid.querySelector(`[data-scene-id="${CSS.escape(id)}"] .scene-open`))?.focus();
  }

  function draw() {
    // keep keyboard focus on the same scene across redraws
    const active = /** @type {HTMLElement|null} */ (document.activeElement);
    const focusedScene = active?.closest("[data-scene-id]")?.getAttribute("data-scene-id");
    const focusTl = active?.classList.contains("tl-scene") ? Array.from(active.parentElement?.children || []).indexOf(active) : -1;
    replace(tl, timeline(analysis, scenes, { selected, onPick: open }));
    if (!scenes.length) {
      replace(grid, h("li", { class: "empty muted" }, "Scenes appear here once the storyboard step has run. Press “Generate video” on the Pipeline tab."));
      summary.textContent = "";
      return;
    }
    const flagged = scenes.filter((s) => s.status === "blocked" || s.status === "failed").length;
    const pending = scenes.filter((s) => s.status === "pending").length;
    summary.textContent = `${scenes.length} scenes${flagged ? ` · ${flagged} ${flagged === 1 ? "needs" : "need"} attention` : ""}${pending ? ` · ${pending} not drawn yet` : ""}. Click a scene to edit it.`;
    replace(grid, scenes.map((s) => sceneCard(s, { onOpen: open, selected: s.id === selected })));
    if (focusedScene) focusScene(focusedScene);
    if (focusTl >= 0) /** @type {HTMLElement|null} */ (tl.querySelectorAll(".tl-scene")[focusTl])?.focus();
  }

  async function load() {
    const id = getProject().id;
    const [a, seg] = await Promise.all([
      api.analysis(id).catch(notYet),
      api.segments(id).catch(notYet),
    ]);
    analysis = a;
    scenes = seg ? [...seg.scenes].sort((x, y) => x.start_ms - y.start_ms) : [];
    draw();
    // kept as they are while they have unsaved edits; a failure there must not hide the scenes
    await lyrics.reload().catch((err) => toast(`The lyrics could not be loaded: ${err.message}`, { kind: "error" }));
    await cast.reload().catch((err) => toast(`The cast could not be loaded: ${err.message}`, { kind: "error" }));
    if (editor) editor.update(scenes);
  }

  /** Fetch and draw the scenes; resolves after a fetch begun after the call (see `coalesced`). */
  const reload = coalesced(load);

  draw();
  return { reload, sync: () => { editor?.sync(); lyrics.sync(); }, close: () => lyrics.close() };
}

/** 404/409 before the step ran: no data yet. @param {unknown} err */
function notYet(err) {
  if (err instanceof ApiError && (err.status === 404 || err.status === 409)) return null;
  throw err;
}
