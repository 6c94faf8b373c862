// @ts-check
/**
 * The cast panel: the recurring subjects of the video, each with its reference picture, name, description,
 * silhouette, colours, clothing and where it appears. Saving sends `If-Match` of the version loaded (the
 * machine's `edit_cast`: the next run redraws the references and the pictures that show a changed member);
 * a 412 reloads the current cast. Each member's reference picture may be your own ("Use my picture": PUT
 * .../cast/{member}/reference, also `edit_cast`: the pictures that show the member are drawn again), and an
 * uploaded one can go back to a drawn one. Hidden until the prompts proposed a cast (404).
 */
import { api, ApiError } from "../api.js";
import { h, replace } from "../dom.js";
import { PICTURE_TYPES } from "./sceneStructure.js";
import { toast } from "./toast.js";

/** @typedef {import("../types.js").ProjectPublic} ProjectPublic */

/**
 * Pure: the members as the PUT body wants them (the server keeps each reference by id).
 * @param {any[]} members @returns {any[]}
 */
export function castBody(members) {
  return members.map(({ reference, ...fields }) => fields);
}

/**
 * Mount the panel. `reload()` fetches the cast (unless there are unsaved edits).
 * @param {HTMLElement} host @param {() => ProjectPublic} getProject @param {{onSaved: () => void}} opts
 * @returns {{reload: (force?: boolean) => Promise<void>}}
 */
export function mountCast(host, getProject, { onSaved }) {
  /** @type {any} */ let loaded = null;
  /** @type {any[]} */ let members = [];
  let dirty = false;

  async function reload(force = false) {
    if (dirty && !force) return;
    try {
      loaded = await api.cast(getProject().id);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) { loaded = null; replace(host); return; }
      throw err;
    }
    members = structuredClone(loaded.members);
    dirty = false;
    draw();
  }

  function canEdit() {
    const p = getProject();
    return !p.busy && (p.allowed || []).includes("edit_cast");
  }

  /** @param {number} i @param {string} key @param {unknown} value */
  function set(i, key, value) {
    members[i] = { ...members[i], [key]: value };
    dirty = true;
    save.disabled = !canEdit();
  }

  const save = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn btn-primary", "data-cast": "save",
    onclick: () => send() }, "Save cast"));

  async function send() {
    save.disabled = true;
    try {
      await api.putCast(getProject().id, { members: castBody(members), version: loaded.version });
      dirty = false;
      toast("Cast saved: the next run redraws the pictures that show it", { kind: "ok" });
      onSaved();
      await reload(true);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        toast("The cast was changed elsewhere: reloaded", { kind: "error" });
        await reload(true);
      } else {
        toast(err instanceof Error ? err.message : String(err), { kind: "error" });
        save.disabled = false;
      }
    }
  }

  /**
   * One reference edit (upload or back to drawn) on the loaded version; unsaved field edits must be saved first.
   * @param {(version: string) => Promise<unknown>} call @param {string} done
   */
  async function referenceEdit(call, done) {
    if (dirty) { toast("Save the cast (or reload) before changing a reference picture", { kind: "error" }); return; }
    try {
      await call(loaded.version);
      toast(done, { kind: "ok" });
      onSaved();
    } catch (err) {
      const stale = err instanceof ApiError && err.status === 412;
      toast(stale ? "The cast was changed elsewhere: reloaded" : err instanceof Error ? err.message : String(err), { kind: "error" });
    }
    await reload(true);
  }

  /** The member's reference controls: your own picture, and back to a drawn one. @param {any} m */
  function referenceControls(m) {
    const editable = canEdit();
    const input = /** @type {HTMLInputElement} */ (h("input", {
      type: "file", accept: PICTURE_TYPES.join(","), hidden: true, "data-cast-action": "reference-file",
      "aria-label": `Your picture of ${m.name}`, disabled: !editable,
      onchange: () => {
        const file = input.files?.[0];
        if (!file) return;
        if (!PICTURE_TYPES.includes(file.type)) { toast("Choose a PNG, JPEG or WebP picture", { kind: "error" }); return; }
        referenceEdit((v) => api.putCastReference(getProject().id, m.id, file, v),
          `Your picture of ${m.name} is the reference: the next run redraws the scenes that show it`);
      },
    }));
    const upload = h("button", { type: "button", class: "btn btn-small", "data-cast-action": "upload-reference", disabled: !editable,
      onclick: () => input.click() }, "Use my picture");
    const back = m.reference?.origin === "upload" ? h("button", {
      type: "button", class: "btn btn-small", "data-cast-action": "drawn-reference", disabled: !editable,
      onclick: () => referenceEdit((v) => api.deleteCastReference(getProject().id, m.id, v),
        `${m.name} goes back to a drawn reference`),
    }, "Back to a drawn picture") : null;
    return h("div", { class: "cast-ref-actions" }, input, upload, back);
  }

  /** @param {any} m @param {number} i */
  function memberCard(m, i) {
    const url = loaded.reference_urls[m.id];
    const editable = canEdit();
    const field = (/** @type {string} */ label, /** @type {HTMLElement} */ input) => h("label", { class: "cast-field" }, label, input);
    const text = (/** @type {string} */ key, /** @type {number} */ max) => /** @type {HTMLInputElement} */ (h("input", {
      type: "text", value: m[key] || "", maxlength: String(max), disabled: !editable, "data-cast-field": key,
      oninput: (/** @type {Event} */ e) => set(i, key, /** @type {HTMLInputElement} */ (e.target).value),
    }));
    const select = (/** @type {string} */ key, /** @type {string[]} */ options) => h("select", {
      disabled: !editable, "data-cast-field": key,
      onchange: (/** @type {Event} */ e) => set(i, key, /** @type {HTMLSelectElement} */ (e.target).value),
    }, ...options.map((o) => h("option", { value: o, selected: o === m[key] }, o)));
    const colours = h("span", { class: "cast-colours" }, ...m.colours.map((/** @type {string} */ c, /** @type {number} */ k) => h("input", {
      type: "color", value: c, disabled: !editable, "aria-label": `${m.name}: colour ${k + 1}`, "data-cast-colour": String(k),
      onchange: (/** @type {Event} */ e) => set(i, "colours", members[i].colours.map((/** @type {string} */ old, /** @type {number} */ j) =>
        (j === k ? /** @type {HTMLInputElement} */ (e.target).value : old))),
    })));
    return h("li", { class: "cast-member card", "data-member": m.id },
      h("div", { class: "cast-ref-box" },
        url ? h("img", { src: api.fileUrl(url), alt: `Reference picture of ${m.name}`, class: "cast-ref", loading: "lazy" })
          : h("div", { class: "cast-ref muted small" }, "drawn with the pictures"),
        referenceControls(m)),
      h("div", { class: "cast-fields" },
        field("Name", text("name", 80)), field("Description", text("description", 400)),
        field("Clothing", text("clothing", 200)), field("Silhouette", select("silhouette", loaded.silhouettes)),
        field("Appears", select("appears", ["always", "named"])), field("Colours", colours),
        h("p", { class: "muted small", "data-cast-origin": m.reference?.origin || "" },
          m.reference ? (m.reference.origin === "upload" ? "reference: your picture" : "reference: drawn") : "no reference yet")));
  }

  function draw() {
    if (!loaded) { replace(host); return; }
    save.disabled = !canEdit() || !dirty;
    replace(host, h("section", { class: "cast-panel card", "aria-labelledby": "cast-title" },
      h("h3", { id: "cast-title" }, "Cast"),
      h("p", { class: "muted small" }, "Who the video follows: the same look in every scene."),
      h("ol", { class: "cast-members" }, ...members.map(memberCard)), save));
  }

  return { reload };
}
