// @ts-check
/** Waveform + beats + sections + scene boundaries of the whole song; scenes are buttons, cuts are draggable handles. */
import { h, svg } from "../dom.js";
import { clamp, draggable, period, snapPreferring, snapTo, stepTo } from "../drag.js";
import { range } from "../format.js";

/** @typedef {import("../types.js").Analysis} Analysis */
/** @typedef {import("../types.js").Scene} Scene */

const W = 1000;
const H = 100;

/**
 * Pure: an SVG path of the mirrored RMS envelope, `points` wide.
 * @param {number[]} rms values 0..1
 * @param {{width?: number, height?: number, points?: number}} [opts]
 * @returns {string}
 */
export function envelopePath(rms, { width = W, height = H, points = 400 } = {}) {
  if (!rms.length) return "";
  const n = Math.min(points, rms.length);
  const mid = height / 2;
  const top = [];
  const bottom = [];
  for (let i = 0; i < n; i++) {
    const a = Math.floor((i * rms.length) / n);
    const b = Math.max(a + 1, Math.floor(((i + 1) * rms.length) / n));
    let peak = 0;
    for (let j = a; j < b; j++) peak = Math.max(peak, rms[j] || 0);
    const x = (i / Math.max(1, n - 1)) * width;
    const amp = Math.max(0.5, peak * (mid - 2));
    top.push(`${x.toFixed(1)},${(mid - amp).toFixed(1)}`);
    bottom.push(`${x.toFixed(1)},${(mid + amp).toFixed(1)}`);
  }
  return `M ${top.join(" L ")} L ${bottom.reverse().join(" L ")} Z`;
}

/**
 * @typedef {object} CutEditing dragging the cuts between scenes (absent: the cuts are not editable now)
 * @property {number} minMs the project's shortest scene
 * @property {number} maxMs the project's longest scene
 * @property {(scene: Scene, ms: number, free: boolean) => void} onMove the cut at `scene`'s start moved to `ms`
 *   (`free`: Alt held, no snapping)
 */

/**
 * Pure: where a dragged cut lands: snapped to the beat (a downbeat within three quarters of a beat preferred,
 * as the engine snaps) unless `free`, and kept where both scenes stay within the length bounds.
 * @param {number} ms @param {{beats: number[], downbeats: number[], lo: number, hi: number, free: boolean}} o
 */
export function placeCut(ms, { beats, downbeats, lo, hi, free }) {
  const p = period(beats);
  const t = free ? Math.round(ms) : snapPreferring(ms, downbeats, beats, 0.75 * p, p);
  const inside = clamp(t, lo, hi);
  if (inside === t || free) return inside;
  const allowed = beats.filter((b) => b >= lo && b <= hi); // snapped outside the bounds: the nearest beat inside
  return allowed.length ? snapTo(inside, allowed, Infinity) : inside;
}

/**
 * The draggable handle of the cut at the start of `scenes[i]`.
 * @param {Scene[]} scenes @param {number} i @param {HTMLElement} track @param {Analysis} analysis
 * @param {CutEditing} edit @param {(ms: number) => string} pct
 */
function cutHandle(scenes, i, track, analysis, edit, pct) {
  const prev = scenes[i - 1];
  const scene = scenes[i];
  const lo = Math.max(prev.start_ms + edit.minMs, scene.end_ms - edit.maxMs);
  const hi = Math.min(scene.end_ms - edit.minMs, prev.start_ms + edit.maxMs);
  let at = scene.start_ms;
  let free = false;
  const label = (/** @type {number} */ ms) => `Cut between scenes ${i} and ${i + 1} at ${clock(ms)}`;
  const handle = h("div", {
    class: "tl-cut", role: "slider", tabindex: "0", style: `left:${pct(at)}`, "data-cut": scene.id,
    "aria-label": label(at), "aria-valuemin": String(lo), "aria-valuemax": String(hi), "aria-valuenow": String(at),
    "aria-valuetext": clock(at), title: `${label(at)}: drag (Alt: no snapping) or use ←/→ to move by a beat`,
  });
  const moveTo = (/** @type {number} */ ms) => {
    at = ms;
    handle.style.left = pct(ms);
    handle.setAttribute("aria-valuenow", String(ms));
    handle.setAttribute("aria-valuetext", clock(ms));
    handle.setAttribute("aria-label", label(ms));
  };
  draggable(handle, track, {
    durationMs: () => analysis.duration_ms,
    value: () => at,
    place: (ms, alt) => { free = alt; return placeCut(ms, { beats: analysis.beats_ms, downbeats: analysis.downbeats_ms, lo, hi, free: alt }); },
    onMove: moveTo,
    onEnd: (ms) => edit.onMove(scene, ms, free),
    step: (ms, dir, alt) => {
      free = alt;
      const next = alt ? ms + dir * 50 : stepTo(ms, analysis.beats_ms, dir);
      return clamp(next, lo, hi);
    },
  });
  return handle;
}

/** @param {number} ms */
function clock(ms) {
  const s = ms / 1000;
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(2).padStart(5, "0")}`;
}

/**
 * Build the timeline element.
 * @param {Analysis|null} analysis
 * @param {Scene[]} scenes
 * @param {{selected?: string|null, onPick: (scene: Scene) => void, cuts?: CutEditing|null}} opts
 * @returns {HTMLElement}
 */
export function timeline(analysis, scenes, { selected = null, onPick, cuts = null }) {
  const duration = analysis?.duration_ms || (scenes.length ? scenes[scenes.length - 1].end_ms : 0);
  if (!duration) return h("div", { class: "timeline empty muted" }, "The timeline appears after analysis.");
  const pct = (/** @type {number} */ ms) => `${((ms / duration) * 100).toFixed(3)}%`;
  const x = (/** @type {number} */ ms) => ((ms / duration) * W).toFixed(2);

  const wave = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", class: "wave", "aria-hidden": "true" });
  if (analysis) {
    for (const b of analysis.beats_ms) {
      wave.appendChild(svg("line", { x1: x(b), x2: x(b), y1: 0, y2: H, class: "beat" }));
    }
    for (const b of analysis.downbeats_ms) {
      wave.appendChild(svg("line", { x1: x(b), x2: x(b), y1: 0, y2: H, class: "downbeat" }));
    }
    wave.appendChild(svg("path", { d: envelopePath(analysis.energy.rms), class: "envelope" }));
  }
  for (const s of scenes.slice(1)) {
    wave.appendChild(svg("line", { x1: x(s.start_ms), x2: x(s.start_ms), y1: 0, y2: H, class: "cut" }));
  }

  const sections = analysis ? h("div", { class: "tl-sections", "aria-hidden": "true" }, analysis.sections.map((s) =>
    h("span", { class: `tl-section sec-${s.label}`, style: `left:${pct(s.start_ms)};width:${pct(s.end_ms - s.start_ms)}`, title: `${s.label} · ${s.mood}` }, s.label))) : null;

  const sceneStrip = h("div", { class: "tl-scenes", role: "group", "aria-label": "Scenes on the timeline" }, scenes.map((s) =>
    h("button", {
      type: "button", class: `tl-scene status-${s.status}${s.id === selected ? " selected" : ""}${s.locked ? " locked" : ""}`,
      style: `left:${pct(s.start_ms)};width:${pct(s.end_ms - s.start_ms)}`,
      "aria-label": `Scene ${s.index + 1}, ${range(s.start_ms, s.end_ms)}${s.lyric_text ? `: ${s.lyric_text}` : ""}`,
      title: `Scene ${s.index + 1} · ${range(s.start_ms, s.end_ms)}`,
      onclick: () => onPick(s),
    }, h("span", null, `${s.locked ? "🔒" : ""}${s.index + 1}`))));
  const waveBox = h("div", { class: "tl-wave" }, wave, sceneStrip);
  if (analysis && cuts) {
    for (let i = 1; i < scenes.length; i++) {
      if (scenes[i].locked || scenes[i - 1].locked) continue; // a locked scene keeps its cuts
      waveBox.appendChild(cutHandle(scenes, i, waveBox, analysis, cuts, pct));
    }
  }

  const legend = analysis ? h("p", { class: "tl-legend muted small" },
    `${analysis.tempo_bpm.toFixed(0)} BPM · ${analysis.beats_ms.length} beats · ${scenes.length} scenes · `,
    h("i", { class: "key key-beat" }), " beat ", h("i", { class: "key key-downbeat" }), " bar ", h("i", { class: "key key-cut" }), " scene cut") : null;

  return h("div", { class: "timeline" }, sections, waveBox, legend);
}
