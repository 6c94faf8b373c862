// @ts-check
/**
 * The project state machine drawn as SVG from `GET /machine`.
 * Work states sit on a line in pipeline order; FAILED below. Forward steps are
 * straight arrows; edits that rewind the machine are arcs above, grouped by the
 * state they return to; `fail`/`recover` connect to FAILED.
 */
import { h, svg, replace } from "../dom.js";
import { stateLabel } from "../format.js";

const NODE_W = 100;
const NODE_H = 44;
const STEP_X = 150;
const LINE_Y = 200;
const LEFT = 30;
const FAILED_Y = 318;
const SELF_LABEL_W = 70;

/**
 * Pure layout: node centres and edge groups for a machine spec.
 * @param {{states: string[], transitions: {trigger:string, source:string, dest:string}[]}} spec
 */
export function layoutMachine(spec) {
  const line = spec.states.filter((s) => s !== "FAILED");
  /** @type {Record<string, {x:number, y:number}>} */
  const pos = {};
  line.forEach((s, i) => { pos[s] = { x: LEFT + NODE_W / 2 + i * STEP_X, y: LINE_Y }; });
  const lineWidth = LEFT * 2 + NODE_W + (line.length - 1) * STEP_X;
  const width = lineWidth + SELF_LABEL_W; // room right of the last self-loop's label
  pos.FAILED = { x: lineWidth / 2, y: FAILED_Y };
  const index = (/** @type {string} */ s) => line.indexOf(s);

  /** @type {Map<string, {source:string, dest:string, triggers:string[]}>} */
  const forward = new Map();
  /** @type {Map<string, {dest:string, sources:Set<string>, triggers:string[]}>} */
  const back = new Map();
  const failSources = new Set();
  // a trigger that keeps the state in several states (e.g. lock_scene) is no arc: it is listed once, in words
  /** @type {Map<string, string[]>} */
  const stays = new Map();
  for (const t of spec.transitions) {
    if (t.source === t.dest) stays.set(t.trigger, [...(stays.get(t.trigger) || []), t.source]);
  }
  for (const [trigger, states] of stays) if (states.length < 2) stays.delete(trigger);
  for (const t of spec.transitions) {
    if (t.trigger === "fail") { failSources.add(t.source); continue; }
    if (t.trigger === "recover" || stays.has(t.trigger)) continue;
    if (index(t.dest) === index(t.source) + 1) {
      const key = `${t.source}>${t.dest}`;
      const item = forward.get(key) || { source: t.source, dest: t.dest, triggers: [] };
      if (!item.triggers.includes(t.trigger)) item.triggers.push(t.trigger);
      forward.set(key, item);
    } else {
      const item = back.get(t.dest) || { dest: t.dest, sources: new Set(), triggers: [] };
      item.sources.add(t.source);
      if (!item.triggers.includes(t.trigger)) item.triggers.push(t.trigger);
      back.set(t.dest, item);
    }
  }
  const stay = [...stays].map(([trigger, states]) => ({ trigger, states: states.sort((a, b) => index(a) - index(b)) }));
  return { line, pos, width, height: FAILED_Y + NODE_H / 2 + 24, forward: [...forward.values()].sort((a, b) => index(a.source) - index(b.source)), back: [...back.values()], stay, failSources: [...failSources], index };
}

/**
 * The words for a list of triggers, from the machine spec's `labels` (engine.machine.TRIGGER_LABELS);
 * a trigger without a label shows as itself. Pure.
 * @param {{labels?: Record<string,string>}} spec
 * @param {string[]} triggers
 * @returns {string}
 */
export function triggerWords(spec, triggers) {
  return [...new Set(triggers.map((t) => spec.labels?.[t] || t))].join(" · ");
}

/** An edge label: the user's words, the machine's trigger names on hover. @param {Record<string, any>} attrs @param {string} words @param {string} triggers */
function label(attrs, words, triggers) {
  return svg("g", { class: "label-hover" }, svg("title", {}, txt(`trigger: ${triggers}`)),
    svg("text", { ...attrs, "data-triggers": triggers }, txt(words)));
}

/**
 * Render the diagram into `host`; call again with new state to update.
 * @param {HTMLElement} host
 * @param {any} spec machine spec from the API
 * @param {{state: string, failedFrom: string|null, standsFor: string, allowed: string[], running: boolean, step?: string, done?: string[]}} now
 */
export function renderStateDiagram(host, spec, now) {
  const L = layoutMachine(spec);
  const cur = now.state;
  const allowed = new Set(now.allowed);
  const curIndex = L.index(now.standsFor); // the machine's rule (engine.machine.stands_for), from the API

  const defs = svg("defs", {},
    marker("arrow", "var(--diagram-edge)"),
    marker("arrow-hot", "var(--accent)"),
    marker("arrow-bad", "var(--danger)"),
  );
  const root = svg("svg", {
    viewBox: `0 0 ${L.width} ${L.height}`, class: "diagram", role: "img",
    "aria-label": `State machine. Current state ${stateLabel(cur)}${cur === "FAILED" && now.failedFrom ? `, failed while in ${stateLabel(now.failedFrom)}` : ""}. Allowed actions: ${triggerWords(spec, now.allowed.filter((t) => !(spec.internal || []).includes(t))) || "none"}.`,
  }, defs);

  // fail fan-in
  for (const s of L.failSources) {
    const p = L.pos[s];
    const hot = cur === "FAILED" && now.failedFrom === s;
    const path = `M ${p.x} ${p.y + NODE_H / 2} C ${p.x} ${FAILED_Y - 40}, ${L.pos.FAILED.x} ${p.y + 60}, ${L.pos.FAILED.x} ${FAILED_Y - NODE_H / 2}`;
    root.appendChild(svg("path", { d: path, class: `edge fail${hot ? " bad" : ""}`, "marker-end": hot ? "url(#arrow-bad)" : null }));
  }
  root.appendChild(label({ x: L.pos.FAILED.x + 12, y: FAILED_Y - NODE_H / 2 - 12, class: "edge-label muted" }, `${triggerWords(spec, ["fail"])} (any step)`, "fail"));
  // recover
  if (cur === "FAILED" && now.failedFrom && L.pos[now.failedFrom]) {
    const p = L.pos[now.failedFrom];
    const f = L.pos.FAILED;
    const d = `M ${f.x - NODE_W / 2} ${f.y} C ${p.x - 80} ${f.y}, ${p.x - 40} ${p.y + 60}, ${p.x - 20} ${p.y + NODE_H / 2 + 2}`;
    root.appendChild(edgePath(d, "recover", allowed.has("recover"), "edge recover"));
    root.appendChild(label({ x: (f.x + p.x) / 2 - 70, y: f.y - 10, class: `edge-label${allowed.has("recover") ? " hot" : ""}` }, triggerWords(spec, ["recover"]), "recover"));
  } else {
    root.appendChild(label({ x: L.pos.FAILED.x - NODE_W / 2 - 8, y: FAILED_Y + 5, "text-anchor": "end", class: "edge-label muted" }, `${triggerWords(spec, ["recover"])} → back to where it failed`, "recover"));
  }

  // forward steps
  for (const e of L.forward) {
    const a = L.pos[e.source], b = L.pos[e.dest];
    const hot = e.source === cur && e.triggers.some((t) => allowed.has(t));
    const active = now.running && e.source === cur && e.triggers.includes(now.step || "");
    const g = svg("g", { class: `edge-group${hot ? " hot" : ""}${active ? " active" : ""}`, "data-triggers": e.triggers.join(" ") },
      edgePath(`M ${a.x + NODE_W / 2} ${a.y} L ${b.x - NODE_W / 2 - 3} ${b.y}`, e.triggers.join(", "), hot || active, "edge"),
      // below the line: a label in words is wider than the gap between two states
      label({ x: (a.x + b.x) / 2, y: a.y + NODE_H / 2 + 15, "text-anchor": "middle", class: "edge-label edge-label-step" }, triggerWords(spec, e.triggers), e.triggers.join(", ")),
    );
    root.appendChild(g);
  }

  // rewinding edits, grouped by destination
  const groups = [...L.back].sort((x, y) => L.index(y.dest) - L.index(x.dest));
  groups.forEach((grp, i) => {
    const srcIdx = Math.max(...[...grp.sources].map(L.index));
    const from = L.line[srcIdx];
    const b = L.pos[grp.dest];
    const hot = grp.sources.has(cur) && grp.triggers.some((t) => allowed.has(t));
    const top = LINE_Y - NODE_H / 2;
    let d, lx, ly;
    if (from === grp.dest) {
      d = `M ${b.x - 16} ${top} C ${b.x - 40} ${top - 48}, ${b.x + 40} ${top - 48}, ${b.x + 16} ${top - 3}`;
      lx = b.x + 22; ly = top - 14; // beside the loop, clear of the arcs' labels above
    } else {
      const a = L.pos[from];
      const span = srcIdx - L.index(grp.dest);
      const rise = 34 + span * 36;
      const ax = a.x - 30 + i * 10;
      d = `M ${ax} ${top} C ${ax} ${top - rise}, ${b.x + 10} ${top - rise}, ${b.x + 10} ${top - 3}`;
      lx = (ax + b.x) / 2; ly = top - rise * 0.75 - 6;
    }
    const sources = [...grp.sources].sort((x, y) => L.index(x) - L.index(y));
    const g = svg("g", { class: `edge-group back${hot ? " hot" : ""}`, "data-triggers": grp.triggers.join(" ") },
      edgePath(d, `${grp.triggers.join(", ")}: from ${sources.join(", ")} back to ${grp.dest}`, hot, "edge back"),
      label({ x: lx, y: ly, "text-anchor": from === grp.dest ? "start" : "middle", class: "edge-label" }, triggerWords(spec, grp.triggers), grp.triggers.join(", ")),
    );
    root.appendChild(g);
  });

  // triggers that keep the state, in several states: one line of words, bottom right
  L.stay.forEach((st, i) => {
    const first = stateLabel(st.states[0]), last = stateLabel(st.states[st.states.length - 1]);
    const hot = st.states.includes(cur) && allowed.has(st.trigger);
    root.appendChild(label({ x: L.width - 12, y: FAILED_Y + 5 + i * 16, "text-anchor": "end", class: `edge-label stay${hot ? " hot" : " muted"}` },
      `${triggerWords(spec, [st.trigger])}: any time from ${first} to ${last}, the state stays`, st.trigger));
  });

  // nodes last, on top
  for (const s of [...L.line, "FAILED"]) {
    const p = L.pos[s];
    const i = L.index(s);
    let cls = "node";
    if (s === cur) cls += s === "FAILED" ? " current failed" : " current";
    else if (s !== "FAILED" && i >= 0 && i < curIndex) cls += " done";
    if (s === cur && now.running) cls += " running";
    if (s === "FAILED") cls += " failed-node";
    const g = svg("g", { class: cls, "data-state": s, transform: `translate(${p.x - NODE_W / 2} ${p.y - NODE_H / 2})` },
      svg("title", {}, txt(s === cur ? `${s} (current)` : s)),
      svg("rect", { width: NODE_W, height: NODE_H, rx: 10 }),
      svg("text", { x: NODE_W / 2, y: NODE_H / 2 + 4.5, "text-anchor": "middle" }, txt(s)),
    );
    root.appendChild(g);
  }
  const focus = L.pos[now.standsFor] || L.pos[cur];
  const scroller = h("div", { class: "diagram-scroll", dataset: { focusX: focus ? String(focus.x / L.width) : "" } }, root);
  replace(host, scroller);
  centreDiagram(host);
}

/**
 * On narrow screens the diagram scrolls sideways: bring the current state into the middle.
 * Does nothing while hidden (no layout): call it again when the diagram is shown.
 * @param {HTMLElement} host where the diagram was rendered
 */
export function centreDiagram(host) {
  const scroller = /** @type {HTMLElement|null} */ (host.querySelector(".diagram-scroll"));
  const fraction = Number.parseFloat(scroller?.dataset.focusX || "");
  if (!scroller || Number.isNaN(fraction) || scroller.scrollWidth <= scroller.clientWidth) return;
  scroller.scrollLeft = fraction * scroller.scrollWidth - scroller.clientWidth / 2;
}

/** @param {string} d @param {string} title @param {boolean} hot @param {string} cls */
function edgePath(d, title, hot, cls) {
  return svg("path", { d, class: `${cls}${hot ? " hot" : ""}`, "marker-end": hot ? "url(#arrow-hot)" : "url(#arrow)" }, svg("title", {}, txt(title)));
}

/** @param {string} id @param {string} color */
function marker(id, color) {
  return svg("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", style: `fill:${color}` }));
}

/** @param {string} s */
function txt(s) {
  return document.createTextNode(s);
}
