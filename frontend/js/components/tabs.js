// @ts-check
/** Accessible tabs (WAI-ARIA pattern: arrow keys, Home/End, roving tabindex). */
import { h } from "../dom.js";

/**
 * @param {{id: string, label: string}[]} items
 * @param {{label: string, onSelect: (id: string) => void}} opts
 * @returns {{list: HTMLElement, panels: Record<string, HTMLElement>, select: (id: string, focus?: boolean) => void, badge: (id: string, text: string) => void}}
 */
export function tabs(items, { label, onSelect }) {
  /** @type {Record<string, HTMLElement>} */ const panels = {};
  /** @type {Record<string, HTMLElement>} */ const buttons = {};
  const list = h("div", { role: "tablist", "aria-label": label, class: "tabs" });
  for (const item of items) {
    const btn = h("button", {
      type: "button", role: "tab", id: `tab-${item.id}`, "aria-controls": `panel-${item.id}`, "aria-selected": "false", tabindex: "-1",
      "data-tab": item.id, onclick: () => onSelect(item.id),
    }, item.label, h("span", { class: "tab-badge", "aria-hidden": "true" }));
    buttons[item.id] = btn;
    list.appendChild(btn);
    panels[item.id] = h("div", { role: "tabpanel", id: `panel-${item.id}`, "aria-labelledby": `tab-${item.id}`, tabindex: "0", hidden: true });
  }
  list.addEventListener("keydown", (ev) => {
    const ids = items.map((i) => i.id);
    const at = ids.indexOf(/** @type {HTMLElement} */ (ev.target).dataset.tab || "");
    let next = -1;
    if (ev.key === "ArrowRight") next = (at + 1) % ids.length;
    else if (ev.key === "ArrowLeft") next = (at - 1 + ids.length) % ids.length;
    else if (ev.key === "Home") next = 0;
    else if (ev.key === "End") next = ids.length - 1;
    if (next < 0) return;
    ev.preventDefault();
    onSelect(ids[next]);
    buttons[ids[next]].focus();
  });
  return {
    list,
    panels,
    select(id, focus = false) {
      for (const item of items) {
        const on = item.id === id;
        buttons[item.id].setAttribute("aria-selected", String(on));
        buttons[item.id].tabIndex = on ? 0 : -1;
        panels[item.id].hidden = !on;
      }
      reveal(list, buttons[id]);
      if (focus) buttons[id].focus();
    },
    badge(id, text) {
      const el = buttons[id]?.querySelector(".tab-badge");
      if (el) el.textContent = text;
    },
  };
}

/**
 * Scroll the tab strip sideways (only it) so the selected tab is in sight, should the tabs not fit.
 * @param {HTMLElement} list
 * @param {HTMLElement} tab
 */
function reveal(list, tab) {
  if (list.scrollWidth <= list.clientWidth) return;
  const box = list.getBoundingClientRect();
  const it = tab.getBoundingClientRect();
  if (it.left < box.left) list.scrollLeft -= box.left - it.left;
  else if (it.right > box.right) list.scrollLeft += it.right - box.right;
}
