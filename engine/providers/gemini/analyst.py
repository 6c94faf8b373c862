"""The Gemini analyst: local signal analysis, enriched by Gemini listening to the track.

The local analyst always runs first (tempo, beats, onsets, energy, sections,
and user lyrics when given). Gemini then hears the uploaded track (Files
API) and answers, as structured JSON, the vocal transcription with
timestamps, the language, mood, genre and a summary. Its timestamps are
validated and aligned to the signal (:mod:`engine.providers.gemini.align`), then
the transcript's text is aligned to the voice by the offline aligner
(:mod:`engine.audio.align`), whose times replace Gemini's where it is confident;
user-supplied lyrics always win over the transcription.

Pay once: the local analysis and the upload are finished sub-results, kept
in the project's ``cache/`` (``io.cache_dir``) with the fingerprint of what
made them, so a retried or resumed step neither analyses again nor uploads
again while the uploaded file is still ACTIVE and not about to expire. A
refused request (SAFETY, PROHIBITED_CONTENT...) falls back to the local
analysis with a note (``io.notes``) instead of failing.
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import BaseModel

from engine.errors import CancelledError
from engine.fingerprint import file_sha256, fingerprint
from engine.models import Analysis, LyricLine, ProjectSettings, Section
from engine.providers.base import Analyst, StepIO
from engine.providers.gemini.align import align_lines, best_overlap
from engine.providers.gemini.client import FileRef, GeminiClient
from engine.providers.gemini.fallback import asked_or_refused
from engine.providers.gemini.router import UsageRouter
from engine.providers.gemini.schemas import AnalysisAnswer
from engine.storage import atomic_write_json, try_read_model

log = logging.getLogger(__name__)

MAX_LYRICS_CHARS = 6000
LOCAL_CACHE = "local_analysis.json"
UPLOAD_CACHE = "gemini_upload.json"
UPLOAD_MARGIN = timedelta(hours=1)  # an upload expiring sooner than this is not used again
SYSTEM = (
    "You are a careful music analyst. You listen to songs and answer only with JSON that follows the "
    "given schema. Times are integer milliseconds from the start of the audio."
)


def _clock(ms: int) -> str:
    return f"{ms // 60000}:{ms // 1000 % 60:02d}"


def analysis_prompt(local: Analysis, *, lyrics_text: str | None) -> str:
    """The instruction sent with the audio (carries ``duration_ms``)."""
    lines = [
        f"The attached track lasts duration_ms: {local.duration_ms} ({_clock(local.duration_ms)}).",
        f"A signal analysis found about {local.tempo_bpm:.0f} BPM, key {local.key or '?'} {local.mode}, "
        f"sections: " + ", ".join(f"{s.label} {_clock(s.start_ms)}-{_clock(s.end_ms)}" for s in local.sections) + ".",
        "Answer with:",
        "- language: the ISO 639-1 code of the sung language ('' if instrumental);",
        "- mood: one or two words for the overall mood; genre: the genre;",
        "- summary: one or two sentences about what the song is about and how it feels;",
        "- sections: label (intro, verse, chorus, bridge, breakdown, outro), start_ms, end_ms, mood, energy 0..1;",
    ]
    if lyrics_text:
        lines += [
            "- lyrics: an EMPTY list. The artist supplied the lyrics below; do not transcribe.",
            "Lyrics supplied by the artist:",
            lyrics_text.strip()[:MAX_LYRICS_CHARS],
        ]
    else:
        lines += [
            "- lyrics: every sung line in order, with start_ms and end_ms of the line within the track "
            "(never past duration_ms); an empty list if there are no vocals.",
        ]
    return "\n".join(lines)


def _section_moods(sections: list[Section], answer: AnalysisAnswer, *, duration_ms: int) -> list[Section]:
    """The local sections (signal timing kept) with Gemini's mood words where its sections overlap."""
    spans = [(min(s.start_ms, duration_ms), min(s.end_ms, duration_ms)) for s in answer.sections]
    if not spans:
        return sections
    out = []
    for section in sections:
        k = best_overlap(spans, start_ms=section.start_ms, end_ms=section.end_ms)
        mood = answer.sections[k].mood.strip() if k is not None else ""
        out.append(section.model_copy(update={"mood": mood[:40] or section.mood}))
    return out


def enrich_analysis(local: Analysis, answer: AnalysisAnswer, *, keep_local_lyrics: bool) -> Analysis:
    """The local analysis with Gemini's transcription (aligned), language, mood and summary (pure).

    With ``keep_local_lyrics`` (the user supplied lyrics) the transcription is ignored.
    """
    lyrics = list(local.lyrics)
    if not keep_local_lyrics:
        aligned = align_lines(
            [(line.text, line.start_ms, line.end_ms) for line in answer.lyrics],
            duration_ms=local.duration_ms, onsets_ms=local.onsets_ms,
        )
        lyrics = [
            LyricLine(index=i, text=line.text, start_ms=line.start_ms, end_ms=line.end_ms, source="gemini", moved=line.moved)
            for i, line in enumerate(aligned)
        ]
        moved = sum(1 for line in lyrics if line.moved)
        if moved:
            log.info("%d of %d transcribed lines had invalid times and were moved", moved, len(lyrics))
    summary_bits = [answer.genre.strip(), answer.summary.strip(), local.summary]
    summary = " | ".join(bit for bit in summary_bits if bit)
    language = answer.language.strip()[:16] or None
    return local.model_copy(update={
        "provider": "gemini",
        "lyrics": lyrics,
        "language": language,
        "mood": answer.mood.strip()[:40] or local.mood,
        "summary": summary[:2000],
        "sections": _section_moods(local.sections, answer, duration_ms=local.duration_ms),
    })


class UploadRecord(BaseModel):
    """``cache/gemini_upload.json``: the track's upload, reused while it lives (``key``: what was uploaded where)."""

    key: str
    name: str
    uri: str
    mime_type: str
    size_bytes: int
    expires_at: datetime | None = None


class GeminiAnalyst:
    """:class:`engine.providers.base.Analyst` that runs ``base`` (local) then asks Gemini to listen."""

    name = "gemini"

    def __init__(self, client: GeminiClient, *, model: str, base: Analyst, router: UsageRouter,
                 poll_interval_s: float = 2.0, upload_timeout_s: float = 300.0) -> None:
        self.client = client
        self.model = model
        self.base = base
        self.router = router
        self.poll_interval_s = poll_interval_s
        self.upload_timeout_s = upload_timeout_s
        self.version = f"1+{base.name}/{base.version}+{model}"

    def analyze(self, *, wav: Path, lyrics_text: str | None, settings: ProjectSettings, io: StepIO) -> Analysis:
        """Local analysis of ``wav``, enriched by Gemini (upload, poll until ACTIVE, structured answer).

        A refusal gives the local analysis and a note in ``io.notes``.
        """
        wav = Path(wav)
        wav_sha = file_sha256(wav)
        local = self._local(wav, wav_sha, lyrics_text=lyrics_text, settings=settings, io=io)
        if io.should_stop():
            raise CancelledError("stopped on request")
        has_lyrics = bool(lyrics_text and lyrics_text.strip())
        with self.router.to(io):
            audio = self._upload(wav, wav_sha, io=io)
            io.on_progress(0.75, "asking Gemini")
            answer = asked_or_refused(lambda: self.client.generate_json(
                self.model,
                contents=[audio, analysis_prompt(local, lyrics_text=lyrics_text if has_lyrics else None)],
                schema=AnalysisAnswer, system=SYSTEM, temperature=0.2, should_stop=io.should_stop,
            ), io=io, doing="listen", what="analysis")
            if answer is None:
                return local
        analysis = enrich_analysis(local, answer, keep_local_lyrics=has_lyrics or bool(local.lyrics))
        if analysis.lyrics and analysis.lyrics[0].source == "gemini":
            analysis.lyrics = _on_the_voice(wav, analysis)
        return analysis


    def _local(self, wav: Path, wav_sha: str, *, lyrics_text: str | None, settings: ProjectSettings,
               io: StepIO) -> Analysis:
        """The base analyst's analysis, kept in ``cache/`` by what it was made from (a retry reuses it)."""
        key = fingerprint("local-analysis", self.base.name, self.base.version, wav_sha, lyrics_text or "")
        path = io.cache_dir / LOCAL_CACHE if io.cache_dir is not None else None
        if path is not None:
            cached = try_read_model(path, Analysis)
            if cached is not None and cached.fingerprint == key:
                log.info("local analysis reused from %s", path)
                io.on_progress(0.5, "local analysis reused")
                return cached.model_copy(update={"fingerprint": ""})
        half = dataclasses.replace(io, on_progress=lambda fraction, message: io.on_progress(0.5 * fraction, message))
        local = self.base.analyze(wav=wav, lyrics_text=lyrics_text, settings=settings, io=half)
        if path is not None:
            atomic_write_json(path, local.model_copy(update={"fingerprint": key}))
        return local

    def _upload(self, wav: Path, wav_sha: str, *, io: StepIO) -> FileRef:
        """The track as a Gemini file: the earlier upload while it is ACTIVE and not about to expire, else a new one."""
        key = fingerprint("gemini-upload", wav_sha, self.client.base_url, self.client.api_version)
        path = io.cache_dir / UPLOAD_CACHE if io.cache_dir is not None else None
        record = try_read_model(path, UploadRecord) if path is not None else None
        if record is not None and record.key == key and record.expires_at is not None \
                and record.expires_at - UPLOAD_MARGIN > datetime.now(timezone.utc):
            ref = FileRef(name=record.name, uri=record.uri, mime_type=record.mime_type, size_bytes=record.size_bytes,
                          expires_at=record.expires_at)
            if self.client.file_active(ref, should_stop=io.should_stop):
                log.info("reusing the upload %s (expires %s)", ref.name, ref.expires_at)
                return ref
        io.on_progress(0.55, "uploading the track to Gemini")
        ref = self.client.upload_audio(wav, "audio/wav", poll_interval_s=self.poll_interval_s,
                                       processing_timeout_s=self.upload_timeout_s, should_stop=io.should_stop)
        if path is not None:
            atomic_write_json(path, UploadRecord(key=key, name=ref.name, uri=ref.uri, mime_type=ref.mime_type,
                                                 size_bytes=ref.size_bytes, expires_at=ref.expires_at))
        return ref


def _on_the_voice(wav: Path, analysis: Analysis) -> list[LyricLine]:
    """Gemini's transcript aligned to the voice by the offline aligner; its own times where the aligner is not
    confident, or the language is not English (the aligner's model is en-us)."""
    if (analysis.language or "en").lower()[:2] != "en":
        return [line.model_copy(update={"timing": "estimated"}) for line in analysis.lyrics]
    from engine.audio.align import align_wav  # deferred: pocketsphinx loads on first use

    return align_wav(wav, analysis.lyrics, duration_ms=analysis.duration_ms, sections=analysis.sections,
                     source="gemini")
