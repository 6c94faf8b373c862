// @ts-check
/**
 * The cast panel: the recurring subjects of the video, each with its reference picture, name, description,
 * silhouette, colours, clothing and where it appears. Saving sends `If-Match` of the version loaded (the
 * machine's `edit_cast`: the next run redraws the references and the pictures that show a changed member);
 * a 412 reloads the current cast. Hidden until the prompts proposed a cast (404).
 */
import { api, ApiError } from "../api.js";
import { h, replace } from "../dom.js";
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
      url ? h("img", { src: api.fileUrl(url), alt: `Reference picture of ${m.name}`, class: "cast-ref", loading: "lazy" })
        : h("div", { class: "cast-ref muted small" }, "drawn with the pictures"),
      h("div", { class: "cast-fields" },
        field("Name", text("name", 80)), field("Description", text("description", 400)),
        field("Clothing", text("clothing", 200)), field("Silhouette", select("silhouette", loaded.silhouettes)),
        field("Appears", select("appears", ["always", "named"])), field("Colours", colours),
        h("p", { class: "muted small" }, m.reference ? `reference: ${m.reference.origin}` : "no reference yet")));
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
