"""A thin, retrying wrapper around the official ``google-genai`` SDK.

Everything Gemini-specific about transport lives here: the Files API upload
and poll, structured JSON answers, image answers (thought parts, safety
blocks), retries with backoff that honour the server's ``RetryInfo``, a
per-minute request limit and usage accounting. The SDK's own retry is left
off (one attempt per SDK call) and the runner does not retry what this client
gave up on, so retries are not stacked (the policy: :mod:`engine.retry`).

Errors leave this module as :class:`engine.errors.ProviderError`:
``transient=True, retried=True`` when retries were exhausted on something
that may pass (429, 5xx, timeouts, connection errors, unusable answers);
``transient=True`` alone when the server asked for a longer pause than this
client sleeps (the runner waits it out); ``transient=False`` for what will not
pass (other 4xx, a blocked JSON prompt, a FAILED upload).
A blocked *image* is not an error: it comes back as
``ImageAnswer(blocked_reason=...)`` and is never retried.
"""
from __future__ import annotations

import io
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import tenacity
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ValidationError

from engine import retry
from engine.errors import ProviderError
from engine.providers.gemini.ratelimit import RateLimiter
from engine.usage import UsageDelta, estimate_cost_usd

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

RETRYABLE_HTTP_CODES = frozenset({408, 429, 500, 502, 503, 504})
IMAGE_BLOCK_REASONS = frozenset({
    "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "PROHIBITED_CONTENT", "SAFETY", "NO_IMAGE", "IMAGE_OTHER",
    "IMAGE_RECITATION", "RECITATION", "BLOCKLIST", "SPII", "MODEL_ARMOR",
})
TEXT_BLOCK_REASONS = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "MODEL_ARMOR"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DURATION_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*s\s*$")


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
    """An uploaded file that Gemini can read (state ACTIVE)."""

    name: str  # files/abc123
    uri: str
    mime_type: str
    size_bytes: int

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


class AttemptStore(Protocol):
    """Persists attempt counts per call key, so a crash loop still gives up."""

    def get(self, key: str) -> int:
        """Attempts already made for ``key`` (0 if none)."""
        ...

    def set(self, key: str, attempts: int) -> None:
        """Record ``attempts`` for ``key`` (0 after a success)."""
        ...


class _BadAnswer(Exception):
    """A 200 answer that cannot be used (unparseable JSON, no picture, empty)."""


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
    """The server's requested delay: a ``google.rpc.RetryInfo`` detail, else a ``Retry-After`` header."""
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
            return float(headers.get("retry-after"))
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
    if isinstance(exc, _BadAnswer):
        return ProviderError(f"Gemini {what}: unusable answer: {exc}", transient=True)
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
    """Why an image answer holds no picture, or None if it holds one (or is just empty).

    A blocked prompt, a blocking finish reason (``IMAGE_SAFETY``, ...) and a
    text-only answer (reported as ``NO_IMAGE``) all count as blocked.
    """
    reason = prompt_block_reason(response)
    if reason:
        return reason
    if pick_image(response) is not None or not response.candidates:
        return None
    candidate = response.candidates[0]
    finish = _enum_name(candidate.finish_reason)
    message = f": {candidate.finish_message}" if candidate.finish_message else ""
    if finish in IMAGE_BLOCK_REASONS:
        return f"{finish}{message}"
    text = answer_text(response).strip()
    if text:
        return f"NO_IMAGE: the model answered with text only: {text[:200]}"
    return None


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
    """The usage of one answered call (thought tokens count as output)."""
    meta = response.usage_metadata
    prompt_tokens = int(meta.prompt_token_count or 0) if meta else 0
    output_tokens = int((meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)) if meta else 0
    return UsageDelta(
        model=model, calls=1, prompt_tokens=prompt_tokens, output_tokens=output_tokens, images=images,
        est_cost_usd=estimate_cost_usd(model=model, prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                                       images=images),
    )


# --------------------------------------------------------------------------- the client


class GeminiClient:
    """Gemini over the official SDK, with retries, a rate limit and usage reports.

    ``sleep`` (and ``clock`` for the rate limit) are injectable so tests run
    fast against a real HTTP server. ``attempt_store`` with ``attempt_key=``
    on a call makes attempts count across process restarts.
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
        attempt_store: AttemptStore | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not api_key:
            raise ProviderError("Gemini needs an API key (GEMINI_API_KEY or GOOGLE_API_KEY)", transient=False)
        self.timeout_s = timeout_s
        self.max_attempts = max(1, max_attempts)
        self.on_usage = on_usage
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_retry_after_s = max_retry_after_s
        self.attempt_store = attempt_store
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
    ) -> FileRef:
        """Upload ``path`` through the Files API and wait until it is ACTIVE.

        FAILED processing -> ``ProviderError(transient=False)``; still
        PROCESSING after ``processing_timeout_s`` -> ``ProviderError(transient=True)``.
        """
        path = Path(path)
        if not path.is_file():
            raise ProviderError(f"Gemini upload: no such file {path}", transient=False)

        def _upload() -> types.File:
            self.limiter.acquire()
            try:
                return self.sdk.files.upload(file=str(path), config=types.UploadFileConfig(
                    mime_type=mime_type, display_name=path.name))
            except ValueError as exc:  # the SDK's "upload status is not finalized"
                raise _BadAnswer(str(exc)) from exc

        file = self._with_retries(_upload, what=f"upload of {path.name}")
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
                raise ProviderError(f"Gemini upload {name} still {state or 'PROCESSING'} after {waited_s:.0f} s",
                                    transient=True)
            self._sleep(poll_interval_s)
            waited_s += poll_interval_s
            file = self._with_retries(lambda: self.sdk.files.get(name=name), what=f"status of {name}")
        logger.info("uploaded %s as %s (%s bytes)", path.name, name, file.size_bytes)
        return FileRef(name=name, uri=file.uri or "", mime_type=file.mime_type or mime_type,
                       size_bytes=int(file.size_bytes or 0))

    def generate_json(
        self,
        model: str,
        *,
        contents: Sequence[Any],
        schema: type[T],
        system: str | None = None,
        temperature: float = 0.4,
        attempt_key: str | None = None,
    ) -> T:
        """Ask ``model`` for a JSON answer shaped like ``schema`` and return it validated.

        ``contents`` may hold strings, ``types.Part`` objects and :class:`FileRef`.
        An answer that does not parse or validate is retried like a 5xx.
        """
        config = types.GenerateContentConfig(
            system_instruction=system, temperature=temperature,
            response_mime_type="application/json", response_schema=schema,
        )
        request = self._contents(contents)

        def _call() -> T:
            response = self._generate(model, request, config)
            self._report(usage_delta(model, response, images=0))
            blocked = prompt_block_reason(response)
            if blocked:
                raise ProviderError(f"Gemini {model}: {blocked}", transient=False)
            parsed = response.parsed
            if isinstance(parsed, schema):
                return parsed
            finish = _enum_name(response.candidates[0].finish_reason) if response.candidates else ""
            if finish in TEXT_BLOCK_REASONS:
                raise ProviderError(f"Gemini {model}: answer blocked: {finish}", transient=False)
            text = answer_text(response)
            try:
                return schema.model_validate_json(text)
            except ValidationError as exc:
                raise _BadAnswer(f"not a valid {schema.__name__} (finish {finish or '?'}): "
                                 f"{exc.errors()[0].get('msg', exc)}; text starts {text[:80]!r}") from exc

        return self._with_retries(_call, what=f"{model} JSON", attempt_key=attempt_key)

    def generate_image(
        self,
        model: str,
        *,
        prompt: str,
        aspect_ratio: str,
        image_size: str | None = None,
        reference_png: bytes | None = None,
        attempt_key: str | None = None,
        references: Sequence[bytes] = (),
    ) -> ImageAnswer:
        """Draw one picture; a safety block comes back as ``blocked_reason`` (not retried).

        ``references`` (and ``reference_png``) go along as input images, before the text.
        The picture is the last image part that is not a thought, converted to
        PNG if the model sent another format.
        """
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=aspect_ratio, image_size=image_size),
        )
        request: list[Any] = []
        for image in [*references, *([reference_png] if reference_png is not None else [])]:  # input images first
            request.append(types.Part.from_bytes(data=image, mime_type="image/png"))
        request.append(prompt)

        def _call() -> ImageAnswer:
            response = self._generate(model, request, config)
            found = pick_image(response)
            png = as_png(found[0]) if found is not None else None
            self._report(usage_delta(model, response, images=1 if png is not None else 0))
            text = answer_text(response)
            if png is not None:
                return ImageAnswer(png=png, text=text, model=model)
            reason = image_block_reason(response)
            if reason:
                logger.warning("Gemini %s refused an image: %s", model, reason)
                return ImageAnswer(blocked_reason=reason, text=text, model=model)
            raise _BadAnswer("the answer holds neither a picture nor a reason")

        return self._with_retries(_call, what=f"{model} image", attempt_key=attempt_key)

    # ----------------------------------------------------------------- internals

    @staticmethod
    def _contents(contents: Sequence[Any]) -> list[Any]:
        return [item.to_part() if isinstance(item, FileRef) else item for item in contents]

    def _generate(self, model: str, contents: list[Any], config: types.GenerateContentConfig
                  ) -> types.GenerateContentResponse:
        self.limiter.acquire()
        return self.sdk.models.generate_content(model=model, contents=contents, config=config)

    def _report(self, delta: UsageDelta) -> None:
        if self.on_usage is not None:
            self.on_usage(delta)

    def _wait_s(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after_s = exc.retry_after_s if isinstance(exc, ProviderError) else None
        with self._rng_lock:
            wait_s = retry.backoff_s(attempt=retry_state.attempt_number, initial_s=self.initial_backoff_s,
                                     max_s=self.max_backoff_s, rng=self._rng, retry_after_s=retry_after_s)
        logger.info("retrying after %.2f s (try %d failed: %s)", wait_s, retry_state.attempt_number, exc)
        return wait_s

    def _with_retries(self, fn: Callable[[], Any], *, what: str, attempt_key: str | None = None) -> Any:
        """Run ``fn`` until it succeeds, fails for good, or the attempts run out."""
        store = self.attempt_store if attempt_key else None
        prior = store.get(attempt_key) if store is not None else 0
        budget = self.max_attempts - prior
        if budget <= 0:
            raise ProviderError(f"Gemini {what}: gave up, {prior} attempts already made (before a restart)",
                                transient=True, retried=True)

        def _attempt() -> Any:
            if store is not None:
                store.set(attempt_key, store.get(attempt_key) + 1)
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
            if not isinstance(exc, ProviderError) or not exc.transient:
                return False
            # A server asking for a longer pause than we are willing to sleep: let the runner decide.
            return exc.retry_after_s is None or exc.retry_after_s <= self.max_retry_after_s

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(budget),
            wait=self._wait_s,
            retry=tenacity.retry_if_exception(_should_retry),
            sleep=self._sleep,
            reraise=False,
        )
        try:
            result = retrying(_attempt)
        except tenacity.RetryError as exc:
            last = exc.last_attempt.exception()
            attempts = exc.last_attempt.attempt_number + prior
            retry_after_s = last.retry_after_s if isinstance(last, ProviderError) else None
            raise ProviderError(f"Gemini {what}: gave up after {attempts} attempts; last error: {last}",
                                transient=True, retry_after_s=retry_after_s, retried=True) from last
        if store is not None:
            store.set(attempt_key, 0)
        return result
