// @ts-check
/**
 * The choice after a 412 (someone changed what you were editing since you loaded it, e.g. in another tab):
 * reload theirs (drop my changes) or overwrite with mine (send my edit again on their version).
 * One component for every edited thing: the lyrics panel and the scene editor.
 */
import { h, replace } from "../dom.js";

/**
 * Fill `host` with the question and its two buttons, show it and focus the first button.
 * The buttons carry `[attr]="reload-theirs"` and `[attr]="overwrite"`.
 * @param {HTMLElement} host
 * @param {{message: string, onReload: () => void, onOverwrite: () => void, attr?: string, actionsClass?: string}} opts
 */
export function showConflict(host, { message, onReload, onOverwrite, attr = "data-conflict", actionsClass = "conflict-actions" }) {
  replace(host,
    h("p", null, message),
    h("div", { class: actionsClass },
      h("button", { type: "button", class: "btn", [attr]: "reload-theirs", onclick: () => { host.hidden = true; onReload(); } },
        "Reload theirs (drop my changes)"),
      h("button", { type: "button", class: "btn btn-danger", [attr]: "overwrite", onclick: () => { host.hidden = true; onOverwrite(); } },
        "Overwrite with mine")));
  host.hidden = false;
  /** @type {HTMLElement|null} */ (host.querySelector("button"))?.focus();
}
