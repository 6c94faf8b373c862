"""Ingest: any common audio file -> 44.1 kHz 16-bit stereo PCM WAV, checked by content.

The container is recognised from the file's first bytes (never its name) and
handed to the bundled ffmpeg with an explicit ``-f`` so a renamed or
mislabelled file cannot trick the demuxer. ffmpeg first *probes* the file
(declared duration, codec) to reject what is obviously unusable before any
decoding, then converts into a temp file next to ``wav_out`` which is moved
into place with ``os.replace`` only when every check passed. Any failure
raises :class:`engine.errors.InputError` and leaves nothing at ``wav_out``.
"""
from __future__ import annotations

import logging
import os
import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError
from engine.ffmpeg import ffmpeg_path

log = logging.getLogger(__name__)

TARGET_SR = 44100
TARGET_CHANNELS = 2
PROBE_TIMEOUT_S = 30.0
# A file decodes to noticeably less than its header promised: truncated.
TRUNCATION_TOLERANCE = 0.05
TRUNCATION_SLACK_MS = 500


@dataclass(frozen=True)
class AudioInfo:
    """What ingest found: the normalised track's length/format and the source's codec/container."""

    duration_ms: int
    sample_rate: int
    channels: int
    codec: str
    container: str
    source_sample_rate: int = 0
    source_channels: int = 0


@dataclass(frozen=True)
class ProbeResult:
    """Parsed from ffmpeg's description of the input."""

    duration_ms: int | None
    codec: str
    sample_rate: int
    channels: int


# ---------------------------------------------------------------------------- content sniffing


def _mpeg_audio_sync(head: bytes, offset: int = 0) -> bool:
    """True if ``head[offset:]`` starts with a plausible MPEG-1/2 layer I-III frame header."""
    if len(head) < offset + 4:
        return False
    b0, b1, b2 = head[offset], head[offset + 1], head[offset + 2]
    if b0 != 0xFF or (b1 & 0xE0) != 0xE0:
        return False
    version, layer = (b1 >> 3) & 0x3, (b1 >> 1) & 0x3
    bitrate, rate = (b2 >> 4) & 0xF, (b2 >> 2) & 0x3
    return version != 1 and layer != 0 and bitrate not in (0, 0xF) and rate != 3


def _adts_sync(head: bytes) -> bool:
    return len(head) >= 7 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0 and ((head[2] >> 2) & 0xF) < 13


def sniff_container(head: bytes) -> str | None:
    """The ffmpeg demuxer name for a file starting with ``head`` (its first ~64 bytes), or None.

    Pure: recognises WAV/RF64/W64, AIFF, MP3 (ID3 or frame sync), Ogg
    (Vorbis/Opus/FLAC), FLAC, MP4/M4A/3GP/MOV, ADTS AAC, Matroska/WebM,
    ASF/WMA, CAF and AMR.
    """
    if len(head) < 4:
        return None
    if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"riff" and len(head) >= 16:
        return "w64"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:3] == b"ID3":
        return "mp3"  # ID3v2 may also wrap AAC/FLAC, but ffmpeg's mp3 demuxer rejects those cleanly
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "mov"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:16] == bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"):
        return "asf"
    if head[:4] == b"caff":
        return "caf"
    if head[:6] == b"#!AMR\n":
        return "amr"
    if _adts_sync(head):
        return "aac"
    if _mpeg_audio_sync(head):
        return "mp3"
    return None


def riff_shortfall_bytes(path: Path) -> int:
    """How many bytes of a RIFF/WAVE file's ``data`` chunk are missing (0 if complete or unknowable)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(12)
        if head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return 0
        little = head[:4] == b"RIFF"
        while True:
            header = fh.read(8)
            if len(header) < 8:
                return 0
            chunk_id, chunk_len = header[:4], int.from_bytes(header[4:], "little" if little else "big")
            if chunk_id == b"data":
                if chunk_len in (0, 0xFFFFFFFF):  # streamed WAV: length unknown
                    return 0
                return max(0, fh.tell() + chunk_len - size)
            fh.seek(chunk_len + (chunk_len & 1), os.SEEK_CUR)


# ---------------------------------------------------------------------------- ffmpeg


_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_AUDIO_RE = re.compile(r"Stream #\d+:\d+[^:]*: Audio: ([A-Za-z0-9_]+)[^\n]*?(\d+) Hz, ([^,\n]+)")
_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


def parse_probe(stderr: str) -> ProbeResult | None:
    """Parse ffmpeg's input description (its stderr); None if it lists no audio stream."""
    m = _AUDIO_RE.search(stderr)
    if m is None:
        return None
    layout = m.group(3).strip().split("(")[0].strip()
    chans = _LAYOUTS.get(layout)
    if chans is None:
        cm = re.match(r"(\d+) channels", layout)
        chans = int(cm.group(1)) if cm else 0
    dm = _DURATION_RE.search(stderr)
    dur = None
    if dm:
        dur = int(round((int(dm.group(1)) * 3600 + int(dm.group(2)) * 60 + float(dm.group(3))) * 1000))
    return ProbeResult(duration_ms=dur, codec=m.group(1), sample_rate=int(m.group(2)), channels=chans)


def _minutes(seconds: float) -> str:
    """A duration limit in words: '15 min', '90 s'."""
    return f"{seconds / 60:g} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g} s"


def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(args: list[str], *, timeout_s: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            args, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace", timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InputError("the audio file took too long to decode; it may be damaged") from exc


def _wav_duration_ms(path: Path) -> tuple[int, int, int]:
    """(duration_ms, sample_rate, channels) of a PCM WAV we wrote."""
    with wave.open(str(path), "rb") as w:
        return int(round(w.getnframes() * 1000 / w.getframerate())), w.getframerate(), w.getnchannels()


def probe_and_normalise(
    src: Path, wav_out: Path, *, max_duration_s: float = 900, min_duration_s: float = 2.0
) -> AudioInfo:
    """Check ``src`` is decodable audio of acceptable length and write it as 44.1 kHz s16 stereo WAV to ``wav_out``.

    Raises InputError (with a message for humans) for empty, non-audio,
    truncated or damaged files and for tracks shorter than ``min_duration_s``
    or longer than ``max_duration_s``; in that case ``wav_out`` is untouched
    if it did not exist, and never left half-written. Silence is accepted.
    """
    src = Path(src)
    wav_out = Path(wav_out)
    if not src.is_file():
        raise InputError(f"audio file not found: {src.name}")
    size = src.stat().st_size
    if size == 0:
        raise InputError("the audio file is empty")
    with src.open("rb") as fh:
        head = fh.read(64)
    container = sniff_container(head)
    if container is None:
        raise InputError(
            "this file is not a recognised audio file (expected WAV, MP3, OGG, FLAC, M4A/AAC, AIFF, WebM, ...)"
        )
    if container == "wav" and riff_shortfall_bytes(src) > 0:
        raise InputError("the WAV file looks truncated: its audio data ends before the length its header declares")
    ff = ffmpeg_path()
    probe_run = _run([ff, "-hide_banner", "-nostdin", "-f", container, "-i", str(src)], timeout_s=PROBE_TIMEOUT_S)
    probe = parse_probe(probe_run.stderr)
    if probe is None:
        log.info("probe of %s as %s failed: %s", src, container, _tail(probe_run.stderr))
        raise InputError(f"could not read any audio from this {container} file; it may be damaged or not audio")
    if probe.duration_ms is not None and probe.duration_ms > max_duration_s * 1000 + 1000:
        raise InputError(
            f"the track is too long: {probe.duration_ms / 60000:.1f} min (the limit is {_minutes(max_duration_s)})"
        )
    wav_out.parent.mkdir(parents=True, exist_ok=True)
    tmp = wav_out.with_name(f".{wav_out.name}.{os.getpid()}.part")
    try:
        convert = _run(
            [
                ff, "-hide_banner", "-nostdin", "-v", "error", "-f", container, "-i", str(src),
                "-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1", "-fflags", "+bitexact",
                "-t", f"{max_duration_s + 2:.3f}", "-ac", str(TARGET_CHANNELS), "-ar", str(TARGET_SR),
                "-c:a", "pcm_s16le", "-flags", "+bitexact", "-f", "wav", "-y", str(tmp),
            ],
            timeout_s=max(60.0, max_duration_s),
        )
        if convert.returncode != 0 or not tmp.exists():
            log.info("decode of %s failed: %s", src, _tail(convert.stderr))
            raise InputError(f"the audio could not be decoded; the file may be damaged ({_tail(convert.stderr, 1)})")
        try:
            dur_ms, sr, chans = _wav_duration_ms(tmp)
        except (wave.Error, EOFError) as exc:
            raise InputError("the audio could not be decoded; the file may be damaged") from exc
        if dur_ms < min_duration_s * 1000:
            raise InputError(f"the track is too short: {dur_ms / 1000:.1f} s (at least {min_duration_s:g} s needed)")
        if dur_ms > max_duration_s * 1000:
            raise InputError(
                f"the track is too long: {dur_ms / 60000:.1f} min (the limit is {_minutes(max_duration_s)})"
            )
        declared = probe.duration_ms
        if declared is not None and dur_ms < declared * (1 - TRUNCATION_TOLERANCE) - TRUNCATION_SLACK_MS:
            raise InputError(
                f"the file looks truncated: it declares {declared / 1000:.1f} s but only "
                f"{dur_ms / 1000:.1f} s could be decoded"
            )
        os.replace(tmp, wav_out)
    finally:
        tmp.unlink(missing_ok=True)
    info = AudioInfo(
        duration_ms=dur_ms, sample_rate=sr, channels=chans, codec=probe.codec, container=container,
        source_sample_rate=probe.sample_rate, source_channels=probe.channels,
    )
    log.info("ingested %s: %s/%s %.1f s", src.name, container, probe.codec, dur_ms / 1000)
    return info
