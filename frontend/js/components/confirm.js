// @ts-check
/** A modal yes/no question built on <dialog> (keyboard: Esc cancels, focus starts on Cancel). */
import { h } from "../dom.js";

/**
 * @param {{title: string, body: string, confirm: string, danger?: boolean}} opts
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, body, confirm, danger = false }) {
  return new Promise((resolve) => {
    const cancelBtn = h("button", { type: "button", class: "btn", value: "cancel", onclick: () => dialog.close("cancel") }, "Cancel");
    const okBtn = h("button", { type: "button", class: `btn ${danger ? "btn-danger" : "btn-primary"}`, "data-confirm": "yes", onclick: () => dialog.close("ok") }, confirm);
    const dialog = /** @type {HTMLDialogElement} */ (h("dialog", { class: "modal modal-small", "aria-labelledby": "confirm-title" },
      h("h2", { id: "confirm-title" }, title),
      h("p", null, body),
      h("div", { class: "modal-actions" }, cancelBtn, okBtn)));
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancelBtn.focus();
  });
}
