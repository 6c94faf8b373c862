"""Pure builders of ffmpeg argument lists: scene segment, transition segment, audio, concat + mux.

Nothing here runs ffmpeg or touches files; the runner in ``render.py`` does.

Camera motion uses the ``perspective`` filter with per-frame expressions: the
four corners of a sub-pixel crop window of the picture are sent to the
output's corners with bilinear interpolation, so a slow zoom or pan has no
integer-rounding jitter (the naive ``zoompan`` rounds the window to whole
pixels and visibly shakes).

Each picture is decoded, cover-scaled and converted to yuv420p **once per
render** into a raw "still" (:func:`still_args`); every segment that shows it
reads those raw bytes (no PNG decode, no scaling) and repeats the frame with
the ``loop`` filter, so the warp and the crossfade work on planar 4:2:0
(1.5 bytes per pixel) instead of RGB.
"""
from __future__ import annotations

from pathlib import Path

from engine.render.timeline import (
    PULSE_AMOUNT,
    PULSE_ATTACK_FRAMES,
    RenderSpec,
    Segment,
    TimedClip,
    Timeline,
)

_COMMON = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1"]


def _num(x: float) -> str:
    """A number for an ffmpeg expression: compact, exact enough, never in exponent form."""
    text = f"{x:.10f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def escape_option_value(value: str) -> str:
    """Escape a value for a filter option (level 1) and then for the filter graph (level 2)."""
    level1 = "".join("\\" + ch if ch in "\\':" else ch for ch in value)
    return "".join("\\" + ch if ch in "\\'[],;" else ch for ch in level1)


def _graph_expr(expr: str) -> str:
    """An expression inside a graph: commas are filter separators there, so escape them."""
    return expr.replace(",", "\\,")


def motion_exprs(tc: TimedClip, *, abs_start_frame: int, fps: int) -> dict[str, str]:
    """Perspective corner expressions (``x0``..``y3``) of a clip's camera window, per output frame ``in``.

    ``abs_start_frame`` is the absolute frame of the segment's first frame, so a move
    that continues across segments keeps its path (it is a function of the absolute frame).
    """
    m = tc.motion
    span = max(1, tc.visible_end_frame - tc.visible_start_frame - 1)
    frame = f"(in+{abs_start_frame})"
    t = f"clip(({frame}-{tc.visible_start_frame})/{span},0,1)"
    e = f"(0.5*{t}+0.5*{t}*{t}*(3-2*{t}))"
    pulse_terms = []
    attack = PULSE_ATTACK_FRAMES * fps / 30.0
    for b in tc.pulse_beat_frames:
        x = f"(({frame}-{b})/{_num(attack)})"
        pulse_terms.append(f"gte({frame},{b})*lt({x},12)*{x}*exp(1-{x})")
    pulse = f"(1+{_num(PULSE_AMOUNT)}*({'+'.join(pulse_terms)}))" if pulse_terms else "1"
    z = f"(({_num(m.zoom_from)}+{_num(m.zoom_to - m.zoom_from)}*{e})*{pulse})"
    cx = f"({_num(m.cx_from)}+{_num(m.cx_to - m.cx_from)}*{e})" if m.cx_to != m.cx_from else _num(m.cx_from)
    cy = f"({_num(m.cy_from)}+{_num(m.cy_to - m.cy_from)}*{e})" if m.cy_to != m.cy_from else _num(m.cy_from)
    left, right = f"W*({cx}-0.5/{z})", f"W*({cx}+0.5/{z})"
    top, bottom = f"H*({cy}-0.5/{z})", f"H*({cy}+0.5/{z})"
    return {"x0": left, "y0": top, "x1": right, "y1": top, "x2": left, "y2": bottom, "x3": right, "y3": bottom}


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


def still_input_args(path: Path, *, spec: RenderSpec) -> list[str]:
    """A raw still written by :func:`still_args` as an input (read once, never scaled again)."""
    return ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{spec.width}x{spec.height}",
            "-framerate", str(spec.fps), "-i", str(path)]


def clip_chain(tc: TimedClip, *, spec: RenderSpec, input_label: str, out_label: str,
               abs_start_frame: int, dur_frames: int) -> str:
    """Filter chain: raw still -> repeated ``dur_frames`` times -> moving camera (planar yuv420p throughout)."""
    fps = spec.fps
    exprs = motion_exprs(tc, abs_start_frame=abs_start_frame, fps=fps)
    persp = ":".join(f"{k}={_graph_expr(v)}" for k, v in exprs.items())
    return (f"[{input_label}]setsar=1,"
            f"loop=loop={dur_frames - 1}:size=1:start=0,setpts=N/({fps}*TB),"
            f"perspective={persp}:interpolation=linear:sense=source:eval=frame[{out_label}]")


def _edges_and_subs(seg: Segment, *, timeline: Timeline, ass_path: Path | None, fonts_dir: Path | None) -> str:
    """Fade in/out at the very start/end of the video, then the burned-in subtitles; '' when none apply."""
    spec = timeline.spec
    filters: list[str] = []
    fade = int(round(spec.fade_edges_ms * spec.fps / 1000))
    if fade > 0 and seg.start_frame == 0:
        filters.append(f"fade=t=in:start_frame=0:nb_frames={min(fade, seg.dur_frames)}")
    if fade > 0 and seg.end_frame == timeline.total_frames:
        n = min(fade, seg.dur_frames)
        filters.append(f"fade=t=out:start_frame={seg.dur_frames - n}:nb_frames={n}")
    if ass_path is not None:
        opts = f"filename={escape_option_value(str(ass_path))}"
        if fonts_dir is not None:
            opts += f":fontsdir={escape_option_value(str(fonts_dir))}"
        filters.append(f"setpts=(N+{seg.start_frame})/({spec.fps}*TB),ass={opts},setpts=N/({spec.fps}*TB)")
    return ",".join(filters)


def segment_graph(seg: Segment, *, timeline: Timeline, ass_path: Path | None = None,
                  fonts_dir: Path | None = None) -> str:
    """The filter graph of one segment (scene body or transition), ending in ``[vout]``."""
    spec = timeline.spec
    parts: list[str] = []
    labels: list[str] = []
    for k, idx in enumerate(seg.clip_indexes):
        tc = timeline.clips[idx]
        label = f"c{k}"
        parts.append(clip_chain(tc, spec=spec, input_label=f"{k}:v", out_label=label,
                                abs_start_frame=seg.start_frame, dur_frames=seg.dur_frames))
        labels.append(label)
    if seg.kind == "transition":
        dur_s = seg.dur_frames / spec.fps
        parts.append(f"[c0][c1]xfade=transition={seg.transition}:duration={_num(dur_s)}:offset=0[mix]")
        last = "mix"
    else:
        last = labels[0]
    tail = _edges_and_subs(seg, timeline=timeline, ass_path=ass_path, fonts_dir=fonts_dir)
    parts.append(f"[{last}]{tail + ',' if tail else ''}null[vout]")
    return ";".join(parts)


def video_encoder_args(spec: RenderSpec) -> list[str]:
    """Identical H.264 settings for every segment, so the concat demuxer can join them without re-encoding."""
    return ["-c:v", "libx264", "-preset", spec.preset, "-crf", str(spec.crf), "-pix_fmt", "yuv420p",
            "-profile:v", "high", "-fps_mode", "cfr", "-r", str(spec.fps),
            "-video_track_timescale", str(spec.fps * 1000), "-an", "-map_metadata", "-1"]


def image_input_args(path: Path, *, fps: int) -> list[str]:
    """One still picture as an input (read once; ``%`` in names is not a pattern)."""
    return ["-f", "image2", "-pattern_type", "none", "-framerate", str(fps), "-i", str(path)]


def segment_args(seg: Segment, *, timeline: Timeline, still_paths: list[Path], out_path: Path,
                 ass_path: Path | None = None, fonts_dir: Path | None = None) -> list[str]:
    """ffmpeg arguments (without the binary) that encode one segment to ``out_path`` (MP4, video only).

    ``still_paths`` are the raw stills (:func:`still_args`) of ``seg.clip_indexes``, in that order.
    """
    if len(still_paths) != len(seg.clip_indexes):
        raise ValueError(f"{seg.name}: {len(seg.clip_indexes)} clips but {len(still_paths)} stills")
    args = list(_COMMON)
    for path in still_paths:
        args += still_input_args(path, spec=timeline.spec)
    args += ["-filter_complex", segment_graph(seg, timeline=timeline, ass_path=ass_path, fonts_dir=fonts_dir),
             "-map", "[vout]", "-frames:v", str(seg.dur_frames)]
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
    """Join the segments without re-encoding, add the AAC audio, and put the index first (``+faststart``)."""
    return list(_COMMON) + [
        "-f", "concat", "-safe", "0", "-i", str(list_path),
        "-i", str(audio_m4a),
        "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
        "-movflags", "+faststart", "-map_metadata", "-1", "-f", "mp4", str(out_path),
    ]
