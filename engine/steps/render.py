"""Step 5, render: the latest picture of every scene + the track -> renders/final_vN.mp4.

The render's fingerprint covers every input (pictures by content hash, scene
times, subtitles, settings); if the newest render of the same kind has the
same fingerprint nothing is done. Per-scene chunks (the encoded pieces of the video) are cached by
fingerprint in renders/cache/, so a re-render after one edit re-encodes only
the scenes it touches.
"""
from __future__ import annotations

import logging

from engine.config import get_settings
from engine.errors import RenderError
from engine.fingerprint import fingerprint
from engine.models import RenderRecord
from engine.render.render import render_video
from engine.render.timeline import Clip, RenderSpec, SubtitleLine, Timeline, build_timeline, render_spec
from engine.steps import encode_ahead
from engine.steps.common import StepContext

log = logging.getLogger(__name__)

STEP_VERSION = "1"


def build_inputs(ctx: StepContext, *, missing_ok: bool = False) -> tuple[list[Clip], list[SubtitleLine], RenderSpec, int]:
    """Clips (latest picture per scene), subtitle lines, the render spec and the duration.

    ``missing_ok``: a scene without a picture (yet) gets a clip with no picture (empty sha256), not an error;
    encoding ahead (:mod:`engine.steps.encode_ahead`) plans the timeline before every picture is drawn.
    """
    analysis = ctx.require_analysis()
    segments = ctx.require_segments()
    prompts = ctx.require_prompts()
    by_id = {sp.id: sp for sp in prompts.scenes}
    clips = []
    for scene in segments.scenes:
        record = by_id[scene.id].latest.image if scene.id in by_id else None
        path = ctx.folder.resolve(record.file) if record is not None and record.file is not None else None
        if path is None or not path.is_file():
            if not missing_ok:
                raise RenderError(f"{scene.id} has no picture yet: run the draw step first" if path is None
                                  else f"{scene.id}: picture {record.file if record else ''} is missing")
            record, path = None, ctx.folder.images_dir
        beats = tuple(b - scene.start_ms for b in analysis.beats_ms if scene.start_ms <= b < scene.end_ms)
        clips.append(
            Clip(
                scene_id=scene.id, image_path=path, image_sha256=record.sha256 if record is not None else "",
                start_ms=scene.start_ms, end_ms=scene.end_ms, mood=scene.mood, energy=scene.energy, beats_ms=beats,
            )
        )
    s = ctx.project.settings
    subtitles = [
        SubtitleLine(text=line.text, start_ms=line.start_ms, end_ms=line.end_ms,
                     words=tuple((w.text, w.start_ms, w.end_ms) for w in line.words))
        for line in analysis.lyrics
    ]
    spec = render_spec(
        aspect=s.aspect, resolution=s.resolution, fps=s.fps, preview=ctx.preview, subtitles=s.subtitles, beat_pulse=s.beat_pulse,
        subtitle_size=s.subtitle_size, subtitle_position=s.subtitle_position, encode_speed=s.encode_speed,
    )
    return clips, subtitles, spec, analysis.duration_ms


def plan_timeline(ctx: StepContext, clips: list[Clip], *, spec: RenderSpec, duration_ms: int) -> Timeline:
    """The project's timeline for these clips (motions and transitions seeded by the project's seed)."""
    return build_timeline(clips, duration_ms=duration_ms, spec=spec, seed=ctx.project.settings.seed)


def run(ctx: StepContext) -> bool:
    """Render unless the newest render of this kind is already up to date; True if a file was made."""
    clips, subtitles, spec, duration_ms = build_inputs(ctx)
    project = ctx.project
    src = project.source
    want = fingerprint(
        "render", STEP_VERSION, [(c.scene_id, c.image_sha256, c.start_ms, c.end_ms, c.mood, c.energy) for c in clips],
        subtitles if spec.subtitles else [], repr(spec), src.sha256 if src else "", project.settings.seed,
    )
    same_kind = [r for r in project.renders if r.preview == ctx.preview]
    if same_kind and same_kind[-1].fingerprint == want and ctx.folder.resolve(same_kind[-1].file).is_file():
        return False
    version = max((r.version for r in project.renders), default=0) + 1
    name = f"{'preview' if ctx.preview else 'final'}_v{version}.mp4"
    out = ctx.folder.renders_dir / name
    timeline = plan_timeline(ctx, clips, spec=spec, duration_ms=duration_ms)
    total_ms = duration_ms

    def on_progress(fraction: float, eta_s: float | None) -> None:
        ctx.progress(int(fraction * total_ms), total_ms, f"encoding {name}" + (f", {eta_s:.0f}s left" if eta_s else ""))

    result = render_video(
        timeline,
        audio_path=ctx.folder.track_wav,
        subtitles=subtitles if spec.subtitles else [],
        out_path=out,
        cache_dir=ctx.folder.render_cache_dir,
        progress=on_progress,
        should_stop=ctx.io.should_stop,
        workers=get_settings().render_workers,
        in_flight=encode_ahead.in_flight(),  # chunks the draw step is still encoding ahead in this process
    )
    project.renders.append(
        RenderRecord(
            version=version, file=ctx.folder.rel(out), fingerprint=want, preview=ctx.preview,
            width=result.width, height=result.height, duration_ms=result.duration_ms,
            srt_file=ctx.folder.rel(result.srt_path) if result.srt_path else None,
            lrc_file=ctx.folder.rel(result.lrc_path) if result.lrc_path else None,
        )
    )
    ctx.folder.save_project(project)
    log.info("rendered %s (%d chunks reused, %d encoded)", name, result.chunks_reused, result.chunks_encoded)
    return True
