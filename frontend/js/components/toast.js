// @ts-check
/**
 * Transient messages in a polite live region (errors stay until dismissed).
 *
 * A modal <dialog> makes the rest of the page inert and covers it with its
 * backdrop (a popover shown above it is inert too), so while one is open the
 * region moves into the topmost modal dialog (it is `position: fixed`, so it
 * stays in the corner of the window) and goes back to <body> when it closes.
 */
import { $, SEL, h } from "../dom.js";

/** @type {HTMLElement|null} the region, remembered: it may sit inside a dialog */
let region = null;

/** The open modal dialog drawn on top (the last one in the page), or null. */
export function topModal() {
  const modals = Array.from(document.querySelectorAll("dialog")).filter((d) => d.open && d.matches(":modal"));
  return modals.length ? /** @type {HTMLDialogElement} */ (modals[modals.length - 1]) : null;
}

/** The toast region, moved to where it can be seen: the top modal dialog, else <body>. */
export function toastRegion() {
  region = region || $(SEL.toasts);
  const modal = topModal();
  const home = modal || document.body;
  if (region.parentElement !== home) {
    home.appendChild(region);
    if (modal) modal.addEventListener("close", () => toastRegion(), { once: true });
  }
  return region;
}

/**
 * Show a message.
 * @param {string} message
 * @param {{kind?: "info"|"error"|"ok", timeoutMs?: number}} [opts]
 */
export function toast(message, { kind = "info", timeoutMs = kind === "error" ? 9000 : 4000 } = {}) {
  const close = h("button", { class: "toast-close", type: "button", "aria-label": "Dismiss", onclick: () => item.remove() }, "×");
  const item = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, h("span", null, sentence(message)), close);
  toastRegion().appendChild(item);
  if (timeoutMs > 0) setTimeout(() => item.remove(), timeoutMs);
}

/** A message as a sentence: the server's errors start in lower case ("cannot render…"). @param {string} message */
export function sentence(message) {
  const text = String(message ?? "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Run an async action, reporting its error as a toast; returns its result or undefined.
 * @template T
 * @param {() => Promise<T>} fn
 * @returns {Promise<T|undefined>}
 */
export async function guarded(fn) {
  try {
    return await fn();
  } catch (err) {
    toast(err instanceof Error ? err.message : String(err), { kind: "error" });
    return undefined;
  }
}
