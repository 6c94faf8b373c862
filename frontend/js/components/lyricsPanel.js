// @ts-check
/**
 * The lyrics of an analysed project: every line with its times, edit text/start/end, add and remove
 * lines, tap-along while the track plays, LRC download and import. Saving sends `If-Match` of the version
 * loaded; a 412 (someone else changed them) offers "reload theirs" or "overwrite with mine".
 */
import { api, ApiError } from "../api.js";
import { h, replace } from "../dom.js";
import { applyTap, linesToSend, lyricTime, parseLyricTime, retext, retime } from "../lyrics.js";
import { guardUnsaved } from "../unsaved.js";
import { mountLyricsLane } from "./lyricsLane.js";
import { toast } from "./toast.js";

/** @typedef {import("../types.js").LyricLine} LyricLine */
/** @typedef {import("../types.js").Lyrics} Lyrics */
/** @typedef {import("../types.js").ProjectPublic} ProjectPublic */
/** @typedef {import("../types.js").Analysis} Analysis */

/**
 * Pure: whether lines in this language could not be aligned to the voice (the aligner is en-us; the
 * same test as the engine's). Unknown (null) is not flagged: the per-line "estimated" marks say enough.
 * @param {string|null|undefined} language ISO 639-1 code from the analysis
 */
export function notAligned(language) {
  return Boolean(language) && String(language).toLowerCase().slice(0, 2) !== "en";
}

/**
 * Mount the lyrics panel. `reload()` fetches the lyrics (unless there are unsaved edits);
 * `tap(ms)` is what Space / the Tap button do with the playback time (also used by tests).
 * @param {HTMLElement} host
 * @param {() => ProjectPublic} getProject
 * @param {{language: () => string|null, analysis: () => Analysis|null, onSaved: () => void}} opts
 * @returns {{reload: (force?: boolean) => Promise<void>, readonly dirty: boolean, tap: (ms: number) => void,
 *   startTap: () => void, sync: () => void, close: () => void}}
 */
export function mountLyrics(host, getProject, { language, analysis, onSaved }) {
  /** @type {Lyrics|null} */ let loaded = null;
  /** @type {LyricLine[]} */ let lines = [];
  let dirty = false;
  let saving = false;
  /** @type {number|null} index of the next line a tap starts; null when not tapping */ let tapAt = null;

  const summary = h("p", { class: "muted small", "aria-live": "polite" });
  const note = h("p", { class: "lyrics-note", hidden: true, role: "note" });
  const conflict = h("div", { class: "lyrics-conflict", hidden: true, role: "alert" });
  const list = h("ol", { class: "lyrics-lines", "aria-label": "Lyric lines" });
  const saveBtn = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn btn-primary", "data-lyrics": "save", onclick: () => save(false) }, "Save lyrics"));
  const revertBtn = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn", "data-lyrics": "revert", onclick: () => { dirty = false; reload(); } }, "Undo changes"));
  const tapBtn = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn", "data-lyrics": "tap-mode", onclick: () => (tapAt === null ? startTap() : stopTap()) }, "Tap-along"));
  const bigTap = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn btn-primary lyrics-tap", "data-lyrics": "tap", hidden: true, onclick: () => tapNow() }, "Tap"));
  const tapHint = h("p", { class: "muted small", hidden: true, "aria-live": "polite" });
  const audio = /** @type {HTMLAudioElement} */ (h("audio", { controls: true, preload: "metadata", class: "lyrics-audio", "aria-label": "The track, for tap-along" }));
  const download = /** @type {HTMLAnchorElement} */ (h("a", { class: "btn", download: "", "data-lyrics": "download" }, "Download .lrc"));
  const importInput = /** @type {HTMLInputElement} */ (h("input", {
    type: "file", accept: ".lrc,.txt,text/plain", class: "sr-only", id: "lyrics-import", "data-lyrics": "import",
    onchange: () => { const f = importInput.files?.[0]; importInput.value = ""; if (f) importFile(f); },
  }));
  const importLabel = h("label", { for: "lyrics-import", class: "btn" }, "Import .lrc / .txt");
  const laneHost = h("div", { class: "lyrics-lane-host" });
  const lane = mountLyricsLane(laneHost, {
    lines: () => lines,
    durationMs: () => loaded?.duration_ms || 1,
    analysis,
    onEdit: (i, line) => { edit(() => { lines[i] = line; }); draw(); },
    seek: (ms) => { audio.currentTime = ms / 1000; lane.playhead(ms, !audio.paused); },
  });
  let frame = 0;
  const follow = () => {
    lane.playhead(audio.currentTime * 1000, !audio.paused);
    frame = audio.paused ? 0 : requestAnimationFrame(follow);
  };
  for (const name of ["play", "seeked", "pause", "timeupdate"]) audio.addEventListener(name, () => { if (!frame) follow(); });
  const unguard = guardUnsaved("lyrics", () => dirty);
  const body = h("div", { class: "lyrics-body" });
  const section = h("section", { class: "card lyrics-panel", "aria-labelledby": "lyrics-title" },
    h("div", { class: "screen-head" }, h("h3", { id: "lyrics-title" }, "Lyrics"), summary),
    body);
  replace(host, section);

  const controls = h("div", { class: "lyrics-actions" }, saveBtn, revertBtn, tapBtn, download, importInput, importLabel);
  const tapBox = h("div", { class: "lyrics-tapbox" }, audio, bigTap, tapHint);

  function empty(/** @type {string} */ text) {
    if (tapAt !== null) stopTap();
    replace(body, h("p", { class: "muted" }, text));
    summary.textContent = "";
  }

  function drawSummary() {
    const est = lines.filter((l) => l.timing === "estimated").length;
    summary.textContent = `${lines.length} lines${est ? ` · ${est} estimated (check them)` : ""}${dirty ? " · unsaved changes" : ""}`;
    const busy = getProject().busy;
    saveBtn.disabled = !dirty || saving || busy;
    revertBtn.disabled = !dirty || saving;
    saveBtn.title = busy ? "A job is running on this project; save when it has finished." : "";
  }

  /** @param {() => void} change */
  function edit(change) {
    change();
    dirty = true;
    drawSummary();
  }

  function draw() {
    if (!loaded) return;
    const id = getProject().id;
    download.href = api.lyricsLrcUrl(id);
    const audioUrl = /** @type {any} */ (getProject()).audio_url || `/projects/${encodeURIComponent(id)}/files/source/track.wav`;
    if (!audio.getAttribute("src")) audio.src = api.fileUrl(audioUrl);
    const lang = language();
    note.hidden = !notAligned(lang);
    note.textContent = `The song's language is “${lang}”: the lines could not be aligned to the voice (only English can be). Their times are estimates; check them by hand, e.g. with Tap-along.`;
    replace(list, lines.map((l, i) => row(l, i)));
    // the panel's frame is built once: moving the <audio> out and back would disturb its playback
    if (list.parentElement !== body) replace(body, note, conflict, controls, tapBox, laneHost, list);
    lane.draw();
    drawSummary();
  }

  /** @param {LyricLine} l @param {number} i */
  function row(l, i) {
    const label = `line ${i + 1}`;
    /** @param {"start_ms"|"end_ms"} key */
    const timeInput = (key) => {
      const input = /** @type {HTMLInputElement} */ (h("input", {
        type: "text", inputmode: "decimal", class: "lyrics-time", value: lyricTime(l[key]), "data-field": key,
        "aria-label": `${key === "start_ms" ? "Start" : "End"} of ${label} (mm:ss.mmm)`,
        onchange: () => {
          const ms = parseLyricTime(input.value);
          if (ms === null) {
            input.setAttribute("aria-invalid", "true");
            toast(`“${input.value}” is not a time (mm:ss.mmm) on ${label}.`, { kind: "error" });
            return;
          }
          input.removeAttribute("aria-invalid");
          edit(() => { l = key === "start_ms" ? retime(l, ms, l.end_ms) : retime(l, l.start_ms, ms); lines[i] = l; });
          input.value = lyricTime(ms);
          lane.draw();
        },
      }));
      return input;
    };
    const text = /** @type {HTMLInputElement} */ (h("input", {
      type: "text", class: "lyrics-text", value: l.text, "data-field": "text", "aria-label": `Text of ${label}`,
      oninput: () => { edit(() => { l = retext(l, text.value); lines[i] = l; }); lane.draw(); },
    }));
    const estimated = l.timing === "estimated";
    const conf = typeof l.confidence === "number" ? `confidence ${Math.round(l.confidence * 100)}%` : "no confidence";
    return h("li", { class: `lyrics-line${estimated ? " estimated" : ""}${tapAt === i ? " tap-next" : ""}`, "data-line": String(i) },
      timeInput("start_ms"), h("span", { class: "muted", "aria-hidden": "true" }, "–"), timeInput("end_ms"), text,
      estimated ? h("span", { class: "badge badge-estimated", title: `Estimated timing (${conf}): the aligner was not sure; check this line.` }, "estimated") : null,
      h("button", { type: "button", class: "btn btn-small", "aria-label": `Add a line after ${label}`, "data-lyrics": "add", onclick: () => addAfter(i) }, "+"),
      h("button", { type: "button", class: "btn btn-small", "aria-label": `Remove ${label}`, "data-lyrics": "remove", onclick: () => remove(i) }, "×"));
  }

  /** @param {number} i */
  function addAfter(i) {
    const cur = lines[i];
    const duration = loaded?.duration_ms || cur.end_ms + 2000;
    const next = lines[i + 1];
    const start = cur.end_ms;
    const end = Math.min(next ? next.start_ms : duration, start + 2000);
    edit(() => { lines.splice(i + 1, 0, { text: "", start_ms: start, end_ms: Math.max(end, start + 1), timing: "given", confidence: null }); });
    draw();
    /** @type {HTMLInputElement|null} */ (list.querySelector(`[data-line="${i + 1}"] .lyrics-text`))?.focus();
  }

  /** @param {number} i */
  function remove(i) {
    edit(() => { lines.splice(i, 1); });
    draw();
  }

  /** Fetch the lyrics (kept as they are while there are unsaved edits, unless `force`). */
  async function reload(force = false) {
    if (dirty && !force) return;
    let got;
    try {
      got = await api.lyrics(getProject().id);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) { loaded = null; empty("The lyrics appear here after the song is analysed."); return; }
      throw err;
    }
    take(got);
  }

  /** @param {Lyrics} got */
  function take(got) {
    loaded = got;
    lines = got.lines.map((l) => ({ ...l }));
    dirty = false;
    conflict.hidden = true;
    if (!lines.length) {
      empty("This song has no lyrics (an instrumental video). Import an .lrc or .txt file to add them.");
      body.appendChild(controls);
      download.href = api.lyricsLrcUrl(getProject().id);
      return;
    }
    draw();
  }

  /** @param {boolean} overwrite send over a newer version (after a 412) */
  async function save(overwrite) {
    if (!loaded || saving) return;
    saving = true;
    drawSummary();
    try {
      const got = await api.putLyrics(getProject().id, { lines: linesToSend(lines), version: loaded.version });
      take(got);
      toast("Lyrics saved. The storyboard is planned again from them: press “Generate video” on the Pipeline tab.", { kind: "ok" });
      onSaved();
    } catch (err) {
      failed(err, overwrite);
    } finally {
      saving = false;
      drawSummary();
    }
  }

  /** @param {unknown} err @param {boolean} [overwrite] */
  function failed(err, overwrite = false) {
    if (err instanceof ApiError && err.status === 412 && !overwrite) {
      showConflict(/** @type {any} */ (err.detail));
      return;
    }
    toast(err instanceof Error ? err.message : String(err), { kind: "error" });
  }

  /** @param {{message?: string, version?: string, current?: LyricLine[]}} detail */
  function showConflict(detail) {
    replace(conflict,
      h("p", null, "These lyrics were changed elsewhere since you opened them (",
        String(detail.current?.length ?? "?"), " lines now). Keep which?"),
      h("div", { class: "lyrics-actions" },
        h("button", { type: "button", class: "btn", "data-lyrics": "reload-theirs", onclick: () => { dirty = false; reload(true).catch(failed); } }, "Reload theirs (drop my changes)"),
        h("button", {
          type: "button", class: "btn btn-danger", "data-lyrics": "overwrite",
          onclick: () => { if (loaded && detail.version) loaded = { ...loaded, version: detail.version }; conflict.hidden = true; save(true); },
        }, "Overwrite with mine")));
    conflict.hidden = false;
    /** @type {HTMLElement|null} */ (conflict.querySelector("button"))?.focus();
  }

  /** @param {File} file */
  async function importFile(file) {
    if (file.size > 1024 * 1024) { toast("That lyrics file is larger than 1 MB.", { kind: "error" }); return; }
    try {
      const text = await file.text();
      const version = loaded?.version || "";
      const got = await api.putLyrics(getProject().id, { text, version });
      take(got);
      toast(`Imported “${file.name}”: ${got.lines.length} lines. Press “Generate video” to use them.`, { kind: "ok" });
      onSaved();
    } catch (err) {
      failed(err);
    }
  }

  // ------------------------------------------------------------------ tap-along

  function startTap() {
    if (!lines.length) return;
    tapAt = 0;
    tapBtn.textContent = "Stop tap-along";
    tapBtn.setAttribute("aria-pressed", "true");
    bigTap.hidden = false;
    tapHint.hidden = false;
    tapHint.textContent = "Press Space (or Tap) as each line starts; Esc stops. Next: line 1.";
    document.addEventListener("keydown", onKey, true);
    audio.currentTime = 0;
    audio.play().catch(() => { tapHint.textContent = "The track could not start playing here; press play on the player, then tap."; });
    draw();
    bigTap.focus();
  }

  function stopTap() {
    tapAt = null;
    tapBtn.textContent = "Tap-along";
    tapBtn.removeAttribute("aria-pressed");
    bigTap.hidden = true;
    tapHint.hidden = true;
    document.removeEventListener("keydown", onKey, true);
    audio.pause();
    draw();
  }

  /** @param {KeyboardEvent} ev */
  function onKey(ev) {
    if (tapAt === null || host.closest("[hidden]")) return;
    if (ev.key === "Escape") { ev.preventDefault(); stopTap(); return; }
    if (ev.key === " " || ev.code === "Space") {
      const target = /** @type {HTMLElement} */ (ev.target);
      if (target instanceof HTMLInputElement && target.type === "text") return;
      ev.preventDefault();
      tapNow();
    }
  }

  function tapNow() { tap(audio.currentTime * 1000); }

  /** A tap at `ms`: the next line starts there (and the one before ends). @param {number} ms */
  function tap(ms) {
    if (tapAt === null || !loaded) return;
    const at = tapAt;
    edit(() => { lines = applyTap(lines, at, ms, loaded?.duration_ms || ms + 1000); });
    tapAt = at + 1 < lines.length ? at + 1 : null;
    if (tapAt === null) { stopTap(); toast("Every line tapped. Check the times, then Save lyrics.", { kind: "ok" }); return; }
    tapHint.textContent = `Line ${at + 1} starts at ${lyricTime(lines[at].start_ms)}. Next: line ${tapAt + 1}.`;
    draw();
  }

  return {
    reload,
    /** whether there are unsaved edits */
    get dirty() { return dirty; },
    tap,
    startTap,
    sync: drawSummary,
    /** the panel is gone (another project): stop following the track, drop the unsaved-changes guard */
    close: () => { if (tapAt !== null) stopTap(); audio.pause(); cancelAnimationFrame(frame); unguard(); },
  };
}
