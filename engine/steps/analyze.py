"""Step 1, analyze: the track (+ lyrics) -> analysis.json."""
from __future__ import annotations

import logging

from engine.errors import InputError
from engine.fingerprint import fingerprint
from engine.steps.common import StepContext
from engine.storage import atomic_write_json

log = logging.getLogger(__name__)

STEP_VERSION = "1"


def wanted_fingerprint(ctx: StepContext) -> str:
    """Fingerprint of what analysis.json must be made from."""
    src = ctx.project.source
    if src is None:
        raise InputError("no track uploaded yet")
    analyst = ctx.provider.analyst
    return fingerprint("analyze", STEP_VERSION, analyst.name, analyst.version, src.sha256, src.lyrics_sha256)


def run(ctx: StepContext) -> bool:
    """Make analysis.json unless an up-to-date one exists; True if work was done."""
    want = wanted_fingerprint(ctx)
    existing = ctx.folder.load_analysis()
    if existing is not None and existing.fingerprint == want:
        return False
    src = ctx.project.source
    assert src is not None
    lyrics_text = None
    if src.lyrics_file:
        lyrics_text = ctx.folder.resolve(src.lyrics_file).read_text(encoding="utf-8")
    ctx.progress(0, 1, "listening")
    ctx.io.notes.clear()
    analysis = ctx.provider.analyst.analyze(
        wav=ctx.folder.track_wav, lyrics_text=lyrics_text, settings=ctx.project.settings, io=ctx.io
    )
    analysis.fingerprint = want
    analysis.note = "; ".join(ctx.io.notes)[:2000]
    atomic_write_json(ctx.folder.analysis_json, analysis)
    ctx.progress(1, 1, f"{analysis.tempo_bpm:.0f} BPM, {len(analysis.sections)} sections, {len(analysis.lyrics)} lyric lines")
    return True
