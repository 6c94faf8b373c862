"""Token auth, read-only system routes, CORS default, the web UI route, and the OpenAPI spec."""
from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import Server, start_server, stop_server

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("auth") / "data", token=TOKEN, log_level="info")  # info: the access log
    yield srv
    stop_server(srv)


@pytest.mark.parametrize("path", ["/health", "/projects", "/machine", "/styles", "/projects/abcdef", "/openapi.json"])
@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic czNjcmV0LXRva2Vu", "Bearer s3cret-token-not"])
def test_token_required_everywhere(auth_server: Server, path: str, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    resp = httpx.get(auth_server.base_url + path, headers=headers)
    if path == "/openapi.json":  # the spec holds no data; documented as public
        assert resp.status_code == 200
        return
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"


def test_token_accepted(auth_server: Server) -> None:
    with auth_server.client() as c:
        assert c.get("/health").status_code == 200
        created = c.post("/projects", json={"name": "auth"})
        assert created.status_code == 201
        assert c.get(f"/projects/{created.json()['id']}").status_code == 200


def test_token_in_the_url_is_refused_and_never_logged(auth_server: Server) -> None:
    # URLs end up in access logs: the token is accepted only as a header (or traded for the cookie)
    assert httpx.get(f"{auth_server.base_url}/projects?token={TOKEN}").status_code == 401
    assert httpx.get(f"{auth_server.base_url}/health?access_token={TOKEN}").status_code == 401
    assert auth_server.log_path is not None
    deadline = time.monotonic() + 5
    while "/health?access_token=" not in auth_server.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log_text = auth_server.log_path.read_text()
    assert "/projects?token=***" in log_text, log_text[-2000:]  # the access log is on, and redacts
    assert TOKEN not in log_text


def test_session_cookie_authorises_reads_only(auth_server: Server) -> None:
    with auth_server.client() as c:
        pid = c.post("/projects", json={"name": "cookie"}).json()["id"]
        session = c.post("/session")
    assert session.status_code == 200 and session.json()["expires_in"] > 0
    set_cookie = session.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "samesite=strict" in set_cookie.lower() and "Path=/" in set_cookie
    assert TOKEN not in set_cookie
    assert httpx.post(f"{auth_server.base_url}/session").status_code == 401  # getting one needs the header
    cookies = {"storybeat_session": session.cookies["storybeat_session"]}
    with httpx.Client(base_url=auth_server.base_url, cookies=cookies, timeout=30) as browser_like:
        assert browser_like.get(f"/projects/{pid}").status_code == 200
        with browser_like.stream("GET", f"/projects/{pid}/events") as events:
            assert events.status_code == 200
            assert next(events.iter_lines()).startswith("retry:")
        # the cookie never authorises a change
        assert browser_like.patch(f"/projects/{pid}", json={"style": "noir"}).status_code == 401
        assert browser_like.delete(f"/projects/{pid}").status_code == 401
        assert browser_like.post("/projects", json={}).status_code == 401


@pytest.mark.parametrize("value", ["", "garbage", "99999999999.abc", "1.0", "-5.x"])
def test_forged_session_cookies_are_refused(auth_server: Server, value: str) -> None:
    resp = httpx.get(f"{auth_server.base_url}/projects", cookies={"storybeat_session": value})
    assert resp.status_code == 401


def test_session_cookie_expires_and_is_bound_to_the_token() -> None:
    from api.auth import SESSION_S, session_valid, session_value

    value = session_value(TOKEN, now=1_000_000)
    assert session_valid(value, TOKEN, now=1_000_000 + SESSION_S - 1)
    assert not session_valid(value, TOKEN, now=1_000_000 + SESSION_S)
    assert not session_valid(value, "another-token", now=1_000_000)
    expires, _, sig = value.partition(".")
    assert not session_valid(f"{int(expires) + 3600}.{sig}", TOKEN, now=1_000_000)  # a longer life is not ours to give


def test_refused_write_creates_nothing(auth_server: Server) -> None:
    before = sorted(p.name for p in (auth_server.data / "projects").iterdir())
    assert httpx.post(f"{auth_server.base_url}/projects", json={"name": "x"}).status_code == 401
    assert sorted(p.name for p in (auth_server.data / "projects").iterdir()) == before


def test_health_machine_styles(client: httpx.Client) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["version"] and health["default_provider"] == "local"
    spec = client.get("/machine").json()
    assert spec["states"][0] == "CREATED" and "FAILED" in spec["states"]
    assert spec["mermaid"].startswith("stateDiagram-v2")
    assert {"trigger": "upload", "source": "CREATED", "dest": "UPLOADED"} in spec["transitions"]
    styles = client.get("/styles").json()
    assert len(styles) == 6 and all(s["palette"][0].startswith("#") for s in styles)
    sample = client.get(styles[0]["sample_url"])
    assert sample.status_code == 200 and sample.content[:8] == b"\x89PNG\r\n\x1a\n"
    again = client.get(styles[0]["sample_url"])
    assert again.content == sample.content  # cached


def test_project_lifecycle_without_audio(client: httpx.Client, server: Server) -> None:
    created = client.post("/projects", json={"name": "  plain  ", "settings": {"style": "watercolor", "aspect": "9:16"}})
    assert created.status_code == 201
    project = created.json()
    assert project["name"] == "plain" and project["settings"]["aspect"] == "9:16" and project["busy"] is False
    assert project["jobs"]["pipeline"]["status"] == "idle" and project["renders"] == []
    assert project["resumable"] is False
    pid = project["id"]
    patched = client.patch(f"/projects/{pid}", json={"style": "cosmic", "subtitles": False})
    assert patched.status_code == 200 and patched.json()["settings"]["style"] == "cosmic"
    assert patched.json()["state"] == "CREATED"
    listed = client.get("/projects").json()
    assert any(p["id"] == pid and p["duration_ms"] is None for p in listed)
    assert client.get(f"/projects/{pid}/jobs").json()["render"]["kind"] == "render"
    empty = client.post("/projects")
    assert empty.status_code == 201 and empty.json()["name"] == ""
    assert client.delete(f"/projects/{pid}").status_code == 204
    assert not (server.data / "projects" / pid).exists()
    assert client.delete(f"/projects/{pid}").status_code == 404


def test_cors_off_by_default(client: httpx.Client) -> None:
    resp = client.options("/projects", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in resp.headers


def test_web_ui_root(client: httpx.Client) -> None:
    resp = client.get("/")
    assert resp.status_code in (200, 404)
    if resp.status_code == 200:
        assert resp.headers["content-type"].startswith("text/html")


def test_openapi_has_response_models(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            ok = [code for code in op["responses"] if code.startswith("2")]
            assert ok, f"{method} {path} documents no success response"
            assert "401" in op["responses"], f"{method} {path} does not document 401"
            if "{project_id}" in path:
                assert "404" in op["responses"], f"{method} {path} does not document 404"
