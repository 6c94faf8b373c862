"""The CLI in real processes: exit codes, bad input, status, machine, estimate, contact sheet."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import dead_pid

REPO = Path(__file__).resolve().parents[2]


def cli_env(data: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI process on ``data``, offline (no Gemini key)."""
    full_env = {**os.environ, "STORYBEAT_DATA": str(data), "PYTHONPATH": str(REPO), **(env or {})}
    full_env.pop("GEMINI_API_KEY", None)
    full_env.pop("GOOGLE_API_KEY", None)
    return full_env


def cli(data: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, env=cli_env(data, env),
                          cwd=REPO, timeout=600)


def cli_start(data: Path, *args: str, **popen: object) -> subprocess.Popen:  # type: ignore[type-arg]
    """The CLI started in the background (for a signal in mid-run)."""
    return subprocess.Popen([sys.executable, "-m", "engine", *args], cwd=REPO, env=cli_env(data), **popen)  # type: ignore[call-overload]


def test_machine_exports(tmp_path: Path) -> None:
    spec = json.loads(cli(tmp_path, "machine", "--json").stdout)
    assert spec["states"][0] == "CREATED" and "FAILED" in spec["states"]
    assert cli(tmp_path, "machine", "--mermaid").stdout.startswith("stateDiagram-v2")


def test_bad_input_exit_codes_and_nothing_left_behind(tmp_path: Path) -> None:
    junk = tmp_path / "song.mp3"
    junk.write_text("this is not audio at all, just text pretending " * 50)
    proc = cli(tmp_path / "data", "new", str(junk))
    assert proc.returncode == 2 and "error:" in proc.stderr
    projects = tmp_path / "data" / "projects"
    assert not projects.exists() or not [p for p in projects.iterdir() if not p.name.startswith(".")]
    assert cli(tmp_path / "data", "status", "nope-missing").returncode == 2
    assert cli(tmp_path / "data", "status", "../../etc").returncode == 2
    assert cli(tmp_path / "data", "new", str(tmp_path / "missing.wav")).returncode == 2


def test_new_status_estimate_and_illegal_render(tmp_path: Path) -> None:
    from engine.audio.sample import make_song

    wav = tmp_path / "s.wav"
    make_song(wav, bpm=100, bars=3, sections=None, seed=1)
    data = tmp_path / "data"
    proc = cli(data, "new", str(wav), "--provider", "gemini", "--style", "noir")
    assert proc.returncode == 0, proc.stderr
    project_id = proc.stdout.strip()
    status = json.loads(cli(data, "status", project_id, "--json").stdout)
    assert status["project"]["state"] == "UPLOADED" and "analyze" in status["allowed"]
    est = json.loads(cli(data, "estimate", project_id, "--json").stdout)
    assert est["provider"] == "gemini" and est["images"] == est["scenes"] + 1 > 1 and est["cost_usd"] > 0  # + the lead's reference
    refused = cli(data, "render", project_id)
    assert refused.returncode == 2 and "cannot" in refused.stderr
    # running a gemini project without a key is a clear error, and the project is not broken by it
    failed = cli(data, "run", project_id, "--quiet")
    assert failed.returncode == 2 and "GEMINI_API_KEY" in failed.stderr
    assert json.loads(cli(data, "status", project_id, "--json").stdout)["project"]["state"] == "UPLOADED"


def test_user_mistakes_are_errors_not_tracebacks(tmp_path: Path) -> None:
    """A directory given as lyrics, a data root that is a file, a closed pipe, a corrupt project in the list."""
    from engine.audio.sample import make_song

    wav = tmp_path / "s.wav"
    make_song(wav, bpm=100, bars=3, sections=None, seed=1)
    data = tmp_path / "data"
    as_dir = cli(data, "new", str(wav), "--lyrics", str(tmp_path))
    assert as_dir.returncode == 2 and "error:" in as_dir.stderr and "Traceback" not in as_dir.stderr
    assert not (data / "projects").exists() or not [p for p in (data / "projects").iterdir() if not p.name.startswith(".")]
    not_a_dir = cli(wav, "new", str(wav))  # STORYBEAT_DATA points at a file
    assert not_a_dir.returncode == 2 and "Traceback" not in not_a_dir.stderr

    good = cli(data, "new", str(wav))
    assert good.returncode == 0, good.stderr
    project_id = good.stdout.strip()
    broken = data / "projects" / "broken1234"
    broken.mkdir()
    (broken / "project.json").write_text("{not json")
    listed = cli(data, "list")
    assert listed.returncode == 0 and project_id in listed.stdout and "broken1234\tUNREADABLE" in listed.stdout
    # the reader of a pipe leaving early is not an error
    full_env = cli_env(data)
    piped = subprocess.run(f"{sys.executable} -m engine machine --json | head -1", shell=True, capture_output=True,
                           text=True, env=full_env, cwd=REPO, timeout=120)
    assert "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr


def test_status_shows_a_killed_run_as_interrupted_with_the_way_on(tmp_path: Path) -> None:
    """The job file still says running after SIGKILL; status says interrupted and how to resume."""
    from engine.audio.sample import make_song

    wav = tmp_path / "s.wav"
    make_song(wav, bpm=100, bars=3, sections=None, seed=1)
    data = tmp_path / "data"
    project_id = cli(data, "new", str(wav)).stdout.strip()
    job = data / "projects" / project_id / "jobs" / "pipeline.json"
    job.parent.mkdir(parents=True, exist_ok=True)
    job.write_text(json.dumps({"schema_version": 1, "kind": "pipeline", "status": "running", "target": "RENDERED",
                               "pid": dead_pid(), "step": "analyze", "started_at": "2024-01-01T00:00:00Z",
                               "heartbeat_at": "2024-01-01T00:00:00Z"}))
    out = cli(data, "status", project_id).stdout
    assert "pipeline: interrupted" in out and f"python -m engine resume {project_id}" in out
    assert json.loads(cli(data, "status", project_id, "--json").stdout)["jobs"]["pipeline"]["status"] == "interrupted"


def test_ctrl_c_stops_with_130_and_resume_continues(tmp_path: Path) -> None:
    """One Ctrl-C stops after the current unit (exit 130, job cancelled); resume then finishes the run."""
    import signal
    import time

    from engine.audio.sample import make_song

    wav = tmp_path / "s.wav"
    make_song(wav, bpm=120, bars=8, sections=None, seed=2)
    data = tmp_path / "data"
    project_id = cli(data, "new", str(wav)).stdout.strip()
    proc = cli_start(data, "run", project_id, "--target", "IMAGED", "--quiet",
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    job = data / "projects" / project_id / "jobs" / "pipeline.json"
    deadline = time.monotonic() + 120
    while not (job.exists() and '"status": "running"' in job.read_text()):  # analysing: seconds of work left
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert json.loads(job.read_text())["status"] == "cancelled"
    resumed = cli(data, "resume", project_id, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(cli(data, "status", project_id, "--json").stdout)["project"]["state"] == "IMAGED"


def test_a_run_killed_while_starting_up_is_resumed(tmp_path: Path) -> None:
    """SIGKILL while the run still imports its libraries (before any step): resume continues it.

    The job file used to be written only once the runner was loaded (~1.5 s), so resume said "nothing to
    resume (UPLOADED)". The kill lands once numpy is being loaded, which the runner's import does first.
    """
    import signal
    import time

    from engine.audio.sample import make_song

    wav = tmp_path / "s.wav"
    make_song(wav, bpm=100, bars=3, sections=None, seed=1)
    data = tmp_path / "data"
    project_id = cli(data, "new", str(wav)).stdout.strip()
    proc = cli_start(data, "run", project_id, "--target", "ANALYZED", "--quiet",
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while b"numpy" not in Path(f"/proc/{proc.pid}/maps").read_bytes():
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before loading numpy"
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    status = cli(data, "status", project_id)
    assert "pipeline: interrupted" in status.stdout and f"resume {project_id}" in status.stdout, status.stdout
    resumed = cli(data, "resume", project_id, "--quiet")
    assert resumed.returncode == 0 and f"{project_id}: ANALYZED" in resumed.stdout, resumed.stdout + resumed.stderr


def test_lyrics_show_export_import_round_trip_and_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.audio.sample import make_song

    wav = tmp_path / "s.wav"
    make_song(wav, bpm=120, bars=4, sections=None, seed=5)
    lrc = tmp_path / "in.lrc"
    lrc.write_text("[00:00.50]Night city lights\n[00:03.00]Running <00:03.40>down the road\n[00:05.50]Hearts on fire\n")
    data = tmp_path / "data"
    project_id = cli(data, "new", str(wav), "--provider", "local", "--lyrics", str(lrc)).stdout.strip()
    assert cli(data, "lyrics", project_id).returncode == 2, "no lyrics before the analysis"
    assert cli(data, "run", project_id, "--target", "SEGMENTED", "--quiet").returncode == 0
    shown = cli(data, "lyrics", project_id)
    assert shown.returncode == 0, shown.stderr
    assert "00:03.000-" in shown.stdout and "Running down the road" in shown.stdout and "0 estimated" in shown.stdout
    assert "lyrics: 3 lines, 0 estimated" in cli(data, "status", project_id).stdout

    out = tmp_path / "out.lrc"
    assert cli(data, "lyrics", project_id, "--export", str(out)).returncode == 0
    exported = out.read_text()
    assert "[00:03.000]<00:03.000>Running <00:03.400>down" in exported
    moved = tmp_path / "moved.lrc"
    moved.write_text(exported.replace("[00:05.500]", "[00:06.000]"))
    imported = cli(data, "lyrics", project_id, "--import", str(moved))
    assert imported.returncode == 0 and "ANALYZED" in imported.stdout, imported.stderr
    assert cli(data, "lyrics", project_id, "--export", "-").stdout == moved.read_text()

    bad = tmp_path / "bad.lrc"
    bad.write_text("[00:01.00]one\nno tag here\n")
    refused = cli(data, "lyrics", project_id, "--import", str(bad))
    assert refused.returncode == 2 and "without a [mm:ss.xx] tag" in refused.stderr
    assert cli(data, "lyrics", project_id, "--export", "-").stdout == moved.read_text(), "a refused import changes nothing"

    plain = tmp_path / "plain.txt"
    plain.write_text("Night city lights\nRunning down the road\nHearts on fire\n")
    assert cli(data, "lyrics", project_id, "--import", str(plain)).returncode == 0
    listed = cli(data, "lyrics", project_id).stdout
    assert ("aligned" in listed or "estimated" in listed) and "given" not in listed, listed

    from engine.config import get_settings
    from engine.models import Job, utcnow
    from engine.storage import ProjectFolder

    monkeypatch.setenv("STORYBEAT_DATA", str(data))
    get_settings.cache_clear()
    ProjectFolder(project_id).save_job(Job(kind="pipeline", status="queued", target="IMAGED", started_at=utcnow()))
    get_settings.cache_clear()
    assert cli(data, "lyrics", project_id, "--import", str(lrc)).returncode == 3, "busy"
