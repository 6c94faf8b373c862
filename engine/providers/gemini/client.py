"""A thin wrapper around the official ``google-genai`` SDK: one retry layer, one repair, refusals as values.

Everything Gemini-specific about transport lives here: the Files API upload
and poll, structured JSON answers, image answers (thought parts, refusals),
retries that honour the server's ``RetryInfo`` / ``Retry-After`` (capped), a
per-minute request limit and usage accounting. The SDK's own retry is left
off (one attempt per SDK call); this client is the only layer that retries a
call, so nothing multiplies (the policy: :mod:`engine.retry`).

* **Transport** (429, 408, 5xx, timeouts, dropped connections): retried up to
  ``max_attempts`` with backoff; unbilled, so retrying costs nothing.
* **A bad answer** (fenced or chatty JSON is *not* bad: it is parsed
  tolerantly; out-of-range numbers are clamped by the schemas): the
  validation error is fed back in **one** repair call; a second bad answer is
  final. So a bad answer costs at most one more paid call.
* **Refusals**: a refused JSON request raises :class:`Refused` (the roles fall
  back to the local result); a refused picture comes back as
  ``ImageAnswer(blocked_reason=...)``. Neither is retried.

Errors leave this module as :class:`engine.errors.ProviderError` with
``retried=True`` (nobody retries them again) or ``transient=False``.
Waits (backoff, upload polls) end at once when ``should_stop`` turns true:
:class:`engine.errors.CancelledError`.
"""
from __future__ import annotations

import io
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import tenacity
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ValidationError

from engine import retry
from engine.errors import CancelledError, ProviderError
from engine.providers.gemini.ratelimit import RateLimiter
from engine.usage import UsageDelta, estimate_cost_usd

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

RETRYABLE_HTTP_CODES = frozenset({408, 429, 500, 502, 503, 504})
TEXT_BLOCK_REASONS = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "MODEL_ARMOR",
                                "LANGUAGE", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STOP_SLICE_S = 0.1  # waits are cut into slices this long, so a Stop is seen at once
_DURATION_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*s\s*$")
_FENCE_RE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?")

Stop = Callable[[], bool]


def _never() -> bool:
    return False


def _transport_exceptions() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(timeout errors, other transport errors) of httpx and httpx2, whichever is installed.

    The SDK sends through httpx2 when it is installed, else httpx; neither
    library's errors are ``APIError``.
    """
    timeouts: list[type[BaseException]] = []
    transport: list[type[BaseException]] = []
    for module_name in ("httpx", "httpx2"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        transport.extend([module.NetworkError, module.RemoteProtocolError])
    return tuple(timeouts), tuple(transport)


TIMEOUT_ERRORS, TRANSPORT_ERRORS = _transport_exceptions()


# --------------------------------------------------------------------------- value objects


@dataclass(frozen=True)
class FileRef:
    """An uploaded file that Gemini can read (state ACTIVE); ``expires_at`` as the server said (may be None)."""

    name: str  # files/abc123
    uri: str
    mime_type: str
    size_bytes: int
    expires_at: datetime | None = None

    def to_part(self) -> types.Part:
        """The ``fileData`` part that refers to this file in ``contents``."""
        return types.Part.from_uri(file_uri=self.uri, mime_type=self.mime_type)


@dataclass(frozen=True)
class ImageAnswer:
    """Either a picture (``png``) or the reason there is none (``blocked_reason``)."""

    png: bytes | None = None
    blocked_reason: str | None = None
    text: str = ""  # text parts the model sent along, if any
    model: str = ""

    @property
    def blocked(self) -> bool:
        """True when the provider refused to draw."""
        return self.png is None


class Refused(ProviderError):
    """Gemini refused a JSON request (blocked prompt or a blocking finish reason): asking again is futile."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, transient=False)
        self.reason = reason


class _BadAnswer(Exception):
    """A 200 answer that cannot be used (no JSON in it, a schema or content check failed, unreadable picture)."""


# --------------------------------------------------------------------------- pure helpers


def parse_retry_delay_s(value: Any) -> float | None:
    """Seconds from a protobuf Duration as JSON: ``"3s"``, ``"1.5s"`` or ``{"seconds": 3, "nanos": 0}``."""
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        return float(match.group(1)) if match else None
    if isinstance(value, dict):
        try:
            return float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
        except (TypeError, ValueError):
            return None
    return None


def retry_delay_from_error(exc: genai_errors.APIError) -> float | None:
    """The server's requested delay: a ``google.rpc.RetryInfo`` detail, else a ``Retry-After`` header (seconds)."""
    body = exc.details if isinstance(exc.details, dict) else {}
    error = body.get("error", body) if isinstance(body, dict) else {}
    for detail in error.get("details") or [] if isinstance(error, dict) else []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            delay = parse_retry_delay_s(detail.get("retryDelay"))
            if delay is not None:
                return delay
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is not None:
        try:
            return max(0.0, float(headers.get("retry-after")))
        except (TypeError, ValueError):
            return None
    return None


def classify_error(exc: BaseException, *, what: str) -> ProviderError | None:
    """Map an SDK/transport exception to a ProviderError; None for anything unexpected (a bug)."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        code = int(exc.code or 0)
        transient = code in RETRYABLE_HTTP_CODES
        retry_after_s = retry_delay_from_error(exc) if transient else None
        message = f"Gemini {what}: HTTP {code} {exc.status or ''}: {exc.message or ''}".rstrip(": ")
        return ProviderError(message, transient=transient, retry_after_s=retry_after_s)
    if isinstance(exc, TIMEOUT_ERRORS):
        return ProviderError(f"Gemini {what}: timed out ({type(exc).__name__})", transient=True)
    if isinstance(exc, TRANSPORT_ERRORS):
        return ProviderError(f"Gemini {what}: connection error: {type(exc).__name__}: {exc}", transient=True)
    return None


def _enum_name(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "name", value))


def response_parts(response: types.GenerateContentResponse) -> list[types.Part]:
    """The parts of the first candidate (empty when there is none)."""
    if not response.candidates:
        return []
    content = response.candidates[0].content
    return list(content.parts or []) if content is not None else []


def finish_reason(response: types.GenerateContentResponse) -> str:
    """The first candidate's finish reason (``STOP``, ``SAFETY``, ...), or ``""``."""
    return _enum_name(response.candidates[0].finish_reason) if response.candidates else ""


def pick_image(response: types.GenerateContentResponse) -> tuple[bytes, str] | None:
    """(bytes, mime type) of the last image part that is not a thought, or None."""
    chosen = None
    for part in response_parts(response):
        blob = part.inline_data
        if part.thought or blob is None or not blob.data:
            continue
        if (blob.mime_type or "image/png").startswith("image/"):
            chosen = (blob.data, blob.mime_type or "image/png")
    return chosen


def answer_text(response: types.GenerateContentResponse) -> str:
    """The concatenated non-thought text parts of the first candidate."""
    return "".join(p.text for p in response_parts(response) if p.text and not p.thought)


def prompt_block_reason(response: types.GenerateContentResponse) -> str | None:
    """``"prompt blocked: REASON (message)"`` when the request itself was refused."""
    feedback = response.prompt_feedback
    if feedback is None or feedback.block_reason is None:
        return None
    reason = _enum_name(feedback.block_reason)
    message = f" ({feedback.block_reason_message})" if feedback.block_reason_message else ""
    return f"prompt blocked: {reason}{message}"


def image_block_reason(response: types.GenerateContentResponse) -> str | None:
    """Why an image answer holds no picture, or None when it holds one.

    Every answer without a picture is a refusal with a reason: a blocked
    prompt; any finish reason but ``STOP`` (``IMAGE_SAFETY``, ``OTHER``,
    ``LANGUAGE``, ``MALFORMED_RESPONSE``, ``MAX_TOKENS``, any ``IMAGE_*``...);
    a text-only or empty answer (``NO_IMAGE``).
    """
    reason = prompt_block_reason(response)
    if reason:
        return reason
    if pick_image(response) is not None:
        return None
    if not response.candidates:
        return "NO_IMAGE: the answer holds no candidate"
    candidate = response.candidates[0]
    finish = _enum_name(candidate.finish_reason)
    message = f": {candidate.finish_message}" if candidate.finish_message else ""
    if finish and finish not in ("STOP", "FINISH_REASON_UNSPECIFIED"):
        return f"{finish}{message}"
    text = answer_text(response).strip()
    if text:
        return f"NO_IMAGE: the model answered with text only: {text[:200]}"
    return "NO_IMAGE: the answer holds no picture"


def image_config(*, aspect_ratio: str, image_size: str | None, seed: int | None) -> types.GenerateContentConfig:
    """The configuration of every picture request (interactive or in a batch)."""
    return types.GenerateContentConfig(
        response_modalities=["IMAGE"], seed=seed,
        image_config=types.ImageConfig(aspect_ratio=aspect_ratio, image_size=image_size),
    )


def image_parts(references: Sequence[bytes], prompt: str) -> list[types.Part]:
    """The parts of a picture request: the input images first, then the text."""
    return [*(types.Part.from_bytes(data=image, mime_type="image/png") for image in references), types.Part.from_text(text=prompt)]


def extract_json(text: str) -> Any:
    """The first JSON object (or array) in ``text``: code fences and chatter around it are ignored.

    Raises ValueError when there is none.
    """
    cleaned = _FENCE_RE.sub("", text)
    decoder = json.JSONDecoder()
    error: ValueError | None = None
    for match in re.finditer(r"[\[{]", cleaned):
        try:
            value, _ = decoder.raw_decode(cleaned, match.start())
        except ValueError as exc:
            error = error or exc
            continue
        if isinstance(value, (dict, list)):
            return value
    raise ValueError(f"no JSON object in the answer ({error})" if error else "no JSON object in the answer")


def validation_summary(exc: ValidationError, *, limit: int = 6) -> str:
    """The first problems of a pydantic error as ``field.path: message`` (for the repair call)."""
    problems = [f"{'.'.join(str(p) for p in err.get('loc', ())) or '(root)'}: {err.get('msg', '')}"
                for err in exc.errors()[:limit]]
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")


def parse_answer(text: str, schema: type[T], check: Callable[[T], object] | None = None) -> T:
    """``text`` as a valid ``schema`` instance that passes ``check`` (which raises ValueError on a problem).

    Raises _BadAnswer with what is wrong, in words fit to send back to the model.
    """
    try:
        value = extract_json(text)
    except ValueError as exc:
        raise _BadAnswer(f"the answer is not valid JSON: {exc}") from exc
    if isinstance(value, list) and len(schema.model_fields) == 1:  # a bare list for a one-list schema
        value = {next(iter(schema.model_fields)): value}
    try:
        parsed = schema.model_validate(value)
    except ValidationError as exc:
        raise _BadAnswer(f"the JSON does not follow the schema: {validation_summary(exc)}") from exc
    if check is not None:
        try:
            check(parsed)
        except ValueError as exc:
            raise _BadAnswer(f"the answer cannot be used: {exc}") from exc
    return parsed


def repair_instruction(problem: str) -> str:
    """The user turn of the one repair call: what was wrong, and what to send instead."""
    return (f"Your previous answer could not be used: {problem[:1500]}\n"
            "Answer again with only the complete corrected JSON object that follows the response schema: "
            "no code fences, no text before or after it.")


def as_png(data: bytes) -> bytes:
    """``data`` as PNG bytes (converted with Pillow when it is another format).

    Raises _BadAnswer when the bytes are not a readable picture.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if data.startswith(PNG_SIGNATURE):
                return data
            buf = io.BytesIO()
            image.convert("RGBA" if "A" in image.getbands() else "RGB").save(buf, format="PNG")
            return buf.getvalue()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise _BadAnswer(f"image bytes are not a readable picture: {exc}") from exc


def usage_delta(model: str, response: types.GenerateContentResponse, *, images: int) -> UsageDelta:
    """The usage of one answered call (thought tokens count as output, and are also given apart)."""
    meta = response.usage_metadata
    prompt_tokens = int(meta.prompt_token_count or 0) if meta else 0
    thinking_tokens = int(meta.thoughts_token_count or 0) if meta else 0
    output_tokens = int(meta.candidates_token_count or 0) + thinking_tokens if meta else 0
    return UsageDelta(
        model=model, calls=1, prompt_tokens=prompt_tokens, output_tokens=output_tokens, images=images,
        thinking_tokens=thinking_tokens,
        est_cost_usd=estimate_cost_usd(model=model, prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                                       images=images),
    )


def _as_parts(item: Any) -> list[types.Part]:
    if isinstance(item, FileRef):
        return [item.to_part()]
    if isinstance(item, types.Part):
        return [item]
    return [types.Part.from_text(text=str(item))]


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------- the client


class GeminiClient:
    """Gemini over the official SDK, with one retry layer, a rate limit and usage reports.

    ``sleep`` (and ``clock`` for the rate limit) are injectable so tests run
    fast against a real HTTP server. ``max_retry_after_s`` caps how long one
    wait honours the server's requested delay.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        api_version: str = "v1beta",
        timeout_s: float = 120,
        max_attempts: int = 5,
        requests_per_minute: int = 60,
        on_usage: Callable[[UsageDelta], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        initial_backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        max_retry_after_s: float = 120.0,
        rng: random.Random | None = None,
    ) -> None:
        if not api_key:
            raise ProviderError("Gemini needs an API key (GEMINI_API_KEY or GOOGLE_API_KEY)", transient=False)
        self.base_url = base_url or ""
        self.api_version = api_version
        self.timeout_s = timeout_s
        self.max_attempts = max(1, max_attempts)
        self.on_usage = on_usage
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self.limiter = RateLimiter(requests_per_minute=requests_per_minute, clock=clock, sleep=sleep)
        self.sdk = genai.Client(
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url, api_version=api_version, timeout=int(timeout_s * 1000), retry_options=None,
            ),
        )

    def close(self) -> None:
        """Close the SDK's HTTP connections."""
        self.sdk.close()

    def __enter__(self) -> GeminiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- public calls

    def upload_audio(
        self,
        path: Path,
        mime_type: str = "audio/wav",
        *,
        poll_interval_s: float = 2.0,
        processing_timeout_s: float = 300.0,
        should_stop: Stop = _never,
    ) -> FileRef:
        """Upload ``path`` through the Files API and wait until it is ACTIVE.

        FAILED processing -> ``ProviderError(transient=False)``; still
        PROCESSING after ``processing_timeout_s`` -> ``ProviderError(retried=True)``;
        ``should_stop`` true during the wait -> CancelledError at once.
        """
        path = Path(path)
        if not path.is_file():
            raise ProviderError(f"Gemini upload: no such file {path}", transient=False)

        def _upload() -> types.File:
            self.limiter.acquire()
            try:
                return self.sdk.files.upload(file=str(path), config=types.UploadFileConfig(
                    mime_type=mime_type, display_name=path.name))
            except ValueError as exc:  # the SDK's "upload status is not finalized": the upload did not finish
                raise ProviderError(f"Gemini upload of {path.name}: {exc}", transient=True) from exc

        file = self._with_retries(_upload, what=f"upload of {path.name}", should_stop=should_stop)
        name = file.name or ""
        waited_s = 0.0
        while True:
            state = _enum_name(file.state)
            if state == "ACTIVE":
                break
            if state == "FAILED":
                detail = file.error.message if file.error is not None else "no detail"
                raise ProviderError(f"Gemini could not process {path.name} ({name}): {detail}", transient=False)
            if waited_s >= processing_timeout_s:
                raise ProviderError(
                    f"Gemini upload {name} still {state or 'PROCESSING'} after {waited_s:.0f} s "
                    f"(STORYBEAT_GEMINI_UPLOAD_TIMEOUT_S)", transient=True, retried=True)
            step_s = min(poll_interval_s, max(processing_timeout_s - waited_s, 0.0)) or poll_interval_s
            self._wait(step_s, should_stop)
            waited_s += step_s
            file = self._with_retries(lambda: self.sdk.files.get(name=name), what=f"status of {name}",
                                      should_stop=should_stop)
        logger.info("uploaded %s as %s (%s bytes)", path.name, name, file.size_bytes)
        return self._file_ref(file, mime_type)

    def file_active(self, ref: FileRef, *, should_stop: Stop = _never) -> bool:
        """Whether an earlier upload is still there and ACTIVE (one unbilled status call; False if gone)."""
        try:
            file = self._with_retries(lambda: self.sdk.files.get(name=ref.name), what=f"status of {ref.name}",
                                      should_stop=should_stop)
        except ProviderError as exc:
            logger.info("earlier upload %s not usable: %s", ref.name, exc)
            return False
        return _enum_name(file.state) == "ACTIVE" and (file.uri or "") == ref.uri

    def generate_json(
        self,
        model: str,
        *,
        contents: Sequence[Any],
        schema: type[T],
        system: str | None = None,
        temperature: float = 0.4,
        check: Callable[[T], object] | None = None,
        should_stop: Stop = _never,
    ) -> T:
        """Ask ``model`` for a JSON answer shaped like ``schema`` and return it validated.

        ``contents`` may hold strings, ``types.Part`` objects and :class:`FileRef`.
        The answer is parsed tolerantly (:func:`extract_json`); ``check`` may
        reject a parsed answer by raising ValueError. A bad answer gets one
        repair call (the answer and what is wrong with it are sent back); a
        second bad answer raises ``ProviderError(retried=True)``. A refusal
        raises :class:`Refused`.
        """
        config = types.GenerateContentConfig(
            system_instruction=system, temperature=temperature,
            response_mime_type="application/json", response_schema=schema,
        )
        turn = types.Content(role="user", parts=[p for item in contents for p in _as_parts(item)])
        what = f"{model} JSON"
        text = self._json_text(model, [turn], config, what=what, should_stop=should_stop)
        try:
            return parse_answer(text, schema, check)
        except _BadAnswer as exc:
            problem = str(exc)
        logger.warning("Gemini %s: bad answer, asking once more with the error: %s", model, problem)
        repair = [turn, types.Content(role="model", parts=[types.Part.from_text(text=text or "(empty)")]),
                  types.Content(role="user", parts=[types.Part.from_text(text=repair_instruction(problem))])]
        text = self._json_text(model, repair, config, what=f"{what} repair", should_stop=should_stop)
        try:
            return parse_answer(text, schema, check)
        except _BadAnswer as exc:
            raise ProviderError(f"Gemini {model}: unusable answer, also after one repair call: {exc}; "
                                f"first problem: {problem}"[:3000], transient=True, retried=True) from exc

    def generate_image(
        self,
        model: str,
        *,
        prompt: str,
        aspect_ratio: str,
        image_size: str | None = None,
        seed: int | None = None,
        should_stop: Stop = _never,
        references: Sequence[bytes] = (),
    ) -> ImageAnswer:
        """Draw one picture; any refusal comes back as ``blocked_reason`` (not retried).

        ``references`` go along as input images, before the text.
        The picture is the last image part that is not a thought, converted to
        PNG if the model sent another format. Unreadable picture bytes are
        asked for once more, then count as a refusal (``MALFORMED_IMAGE``).
        """
        config = image_config(aspect_ratio=aspect_ratio, image_size=image_size, seed=seed)
        request: list[Any] = image_parts(references, prompt)
        problem = ""
        for _ in range(2):
            response = self._with_retries(lambda: self._generate(model, request, config), what=f"{model} image",
                                          should_stop=should_stop)
            found = pick_image(response)
            try:
                png = as_png(found[0]) if found is not None else None
            except _BadAnswer as exc:
                self._report(usage_delta(model, response, images=0))
                problem = str(exc)
                logger.warning("Gemini %s: %s; asking once more", model, problem)
                continue
            self._report(usage_delta(model, response, images=1 if png is not None else 0))
            text = answer_text(response)
            if png is not None:
                return ImageAnswer(png=png, text=text, model=model)
            reason = image_block_reason(response) or "NO_IMAGE"
            logger.warning("Gemini %s refused an image: %s", model, reason)
            return ImageAnswer(blocked_reason=reason, text=text, model=model)
        return ImageAnswer(blocked_reason=f"MALFORMED_IMAGE: {problem}"[:500], model=model)

    # ----------------------------------------------------------------- internals

    @staticmethod
    def _file_ref(file: types.File, mime_type: str) -> FileRef:
        return FileRef(name=file.name or "", uri=file.uri or "", mime_type=file.mime_type or mime_type,
                       size_bytes=int(file.size_bytes or 0), expires_at=_parse_time(file.expiration_time))

    def _json_text(self, model: str, contents: list[Any], config: types.GenerateContentConfig, *, what: str,
                   should_stop: Stop) -> str:
        """One answered JSON call (transport retried): its text; Refused when blocked."""
        response = self._with_retries(lambda: self._generate(model, contents, config), what=what,
                                      should_stop=should_stop)
        self._report(usage_delta(model, response, images=0))
        blocked = prompt_block_reason(response)
        finish = finish_reason(response)
        if blocked:
            raise Refused(f"Gemini {model}: {blocked}", reason=blocked.removeprefix("prompt blocked: "))
        if finish in TEXT_BLOCK_REASONS:
            raise Refused(f"Gemini {model}: answer blocked: {finish}", reason=finish)
        text = answer_text(response)
        if not text.strip() and finish:
            text = f"(no text; finish reason {finish})"
        return text

    def _generate(self, model: str, contents: list[Any], config: types.GenerateContentConfig
                  ) -> types.GenerateContentResponse:
        self.limiter.acquire()
        return self.sdk.models.generate_content(model=model, contents=contents, config=config)

    def _report(self, delta: UsageDelta) -> None:
        if self.on_usage is not None:
            self.on_usage(delta)

    def _wait(self, seconds: float, should_stop: Stop) -> None:
        """Sleep ``seconds`` (in short slices when a stop can come); CancelledError as soon as ``should_stop`` is true."""
        if should_stop is _never:
            self._sleep(seconds)
            return
        left = seconds
        while True:
            if should_stop():
                raise CancelledError("stopped on request")
            if left <= 0:
                return
            step = min(STOP_SLICE_S, left)
            self._sleep(step)
            left -= step

    def _wait_s(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after_s = exc.retry_after_s if isinstance(exc, ProviderError) else None
        if retry_after_s is not None:
            retry_after_s = min(retry_after_s, self.max_retry_after_s)
        with self._rng_lock:
            wait_s = retry.backoff_s(attempt=retry_state.attempt_number, initial_s=self.initial_backoff_s,
                                     max_s=self.max_backoff_s, rng=self._rng, retry_after_s=retry_after_s)
        logger.info("retrying after %.2f s (try %d failed: %s)", wait_s, retry_state.attempt_number, exc)
        return wait_s

    def _with_retries(self, fn: Callable[[], Any], *, what: str, should_stop: Stop = _never) -> Any:
        """Run ``fn``, retrying transient transport errors; what still fails is raised with ``retried=True``."""

        def _attempt() -> Any:
            if should_stop():
                raise CancelledError("stopped on request")
            try:
                return fn()
            except Exception as exc:
                error = classify_error(exc, what=what)
                if error is None:
                    raise
                if error is not exc:
                    raise error from exc
                raise

        def _should_retry(exc: BaseException) -> bool:
            return isinstance(exc, ProviderError) and exc.transient and not exc.retried

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self._wait_s,
            retry=tenacity.retry_if_exception(_should_retry),
            sleep=lambda seconds: self._wait(seconds, should_stop),
            reraise=False,
        )
        try:
            return retrying(_attempt)
        except tenacity.RetryError as exc:
            last = exc.last_attempt.exception()
            attempts = exc.last_attempt.attempt_number
            retry_after_s = last.retry_after_s if isinstance(last, ProviderError) else None
            raise ProviderError(f"Gemini {what}: gave up after {attempts} attempts; last error: {last}",
                                transient=True, retry_after_s=retry_after_s, retried=True) from last
