// @ts-check
/** DOM helpers and every selector the app uses, in one place. */

/** Selectors of the static page skeleton (index.html). */
export const SEL = Object.freeze({
  main: "#main",
  toasts: "#toasts",
  connection: "#connection",
  provider: "#provider-badge",
  skipLink: ".skip-link",
  // inside components (created by them, queried by tests and by each other)
  projectRow: "[data-project-id]",
  sceneCard: "[data-scene-id]",
  stateNode: "[data-state]",
  actionButton: "[data-action]",
  tab: "[role=tab]",
  tabPanel: "[role=tabpanel]",
  video: "video.player",
});

/**
 * Find one element or throw (a missing skeleton element is a bug).
 * @template {Element} T
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {T}
 */
export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return /** @type {T} */ (el);
}

/**
 * All matches as an array.
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {HTMLElement[]}
 */
export function $$(selector, root = document) {
  return /** @type {HTMLElement[]} */ (Array.from(root.querySelectorAll(selector)));
}

/**
 * Create an element: h("button", {class: "btn", onclick: fn}, "Go").
 * Attributes starting with "on" become listeners; `false`/`null` attributes are skipped.
 * @param {string} tag
 * @param {Record<string, any>|null} [attrs]
 * @param {...(Node|string|number|null|undefined|false|(Node|string|null|undefined|false)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = String(value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      /** @type {any} */ (el)[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/**
 * An SVG element with attributes.
 * @param {string} tag
 * @param {Record<string, string|number|null|undefined>} [attrs]
 * @param {...(Node|null|undefined)} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  for (const child of children) if (child) el.appendChild(child);
  return el;
}

/**
 * @param {Element} el
 * @param {any[]} children
 */
function append(el, children) {
  for (const child of children.flat(3)) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replace an element's children.
 * @param {Element} el
 * @param {...any} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

let uid = 0;
/** A unique id for label/aria wiring. @param {string} prefix */
export function uniqueId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}
