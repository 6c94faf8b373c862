// @ts-check
/**
 * Dragging a time on a horizontal timeline: with the pointer (mouse, pen, touch) or the keyboard.
 * The pure helpers snap a time to the nearest of some points (beats, onsets) and step to the next one;
 * `draggable` wires a handle to them. Holding Alt while dragging turns snapping off.
 */

/**
 * Pure: the point nearest to `ms` when it is within `toleranceMs`, else `ms` itself (rounded).
 * @param {number} ms
 * @param {number[]} points sorted ascending
 * @param {number} toleranceMs
 * @returns {number}
 */
export function snapTo(ms, points, toleranceMs) {
  const t = Math.round(ms);
  if (!points.length) return t;
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  let best = points[lo];
  if (lo > 0 && Math.abs(points[lo - 1] - t) <= Math.abs(best - t)) best = points[lo - 1];
  return Math.abs(best - t) <= toleranceMs ? best : t;
}

/**
 * Pure: the median gap of sorted `points` (a beat period), `fallback` with fewer than two.
 * @param {number[]} points @param {number} [fallback]
 */
export function period(points, fallback = 500) {
  const gaps = points.slice(1).map((p, i) => p - points[i]).filter((g) => g > 0).sort((a, b) => a - b);
  return gaps.length ? gaps[gaps.length >> 1] : fallback;
}

/**
 * Pure: snap to a strong point (a downbeat) within `strongTol`, else to the nearest weak point (a beat) within
 * `weakTol`, else `ms` itself. The engine's rule for scene cuts (engine/structure.py `snap_cut`: a downbeat
 * within three quarters of a beat wins) is this with `strongTol = 0.75 * period`.
 * @param {number} ms @param {number[]} strong sorted @param {number[]} weak sorted
 * @param {number} strongTol @param {number} weakTol
 */
export function snapPreferring(ms, strong, weak, strongTol, weakTol) {
  const onWeak = snapTo(ms, weak, 0);
  if (onWeak === Math.round(ms) && weak.includes(onWeak)) return onWeak; // already on a point: stays
  const s = snapTo(ms, strong, strongTol);
  return s !== Math.round(ms) || strong.includes(s) ? s : snapTo(ms, weak, weakTol);
}

/**
 * Pure: the first point after `ms` (dir +1) or before it (dir -1); `ms` moved by `fallbackMs` when there is none.
 * @param {number} ms
 * @param {number[]} points sorted ascending
 * @param {1|-1} dir
 * @param {number} [fallbackMs]
 * @returns {number}
 */
export function stepTo(ms, points, dir, fallbackMs = 100) {
  if (dir > 0) {
    const next = points.find((p) => p > ms + 1);
    return next === undefined ? Math.round(ms + fallbackMs) : next;
  }
  for (let i = points.length - 1; i >= 0; i--) if (points[i] < ms - 1) return points[i];
  return Math.round(ms - fallbackMs);
}

/**
 * Pure: `ms` kept inside [lo, hi].
 * @param {number} ms @param {number} lo @param {number} hi
 */
export function clamp(ms, lo, hi) {
  return Math.max(lo, Math.min(hi, ms));
}

/**
 * @typedef {object} DragOptions
 * @property {() => number} durationMs the timeline's length: the track's full width
 * @property {() => number} value the handle's time now
 * @property {(ms: number, free: boolean) => number} place where a wanted time lands: snapped (unless `free`,
 *   i.e. Alt held) and clamped to what is allowed
 * @property {(ms: number) => void} onMove the handle moved (redraw)
 * @property {(ms: number) => void} onEnd the drag or key press is finished (record the edit)
 * @property {(ms: number, dir: 1|-1, free: boolean) => number} step an arrow key: the next allowed time that way
 */

/**
 * Make `handle` drag along `track`. The grabbed point stays under the pointer (no jump on pointerdown);
 * Left/Right arrows step (Alt: a finer step, see `step`). Returns a function that removes the listeners.
 * @param {HTMLElement} handle
 * @param {HTMLElement} track the element whose width is the whole timeline
 * @param {DragOptions} opts
 * @returns {() => void}
 */
export function draggable(handle, track, opts) {
  /** @type {{pointer: number, x: number, start: number, last: number}|null} */ let drag = null;

  /** @param {PointerEvent} ev */
  function down(ev) {
    if (ev.button !== 0) return;
    ev.preventDefault();
    ev.stopPropagation();
    handle.setPointerCapture?.(ev.pointerId);
    const start = opts.value();
    drag = { pointer: ev.pointerId, x: ev.clientX, start, last: start };
    handle.classList.add("dragging");
    handle.focus({ preventScroll: true });
  }

  /** @param {PointerEvent} ev */
  function move(ev) {
    if (!drag || ev.pointerId !== drag.pointer) return;
    const width = track.getBoundingClientRect().width || 1;
    const wanted = drag.start + ((ev.clientX - drag.x) / width) * opts.durationMs();
    const ms = opts.place(wanted, ev.altKey);
    if (ms !== drag.last) {
      drag.last = ms;
      opts.onMove(ms);
    }
  }

  /** @param {PointerEvent} ev */
  function up(ev) {
    if (!drag || ev.pointerId !== drag.pointer) return;
    const { last, start } = drag;
    drag = null;
    handle.classList.remove("dragging");
    if (last !== start) opts.onEnd(last);
  }

  /** @param {KeyboardEvent} ev */
  function key(ev) {
    if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return;
    ev.preventDefault();
    const from = opts.value();
    const ms = opts.step(from, ev.key === "ArrowRight" ? 1 : -1, ev.altKey);
    if (ms === from) return;
    opts.onMove(ms);
    opts.onEnd(ms);
  }

  handle.addEventListener("pointerdown", down);
  handle.addEventListener("pointermove", move);
  handle.addEventListener("pointerup", up);
  handle.addEventListener("pointercancel", up);
  handle.addEventListener("keydown", key);
  return () => {
    handle.removeEventListener("pointerdown", down);
    handle.removeEventListener("pointermove", move);
    handle.removeEventListener("pointerup", up);
    handle.removeEventListener("pointercancel", up);
    handle.removeEventListener("keydown", key);
  };
}
