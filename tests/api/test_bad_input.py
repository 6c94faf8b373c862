"""Bad input gets the right status, never a 500, and changes nothing on disk.

Validation cases (ids, types, strict JSON, illegal transitions) run in process
through FastAPI's ``TestClient``: a real server adds nothing to them. Uploads
(streamed multipart, early close) and workers keep the real server.
"""
from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from engine.config import get_settings
from tests.api.conftest import MAX_UPLOAD_MB, Server, tree_hash, uploaded_project, wait_until_idle, wav_bytes

P = "{pid}"  # replaced by a fresh project id (state CREATED)


@dataclass(frozen=True)
class Case:
    """One bad request and the status it must get."""

    name: str
    method: str
    path: str
    status: int
    json: object = None
    content: bytes | None = None
    headers: dict = field(default_factory=dict)
    files: dict | None = None
    data: dict | None = None


WAV = wav_bytes(seconds=3.0)
TRUNCATED_WAV = WAV[: len(WAV) // 2]
BIG = b"\0" * (MAX_UPLOAD_MB * 1024 * 1024 + 10)

VALIDATION_CASES = [
    # unknown ids and path tricks
    Case("unknown project", "GET", "/projects/nope-nope", 404),
    Case("upper-case id", "GET", "/projects/ABCDEF", 404),
    Case("encoded traversal id", "GET", "/projects/..%2F..%2Fetc", 404),
    Case("dot id", "GET", "/projects/%2e%2e", 404),
    Case("unknown project jobs", "GET", "/projects/zzzzzz/jobs", 404),
    Case("unknown project events", "GET", "/projects/zzzzzz/events", 404),
    Case("delete unknown", "DELETE", "/projects/zzzzzz", 404),
    Case("patch unknown project", "PATCH", "/projects/zzzzzz", 404, json={"style": "noir"}),
    Case("file traversal", "GET", f"/projects/{P}/files/..%2Fproject.json", 404),
    Case("file json not served", "GET", f"/projects/{P}/files/project.json", 404),
    Case("file absolute", "GET", f"/projects/{P}/files/%2Fetc%2Fpasswd", 404),
    Case("file nested traversal", "GET", f"/projects/{P}/files/images/..%2F..%2F..%2Fproject.json", 404),
    Case("file original upload not served", "GET", f"/projects/{P}/files/source/original.wav", 404),
    Case("file missing image", "GET", f"/projects/{P}/files/images/seg_001_v1.png", 404),
    Case("bad scene id", "PATCH", f"/projects/{P}/segments/seg_1%3Brm", 404, json={"visual_intent": "x"}),
    Case("scene traversal", "POST", f"/projects/{P}/segments/..%2Fseg_001/regenerate", 404),
    Case("style sample unknown", "GET", "/styles/..%2Fetc/sample.png", 404),
    # analysis / storyboard before they exist
    Case("analysis before analyze", "GET", f"/projects/{P}/analysis", 404),
    Case("segments before segment", "GET", f"/projects/{P}/segments", 404),
    Case("patch scene without storyboard", "PATCH", f"/projects/{P}/segments/seg_001", 404, json={"visual_intent": "x"}),
    Case("restore without storyboard", "POST", f"/projects/{P}/segments/seg_001/restore", 404, json={"version": 1}),
    Case("regenerate without storyboard", "POST", f"/projects/{P}/segments/seg_001/regenerate", 404),
    # wrong types and bad JSON
    Case("name not a string", "POST", "/projects", 422, json={"name": 5}),
    Case("unknown style", "POST", "/projects", 422, json={"settings": {"style": "cubism"}}),
    Case("bad aspect", "POST", "/projects", 422, json={"settings": {"aspect": "4:3"}}),
    Case("bad resolution", "POST", "/projects", 422, json={"settings": {"resolution": 999}}),
    Case("unknown setting", "POST", "/projects", 422, json={"settings": {"colour": "red"}}),
    Case("min > max scene", "POST", "/projects", 422, json={"settings": {"min_scene_ms": 9000, "max_scene_ms": 3000}}),
    Case("body is a list", "POST", "/projects", 422, json=[1, 2]),
    Case("broken JSON", "POST", "/projects", 422, content=b'{"name": ', headers={"content-type": "application/json"}),
    Case("name too long", "POST", "/projects", 422, json={"name": "x" * 1000}),
    Case("patch fps as text", "PATCH", f"/projects/{P}", 422, json={"fps": "fast"}),
    Case("patch unknown key", "PATCH", f"/projects/{P}", 422, json={"bogus": 1}),
    Case("patch unknown style", "PATCH", f"/projects/{P}", 422, json={"style": "../../etc"}),
    Case("run bad target", "POST", f"/projects/{P}/run", 422, json={"target": "DONE"}),
    Case("run preview not bool", "POST", f"/projects/{P}/run", 422, json={"preview": "maybe"}),
    Case("restore version 0", "POST", f"/projects/{P}/segments/seg_001/restore", 422, json={"version": 0}),
    Case("restore version text", "POST", f"/projects/{P}/segments/seg_001/restore", 422, json={"version": "one"}),
    Case("restore version as a string", "POST", f"/projects/{P}/segments/seg_001/restore", 422, json={"version": "1"}),
    Case("restore version as a bool", "POST", f"/projects/{P}/segments/seg_001/restore", 422, json={"version": True}),
    Case("patch scene huge style hint", "PATCH", f"/projects/{P}/segments/seg_001", 422, json={"style_hints": ["x" * 201]}),
    Case("run towards UPLOADED", "POST", f"/projects/{P}/run", 422, json={"target": "UPLOADED"}),
    Case("patch scene empty intent", "PATCH", f"/projects/{P}/segments/seg_001", 422, json={"visual_intent": ""}),
    # strict types: nothing is coerced into what the client did not write
    Case("run preview as text", "POST", f"/projects/{P}/run", 422, json={"preview": "yes"}),
    Case("run preview as a number", "POST", f"/projects/{P}/run", 422, json={"preview": 1}),
    Case("render preview as text", "POST", f"/projects/{P}/render", 422, json={"preview": "true"}),
    Case("seed as a bool", "POST", "/projects", 422, json={"settings": {"seed": False}}),
    Case("fps as a float", "PATCH", f"/projects/{P}", 422, json={"fps": 30.0}),
    Case("fps as numeric text", "PATCH", f"/projects/{P}", 422, json={"fps": "30"}),
    Case("subtitles as a number", "PATCH", f"/projects/{P}", 422, json={"subtitles": 0}),
    Case("resolution as text", "POST", "/projects", 422, json={"settings": {"resolution": "720"}}),
    Case("intent as a number", "PATCH", f"/projects/{P}/segments/seg_001", 422, json={"visual_intent": 5}),
    # strict JSON: UTF-8, finite numbers, no duplicate keys
    *[Case(f"{word} in {method} {path.split('/')[-1] or 'projects'}", method, path, 422, content=body.replace(b"@", word.encode()),
           headers={"content-type": "application/json"})
      for word in ("NaN", "Infinity", "-Infinity")
      for method, path, body in [
          ("POST", "/projects", b'{"settings": {"fps": @}}'),
          ("PATCH", f"/projects/{P}", b'{"fps": @}'),
          ("POST", f"/projects/{P}/run", b'{"target": "RENDERED", "x": @}'),
          ("POST", f"/projects/{P}/segments/seg_001/restore", b'{"version": @}'),
      ]],
    Case("JSON not UTF-8", "POST", "/projects", 422, content=b'{"name": "caf\xe9"}',
         headers={"content-type": "application/json"}),
    Case("JSON in UTF-16", "POST", "/projects", 422, content='{"name": "x"}'.encode("utf-16"), headers={"content-type": "application/json"}),
    Case("JSON duplicate key", "PATCH", f"/projects/{P}", 422, content=b'{"fps": 24, "fps": 30}', headers={"content-type": "application/json"}),
    # illegal transitions
    Case("run before upload", "POST", f"/projects/{P}/run", 409, json={}),
    Case("render before upload", "POST", f"/projects/{P}/render", 409, json={"preview": True}),
    Case("resume with nothing to resume", "POST", f"/projects/{P}/resume", 409),
]
UPLOAD_CASES = [
    Case("upload as JSON", "POST", f"/projects/{P}/upload", 415, json={"audio": "x"}),
    Case("upload text as audio", "POST", f"/projects/{P}/upload", 415, files={"audio": ("song.mp3", b"hello, this is not audio" * 50, "audio/mpeg")}),
    Case("upload image as audio", "POST", f"/projects/{P}/upload", 415, files={"audio": ("song.wav", b"\x89PNG\r\n\x1a\n" + b"\0" * 500, "audio/wav")}),
    Case("upload truncated wav", "POST", f"/projects/{P}/upload", 422, files={"audio": ("song.wav", TRUNCATED_WAV, "audio/wav")}),
    Case("upload empty file", "POST", f"/projects/{P}/upload", 422, files={"audio": ("song.wav", b"", "audio/wav")}),
    Case("upload too short", "POST", f"/projects/{P}/upload", 422, files={"audio": ("song.wav", wav_bytes(seconds=0.5), "audio/wav")}),
    Case("upload too large", "POST", f"/projects/{P}/upload", 413, files={"audio": ("big.wav", BIG, "audio/wav")}),
    Case("upload without audio", "POST", f"/projects/{P}/upload", 422, files={"lyrics_text": (None, "la la la")}),
    Case("upload form-urlencoded", "POST", f"/projects/{P}/upload", 415, data={"lyrics_text": "la la la"}),
    Case("upload audio as text field", "POST", f"/projects/{P}/upload", 422, files={"x": (None, "y")}, data={"audio": "not a file"}),
    Case("upload unknown field", "POST", f"/projects/{P}/upload", 422, files={"audio": ("a.wav", WAV, "audio/wav"), "evil": ("e", b"e")}),
    Case("upload lyrics not UTF-8", "POST", f"/projects/{P}/upload", 422, files={"audio": ("a.wav", WAV, "audio/wav"), "lyrics": ("l.txt", b"\xff\xfe\xfa bad", "text/plain")}),
    Case("upload to unknown project", "POST", "/projects/zzzzzz/upload", 404, files={"audio": ("a.wav", WAV, "audio/wav")}),
    Case("upload no boundary", "POST", f"/projects/{P}/upload", 422, content=b"xx", headers={"content-type": "multipart/form-data"}),
]


CASES = VALIDATION_CASES + UPLOAD_CASES


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    """The API in process (no token, uploads capped as the server's) on its own data root, and that root."""
    data = tmp_path_factory.mktemp("inproc") / "data"
    data.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STORYBEAT_DATA", str(data))
        mp.setenv("STORYBEAT_MAX_UPLOAD_MB", str(MAX_UPLOAD_MB))
        for name in ("STORYBEAT_TOKEN", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
            mp.delenv(name, raising=False)
        get_settings.cache_clear()
        from api.main import create_app

        with TestClient(create_app()) as client:
            yield client, data
    get_settings.cache_clear()


def _send(c: httpx.Client | TestClient, case: Case, project_id: str) -> httpx.Response:
    kwargs: dict = {"headers": case.headers}
    for key in ("json", "content", "files", "data"):
        if getattr(case, key) is not None:
            kwargs[key] = getattr(case, key)
    return c.request(case.method, case.path.replace(P, project_id), **kwargs)


def _check(resp: httpx.Response, case: Case) -> None:
    assert resp.status_code == case.status, resp.text[:500]
    body = resp.json()
    assert "detail" in body
    if case.status == 409:
        detail = body["detail"]
        assert detail["message"] and detail["state"] == "CREATED" and detail["allowed"] == ["upload"]


@pytest.mark.parametrize("case", VALIDATION_CASES, ids=[c.name for c in VALIDATION_CASES])
def test_bad_input(app: tuple[TestClient, Path], case: Case) -> None:
    client, data = app
    created_id = client.post("/projects", json={"name": "corpus"}).json()["id"]
    before = tree_hash(data)
    _check(_send(client, case, created_id), case)
    assert tree_hash(data) == before, "a refused request changed files on disk"


@pytest.fixture(scope="module")
def created_id(server: Server) -> str:
    with server.client() as c:
        return c.post("/projects", json={"name": "corpus"}).json()["id"]


@pytest.mark.parametrize("case", UPLOAD_CASES, ids=[c.name for c in UPLOAD_CASES])
def test_bad_upload(server: Server, created_id: str, case: Case) -> None:
    before = tree_hash(server.data)
    with server.client() as c:
        _check(_send(c, case, created_id), case)
    assert tree_hash(server.data) == before, "a refused request changed files on disk"


def test_the_project_view_carries_the_machines_ui_rules(app: tuple[TestClient, Path]) -> None:
    """can_generate / render_kind / stands_for come with every project view (the UI holds no state lists)."""
    client, _ = app
    view = client.post("/projects", json={"name": "rules"}).json()
    assert view["state"] == "CREATED" and view["can_generate"] is False and view["render_kind"] is None
    assert view["stands_for"] == "CREATED"
    assert client.get(f"/projects/{view['id']}").json()["render_kind"] is None


def test_unknown_routes_and_methods(client: httpx.Client) -> None:
    assert client.get("/nothing-here").status_code == 404
    assert client.put("/projects").status_code == 405


@pytest.fixture
def any_server(request: pytest.FixtureRequest, api_env: dict[str, str], tmp_path) -> Server:  # type: ignore[no-untyped-def]
    """The shared server on disk, a server of the test's own on a bucket."""
    if not api_env:
        yield request.getfixturevalue("server")
        return
    from tests.api.conftest import start_server, stop_server

    own = start_server(tmp_path / "data", env_extra=api_env)
    yield own
    stop_server(own)


@pytest.mark.slow  # real workers
def test_concurrent_runs_start_one_worker(any_server: Server) -> None:
    server = any_server
    with server.client() as c:
        pid = uploaded_project(c, "race", seconds=3.0)

        def start(_: int) -> httpx.Response:
            with server.client() as cc:
                return cc.post(f"/projects/{pid}/run", json={"target": "ANALYZED"})

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            responses = list(pool.map(start, range(6)))
        codes = sorted(r.status_code for r in responses)
        assert codes == [202] + [409] * 5, [r.text for r in responses]
        assert all(r.json()["detail"]["busy"] is True for r in responses if r.status_code == 409)
        busy = c.get(f"/projects/{pid}").json()
        if busy["busy"]:
            refused = c.delete(f"/projects/{pid}")
            assert refused.status_code in (409, 204)
        project = wait_until_idle(c, pid)
        assert project["state"] in ("ANALYZED", "UPLOADED")


@pytest.mark.slow  # real workers
def test_cancel_stops_the_worker(server: Server) -> None:
    with server.client() as c:
        pid = uploaded_project(c, "stop", seconds=4.0)
        assert c.post(f"/projects/{pid}/cancel").json() == {"stopped": False}
        assert c.post(f"/projects/{pid}/run", json={"target": "RENDERED"}).status_code == 202
        stopped = c.post(f"/projects/{pid}/cancel")
        assert stopped.status_code == 202 and stopped.json() == {"stopped": True}
        project = wait_until_idle(c, pid, timeout_s=60)
        assert project["jobs"]["pipeline"]["status"] == "cancelled"
        assert not project["busy"] and project["state"] != "RENDERED"


def test_the_cached_status_views_follow_the_files_and_the_workers(app: tuple[TestClient, Path]) -> None:
    """GET /projects/{id} and /jobs are cached; a changed file, or a worker dying (no file changes), shows at once."""
    import subprocess

    from engine.models import Job, utcnow
    from engine.storage import ProjectFolder

    client, _ = app
    pid = client.post("/projects", json={"name": "cached"}).json()["id"]
    pulse = client.get(f"/projects/{pid}").json()["settings"]["beat_pulse"]
    assert client.get(f"/projects/{pid}").json()["settings"]["beat_pulse"] is pulse  # the cached copy
    assert client.patch(f"/projects/{pid}", json={"beat_pulse": not pulse}).status_code == 200
    assert client.get(f"/projects/{pid}").json()["settings"]["beat_pulse"] is (not pulse)
    worker = subprocess.Popen(["sleep", "60"])
    try:
        ProjectFolder(pid).save_job(Job(kind="pipeline", status="running", target="ANALYZED", pid=worker.pid,
                                        started_at=utcnow(), heartbeat_at=utcnow()))
        view = client.get(f"/projects/{pid}").json()
        assert view["busy"] and view["jobs"]["pipeline"]["status"] == "running"
        assert client.get(f"/projects/{pid}/jobs").json()["pipeline"]["status"] == "running"
    finally:
        worker.kill()
        worker.wait()
    view = client.get(f"/projects/{pid}").json()  # the job file still says running
    assert not view["busy"] and view["resumable"] and view["jobs"]["pipeline"]["status"] == "interrupted"
    assert client.get(f"/projects/{pid}/jobs").json()["pipeline"]["status"] == "interrupted"
