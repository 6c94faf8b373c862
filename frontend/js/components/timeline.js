// @ts-check
/** Waveform + beats + sections + scene boundaries of the whole song; scenes are buttons. */
import { h, svg } from "../dom.js";
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
 * Build the timeline element.
 * @param {Analysis|null} analysis
 * @param {Scene[]} scenes
 * @param {{selected?: string|null, onPick: (scene: Scene) => void}} opts
 * @returns {HTMLElement}
 */
export function timeline(analysis, scenes, { selected = null, onPick }) {
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
      type: "button", class: `tl-scene status-${s.status}${s.id === selected ? " selected" : ""}`,
      style: `left:${pct(s.start_ms)};width:${pct(s.end_ms - s.start_ms)}`,
      "aria-label": `Scene ${s.index + 1}, ${range(s.start_ms, s.end_ms)}${s.lyric_text ? `: ${s.lyric_text}` : ""}`,
      title: `Scene ${s.index + 1} · ${range(s.start_ms, s.end_ms)}`,
      onclick: () => onPick(s),
    }, h("span", null, String(s.index + 1)))));

  const legend = analysis ? h("p", { class: "tl-legend muted small" },
    `${analysis.tempo_bpm.toFixed(0)} BPM · ${analysis.beats_ms.length} beats · ${scenes.length} scenes · `,
    h("i", { class: "key key-beat" }), " beat ", h("i", { class: "key key-downbeat" }), " bar ", h("i", { class: "key key-cut" }), " scene cut") : null;

  return h("div", { class: "timeline" }, sections, h("div", { class: "tl-wave" }, wave, sceneStrip), legend);
}
