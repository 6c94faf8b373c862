// @ts-check
/** Entry point: loads the shared data once and routes between the screens by URL hash.
 *  #/              projects
 *  #/p/{id}        a project (default tab)
 *  #/p/{id}/{tab}  a project on a tab (setup | pipeline | storyboard | video)
 */
import { api, ApiError } from "./api.js";
import { $, SEL, h, replace } from "./dom.js";
import { mountProject } from "./components/projectView.js";
import { mountProjectList } from "./components/projectList.js";
import { confirmDialog } from "./components/confirm.js";
import { unsavedEdits } from "./unsaved.js";

/** @type {{machine: any, styles: any[], defaultProvider: string}} */
const shared = { machine: null, styles: [], defaultProvider: "local" };
/** @type {(() => void) & {show?: (tab: string, focus: boolean) => void, id?: string} | null} */
let mounted = null;
/** Whether a screen was shown before (the first one keeps the browser's focus: Tab reaches "Skip to content"). */
let navigated = false;
/** The hash of the screen shown now: where "Stay" goes back to when leaving with unsaved edits is refused. */
let shownHash = location.hash;

/** Parse the hash. @param {string} hash */
export function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "p" && parts[1]) return { screen: "project", id: parts[1], tab: parts[2] || null };
  return { screen: "projects", id: null, tab: null };
}

async function route() {
  const main = $(SEL.main);
  const r = parseRoute(location.hash);
  if (r.screen === "project" && mounted && mounted.id === r.id && mounted.show) {
    if (r.tab) mounted.show(r.tab, false);
    shownHash = location.hash;
    return;
  }
  if (mounted && !(await mayLeave())) {
    history.replaceState(null, "", shownHash || "#/");
    return;
  }
  shownHash = location.hash;
  if (mounted) mounted();
  mounted = null;
  main.setAttribute("aria-busy", "true");
  if (r.screen === "project" && r.id) {
    const id = r.id;
    document.title = "storybeat";
    mounted = await mountProject(main, id, r.tab, {
      ...shared,
      route: (tab) => { location.hash = `#/p/${encodeURIComponent(id)}/${tab}`; },
    });
  } else {
    document.title = "Projects · storybeat";
    await mountProjectList(main, {
      open: (id, tab) => { location.hash = `#/p/${encodeURIComponent(id)}${tab ? `/${tab}` : ""}`; },
    });
  }
  main.setAttribute("aria-busy", "false");
  if (navigated) focusHeading(main);
  navigated = true;
}

/** Leaving the open project: asks first when something on it is not saved. @returns {Promise<boolean>} */
async function mayLeave() {
  const what = unsavedEdits();
  if (!what.length) return true;
  return confirmDialog({
    title: "Leave without saving?",
    body: `Your changes to the ${what.join(" and ")} are not saved yet. They are lost if you leave this project now.`,
    confirm: "Leave without saving",
    danger: true,
  });
}

/**
 * After moving to another screen (e.g. a new project, or back to the list), keyboard focus starts at
 * its heading instead of being lost with the replaced screen.
 * @param {HTMLElement} main
 */
function focusHeading(main) {
  const heading = /** @type {HTMLElement|null} */ (main.querySelector("h1"));
  if (!heading) return;
  if (!heading.hasAttribute("tabindex")) heading.tabIndex = -1;
  heading.focus();
}

async function boot() {
  const main = $(SEL.main);
  try {
    const [machine, styles, health] = await Promise.all([api.machine(), api.styles(), api.health(), api.openSession()]);
    shared.machine = machine;
    shared.styles = styles;
    shared.defaultProvider = health.default_provider;
    const badge = $(SEL.provider);
    badge.textContent = `${health.default_provider} · v${health.version}`;
    badge.title = health.default_provider === "local" ? "Offline provider: no key, no network" : "Google Gemini provider";
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      askToken(main);
      return;
    }
    replace(main, h("section", { class: "screen" }, h("h1", null, "storybeat cannot reach its server"),
      h("p", { class: "error-text" }, /** @type {Error} */ (err).message),
      h("button", { type: "button", class: "btn", onclick: () => location.reload() }, "Try again")));
    return;
  }
  window.removeEventListener("hashchange", route);
  window.addEventListener("hashchange", route);
  await route();
}

/** The server wants a bearer token (STORYBEAT_TOKEN): ask for it once. @param {HTMLElement} main */
function askToken(main) {
  const input = /** @type {HTMLInputElement} */ (h("input", { id: "token", type: "password", autocomplete: "current-password", required: true }));
  replace(main, h("section", { class: "screen" },
    h("form", {
      class: "card token-form",
      onsubmit: (/** @type {SubmitEvent} */ ev) => { ev.preventDefault(); api.setToken(input.value.trim()); boot(); },
    },
    h("h1", null, "This storybeat server needs a token"),
    h("p", { class: "muted" }, api.token ? "The saved token was refused." : "Ask the person who runs it for the STORYBEAT_TOKEN value."),
    h("label", { for: "token" }, "Access token"), input,
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn btn-primary" }, "Continue")))));
  input.focus();
}

boot();
