// @ts-check
/** The scene dialog: edit intent/prompt, regenerate, browse and restore versions. */
import { api, ApiError } from "../api.js";
import { h, replace, uniqueId } from "../dom.js";
import { ago, frameRatio, range, stateLabel } from "../format.js";
import { showConflict } from "./conflict.js";
import { confirmDialog } from "./confirm.js";
import { mountSceneStructure } from "./sceneStructure.js";
import { STALE_TEXT, STATUS_TEXT } from "./sceneCard.js";
import { guarded, toast, toastRegion } from "./toast.js";

/** @typedef {import("../types.js").Scene} Scene */
/** @typedef {import("../types.js").ProjectPublic} ProjectPublic */
/** @typedef {import("../types.js").Analysis} Analysis */

/**
 * What the editor may do now, from the project's allowed triggers (the source of truth), and why not.
 * Pure: used by the editor and by tests.
 * @param {Pick<ProjectPublic, "state"|"allowed"|"busy">} p
 * @returns {{intent: boolean, prompt: boolean, save: boolean, regenerate: boolean, restore: boolean, why: string}}
 */
export function editorRights(p) {
  const allowed = new Set(p.allowed || []);
  const can = (/** @type {string} */ t) => !p.busy && allowed.has(t);
  const rights = {
    intent: allowed.has("edit_intent"), prompt: allowed.has("edit_prompt"),
    save: can("edit_intent") || can("edit_prompt"), regenerate: can("regenerate"), restore: can("restore"), why: "",
  };
  if (p.busy) rights.why = "A job is running: saving, regenerating and restoring come back when it ends.";
  else if (p.state === "FAILED") rights.why = "The last run failed: Resume it on the Pipeline tab before editing scenes.";
  else if (rights.intent && !rights.prompt) {
    rights.why = "The prompt is rewritten from the visual intent on the next run: press Generate video (Pipeline tab), then edit the prompt or regenerate.";
  } else if (!rights.intent || !rights.prompt || !rights.regenerate || !rights.restore) {
    rights.why = `Some edits are not possible while the project is ${stateLabel(p.state).toLowerCase()}.`;
  }
  return rights;
}

/**
 * Open the editor for one scene. `reload()` fetches fresh scenes after a change; `sync()` re-reads
 * `project()` (call it when the project changes); `onClose()` runs after the dialog closed.
 * @param {string} projectId
 * @param {Scene} scene
 * @param {{reload: () => Promise<Scene[]>, project: () => ProjectPublic, analysis?: () => Analysis|null, onClose?: () => void}} ctx
 * @returns {{update: (scenes: Scene[]) => void, sync: () => void, close: () => void}}
 */
export function openSceneEditor(projectId, scene, ctx) {
  let current = scene;
  const titleId = uniqueId("scene-title");
  const dialog = /** @type {HTMLDialogElement} */ (h("dialog", { class: "modal scene-editor", "aria-labelledby": titleId }));
  dialog.style.setProperty("--frame", frameRatio(ctx.project()?.settings?.aspect)); // pictures in the project's aspect
  dialog.classList.toggle("portrait", ctx.project()?.settings?.aspect === "9:16");
  const intentId = uniqueId("intent");
  const promptId = uniqueId("prompt");
  const negId = uniqueId("neg");

  const intent = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: intentId, rows: "3", maxlength: "4000" }));
  const prompt = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: promptId, rows: "6", maxlength: "4000" }));
  const negative = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: negId, rows: "2", maxlength: "4000" }));
  const picture = h("div", { class: "editor-picture" });
  const head = h("div", { class: "editor-head" });
  const versions = h("ol", { class: "versions", "aria-label": "Versions" });
  const note = h("p", { class: "muted small", "aria-live": "polite" });
  const why = h("p", { class: "editor-why small", "data-editor-why": "", "aria-live": "polite", hidden: true });
  const conflictBox = h("div", { class: "conflict-box", role: "alert", hidden: true, "data-scene-conflict": "" });
  const structureHost = h("div", { class: "editor-structure" });
  const structure = mountSceneStructure(structureHost, {
    projectId, project: ctx.project, analysis: () => ctx.analysis?.() || null, run: (action, done) => run(action, done),
  });

  const saveBtn = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "btn btn-primary", "data-action": "save-scene" }, "Save changes"));
  const regenBtn = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button", class: "btn", "data-action": "regenerate",
    onclick: () => guarded(async () => {
      if (dirty()) {
        await save();
        if (!editorRights(ctx.project()).regenerate) return; // e.g. a new intent: the prompt is rewritten first
      }
      await api.regenerate(projectId, current.id);
      toast(`Drawing a new version of scene ${current.index + 1}…`);
      note.textContent = "A new picture is being drawn; it appears here when ready.";
      update(await ctx.reload());
      await api.refresh();
    }),
  }, "↻ Regenerate picture"));

  const form = h("form", {
    class: "editor-form",
    onsubmit: (/** @type {SubmitEvent} */ ev) => { ev.preventDefault(); guarded(save); },
  },
  h("label", { for: intentId }, "Visual intent ", h("span", { class: "muted" }, "— what the scene shows; the prompt is rewritten from it")),
  intent,
  h("label", { for: promptId }, "Image prompt ", h("span", { class: "muted" }, "— sent to the illustrator as is")),
  prompt,
  h("details", { class: "neg" }, h("summary", null, "Negative prompt"), h("label", { for: negId, class: "sr-only" }, "Negative prompt"), negative),
  h("div", { class: "row" }, saveBtn, regenBtn),
  why,
  conflictBox,
  note);

  const closeBtn = h("button", { type: "button", class: "btn btn-ghost modal-close", "aria-label": "Close", onclick: () => requestClose() }, "✕");
  dialog.append(
    h("div", { class: "modal-top" }, h("h2", { id: titleId }), closeBtn),
    h("div", { class: "editor-grid" }, h("div", null, picture, head), h("div", null, form, structureHost)),
    h("h3", null, "Versions"),
    versions);

  function dirty() {
    return intent.value.trim() !== current.visual_intent.trim() || prompt.value.trim() !== (current.image_prompt || "").trim()
      || negative.value.trim() !== (current.negative_prompt || "").trim();
  }

  /** Close, asking first when there are unsaved edits (Esc, the ✕ button). */
  async function requestClose() {
    if (dirty()) {
      const discard = await confirmDialog({
        title: "Discard your changes?", body: "The edits to this scene are not saved.", confirm: "Discard", danger: true,
      });
      if (!discard) return;
    }
    if (dialog.open) dialog.close();
  }

  /** Enable what the project allows now; explain what it does not. */
  function sync() {
    const r = editorRights(ctx.project());
    intent.readOnly = !r.intent;
    prompt.readOnly = negative.readOnly = !r.prompt;
    saveBtn.disabled = !r.save;
    regenBtn.disabled = !r.regenerate;
    for (const btn of versions.querySelectorAll("[data-action=restore]")) /** @type {HTMLButtonElement} */ (btn).disabled = !r.restore;
    for (const el of versions.querySelectorAll("[data-version-status=pending]")) el.textContent = pendingText();
    why.textContent = r.why;
    why.hidden = !r.why;
    structure.sync();
  }

  /**
   * Someone changed this scene since it was loaded (a 412): offer to reload theirs or overwrite with mine.
   * @param {unknown} err @param {(etag: string|undefined) => void} overwrite
   * @returns {boolean} whether `err` was a 412 (handled)
   */
  function stale(err, overwrite) {
    if (!(err instanceof ApiError && err.status === 412)) return false;
    const detail = /** @type {any} */ (err.detail);
    showConflict(conflictBox, {
      message: "This scene was changed elsewhere (another tab, or someone else) since you opened it. Keep which?",
      onReload: () => guarded(async () => fill(await api.scene(projectId, current.id), true)),
      onOverwrite: () => overwrite(detail?.version),
    });
    return true;
  }

  /**
   * One structure or picture edit made on the scene's version; then the storyboard is fetched again.
   * @param {(etag: string|undefined) => Promise<unknown>} action @param {string} done @param {string} [etag]
   */
  async function run(action, done, etag = current.etag) {
    try {
      await action(etag);
      conflictBox.hidden = true;
      toast(done, { kind: "ok" });
    } catch (err) {
      if (stale(err, (version) => { run(action, done, version); })) return;
      toast(err instanceof Error ? err.message : String(err), { kind: "error" });
    }
    update(await ctx.reload());
    await api.refresh();
  }

  async function save(etag = current.etag) {
    /** @type {Record<string, string>} */
    const changes = {};
    if (intent.value.trim() !== current.visual_intent.trim()) changes.visual_intent = intent.value;
    if (prompt.value.trim() !== (current.image_prompt || "").trim()) changes.image_prompt = prompt.value;
    if (negative.value.trim() !== (current.negative_prompt || "").trim()) changes.negative_prompt = negative.value;
    if (!Object.keys(changes).length) {
      toast("Nothing changed.");
      return;
    }
    let updated;
    try {
      updated = await api.editScene(projectId, current.id, changes, etag);
    } catch (err) {
      if (stale(err, (version) => { guarded(() => save(version)); })) return;
      throw err;
    }
    conflictBox.hidden = true;
    toast(changes.visual_intent && !changes.image_prompt
      ? "Intent saved. Run Generate to rewrite the prompt and redraw."
      : "Saved. Regenerate to draw it, or Generate to redo what changed.", { kind: "ok" });
    fill(updated, true);
    await api.refresh();
  }

  /** @param {Scene} s @param {boolean} force overwrite the text boxes */
  function fill(s, force) {
    // versions are never deleted: fewer than shown means a reply fetched before our own change
    if (!force && s.versions.length < current.versions.length) return;
    const wasDirty = dirty();
    current = s;
    const title = /** @type {HTMLElement} */ (dialog.querySelector(`#${titleId}`));
    title.textContent = `Scene ${s.index + 1} · ${range(s.start_ms, s.end_ms)}`;
    if (force || !wasDirty) {
      intent.value = s.visual_intent;
      prompt.value = s.image_prompt;
      negative.value = s.negative_prompt || "";
    }
    replace(picture, s.image_url
      ? h("img", { src: api.fileUrl(s.image_url), alt: `Current picture, version ${s.version}` })
      : s.previous_image_url
        ? h("figure", { class: "stale-figure" }, h("img", { src: api.fileUrl(s.previous_image_url), class: "stale", alt: `Version ${s.previous_version}, out of date` }),
          h("figcaption", { class: "scene-flag flag-stale", "data-stale": "" }, `${STALE_TEXT}: v${s.previous_version} shown, v${s.version} not drawn yet`))
        : h("div", { class: "thumb-empty big" }, STATUS_TEXT[s.status] || "No picture"),
    s.status === "blocked" || s.status === "failed"
      ? h("p", { class: "flag-box", role: "note" }, h("strong", null, STATUS_TEXT[s.status]), s.reason ? `: ${s.reason}` : "")
      : null,
    s.fallback ? h("p", { class: "flag-box flag-fallback" }, `Drawn by the local illustrator instead: ${s.reason}`) : null);
    replace(head,
      h("p", { class: "scene-lyric" }, s.lyric_text ? `“${s.lyric_text}”` : "♪ instrumental"),
      h("div", { class: "chips" }, h("span", { class: "chip" }, s.section), h("span", { class: "chip chip-mood" }, s.mood),
        h("span", { class: "chip" }, `energy ${(s.energy * 100).toFixed(0)}%`), h("span", { class: "chip" }, `v${s.version}`)));
    if (s.status === "ok" && note.textContent.startsWith("A new picture")) note.textContent = "";
    structure.fill(s);
    replace(versions, [...s.versions].reverse().map((v) => {
      const isCurrent = v.version === s.version;
      return h("li", { class: `version status-${v.status}${isCurrent ? " current" : ""}`, "data-version": String(v.version) },
        v.image_url ? h("img", { src: api.fileUrl(v.image_url), alt: `Version ${v.version}`, loading: "lazy" }) : h("div", { class: "thumb-empty" }, v.status === "pending" ? "…" : "⚠"),
        h("div", { class: "version-meta" },
          h("strong", null, `v${v.version}`), " ", h("span", { class: "muted" }, v.origin),
          h("div", { class: "muted small" }, ago(v.created_at)),
          versionStatus(v.status)),
        isCurrent ? h("span", { class: "badge" }, "current")
          : h("button", {
            type: "button", class: "btn btn-small", "data-action": "restore", "aria-label": `Restore version ${v.version}`,
            onclick: () => guarded(async () => {
              const restored = await api.restore(projectId, current.id, v.version);
              toast(`Version ${v.version} is current again (as v${restored.version}). Render to use it.`, { kind: "ok" });
              fill(restored, true);
              await api.refresh();
            }),
          }, "Restore"));
    }));
    sync();
  }

  function pendingText() {
    return ctx.project()?.busy ? "drawing…" : "not drawn yet";
  }

  /** A version's status line: pending is neutral (drawing now, or on the next run), problems are red. @param {string} status */
  function versionStatus(status) {
    if (status === "ok") return null;
    if (status === "pending") return h("div", { class: "small muted", "data-version-status": "pending" }, pendingText());
    return h("div", { class: "small error-text", "data-version-status": status }, STATUS_TEXT[status] || status);
  }

  /** The fresh scenes: this one again, or (merged away) the scene that now covers most of it. @param {Scene[]} scenes */
  function update(scenes) {
    const s = scenes.find((x) => x.id === current.id);
    if (s) { fill(s, false); return; }
    const overlap = (/** @type {Scene} */ x) => Math.min(x.end_ms, current.end_ms) - Math.max(x.start_ms, current.start_ms);
    const heir = [...scenes].sort((a, b) => overlap(b) - overlap(a))[0];
    if (heir && overlap(heir) > 0) fill(heir, true);
  }

  // Esc: ask before dropping unsaved edits
  dialog.addEventListener("cancel", (ev) => {
    if (!ev.cancelable) return; // the browser insists (Esc twice without any other input): it closes
    ev.preventDefault();
    requestClose();
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    ctx.onClose?.();
  });
  document.body.appendChild(dialog);
  fill(scene, true);
  dialog.showModal();
  toastRegion();
  intent.focus();
  return { update, sync, close: () => dialog.close() };
}
