"""The storyboard's structure over HTTP: move a cut (PATCH), split, merge, lock, your own picture, and versions.

Good bodies change the storyboard and answer the scene with its new version (ETag); bad bodies are 422,
illegal transitions 409 with the allowed triggers, stale If-Match 412 with the current scene; a refused
request changes nothing on disk. The settings carry a version too.
"""
from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from engine import machine
from engine.config import get_settings
from tests.api.conftest import tree_hash
from tests.engine.templates import project_template

LRC = ("[00:00.50]Night city lights\n[00:04.00]Running down the road\n[00:08.00]Hearts on fire\n"
       "[00:12.00]Stars above the sea\n[00:16.00]Into the dawn\n")
PID = "struct-api"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path, Path]]:
    """The API in process on its own data root, and a project drawn to IMAGED (copied in by ``project``)."""
    root = tmp_path_factory.mktemp("struct-api")
    template = project_template(root / "tpl", project_id=PID, lyrics=LRC, bars=12, seed=7, target=machine.IMAGED,
                                max_scene_ms=8000)
    data = root / "data"
    (data / "projects").mkdir(parents=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STORYBEAT_DATA", str(data))
        for name in ("STORYBEAT_TOKEN", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
            mp.delenv(name, raising=False)
        get_settings.cache_clear()
        from api.main import create_app

        with TestClient(create_app()) as client:
            yield client, data, template
    get_settings.cache_clear()


@pytest.fixture
def client(app: tuple[TestClient, Path, Path]) -> TestClient:
    """The client, with a fresh copy of the IMAGED project."""
    client, data, template = app
    shutil.rmtree(data / "projects" / PID, ignore_errors=True)
    shutil.copytree(template, data / "projects" / PID)
    return client


@pytest.fixture
def folder(app: tuple[TestClient, Path, Path]) -> Path:
    return app[1] / "projects" / PID


def _scenes(client: TestClient) -> list[dict]:
    got = client.get(f"/projects/{PID}/segments")
    assert got.status_code == 200, got.text
    return got.json()["scenes"]


def _picture(fmt: str = "PNG", size: tuple[int, int] = (800, 600)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (30, 160, 90)).save(buf, format=fmt)
    return buf.getvalue()


def test_a_scene_read_has_a_version_and_lines(client: TestClient) -> None:
    scenes = _scenes(client)
    one = client.get(f"/projects/{PID}/segments/{scenes[0]['id']}")
    assert one.status_code == 200 and one.headers["etag"] == f'"{scenes[0]["etag"]}"' == f'"{one.json()["etag"]}"'
    assert one.json()["lines"][0]["text"] == "Night city lights" and one.json()["locked"] is False
    assert client.get(f"/projects/{PID}/segments/seg_999").status_code == 404


def test_move_a_cut_snaps_to_the_beat_and_the_neighbour_follows(client: TestClient) -> None:
    scenes = _scenes(client)
    third, fourth = scenes[2], scenes[3]
    got = client.patch(f"/projects/{PID}/segments/{third['id']}", json={"end_ms": third["end_ms"] - 470},
                       headers={"If-Match": f'"{third["etag"]}"'})
    assert got.status_code == 200, got.text
    assert got.json()["end_ms"] == third["end_ms"] - 500 and got.headers["etag"] == f'"{got.json()["etag"]}"' != third["etag"]
    after = {s["id"]: s for s in _scenes(client)}
    assert after[fourth["id"]]["start_ms"] == third["end_ms"] - 500
    project = client.get(f"/projects/{PID}").json()
    assert project["state"] == machine.SEGMENTED and "edit_cuts" in project["allowed"]
    free = client.patch(f"/projects/{PID}/segments/{third['id']}", json={"end_ms": third["end_ms"] - 123, "snap": False})
    assert free.status_code == 200 and free.json()["end_ms"] == third["end_ms"] - 123, "no If-Match: applied (old clients)"


@pytest.mark.parametrize("body, status, words", [
    ({"end_ms": "4000"}, 422, "int"),
    ({"end_ms": 4000, "visual_intent": "a boat"}, 422, "one kind of change"),
    ({"snap": False}, 422, "start_ms and/or end_ms"),
    ({"start_ms": -5}, 422, "greater than or equal"),
    ({"end_ms": 4000, "speed": 2}, 422, "extra"),
    ({"locked": None}, 422, "true or false"),
])
def test_bad_patch_bodies_are_422_and_change_nothing(client: TestClient, folder: Path, body: dict, status: int, words: str) -> None:
    scene = _scenes(client)[1]
    before = tree_hash(folder)
    got = client.patch(f"/projects/{PID}/segments/{scene['id']}", json=body)
    assert got.status_code == status, got.text
    assert words in got.text
    assert tree_hash(folder) == before


def test_refused_edits_say_why_and_change_nothing(client: TestClient, folder: Path) -> None:
    scenes = _scenes(client)
    before = tree_hash(folder)
    short = client.patch(f"/projects/{PID}/segments/{scenes[1]['id']}", json={"end_ms": scenes[1]["start_ms"] + 1000})
    assert short.status_code == 422 and "min_scene_ms" in short.json()["detail"]
    long = client.post(f"/projects/{PID}/segments/{scenes[-2]['id']}/merge", json={"with": "next"})
    assert long.status_code == 422 and "would last" in long.json()["detail"]
    bad_side = client.post(f"/projects/{PID}/segments/{scenes[1]['id']}/merge", json={"with": "left"})
    assert bad_side.status_code == 422
    outside = client.post(f"/projects/{PID}/segments/{scenes[1]['id']}/split", json={"at_ms": scenes[1]["end_ms"] + 2000, "snap": False})
    assert outside.status_code == 422 and "not inside" in outside.json()["detail"]
    stale = client.patch(f"/projects/{PID}/segments/{scenes[1]['id']}", json={"end_ms": scenes[1]["end_ms"] - 500},
                         headers={"If-Match": '"0000000000000000"'})
    assert stale.status_code == 412
    detail = stale.json()["detail"]
    assert detail["version"] == scenes[1]["etag"] and stale.headers["etag"] == f'"{scenes[1]["etag"]}"'
    assert detail["current"]["id"] == scenes[1]["id"] and detail["current"]["end_ms"] == scenes[1]["end_ms"]
    assert tree_hash(folder) == before


def test_split_then_merge_and_an_illegal_state_is_409(client: TestClient, folder: Path) -> None:
    scenes = _scenes(client)
    first = scenes[0]
    merged = client.post(f"/projects/{PID}/segments/{scenes[1]['id']}/merge", json={"with": "prev"},
                         headers={"If-Match": f'"{scenes[1]["etag"]}"'})
    assert merged.status_code == 200, merged.text
    one = merged.json()["scenes"][0]
    assert [line["text"] for line in one["lines"]] == ["Night city lights", "Running down the road"]
    split = client.post(f"/projects/{PID}/segments/{one['id']}/split", json={"at_ms": one["lines"][1]["start_ms"]})
    assert split.status_code == 200, split.text
    again = split.json()["scenes"]
    assert again[0]["end_ms"] == first["end_ms"] and again[0]["lines"][0]["text"] == "Night city lights"
    assert [line["text"] for line in again[1]["lines"]] == ["Running down the road"]

    lrc = client.put(f"/projects/{PID}/lyrics", content=LRC.replace("Night", "Neon").encode(), headers={"Content-Type": "text/plain"})
    assert lrc.status_code == 200, lrc.text  # ANALYZED: the storyboard is stale
    before = tree_hash(folder)
    refused = client.post(f"/projects/{PID}/segments/{again[0]['id']}/split", json={"at_ms": 2000})
    assert refused.status_code == 409 and "edit_cuts" not in refused.json()["detail"]["allowed"]
    assert tree_hash(folder) == before


def test_lock_and_unlock(client: TestClient) -> None:
    scene = _scenes(client)[1]
    got = client.put(f"/projects/{PID}/segments/{scene['id']}/lock", json={"locked": True}, headers={"If-Match": f'"{scene["etag"]}"'})
    assert got.status_code == 200 and got.json()["locked"] is True
    assert client.get(f"/projects/{PID}").json()["state"] == machine.IMAGED, "a lock rewinds nothing"
    refused = client.post(f"/projects/{PID}/segments/{scene['id']}/regenerate")
    assert refused.status_code == 422 and "locked" in refused.text
    assert client.put(f"/projects/{PID}/segments/{scene['id']}/lock", json={"locked": "no"}).status_code == 422
    off = client.patch(f"/projects/{PID}/segments/{scene['id']}", json={"locked": False})
    assert off.status_code == 200 and off.json()["locked"] is False
    assert client.get(f"/projects/{PID}").json()["state"] == machine.SEGMENTED


def test_upload_a_picture_then_move_its_focal_point(client: TestClient, folder: Path) -> None:
    scene = _scenes(client)[2]
    got = client.post(f"/projects/{PID}/segments/{scene['id']}/picture?focus_x=0.2&focus_y=0.5", content=_picture("WEBP"),
                      headers={"Content-Type": "image/webp", "If-Match": f'"{scene["etag"]}"'})
    assert got.status_code == 201, got.text
    body = got.json()
    assert body["versions"][-1]["origin"] == "upload" and body["versions"][-1]["focus"] == [0.2, 0.5]
    assert body["version"] == scene["version"] + 1 and body["status"] == "ok"
    picture = client.get(body["image_url"])
    assert picture.status_code == 200
    assert Image.open(io.BytesIO(picture.content)).size == (1600, 900)
    moved = client.patch(f"/projects/{PID}/segments/{scene['id']}/picture", json={"focus_x": 0.8, "focus_y": 0.5},
                         headers={"If-Match": f'"{body["etag"]}"'})
    assert moved.status_code == 200 and moved.json()["versions"][-1]["focus"] == [0.8, 0.5]
    assert client.get(f"/projects/{PID}").json()["state"] == machine.PROMPTED

    before = tree_hash(folder)
    wrong_type = client.post(f"/projects/{PID}/segments/{scene['id']}/picture", content=b"hello", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    not_png = client.post(f"/projects/{PID}/segments/{scene['id']}/picture", content=b"\x89PNG not really", headers={"Content-Type": "image/png"})
    assert not_png.status_code == 422 and "not a picture" in not_png.text
    big = client.post(f"/projects/{PID}/segments/{scene['id']}/picture", content=b"\0" * (21 * 1024 * 1024), headers={"Content-Type": "image/png"})
    assert big.status_code == 413
    bad_focus = client.patch(f"/projects/{PID}/segments/{scene['id']}/picture", json={"focus_x": 1.5, "focus_y": 0.5})
    assert bad_focus.status_code == 422
    assert tree_hash(folder) == before


def test_settings_have_a_version_and_a_stale_change_is_412(client: TestClient, folder: Path) -> None:
    got = client.get(f"/projects/{PID}/settings")
    assert got.status_code == 200 and got.headers["etag"] == f'"{got.json()["version"]}"'
    version = got.json()["version"]
    assert client.get(f"/projects/{PID}").json()["settings_version"] == version
    changed = client.patch(f"/projects/{PID}", json={"subtitles": False}, headers={"If-Match": f'"{version}"'})
    assert changed.status_code == 200 and changed.headers["etag"] != f'"{version}"'
    before = tree_hash(folder)
    stale = client.patch(f"/projects/{PID}", json={"fps": 24}, headers={"If-Match": f'"{version}"'})
    assert stale.status_code == 412 and stale.json()["detail"]["current"]["subtitles"] is False
    assert tree_hash(folder) == before
    assert client.patch(f"/projects/{PID}", json={"fps": 24}).status_code == 200, "no If-Match: applied"


def test_two_writers_of_one_scene_the_second_gets_412(client: TestClient) -> None:
    scene = _scenes(client)[0]
    tag = f'"{scene["etag"]}"'
    first = client.patch(f"/projects/{PID}/segments/{scene['id']}", json={"visual_intent": "a lighthouse"}, headers={"If-Match": tag})
    assert first.status_code == 200
    second = client.patch(f"/projects/{PID}/segments/{scene['id']}", json={"visual_intent": "a harbour"}, headers={"If-Match": tag})
    assert second.status_code == 412 and second.json()["detail"]["current"]["visual_intent"] == "a lighthouse"
    again = client.patch(f"/projects/{PID}/segments/{scene['id']}", json={"visual_intent": "a harbour"},
                         headers={"If-Match": second.headers["etag"]})
    assert again.status_code == 200 and again.json()["visual_intent"] == "a harbour", "overwrite: sent again on the new version"
