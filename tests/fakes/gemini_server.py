"""A fake Gemini API on 127.0.0.1 that the real ``google-genai`` SDK can talk to.

It speaks the wire protocol described in ``/work/shared/GEMINI_WIRE.md``:

* ``POST /upload/{ver}/files`` (resumable start) -> ``X-Goog-Upload-URL`` built
  from the request's own ``Host`` header; ``POST`` to that URL uploads chunks,
  ``upload, finalize`` answers ``X-Goog-Upload-Status: final`` + ``{"file": ...}``.
* ``GET /{ver}/files/{id}``: ``PROCESSING`` for the first ``processing_polls``
  polls of that file, then ``ACTIVE``.
* ``POST /{ver}/models/{model}:generateContent``: JSON answers (from a
  responder, else generated from the request's ``responseSchema``) and image
  answers (``responseModalities`` containing ``IMAGE``: a real PNG drawn with
  Pillow, colour derived from the prompt).
* The Batch API with inline requests, as ``client.batches.create`` / ``get``
  call it: ``POST /{ver}/models/{model}:batchGenerateContent`` (body
  ``{"batch": {"inputConfig": {"requests": {"requests": [{"request": ...,
  "metadata": ...}]}}}}``) answers an operation ``{"name": "batches/ID",
  "metadata": {"state": "BATCH_STATE_PENDING", ...}}``; ``GET /{ver}/batches/ID``
  answers ``BATCH_STATE_RUNNING`` for ``batch_polls`` gets (for ever while
  ``hold_batches``), then ``BATCH_STATE_SUCCEEDED`` with
  ``metadata.output.inlinedResponses.inlinedResponses`` (each request answered
  as ``generateContent`` would, its ``metadata`` echoed). Routes
  ``batch.create`` and ``batch.get``.

``v1``, ``v1beta`` and ``v1alpha`` are accepted. Every API route except the
upload URL (which carries its own token) needs header ``x-goog-api-key``:
missing -> 403 ``PERMISSION_DENIED``, wrong -> 401 ``UNAUTHENTICATED``.

Faults (see :class:`Fault`) are queued per route (``upload.start``,
``upload.chunk``, ``files.get``, ``generateContent``, or ``*`` for any) or
pinned to the route's N-th call.
Every request is recorded (:attr:`FakeGemini.calls`).

Default JSON answers are deduced from the ``responseSchema`` (or
``responseJsonSchema``): field names steer the values (``start_ms``/``end_ms``
tile the track, ``id`` takes the scene ids ``seg_NNN`` found in the prompt,
``energy`` is 0..1, ``palette`` holds hex colours, ...). The track length is
read from the prompt (``duration_ms: 123456`` / ``duration_ms=123456``),
default 30 000 ms. Responders get ``request_json["_kind"]``, what the request
asks for, told from the request itself (:func:`request_kind`: ``image`` from
``responseModalities``; ``analysis``, ``storyboard`` or ``prompts`` from the
fields of the response schema), and ``request_json["_repair"]``: True when the
contents hold an earlier model turn (a repair call sends the bad answer back).

Standalone (for the end-to-end crash test)::

    python -m tests.fakes.gemini_server --port 0 --api-key K --state-file F

writes ``{"base_url", "port", "pid", "counts"}`` to ``F`` (atomically, again
after each request) and serves ``GET /_fake/calls``, ``GET /_fake/counts``,
``POST /_fake/faults`` (a fault dict or a list of them), ``POST /_fake/reset``.
"""
from __future__ import annotations

import argparse
import base64
import colorsys
import copy
import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw

logger = logging.getLogger(__name__)

API_VERSIONS = ("v1", "v1beta", "v1alpha")
DEFAULT_API_KEY = "test-key"
Responder = Callable[[str, dict], dict | None]

_GENERATE_RE = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):generateContent$")
_FILE_RE = re.compile(r"^/(v1|v1beta|v1alpha)/files/([^/]+)$")
_UPLOAD_RE = re.compile(r"^/upload/(v1|v1beta|v1alpha)/files$")
_BATCH_CREATE_RE = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):batchGenerateContent$")
_BATCH_GET_RE = re.compile(r"^/(v1|v1beta|v1alpha)/batches/([^/:]+)$")
_DURATION_RE = re.compile(r"duration_ms\W{0,3}(\d+)")
_SEG_RE = re.compile(r"\bseg_\d{3,}\b")

FILE_LIFETIME_S = 48 * 3600  # the Files API keeps an upload for 48 hours
ASPECT_SIZES = {
    "1:1": (48, 48), "2:3": (32, 48), "3:2": (48, 32), "3:4": (36, 48), "4:3": (48, 36),
    "9:16": (27, 48), "16:9": (48, 27), "21:9": (63, 27), "4:5": (40, 50), "5:4": (50, 40),
}
STATUS_NAMES = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE",
    503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}
FAULT_KINDS = (
    "http_error",  # status (+ retry_delay_s for a google.rpc.RetryInfo), JSON error body
    "slow",  # sleep delay_s, then answer normally (the client has usually given up)
    "drop",  # close the connection without an answer
    "malformed",  # JSON answer whose text is not valid JSON
    "fenced",  # the default JSON answer wrapped in a ```json fence with chatter around it
    "negative_time",  # the default JSON answer with its first start_ms at -250 and energies of 1.5
    "image_blocked",  # candidate with finish_reason (IMAGE_SAFETY, OTHER, MAX_TOKENS, any) and no content
    "prompt_blocked",  # no candidates, promptFeedback.blockReason = reason
    "thought_images",  # image answer with `count` interim thought images before the final one
    "text_only",  # image request answered with a text part only (finish STOP)
    "file_failed",  # files.get answers state FAILED
)


@dataclasses.dataclass
class Fault:
    """One injected misbehaviour; see ``FAULT_KINDS``.

    ``times`` is how many requests it affects; ``at_call`` pins it to the
    route's N-th call (1-based) instead of the next ones.
    """

    kind: str
    status: int = 500
    retry_delay_s: float | None = None
    retry_after_header_s: float | None = None  # http_error: a Retry-After header (seconds)
    delay_s: float = 0.0
    reason: str = "IMAGE_SAFETY"
    message: str = ""
    count: int = 2
    times: int = 1
    at_call: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {FAULT_KINDS}")

    @classmethod
    def rate_limited(cls, *, retry_delay_s: float | None = 3.0, times: int = 1) -> Fault:
        """429 RESOURCE_EXHAUSTED, with a RetryInfo detail when ``retry_delay_s`` is set."""
        return cls("http_error", status=429, retry_delay_s=retry_delay_s, times=times)

    @classmethod
    def http(cls, status: int, *, times: int = 1, message: str = "") -> Fault:
        """An HTTP error with a Google-style JSON body."""
        return cls("http_error", status=status, times=times, message=message)


@dataclasses.dataclass
class RecordedCall:
    """One request the fake received."""

    n: int
    method: str
    path: str
    route: str
    api_version: str | None
    model: str | None
    headers: dict[str, str]
    body: Any
    body_bytes: int
    status: int | None = None
    fault: str | None = None
    at: float = 0.0

    def to_json(self) -> dict:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)

    def input_images(self) -> list[bytes]:
        """The bytes of the inline images the request sent (in ``contents`` order): what the model was shown."""
        return input_images(self.body if isinstance(self.body, dict) else {})


def input_images(request_json: dict) -> list[bytes]:
    """The decoded inline images of a generateContent request, in order."""
    out = []
    for content in request_json.get("contents", []):
        for part in content.get("parts", []):
            blob = part.get("inlineData") or part.get("inline_data")
            if blob:
                out.append(base64.b64decode(blob["data"], altchars=b"-_"))  # the SDK sends url-safe base64
    return out


@dataclasses.dataclass
class _FileRecord:
    name: str
    display_name: str
    mime_type: str
    size_bytes: int
    sha256: str
    created: str
    expires: str = ""
    polls: int = 0
    failed: bool = False


@dataclasses.dataclass
class _Upload:
    file: dict
    declared_size: int
    mime_type: str
    data: bytearray = dataclasses.field(default_factory=bytearray)


@dataclasses.dataclass
class _Batch:
    """One batch job (``batches.create`` with inline requests): RUNNING for ``polls`` gets, then SUCCEEDED."""

    name: str
    model: str
    requests: list[dict]
    display_name: str = ""
    polls_left: int = 1
    created: float = 0.0
    responses: list[dict] | None = None  # made once, when it succeeds


class _Reply(Exception):
    """Raised inside a handler to send an HTTP error right away."""

    def __init__(self, status: int, message: str, *, details: list | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []


def error_body(status: int, message: str, details: list | None = None) -> dict:
    """A Google API error JSON body."""
    return {"error": {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN"),
                      "details": details or []}}


# --------------------------------------------------------------------------- answer builders


def request_text(request_json: dict) -> str:
    """All text of a generateContent request: system instruction and contents."""
    texts: list[str] = []
    system = request_json.get("systemInstruction") or request_json.get("system_instruction") or {}
    for part in system.get("parts", []) if isinstance(system, dict) else []:
        texts.append(str(part.get("text", "")))
    for content in request_json.get("contents", []):
        for part in content.get("parts", []):
            if "text" in part:
                texts.append(str(part["text"]))
    return "\n".join(texts)


def _response_schema(request_json: dict) -> dict | None:
    config = request_json.get("generationConfig", {})
    return config.get("responseSchema") or config.get("responseJsonSchema") or config.get("response_json_schema")


def request_kind(request_json: dict) -> str | None:
    """What a generateContent request asks for, from the request itself (never a marker in the prompt).

    ``image`` (``responseModalities`` has IMAGE); else by the fields of the
    response schema: ``analysis`` (lyrics and sections), ``storyboard``
    (scenes with start_ms), ``prompts`` (a style_bible); None otherwise.
    """
    if is_image_request(request_json):
        return "image"
    schema = _response_schema(request_json) or {}
    fields = {str(k).lower() for k in (schema.get("properties") or {})}
    if {"lyrics", "sections"} <= fields:
        return "analysis"
    if "style_bible" in fields:
        return "prompts"
    if "scenes" in fields:
        return "storyboard"
    return None


def is_repair(request_json: dict) -> bool:
    """True when the contents carry an earlier model turn (the bad answer a repair call sends back)."""
    return any(c.get("role") == "model" for c in request_json.get("contents", []) if isinstance(c, dict))


def out_of_range(value: Any) -> Any:
    """``value`` with its first ``start_ms`` at -250 and every ``energy`` at 1.5 (what a sloppy model sends)."""
    state = {"first": True}

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            out = {}
            for key, sub in item.items():
                if key == "start_ms" and state["first"]:
                    state["first"] = False
                    out[key] = -250
                elif key == "energy":
                    out[key] = 1.5
                else:
                    out[key] = walk(sub)
            return out
        if isinstance(item, list):
            return [walk(sub) for sub in item]
        return item

    return walk(value)


def is_image_request(request_json: dict) -> bool:
    """True when ``generationConfig.responseModalities`` asks for IMAGE."""
    modalities = request_json.get("generationConfig", {}).get("responseModalities") or []
    return any(str(m).upper() == "IMAGE" for m in modalities)


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def prompt_colour(text: str) -> tuple[int, int, int]:
    """A saturated RGB colour derived from the prompt text (same text, same colour)."""
    hue = (_stable_int(text) % 360) / 360.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.65, 0.9)
    return int(r * 255), int(g * 255), int(b * 255)


def make_png(*, prompt: str, aspect_ratio: str = "1:1", marker: int = 0, inset: bytes | None = None) -> bytes:
    """A small real PNG: a vertical gradient of the prompt colour with a disc.

    ``marker`` shifts the disc so interim (thought) pictures differ from the final one; ``inset`` (the
    first input image of the request) is pasted small in the left corner, so a picture shows what it was given.
    """
    width, height = ASPECT_SIZES.get(aspect_ratio, (48, 48))
    colour = prompt_colour(prompt)
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        k = 0.5 + 0.5 * y / max(height - 1, 1)
        draw.line([(0, y), (width, y)], fill=tuple(int(c * k) for c in colour))
    r = min(width, height) // 4
    cx = width // 2 + marker * 3
    draw.ellipse([cx - r, height // 2 - r, cx + r, height // 2 + r], fill=(255, 255, 255))
    if inset:
        with Image.open(io.BytesIO(inset)) as given:
            small = given.convert("RGB")
            small.thumbnail((width // 3, height * 3 // 4))
            image.paste(small, (1, height - small.height - 1))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


class _SchemaFaker:
    """Builds a JSON value that fits a Gemini ``responseSchema`` (or JSON schema)."""

    WORDS = ("neon", "river", "midnight", "glass", "ember", "horizon", "echo", "velvet", "static", "bloom")
    MOODS = ("dreamy", "driving", "melancholic", "euphoric", "tense", "calm")
    SECTIONS = ("intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro")

    def __init__(self, *, text: str, root: dict) -> None:
        match = _DURATION_RE.search(text)
        self.duration_ms = int(match.group(1)) if match else 30_000
        self.seg_ids = list(dict.fromkeys(_SEG_RE.findall(text)))
        self.seed = _stable_int(text)
        self.defs = root.get("$defs") or root.get("definitions") or {}

    def _resolve(self, schema: dict) -> dict:
        ref = schema.get("$ref")
        if ref:
            return self._resolve(self.defs.get(ref.rsplit("/", 1)[-1], {}))
        for key in ("anyOf", "any_of", "oneOf"):
            if schema.get(key):
                options = [self._resolve(s) for s in schema[key]]
                real = [s for s in options if str(s.get("type", "")).lower() != "null"]
                return real[0] if real else options[0]
        return schema

    @staticmethod
    def _type(schema: dict) -> str:
        kind = schema.get("type", "")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        if not kind:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        return str(kind).lower()

    def value(self, schema: dict, *, name: str = "", index: int = 0, span: tuple[int, int] | None = None) -> Any:
        schema = self._resolve(schema)
        if schema.get("enum"):
            return schema["enum"][index % len(schema["enum"])]
        kind = self._type(schema)
        if kind == "object":
            return self._object(schema, index=index, span=span)
        if kind == "array":
            return self._array(schema, name=name)
        if kind == "integer":
            return self._integer(schema, name=name, index=index, span=span)
        if kind == "number":
            return self._number(schema, name=name, index=index)
        if kind == "boolean":
            return index % 2 == 0
        return self._string(name=name, index=index)

    def _object(self, schema: dict, *, index: int, span: tuple[int, int] | None) -> dict:
        props = schema.get("properties", {})
        order = schema.get("propertyOrdering") or schema.get("property_ordering") or list(props)
        return {key: self.value(props[key], name=key, index=index, span=span) for key in order if key in props}

    def _array(self, schema: dict, *, name: str) -> list:
        items = self._resolve(schema.get("items", {"type": "STRING"}))
        props = items.get("properties", {}) if self._type(items) == "object" else {}
        if "id" in props and self.seg_ids:
            count = len(self.seg_ids)
        elif "start_ms" in props and "end_ms" in props:
            chunk_ms = 5000 if "visual_intent" in props else 4000
            count = max(1, min(60, self.duration_ms // chunk_ms))
        elif name == "palette":
            count = 4
        else:
            count = 3 if props else 2
        count = max(count, int(schema.get("minItems", schema.get("min_items", 0)) or 0))
        max_items = schema.get("maxItems", schema.get("max_items"))
        if max_items is not None:
            count = min(count, int(max_items))
        bounds = [round(i * self.duration_ms / count) for i in range(count + 1)]
        return [self.value(items, name=name, index=i, span=(bounds[i], bounds[i + 1])) for i in range(count)]

    def _integer(self, schema: dict, *, name: str, index: int, span: tuple[int, int] | None) -> int:
        if name == "start_ms":
            return span[0] if span else 0
        if name == "end_ms":
            return span[1] if span else self.duration_ms
        if name.endswith("_ms"):
            return self.duration_ms
        if name in ("index", "version"):
            return index + (1 if name == "version" else 0)
        low = int(schema.get("minimum", 0) or 0)
        high = int(schema.get("maximum", low + 100))
        return low + (self.seed + index) % (high - low + 1)

    def _number(self, schema: dict, *, name: str, index: int) -> float:
        low = float(schema.get("minimum", 0.0) or 0.0)
        high = float(schema.get("maximum", 1.0 if name in ("energy", "confidence") else 200.0))
        if name in ("tempo_bpm", "bpm"):
            low, high = 80.0, 140.0
        fraction = ((self.seed >> (index % 32)) % 1000) / 999.0
        return round(low + fraction * (high - low), 3)

    def _string(self, *, name: str, index: int) -> str:
        word = self.WORDS[(self.seed + index) % len(self.WORDS)]
        other = self.WORDS[(self.seed + 3 * index + 1) % len(self.WORDS)]
        if name == "id":
            return self.seg_ids[index] if index < len(self.seg_ids) else f"seg_{index + 1:03d}"
        if name in ("mood",):
            return self.MOODS[(self.seed + index) % len(self.MOODS)]
        if name in ("label", "section"):
            return self.SECTIONS[index % len(self.SECTIONS)]
        if name == "palette":
            r, g, b = prompt_colour(f"{word}{index}")
            return f"#{r:02x}{g:02x}{b:02x}"
        if name == "language":
            return "en"
        if name in ("text", "lyric_text"):
            return f"{word} {other} in the night"
        if name == "image_prompt":
            return f"a cinematic wide shot of a {word} {other} at dusk, volumetric light, detailed"
        if name in ("negative_prompt", "negative"):
            return "text, watermark, blurry, extra limbs"
        if name == "visual_intent":
            return f"the camera drifts through a {word} {other} landscape"
        if name in ("style_hints", "hints", "tags"):
            return word
        return f"{word} {other}"


def default_json_answer(request_json: dict) -> Any:
    """A plausible JSON answer for a generateContent request, from its response schema."""
    text = request_text(request_json)
    schema = _response_schema(request_json)
    if not schema:
        return {"text": text[:80]}
    return _SchemaFaker(text=text, root=schema).value(schema)


def _usage(prompt_tokens: int, output_tokens: int) -> dict:
    return {"promptTokenCount": prompt_tokens, "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens}


def _prompt_tokens(request_json: dict) -> int:
    media = sum(1 for c in request_json.get("contents", []) for p in c.get("parts", [])
                if "inlineData" in p or "fileData" in p or "inline_data" in p or "file_data" in p)
    return max(1, len(request_text(request_json)) // 4) + 258 * media


def text_response(model: str, text: str, request_json: dict) -> dict:
    """A full generateContent response with one text part."""
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": _usage(_prompt_tokens(request_json), max(1, len(text) // 4)),
        "modelVersion": model,
        "responseId": uuid.uuid4().hex[:16],
    }


def image_response(model: str, request_json: dict, *, thoughts: int = 0, with_text: bool = True) -> dict:
    """A full generateContent response carrying a PNG drawn from the prompt text.

    ``thoughts`` interim images marked ``thought: true`` come first, as
    ``gemini-3-pro-image-preview`` sends them.
    """
    prompt = request_text(request_json)
    aspect = request_json.get("generationConfig", {}).get("imageConfig", {}).get("aspectRatio", "1:1")
    parts: list[dict] = []
    if with_text:
        parts.append({"text": "Here is the picture you asked for."})
    for k in range(thoughts):
        data = base64.b64encode(make_png(prompt=prompt, aspect_ratio=aspect, marker=k + 1)).decode()
        parts.append({"inlineData": {"mimeType": "image/png", "data": data}, "thought": True})
    given = input_images(request_json)
    data = base64.b64encode(make_png(prompt=prompt, aspect_ratio=aspect, inset=given[0] if given else None)).decode()
    parts.append({"inlineData": {"mimeType": "image/png", "data": data}})
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": _usage(_prompt_tokens(request_json), 1290),
        "modelVersion": model,
        "responseId": uuid.uuid4().hex[:16],
    }


# --------------------------------------------------------------------------- the server


class FakeGemini:
    """The fake server; a context manager that serves in a background thread.

    ``responder(model, request_json)`` may return a full response (a dict with
    ``candidates`` or ``promptFeedback``), a JSON answer (any other dict, sent
    as the text part) or ``None`` for the default behaviour.
    """

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        processing_polls: int = 1,
        batch_polls: int = 1,
        responder: Responder | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.api_key = api_key
        self.processing_polls = processing_polls
        self.batch_polls = batch_polls  # batches.get answers RUNNING this many times before SUCCEEDED
        self.hold_batches = False  # True: every batch stays RUNNING (e.g. while a test kills its client)
        self.batches: dict[str, _Batch] = {}
        self.responder = responder
        self.state_file = state_file
        self.calls: list[RecordedCall] = []
        self._faults: list[tuple[str, Fault]] = []
        self._files: dict[str, _FileRecord] = {}
        self._uploads: dict[str, _Upload] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        """The TCP port actually bound."""
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (give it to the SDK as ``base_url``)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeGemini:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-gemini", daemon=True)
        self._thread.start()
        self._write_state()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (standalone mode)."""
        self._write_state()
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and wake slow handlers."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGemini:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- test API

    def add_fault(self, route: str, fault: Fault) -> None:
        """Queue ``fault`` for ``route`` (``upload.start``, ``upload.chunk``, ``files.get``, ``generateContent``, ``*``)."""
        with self._lock:
            self._faults.append((route, fault))

    def clear_faults(self) -> None:
        """Forget all queued faults."""
        with self._lock:
            self._faults.clear()

    def reset(self) -> None:
        """Forget faults, calls, files and uploads."""
        with self._lock:
            self._faults.clear()
            self.calls.clear()
            self._files.clear()
            self._uploads.clear()
            self.batches.clear()
        self._write_state()

    def count(self, route: str | None = None, *, model: str | None = None) -> int:
        """How many requests hit ``route`` (all routes if None), optionally for one model."""
        with self._lock:
            return sum(1 for c in self.calls
                       if (route is None or c.route == route) and (model is None or c.model == model))

    def counts(self) -> dict[str, int]:
        """Requests per route."""
        with self._lock:
            result: dict[str, int] = {}
            for call in self.calls:
                result[call.route] = result.get(call.route, 0) + 1
            return result

    def calls_to(self, route: str) -> list[RecordedCall]:
        """The recorded requests to ``route``."""
        with self._lock:
            return [c for c in self.calls if c.route == route]

    def file_bytes_sha256(self, name: str) -> str:
        """sha256 of an uploaded file's content (``files/abc``)."""
        with self._lock:
            return self._files[name].sha256

    # ----------------------------------------------------------------- internals

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        state = {"base_url": self.base_url, "port": self.port, "pid": os.getpid(), "counts": self.counts()}
        tmp = self.state_file.with_name(self.state_file.name + f".{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.state_file)

    def _record(self, call: RecordedCall) -> int:
        with self._lock:
            call.n = len(self.calls) + 1
            call.at = time.time()
            self.calls.append(call)
            return sum(1 for c in self.calls if c.route == call.route)

    def _take_fault(self, route: str, route_call: int) -> Fault | None:
        with self._lock:
            for i, (where, fault) in enumerate(self._faults):
                if where not in (route, "*"):
                    continue
                if fault.at_call is not None and fault.at_call != route_call:
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[i]
                return dataclasses.replace(fault)
            return None

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _new_file(self, upload: _Upload) -> _FileRecord:
        file_id = uuid.uuid4().hex[:12]
        record = _FileRecord(
            name=f"files/{file_id}",
            display_name=str(upload.file.get("display_name") or upload.file.get("displayName") or file_id),
            mime_type=upload.mime_type,
            size_bytes=len(upload.data),
            sha256=hashlib.sha256(upload.data).hexdigest(),
            created=time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            expires=time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() + FILE_LIFETIME_S)),
        )
        with self._lock:
            self._files[record.name] = record
        return record

    def _file_json(self, record: _FileRecord, base_url: str, version: str) -> dict:
        state = "FAILED" if record.failed else "ACTIVE" if record.polls > self.processing_polls else "PROCESSING"
        body = {
            "name": record.name, "displayName": record.display_name, "mimeType": record.mime_type,
            "sizeBytes": str(record.size_bytes), "createTime": record.created, "updateTime": record.created,
            "expirationTime": record.expires, "sha256Hash": base64.b64encode(record.sha256.encode()).decode(),
            "uri": f"{base_url}/{version}/{record.name}", "state": state, "source": "UPLOADED",
        }
        if record.failed:
            body["error"] = {"code": 400, "message": "the file could not be processed"}
        return body


def _make_handler(fake: FakeGemini) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        server_fake = fake

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls
    server_fake: FakeGemini

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet: route http.server's log to logging
        logger.debug("fake gemini: " + fmt, *args)

    # ----------------------------------------------------------------- plumbing

    def _send(self, status: int, body: Any = None, *, headers: dict[str, str] | None = None,
              raw: bytes | None = None) -> None:
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        if self._call is not None:  # before the answer leaves: a client may read the calls as soon as it has it
            self._call.status = status
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("fake gemini: client went away before the answer")

    def _base_url(self) -> str:
        return f"http://{self.headers.get('Host', '127.0.0.1')}"

    def _check_key(self) -> None:
        given = self.headers.get("x-goog-api-key")
        if not given:
            raise _Reply(403, "Method doesn't allow unregistered callers (callers without established identity).")
        if given != self.server_fake.api_key:
            raise _Reply(401, "API key not valid. Please pass a valid API key.")

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        self._call = None
        fake = self.server_fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        path = url.path
        if path.startswith("/_fake/"):
            self._control(method, path, raw)
            return
        route, version, model = self._route(method, path, parse_qs(url.query))
        body: Any = None
        if route != "upload.chunk" and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        self._call = RecordedCall(n=0, method=method, path=self.path, route=route, api_version=version, model=model,
                                  headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                                  body_bytes=len(raw))
        route_call = fake._record(self._call)
        try:
            fault = None
            if route != "unknown":
                if route != "upload.chunk":
                    self._check_key()
                fault = fake._take_fault(route, route_call)
            if fault is not None:
                self._call.fault = fault.kind
                if self._apply_fault(fault):
                    return
            if route == "upload.start":
                self._upload_start(version or "v1beta", body or {})
            elif route == "upload.chunk":
                self._upload_chunk(parse_qs(url.query), raw)
            elif route == "files.get":
                self._files_get(version or "v1beta", path.rsplit("/", 1)[-1], fault)
            elif route == "generateContent":
                self._generate(model or "", body or {}, fault)
            elif route == "batch.create":
                self._batch_create(model or "", body or {})
            elif route == "batch.get":
                self._batch_get(path.rsplit("/", 1)[-1])
            else:
                raise _Reply(404, f"no such route: {method} {path}")
        except _Reply as reply:
            self._send(reply.status, error_body(reply.status, reply.message, reply.details))
        finally:
            fake._write_state()

    @staticmethod
    def _route(method: str, path: str, query: dict) -> tuple[str, str | None, str | None]:
        match = _UPLOAD_RE.match(path)
        if match and method == "POST":
            return ("upload.chunk" if "upload_id" in query else "upload.start"), match.group(1), None
        match = _FILE_RE.match(path)
        if match and method == "GET":
            return "files.get", match.group(1), None
        match = _GENERATE_RE.match(path)
        if match and method == "POST":
            return "generateContent", match.group(1), match.group(2)
        match = _BATCH_CREATE_RE.match(path)
        if match and method == "POST":
            return "batch.create", match.group(1), match.group(2)
        match = _BATCH_GET_RE.match(path)
        if match and method == "GET":
            return "batch.get", match.group(1), None
        return "unknown", None, None

    # ----------------------------------------------------------------- faults

    def _apply_fault(self, fault: Fault) -> bool:
        """Act on a fault; True when the request has been fully answered."""
        if fault.kind == "slow":
            self.server_fake._wait(fault.delay_s)
            return False
        if fault.kind == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            if self._call is not None:
                self._call.status = 0
            return True
        if fault.kind == "http_error":
            details = []
            if fault.retry_delay_s is not None:
                details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                "retryDelay": f"{fault.retry_delay_s:g}s"})
            message = fault.message or {
                429: "Resource has been exhausted (e.g. check quota).",
                500: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
                503: "The model is overloaded. Please try again later.",
            }.get(fault.status, f"fake error {fault.status}")
            headers = {} if fault.retry_after_header_s is None else {"Retry-After": f"{fault.retry_after_header_s:g}"}
            self._send(fault.status, error_body(fault.status, message, details), headers=headers)
            return True
        return False  # answer-shaping faults are handled by the route

    # ----------------------------------------------------------------- routes

    def _upload_start(self, version: str, body: dict) -> None:
        if self.headers.get("X-Goog-Upload-Protocol") != "resumable" or \
                self.headers.get("X-Goog-Upload-Command") != "start":
            raise _Reply(400, "expected a resumable upload start")
        file_meta = body.get("file", {}) if isinstance(body, dict) else {}
        declared = int(self.headers.get("X-Goog-Upload-Header-Content-Length") or file_meta.get("size_bytes") or 0)
        mime = self.headers.get("X-Goog-Upload-Header-Content-Type") or file_meta.get("mime_type") or \
            "application/octet-stream"
        upload_id = uuid.uuid4().hex
        with self.server_fake._lock:
            self.server_fake._uploads[upload_id] = _Upload(file=file_meta, declared_size=declared, mime_type=mime)
        upload_url = f"{self._base_url()}/upload/{version}/files?upload_id={upload_id}&upload_protocol=resumable"
        self._send(200, {}, headers={"X-Goog-Upload-URL": upload_url, "X-Goog-Upload-Status": "active",
                                     "X-Goog-Upload-Chunk-Granularity": "8388608"})

    def _upload_chunk(self, query: dict, raw: bytes) -> None:
        fake = self.server_fake
        upload_id = query.get("upload_id", [""])[0]
        with fake._lock:
            upload = fake._uploads.get(upload_id)
        if upload is None:
            raise _Reply(404, "unknown upload id")
        command = self.headers.get("X-Goog-Upload-Command", "")
        offset = int(self.headers.get("X-Goog-Upload-Offset") or 0)
        if offset != len(upload.data):
            raise _Reply(400, f"offset {offset} does not match the {len(upload.data)} bytes received")
        upload.data.extend(raw)
        if "finalize" not in command:
            self._send(200, None, headers={"X-Goog-Upload-Status": "active"})
            return
        if upload.declared_size and upload.declared_size != len(upload.data):
            raise _Reply(400, f"declared {upload.declared_size} bytes, received {len(upload.data)}")
        record = fake._new_file(upload)
        with fake._lock:
            fake._uploads.pop(upload_id, None)
        version = self.path.split("/")[2]
        self._send(200, {"file": fake._file_json(record, self._base_url(), version)},
                   headers={"X-Goog-Upload-Status": "final"})

    def _files_get(self, version: str, file_id: str, fault: Fault | None) -> None:
        fake = self.server_fake
        with fake._lock:
            record = fake._files.get(f"files/{file_id}")
            if record is None:
                raise _Reply(403, f"You do not have permission to access the File {file_id} or it may not exist.")
            record.polls += 1
            if fault is not None and fault.kind == "file_failed":
                record.failed = True
            body = fake._file_json(record, self._base_url(), version)
        self._send(200, body)

    def _generate(self, model: str, body: dict, fault: Fault | None) -> None:
        if not body.get("contents"):
            raise _Reply(400, "* GenerateContentRequest.contents: contents is not specified")
        kind = fault.kind if fault is not None else None
        if kind == "prompt_blocked":
            reason = fault.reason if fault.reason != "IMAGE_SAFETY" else "PROHIBITED_CONTENT"
            self._send(200, {"promptFeedback": {"blockReason": reason},
                             "usageMetadata": _usage(_prompt_tokens(body), 0), "modelVersion": model})
            return
        if kind == "image_blocked":
            candidate: dict = {"finishReason": fault.reason, "index": 0}
            if fault.message:
                candidate["finishMessage"] = fault.message
            self._send(200, {"candidates": [candidate], "usageMetadata": _usage(_prompt_tokens(body), 0),
                             "modelVersion": model})
            return
        if is_image_request(body):
            if kind == "text_only":
                self._send(200, text_response(model, "I can only describe this picture in words.", body))
                return
            answer = self._responder_answer(model, body)
            if answer is not None:
                self._send(200, answer)
                return
            thoughts = fault.count if kind == "thought_images" else 0
            self._send(200, image_response(model, body, thoughts=thoughts))
            return
        if kind == "malformed":
            self._send(200, text_response(model, '{"scenes": [{"start_ms": 0, "end_ms": ', body))
            return
        if kind == "fenced":
            text = "Sure! Here it is:\n```json\n" + json.dumps(default_json_answer(body), indent=1) + "\n```\nEnjoy."
            self._send(200, text_response(model, text, body))
            return
        if kind == "negative_time":
            self._send(200, text_response(model, json.dumps(out_of_range(default_json_answer(body))), body))
            return
        answer = self._responder_answer(model, body)
        if answer is None:
            answer = text_response(model, json.dumps(default_json_answer(body)), body)
        self._send(200, answer)

    # ----------------------------------------------------------------- the Batch API (inline requests)

    def _batch_create(self, model: str, body: dict) -> None:
        batch = body.get("batch") or {}
        requests = ((batch.get("inputConfig") or {}).get("requests") or {}).get("requests") or []
        if not requests or not all(isinstance(r, dict) and (r.get("request") or {}).get("contents") for r in requests):
            raise _Reply(400, "* BatchGenerateContentRequest.batch.input_config: inline requests with contents are required")
        fake = self.server_fake
        with fake._lock:
            record = _Batch(name=f"batches/{uuid.uuid4().hex[:12]}", model=model, requests=requests,
                            display_name=str(batch.get("displayName") or ""), polls_left=fake.batch_polls,
                            created=time.time())
            fake.batches[record.name] = record
        self._send(200, self._batch_json(record, "BATCH_STATE_PENDING"))

    def _batch_get(self, batch_id: str) -> None:
        fake = self.server_fake
        with fake._lock:
            record = fake.batches.get(f"batches/{batch_id}")
            if record is None:
                raise _Reply(404, f"batches/{batch_id} not found")
            if fake.hold_batches or record.polls_left > 0:
                record.polls_left = max(0, record.polls_left - 1)
                state = "BATCH_STATE_RUNNING"
            else:
                state = "BATCH_STATE_SUCCEEDED"
                if record.responses is None:
                    record.responses = [self._batch_answer(record.model, r) for r in record.requests]
        self._send(200, self._batch_json(record, state))

    def _batch_answer(self, model: str, item: dict) -> dict:
        request = item["request"]
        answer = self._responder_answer(model, request)
        if answer is None:
            answer = image_response(model, request) if is_image_request(request) else text_response(
                model, json.dumps(default_json_answer(request)), request)
        out: dict = {"response": answer}
        if "metadata" in item:
            out["metadata"] = item["metadata"]
        return out

    @staticmethod
    def _batch_json(record: _Batch, state: str) -> dict:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        metadata: dict = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
                          "model": f"models/{record.model}", "displayName": record.display_name, "state": state,
                          "createTime": stamp, "updateTime": stamp, "name": record.name,
                          "batchStats": {"requestCount": str(len(record.requests))}}
        if state == "BATCH_STATE_SUCCEEDED" and record.responses is not None:
            metadata["endTime"] = stamp
            metadata["output"] = {"inlinedResponses": {"inlinedResponses": record.responses}}
        return {"name": record.name, "metadata": metadata, "done": state == "BATCH_STATE_SUCCEEDED"}

    def _responder_answer(self, model: str, body: dict) -> dict | None:
        responder = self.server_fake.responder
        if responder is None:
            return None
        request = copy.deepcopy(body)
        request["_kind"] = request_kind(body)
        request["_repair"] = is_repair(body)
        result = responder(model, request)
        if result is None:
            return None
        if isinstance(result, dict) and ("candidates" in result or "promptFeedback" in result):
            return result
        return text_response(model, json.dumps(result), body)

    # ----------------------------------------------------------------- control endpoints

    def _control(self, method: str, path: str, raw: bytes) -> None:
        fake = self.server_fake
        if method == "GET" and path == "/_fake/calls":
            with fake._lock:
                calls = [c.to_json() for c in fake.calls]
            self._send(200, {"calls": calls})
        elif method == "GET" and path == "/_fake/counts":
            self._send(200, fake.counts())
        elif method == "POST" and path == "/_fake/faults":
            try:
                spec = json.loads(raw or b"[]")
                specs = spec if isinstance(spec, list) else [spec]
                for item in specs:
                    item = dict(item)
                    route = item.pop("route", "*")
                    fake.add_fault(route, Fault(**item))
            except (TypeError, ValueError) as exc:
                self._send(400, error_body(400, f"bad fault spec: {exc}"))
                return
            self._send(200, {"queued": len(specs)})
        elif method == "POST" and path == "/_fake/reset":
            fake.reset()
            self._send(200, {"ok": True})
        else:
            self._send(404, error_body(404, f"no such control route: {method} {path}"))


# --------------------------------------------------------------------------- standalone


def main(argv: list[str] | None = None) -> int:
    """Run the fake in the foreground until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description="fake Gemini API for offline tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (see --state-file)")
    parser.add_argument("--api-key", default=os.environ.get("FAKE_GEMINI_KEY", DEFAULT_API_KEY))
    parser.add_argument("--processing-polls", type=int, default=1)
    parser.add_argument("--state-file", type=Path, default=None,
                        help="JSON file with base_url/port/pid/counts, rewritten after every request")
    args = parser.parse_args(argv)
    fake = FakeGemini(api_key=args.api_key, host=args.host, port=args.port,
                      processing_polls=args.processing_polls, state_file=args.state_file)

    def _stop(signum: int, frame: Any) -> None:
        threading.Thread(target=fake._httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    fake.serve_forever()
    fake._httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
