// @ts-check
/**
 * Unsaved edits are never lost silently: a component registers what it holds unsaved; leaving the page
 * (reload, close, another site) gets the browser's "leave site?" question, and leaving the project inside
 * the app asks first (main.js, through `unsavedEdits`).
 */

/** @type {Map<string, () => boolean>} */
const holders = new Map();

/**
 * Register `isDirty` under a name the user understands ("lyrics"); returns the function that removes it.
 * @param {string} what
 * @param {() => boolean} isDirty
 * @returns {() => void}
 */
export function guardUnsaved(what, isDirty) {
  const key = `${what}#${holders.size}#${Math.random()}`;
  holders.set(key, isDirty);
  return () => { holders.delete(key); };
}

/** What holds unsaved edits now, e.g. ["lyrics"]. @returns {string[]} */
export function unsavedEdits() {
  return [...new Set([...holders].filter(([, dirty]) => dirty()).map(([key]) => key.split("#")[0]))];
}

window.addEventListener("beforeunload", (ev) => {
  if (!unsavedEdits().length) return;
  ev.preventDefault();
  ev.returnValue = "";  // older Chromium needs it set to show the question
});
