// @ts-check
/** Transient messages in a polite live region (errors stay until dismissed). */
import { $, SEL, h } from "../dom.js";

/**
 * Show a message.
 * @param {string} message
 * @param {{kind?: "info"|"error"|"ok", timeoutMs?: number}} [opts]
 */
export function toast(message, { kind = "info", timeoutMs = kind === "error" ? 9000 : 4000 } = {}) {
  const region = $(SEL.toasts);
  const close = h("button", { class: "toast-close", type: "button", "aria-label": "Dismiss", onclick: () => item.remove() }, "×");
  const item = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, h("span", null, message), close);
  region.appendChild(item);
  if (timeoutMs > 0) setTimeout(() => item.remove(), timeoutMs);
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
