"""The full flow through a real server: upload -> run -> events -> segments -> patch -> regenerate -> render -> download."""
from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.api.conftest import LYRICS_LRC, Server, start_server, stop_server, wait_until_idle, wav_bytes
from tests.conftest import bucket_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["disk", "s3"])
def flow_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The API on each storage backend; with a bucket, files are served by a redirect to it (followed here)."""
    if request.param == "disk":
        yield request.getfixturevalue("server")
        return
    server = start_server(tmp_path_factory.mktemp("s3-api") / "data", env_extra=bucket_env(request.getfixturevalue("s3_endpoint")))
    try:
        yield server
    finally:
        stop_server(server)


def read_events(server: Server, project_id: str, *, until, timeout_s: float = 240.0) -> list[tuple[str, dict]]:
    """Read SSE events until ``until(events)`` is true; returns (event, data) pairs."""
    events: list[tuple[str, dict]] = []
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(30.0, read=20.0)) as c:
        with c.stream("GET", f"/projects/{project_id}/events") as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            name = None
            for line in resp.iter_lines():
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: ") and name:
                    events.append((name, json.loads(line[len("data: "):])))
                    name = None
                    if until(events):
                        return events
                if time.monotonic() > deadline:
                    break
    raise AssertionError(f"events did not reach the condition in time; last: {events[-3:]}")


def test_full_flow(flow_server: Server) -> None:
    server = flow_server
    with server.client(follow_redirects=True) as c:
        created = c.post("/projects", json={"name": "flow", "settings": {"style": "noir", "resolution": 720}})
        assert created.status_code == 201, created.text
        project = created.json()
        pid = project["id"]
        assert project["state"] == "CREATED" and project["allowed"] == ["upload"]

        up = c.post(
            f"/projects/{pid}/upload",
            files={"audio": ("../../evil name.wav", wav_bytes(), "audio/wav")},
            data={"lyrics_text": LYRICS_LRC},
        )
        assert up.status_code == 200, up.text
        assert up.json()["state"] == "UPLOADED"
        assert up.json()["source"]["duration_ms"] == pytest.approx(6000, abs=50)
        assert not (server.data / "evil name.wav").exists() and not (server.data.parent / "evil name.wav").exists()
        assert c.get(f"/projects/{pid}/analysis").status_code == 404

        run = c.post(f"/projects/{pid}/run", json={"target": "IMAGED"})
        assert run.status_code == 202, run.text
        assert run.json()["pid"] > 0 and run.json()["job"]["status"] in ("queued", "running")

        def settled(ev: list[tuple[str, dict]]) -> bool:
            return any(n == "project" and not d["busy"] and d["state"] in ("IMAGED", "FAILED") for n, d in ev)

        events = read_events(server, pid, until=settled)
        final = [d for n, d in events if n == "project"][-1]
        assert final["state"] == "IMAGED", final["error"]
        kinds = {n for n, _ in events}
        assert {"project", "job"} <= kinds
        job_events = [d for n, d in events if n == "job" and d["kind"] == "pipeline"]
        assert any(d["status"] == "running" for d in job_events) or job_events[-1]["status"] == "done"
        project = wait_until_idle(c, pid)
        assert project["state"] == "IMAGED", project["error"]
        assert project["jobs"]["pipeline"]["status"] == "done"

        analysis = c.get(f"/projects/{pid}/analysis").json()
        assert analysis["duration_ms"] == pytest.approx(6000, abs=50) and analysis["tempo_bpm"] > 0

        segments = c.get(f"/projects/{pid}/segments").json()
        scenes = segments["scenes"]
        assert scenes and scenes[0]["start_ms"] == 0 and scenes[-1]["end_ms"] == pytest.approx(6000, abs=50)
        assert all(s["status"] == "ok" and s["image_url"] for s in scenes)
        png = c.get(scenes[0]["image_url"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"

        first = scenes[0]
        patched = c.patch(f"/projects/{pid}/segments/{first['id']}", json={"image_prompt": "a lighthouse in a storm, ink"})
        assert patched.status_code == 200, patched.text
        assert patched.json()["image_prompt"] == "a lighthouse in a storm, ink"
        assert patched.json()["version"] == first["version"] + 1 and patched.json()["status"] == "pending"
        assert c.get(f"/projects/{pid}").json()["state"] == "PROMPTED"

        last = scenes[-1]
        regen = c.post(f"/projects/{pid}/segments/{last['id']}/regenerate")
        assert regen.status_code == 202, regen.text
        assert regen.json()["scene"]["version"] == last["version"] + 1
        project = wait_until_idle(c, pid)
        assert project["state"] == "IMAGED", project["error"]
        after = {s["id"]: s for s in c.get(f"/projects/{pid}/segments").json()["scenes"]}
        assert after[first["id"]]["status"] == "ok" and after[first["id"]]["version"] == first["version"] + 1
        assert after[last["id"]]["status"] == "ok" and len(after[last["id"]]["versions"]) == len(last["versions"]) + 1

        render = c.post(f"/projects/{pid}/render", json={"preview": False})
        assert render.status_code == 202, render.text
        project = wait_until_idle(c, pid)
        assert project["state"] == "RENDERED", project["error"]
        video = project["renders"][-1]
        assert video["url"].endswith(".mp4") and video["width"] == 1280 and video["height"] == 720

        head = c.get(video["url"], headers={"Range": "bytes=0-99"})
        assert head.status_code == 206
        assert head.headers["content-type"] == "video/mp4"
        assert len(head.content) == 100 and head.content[4:8] == b"ftyp"
        total = int(head.headers["content-range"].split("/")[1])
        tail = c.get(video["url"], headers={"Range": f"bytes={total - 10}-"})
        assert tail.status_code == 206 and len(tail.content) == 10
        whole = c.get(video["url"])
        assert whole.status_code == 200 and len(whole.content) == total and whole.content[-10:] == tail.content
        assert c.get(video["url"], headers={"Range": f"bytes={total + 10}-{total + 20}"}).status_code == 416

        assert [p["id"] for p in c.get("/projects").json()].count(pid) == 1
        assert c.delete(f"/projects/{pid}").status_code == 204
        assert c.get(f"/projects/{pid}").status_code == 404
