// @ts-check
/** The style presets as a radio group of cards with a sample picture and palette. */
import { api } from "../api.js";
import { h } from "../dom.js";

/** @typedef {import("../types.js").StylePreset} StylePreset */

/**
 * Build the picker; `onChange(id)` fires when the user picks another style.
 * @param {StylePreset[]} styles
 * @param {string} current
 * @param {{disabled: boolean, onChange: (id: string) => void}} opts
 * @returns {HTMLElement}
 */
export function stylePicker(styles, current, { disabled, onChange }) {
  return h("fieldset", { class: "style-picker", disabled },
    h("legend", null, "Style"),
    h("div", { class: "style-grid" }, styles.map((s) => {
      const id = `style-${s.id}`;
      return h("div", { class: "style-option" },
        h("input", {
          type: "radio", name: "style", id, value: s.id, checked: s.id === current, class: "sr-only",
          onchange: () => onChange(s.id),
        }),
        h("label", { for: id, class: "style-card", title: s.description },
          h("img", { src: api.fileUrl(s.sample_url), alt: "", loading: "lazy", width: "160", height: "90" }),
          h("span", { class: "style-name" }, s.label),
          h("span", { class: "swatches", "aria-hidden": "true" }, s.palette.map((c) => h("i", { style: `background:${c}` }))),
          h("span", { class: "style-desc" }, s.description)));
    })));
}
