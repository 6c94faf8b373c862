// @ts-check
/**
 * The only module that talks to the server.
 *
 * `Api` is an EventTarget: `watch(projectId)` re-emits the server's live
 * updates as DOM events, from Server-Sent Events when they work and from
 * polling otherwise. Every failed request throws an {@link ApiError}.
 *
 * Events (all `CustomEvent`, payload in `detail`):
 *   - `project`    ProjectPublic  (state, allowed, renders, busy changed)
 *   - `job`        Job & {kind}   (progress of the pipeline or render job)
 *   - `connection` {mode: "sse"|"polling"|"closed"}
 *   - `project-error` {id, status, detail}  (the server cannot read the project, e.g. a corrupt project.json)
 */

/** @typedef {import("./types.js").ProjectPublic} ProjectPublic */
/** @typedef {import("./types.js").ProjectSummary} ProjectSummary */
/** @typedef {import("./types.js").Job} Job */
/** @typedef {import("./types.js").Scene} Scene */
/** @typedef {import("./types.js").StylePreset} StylePreset */

/** An HTTP error from the API, with the status and FastAPI's `detail`. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 for a network failure)
   * @param {unknown} detail the `detail` field of the body, or the body text
   * @param {string} url the request URL
   */
  constructor(status, detail, url) {
    super(ApiError.describe(status, detail));
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.url = url;
  }

  /** Allowed triggers sent with a 409 for an illegal transition. @returns {string[]} */
  get allowed() {
    const d = /** @type {any} */ (this.detail);
    return d && Array.isArray(d.allowed) ? d.allowed : [];
  }

  /** Whether the project was busy with another job (409 busy). */
  get busy() {
    const d = /** @type {any} */ (this.detail);
    return Boolean(d && d.busy);
  }

  /**
   * A human sentence for a status and detail.
   * @param {number} status
   * @param {unknown} detail
   * @returns {string}
   */
  static describe(status, detail) {
    if (status === 0) return "The server cannot be reached.";
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      // pydantic validation errors
      return detail
        .map((e) => {
          const loc = Array.isArray(e.loc) ? e.loc.filter((p) => p !== "body").join(".") : "";
          return loc ? `${loc}: ${e.msg}` : String(e.msg);
        })
        .join("; ");
    }
    if (detail && typeof detail === "object" && "message" in detail) return String(/** @type {any} */ (detail).message);
    const names = /** @type {Record<number, string>} */ ({
      401: "Not authorised.", 404: "Not found.", 409: "Conflict.", 413: "The file is too large.",
      415: "That file is not audio.", 422: "Invalid input.",
    });
    return names[status] || `Request failed (${status}).`;
  }
}

/** How often the polling fallback asks for the project and its jobs. */
export const POLL_MS = 1500;
/** Job statuses after which a run does not change any more. */
const JOB_ENDED = new Set(["done", "failed", "cancelled", "interrupted"]);
const SSE_RETRY_LIMIT = 3;

export class Api extends EventTarget {
  /** @param {string} [base] URL prefix of the API ("" = same origin) */
  constructor(base = "") {
    super();
    this.base = base;
    /** @type {string|null} bearer token (when the server sets STORYBEAT_TOKEN) */
    this.token = localStorage.getItem("storybeat.token");
    /** @type {EventSource|null} */ this._source = null;
    /** @type {number|null} */ this._pollTimer = null;
    /** @type {number|null} renews the media cookie */ this._sessionTimer = null;
    /** @type {string|null} */ this._watching = null;
    this._sseFailures = 0;
    /** @type {Record<string,string>} */ this._lastJob = {};
    /** @type {Record<string,number>} started_at of each kind's last ended run */ this._endedJob = {};
    this._lastProject = "";
    this._lastProjectId = "";
    this._lastProjectAt = 0;
  }

  /**
   * Send a request; parse JSON; throw ApiError when not ok.
   * @param {string} method
   * @param {string} path
   * @param {{json?: unknown, form?: FormData, blob?: Blob, text?: string, headers?: Record<string,string>, signal?: AbortSignal}} [opts]
   * @returns {Promise<any>}
   */
  async request(method, path, opts = {}) {
    const url = this.base + path;
    /** @type {Record<string,string>} */
    const headers = { Accept: "application/json", ...(opts.headers || {}) };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    /** @type {BodyInit|undefined} */
    let body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.form) {
      body = opts.form;
    } else if (opts.blob) {
      headers["Content-Type"] = opts.blob.type;
      body = opts.blob;
    } else if (opts.text !== undefined) {
      headers["Content-Type"] = "text/plain; charset=utf-8";
      body = opts.text;
    }
    let res;
    try {
      res = await fetch(url, { method, headers, body, signal: opts.signal });
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") throw err;
      throw new ApiError(0, String(err), url);
    }
    if (res.status === 204) return null;
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    if (!res.ok) {
      const detail = data && typeof data === "object" && "detail" in data ? data.detail : data;
      throw new ApiError(res.status, detail, url);
    }
    return data;
  }

  /**
   * The URL of a file or stream for <img>/<video>/EventSource. These cannot send
   * headers, so they are authorised by the HttpOnly session cookie that
   * {@link Api#openSession} gets; the token itself never goes into a URL.
   * @param {string} url a path from the API (e.g. `/projects/x/files/images/a.png`)
   */
  fileUrl(url) {
    return url.startsWith("http") ? url : this.base + url;
  }

  /**
   * The URL of a file for a download link: the server sends it as an attachment under its name, which also holds
   * when the file comes from a bucket (another origin), where a browser ignores `<a download>`.
   * @param {string} url a path from the API
   */
  downloadUrl(url) {
    const full = this.fileUrl(url);
    return `${full}${full.includes("?") ? "&" : "?"}download=1`;
  }

  /**
   * Trade the bearer token (sent as a header) for the read-only media cookie, and renew it
   * before it expires. Call before showing pictures, videos or live events.
   * @returns {Promise<void>}
   */
  async openSession() {
    if (this._sessionTimer !== null) clearTimeout(this._sessionTimer);
    this._sessionTimer = null;
    const session = await this.request("POST", "/session");
    const seconds = session && session.expires_in;
    if (seconds > 0) {
      this._sessionTimer = window.setTimeout(() => {
        this.openSession().catch((err) => this._emit("poll-error", { error: err }));
      }, (seconds * 1000) / 2);
    }
  }

  /** Remember (or forget, with null) the bearer token. @param {string|null} token */
  setToken(token) {
    this.token = token || null;
    if (this.token) localStorage.setItem("storybeat.token", this.token);
    else localStorage.removeItem("storybeat.token");
  }

  // ------------------------------------------------------------------ reads

  /** @returns {Promise<{status:string, version:string, default_provider:string}>} */
  health() { return this.request("GET", "/health"); }

  /** @returns {Promise<any>} the machine spec plus `mermaid` */
  machine() { return this.request("GET", "/machine"); }

  /** @returns {Promise<StylePreset[]>} */
  styles() { return this.request("GET", "/styles"); }

  /** @returns {Promise<ProjectSummary[]>} */
  listProjects() { return this.request("GET", "/projects"); }

  /** @param {string} id @returns {Promise<ProjectPublic>} */
  getProject(id) { return this.request("GET", `/projects/${enc(id)}`); }

  /** @param {string} id @returns {Promise<{pipeline: Job, render: Job}>} */
  jobs(id) { return this.request("GET", `/projects/${enc(id)}/jobs`); }

  /** @param {string} id @returns {Promise<any>} analysis (404 before ANALYZED) */
  analysis(id) { return this.request("GET", `/projects/${enc(id)}/analysis`); }

  /** @param {string} id @returns {Promise<{style_bible:any, scenes: Scene[]}>} */
  segments(id) { return this.request("GET", `/projects/${enc(id)}/segments`); }

  /** @param {string} id @returns {Promise<import("./types.js").Lyrics>} the timed lines and their version (404 before ANALYZED) */
  lyrics(id) { return this.request("GET", `/projects/${enc(id)}/lyrics`); }

  /** Where the lyrics download as enhanced LRC (a plain GET: the session cookie authorises it). @param {string} id */
  lyricsLrcUrl(id) { return this.fileUrl(`/projects/${enc(id)}/lyrics.lrc`); }

  /** @param {string} id @returns {Promise<any>} the cast, its reference URLs and version (404 before the prompts) */
  cast(id) { return this.request("GET", `/projects/${enc(id)}/cast`); }

  // ----------------------------------------------------------------- writes

  /**
   * Replace the lyrics: timed lines (JSON) or an LRC / plain-text file's text. `version` is sent as
   * `If-Match`, so an edit made on stale lyrics is refused (412 with the current lines).
   * @param {string} id
   * @param {{lines?: {text:string, start_ms:number, end_ms:number, words?: import("./types.js").LyricWord[]}[], text?: string, version: string}} body
   * @returns {Promise<import("./types.js").Lyrics>}
   */
  putLyrics(id, { lines, text, version }) {
    const headers = { "If-Match": `"${version}"` };
    const path = `/projects/${enc(id)}/lyrics`;
    return text !== undefined ? this.request("PUT", path, { text, headers }) : this.request("PUT", path, { json: { lines }, headers });
  }

  /**
   * Replace the cast's members; `version` goes as `If-Match` (a stale edit is refused with 412).
   * @param {string} id @param {{members: any[], version: string}} body @returns {Promise<any>}
   */
  putCast(id, { members, version }) {
    return this.request("PUT", `/projects/${enc(id)}/cast`, { json: { members }, headers: { "If-Match": `"${version}"` } });
  }

  /**
   * Your own picture as a cast member's reference (the pictures that show it are drawn again); `version`: the cast's.
   * @param {string} id @param {string} memberId @param {Blob} file @param {string} version @returns {Promise<any>}
   */
  putCastReference(id, memberId, file, version) {
    return this.request("PUT", `/projects/${enc(id)}/cast/${enc(memberId)}/reference`, { blob: file, headers: { "If-Match": `"${version}"` } });
  }

  /** Back to a drawn reference picture. @param {string} id @param {string} memberId @param {string} version @returns {Promise<any>} */
  deleteCastReference(id, memberId, version) {
    return this.request("DELETE", `/projects/${enc(id)}/cast/${enc(memberId)}/reference`, { headers: { "If-Match": `"${version}"` } });
  }

  /**
   * @param {{name?: string, settings?: Record<string, unknown>}} body
   * @returns {Promise<ProjectPublic>}
   */
  createProject(body) { return this.request("POST", "/projects", { json: body }); }

  /** @param {string} id @param {Record<string, unknown>} settings @returns {Promise<ProjectPublic>} */
  updateSettings(id, settings, version = "") {
    return this.request("PATCH", `/projects/${enc(id)}`, { json: settings, headers: ifMatch(version) });
  }

  /** @param {string} id @returns {Promise<null>} */
  deleteProject(id) { return this.request("DELETE", `/projects/${enc(id)}`); }

  /** @param {string} id @param {string} name @returns {Promise<ProjectPublic>} */
  renameProject(id, name) { return this.request("POST", `/projects/${enc(id)}/rename`, { json: { name } }); }

  /**
   * A copy with the track, analysis, storyboard, prompts and pictures; `settings` changed on the copy.
   * @param {string} id @param {{name?: string, settings?: Record<string, unknown>}} body @returns {Promise<ProjectPublic>}
   */
  duplicateProject(id, body) { return this.request("POST", `/projects/${enc(id)}/duplicate`, { json: body }); }

  /**
   * Upload the track and optional lyrics (a file or pasted text).
   * @param {string} id
   * @param {{audio: File, lyrics?: File|null, lyricsText?: string}} files
   * @returns {Promise<ProjectPublic>}
   */
  upload(id, { audio, lyrics, lyricsText }) {
    const form = new FormData();
    form.append("audio", audio, audio.name);
    if (lyrics) form.append("lyrics", lyrics, lyrics.name);
    else if (lyricsText && lyricsText.trim()) form.append("lyrics_text", lyricsText);
    return this.request("POST", `/projects/${enc(id)}/upload`, { form });
  }

  /** @param {string} id @param {{target?: string, preview?: boolean}} [body] */
  run(id, body = {}) { return this.request("POST", `/projects/${enc(id)}/run`, { json: body }); }

  /** @param {string} id */
  resume(id) { return this.request("POST", `/projects/${enc(id)}/resume`, { json: {} }); }

  /** @param {string} id @returns {Promise<{stopped: boolean}>} */
  cancel(id) { return this.request("POST", `/projects/${enc(id)}/cancel`, { json: {} }); }

  /** @param {string} id @param {{preview?: boolean}} [body] */
  render(id, body = {}) { return this.request("POST", `/projects/${enc(id)}/render`, { json: body }); }

  /**
   * @param {string} id
   * @param {string} sceneId
   * @param {{visual_intent?: string, image_prompt?: string, negative_prompt?: string, style_hints?: string[]}} changes
   * @param {string} [etag] the scene's version the edit was made on (412 when someone changed it since)
   * @returns {Promise<Scene>}
   */
  editScene(id, sceneId, changes, etag) {
    return this.request("PATCH", `/projects/${enc(id)}/segments/${enc(sceneId)}`, { json: changes, headers: ifMatch(etag) });
  }

  /** One scene (its `etag` is the version an edit sends back). @param {string} id @param {string} sceneId @returns {Promise<Scene>} */
  scene(id, sceneId) { return this.request("GET", `/projects/${enc(id)}/segments/${enc(sceneId)}`); }

  /**
   * Move a scene's start and/or end (the neighbour follows); snapped to the beat unless `snap` is false.
   * @param {string} id @param {string} sceneId @param {{start_ms?: number, end_ms?: number, snap?: boolean}} times
   * @param {string} [etag] @returns {Promise<Scene>}
   */
  moveCut(id, sceneId, times, etag) {
    return this.request("PATCH", `/projects/${enc(id)}/segments/${enc(sceneId)}`, { json: times, headers: ifMatch(etag) });
  }

  /** @param {string} id @param {string} sceneId @param {number} atMs @param {string} [etag] @returns {Promise<{scenes: Scene[]}>} */
  split(id, sceneId, atMs, etag) {
    return this.request("POST", `/projects/${enc(id)}/segments/${enc(sceneId)}/split`, { json: { at_ms: Math.round(atMs) }, headers: ifMatch(etag) });
  }

  /** @param {string} id @param {string} sceneId @param {"next"|"prev"} side @param {string} [etag] @returns {Promise<{scenes: Scene[]}>} */
  merge(id, sceneId, side, etag) {
    return this.request("POST", `/projects/${enc(id)}/segments/${enc(sceneId)}/merge`, { json: { with: side }, headers: ifMatch(etag) });
  }

  /** @param {string} id @param {string} sceneId @param {boolean} locked @param {string} [etag] @returns {Promise<Scene>} */
  lock(id, sceneId, locked, etag) {
    return this.request("PUT", `/projects/${enc(id)}/segments/${enc(sceneId)}/lock`, { json: { locked }, headers: ifMatch(etag) });
  }

  /**
   * Your own picture as the scene's new version, cropped around the focal point (0..1 each way).
   * @param {string} id @param {string} sceneId @param {Blob} file @param {[number, number]} focus @param {string} [etag]
   * @returns {Promise<Scene>}
   */
  uploadPicture(id, sceneId, file, focus, etag) {
    const q = `?focus_x=${focus[0].toFixed(3)}&focus_y=${focus[1].toFixed(3)}`;
    return this.request("POST", `/projects/${enc(id)}/segments/${enc(sceneId)}/picture${q}`, { blob: file, headers: ifMatch(etag) });
  }

  /** Crop the uploaded picture again around a focal point. @param {string} id @param {string} sceneId @param {[number, number]} focus @param {string} [etag] @returns {Promise<Scene>} */
  setFocus(id, sceneId, focus, etag) {
    return this.request("PATCH", `/projects/${enc(id)}/segments/${enc(sceneId)}/picture`, { json: { focus_x: focus[0], focus_y: focus[1] }, headers: ifMatch(etag) });
  }

  /** @param {string} id @param {string} sceneId */
  regenerate(id, sceneId) {
    return this.request("POST", `/projects/${enc(id)}/segments/${enc(sceneId)}/regenerate`, { json: {} });
  }

  /** @param {string} id @param {string} sceneId @param {number} version @returns {Promise<Scene>} */
  restore(id, sceneId, version) {
    return this.request("POST", `/projects/${enc(id)}/segments/${enc(sceneId)}/restore`, { json: { version } });
  }

  // ------------------------------------------------------------ live updates

  /**
   * Follow one project: emit `project` and `job` events until `unwatch()`.
   * Uses SSE; after repeated SSE failures (or without EventSource) it polls.
   * @param {string} id
   */
  watch(id) {
    this.unwatch();
    this._watching = id;
    this._sseFailures = 0;
    this._lastJob = {};
    this._endedJob = {};
    this._lastProject = "";
    this._lastProjectId = "";
    this._lastProjectAt = 0;
    if (typeof EventSource === "undefined" || localStorage.getItem("storybeat.polling") === "1") {
      this._startPolling();
    } else {
      this._startSse();
    }
  }

  /** Stop following the current project. */
  unwatch() {
    if (this._source) this._source.close();
    this._source = null;
    if (this._pollTimer !== null) clearTimeout(this._pollTimer);
    this._pollTimer = null;
    if (this._watching) this._emit("connection", { mode: "closed" });
    this._watching = null;
  }

  /** Ask for fresh project + jobs now (e.g. after an action), emitting events for what changed. */
  async refresh() {
    const id = this._watching;
    if (!id) return;
    const [project, jobs] = await Promise.all([this.getProject(id), this.jobs(id)]);
    if (id !== this._watching) return;
    this._emitProject(project);
    this._emitJob({ ...jobs.pipeline, kind: "pipeline" });
    this._emitJob({ ...jobs.render, kind: "render" });
  }

  _startSse() {
    const id = /** @type {string} */ (this._watching);
    const source = new EventSource(this.fileUrl(`/projects/${enc(id)}/events`));
    this._source = source;
    source.addEventListener("open", () => {
      this._sseFailures = 0;
      this._emit("connection", { mode: "sse" });
    });
    source.addEventListener("project", (ev) => this._emitProject(JSON.parse(/** @type {MessageEvent} */ (ev).data)));
    source.addEventListener("job", (ev) => this._emitJob(JSON.parse(/** @type {MessageEvent} */ (ev).data)));
    source.addEventListener("project_error", (ev) => this._emit("project-error", JSON.parse(/** @type {MessageEvent} */ (ev).data)));
    source.addEventListener("error", () => {
      if (this._source !== source) return;
      this._sseFailures += 1;
      if (source.readyState === EventSource.CLOSED || this._sseFailures >= SSE_RETRY_LIMIT) {
        source.close();
        this._source = null;
        this._startPolling();
      }
    });
  }

  _startPolling() {
    const id = this._watching;
    this._emit("connection", { mode: "polling" });
    const tick = async () => {
      if (this._watching !== id) return;
      try {
        await this.refresh();
      } catch (err) {
        this._emit("poll-error", { error: err });
      }
      if (this._watching === id) this._pollTimer = window.setTimeout(tick, POLL_MS);
    };
    tick();
  }

  /** @param {ProjectPublic} project */
  _emitProject(project) {
    const key = JSON.stringify(project);
    if (key === this._lastProject) return;
    // an SSE event and a refresh() reply can cross: never let an older project state win
    const at = Date.parse(project.updated_at);
    if (project.id === this._lastProjectId && at < this._lastProjectAt) return;
    this._lastProject = key;
    this._lastProjectId = project.id;
    this._lastProjectAt = at;
    this._emit("project", project);
  }

  /** @param {Job & {kind: string}} job */
  _emitJob(job) {
    const key = JSON.stringify(job);
    if (this._lastJob[job.kind] === key) return;
    // a reply fetched while the run went on can arrive after its end: an ended run never comes back to
    // life (SSE sends nothing more once it has ended, so the UI would show it running for good)
    const started = Date.parse(job.started_at || "") || 0;
    const ended = this._endedJob[job.kind];
    if (ended !== undefined && !JOB_ENDED.has(job.status) && started <= ended) return;
    if (JOB_ENDED.has(job.status)) this._endedJob[job.kind] = started;
    else delete this._endedJob[job.kind];
    this._lastJob[job.kind] = key;
    this._emit("job", job);
  }

  /** @param {string} type @param {unknown} detail */
  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** @param {string} s */
function enc(s) {
  return encodeURIComponent(s);
}

/** The `If-Match` header of an edit made on version `etag` (none: the edit is applied whatever changed). @param {string} [etag] */
function ifMatch(etag) {
  return etag ? { "If-Match": `"${etag}"` } : {};
}

/** The app-wide API client. */
export const api = new Api();
