"""The web UI with a bucket as the storage (issue 18): a real server on the loopback S3 server, Debian chromium.

Pictures, the track and the video reach the page through the file routes' redirects to presigned URLs on
another origin: the page's CSP must allow that origin, the video must play from it (ranged), and a download
link must save the file under its name (a browser ignores ``<a download>`` across origins, so the bucket sends
it as an attachment). A second API server with an empty data folder (another machine) shows the same project.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import bucket_env
from tests.web.conftest import UiServer, running_ui_server, shoot
from tests.web.test_ui import _upload_via_api

pytestmark = pytest.mark.slow

NAME = "Bucket nights"


@pytest.fixture(scope="module")
def bucket(s3_endpoint: str) -> dict[str, str]:
    """A fresh bucket on the loopback S3 server, as the storage settings of a server's environment."""
    return bucket_env(s3_endpoint)


@pytest.fixture(scope="module")
def bucket_server(tmp_path_factory: pytest.TempPathFactory, bucket: dict[str, str]) -> Iterator[UiServer]:
    """``python -m api`` with the bucket as its storage."""
    with running_ui_server(tmp_path_factory.mktemp("web-bucket"), env_extra=bucket) as server:
        yield server


@pytest.fixture(scope="module")
def rendered(bucket_server: UiServer, song: tuple[Path, str]) -> str:
    """A project run to RENDERED (a quick preview render) on the bucket server."""
    return _upload_via_api(bucket_server, song, name=NAME, run_to="RENDERED")


def _console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def _check_pictures_and_video(page: Page, server: UiServer, pid: str, bucket_origin: str) -> None:
    """Every scene picture loads from the bucket, the video plays from it, the MP4 link saves a named file."""
    page.goto(f"{server.base_url}/#/p/{pid}/storyboard")
    expect(page.locator("[data-scene-id] .scene-thumb img").first).to_be_visible()
    page.wait_for_function("() => { const imgs = [...document.querySelectorAll('.scene-thumb img')];"
                           " return imgs.length && imgs.every((i) => i.complete && i.naturalWidth > 0); }")
    src = page.locator("[data-scene-id] .scene-thumb img").first.get_attribute("src")
    assert src
    hop = httpx.get(server.base_url + src if src.startswith("/") else src, follow_redirects=False)
    assert hop.status_code == 307 and hop.headers["location"].startswith(bucket_origin + "/"), hop.headers
    page.get_by_role("tab", name="Video").click()
    page.wait_for_function("() => { const v = document.querySelector('video.player'); return v && v.readyState >= 2; }",
                           timeout=30_000)
    assert page.evaluate("document.querySelector('video.player').duration") > 5
    link = page.locator(".render-item a[data-kind=mp4]").first
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"{NAME} - v1 (preview).mp4"
    assert urlparse(download.url).netloc == urlparse(bucket_origin).netloc  # saved from the bucket itself
    saved = download.path()
    assert saved is not None and Path(saved).read_bytes()[4:8] == b"ftyp"


def test_pictures_video_and_downloads_come_from_the_bucket(page: Page, bucket_server: UiServer, rendered: str) -> None:
    """On the bucket: pictures and the video show (the CSP allows the bucket's origin), the download is named."""
    errors = _console_errors(page)
    with bucket_server.client() as http:
        csp = http.get("/").headers["content-security-policy"]
        mp4 = http.get(f"/projects/{rendered}/files/renders/preview_v1.mp4", params={"download": 1},
                       follow_redirects=False)
    bucket_origin = "{0.scheme}://{0.netloc}".format(urlparse(mp4.headers["location"]))
    _check_pictures_and_video(page, bucket_server, rendered, bucket_origin)
    assert f"img-src 'self' {bucket_origin}" in csp and f"media-src 'self' {bucket_origin}" in csp, csp
    shoot(page, "ui_bucket_video")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def test_a_second_server_with_an_empty_folder_shows_the_same_project(
        page: Page, tmp_path_factory: pytest.TempPathFactory, bucket: dict[str, str], rendered: str) -> None:
    """Another machine (its own empty data folder, the same bucket) lists the project and shows its pictures and
    video without a working copy of it."""
    with running_ui_server(tmp_path_factory.mktemp("web-bucket-2"), env_extra=bucket) as other:
        assert not any(other.data.rglob("*.png")) and not any(other.data.rglob("*.mp4"))
        page.goto(other.base_url + "/")
        expect(page.locator(f"[data-project-id='{rendered}'] [data-status]")).to_have_text("video ready")
        with other.client() as http:
            location = http.get(f"/projects/{rendered}/files/renders/preview_v1.mp4", follow_redirects=False).headers["location"]
        _check_pictures_and_video(page, other, rendered, "{0.scheme}://{0.netloc}".format(urlparse(location)))
        assert not any(other.data.rglob("*.png")) and not any(other.data.rglob("*.mp4"))  # served, not copied
        assert page.errors == [], page.errors  # type: ignore[attr-defined]
