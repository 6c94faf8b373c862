// @ts-check
/**
 * JSDoc shapes of the API's JSON (see the REST contract). Types only.
 *
 * @typedef {{id:string, name:string, state:string, created_at:string, updated_at:string,
 *   thumbnail_url:string|null, duration_ms:number|null, status_text?:string}} ProjectSummary
 *
 * @typedef {{style:string, aspect:"16:9"|"9:16"|"1:1", resolution:number, subtitles:boolean, subtitle_size?:string, subtitle_position?:string, encode_speed?:string,
 *   quality:"fast"|"pro", provider:"local"|"gemini", fps?:number, continuity?:boolean, [k:string]: unknown}} Settings
 *
 * @typedef {{version:number, preview:boolean, url:string, srt_url:string|null, lrc_url:string|null,
 *   width:number, height:number, duration_ms:number, created_at:string}} Render
 *
 * @typedef {{name:string, status:string, done:number, total:number, attempts:number, message?:string}} StepProgress
 *
 * @typedef {{kind?:string, status:string, target?:string, step:string, steps:StepProgress[], done?:number,
 *   total?:number, fraction:number, eta_s:number|null, errors:{step:string,message:string,attempt:number,final:boolean}[],
 *   usage:{calls:number, prompt_tokens:number, output_tokens:number, images:number, est_cost_usd:number},
 *   heartbeat_at:string|null, message?:string, started_at?:string|null, finished_at?:string|null}} Job
 *
 * @typedef {{id:string, name:string, state:string, failed_from:string|null,
 *   error:{step:string, message:string, kind:string, at:string}|null, settings:Settings,
 *   source:{original_name:string, duration_ms:number, sample_rate:number, channels:number, lyrics_file:string|null}|null,
 *   allowed:string[], busy:boolean, resumable?:boolean, can_generate:boolean, render_kind:"render"|"run"|null, stands_for:string,
 *   jobs:{pipeline:Job, render:Job}, renders:Render[],
 *   history:{trigger:string, source:string, dest:string, at:string}[], created_at?:string, updated_at?:string, status_text?:string, thumbnail_url?:string|null, settings_version?:string,
 *   spend?:{total:Job["usage"], last_job:Job["usage"]}, notes?:{step:string, message:string}[]}} ProjectPublic
 *
 * @typedef {{version:number, origin:string, image_prompt:string, image_url:string|null, status:string,
 *   reason:string, created_at:string, focus?:[number, number]|null}} SceneVersion
 *
 * @typedef {{id:string, index:number, start_ms:number, end_ms:number, lyric_text:string, visual_intent:string,
 *   mood:string, energy:number, section:string, edited:boolean, version:number, image_prompt:string,
 *   negative_prompt:string, style_hints:string[], image_url:string|null,
 *   status:"ok"|"blocked"|"failed"|"pending", reason:string, fallback:boolean, versions:SceneVersion[],
 *   locked?:boolean, etag?:string, lines?:{index:number, text:string, start_ms:number, end_ms:number}[],
 *   previous_image_url?:string|null, previous_version?:number|null}} Scene
 *
 * @typedef {{id:string, label:string, description:string, palette:string[], sample_url:string}} StylePreset
 *
 * @typedef {{duration_ms:number, tempo_bpm:number, beats_ms:number[], downbeats_ms:number[], onsets_ms?:number[],
 *   sections:{label:string, start_ms:number, end_ms:number, energy:number, mood:string}[],
 *   energy:{hop_ms:number, rms:number[]}, lyrics:{text:string, start_ms:number, end_ms:number}[], language?:string}} Analysis
 *
 * @typedef {{text:string, start_ms:number, end_ms:number}} LyricWord
 * @typedef {{index?:number, text:string, start_ms:number, end_ms:number, words?:LyricWord[], source?:string, moved?:boolean,
 *   timing?:"aligned"|"estimated"|"given", confidence?:number|null}} LyricLine
 * @typedef {{version:string, duration_ms:number, state:string, estimated:number, lines:LyricLine[]}} Lyrics
 */
export {};
