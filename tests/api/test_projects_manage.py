"""Rename, duplicate, download names and the words of the machine, through the API (in process)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from engine.config import get_settings
from tests.api.conftest import wav_bytes


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("manage") / "data"
    data.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STORYBEAT_DATA", str(data))
        for name in ("STORYBEAT_TOKEN", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
            mp.delenv(name, raising=False)
        get_settings.cache_clear()
        from api.main import create_app

        with TestClient(create_app()) as c:
            yield c
    get_settings.cache_clear()


def _uploaded(client: TestClient, name: str) -> str:
    pid = client.post("/projects", json={"name": name}).json()["id"]
    res = client.post(f"/projects/{pid}/upload", files={"audio": ("take 3.wav", wav_bytes(seconds=3.0), "audio/wav")})
    assert res.status_code == 200, res.text
    return pid


def test_rename_and_duplicate(client: TestClient) -> None:
    pid = _uploaded(client, "First take")
    res = client.post(f"/projects/{pid}/rename", json={"name": "  Night   drive "})
    assert res.status_code == 200 and res.json()["name"] == "Night drive"
    assert client.post(f"/projects/{pid}/rename", json={"name": ""}).status_code == 422
    assert client.post(f"/projects/{pid}/rename", json={"name": "   "}).status_code == 422
    assert client.post(f"/projects/{pid}/rename", json={"nom": "x"}).status_code == 422
    assert client.post("/projects/nope-missing/rename", json={"name": "x"}).status_code == 404
    dup = client.post(f"/projects/{pid}/duplicate", json={"settings": {"aspect": "9:16"}})
    assert dup.status_code == 201, dup.text
    copy = dup.json()
    assert copy["id"] != pid and copy["name"] == "Night drive (copy)" and copy["settings"]["aspect"] == "9:16"
    assert copy["state"] == "UPLOADED" and copy["source"]["sha256"] == client.get(f"/projects/{pid}").json()["source"]["sha256"]
    assert client.post(f"/projects/{pid}/duplicate", json={"settings": {"aspect": "4:3"}}).status_code == 422
    named = client.post(f"/projects/{pid}/duplicate", json={"name": "Square"}).json()
    assert named["name"] == "Square"
    rows = {r["id"]: r for r in client.get("/projects").json()}
    assert {pid, copy["id"], named["id"]} <= set(rows)
    assert rows[pid]["status_text"] == "song uploaded"


def test_downloads_are_named_after_the_song(client: TestClient) -> None:
    """Not `track.wav` / `final_v2.mp4`: the song's name, with an ASCII fallback and the exact name (RFC 5987)."""
    from api.routes.files import content_disposition, download_name
    from engine.storage import ProjectFolder

    pid = _uploaded(client, "Ночны горад — süß")
    res = client.get(f"/projects/{pid}/files/source/track.wav", headers={"Range": "bytes=0-9"})
    assert res.status_code == 206
    header = res.headers["content-disposition"]
    assert header.startswith("inline; filename=\"")
    ascii_part = header.split('filename="')[1].split('"')[0]
    assert ascii_part.isascii() and ascii_part.endswith(".wav") and ascii_part.startswith("su")  # the Latin part
    assert unquote(header.split("filename*=UTF-8''")[1]) == "Ночны горад — süß.wav"
    saved = client.get(f"/projects/{pid}/files/source/track.wav", params={"download": 1}).headers["content-disposition"]
    assert saved == header.replace("inline;", "attachment;", 1)  # a download link: saved under the name, not shown
    folder = ProjectFolder(pid)
    assert download_name(folder, "renders/final_v2.mp4") == "Ночны горад — süß - v2.mp4"
    assert download_name(folder, "renders/preview_v3.srt") == "Ночны горад — süß - v3 (preview).srt"
    assert download_name(folder, "images/seg_004_v2.png") == "Ночны горад — süß - scene 4 v2.png"
    assert '"' not in content_disposition('a "quoted"\r\nname.mp4').split('filename="')[1].rstrip('"').split('";')[0]
    assert "\r" not in content_disposition("a\r\nb.mp4") and "\n" not in content_disposition("a\r\nb.mp4")


def test_machine_words_for_the_ui(client: TestClient) -> None:
    spec = client.get("/machine").json()
    assert spec["labels"]["edit_intent"] == "edit scene" and spec["internal"] == ["fail"]
    assert spec["state_words"]["RENDERED"] == "video ready"
