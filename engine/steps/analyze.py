"""Step 1, analyze: the track (+ lyrics) -> analysis.json."""
from __future__ import annotations

import logging

from engine.errors import InputError
from engine.fingerprint import fingerprint
from engine.models import Analysis, SourceInfo
from engine.steps.common import StepContext
from engine.storage import ProjectFolder, atomic_write_json

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
    analysis = ctx.provider.analyst.analyze(
        wav=ctx.folder.track_wav, lyrics_text=lyrics_text, settings=ctx.project.settings, io=ctx.io
    )
    analysis.fingerprint = want
    kept = keep_hand_edits(ctx.folder, src, analysis)
    atomic_write_json(ctx.folder.analysis_json, analysis)
    ctx.progress(1, 1, f"{analysis.tempo_bpm:.0f} BPM, {len(analysis.sections)} sections, {len(analysis.lyrics)} lyric lines"
                       f"{' (as you edited them)' if kept else ''}")
    return True


def keep_hand_edits(folder: ProjectFolder, source: SourceInfo, analysis: Analysis) -> bool:
    """Put the hand-edited lyrics (lyrics_edit.json) into a fresh ``analysis`` of the upload they were made on.

    A fresh analysis of the same track and lyrics file (another provider, a newer analyst) must not lose the
    user's edits; a new upload (another track or lyrics file) starts from its own lyrics. True if kept.
    """
    from engine.audio.lyrics import check_lines

    edit = folder.load_lyrics_edit()
    if edit is None or edit.made_from != source.key:
        return False
    try:
        check_lines(edit.lines, duration_ms=analysis.duration_ms)
    except InputError as err:  # cannot happen for the same track; never fail an analysis over it
        log.warning("%s: hand-edited lyrics not kept: %s", folder.id, err)
        return False
    analysis.lyrics = [line.model_copy() for line in edit.lines]
    analysis.lyrics_edit = edit.edit
    return True
