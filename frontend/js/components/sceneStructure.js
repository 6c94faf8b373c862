// @ts-check
/**
 * The scene editor's structure tools: the scene's lyric lines (give a line its own scene), split at a beat,
 * merge with a neighbour, lock, and your own picture with a focal point. What is possible comes from the
 * project's allowed triggers (edit_cuts, lock_scene/unlock_scene, upload_picture).
 */
import { api } from "../api.js";
import { h, replace, uniqueId } from "../dom.js";
import { range } from "../format.js";

/** @typedef {import("../types.js").Scene} Scene */
/** @typedef {import("../types.js").Analysis} Analysis */
/** @typedef {import("../types.js").ProjectPublic} ProjectPublic */

export const PICTURE_TYPES = ["image/png", "image/jpeg", "image/webp"];

/**
 * Pure: what the structure tools may do now, from the project's allowed triggers.
 * @param {Pick<ProjectPublic, "allowed"|"busy">} p
 * @param {Scene} s
 * @returns {{cuts: boolean, lock: boolean, picture: boolean}}
 */
export function structureRights(p, s) {
  const allowed = new Set(p.busy ? [] : p.allowed || []);
  return {
    cuts: allowed.has("edit_cuts") && !s.locked,
    lock: allowed.has(s.locked ? "unlock_scene" : "lock_scene"),
    picture: allowed.has("upload_picture") && !s.locked,
  };
}

/**
 * Pure: the beats where a scene may be split: both halves at least `minMs` long.
 * @param {Scene} s @param {Analysis|null} a @param {number} minMs
 * @returns {{ms: number, bar: boolean}[]}
 */
export function splitPoints(s, a, minMs) {
  if (!a) return [];
  const bars = new Set(a.downbeats_ms);
  return a.beats_ms.filter((b) => b - s.start_ms >= minMs && s.end_ms - b >= minMs).map((ms) => ({ ms, bar: bars.has(ms) }));
}

/**
 * Mount the tools in `host`. `run(action)` performs one edit with the scene's version (it handles a 412 and
 * reloads the storyboard).
 * @param {HTMLElement} host
 * @param {{projectId: string, project: () => ProjectPublic, analysis: () => Analysis|null,
 *   run: (action: (etag: string|undefined) => Promise<unknown>, done: string) => Promise<void>}} ctx
 * @returns {{fill: (s: Scene) => void, sync: () => void}}
 */
export function mountSceneStructure(host, ctx) {
  /** @type {Scene|null} */ let scene = null;
  /** @type {File|null} */ let file = null;
  /** @type {string|null} */ let fileUrl = null;
  /** @type {[number, number]} */ let focus = [0.5, 0.5];
  const fileId = uniqueId("own-picture");
  const splitId = uniqueId("split-at");

  /** @type {string} */ let shownRights = "";

  /** @param {Scene} s */
  function fill(s) {
    scene = s;
    const p = ctx.project();
    const rights = structureRights(p, s);
    shownRights = JSON.stringify(rights);
    const a = ctx.analysis();
    const minMs = Number(p.settings?.min_scene_ms ?? 2500);
    const lines = s.lines || [];
    const points = splitPoints(s, a, minMs);
    const last = a ? s.end_ms >= a.duration_ms : false;

    const lineItems = lines.map((line, k) => h("li", null,
      h("span", null, h("span", { class: "muted small" }, `${range(line.start_ms, line.end_ms)} `), line.text),
      k > 0 && line.start_ms > s.start_ms ? h("button", {
        type: "button", class: "btn btn-small", "data-action": "own-scene", disabled: !rights.cuts,
        "aria-label": `Give “${line.text}” its own scene`,
        onclick: () => ctx.run((etag) => api.split(ctx.projectId, s.id, line.start_ms, etag), `“${line.text}” has its own scene now.`),
      }, "Own scene") : null));

    const select = /** @type {HTMLSelectElement} */ (h("select", { id: splitId, disabled: !rights.cuts },
      points.map((pt) => h("option", { value: String(pt.ms) }, `${(pt.ms / 1000).toFixed(2)} s${pt.bar ? " (bar)" : ""}`))));
    const firstBar = points.find((pt) => pt.bar);
    if (firstBar) select.value = String(firstBar.ms);

    const lock = /** @type {HTMLInputElement} */ (h("input", {
      type: "checkbox", "data-action": "lock", checked: Boolean(s.locked), disabled: !rights.lock,
      onchange: () => ctx.run((etag) => api.lock(ctx.projectId, s.id, lock.checked, etag),
        lock.checked ? "Locked: this scene keeps its prompt and picture." : "Unlocked: it follows the style again."),
    }));

    const latest = s.versions[s.versions.length - 1];
    const own = latest && latest.origin === "upload" && /** @type {any} */ (latest).original_url;
    if (!file) focus = latest?.focus ? [latest.focus[0], latest.focus[1]] : [0.5, 0.5];
    const pickerSrc = fileUrl || (own ? api.fileUrl(/** @type {any} */ (latest).original_url) : null);

    replace(host,
      h("h3", null, "Structure"),
      lines.length > 1 ? h("p", { class: "small muted" }, `${lines.length} lyric lines share this scene. Give one its own scene:`) : null,
      lines.length ? h("ul", { class: "scene-lines", "aria-label": "Lyric lines in this scene" }, lineItems) : null,
      points.length ? h("div", { class: "row" },
        h("label", { for: splitId }, "Split at beat "), select,
        h("button", {
          type: "button", class: "btn btn-small", "data-action": "split", disabled: !rights.cuts,
          onclick: () => ctx.run((etag) => api.split(ctx.projectId, s.id, Number(select.value), etag), "Scene split in two."),
        }, "Split here"))
        : h("p", { class: "small muted" }, `Too short to split: each half needs at least ${(minMs / 1000).toFixed(1)} s.`),
      h("div", { class: "row" },
        h("button", {
          type: "button", class: "btn btn-small", "data-action": "merge-prev", disabled: !rights.cuts || s.index === 0,
          onclick: () => ctx.run((etag) => api.merge(ctx.projectId, s.id, "prev", etag), "Merged with the previous scene."),
        }, "⇤ Merge with previous"),
        h("button", {
          type: "button", class: "btn btn-small", "data-action": "merge-next", disabled: !rights.cuts || last,
          onclick: () => ctx.run((etag) => api.merge(ctx.projectId, s.id, "next", etag), "Merged with the next scene."),
        }, "Merge with next ⇥")),
      h("div", { class: "row" }, h("label", null, lock, " Lock this scene ",
        h("span", { class: "muted small" }, "— keeps its prompt and picture through a new style, aspect or redraw"))),
      h("h3", null, "Your own picture"),
      h("div", { class: "row" },
        h("label", { for: fileId }, "PNG, JPEG or WebP "),
        h("input", {
          id: fileId, type: "file", accept: PICTURE_TYPES.join(","), "data-action": "picture-file", disabled: !rights.picture,
          onchange: (/** @type {Event} */ ev) => {
            const input = /** @type {HTMLInputElement} */ (ev.target);
            const chosen = input.files?.[0] || null;
            if (fileUrl) URL.revokeObjectURL(fileUrl);
            file = chosen && PICTURE_TYPES.includes(chosen.type) ? chosen : null;
            fileUrl = file ? URL.createObjectURL(file) : null;
            focus = [0.5, 0.5];
            if (scene) fill(scene);
          },
        })),
      pickerSrc ? picker(pickerSrc) : null,
      pickerSrc ? h("p", { class: "small muted" }, "Click the picture (or use the arrow keys on it) where the frame should centre.") : null,
      h("div", { class: "row" },
        file ? h("button", {
          type: "button", class: "btn btn-primary btn-small", "data-action": "upload-picture", disabled: !rights.picture,
          onclick: () => {
            const chosen = /** @type {File} */ (file);
            ctx.run(async (etag) => {
              const got = await api.uploadPicture(ctx.projectId, s.id, chosen, focus, etag);
              file = null;
              if (fileUrl) URL.revokeObjectURL(fileUrl);
              fileUrl = null;
              return got;
            }, "Your picture is the scene's new version. Render to use it.");
          },
        }, "Use this picture") : null,
        !file && own ? h("button", {
          type: "button", class: "btn btn-small", "data-action": "apply-focus", disabled: !rights.picture,
          onclick: () => ctx.run((etag) => api.setFocus(ctx.projectId, s.id, focus, etag), "Cropped again around the new focal point."),
        }, "Apply focal point") : null));
  }

  /** The focal-point picker over the original picture. @param {string} src */
  function picker(src) {
    const dot = h("span", { class: "focus-dot", style: dotStyle() });
    const box = h("div", {
      class: "focus-picker", tabindex: "0", role: "slider", "data-focus-picker": "",
      "aria-label": "Focal point of your picture", "aria-valuetext": focusText(),
      onclick: (/** @type {MouseEvent} */ ev) => {
        const r = /** @type {HTMLElement} */ (ev.currentTarget).getBoundingClientRect();
        focus = [clamp01((ev.clientX - r.left) / r.width), clamp01((ev.clientY - r.top) / r.height)];
        show();
      },
      onkeydown: (/** @type {KeyboardEvent} */ ev) => {
        const step = { ArrowLeft: [-0.05, 0], ArrowRight: [0.05, 0], ArrowUp: [0, -0.05], ArrowDown: [0, 0.05] }[ev.key];
        if (!step) return;
        ev.preventDefault();
        focus = [clamp01(focus[0] + step[0]), clamp01(focus[1] + step[1])];
        show();
      },
    }, h("img", { src, alt: "Your picture (the original)" }), dot);
    function show() {
      dot.setAttribute("style", dotStyle());
      box.setAttribute("aria-valuetext", focusText());
    }
    return box;
  }

  function dotStyle() { return `left:${(focus[0] * 100).toFixed(1)}%;top:${(focus[1] * 100).toFixed(1)}%`; }
  function focusText() { return `${Math.round(focus[0] * 100)}% across, ${Math.round(focus[1] * 100)}% down`; }

  /** The project changed: draw again only when what is allowed changed (keeps focus and the chosen file). */
  function sync() {
    if (scene && JSON.stringify(structureRights(ctx.project(), scene)) !== shownRights) fill(scene);
  }

  return { fill, sync };
}

/** @param {number} v */
function clamp01(v) {
  return Math.max(0, Math.min(1, Math.round(v * 1000) / 1000));
}
