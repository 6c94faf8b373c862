"""GeminiClient against the fake Gemini server, through the real google-genai SDK.

Only ``sleep`` and the rate limiter's clock are faked (so retries are fast);
every request is real HTTP on 127.0.0.1.
"""
from __future__ import annotations

import base64
import hashlib
import io
import random
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image

from engine.errors import CancelledError, ProviderError
from engine.models import Usage
from engine.retry import backoff_s
from engine.providers.gemini.client import (
    STOP_SLICE_S, FileRef, GeminiClient, ImageAnswer, Refused, extract_json, parse_answer, parse_retry_delay_s,
)
from engine.providers.gemini.ratelimit import RateLimiter
from engine.providers.gemini.schemas import AnalysisAnswer, PromptsAnswer, StoryboardAnswer
from engine.usage import UsageDelta, add_usage, estimate_cost_usd, price_for
from tests.fakes import DEFAULT_API_KEY, Fault, FakeGemini, fake_gemini  # noqa: F401 (fixture)
from tests.fakes.gemini_server import make_png, prompt_colour

TEXT_MODEL = "gemini-2.5-flash"
IMAGE_MODEL = "gemini-2.5-flash-image"


class FakeClock:
    """A clock whose sleep advances time and records the delays."""

    def __init__(self) -> None:
        self.now_s = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def usage() -> list[UsageDelta]:
    return []


@pytest.fixture
def client(fake_gemini: FakeGemini, clock: FakeClock, usage: list[UsageDelta]) -> GeminiClient:
    with GeminiClient(DEFAULT_API_KEY, base_url=fake_gemini.base_url, timeout_s=2.0, max_attempts=4,
                      requests_per_minute=0, on_usage=usage.append, sleep=clock.sleep, clock=clock,
                      rng=random.Random(7)) as made:
        yield made


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "track.wav"
    path.write_bytes(b"RIFF" + bytes(range(256)) * 40)
    return path


# --------------------------------------------------------------------------- upload


def test_upload_polls_until_active(client: GeminiClient, fake_gemini: FakeGemini, clock: FakeClock,
                                   wav: Path) -> None:
    fake_gemini.processing_polls = 2
    ref = client.upload_audio(wav, poll_interval_s=1.5)
    assert ref.name.startswith("files/")
    assert ref.mime_type == "audio/wav"
    assert ref.size_bytes == wav.stat().st_size
    assert fake_gemini.file_bytes_sha256(ref.name) == hashlib.sha256(wav.read_bytes()).hexdigest()
    assert fake_gemini.count("upload.start") == 1
    assert fake_gemini.count("files.get") == 3  # PROCESSING, PROCESSING, ACTIVE
    assert clock.sleeps == [1.5, 1.5, 1.5]
    start = fake_gemini.calls_to("upload.start")[0]
    assert start.headers["x-goog-upload-header-content-type"] == "audio/wav"
    assert start.body["file"]["display_name"] == "track.wav"


def test_uploaded_file_is_referenced_in_json_request(client: GeminiClient, fake_gemini: FakeGemini,
                                                     wav: Path) -> None:
    ref = client.upload_audio(wav, poll_interval_s=0.1)
    client.generate_json(TEXT_MODEL, contents=[ref, "listen. duration_ms: 8000"], schema=AnalysisAnswer)
    parts = fake_gemini.calls_to("generateContent")[0].body["contents"][0]["parts"]
    assert parts[0]["fileData"] == {"file_uri": ref.uri, "mime_type": "audio/wav"}


def test_upload_failed_processing_is_permanent(client: GeminiClient, fake_gemini: FakeGemini, wav: Path) -> None:
    fake_gemini.add_fault("files.get", Fault("file_failed"))
    with pytest.raises(ProviderError) as info:
        client.upload_audio(wav, poll_interval_s=0.1)
    assert info.value.transient is False
    assert "could not process" in str(info.value)


def test_upload_still_processing_times_out_as_transient(client: GeminiClient, fake_gemini: FakeGemini,
                                                        wav: Path) -> None:
    fake_gemini.processing_polls = 1000
    with pytest.raises(ProviderError) as info:
        client.upload_audio(wav, poll_interval_s=1.0, processing_timeout_s=3.0)
    assert info.value.transient is True
    assert fake_gemini.count("files.get") == 3


def test_upload_start_rate_limited_is_retried(client: GeminiClient, fake_gemini: FakeGemini, clock: FakeClock,
                                              wav: Path) -> None:
    fake_gemini.add_fault("upload.start", Fault.rate_limited(retry_delay_s=2))
    ref = client.upload_audio(wav, poll_interval_s=0.5)
    assert fake_gemini.count("upload.start") == 2
    assert 2.0 <= clock.sleeps[0] <= 2.2
    assert ref.name.startswith("files/")


# --------------------------------------------------------------------------- JSON


def test_generate_json_happy_path(client: GeminiClient, fake_gemini: FakeGemini,
                                  usage: list[UsageDelta]) -> None:
    answer = client.generate_json(TEXT_MODEL, contents=["storyboard for duration_ms: 20000"],
                                  schema=StoryboardAnswer, system="You are a director.", temperature=0.7)
    assert isinstance(answer, StoryboardAnswer)
    assert [s.start_ms for s in answer.scenes] == [0, 5000, 10000, 15000]
    assert answer.scenes[-1].end_ms == 20000
    call = fake_gemini.calls_to("generateContent")[0]
    assert call.path == f"/v1beta/models/{TEXT_MODEL}:generateContent"
    assert call.headers["x-goog-api-key"] == DEFAULT_API_KEY
    config = call.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["temperature"] == 0.7
    assert config["responseSchema"]["properties"]["scenes"]["type"] == "ARRAY"
    assert call.body["systemInstruction"]["parts"][0]["text"] == "You are a director."
    assert len(usage) == 1 and usage[0].calls == 1 and usage[0].prompt_tokens > 0 and usage[0].output_tokens > 0


def test_responder_answer_is_returned(fake_gemini: FakeGemini, client: GeminiClient) -> None:
    seen: list[tuple[str, str | None]] = []

    def responder(model: str, request: dict) -> dict:
        seen.append((model, request["_kind"]))
        return {"style_bible": {"palette": ["#000000"], "setting": "moon", "subject": "cat", "look": "ink",
                                "negative": "text"},
                "scenes": [{"id": "seg_001", "image_prompt": "a cat on the moon", "negative_prompt": "",
                            "style_hints": ["ink"]}]}

    fake_gemini.responder = responder
    answer = client.generate_json(TEXT_MODEL, contents=["write the prompts for seg_001"], schema=PromptsAnswer)
    assert answer.scenes[0].image_prompt == "a cat on the moon"
    assert seen == [(TEXT_MODEL, "prompts")]


def test_malformed_json_costs_one_repair_call(client: GeminiClient, fake_gemini: FakeGemini,
                                             clock: FakeClock, usage: list[UsageDelta]) -> None:
    fake_gemini.add_fault("generateContent", Fault("malformed"))
    answer = client.generate_json(TEXT_MODEL, contents=["duration_ms: 10000"], schema=StoryboardAnswer)
    assert len(answer.scenes) == 2
    assert fake_gemini.count("generateContent") == 2
    assert clock.sleeps == []  # a repair is asked at once: it is not a transport retry
    assert len(usage) == 2  # the bad answer was billed too
    repair = fake_gemini.calls_to("generateContent")[1].body
    assert [c["role"] for c in repair["contents"]] == ["user", "model", "user"]
    assert repair["contents"][1]["parts"][0]["text"] == '{"scenes": [{"start_ms": 0, "end_ms": '
    assert "not valid JSON" in repair["contents"][2]["parts"][0]["text"]
    assert repair["generationConfig"]["responseSchema"]  # the same schema again


def test_schema_mismatch_is_repaired_once(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    answers = iter([{"unexpected": True}, None])
    fake_gemini.responder = lambda model, request: next(answers)
    answer = client.generate_json(TEXT_MODEL, contents=["duration_ms: 5000"], schema=StoryboardAnswer)
    assert len(answer.scenes) == 1
    assert fake_gemini.count("generateContent") == 2


def test_429_retry_delay_is_honoured(client: GeminiClient, fake_gemini: FakeGemini, clock: FakeClock) -> None:
    fake_gemini.add_fault("generateContent", Fault.rate_limited(retry_delay_s=3))
    client.generate_json(TEXT_MODEL, contents=["hello"], schema=StoryboardAnswer)
    assert fake_gemini.count("generateContent") == 2
    assert len(clock.sleeps) == 1
    assert 3.0 <= clock.sleeps[0] <= 3.3


def test_429_without_retry_info_uses_backoff(client: GeminiClient, fake_gemini: FakeGemini,
                                             clock: FakeClock) -> None:
    fake_gemini.add_fault("generateContent", Fault.rate_limited(retry_delay_s=None, times=2))
    client.generate_json(TEXT_MODEL, contents=["hello"], schema=StoryboardAnswer)
    assert fake_gemini.count("generateContent") == 3
    assert 1.0 <= clock.sleeps[0] <= 1.1
    assert 2.0 <= clock.sleeps[1] <= 2.2


def test_429_asking_for_a_long_pause_is_capped(client: GeminiClient, fake_gemini: FakeGemini,
                                              clock: FakeClock) -> None:
    fake_gemini.add_fault("generateContent", Fault.rate_limited(retry_delay_s=3600))
    client.generate_json(TEXT_MODEL, contents=["hello"], schema=StoryboardAnswer)
    assert fake_gemini.count("generateContent") == 2
    assert len(clock.sleeps) == 1 and 120.0 <= clock.sleeps[0] <= 132.0  # max_retry_after_s, plus jitter


def test_retry_after_header_is_honoured(client: GeminiClient, fake_gemini: FakeGemini, clock: FakeClock) -> None:
    fake_gemini.add_fault("generateContent", Fault("http_error", status=503, retry_after_header_s=4))
    client.generate_json(TEXT_MODEL, contents=["hello"], schema=StoryboardAnswer)
    assert fake_gemini.count("generateContent") == 2
    assert len(clock.sleeps) == 1 and 4.0 <= clock.sleeps[0] <= 4.4


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_retried(client: GeminiClient, fake_gemini: FakeGemini, status: int) -> None:
    fake_gemini.add_fault("generateContent", Fault.http(status, times=2))
    answer = client.generate_json(TEXT_MODEL, contents=["duration_ms: 5000"], schema=StoryboardAnswer)
    assert len(answer.scenes) == 1
    assert fake_gemini.count("generateContent") == 3


def test_timeout_is_retried(fake_gemini: FakeGemini, clock: FakeClock) -> None:
    fake_gemini.add_fault("generateContent", Fault("slow", delay_s=4.0))
    with GeminiClient(DEFAULT_API_KEY, base_url=fake_gemini.base_url, timeout_s=1.0, requests_per_minute=0,
                      sleep=clock.sleep, clock=clock) as client:
        answer = client.generate_json(TEXT_MODEL, contents=["duration_ms: 5000"], schema=StoryboardAnswer)
    assert len(answer.scenes) == 1
    assert fake_gemini.count("generateContent") == 2
    assert len(clock.sleeps) == 1


def test_dropped_connection_is_retried(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault("drop"))
    client.generate_json(TEXT_MODEL, contents=["hello"], schema=StoryboardAnswer)
    assert fake_gemini.count("generateContent") == 2


@pytest.mark.parametrize("status", [400, 403, 404])
def test_permanent_client_errors_are_not_retried(client: GeminiClient, fake_gemini: FakeGemini,
                                                 clock: FakeClock, status: int) -> None:
    fake_gemini.add_fault("generateContent", Fault.http(status, message="bad request field"))
    with pytest.raises(ProviderError) as info:
        client.generate_json(TEXT_MODEL, contents=["hello"], schema=StoryboardAnswer)
    assert info.value.transient is False
    assert str(status) in str(info.value)
    assert fake_gemini.count("generateContent") == 1
    assert clock.sleeps == []


def test_retries_exhausted_is_transient_provider_error(client: GeminiClient, fake_gemini: FakeGemini,
                                                       clock: FakeClock) -> None:
    fake_gemini.add_fault("generateContent", Fault.http(503, times=10))
    with pytest.raises(ProviderError) as info:
        client.generate_json(TEXT_MODEL, contents=["hello"], schema=StoryboardAnswer)
    assert info.value.transient is True and info.value.retried is True  # the runner does not retry it again
    assert "gave up after 4 attempts" in str(info.value)
    assert "503" in str(info.value)
    assert fake_gemini.count("generateContent") == 4
    assert len(clock.sleeps) == 3
    assert clock.sleeps[0] < clock.sleeps[1] < clock.sleeps[2]


def test_blocked_json_prompt_is_permanent(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault("prompt_blocked", reason="SAFETY"))
    with pytest.raises(ProviderError) as info:
        client.generate_json(TEXT_MODEL, contents=["hello"], schema=StoryboardAnswer)
    assert info.value.transient is False
    assert "SAFETY" in str(info.value)
    assert fake_gemini.count("generateContent") == 1


def test_wrong_api_key_is_permanent(fake_gemini: FakeGemini, clock: FakeClock) -> None:
    with GeminiClient("not-the-key", base_url=fake_gemini.base_url, timeout_s=2, sleep=clock.sleep,
                      clock=clock) as client:
        with pytest.raises(ProviderError) as info:
            client.generate_json(TEXT_MODEL, contents=["hello"], schema=StoryboardAnswer)
    assert info.value.transient is False
    assert "401" in str(info.value)
    assert fake_gemini.calls[0].headers["x-goog-api-key"] == "not-the-key"


def test_empty_api_key_is_refused() -> None:
    with pytest.raises(ProviderError):
        GeminiClient("")


def test_api_version_is_used_in_paths(fake_gemini: FakeGemini, clock: FakeClock) -> None:
    with GeminiClient(DEFAULT_API_KEY, base_url=fake_gemini.base_url, api_version="v1", sleep=clock.sleep,
                      clock=clock) as client:
        client.generate_json(TEXT_MODEL, contents=["hello"], schema=StoryboardAnswer)
    assert fake_gemini.calls[0].path == f"/v1/models/{TEXT_MODEL}:generateContent"


# --------------------------------------------------------------------------- images


def _decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_image_happy_path(client: GeminiClient, fake_gemini: FakeGemini, usage: list[UsageDelta]) -> None:
    answer = client.generate_image(IMAGE_MODEL, prompt="a red fox in snow", aspect_ratio="16:9", image_size="2K")
    assert isinstance(answer, ImageAnswer) and not answer.blocked and answer.blocked_reason is None
    image = _decode(answer.png)
    assert image.format == "PNG" and image.size == (48, 27)
    assert image.getpixel((0, 0)) == tuple(int(c * 0.5) for c in prompt_colour("a red fox in snow"))
    assert answer.text  # the fake sends a text part before the picture
    config = fake_gemini.calls_to("generateContent")[0].body["generationConfig"]
    assert config["responseModalities"] == ["IMAGE"]
    assert config["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}
    assert usage[-1].images == 1 and usage[-1].est_cost_usd > 0


def test_reference_png_is_sent_inline(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    reference = make_png(prompt="reference", aspect_ratio="1:1")
    client.generate_image(IMAGE_MODEL, prompt="same cat, new pose", aspect_ratio="1:1", references=[reference])
    parts = fake_gemini.calls_to("generateContent")[0].body["contents"][0]["parts"]
    inline = parts[0]["inlineData"]
    assert inline.get("mimeType", inline.get("mime_type")) == "image/png"
    assert base64.urlsafe_b64decode(inline["data"]) == reference  # the SDK sends url-safe base64
    assert parts[1]["text"] == "same cat, new pose"


def test_thought_images_are_skipped(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault("thought_images", count=2))
    answer = client.generate_image("gemini-3-pro-image-preview", prompt="a lighthouse", aspect_ratio="1:1")
    assert answer.png == make_png(prompt="a lighthouse", aspect_ratio="1:1")
    assert answer.png != make_png(prompt="a lighthouse", aspect_ratio="1:1", marker=2)


@pytest.mark.parametrize("reason", ["IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "NO_IMAGE", "IMAGE_OTHER"])
def test_blocked_image_output_is_reported_not_retried(client: GeminiClient, fake_gemini: FakeGemini,
                                                      usage: list[UsageDelta], reason: str) -> None:
    fake_gemini.add_fault("generateContent", Fault("image_blocked", reason=reason, message="policy says no"))
    answer = client.generate_image(IMAGE_MODEL, prompt="something", aspect_ratio="1:1")
    assert answer.blocked and answer.png is None
    # google-genai 3.6.1 drops the candidate's finishMessage while converting, so only the reason arrives.
    assert answer.blocked_reason.split(":")[0] == reason
    assert fake_gemini.count("generateContent") == 1
    assert usage[-1].images == 0


def test_blocked_prompt_is_reported(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault("prompt_blocked", reason="PROHIBITED_CONTENT"))
    answer = client.generate_image(IMAGE_MODEL, prompt="something", aspect_ratio="1:1")
    assert answer.blocked_reason == "prompt blocked: PROHIBITED_CONTENT"
    assert fake_gemini.count("generateContent") == 1


def test_text_only_image_answer_is_no_image(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault("text_only"))
    answer = client.generate_image(IMAGE_MODEL, prompt="something", aspect_ratio="1:1")
    assert answer.blocked_reason.startswith("NO_IMAGE")
    assert fake_gemini.count("generateContent") == 1


def test_image_server_error_is_retried(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault.http(503))
    answer = client.generate_image(IMAGE_MODEL, prompt="x", aspect_ratio="9:16")
    assert _decode(answer.png).size == (27, 48)
    assert fake_gemini.count("generateContent") == 2


def test_non_png_picture_is_converted(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buf, format="JPEG")
    raw = {"candidates": [{"content": {"role": "model", "parts": [
        {"inlineData": {"mimeType": "image/jpeg", "data": base64.b64encode(buf.getvalue()).decode()}}]},
        "finishReason": "STOP"}]}
    fake_gemini.responder = lambda model, request: raw
    answer = client.generate_image(IMAGE_MODEL, prompt="x", aspect_ratio="1:1")
    assert _decode(answer.png).format == "PNG"


def test_garbage_picture_bytes_are_retried(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    answers = iter([{"candidates": [{"content": {"role": "model", "parts": [
        {"inlineData": {"mimeType": "image/png", "data": "bm90IGFuIGltYWdl"}}]}, "finishReason": "STOP"}]}, None])
    fake_gemini.responder = lambda model, request: next(answers)
    answer = client.generate_image(IMAGE_MODEL, prompt="x", aspect_ratio="1:1")
    assert _decode(answer.png).format == "PNG"
    assert fake_gemini.count("generateContent") == 2


# --------------------------------------------------------------------------- usage and rate


def test_usage_is_accounted(client: GeminiClient, usage: list[UsageDelta]) -> None:
    client.generate_json(TEXT_MODEL, contents=["duration_ms: 5000"], schema=StoryboardAnswer)
    client.generate_image(IMAGE_MODEL, prompt="x", aspect_ratio="1:1")
    total = Usage()
    for delta in usage:
        total = add_usage(total, delta)
    assert total.calls == 2 and total.images == 1
    assert total.prompt_tokens == sum(d.prompt_tokens for d in usage) > 0
    assert total.output_tokens >= 1290
    assert total.est_cost_usd == pytest.approx(sum(d.est_cost_usd for d in usage))


def test_cost_estimate_uses_price_table() -> None:
    assert price_for("models/gemini-2.5-flash") is price_for("gemini-2.5-flash")
    assert price_for("gemini-2.5-flash-image-preview").image_output_per_m == 30.0
    assert estimate_cost_usd(model="gemini-2.5-flash", prompt_tokens=1_000_000, output_tokens=0) == 0.30
    assert estimate_cost_usd(model="gemini-2.5-flash-image", prompt_tokens=0, output_tokens=0,
                             images=1) == pytest.approx(0.0387)


def test_rate_limit_spaces_requests(fake_gemini: FakeGemini, clock: FakeClock) -> None:
    with GeminiClient(DEFAULT_API_KEY, base_url=fake_gemini.base_url, requests_per_minute=2, sleep=clock.sleep,
                      clock=clock) as client:
        for _ in range(5):
            client.generate_json(TEXT_MODEL, contents=["hi"], schema=StoryboardAnswer)
    assert fake_gemini.count("generateContent") == 5
    assert clock.sleeps == [pytest.approx(60.0), pytest.approx(60.0)]


def test_rate_limiter_sliding_window(clock: FakeClock) -> None:
    limiter = RateLimiter(requests_per_minute=3, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(7):
        limiter.acquire()
        starts.append(clock.now_s - 1000.0)
        clock.now_s += 5.0  # each request takes 5 s
    assert starts == [0, 5, 10, 60, 65, 70, 120]
    assert all(b - a >= 60.0 for a, b in zip(starts, starts[3:]))


def test_rate_limiter_off() -> None:
    limiter = RateLimiter(requests_per_minute=0, clock=lambda: 0.0, sleep=lambda s: pytest.fail("slept"))
    assert all(limiter.acquire() == 0.0 for _ in range(100))


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize("value,expected", [("3s", 3.0), ("1.5s", 1.5), ("0s", 0.0),
                                            ({"seconds": 2, "nanos": 500_000_000}, 2.5),
                                            ("soon", None), (None, None)])
def test_parse_retry_delay(value: object, expected: float | None) -> None:
    assert parse_retry_delay_s(value) == expected


def test_backoff_grows_and_caps() -> None:
    rng = random.Random(1)
    waits = [backoff_s(attempt=n, initial_s=1.0, max_s=8.0, rng=rng) for n in range(1, 7)]
    bases = [1, 2, 4, 8, 8, 8]
    assert all(b <= w <= b * 1.1 for w, b in zip(waits, bases))
    assert 5.0 <= backoff_s(attempt=1, initial_s=1.0, max_s=8.0, rng=rng, retry_after_s=5.0) <= 5.5


# --------------------------------------------------------------------------- pay once (issue 15)


def test_fenced_json_is_parsed_in_one_call(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault("fenced"))
    answer = client.generate_json(TEXT_MODEL, contents=["duration_ms: 10000"], schema=StoryboardAnswer)
    assert [s.end_ms for s in answer.scenes] == [5000, 10000]
    assert fake_gemini.count("generateContent") == 1


def test_out_of_range_numbers_are_clamped_in_one_call(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault("negative_time"))
    answer = client.generate_json(TEXT_MODEL, contents=["listen. duration_ms: 8000"], schema=AnalysisAnswer)
    assert fake_gemini.count("generateContent") == 1
    assert answer.lyrics[0].start_ms == 0  # -250 clamped
    assert all(s.energy == 1.0 for s in answer.sections)  # 1.5 clamped


@pytest.mark.parametrize("text, expected", [
    ('```json\n{"a": 1}\n```', {"a": 1}),
    ('Here you go: {"a": [1, 2]} -- hope it helps {"b": 2}', {"a": [1, 2]}),
    ('{not json} then {"a": 3}', {"a": 3}),
    ('```\n[{"a": 1}]\n```', [{"a": 1}]),
])
def test_extract_json_takes_the_first_object(text: str, expected: object) -> None:
    assert extract_json(text) == expected


def test_extract_json_without_json_raises() -> None:
    with pytest.raises(ValueError):
        extract_json("I'd rather describe it in words.")


def test_a_bare_list_fills_a_one_list_schema() -> None:
    answer = parse_answer('[{"start_ms": "1200.4", "end_ms": 3000, "lyric_text": "", "visual_intent": "x", '
                          '"mood": "m", "energy": "0.5"}]', StoryboardAnswer)
    assert answer.scenes[0].start_ms == 1200 and answer.scenes[0].energy == 0.5


def test_bad_twice_is_final_after_exactly_two_calls(client: GeminiClient, fake_gemini: FakeGemini,
                                                    clock: FakeClock) -> None:
    fake_gemini.add_fault("generateContent", Fault("malformed", times=5))
    with pytest.raises(ProviderError) as info:
        client.generate_json(TEXT_MODEL, contents=["duration_ms: 10000"], schema=StoryboardAnswer)
    assert info.value.retried is True  # nobody retries it again
    assert "after one repair call" in str(info.value)
    assert fake_gemini.count("generateContent") == 2 and clock.sleeps == []


def test_a_content_check_feeds_its_problem_back(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    seen: list[int] = []

    def check(answer: StoryboardAnswer) -> None:
        seen.append(len(answer.scenes))
        if len(seen) == 1:
            raise ValueError("the scenes cover only 10 % of the track")

    client.generate_json(TEXT_MODEL, contents=["duration_ms: 10000"], schema=StoryboardAnswer, check=check)
    assert seen == [2, 2] and fake_gemini.count("generateContent") == 2
    repair = fake_gemini.calls_to("generateContent")[1].body["contents"][2]["parts"][0]["text"]
    assert "cover only 10 %" in repair


def test_a_transport_error_in_the_repair_is_retried_not_repaired_again(client: GeminiClient,
                                                                       fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault("malformed", at_call=1))
    fake_gemini.add_fault("generateContent", Fault("http_error", status=503, at_call=2))
    answer = client.generate_json(TEXT_MODEL, contents=["duration_ms: 5000"], schema=StoryboardAnswer)
    assert len(answer.scenes) == 1
    calls = fake_gemini.calls_to("generateContent")
    assert len(calls) == 3 and [c.status for c in calls] == [200, 503, 200]
    assert [c["role"] for c in calls[2].body["contents"]] == ["user", "model", "user"]


@pytest.mark.parametrize("fault", [Fault("prompt_blocked", reason="SAFETY"),
                                   Fault("prompt_blocked", reason="PROHIBITED_CONTENT"),
                                   Fault("image_blocked", reason="SAFETY"),
                                   Fault("image_blocked", reason="PROHIBITED_CONTENT")])
def test_a_refused_json_request_raises_refused_after_one_call(client: GeminiClient, fake_gemini: FakeGemini,
                                                              fault: Fault) -> None:
    fake_gemini.add_fault("generateContent", fault)
    with pytest.raises(Refused) as info:
        client.generate_json(TEXT_MODEL, contents=["hello"], schema=StoryboardAnswer)
    assert fault.reason in info.value.reason and info.value.transient is False
    assert fake_gemini.count("generateContent") == 1


@pytest.mark.parametrize("reason", ["OTHER", "LANGUAGE", "MALFORMED_RESPONSE", "MAX_TOKENS", "RECITATION",
                                    "IMAGE_OTHER", "IMAGE_RECITATION", "NO_IMAGE"])
def test_every_image_finish_reason_without_a_picture_is_a_refusal(client: GeminiClient, fake_gemini: FakeGemini,
                                                                 reason: str) -> None:
    fake_gemini.add_fault("generateContent", Fault("image_blocked", reason=reason))
    answer = client.generate_image(IMAGE_MODEL, prompt="something", aspect_ratio="1:1")
    assert answer.blocked and answer.blocked_reason.split(":")[0] == reason
    assert fake_gemini.count("generateContent") == 1


def test_an_unknown_image_finish_reason_is_a_refusal(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault("image_blocked", reason="IMAGE_SOMETHING_NEW"))
    with pytest.warns(UserWarning):  # the SDK warns about an enum value it does not know
        answer = client.generate_image(IMAGE_MODEL, prompt="something", aspect_ratio="1:1")
    assert answer.blocked_reason == "IMAGE_SOMETHING_NEW"


def test_an_empty_image_answer_is_a_refusal(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    fake_gemini.responder = lambda model, request: {"candidates": [{"content": {"role": "model", "parts": []},
                                                                    "finishReason": "STOP"}]}
    answer = client.generate_image(IMAGE_MODEL, prompt="x", aspect_ratio="1:1")
    assert answer.blocked_reason.startswith("NO_IMAGE") and fake_gemini.count("generateContent") == 1


def test_garbage_picture_bytes_twice_are_a_refusal_after_two_calls(client: GeminiClient,
                                                                   fake_gemini: FakeGemini) -> None:
    garbage = {"candidates": [{"content": {"role": "model", "parts": [
        {"inlineData": {"mimeType": "image/png", "data": "bm90IGFuIGltYWdl"}}]}, "finishReason": "STOP"}]}
    fake_gemini.responder = lambda model, request: garbage
    answer = client.generate_image(IMAGE_MODEL, prompt="x", aspect_ratio="1:1")
    assert answer.blocked_reason.startswith("MALFORMED_IMAGE")
    assert fake_gemini.count("generateContent") == 2


def test_the_seed_is_sent(client: GeminiClient, fake_gemini: FakeGemini) -> None:
    client.generate_image(IMAGE_MODEL, prompt="x", aspect_ratio="1:1", seed=12345)
    assert fake_gemini.calls_to("generateContent")[0].body["generationConfig"]["seed"] == 12345


def test_stop_ends_the_upload_poll_at_once(client: GeminiClient, fake_gemini: FakeGemini, clock: FakeClock,
                                           wav: Path) -> None:
    fake_gemini.processing_polls = 1000
    polls_at_stop: list[int] = []

    def should_stop() -> bool:
        if clock.now_s - 1000.0 >= 3.0:  # Stop pressed 3 s into the wait
            polls_at_stop.append(fake_gemini.count("files.get"))
            return True
        return False

    with pytest.raises(CancelledError):
        client.upload_audio(wav, poll_interval_s=2.0, processing_timeout_s=300.0, should_stop=should_stop)
    assert 3.0 <= clock.now_s - 1000.0 <= 3.0 + STOP_SLICE_S + 1e-9  # not the next 2 s poll, let alone 300 s
    assert fake_gemini.count("files.get") == polls_at_stop[0] == 1


def test_stop_ends_a_retry_wait_at_once(client: GeminiClient, fake_gemini: FakeGemini, clock: FakeClock) -> None:
    fake_gemini.add_fault("generateContent", Fault.rate_limited(retry_delay_s=60))
    with pytest.raises(CancelledError):
        client.generate_json(TEXT_MODEL, contents=["hi"], schema=StoryboardAnswer,
                             should_stop=lambda: clock.now_s - 1000.0 >= 1.0)
    assert clock.now_s - 1000.0 <= 1.0 + STOP_SLICE_S + 1e-9
    assert fake_gemini.count("generateContent") == 1


def test_the_upload_records_its_expiry(client: GeminiClient, wav: Path) -> None:
    ref = client.upload_audio(wav, poll_interval_s=0.1)
    assert ref.expires_at is not None and (ref.expires_at - datetime.now(timezone.utc)).total_seconds() > 40 * 3600
    assert client.file_active(ref) is True
    assert client.file_active(FileRef(name="files/gone", uri="x", mime_type="audio/wav", size_bytes=1)) is False
