"""The fake Gemini server itself: wire details, faults, defaults, standalone mode."""
from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import types
from PIL import Image

from engine.providers.gemini.schemas import AnalysisAnswer, PromptsAnswer, StoryboardAnswer
from tests.fakes import DEFAULT_API_KEY, Fault, FakeGemini, fake_gemini  # noqa: F401 (fixture)
from tests.fakes.gemini_server import default_json_answer, is_repair, make_png, prompt_colour, request_kind

REPO = Path(__file__).resolve().parents[2]
KEY = {"x-goog-api-key": DEFAULT_API_KEY}


def _generate_body(text: str, **config: object) -> dict:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], "generationConfig": dict(config)}


def _schema_of(model: type) -> dict:
    """The responseSchema the real SDK sends for a pydantic model (captured from a fake)."""
    with FakeGemini() as fake:
        client = genai.Client(api_key=DEFAULT_API_KEY,
                              http_options=types.HttpOptions(base_url=fake.base_url, api_version="v1beta"))
        client.models.generate_content(model="m", contents="x", config=types.GenerateContentConfig(
            response_mime_type="application/json", response_schema=model))
        return fake.calls[0].body["generationConfig"]["responseSchema"]


@pytest.mark.parametrize("version", ["v1", "v1beta", "v1alpha"])
def test_api_versions_accepted(fake_gemini: FakeGemini, version: str) -> None:
    reply = httpx.post(f"{fake_gemini.base_url}/{version}/models/gemini-2.5-flash:generateContent",
                       headers=KEY, json=_generate_body("hello"))
    assert reply.status_code == 200
    assert reply.json()["candidates"][0]["finishReason"] == "STOP"
    assert fake_gemini.calls[0].api_version == version and fake_gemini.calls[0].model == "gemini-2.5-flash"


def test_api_key_checked(fake_gemini: FakeGemini) -> None:
    url = f"{fake_gemini.base_url}/v1beta/models/m:generateContent"
    missing = httpx.post(url, json=_generate_body("x"))
    wrong = httpx.post(url, headers={"x-goog-api-key": "nope"}, json=_generate_body("x"))
    assert missing.status_code == 403 and missing.json()["error"]["status"] == "PERMISSION_DENIED"
    assert wrong.status_code == 401 and wrong.json()["error"]["status"] == "UNAUTHENTICATED"
    assert httpx.get(f"{fake_gemini.base_url}/v1beta/files/abc").status_code == 403


def test_unknown_route_and_empty_contents(fake_gemini: FakeGemini) -> None:
    assert httpx.get(f"{fake_gemini.base_url}/v2/whatever", headers=KEY).status_code == 404
    reply = httpx.post(f"{fake_gemini.base_url}/v1beta/models/m:generateContent", headers=KEY, json={})
    assert reply.status_code == 400 and reply.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_upload_url_built_from_host_header(fake_gemini: FakeGemini) -> None:
    reply = httpx.post(f"{fake_gemini.base_url}/upload/v1beta/files",
                       headers={**KEY, "Host": "example.test:9999", "X-Goog-Upload-Protocol": "resumable",
                                "X-Goog-Upload-Command": "start", "X-Goog-Upload-Header-Content-Length": "3",
                                "X-Goog-Upload-Header-Content-Type": "audio/wav"},
                       json={"file": {"display_name": "a.wav"}})
    assert reply.headers["x-goog-upload-status"] == "active"
    assert reply.headers["x-goog-upload-url"].startswith("http://example.test:9999/upload/v1beta/files?upload_id=")


def test_chunked_upload_with_bad_offset_is_refused(fake_gemini: FakeGemini) -> None:
    start = httpx.post(f"{fake_gemini.base_url}/upload/v1beta/files",
                       headers={**KEY, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
                                "X-Goog-Upload-Header-Content-Length": "6",
                                "X-Goog-Upload-Header-Content-Type": "audio/wav"}, json={"file": {}})
    url = start.headers["x-goog-upload-url"]
    first = httpx.post(url, headers={"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0"}, content=b"abc")
    assert first.headers["x-goog-upload-status"] == "active"
    bad = httpx.post(url, headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "1"},
                     content=b"def")
    assert bad.status_code == 400
    done = httpx.post(url, headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "3"},
                      content=b"def")
    assert done.headers["x-goog-upload-status"] == "final"
    file = done.json()["file"]
    assert file["sizeBytes"] == "6" and file["mimeType"] == "audio/wav" and file["state"] == "PROCESSING"


def test_real_sdk_upload_and_poll(fake_gemini: FakeGemini, tmp_path: Path) -> None:
    path = tmp_path / "song.wav"
    path.write_bytes(b"x" * 5000)
    client = genai.Client(api_key=DEFAULT_API_KEY,
                          http_options=types.HttpOptions(base_url=fake_gemini.base_url, api_version="v1beta"))
    file = client.files.upload(file=str(path), config=types.UploadFileConfig(mime_type="audio/wav"))
    assert file.state.name == "PROCESSING" and file.size_bytes == 5000
    states = [client.files.get(name=file.name).state.name for _ in range(3)]
    assert states == ["PROCESSING", "ACTIVE", "ACTIVE"]


def test_faults_queue_in_order_and_pin_to_calls(fake_gemini: FakeGemini) -> None:
    url = f"{fake_gemini.base_url}/v1beta/models/m:generateContent"
    fake_gemini.add_fault("generateContent", Fault.http(503))
    fake_gemini.add_fault("generateContent", Fault.rate_limited(retry_delay_s=1.5))
    fake_gemini.add_fault("generateContent", Fault("http_error", status=500, at_call=5))
    statuses = [httpx.post(url, headers=KEY, json=_generate_body("x")).status_code for _ in range(6)]
    assert statuses == [503, 429, 200, 200, 500, 200]
    body = fake_gemini.calls[1]
    assert body.fault == "http_error" and body.status == 429


def test_429_body_carries_retry_info(fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("*", Fault.rate_limited(retry_delay_s=7))
    reply = httpx.post(f"{fake_gemini.base_url}/v1beta/models/m:generateContent", headers=KEY,
                       json=_generate_body("x"))
    error = reply.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error["details"] == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]


def test_unknown_fault_kind_rejected() -> None:
    with pytest.raises(ValueError):
        Fault("explode")


def test_default_answers_fit_the_storybeat_schemas() -> None:
    text = "duration_ms: 42000 scenes seg_001 seg_002 seg_003"
    for model in (AnalysisAnswer, StoryboardAnswer, PromptsAnswer):
        answer = default_json_answer(_generate_body(text, responseSchema=_schema_of(model)))
        model.model_validate(answer)
    storyboard = StoryboardAnswer.model_validate(
        default_json_answer(_generate_body(text, responseSchema=_schema_of(StoryboardAnswer))))
    assert storyboard.scenes[0].start_ms == 0 and storyboard.scenes[-1].end_ms == 42000
    assert all(a.end_ms == b.start_ms for a, b in zip(storyboard.scenes, storyboard.scenes[1:]))
    prompts = PromptsAnswer.model_validate(
        default_json_answer(_generate_body(text, responseSchema=_schema_of(PromptsAnswer))))
    assert [p.id for p in prompts.scenes] == ["seg_001", "seg_002", "seg_003"]


def test_default_answer_from_json_schema_with_refs() -> None:
    schema = StoryboardAnswer.model_json_schema()  # uses $defs / $ref, as responseJsonSchema would
    answer = default_json_answer(_generate_body("duration_ms=10000", responseJsonSchema=schema))
    assert len(StoryboardAnswer.model_validate(answer).scenes) == 2


def test_image_answer_is_a_real_png(fake_gemini: FakeGemini) -> None:
    reply = httpx.post(f"{fake_gemini.base_url}/v1beta/models/img:generateContent", headers=KEY,
                       json=_generate_body("a blue whale", responseModalities=["IMAGE"],
                                           imageConfig={"aspectRatio": "4:3"}))
    parts = reply.json()["candidates"][0]["content"]["parts"]
    assert "text" in parts[0]
    png = base64.b64decode(parts[-1]["inlineData"]["data"])
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (48, 36)
    assert png == make_png(prompt="a blue whale", aspect_ratio="4:3")
    assert prompt_colour("a blue whale") == prompt_colour("a blue whale") != prompt_colour("a red whale")


def test_thought_and_block_faults_shape_the_answer(fake_gemini: FakeGemini) -> None:
    url = f"{fake_gemini.base_url}/v1beta/models/img:generateContent"
    body = _generate_body("x", responseModalities=["IMAGE"])
    fake_gemini.add_fault("generateContent", Fault("thought_images", count=3))
    fake_gemini.add_fault("generateContent", Fault("image_blocked", reason="IMAGE_PROHIBITED_CONTENT"))
    fake_gemini.add_fault("generateContent", Fault("prompt_blocked", reason="OTHER"))
    parts = httpx.post(url, headers=KEY, json=body).json()["candidates"][0]["content"]["parts"]
    assert [p.get("thought", False) for p in parts if "inlineData" in p] == [True, True, True, False]
    blocked = httpx.post(url, headers=KEY, json=body).json()
    assert blocked["candidates"] == [{"finishReason": "IMAGE_PROHIBITED_CONTENT", "index": 0}]
    prompt = httpx.post(url, headers=KEY, json=body).json()
    assert prompt["promptFeedback"] == {"blockReason": "OTHER"} and "candidates" not in prompt


def test_malformed_fault_gives_invalid_json_text(fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault("malformed"))
    reply = httpx.post(f"{fake_gemini.base_url}/v1beta/models/m:generateContent", headers=KEY,
                       json=_generate_body("x"))
    text = reply.json()["candidates"][0]["content"]["parts"][0]["text"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_request_kind_is_told_from_the_request_itself() -> None:
    text = "no marker here: duration_ms: 9000 seg_001"
    kinds = {model.__name__: request_kind(_generate_body(text, responseSchema=_schema_of(model)))
             for model in (AnalysisAnswer, StoryboardAnswer, PromptsAnswer)}
    assert kinds == {"AnalysisAnswer": "analysis", "StoryboardAnswer": "storyboard", "PromptsAnswer": "prompts"}
    assert request_kind(_generate_body(text, responseModalities=["IMAGE"])) == "image"
    assert request_kind(_generate_body(text)) is None
    repair = {"contents": [{"role": "user", "parts": [{"text": "q"}]}, {"role": "model", "parts": [{"text": "a"}]},
                           {"role": "user", "parts": [{"text": "fix it"}]}]}
    assert is_repair(repair) and not is_repair(_generate_body(text))


def test_fenced_and_out_of_range_faults(fake_gemini: FakeGemini) -> None:
    url = f"{fake_gemini.base_url}/v1beta/models/m:generateContent"
    body = _generate_body("duration_ms: 10000", responseSchema=_schema_of(StoryboardAnswer))
    fake_gemini.add_fault("generateContent", Fault("fenced"))
    fake_gemini.add_fault("generateContent", Fault("negative_time"))
    fenced = httpx.post(url, headers=KEY, json=body).json()["candidates"][0]["content"]["parts"][0]["text"]
    assert "```json\n" in fenced and not fenced.startswith("{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(fenced)
    sloppy = json.loads(httpx.post(url, headers=KEY, json=body).json()["candidates"][0]["content"]["parts"][0]["text"])
    assert sloppy["scenes"][0]["start_ms"] == -250 and {s["energy"] for s in sloppy["scenes"]} == {1.5}


def test_retry_after_header_and_file_expiry(fake_gemini: FakeGemini, tmp_path: Path) -> None:
    fake_gemini.add_fault("*", Fault("http_error", status=503, retry_after_header_s=9))
    reply = httpx.post(f"{fake_gemini.base_url}/v1beta/models/m:generateContent", headers=KEY,
                       json=_generate_body("x"))
    assert reply.status_code == 503 and reply.headers["retry-after"] == "9"
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF0000")
    client = genai.Client(api_key=DEFAULT_API_KEY,
                          http_options=types.HttpOptions(base_url=fake_gemini.base_url, api_version="v1beta"))
    file = client.files.upload(file=str(wav), config=types.UploadFileConfig(mime_type="audio/wav"))
    assert (file.expiration_time - file.create_time).total_seconds() == pytest.approx(48 * 3600, abs=2)


def test_slow_fault_delays_the_answer(fake_gemini: FakeGemini) -> None:
    fake_gemini.add_fault("generateContent", Fault("slow", delay_s=5.0))
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"{fake_gemini.base_url}/v1beta/models/m:generateContent", headers=KEY,
                   json=_generate_body("x"), timeout=0.3)
    assert fake_gemini.count("generateContent") == 1


def test_calls_are_recorded(fake_gemini: FakeGemini) -> None:
    httpx.post(f"{fake_gemini.base_url}/v1beta/models/a:generateContent", headers=KEY, json=_generate_body("1"))
    httpx.post(f"{fake_gemini.base_url}/v1beta/models/b:generateContent", headers=KEY, json=_generate_body("2"))
    assert fake_gemini.count("generateContent") == 2
    assert fake_gemini.count("generateContent", model="b") == 1
    assert fake_gemini.calls[1].body["contents"][0]["parts"][0]["text"] == "2"
    assert fake_gemini.counts() == {"generateContent": 2}
    control = httpx.get(f"{fake_gemini.base_url}/_fake/calls").json()["calls"]
    assert [c["model"] for c in control] == ["a", "b"]


def test_standalone_process(tmp_path: Path) -> None:
    state = tmp_path / "fake.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.gemini_server", "--port", "0",
                             "--api-key", "k2", "--state-file", str(state)], cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + 20
        while not state.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "fake did not start"
            time.sleep(0.05)
        info = json.loads(state.read_text())
        base = info["base_url"]
        assert info["pid"] == proc.pid
        queued = httpx.post(f"{base}/_fake/faults", json=[{"route": "generateContent", "kind": "http_error",
                                                           "status": 429, "retry_delay_s": 2}])
        assert queued.json() == {"queued": 1}
        assert httpx.post(f"{base}/_fake/faults", json={"kind": "nope"}).status_code == 400
        url = f"{base}/v1beta/models/m:generateContent"
        first = httpx.post(url, headers={"x-goog-api-key": "k2"}, json=_generate_body("x"))
        second = httpx.post(url, headers={"x-goog-api-key": "k2"}, json=_generate_body("x"))
        assert (first.status_code, second.status_code) == (429, 200)
        assert httpx.get(f"{base}/_fake/counts").json() == {"generateContent": 2}
        assert json.loads(state.read_text())["counts"] == {"generateContent": 2}
        assert len(httpx.get(f"{base}/_fake/calls").json()["calls"]) == 2
        httpx.post(f"{base}/_fake/reset")
        assert httpx.get(f"{base}/_fake/counts").json() == {}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
