// @ts-check
/**
 * What each machine trigger means to a person, and how the UI performs it.
 * `kind`: "run" starts a worker towards `target`; "render"/"resume" call those
 * endpoints; "goto" sends the user to the screen where that edit is made.
 */

/** @typedef {{label:string, hint:string, kind:"run"|"render"|"resume"|"goto", target?:string, tab?:string, primary?:boolean}} ActionInfo */

/** @type {Record<string, ActionInfo>} */
export const ACTIONS = {
  analyze: { label: "Analyse audio", hint: "tempo, beats, sections, lyrics", kind: "run", target: "ANALYZED" },
  segment: { label: "Build storyboard", hint: "split the song into scenes", kind: "run", target: "SEGMENTED" },
  prompt: { label: "Write prompts", hint: "one image prompt per scene", kind: "run", target: "PROMPTED" },
  draw: { label: "Draw pictures", hint: "one picture per scene", kind: "run", target: "IMAGED" },
  render: { label: "Render video", hint: "MP4 with motion, subtitles and audio", kind: "render" },
  recover: { label: "Resume", hint: "continue from where it failed", kind: "resume", primary: true },
  upload: { label: "Replace track", hint: "upload another song or lyrics", kind: "goto", tab: "setup" },
  edit_intent: { label: "Edit scenes", hint: "intent, prompt, versions", kind: "goto", tab: "storyboard" },
  edit_prompt: { label: "Edit prompts", hint: "change a scene's image prompt", kind: "goto", tab: "storyboard" },
  regenerate: { label: "Regenerate a picture", hint: "new version of one scene", kind: "goto", tab: "storyboard" },
  restore: { label: "Restore a version", hint: "bring back an earlier picture", kind: "goto", tab: "storyboard" },
  edit_lyrics: { label: "Edit lyrics", hint: "fix a line's text or timing", kind: "goto", tab: "storyboard" },
  change_style: { label: "Change settings", hint: "style, aspect, subtitles", kind: "goto", tab: "setup" },
  change_frame: { label: "Change settings", hint: "aspect, quality, subtitles", kind: "goto", tab: "setup" },
  change_output: { label: "Change settings", hint: "subtitles (re-render only)", kind: "goto", tab: "setup" },
  edit_cuts: { label: "Move cuts", hint: "drag a cut, split or merge scenes", kind: "goto", tab: "storyboard" },
  lock_scene: { label: "Lock a scene", hint: "keep its picture through changes", kind: "goto", tab: "storyboard" },
  unlock_scene: { label: "Unlock a scene", hint: "let it follow the style again", kind: "goto", tab: "storyboard" },
  upload_picture: { label: "Use your own picture", hint: "upload a picture for a scene", kind: "goto", tab: "storyboard" },
};

/** "upload" while there is no track yet: nothing to replace. @type {ActionInfo} */
export const FIRST_UPLOAD = { label: "Upload a song", hint: "choose the track (and lyrics)", kind: "goto", tab: "setup", primary: true };

/** Triggers the machine uses internally; never offered as buttons. Filled from the machine spec's `internal`
 * (engine.machine.INTERNAL_TRIGGERS) by `useMachine` at start-up. */
export const HIDDEN = new Set();

/** Take the internal triggers from the machine spec (GET /machine). @param {{internal?: string[]}} spec */
export function useMachine(spec) {
  HIDDEN.clear();
  for (const t of spec.internal || []) HIDDEN.add(t);
}

/**
 * Group allowed triggers into the buttons to show, de-duplicating "goto" tabs.
 * Pure: used by the action bar and by tests of the UI logic.
 * @param {string} state
 * @param {string[]} allowed
 * @param {{hasTrack?: boolean}} [opts] no track yet: "upload" reads "Upload a song", not "Replace track"
 * @returns {{trigger:string, info:ActionInfo}[]}
 */
export function actionsFor(state, allowed, { hasTrack = true } = {}) {
  /** @type {{trigger:string, info:ActionInfo}[]} */
  const out = [];
  const tabs = new Set();
  for (const trigger of allowed) {
    if (HIDDEN.has(trigger)) continue;
    const known = trigger === "upload" && !hasTrack ? FIRST_UPLOAD : ACTIONS[trigger];
    const info = known || { label: trigger, hint: "", kind: "goto", tab: "pipeline" };
    if (info.kind === "goto") {
      if (tabs.has(info.tab)) continue;
      tabs.add(info.tab);
    }
    out.push({ trigger, info });
  }
  return out;
}
