// @ts-check
/** The project header's tools: rename the project in place, duplicate it to try another style or aspect. */
import { api } from "../api.js";
import { h, replace, uniqueId } from "../dom.js";
import { guarded, toast } from "./toast.js";

/** @typedef {import("../types.js").ProjectPublic} ProjectPublic */
/** @typedef {import("../types.js").StylePreset} StylePreset */

const ASPECTS = ["16:9", "9:16", "1:1"];

/**
 * Mount the Rename and Duplicate buttons into `host`; `title` is the heading the rename form replaces.
 * @param {HTMLElement} host
 * @param {HTMLElement} title
 * @param {{project: () => ProjectPublic, styles: StylePreset[], open: (id: string) => void}} ctx
 */
export function mountProjectTools(host, title, ctx) {
  const renameBtn = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button", class: "btn btn-ghost btn-small", "data-action": "rename", onclick: () => startRename(),
  }, "Rename"));
  const dupBtn = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button", class: "btn btn-ghost btn-small", "data-action": "duplicate", onclick: () => openDuplicate(),
    title: "A copy with the same song, analysis, scenes and pictures: try another style or aspect without analysing again",
  }, "Duplicate"));
  replace(host, renameBtn, dupBtn);

  function startRename() {
    const p = ctx.project();
    const id = uniqueId("rename");
    const input = /** @type {HTMLInputElement} */ (h("input", { id, type: "text", value: p.name || "", maxlength: "200", required: true, autocomplete: "off" }));
    const form = h("form", {
      class: "project-rename",
      onsubmit: async (/** @type {SubmitEvent} */ ev) => {
        ev.preventDefault();
        const name = input.value.trim();
        if (!name) {
          toast("A project needs a name.", { kind: "error" });
          input.focus();
          return;
        }
        const done = await guarded(async () => {
          await api.renameProject(p.id, name);
          await api.refresh();
          return true;
        });
        if (done) {
          toast(`Renamed to “${name}”.`, { kind: "ok" });
          close(true);
        }
      },
    },
    h("label", { for: id, class: "sr-only" }, "Project name"), input,
    h("button", { type: "submit", class: "btn btn-primary btn-small" }, "Save name"),
    h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => close(false) }, "Cancel"));
    input.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { ev.preventDefault(); close(false); } });
    title.hidden = true;
    host.hidden = true;
    title.after(form);
    input.focus();
    input.select();

    /** @param {boolean} saved */
    function close(saved) {
      form.remove();
      title.hidden = false;
      host.hidden = false;
      (saved ? title : renameBtn).focus();
    }
  }

  function openDuplicate() {
    const p = ctx.project();
    const nameId = uniqueId("dup-name");
    const styleId = uniqueId("dup-style");
    const nameInput = /** @type {HTMLInputElement} */ (h("input", { id: nameId, type: "text", value: `${p.name || "Untitled song"} (copy)`, maxlength: "200" }));
    const style = /** @type {HTMLSelectElement} */ (h("select", { id: styleId },
      ctx.styles.map((s) => h("option", { value: s.id, selected: s.id === p.settings.style }, s.label))));
    const aspects = h("fieldset", { class: "radio-group" }, h("legend", null, "Aspect"),
      h("div", { class: "radio-row" }, ASPECTS.map((a) => {
        const id = uniqueId(`dup-aspect-${a.replace(":", "x")}`);
        return h("div", { class: "radio-option" },
          h("input", { type: "radio", name: "dup-aspect", id, value: a, checked: a === p.settings.aspect, class: "sr-only" }),
          h("label", { for: id, class: "radio-card" }, h("span", { class: "radio-label" }, a)));
      })));
    const okBtn = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "btn btn-primary", "data-action": "duplicate-confirm" }, "Duplicate"));
    const dialog = /** @type {HTMLDialogElement} */ (h("dialog", { class: "modal modal-small", "aria-labelledby": `${nameId}-title` }));
    const form = h("form", {
      onsubmit: async (/** @type {SubmitEvent} */ ev) => {
        ev.preventDefault();
        okBtn.disabled = true;
        const aspect = /** @type {HTMLInputElement|null} */ (aspects.querySelector("input:checked"))?.value || p.settings.aspect;
        /** @type {Record<string, unknown>} */
        const settings = {};
        if (aspect !== p.settings.aspect) settings.aspect = aspect;
        if (style.value !== p.settings.style) settings.style = style.value;
        const copy = await guarded(() => api.duplicateProject(p.id, { name: nameInput.value.trim() || undefined, settings }));
        okBtn.disabled = false;
        if (!copy) return;
        dialog.close();
        toast(`Made “${copy.name}”: the song, scenes and pictures are copied; only what you changed is redone.`, { kind: "ok" });
        ctx.open(copy.id);
      },
    },
    h("h2", { id: `${nameId}-title` }, "Duplicate project"),
    h("p", { class: "muted small" }, "The copy keeps the song, its analysis, the scenes, prompts and pictures. Change the style or aspect here: only the steps they affect run again."),
    h("label", { for: nameId }, "Name of the copy"), nameInput,
    h("label", { for: styleId }, "Style"), style,
    aspects,
    h("div", { class: "modal-actions" },
      h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel"), okBtn));
    dialog.append(form);
    dialog.addEventListener("close", () => { dialog.remove(); dupBtn.focus(); });
    document.body.appendChild(dialog);
    dialog.showModal();
    nameInput.focus();
  }

  return {
    /** Disable while a run holds the project (a rename would be saved over by the run). @param {ProjectPublic} p */
    update(p) {
      renameBtn.disabled = p.busy;
      renameBtn.title = p.busy ? "Wait for the run to end (or stop it) to rename" : "Rename the project";
    },
  };
}
