// @ts-check
/** Screen 5: render progress with ETA, the video player, downloads, preview vs final. */
import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { ago, clock } from "../format.js";
import { renderJobProgress } from "./jobProgress.js";
import { guarded, toast } from "./toast.js";

/** @typedef {import("../types.js").ProjectPublic} ProjectPublic */
/** @typedef {import("../types.js").Render} Render */
/** @typedef {import("../types.js").Job} Job */

/**
 * The job to show on the video screen: the render job, or the Generate (pipeline) job when that
 * one is making the video (it heads for RENDERED and is running, or started after the last render).
 * Pure: used by the panel and by tests.
 * @param {Job|null|undefined} pipeline
 * @param {Job|null|undefined} render
 * @returns {{job: Job|null|undefined, title: string}}
 */
export function videoJob(pipeline, render) {
  const live = (/** @type {Job|null|undefined} */ j) => Boolean(j && (j.status === "running" || j.status === "queued"));
  const started = (/** @type {Job|null|undefined} */ j) => Date.parse(j?.started_at || "") || 0;
  const makesVideo = Boolean(pipeline && pipeline.status !== "idle" && pipeline.target === "RENDERED");
  const usePipeline = makesVideo && !live(render) && (live(pipeline) || !render || render.status === "idle" || started(pipeline) > started(render));
  return usePipeline ? { job: pipeline, title: "Generate job" } : { job: render, title: "Render job" };
}

/**
 * Mount the video screen. Returns `update(project)` and `job(job)` (pipeline or render) for live changes.
 * @param {HTMLElement} host
 * @param {ProjectPublic} project
 */
export function mountRenderPanel(host, project) {
  let current = project;
  /** @type {number|null} */ let shownVersion = null;
  /** @type {number} the newest render seen: only a newer one takes over the player */ let newestSeen = 0;
  /** @type {Job|null} */ let pipelineJob = project.jobs?.pipeline || null;
  /** @type {Job|null} */ let renderJob = project.jobs?.render || null;
  const progress = h("div", { class: "job card", "aria-live": "polite" });
  const player = h("div", { class: "player-host" });
  const list = h("ul", { class: "render-list", "aria-label": "Renders" });
  const previewBtn = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn", "data-action": "render-preview", onclick: () => start(true) }, "Preview render", h("span", { class: "btn-hint" }, "fast, lower resolution")));
  const finalBtn = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn btn-primary", "data-action": "render-final", onclick: () => start(false) }, "Final render", h("span", { class: "btn-hint" }, "full quality MP4")));
  const why = h("p", { class: "muted small" });

  replace(host, h("section", { class: "screen video-screen", "aria-labelledby": "video-title" },
    h("div", { class: "screen-head" }, h("h2", { id: "video-title" }, "Video")),
    h("div", { class: "video-grid" },
      h("div", null, player),
      h("div", { class: "video-side" },
        h("div", { class: "card" }, h("h3", null, "Render"), h("div", { class: "row" }, previewBtn, finalBtn), why),
        progress,
        h("div", { class: "card" }, h("h3", null, "Downloads"), list)))));

  /** @param {boolean} preview */
  function start(preview) {
    return guarded(async () => {
      if (current.render_kind === "render") await api.render(current.id, { preview });
      else await api.run(current.id, { target: "RENDERED", preview });
      toast(preview ? "Preview render started." : "Final render started.");
      await api.refresh();
    });
  }

  /** @param {Render} r */
  function showPlayer(r) {
    shownVersion = r.version;
    const portrait = r.height > r.width;
    replace(player, h("figure", { class: `player-frame${portrait ? " portrait" : ""}` },
      h("video", {
        class: "player", controls: true, preload: "metadata", playsinline: true,
        poster: current.thumbnail_url ? api.fileUrl(current.thumbnail_url) : null, // a picture, not a black box, until it plays
        src: api.fileUrl(r.url), "aria-label": `Render v${r.version}${r.preview ? " (preview)" : ""}`,
      }),
      h("figcaption", { class: "muted small" },
        `v${r.version} · ${r.preview ? "preview" : "final"} · ${r.width}×${r.height} · ${clock(r.duration_ms)} · ${ago(r.created_at)}`)));
  }

  /** @param {ProjectPublic} p */
  function update(p) {
    current = p;
    const renders = [...(p.renders || [])].sort((a, b) => b.version - a.version);
    const canRender = !p.busy && Boolean(p.render_kind); // how a video is made from this state: the API's rule
    previewBtn.disabled = finalBtn.disabled = !canRender;
    why.textContent = p.busy ? "Working… the buttons come back when the job ends."
      : canRender ? (p.render_kind === "run" ? "Missing steps run first." : "The latest version of every scene is used.")
        : p.state === "FAILED" ? "Resume the failed run first (Pipeline tab)." : "Upload a song first.";
    const newest = renders.length ? renders[0].version : 0;
    if (!renders.length) {
      if (shownVersion !== null || !player.firstChild) replace(player, h("div", { class: "player-empty" }, h("span", { "aria-hidden": "true" }, "▶"), h("p", null, "No video yet. Generate or render to see it here.")));
      shownVersion = null;
    } else if (shownVersion === null || !renders.some((r) => r.version === shownVersion) || newest > newestSeen) {
      // the newest plays when it is new; an older one picked with ▶ stays until another render appears
      showPlayer(renders[0]);
    }
    newestSeen = newest;
    replace(list, renders.length ? renders.map((r) => h("li", { class: `render-item${r.version === shownVersion ? " current" : ""}` },
      h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => { showPlayer(r); update(current); }, "aria-label": `Play render v${r.version}` }, "▶"),
      h("span", { class: "render-name" }, `v${r.version}`, " ", h("span", { class: `badge${r.preview ? " badge-dim" : ""}` }, r.preview ? "preview" : "final")),
      h("span", { class: "muted small" }, `${r.width}×${r.height} · ${ago(r.created_at)}`),
      h("span", { class: "downloads" },
        h("a", { href: api.downloadUrl(r.url), download: "", class: "dl", "data-kind": "mp4" }, "MP4"),
        r.srt_url ? h("a", { href: api.downloadUrl(r.srt_url), download: "", class: "dl", "data-kind": "srt" }, "SRT") : null,
        r.lrc_url ? h("a", { href: api.downloadUrl(r.lrc_url), download: "", class: "dl", "data-kind": "lrc" }, "LRC") : null)))
      : h("li", { class: "muted" }, "Nothing rendered yet."));
  }

  function drawJob() {
    const { job: j, title } = videoJob(pipelineJob, renderJob);
    renderJobProgress(progress, j, { title });
  }

  /** @param {Job & {kind?: string}} j a job event (pipeline or render) */
  function job(j) {
    if (j.kind === "pipeline") pipelineJob = j;
    else renderJob = j;
    drawJob();
  }

  update(project);
  drawJob();
  return { update, job };
}
