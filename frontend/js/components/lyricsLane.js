// @ts-check
/**
 * The lyric lines as blocks on the song's waveform: drag a block's start or end edge, or the whole block;
 * edges snap to note onsets (Alt: free); arrow keys step from onset to onset (Alt: 10 ms). Word markers show
 * the karaoke times; a playhead follows the track and a click on the lane seeks it. Zoom in to place lines
 * of a long song precisely (the lane scrolls and follows the playhead).
 */
import { clamp, draggable, snapTo, stepTo } from "../drag.js";
import { h, replace, svg } from "../dom.js";
import { lyricTime, retime } from "../lyrics.js";
import { envelopePath } from "./timeline.js";

/** @typedef {import("../types.js").LyricLine} LyricLine */
/** @typedef {import("../types.js").Analysis} Analysis */

/** The shortest line an edge drag leaves. */
export const MIN_LINE_MS = 200;
/** How close (in pixels of the lane) an edge must come to an onset to snap to it. */
const SNAP_PX = 8;
/** Zoom levels: how many seconds of the song the lane shows at once (0 = all of it). */
const ZOOMS_S = [0, 60, 30, 15, 8];

/**
 * Pure: where line `i` may lie: after the line before it ends, before the next one starts.
 * @param {LyricLine[]} lines
 * @param {number} i
 * @param {number} durationMs
 */
export function lineRoom(lines, i, durationMs) {
  return { lo: i > 0 ? lines[i - 1].end_ms : 0, hi: i + 1 < lines.length ? lines[i + 1].start_ms : durationMs };
}

/**
 * Pure: line `i` with its `edge` at `ms`, kept inside its room and at least MIN_LINE_MS long.
 * @param {LyricLine[]} lines
 * @param {number} i
 * @param {"start"|"end"|"move"} edge "move": the whole line, `ms` is its new start
 * @param {number} ms
 * @param {number} durationMs
 * @returns {LyricLine}
 */
export function placeLine(lines, i, edge, ms, durationMs) {
  const line = lines[i];
  const { lo, hi } = lineRoom(lines, i, durationMs);
  if (edge === "start") return retime(line, clamp(ms, lo, Math.max(lo, line.end_ms - MIN_LINE_MS)), line.end_ms);
  if (edge === "end") return retime(line, line.start_ms, clamp(ms, Math.min(hi, line.start_ms + MIN_LINE_MS), hi));
  const len = line.end_ms - line.start_ms;
  const start = clamp(ms, lo, Math.max(lo, hi - len));
  return retime(line, start, start + len);
}

/**
 * Mount the lane.
 * @param {HTMLElement} host
 * @param {{
 *   lines: () => LyricLine[], durationMs: () => number, analysis: () => Analysis|null,
 *   onEdit: (i: number, line: LyricLine) => void, seek: (ms: number) => void,
 * }} opts `onEdit` records a finished drag of line `i`; `seek` moves the track's playback
 * @returns {{draw: () => void, playhead: (ms: number, playing: boolean) => void}}
 */
export function mountLyricsLane(host, opts) {
  let zoom = 0;
  let playheadMs = 0;
  const inner = h("div", { class: "lane-inner" });
  const scroller = h("div", { class: "lane-scroll", onclick: (/** @type {MouseEvent} */ ev) => seekAt(ev) }, inner);
  const head = h("div", { class: "lane-playhead", "aria-hidden": "true" });
  const zoomOut = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn btn-small", "data-lane": "zoom-out", "aria-label": "Zoom out", onclick: () => setZoom(-1) }, "−"));
  const zoomIn = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn btn-small", "data-lane": "zoom-in", "aria-label": "Zoom in", onclick: () => setZoom(1) }, "+"));
  const zoomLabel = h("span", { class: "muted small" });
  replace(host, h("div", { class: "lyrics-lane", role: "group", "aria-label": "Lyric lines on the waveform" },
    h("div", { class: "lane-tools" }, h("span", { class: "muted small" },
      "Drag a line, or its edges; edges snap to the notes (hold Alt for free). Arrow keys step a focused edge."),
    h("span", { class: "lane-zoom" }, zoomOut, zoomLabel, zoomIn)),
    scroller));

  const duration = () => Math.max(1, opts.durationMs());
  const pct = (/** @type {number} */ ms) => `${((ms / duration()) * 100).toFixed(4)}%`;
  /** the onsets to snap to, and the snap tolerance in ms at this zoom */
  const snapPoints = () => opts.analysis()?.onsets_ms || opts.analysis()?.beats_ms || [];
  const msPerPx = () => duration() / (inner.getBoundingClientRect().width || 1000);

  /** @param {number} step */
  function setZoom(step) {
    const fits = ZOOMS_S.filter((s) => s === 0 || s * 1000 < duration());
    zoom = clamp(zoom + step, 0, fits.length - 1);
    draw();
    follow(true);
  }

  function sizeInner() {
    const fits = ZOOMS_S.filter((s) => s === 0 || s * 1000 < duration());
    zoom = Math.min(zoom, fits.length - 1);
    const seconds = fits[zoom];
    inner.style.width = seconds ? `${((duration() / (seconds * 1000)) * 100).toFixed(2)}%` : "100%";
    zoomLabel.textContent = seconds ? `${seconds} s shown` : "whole song";
    zoomOut.disabled = zoom === 0;
    zoomIn.disabled = zoom === fits.length - 1;
  }

  /** @param {MouseEvent} ev */
  function seekAt(ev) {
    if (/** @type {HTMLElement} */ (ev.target).closest(".lyric-block")) return;
    const box = inner.getBoundingClientRect();
    opts.seek(clamp(((ev.clientX - box.left) / (box.width || 1)) * duration(), 0, duration()));
  }

  /** Keep the playhead in view when zoomed in. @param {boolean} [center] */
  function follow(center = false) {
    const x = (playheadMs / duration()) * inner.scrollWidth;
    const { scrollLeft, clientWidth } = scroller;
    if (center || x < scrollLeft || x > scrollLeft + clientWidth - 24) scroller.scrollLeft = Math.max(0, x - clientWidth / 3);
  }

  function draw() {
    const active = /** @type {HTMLElement|null} */ (document.activeElement);
    const refocus = active && inner.contains(active) ? `[data-line="${active.closest("[data-line]")?.getAttribute("data-line")}"] [data-edge="${active.getAttribute("data-edge")}"]` : null;
    sizeInner();
    const analysis = opts.analysis();
    const wave = svg("svg", { viewBox: "0 0 1000 60", preserveAspectRatio: "none", class: "lane-wave", "aria-hidden": "true" });
    if (analysis?.energy?.rms?.length) wave.appendChild(svg("path", { d: envelopePath(analysis.energy.rms, { height: 60, points: 800 }), class: "envelope" }));
    const lines = opts.lines();
    replace(inner, wave, ...lines.map((l, i) => block(lines, l, i)), head);
    head.style.left = pct(playheadMs);
    if (refocus) /** @type {HTMLElement|null} */ (inner.querySelector(refocus))?.focus({ preventScroll: true });
  }

  /** @param {LyricLine[]} lines @param {LyricLine} line @param {number} i */
  function block(lines, line, i) {
    const label = `line ${i + 1}`;
    const words = h("span", { class: "lyric-words", "aria-hidden": "true" });
    const text = h("span", { class: "lyric-block-text" }, line.text || "(empty)");
    /** @param {"start"|"end"|"move"} edge @param {string} name */
    const grip = (edge, name) => h("span", {
      class: `lyric-${edge === "move" ? "grip" : "edge"} lyric-${edge}`, tabindex: "0", role: "slider", "data-edge": edge,
      "aria-label": name, "aria-valuemin": "0", "aria-valuemax": String(duration()),
    });
    const start = grip("start", `Start of ${label}`);
    const end = grip("end", `End of ${label}`);
    const move = grip("move", `Move ${label}`);
    const el = h("div", {
      class: `lyric-block${line.timing === "estimated" ? " estimated" : ""}`, "data-line": String(i),
      title: `${label}: ${lyricTime(line.start_ms)} – ${lyricTime(line.end_ms)} · ${line.text}`,
    }, move, text, words, start, end);

    /** Show line `l` (a drag in progress, or the saved one). @param {LyricLine} l */
    function show(l) {
      el.style.left = pct(l.start_ms);
      el.style.width = pct(l.end_ms - l.start_ms);
      el.title = `${label}: ${lyricTime(l.start_ms)} – ${lyricTime(l.end_ms)} · ${l.text}`;
      const len = Math.max(1, l.end_ms - l.start_ms);
      replace(words, ...(l.words || []).map((w) => h("i", {
        class: "lyric-word", style: `left:${(((w.start_ms - l.start_ms) / len) * 100).toFixed(2)}%`, title: `${w.text} ${lyricTime(w.start_ms)}`,
      })));
      for (const [g, value] of /** @type {[HTMLElement, number][]} */ ([[start, l.start_ms], [end, l.end_ms], [move, l.start_ms]])) {
        g.setAttribute("aria-valuenow", String(value));
        g.setAttribute("aria-valuetext", lyricTime(value));
      }
    }
    show(line);

    for (const [g, edge] of /** @type {[HTMLElement, "start"|"end"|"move"][]} */ ([[start, "start"], [end, "end"], [move, "move"]])) {
      /** @type {LyricLine} */ let preview = line;
      const at = () => (edge === "end" ? preview.end_ms : preview.start_ms);
      /** @param {number} ms @param {boolean} free */
      const place = (ms, free) => {
        const snapped = free ? ms : snapTo(ms, snapPoints(), SNAP_PX * msPerPx());
        const placed = placeLine(lines, i, edge, snapped, duration());
        return edge === "end" ? placed.end_ms : placed.start_ms;
      };
      draggable(g, inner, {
        durationMs: duration,
        value: at,
        place,
        step: (ms, dir, free) => place(free ? ms + dir * 10 : stepTo(ms, snapPoints(), dir, 50), true),
        onMove: (ms) => { preview = placeLine(lines, i, edge, ms, duration()); show(preview); },
        onEnd: (ms) => { preview = placeLine(lines, i, edge, ms, duration()); opts.onEdit(i, preview); },
      });
      g.addEventListener("click", (ev) => ev.stopPropagation());
    }
    return el;
  }

  /** @param {number} ms @param {boolean} playing */
  function playhead(ms, playing) {
    playheadMs = ms;
    head.style.left = pct(ms);
    for (const el of inner.querySelectorAll(".lyric-block")) {
      const line = opts.lines()[Number(el.getAttribute("data-line"))];
      el.classList.toggle("singing", Boolean(line) && playing && line.start_ms <= ms && ms < line.end_ms);
    }
    if (playing && zoom > 0) follow();
  }

  return { draw, playhead };
}
