"""The lyrics API: GET (version/ETag), PUT as JSON or LRC (validated, If-Match, nothing written when refused),
the enhanced-LRC export, and the edit rewinding the machine."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine import machine
from engine import project as actions
from engine.config import get_settings
from engine.models import ProjectSettings
from engine.runner import Runner
from tests.api.conftest import tree_hash

LRC = "[00:00.50]Night city lights\n[00:03.00]Running <00:03.40>down <00:03.80>the road\n[00:05.50]Hearts on fire\n"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path, str]]:
    """The API in process on its own data root, with one project storyboarded (SEGMENTED)."""
    from engine.audio.sample import make_song

    root = tmp_path_factory.mktemp("lyrics-api")
    data = root / "data"
    data.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STORYBEAT_DATA", str(data))
        for name in ("STORYBEAT_TOKEN", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
            mp.delenv(name, raising=False)
        get_settings.cache_clear()
        wav = root / "song.wav"
        make_song(wav, bpm=120, bars=4, sections=None, seed=5)
        project = actions.create_project(settings=ProjectSettings(min_scene_ms=2000, max_scene_ms=4000), project_id="lyr-api")
        actions.upload_track(project.id, audio=wav, original_name="song.wav", lyrics_text=LRC)
        Runner(project.id, target=machine.SEGMENTED).run()
        from api.main import create_app

        with TestClient(create_app()) as client:
            yield client, data, project.id
    get_settings.cache_clear()


def test_get_lyrics_has_lines_timing_and_a_version(app: tuple[TestClient, Path, str]) -> None:
    client, _, pid = app
    got = client.get(f"/projects/{pid}/lyrics")
    assert got.status_code == 200, got.text
    body = got.json()
    assert got.headers["etag"] == f'"{body["version"]}"'
    assert [line["text"] for line in body["lines"]] == ["Night city lights", "Running down the road", "Hearts on fire"]
    assert body["lines"][1]["words"][1] == {"text": "down", "start_ms": 3400, "end_ms": 3800}
    assert {line["timing"] for line in body["lines"]} == {"given"} and body["estimated"] == 0
    assert client.get("/projects/nope-nope/lyrics").status_code == 404


def test_bad_lyrics_bodies_are_refused_and_change_nothing(app: tuple[TestClient, Path, str]) -> None:
    client, data, pid = app
    body = client.get(f"/projects/{pid}/lyrics").json()
    lines = body["lines"]
    before = tree_hash(data / "projects" / pid)
    cases = [
        ({"lines": [{**lines[0], "text": ""}, *lines[1:]]}, 422, "line 1 has no text"),
        ({"lines": [lines[0], {**lines[1], "start_ms": 10}, lines[2]]}, 422, "line 2"),
        ({"lines": [*lines[:2], {**lines[2], "end_ms": 10**7}]}, 422, "ends after the track"),
        ({"lines": [{**lines[0], "end_ms": lines[0]["start_ms"]}, *lines[1:]]}, 422, "must end after it starts"),
        ({"lines": [{**lines[0], "start_ms": "500"}]}, 422, "int"),  # strict types
        ({"lines": lines, "extra": 1}, 422, "extra"),  # unknown keys
        ({"lines": [{**lines[1], "words": [{"text": "x", "start_ms": 0, "end_ms": 1}]}]}, 422, "not inside its line"),
    ]
    for payload, status, words in cases:
        res = client.put(f"/projects/{pid}/lyrics", json=payload)
        assert res.status_code == status and words in res.text, (payload, res.status_code, res.text)
    res = client.put(f"/projects/{pid}/lyrics", content=b'{"lines": [], "lines": []}', headers={"Content-Type": "application/json"})
    assert res.status_code == 422, res.text  # strict JSON: duplicate keys
    res = client.put(f"/projects/{pid}/lyrics", content=b"[00:99.00]bad", headers={"Content-Type": "text/plain"})
    assert res.status_code == 422 and "seconds" in res.text
    res = client.put(f"/projects/{pid}/lyrics", content=b"<lyrics/>", headers={"Content-Type": "application/xml"})
    assert res.status_code == 415
    stale = client.put(f"/projects/{pid}/lyrics", json={"lines": lines[:1]}, headers={"If-Match": '"0000000000000000"'})
    assert stale.status_code == 412, stale.text
    detail = stale.json()["detail"]
    assert detail["version"] == body["version"] and [line["text"] for line in detail["current"]] == [l["text"] for l in lines]
    assert stale.headers["etag"] == f'"{body["version"]}"'
    assert tree_hash(data / "projects" / pid) == before
    assert client.get(f"/projects/{pid}").json()["state"] == machine.SEGMENTED


def test_put_json_then_lrc_round_trip_rewinds_the_machine(app: tuple[TestClient, Path, str]) -> None:
    client, _, pid = app
    body = client.get(f"/projects/{pid}/lyrics").json()
    lines = body["lines"]
    moved = [lines[0], {**lines[1], "start_ms": 3200, "words": []}, lines[2]]
    res = client.put(f"/projects/{pid}/lyrics", json={"lines": moved}, headers={"If-Match": f'"{body["version"]}"'})
    assert res.status_code == 200, res.text
    new = res.json()
    assert new["version"] != body["version"] and new["state"] == machine.ANALYZED
    assert new["lines"][1]["start_ms"] == 3200 and new["lines"][1]["timing"] == "given" and new["lines"][1]["source"] == "edit"
    assert client.get(f"/projects/{pid}").json()["allowed"][:1] == ["segment"]

    lrc = client.get(f"/projects/{pid}/lyrics.lrc")
    assert lrc.status_code == 200 and lrc.headers["content-type"].startswith("text/plain")
    assert "[00:03.200]Running down the road" in lrc.text
    again = client.put(f"/projects/{pid}/lyrics", content=lrc.text.replace("[00:00.500]", "[00:00.700]").encode(),
                       headers={"Content-Type": "text/plain; charset=utf-8"})
    assert again.status_code == 200, again.text
    assert [(l["text"], l["start_ms"]) for l in again.json()["lines"]] == [
        ("Night city lights", 700), ("Running down the road", 3200), ("Hearts on fire", 5500)]
    assert client.get(f"/projects/{pid}/lyrics.lrc").text == lrc.text.replace("[00:00.500]", "[00:00.700]")


def test_a_lyrics_edit_while_a_run_is_queued_is_busy(app: tuple[TestClient, Path, str]) -> None:
    from engine.models import Job, utcnow
    from engine.storage import ProjectFolder

    client, data, pid = app
    folder = ProjectFolder(pid)
    lines = client.get(f"/projects/{pid}/lyrics").json()["lines"]
    old = folder.load_job("pipeline")
    folder.save_job(Job(kind="pipeline", status="queued", target=machine.IMAGED, started_at=utcnow()))
    try:
        before = tree_hash(data / "projects" / pid / "source") | {"analysis": tree_hash(data / "projects" / pid)["analysis.json"]}
        res = client.put(f"/projects/{pid}/lyrics", json={"lines": lines[:2]})
        assert res.status_code == 409 and res.json()["detail"]["busy"] is True, res.text
        assert tree_hash(data / "projects" / pid / "source") | {"analysis": tree_hash(data / "projects" / pid)["analysis.json"]} == before
    finally:
        folder.save_job(old)
