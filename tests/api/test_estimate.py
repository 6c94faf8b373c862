"""GET /projects/{id}/estimate: the pre-flight estimate through the real server."""
from __future__ import annotations

import httpx

from tests.api.conftest import wav_bytes


def test_estimate_before_and_after_upload(client: httpx.Client) -> None:
    created = client.post("/projects", json={"settings": {"provider": "gemini", "quality": "pro"}})
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert client.get(f"/projects/{pid}/estimate").status_code == 422  # nothing uploaded yet
    up = client.post(f"/projects/{pid}/upload", files={"audio": ("s.wav", wav_bytes(), "audio/wav")})
    assert up.status_code == 200, up.text
    est = client.get(f"/projects/{pid}/estimate").json()
    assert est["provider"] == "gemini" and est["images"] == est["scenes"] + 1 > 1  # + the lead's reference
    assert est["cost_usd"] > 0 and {s["step"] for s in est["steps"]} == {"analyze", "segment", "prompt", "cast", "draw"}
    assert client.get("/projects/nope-nope/estimate").status_code == 404
