"""A full disk, on a real small filesystem (a tmpfs, mounted as root): a clear failure, valid files, resumable.

Mounting needs root. CI runs as root (CI=true), where these tests must run; elsewhere they skip without it.
"""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 48 MB tmpfs mounted for this test."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the disk-full tests need root in CI (they mount a tmpfs)")
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount_point)], capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs in CI: {done.stderr}")
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STORYBEAT_DATA": str(data), "PYTHONPATH": str(REPO)}
    env.pop("GEMINI_API_KEY", None)
    env.pop("GOOGLE_API_KEY", None)
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


def fill(disk: Path, *, leave_bytes: int) -> Path:
    """Fill the filesystem with one file until only about ``leave_bytes`` are free; returns the file."""
    filler = disk / "filler.bin"
    filler.unlink(missing_ok=True)
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    chunk = b"\0" * (1 << 20)
    with open(filler, "wb", buffering=0) as fh:
        todo = max(0, free - leave_bytes)
        try:
            while todo > 0:
                todo -= fh.write(chunk[: min(len(chunk), todo)])
            if leave_bytes == 0:
                while True:
                    fh.write(chunk[:4096])
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def all_json_valid(folder: Path) -> None:
    for path in folder.rglob("*.json"):
        json.loads(path.read_text())  # never half a file


def test_disk_full_at_start_and_mid_render_fails_cleanly_and_resumes(small_disk: Path, tmp_path: Path) -> None:
    from engine.audio.sample import make_song

    wav = tmp_path / "song.wav"
    make_song(wav, bpm=120, bars=4, sections=None, seed=3)
    data = small_disk / "data"
    made = cli(data, "new", str(wav), "--provider", "local")
    assert made.returncode == 0, made.stderr
    project_id = made.stdout.strip()
    folder = data / "projects" / project_id
    assert cli(data, "run", project_id, "--target", "IMAGED", "--quiet").returncode == 0

    # no byte free when the run starts: it fails as a failure (4), not as bad input (2), without a traceback
    filler = fill(small_disk, leave_bytes=0)
    refused = cli(data, "run", project_id, "--quiet")
    assert refused.returncode == 4, refused.stderr
    assert "no space left on device" in refused.stderr and "Traceback" not in refused.stderr
    all_json_valid(folder)
    assert json.loads((folder / "project.json").read_text())["state"] == "IMAGED"

    # room to start, not to render (a raw still alone is over 1 MB): FAILED with the reason, the job ended
    filler.unlink()
    filler = fill(small_disk, leave_bytes=1_200_000)
    failed = cli(data, "run", project_id, "--quiet")
    assert failed.returncode == 4, failed.stderr
    assert "no space left on device" in failed.stderr and "Traceback" not in failed.stderr, failed.stderr
    all_json_valid(folder)
    project = json.loads((folder / "project.json").read_text())
    assert project["state"] == "FAILED" and project["failed_from"] == "IMAGED"
    assert "no space left on device" in project["error"]["message"] and project["error"]["kind"] == "DiskFullError"
    job = json.loads((folder / "jobs" / "render.json").read_text())
    assert job["status"] == "failed" and "no space left on device" in job["message"], job
    status = cli(data, "status", project_id)
    assert f"resume {project_id}" in status.stdout, status.stdout

    # space freed: resume finishes the video
    filler.unlink()
    resumed = cli(data, "resume", project_id, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{project_id}: RENDERED" in resumed.stdout
    assert not (folder / "jobs" / ".reserve").exists()
