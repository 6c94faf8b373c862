// @ts-check
/** Pure formatting helpers (times, sizes, ETA). */

/**
 * 83_500 -> "1:23.5" (tenths when `tenths`), 83_500 -> "1:23" otherwise.
 * @param {number} ms
 * @param {{tenths?: boolean}} [opts]
 */
export function clock(ms, { tenths = false } = {}) {
  const safe = Math.max(0, ms || 0);
  const totalS = tenths ? Math.floor(safe / 100) / 10 : Math.floor(safe / 1000);
  const m = Math.floor(totalS / 60);
  const s = totalS - m * 60;
  const sText = tenths ? s.toFixed(1).padStart(4, "0") : String(s).padStart(2, "0");
  return `${m}:${sText}`;
}

/** A range "0:04.2 – 0:09.8". @param {number} startMs @param {number} endMs */
export function range(startMs, endMs) {
  return `${clock(startMs, { tenths: true })} – ${clock(endMs, { tenths: true })}`;
}

/** Seconds left as "about 1 min 5 s" / "a few seconds". @param {number|null|undefined} etaS */
export function eta(etaS) {
  if (etaS === null || etaS === undefined || !isFinite(etaS)) return "";
  const s = Math.round(etaS);
  if (s < 5) return "a few seconds left";
  if (s < 60) return `about ${s} s left`;
  const m = Math.floor(s / 60);
  return `about ${m} min ${s % 60} s left`;
}

/** "2 minutes ago" style relative time. @param {string|null|undefined} iso @param {number} [nowMs] */
export function ago(iso, nowMs = Date.now()) {
  if (!iso) return "";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const s = Math.max(0, Math.round((nowMs - t) / 1000));
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(t).toLocaleDateString();
}

/** Capitalised state for display: "IMAGED" -> "Imaged". @param {string} state */
export function stateLabel(state) {
  return state ? state.charAt(0) + state.slice(1).toLowerCase() : "";
}

/** Percentage text. @param {number} fraction 0..1 */
export function percent(fraction) {
  return `${Math.round(Math.max(0, Math.min(1, fraction || 0)) * 100)}%`;
}

/** The pipeline steps in user words (the job card, the header bar, the failure box). */
export const STEP_LABEL = Object.freeze(/** @type {Record<string,string>} */ ({
  analyze: "Analyse", segment: "Storyboard", prompt: "Prompts", draw: "Pictures", render: "Render",
}));

/** A step's name for people: "draw" -> "Pictures"; unknown names as they are. @param {string|null|undefined} step */
export function stepLabel(step) {
  return step ? STEP_LABEL[step] || step : "";
}

/** The CSS aspect-ratio of a project's frame: "9:16" -> "9 / 16" (16:9 when unknown). @param {string|null|undefined} aspect */
export function frameRatio(aspect) {
  const m = /^(\d+):(\d+)$/.exec(aspect || "");
  return m ? `${m[1]} / ${m[2]}` : "16 / 9";
}
