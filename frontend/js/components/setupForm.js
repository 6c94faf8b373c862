// @ts-check
/** Screen 2: upload (drag and drop) + lyrics + settings of one project. */
import { api, ApiError } from "../api.js";
import { h, replace, uniqueId } from "../dom.js";
import { clock } from "../format.js";
import { stylePicker } from "./stylePicker.js";
import { guarded, toast } from "./toast.js";

/** @typedef {import("../types.js").ProjectPublic} ProjectPublic */
/** @typedef {import("../types.js").StylePreset} StylePreset */

const ASPECTS = [
  { value: "16:9", label: "16:9", hint: "YouTube, desktop" },
  { value: "9:16", label: "9:16", hint: "Shorts, Reels, TikTok" },
  { value: "1:1", label: "1:1", hint: "square feed" },
];
const RESOLUTIONS = [
  { value: "720", label: "720p", hint: "HD: quick to make and upload" },
  { value: "1080", label: "1080p", hint: "Full HD: sharper, slower" },
];
const SUB_SIZES = [
  { value: "small", label: "Small", hint: "" }, { value: "medium", label: "Medium", hint: "" }, { value: "large", label: "Large", hint: "" },
];
const SUB_POSITIONS = [
  { value: "bottom", label: "Bottom", hint: "" }, { value: "middle", label: "Middle", hint: "" }, { value: "top", label: "Top", hint: "" },
];
const ENCODE_SPEEDS = [
  { value: "balanced", label: "Balanced", hint: "smallest file" },
  { value: "fast", label: "Fast", hint: "about a quarter less encoding, a quarter bigger file, same look" },
];
const QUALITY = [
  { value: "fast", label: "Fast", hint: "quick drafts (gemini-2.5-flash-image)" },
  { value: "pro", label: "Pro", hint: "finest detail (gemini-3-pro-image-preview)" },
];

/**
 * Mount the setup screen. Returns an `update(project)` to refresh it live.
 * @param {HTMLElement} host
 * @param {ProjectPublic} project
 * @param {{styles: StylePreset[], defaultProvider: string, goto: (tab: string) => void, showProgress: () => void}} ctx
 * @returns {(project: ProjectPublic) => void}
 */
export function mountSetup(host, project, ctx) {
  /** @type {File|null} */ let audioFile = null;
  /** @type {File|null} */ let lyricsFile = null;
  let current = project;

  const audioId = uniqueId("audio");
  const lyricsTextId = uniqueId("lyrics-text");
  const lyricsFileId = uniqueId("lyrics-file");

  const audioInput = /** @type {HTMLInputElement} */ (h("input", {
    id: audioId, type: "file", accept: "audio/*,.wav,.mp3,.flac,.ogg,.m4a,.aac", class: "sr-only", "aria-describedby": `${audioId}-hint`,
    onchange: () => pickAudio(audioInput.files?.[0] || null),
  }));
  const chosen = h("div", { class: "chosen", "aria-live": "polite" });
  const drop = h("label", { for: audioId, class: "dropzone", tabindex: "-1" },
    h("span", { class: "drop-icon", "aria-hidden": "true" }, "♫"),
    h("span", { class: "drop-title" }, "Drop your song here"),
    h("span", { class: "muted", id: `${audioId}-hint` }, "or press to choose a file · WAV, MP3, FLAC, OGG, M4A"));
  const dropWrap = h("div", { class: "drop-wrap" }, audioInput, drop, chosen);
  // keyboard: the input is visually hidden; give the visible zone a focus ring via :focus-within
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    const file = /** @type {DragEvent} */ (ev).dataTransfer?.files?.[0];
    if (file) pickAudio(file);
  });

  /** @param {File|null} file */
  function pickAudio(file) {
    if (file && !(file.type.startsWith("audio/") || /\.(wav|mp3|flac|ogg|m4a|aac|opus)$/i.test(file.name))) {
      toast(`“${file.name}” does not look like an audio file.`, { kind: "error" });
      return;
    }
    audioFile = file;
    replace(chosen, file ? [
      h("span", { class: "file-name" }, `♪ ${file.name}`),
      h("span", { class: "muted" }, ` ${(file.size / 1e6).toFixed(1)} MB`),
      h("audio", { controls: true, src: URL.createObjectURL(file), preload: "metadata", "aria-label": "Preview of the chosen song" }),
    ] : []);
    syncButtons();
  }

  const lyricsText = /** @type {HTMLTextAreaElement} */ (h("textarea", {
    id: lyricsTextId, rows: "6", spellcheck: "false",
    placeholder: "[00:12.00] First line of the song\n[00:16.50] Second line…\n\nPlain text works too: one line per lyric line.",
  }));
  const lyricsInput = /** @type {HTMLInputElement} */ (h("input", {
    id: lyricsFileId, type: "file", accept: ".lrc,.txt,text/plain",
    onchange: () => {
      lyricsFile = lyricsInput.files?.[0] || null;
      if (lyricsFile) lyricsFile.text().then((t) => { lyricsText.value = t; });
    },
  }));

  const uploadBtn = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "btn btn-primary", "data-action": "upload-generate" }, "Upload & generate"));
  const uploadOnlyBtn = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn", "data-action": "upload-only", onclick: () => submit(false) }, "Upload only"));
  const status = h("p", { class: "muted small", "aria-live": "polite" });

  /** @param {boolean} generate */
  async function submit(generate) {
    if (!audioFile) {
      toast("Choose a song first.", { kind: "error" });
      audioInput.focus();
      return;
    }
    uploadBtn.disabled = uploadOnlyBtn.disabled = true;
    status.textContent = "Uploading and converting…";
    await guarded(async () => {
      const text = lyricsText.value;
      const fileText = lyricsFile ? await lyricsFile.text() : null;
      // a file that was loaded into the box and then edited is sent as text
      const useFile = lyricsFile && fileText === text ? lyricsFile : null;
      await api.upload(current.id, { audio: /** @type {File} */ (audioFile), lyrics: useFile, lyricsText: useFile ? "" : text });
      toast("Song uploaded.", { kind: "ok" });
      audioFile = null;
      replace(chosen);
      audioInput.value = "";
      if (generate) {
        await api.run(current.id, { target: "RENDERED" });
        ctx.showProgress(); // the Pipeline tab, focus on its live status (the button that had it is hidden now)
      }
      await api.refresh();
    });
    status.textContent = "";
    syncButtons();
  }

  const form = h("form", {
    class: "setup-form", "aria-labelledby": "upload-title",
    onsubmit: (/** @type {SubmitEvent} */ ev) => { ev.preventDefault(); submit(true); },
  },
  h("section", { class: "card" },
    h("h2", { id: "upload-title" }, "1 · Song"),
    h("div", { class: "current-track" }),
    dropWrap,
    h("div", { class: "lyrics" },
      h("label", { for: lyricsTextId }, "Lyrics ", h("span", { class: "muted" }, "(optional — timed LRC or plain text)")),
      lyricsText,
      h("div", { class: "row small" },
        h("label", { for: lyricsFileId }, "…or load an LRC/TXT file: "),
        lyricsInput)),
    h("div", { class: "row" }, uploadBtn, uploadOnlyBtn),
    status),
  h("section", { class: "card settings", "aria-labelledby": "settings-title" },
    h("h2", { id: "settings-title" }, "2 · Look & format"),
    h("p", { class: "muted small" }, "Changes save at once. After a run, a change only redoes the steps it affects."),
    h("div", { class: "settings-body" })));

  replace(host, h("section", { class: "screen setup-screen" }, form));

  function syncButtons() {
    const busy = current.busy;
    uploadBtn.disabled = busy || !audioFile;
    uploadOnlyBtn.disabled = busy || !audioFile;
    const uploadAllowed = current.allowed.includes("upload");
    if (!uploadAllowed && !busy) uploadBtn.title = uploadOnlyBtn.title = `A new track cannot be uploaded while the project is ${current.state}: resume it or change its settings first.`;
  }

  /** @param {Record<string, unknown>} change */
  function patch(change) {
    return guarded(async () => {
      let updated;
      try {
        // If-Match: a change made elsewhere since this form was drawn (another tab) is not silently overwritten
        updated = await api.updateSettings(current.id, change, current.settings_version || "");
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 412)) throw err;
        toast("The settings were changed elsewhere (another tab?) since this page showed them: the form shows them now. Choose again if you still want your change.", { kind: "error" });
        drawn.settings = "";  // redraw the form from the current settings, not from the clicked choice
        await api.refresh();
        return true;
      }
      toast("Settings saved.", { kind: "ok", timeoutMs: 1800 });
      update(updated);
      await api.refresh();
      return true;
    }).then((res) => {
      if (res) return;
      drawn.settings = "";  // a refused change: put the form back to the saved settings
      update(current);
    });
  }

  /** @type {Record<string, string>} */
  const drawn = {};
  /** Redraw the parts that depend on the project (only what changed, so keyboard focus stays). @param {ProjectPublic} p */
  function update(p) {
    current = p;
    const s = p.settings;
    const locked = p.busy;
    syncButtons();
    const trackKey = JSON.stringify(p.source);
    const settingsKey = JSON.stringify([s, locked]);
    if (drawn.track !== trackKey) {
      drawn.track = trackKey;
      drawTrack(p);
    }
    if (drawn.settings === settingsKey) return;
    drawn.settings = settingsKey;
    const focusedId = document.activeElement && form.contains(document.activeElement) ? document.activeElement.id : "";
    const body = /** @type {HTMLElement} */ (form.querySelector(".settings-body"));
    replace(body,
      radioGroup("Aspect", "aspect", ASPECTS, s.aspect, locked, (v) => patch({ aspect: v }), true),
      radioGroup("Resolution", "resolution", RESOLUTIONS, String(s.resolution), locked, (v) => patch({ resolution: Number(v) }), false),
      stylePicker(ctx.styles, s.style, { disabled: locked, onChange: (id) => patch({ style: id }) }),
      h("div", { class: "settings-row" },
        radioGroup("Image quality", "quality", QUALITY, s.quality, locked, (v) => patch({ quality: v }), false),
        radioGroup("Video encoding", "encode_speed", ENCODE_SPEEDS, s.encode_speed || "balanced", locked, (v) => patch({ encode_speed: v }), false),
        h("fieldset", { class: "switch-field", disabled: locked },
          h("legend", null, "Subtitles"),
          h("label", { class: "switch" },
            h("input", { type: "checkbox", name: "subtitles", id: "subtitles-switch", checked: s.subtitles, role: "switch", onchange: (/** @type {Event} */ ev) => patch({ subtitles: /** @type {HTMLInputElement} */ (ev.target).checked }) }),
            h("span", { class: "switch-track", "aria-hidden": "true" }),
            h("span", null, "Show lyrics as subtitles")),
          s.subtitles ? h("div", { class: "subtitle-options" },
            radioGroup("Subtitle size", "subtitle_size", SUB_SIZES, s.subtitle_size || "medium", locked, (v) => patch({ subtitle_size: v }), false),
            radioGroup("Subtitle position", "subtitle_position", SUB_POSITIONS, s.subtitle_position || "bottom", locked, (v) => patch({ subtitle_position: v }), false),
            h("p", { class: "muted small" }, s.aspect === "9:16"
              ? "Kept clear of where TikTok, Reels and Shorts put their buttons and captions. Changing these only re-renders."
              : "Kept inside the frame's safe area. Changing these only re-renders.")) : null),
        h("fieldset", { class: "switch-field", disabled: locked },
          h("legend", null, "Continuity"),
          h("label", { class: "switch" },
            h("input", { type: "checkbox", name: "continuity", id: "continuity-switch", checked: s.continuity, role: "switch",
              "aria-describedby": "continuity-hint",
              onchange: (/** @type {Event} */ ev) => patch({ continuity: /** @type {HTMLInputElement} */ (ev.target).checked }) }),
            h("span", { class: "switch-track", "aria-hidden": "true" }),
            h("span", null, "Draw each picture from the one before")),
          h("p", { class: "muted small", id: "continuity-hint" }, s.provider === "local"
            ? "Used by Gemini only (the built-in illustrator keeps the cast's look without it)."
            : "Gemini also sees the previous scene's picture: smoother, but changing one picture redraws the ones after it.")),
        h("div", { class: "provider-field" },
          h("span", { class: "field-label" }, "Provider"),
          h("span", { class: `badge provider-${s.provider}`, "data-provider": s.provider }, s.provider),
          h("p", { class: "muted small" }, s.provider === "local"
            ? "Offline: real audio analysis and a built-in illustrator. No key, no network."
            : "Google Gemini: model-written storyboard and pictures."),
          ctx.defaultProvider !== s.provider ? h("p", { class: "muted small" }, `Server default: ${ctx.defaultProvider}`) : null)));
    if (focusedId) document.getElementById(focusedId)?.focus();
  }

  /** The uploaded track with a player. @param {ProjectPublic} p */
  function drawTrack(p) {
    replace(/** @type {HTMLElement} */ (form.querySelector(".current-track")), p.source ? h("div", { class: "track-info" },
      h("span", null, "Current track: ", h("strong", null, p.source.original_name)),
      h("span", { class: "muted" }, ` · ${clock(p.source.duration_ms)} · ${p.source.sample_rate} Hz`),
      p.source.lyrics_file ? h("span", { class: "badge" }, "lyrics") : h("span", { class: "badge badge-dim" }, "instrumental / no lyrics"),
      h("audio", { controls: true, preload: "none", src: api.fileUrl(`/projects/${encodeURIComponent(p.id)}/files/source/track.wav`), "aria-label": "The uploaded track" }))
      : h("p", { class: "muted" }, "No song yet."));

  }

  update(project);
  return update;
}

/**
 * A labelled radio group.
 * @param {string} legend
 * @param {string} name
 * @param {{value:string, label:string, hint:string}[]} options
 * @param {string} value
 * @param {boolean} disabled
 * @param {(v: string) => void} onChange
 * @param {boolean} shapes draw the aspect ratio as a small frame
 */
function radioGroup(legend, name, options, value, disabled, onChange, shapes) {
  return h("fieldset", { class: `radio-group${shapes ? " aspect-group" : ""}`, disabled },
    h("legend", null, legend),
    h("div", { class: "radio-row" }, options.map((o) => {
      const id = `${name}-${o.value.replace(":", "x")}`;
      const [w, hgt] = o.value.includes(":") ? o.value.split(":").map(Number) : [0, 0];
      return h("div", { class: "radio-option" },
        h("input", { type: "radio", name, id, value: o.value, checked: o.value === value, class: "sr-only", onchange: () => onChange(o.value) }),
        h("label", { for: id, class: "radio-card" },
          shapes ? h("span", { class: "frame", style: `aspect-ratio:${w}/${hgt}`, "aria-hidden": "true" }) : null,
          h("span", { class: "radio-label" }, o.label),
          h("span", { class: "radio-hint" }, o.hint)));
    })));
}
