// @ts-check
/** Screen 4: the storyboard — timeline of the song plus the scenes in time order. */
import { api, ApiError } from "../api.js";
import { coalesced } from "../coalesce.js";
import { h, replace } from "../dom.js";
import { frameRatio } from "../format.js";
import { showConflict } from "./conflict.js";
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
  const cutConflict = h("div", { class: "conflict-box", role: "alert", hidden: true, "data-cut-conflict": "" });
  const summary = h("p", { class: "muted small", "aria-live": "polite" });
  const grid = h("ol", { class: "scene-grid", "aria-label": "Scenes in time order" });
  const lyricsHost = h("div", { class: "lyrics-host" });
  const castHost = h("div", { class: "cast-host" });
  replace(host, h("section", { class: "screen storyboard-screen", "aria-labelledby": "sb-title" },
    h("div", { class: "screen-head" }, h("h2", { id: "sb-title" }, "Storyboard"), summary),
    tl, cutConflict, lyricsHost, castHost, grid));
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
      analysis: () => analysis,
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
    const aspect = getProject().settings?.aspect;
    host.style.setProperty("--frame", frameRatio(aspect)); // thumbnails in the project's aspect, not cropped to 16:9
    grid.classList.toggle("portrait", aspect === "9:16");
    // keep keyboard focus on the same scene across redraws
    const active = /** @type {HTMLElement|null} */ (document.activeElement);
    const focusedScene = active?.closest("[data-scene-id]")?.getAttribute("data-scene-id");
    const focusCut = active?.getAttribute("data-cut") || null;
    const focusTl = active?.classList.contains("tl-scene") ? Array.from(active.parentElement?.children || []).indexOf(active) : -1;
    const p = getProject();
    const cuts = !p.busy && (p.allowed || []).includes("edit_cuts")
      ? { minMs: Number(p.settings.min_scene_ms), maxMs: Number(p.settings.max_scene_ms), onMove: moveCut } : null;
    replace(tl, timeline(analysis, scenes, { selected, onPick: open, cuts }));
    tl.style.setProperty("--tl-min", `${timelineMinPx(scenes)}px`); // phones: wide enough for 44 px scene buttons
    if (focusCut) /** @type {HTMLElement|null} */ (tl.querySelector(`[data-cut="${CSS.escape(focusCut)}"]`))?.focus();
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

  /**
   * A cut dragged (or moved with the arrow keys) to `ms`: the scene's start moves, its neighbour follows.
   * @param {Scene} scene @param {number} ms @param {boolean} free @param {string} [etag]
   */
  async function moveCut(scene, ms, free, etag = scene.etag) {
    try {
      await api.moveCut(getProject().id, scene.id, { start_ms: ms, snap: !free }, etag);
      cutConflict.hidden = true;
      toast("Cut moved. Press “Generate video” to redo the scenes it touched.", { kind: "ok" });
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        const detail = /** @type {any} */ (err.detail);
        showConflict(cutConflict, {
          message: `Scene ${scene.index + 1} was changed elsewhere (another tab?) since this page loaded it. Keep which?`,
          onReload: () => { reload().catch(() => {}); },
          onOverwrite: () => { moveCut(scene, ms, free, detail?.version); },
        });
        return;
      }
      toast(err instanceof Error ? err.message : String(err), { kind: "error" });
    }
    await reload();
    api.refresh().catch(() => {});
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

/**
 * The width the timeline needs so its shortest scene is a 44 px touch target (phones scroll it sideways). Pure.
 * @param {Scene[]} scenes
 */
export function timelineMinPx(scenes) {
  const total = scenes.length ? scenes[scenes.length - 1].end_ms - scenes[0].start_ms : 0;
  const shortest = Math.min(...scenes.map((s) => s.end_ms - s.start_ms));
  return total > 0 && shortest > 0 ? Math.ceil((48 * total) / shortest) : 0;
}

/** 404/409 before the step ran: no data yet. @param {unknown} err */
function notYet(err) {
  if (err instanceof ApiError && (err.status === 404 || err.status === 409)) return null;
  throw err;
}
