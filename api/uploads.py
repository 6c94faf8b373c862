"""Streaming multipart upload with a size cap: the audio goes straight to a temp file, 413 as soon as the cap is passed."""
from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from starlette.exceptions import HTTPException
from python_multipart.multipart import MultipartParser, parse_options_header

from engine.errors import InputError
from engine.pictures import MAX_BYTES

from api.errors import TooLargeError, UnsupportedMediaError

log = logging.getLogger(__name__)

FILE_FIELDS = ("audio", "lyrics")
TEXT_FIELDS = ("lyrics_text",)
MAX_LYRICS_BYTES = 1024 * 1024
MULTIPART_SLACK_BYTES = 64 * 1024  # boundaries and part headers


@dataclass
class Upload:
    """What a multipart upload carried: the audio in a temp file, and lyrics as text."""

    audio_path: Path | None = None
    audio_name: str = ""
    audio_bytes: int = 0
    lyrics_text: str | None = None
    temp_files: list[Path] = field(default_factory=list)

    def cleanup(self) -> None:
        """Delete the temp files."""
        for path in self.temp_files:
            path.unlink(missing_ok=True)


class _Collector:
    """python-multipart callbacks: route each part to a temp file or a small buffer, enforcing caps."""

    def __init__(self, *, tmp_dir: Path, max_audio_bytes: int) -> None:
        self.tmp_dir = tmp_dir
        self.max_audio_bytes = max_audio_bytes
        self.upload = Upload()
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._filename: str | None = None
        self._buffer = bytearray()
        self._fh: object | None = None
        self._seen: set[str] = set()

    # header callbacks --------------------------------------------------------
    def on_part_begin(self) -> None:
        self._disposition, self._name, self._filename = b"", "", None
        self._buffer = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if name is None:
            raise InputError("a form part has no name")
        self._name = name.decode("utf-8", "replace")
        if self._name not in FILE_FIELDS + TEXT_FIELDS:
            raise InputError(f"unexpected form field {self._name[:40]!r}: send audio, lyrics or lyrics_text")
        if self._name in self._seen:
            raise InputError(f"form field {self._name!r} given twice")
        self._seen.add(self._name)
        raw_filename = options.get(b"filename")
        self._filename = raw_filename.decode("utf-8", "replace") if raw_filename is not None else None
        if self._name == "audio":
            if self._filename is None:
                raise InputError("audio must be a file part (multipart filename)")
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-", suffix=".part")
            path = Path(tmp)
            self.upload.temp_files.append(path)
            self.upload.audio_path, self.upload.audio_name = path, self._filename
            self._fh = os.fdopen(fd, "wb")

    # data callbacks -----------------------------------------------------------
    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._name == "audio":
            self.upload.audio_bytes += len(chunk)
            if self.upload.audio_bytes > self.max_audio_bytes:
                raise TooLargeError(f"audio is larger than the limit of {self.max_audio_bytes // (1024 * 1024)} MB")
            self._fh.write(chunk)  # type: ignore[union-attr]
        else:
            if len(self._buffer) + len(chunk) > MAX_LYRICS_BYTES:
                raise TooLargeError(f"{self._name} is larger than {MAX_LYRICS_BYTES // 1024} KB")
            self._buffer.extend(chunk)

    def on_part_end(self) -> None:
        if self._name == "audio":
            self._fh.close()  # type: ignore[union-attr]
            self._fh = None
            return
        try:
            text = bytes(self._buffer).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{self._name} must be UTF-8 text") from None
        if self.upload.lyrics_text is not None and text.strip():
            raise InputError("send either a lyrics file or lyrics_text, not both")
        if text.strip() or self.upload.lyrics_text is None:
            self.upload.lyrics_text = text

    def close(self) -> None:
        """Close a half-written temp file."""
        if self._fh is not None:
            self._fh.close()  # type: ignore[union-attr]
            self._fh = None

    def callbacks(self) -> dict[str, object]:
        """The callback table python-multipart expects."""
        return {
            "on_part_begin": self.on_part_begin, "on_part_data": self.on_part_data, "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field, "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end, "on_headers_finished": self.on_headers_finished,
        }


async def receive_upload(request: Request, *, tmp_dir: Path, max_upload_mb: int) -> Upload:
    """Read a multipart upload from ``request`` with caps; the caller must ``cleanup()`` the result.

    TooLargeError (413) as soon as the audio passes ``max_upload_mb`` (or at once
    when Content-Length already says so); UnsupportedMediaError (415) for a body
    that is not multipart; InputError (422) for a malformed form or a missing audio part.
    """
    max_audio = max_upload_mb * 1024 * 1024
    max_body = max_audio + MAX_LYRICS_BYTES + MULTIPART_SLACK_BYTES
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data":
        raise UnsupportedMediaError("send multipart/form-data with an 'audio' file part")
    boundary = params.get(b"boundary")
    if not boundary:
        raise InputError("multipart body without a boundary")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InputError("bad Content-Length")
        if int(declared) > max_body:
            raise TooLargeError(f"upload is larger than the limit of {max_upload_mb} MB")
    collector = _Collector(tmp_dir=tmp_dir, max_audio_bytes=max_audio)
    try:
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_body:
                raise TooLargeError(f"upload is larger than the limit of {max_upload_mb} MB")
            parser.write(chunk)
        parser.finalize()
    except (InputError, TooLargeError, HTTPException):  # HTTPException: the body timed out (api.http)
        collector.close()
        collector.upload.cleanup()
        raise
    except Exception as exc:  # python-multipart's own parse errors
        collector.close()
        collector.upload.cleanup()
        raise InputError(f"malformed multipart body: {exc}") from None
    collector.close()
    upload = collector.upload
    if upload.audio_path is None or upload.audio_bytes == 0:
        upload.cleanup()
        raise InputError("no audio: send the track as the multipart file field 'audio'")
    log.info("received upload %r (%d bytes)", upload.audio_name, upload.audio_bytes)
    return upload


PICTURE_TYPES = ("image/png", "image/jpeg", "image/webp")
PICTURE_BODY = {  # the OpenAPI request body of a route that takes a picture as its body
    "requestBody": {
        "required": True,
        "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in PICTURE_TYPES},
    }
}


async def read_picture_body(request: Request) -> bytes:
    """A picture sent as the request body: 415 unless its Content-Type is PNG, JPEG or WebP, 413 as soon as it
    passes the size cap (:data:`engine.pictures.MAX_BYTES`); what it holds is checked by the engine."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in PICTURE_TYPES:
        raise UnsupportedMediaError("send the picture as the body with Content-Type image/png, image/jpeg or image/webp")
    too_large = f"the picture is larger than {MAX_BYTES // (1024 * 1024)} MB"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise TooLargeError(too_large)
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_BYTES:
            raise TooLargeError(too_large)
    return bytes(data)
