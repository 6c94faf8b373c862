"""HTTP hygiene against a real server: strict JSON messages, OPTIONS/Allow, early close, body timeouts,
security headers, symlinks in a project folder, and the SSE error event of an unreadable project."""
from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import Server, start_server, stop_server, uploaded_project

BODY_TIMEOUT_S = 1


@pytest.fixture(scope="module")
def hserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that waits at most BODY_TIMEOUT_S for each chunk of a request body."""
    srv = start_server(tmp_path_factory.mktemp("http") / "data", env_extra={"STORYBEAT_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S)})
    yield srv
    stop_server(srv)


def raw_exchange(server: Server, request: bytes, *, read_deadline_s: float = 10.0) -> tuple[bytes, bool]:
    """Send ``request`` bytes, then read until the server closes; (everything read, whether it closed in time)."""
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_deadline_s) as sock:
        sock.sendall(request)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, socket.timeout):
            return received, False
        except ConnectionResetError:
            pass
        return received, True


def test_nan_is_refused_with_a_clear_message(client: httpx.Client) -> None:
    resp = client.post("/projects", content=b'{"settings": {"fps": NaN}}', headers={"content-type": "application/json"})
    assert resp.status_code == 422
    (error,) = resp.json()["detail"]
    assert error["type"] == "json_invalid" and "NaN" in error["ctx"]["error"]


def test_non_utf8_json_is_422_naming_the_encoding(client: httpx.Client) -> None:
    resp = client.post("/projects", content=b'{"name": "caf\xe9"}', headers={"content-type": "application/json"})
    assert resp.status_code == 422 and "UTF-8" in resp.json()["detail"][0]["ctx"]["error"]


def test_options_lists_every_method_of_the_path(client: httpx.Client) -> None:
    pid = client.post("/projects").json()["id"]
    for path, expected in [("/projects", {"GET", "POST"}), (f"/projects/{pid}", {"GET", "PATCH", "DELETE"}),
                           (f"/projects/{pid}/run", {"POST"})]:
        resp = client.options(path)
        assert resp.status_code == 204, (path, resp.status_code)
        allow = {m.strip() for m in resp.headers["allow"].split(",")}
        assert expected | {"OPTIONS"} <= allow, (path, allow)
    wrong = client.put("/projects")
    assert wrong.status_code == 405
    assert {"GET", "POST", "OPTIONS"} <= {m.strip() for m in wrong.headers["allow"].split(",")}
    assert client.options("/nothing-here").status_code == 404


def test_security_headers(client: httpx.Client) -> None:
    page = client.get("/")
    if page.status_code == 200:
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "default-src 'self'" in csp
    script = client.get("/static/js/api.js")
    if script.status_code == 200:
        assert "frame-ancestors 'none'" in script.headers["content-security-policy"]
        assert script.headers["x-content-type-options"] == "nosniff"
    api = client.get("/health")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in api.headers["content-security-policy"]
    assert api.headers["x-frame-options"] == "DENY"


def test_oversize_upload_closes_the_connection_after_413(hserver: Server) -> None:
    with hserver.client() as c:
        pid = c.post("/projects").json()["id"]
    head = (
        f"POST /projects/{pid}/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz\r\n"
        f"Content-Length: {200 * 1024 * 1024}\r\n\r\n"
    ).encode()
    body_start = b'--zz\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n' + b"\0" * 65536
    received, closed = raw_exchange(hserver, head + body_start)
    assert received.startswith(b"HTTP/1.1 413"), received[:200]
    assert b"connection: close" in received.lower()
    assert closed, "the server kept the connection open to read the rest of a refused upload"


def test_body_shorter_than_content_length_times_out(hserver: Server) -> None:
    request = b"POST /projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":"
    received, closed = raw_exchange(hserver, request, read_deadline_s=BODY_TIMEOUT_S + 15)
    assert closed, "the server waited for the missing body with no timeout"
    assert received.startswith(b"HTTP/1.1 408"), received[:200]


def test_stalled_upload_times_out_and_leaves_no_temp_file(hserver: Server) -> None:
    with hserver.client() as c:
        pid = c.post("/projects").json()["id"]
    head = (
        f"POST /projects/{pid}/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz\r\n"
        f"Content-Length: 500000\r\n\r\n"
    ).encode()
    part = b'--zz\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n' + b"RIFF" + b"\0" * 1000
    received, closed = raw_exchange(hserver, head + part, read_deadline_s=BODY_TIMEOUT_S + 15)
    assert closed and received.startswith(b"HTTP/1.1 408"), received[:200]
    assert not list((hserver.data / "tmp").glob("upload-*")), "a stalled upload left its temp file"


@pytest.mark.parametrize("target", ["../project.json", "../source/original.wav", "../source/track.wav", "/etc/passwd"])
def test_symlinks_in_the_project_folder_are_never_followed(server: Server, client: httpx.Client, target: str) -> None:
    pid = uploaded_project(client, "links", seconds=3.0)
    folder = server.data / "projects" / pid
    (folder / "images").mkdir(exist_ok=True)
    link = folder / "images" / "seg_902_v1.png"
    os.symlink(target, link)
    try:
        resp = client.get(f"/projects/{pid}/files/images/seg_902_v1.png")
        assert resp.status_code == 404, (resp.status_code, resp.text[:200])
        assert "detail" in resp.json()
    finally:
        link.unlink()


def test_a_linked_folder_is_not_followed(server: Server, client: httpx.Client) -> None:
    pid = uploaded_project(client, "linked folder", seconds=3.0)
    folder = server.data / "projects" / pid
    elsewhere = server.data.parent / f"elsewhere-{pid}"
    elsewhere.mkdir()
    (elsewhere / "final_v1.mp4").write_bytes(b"not ours")
    os.symlink(elsewhere, folder / "renders")
    assert client.get(f"/projects/{pid}/files/renders/final_v1.mp4").status_code == 404
    assert client.get(f"/projects/{pid}/files/source/track.wav").status_code == 200  # real files still served


def test_events_of_an_unreadable_project_send_an_error_event(server: Server, client: httpx.Client) -> None:
    pid = client.post("/projects", json={"name": "corrupt"}).json()["id"]
    expected = client.get(f"/projects/{pid}")
    assert expected.status_code == 200
    (server.data / "projects" / pid / "project.json").write_text("{ this is not json")
    rest = client.get(f"/projects/{pid}")
    assert rest.status_code == 422
    lines: list[str] = []
    deadline = time.monotonic() + 10  # the event comes on the first poll; without it only a ping would (after 15 s)
    with client.stream("GET", f"/projects/{pid}/events", timeout=20) as stream:
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith("data:") and len(lines) >= 2 and lines[-2] == "event: project_error":
                break
            if time.monotonic() > deadline or line == ": ping":
                break
    assert "event: project_error" in lines, lines
    data = httpx.Response(200, content=lines[-1].removeprefix("data:").encode()).json()
    assert data["id"] == pid and data["status"] == 422 and data["detail"] == rest.json()["detail"]
