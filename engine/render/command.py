"""Pure builders of ffmpeg argument lists: raw still, scene chunk, transition chunk, audio, concat + mux.

Nothing here runs ffmpeg or touches files; the runner in ``render.py`` does.

Each picture is decoded, cover-scaled and converted to yuv420p **once per
render** into a raw "still" (:func:`still_args`).  The moving camera is drawn
in Python (:mod:`engine.render.warp`, sub-pixel bilinear, so a slow zoom or pan
has no whole-pixel jitter), transitions too (:mod:`engine.render.crossfades`),
and piped in as ``rawvideo`` yuv420p with the lyrics already burned in (:mod:`engine.render.burn`);
a chunk's graph only fades the very ends, then encodes, all in planar 4:2:0.
"""
from __future__ import annotations

from pathlib import Path

from engine.render.timeline import RenderSpec, Chunk, Timeline

_COMMON = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1"]


def _num(x: float) -> str:
    """A number for an ffmpeg option: compact, exact enough, never in exponent form."""
    text = f"{x:.10f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def escape_option_value(value: str) -> str:
    """Escape a value for a filter option (level 1) and then for the filter graph (level 2)."""
    level1 = "".join("\\" + ch if ch in "\\':" else ch for ch in value)
    return "".join("\\" + ch if ch in "\\'[],;" else ch for ch in level1)


def still_filters(spec: RenderSpec) -> str:
    """Filters that turn a picture into a raw still: cover-scale to the output size, centre-crop, yuv420p."""
    w, h = spec.width, spec.height
    flags = "bilinear" if spec.preview else "lanczos"
    return (f"scale=w={w}:h={h}:force_original_aspect_ratio=increase:flags={flags},"
            f"crop={w}:{h},setsar=1,format=yuv420p")


def still_args(image_path: Path, *, spec: RenderSpec, out_path: Path) -> list[str]:
    """ffmpeg arguments that write one picture as a raw yuv420p frame of the output size (done once per render)."""
    return [*_COMMON, *image_input_args(image_path, fps=spec.fps), "-vf", still_filters(spec),
            "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "yuv420p", str(out_path)]


def raw_input_args(url: str, *, spec: RenderSpec) -> list[str]:
    """A raw yuv420p video of the output size and rate as an input: a still file or a ``pipe:N`` of frames."""
    return ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{spec.width}x{spec.height}",
            "-framerate", str(spec.fps), "-i", url]


def _edges(chunk: Chunk, *, timeline: Timeline) -> str:
    """Fade in/out at the very start/end of the video; '' when neither applies."""
    spec = timeline.spec
    filters: list[str] = []
    fade = int(round(spec.fade_edges_ms * spec.fps / 1000))
    if fade > 0 and chunk.start_frame == 0:
        filters.append(f"fade=t=in:start_frame=0:nb_frames={min(fade, chunk.dur_frames)}")
    if fade > 0 and chunk.end_frame == timeline.total_frames:
        n = min(fade, chunk.dur_frames)
        filters.append(f"fade=t=out:start_frame={chunk.dur_frames - n}:nb_frames={n}")
    return ",".join(filters)


def chunk_graph(chunk: Chunk, *, timeline: Timeline) -> str:
    """The filter graph of one chunk, ending in ``[vout]``: the frames (transitions, lyrics) come ready-made."""
    tail = _edges(chunk, timeline=timeline)
    return f"[0:v]setsar=1,{tail + ',' if tail else ''}null[vout]"


def video_encoder_args(spec: RenderSpec) -> list[str]:
    """Identical H.264 settings for every chunk, so the concat demuxer can join them without re-encoding."""
    params = ["-x264-params", spec.x264_params] if spec.x264_params else []
    return ["-c:v", "libx264", "-preset", spec.preset, "-crf", str(spec.crf), *params,
            "-threads", str(spec.x264_threads), "-pix_fmt", "yuv420p",
            "-profile:v", "high", "-fps_mode", "cfr", "-r", str(spec.fps),
            "-video_track_timescale", str(spec.fps * 1000), "-an", "-map_metadata", "-1"]


def image_input_args(path: Path, *, fps: int) -> list[str]:
    """One still picture as an input (read once; ``%`` in names is not a pattern)."""
    return ["-f", "image2", "-pattern_type", "none", "-framerate", str(fps), "-i", str(path)]


def chunk_args(chunk: Chunk, *, timeline: Timeline, input_url: str, out_path: Path) -> list[str]:
    """ffmpeg arguments (without the binary) that encode one chunk to ``out_path`` (MP4, video only).

    ``input_url`` names the raw yuv420p frame stream (e.g. ``pipe:5``) of the chunk's
    ``chunk.dur_frames`` frames, its transition already blended in (:func:`engine.render.warp.chunk_frames`).
    """
    args = list(_COMMON) + raw_input_args(input_url, spec=timeline.spec)
    args += ["-filter_complex", chunk_graph(chunk, timeline=timeline),
             "-map", "[vout]", "-frames:v", str(chunk.dur_frames)]
    args += video_encoder_args(timeline.spec)
    args += ["-f", "mp4", str(out_path)]
    return args


def audio_args(audio_path: Path, *, out_path: Path, bitrate_k: int = 192, duration_ms: int | None = None) -> list[str]:
    """ffmpeg arguments that encode the song to AAC in an MP4 (M4A) container."""
    args = list(_COMMON) + ["-i", str(audio_path), "-vn", "-map", "0:a:0", "-c:a", "aac", "-b:a", f"{bitrate_k}k"]
    if duration_ms is not None:
        args += ["-t", _num(duration_ms / 1000)]
    return args + ["-map_metadata", "-1", "-f", "mp4", str(out_path)]


def concat_list(paths: list[Path]) -> str:
    """The text of a concat-demuxer list file naming ``paths`` in order."""
    lines = []
    for p in paths:
        quoted = str(Path(p).resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    return "\n".join(lines) + "\n"


def mux_args(*, list_path: Path, audio_m4a: Path, out_path: Path) -> list[str]:
    """Join the chunks without re-encoding, add the AAC audio, and put the index first (``+faststart``)."""
    return list(_COMMON) + [
        "-f", "concat", "-safe", "0", "-i", str(list_path),
        "-i", str(audio_m4a),
        "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
        "-movflags", "+faststart", "-map_metadata", "-1", "-f", "mp4", str(out_path),
    ]
