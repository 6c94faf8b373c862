// @ts-check
/**
 * Pure helpers for timed lyric lines (the lyrics panel and its waveform lane): times as text both ways,
 * moving a line with its words, a tap-along tap, a text edit, and the body of a save.
 */

/** @typedef {import("./types.js").LyricLine} LyricLine */

/** 83_456 -> "01:23.456". @param {number} ms */
export function lyricTime(ms) {
  const safe = Math.max(0, Math.round(ms || 0));
  const m = Math.floor(safe / 60000);
  const s = Math.floor((safe % 60000) / 1000);
  return `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}.${String(safe % 1000).padStart(3, "0")}`;
}

/** "1:23.4" / "01:23.456" / "83.4" -> ms; null when not a time. @param {string} text */
export function parseLyricTime(text) {
  const m = /^\s*(?:(\d+):)?(\d+(?:\.\d{0,3})?)\s*$/.exec(text || "");
  if (!m) return null;
  const ms = Math.round((Number(m[1] || 0) * 60 + Number(m[2])) * 1000);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * The line with new times, set by hand; its words keep their places relative to the line (shifted and
 * stretched with it), so karaoke times stay inside the line.
 * @param {LyricLine} line
 * @param {number} start
 * @param {number} end
 * @returns {LyricLine}
 */
export function retime(line, start, end) {
  const s = Math.round(start);
  const e = Math.round(end);
  const oldLen = Math.max(1, line.end_ms - line.start_ms);
  const at = (/** @type {number} */ t) => Math.max(s, Math.min(e, Math.round(s + ((t - line.start_ms) / oldLen) * (e - s))));
  const words = (line.words || []).map((w) => ({ ...w, start_ms: at(w.start_ms), end_ms: Math.max(at(w.start_ms), at(w.end_ms)) }));
  return { ...line, start_ms: s, end_ms: e, words, timing: "given" };
}

/**
 * A tap at `ms` starts line `at` there and ends the line before it there; a line that would now end
 * before it starts keeps its length. Returns the new lines (the input is not changed).
 * @param {LyricLine[]} lines
 * @param {number} at index of the line the tap starts
 * @param {number} ms playback time
 * @param {number} durationMs the track's length
 * @returns {LyricLine[]}
 */
export function applyTap(lines, at, ms, durationMs) {
  const out = lines.map((l) => ({ ...l }));
  const line = out[at];
  if (!line) return out;
  const t = Math.max(0, Math.min(Math.round(ms), durationMs - 1));
  const length = Math.max(500, line.end_ms - line.start_ms);
  out[at] = retime(line, t, line.end_ms <= t ? Math.min(durationMs, t + length) : line.end_ms);
  if (at > 0) out[at - 1] = retime(out[at - 1], out[at - 1].start_ms, Math.max(out[at - 1].start_ms + 1, t));
  return out;
}

/**
 * A line's text changed: its words keep their times when the new text has as many words (a typo fixed),
 * else the karaoke times are dropped (they belonged to other words).
 * @param {LyricLine} line
 * @param {string} text
 * @returns {LyricLine}
 */
export function retext(line, text) {
  const tokens = text.split(/\s+/).filter(Boolean);
  const words = line.words || [];
  return { ...line, text, words: tokens.length === words.length ? words.map((w, k) => ({ ...w, text: tokens[k] })) : [] };
}

/**
 * The body of a PUT: text, times and words; a line's words are sent only while they lie inside it, so a
 * save never fails on karaoke times the user could not see (edits keep them inside: `retime`, `retext`).
 * @param {LyricLine[]} lines
 */
export function linesToSend(lines) {
  return lines.map((l) => {
    const text = l.text.trim();
    const words = l.words || [];
    const fits = words.every((w) => l.start_ms <= w.start_ms && w.start_ms <= w.end_ms && w.end_ms <= l.end_ms);
    return { text, start_ms: l.start_ms, end_ms: l.end_ms, words: fits ? words : [] };
  });
}
