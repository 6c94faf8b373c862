// @ts-check
/** One scene in the storyboard grid: thumbnail, time range, lyric, mood, status. */
import { api } from "../api.js";
import { h } from "../dom.js";
import { range } from "../format.js";

/** @typedef {import("../types.js").Scene} Scene */

export const STATUS_TEXT = /** @type {Record<string,string>} */ ({
  ok: "", blocked: "Blocked by safety filter", failed: "Picture failed", pending: "Not drawn yet",
});

/** The flag on a picture shown while its scene's new version is not drawn yet. */
export const STALE_TEXT = "Out of date";

/**
 * @param {Scene} s
 * @param {{onOpen: (scene: Scene) => void, selected: boolean}} opts
 * @returns {HTMLElement}
 */
export function sceneCard(s, { onOpen, selected }) {
  const flagged = s.status === "blocked" || s.status === "failed";
  const stale = !s.image_url && Boolean(s.previous_image_url); // edited since it was drawn: the old picture, marked
  const img = s.image_url || stale
    ? h("img", { src: api.fileUrl(s.image_url || s.previous_image_url || ""), alt: `Picture of scene ${s.index + 1}${stale ? " (out of date)" : ""}: ${s.visual_intent}`, loading: "lazy", class: stale ? "stale" : null })
    : h("div", { class: "thumb-empty", "aria-hidden": "true" }, s.status === "pending" ? "…" : "⚠");
  return h("li", { class: `scene-card status-${s.status}${selected ? " selected" : ""}`, "data-scene-id": s.id },
    h("button", {
      type: "button", class: "scene-open", onclick: () => onOpen(s),
      "aria-label": `Edit scene ${s.index + 1}, ${range(s.start_ms, s.end_ms)}${flagged ? `, ${STATUS_TEXT[s.status]}` : ""}`,
    },
    h("div", { class: "scene-thumb" }, img,
      h("span", { class: "scene-num" }, String(s.index + 1)),
      s.version > 1 ? h("span", { class: "scene-ver" }, `v${s.version}`) : null,
      stale ? h("span", { class: "scene-flag flag-stale", "data-stale": "", title: `Showing v${s.previous_version}; regenerate or Generate to draw v${s.version}` }, STALE_TEXT)
        : s.status !== "ok" ? h("span", { class: `scene-flag flag-${s.status}` }, STATUS_TEXT[s.status]) : null,
      s.fallback ? h("span", { class: "scene-flag flag-fallback", title: s.reason }, "local fallback") : null,
      s.locked ? h("span", { class: "scene-flag flag-locked", "data-locked": "", title: "Locked: keeps its picture through a new style, aspect or redraw" }, "🔒 locked") : null),
    h("div", { class: "scene-body" },
      h("div", { class: "scene-time" }, range(s.start_ms, s.end_ms)),
      h("p", { class: `scene-lyric${s.lyric_text ? "" : " instrumental"}` }, s.lyric_text ? `“${s.lyric_text}”` : "♪ instrumental"),
      h("div", { class: "chips" },
        h("span", { class: "chip" }, s.section),
        h("span", { class: "chip chip-mood" }, s.mood),
        s.edited ? h("span", { class: "chip chip-edited" }, "edited") : null),
      flagged && s.reason ? h("p", { class: "scene-reason error-text" }, s.reason) : null)));
}
