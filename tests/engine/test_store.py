"""The bucket as the storage, against a real S3-protocol server on loopback (moto's, tests/fakes/s3_server.py).

The store's conditional writes, the lease (taken once, renewed, expired,
taken over), a conditional write catching a writer without the lease, a
project read back on another working copy, and 20 processes racing to start
one project (on both backends).
"""
from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from engine import machine, sync
from engine.errors import BusyError, LeaseLostError
from engine.lease import HOST, Lease, lease_free
from engine.lock import lock_holder, project_lock
from engine.store import Conflict
from engine.storage import ProjectFolder

from tests.conftest import use_bucket


@pytest.fixture
def bucket(data_root: Path, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """STORYBEAT_STORAGE naming a fresh bucket on the loopback server."""
    url = use_bucket(monkeypatch, s3_endpoint)
    yield url
    sync.reset()


def _store():  # type: ignore[no-untyped-def]
    store = sync.store()
    assert store is not None
    return store


def test_conditional_writes_refuse_a_stale_or_existing_object(bucket: str) -> None:
    store = _store()
    first = store.put("p1/a.json", b"1", if_absent=True)
    with pytest.raises(Conflict):
        store.put("p1/a.json", b"2", if_absent=True)  # If-None-Match: * on an existing object
    second = store.put("p1/a.json", b"2", if_match=first)
    with pytest.raises(Conflict):
        store.put("p1/a.json", b"3", if_match=first)  # If-Match on an ETag that is no longer current
    assert store.get("p1/a.json").data == b"2"  # type: ignore[union-attr]
    assert store.get("p1/a.json", unless_etag=second).data is None  # type: ignore[union-attr] - 304: unchanged
    assert store.list("p1/") == {"p1/a.json": second}
    assert store.get("p1/missing") is None and store.head("p1/missing") is None


def test_a_presigned_url_serves_ranges(bucket: str) -> None:
    store = _store()
    data = bytes(range(256)) * 40
    store.put("p1/renders/final_v1.mp4", data)
    url = store.url("p1/renders/final_v1.mp4", media_type="video/mp4", disposition='inline; filename="x.mp4"')
    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.content == data and whole.headers["content-type"] == "video/mp4"
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]


def test_a_project_lives_in_the_bucket_and_a_fresh_working_copy_sees_it(bucket: str, data_root: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.config import get_settings
    from engine.manage import rename_project
    from engine.project import create_project
    from engine.storage import list_project_ids

    create_project(project_id="p-one", name="first")
    rename_project("p-one", "renamed")  # under the lease: pulled, written, published
    keys = set(_store().list("p-one/"))
    assert {"p-one/project.json", "p-one/.lease"} <= keys and not any("/jobs/.lock" in k for k in keys)
    other = data_root.parent / "other-machine"
    monkeypatch.setenv("STORYBEAT_DATA", str(other))
    get_settings.cache_clear()
    sync.reset()
    assert list_project_ids() == ["p-one"]
    assert ProjectFolder("p-one").load_project().name == "renamed"  # read from the bucket, not a local file
    assert not (other / "projects" / "p-one" / "project.json").exists()
    with project_lock(ProjectFolder("p-one")):  # taking the lease brings the working copy up to date
        assert (other / "projects" / "p-one" / "project.json").is_file()


def test_a_write_over_someone_elses_change_is_refused(bucket: str) -> None:
    """A writer without the lease changed project.json: our next write of it fails instead of losing theirs."""
    from engine.project import create_project

    create_project(project_id="p-two")
    folder = ProjectFolder("p-two")
    with project_lock(folder):
        project = folder.load_project()
        etag = _store().head("p-two/project.json")
        _store().put("p-two/project.json", json.dumps({**project.model_dump(mode="json"), "name": "theirs"}).encode(),
                     if_match=etag)
        project.name = "ours"
        with pytest.raises(LeaseLostError):
            folder.save_project(project)
    assert ProjectFolder("p-two").load_project().name == "theirs"


def test_the_lease_is_taken_once_renewed_and_given_back(bucket: str) -> None:
    from engine.project import create_project

    create_project(project_id="p-three")
    store = _store()
    lease = Lease(store, "p-three", ttl_s=0.9).acquire()
    try:
        first = lease.etag
        with pytest.raises(BusyError):
            Lease(store, "p-three").acquire(wait_s=0.2)  # a live holder on this machine: busy
        assert lock_holder(ProjectFolder("p-three")) == os.getpid()
        time.sleep(1.0)  # renewed every ttl/3
        assert lease.etag != first
        lease.ensure()
    finally:
        lease.release()
    assert lock_holder(ProjectFolder("p-three")) is None
    Lease(store, "p-three").acquire().release()  # a released lease is free


def _foreign(expires_in_s: float) -> bytes:
    return json.dumps({"host": f"not-{HOST}", "boot": "x", "pid": 1, "start": "1", "token": "t",
                       "expires_at": time.time() + expires_in_s, "released": False}).encode()


def test_another_machines_lease_holds_until_it_expires(bucket: str) -> None:
    from engine.project import create_project

    create_project(project_id="p-four")
    store = _store()
    store.put("p-four/.lease", _foreign(30))
    with pytest.raises(BusyError):
        with project_lock(ProjectFolder("p-four"), wait_s=0.2):
            pass
    assert lock_holder(ProjectFolder("p-four")) == 0  # held, but not by a process here
    store.put("p-four/.lease", _foreign(-1))  # its worker died and stopped renewing: expired
    assert lease_free(json.loads(_store().get("p-four/.lease").data))  # type: ignore[union-attr, arg-type]
    with project_lock(ProjectFolder("p-four")):
        assert json.loads(store.get("p-four/.lease").data)["pid"] == os.getpid()  # type: ignore[union-attr, arg-type]


def test_a_lease_taken_over_stops_its_old_holder(bucket: str) -> None:
    """A paused holder whose lease expired and was taken over by another machine writes nothing more."""
    from engine.project import create_project

    create_project(project_id="p-five")
    store = _store()
    lease = Lease(store, "p-five", ttl_s=0.6)
    lease.acquire()
    lease._stop.set()  # as if paused: no more renewals
    time.sleep(0.5)
    store.put("p-five/.lease", _foreign(30), if_match=lease.etag)  # the other machine took it over, conditionally
    with pytest.raises(LeaseLostError):
        lease.ensure()
    lease.release()
    assert json.loads(store.get("p-five/.lease").data)["host"] == f"not-{HOST}"  # type: ignore[union-attr, arg-type]


def _race(start: multiprocessing.Event, done: multiprocessing.Event, results: multiprocessing.Queue) -> None:
    from engine import store
    from engine.config import get_settings
    from engine.jobs import queue_run

    get_settings.cache_clear()
    store._store.cache_clear()  # a client of its own (connections are not shared across a fork)
    sync.reset()
    start.wait(30)
    try:
        job = queue_run(ProjectFolder("race-project"), target=machine.ANALYZED, pid=os.getpid(), lock_wait_s=20)
        results.put(("queued", job.pid))
    except BusyError as exc:
        results.put(("busy", str(exc)))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        results.put(("error", repr(exc)))
    done.wait(60)  # the winner stays alive: its queued job is live while the others try


@pytest.mark.slow
def test_twenty_concurrent_starts_queue_one_run(data_root: Path, backend: str) -> None:
    from engine.audio.sample import make_song
    from engine.project import create_project, upload_track

    wav = data_root.parent / "song.wav"
    make_song(wav, bpm=120, bars=2, sections=None, seed=3)
    create_project(project_id="race-project")
    upload_track("race-project", audio=wav, original_name="song.wav")
    ctx = multiprocessing.get_context("fork")
    start, done, results = ctx.Event(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(start, done, results)) for _ in range(20)]
    for p in procs:
        p.start()
    start.set()
    try:
        outcomes = [results.get(timeout=120) for _ in procs]
    finally:
        done.set()
        for p in procs:
            p.join(30)
    kinds = sorted(o[0] for o in outcomes)
    assert kinds == ["busy"] * 19 + ["queued"], outcomes
    job = ProjectFolder("race-project").load_job("pipeline")
    assert job.status == "queued" and job.pid == next(o[1] for o in outcomes if o[0] == "queued")


def test_a_duplicate_is_stored_whole_and_a_deleted_project_leaves_nothing(bucket: str, data_root: Path) -> None:
    from engine.audio.sample import make_song
    from engine.manage import duplicate_project
    from engine.project import create_project, delete_project, upload_track

    wav = data_root.parent / "song.wav"
    make_song(wav, bpm=120, bars=2, sections=None, seed=3)
    create_project(project_id="p-six")
    upload_track("p-six", audio=wav, original_name="song.wav")
    copy = duplicate_project("p-six")
    keys = set(_store().list(f"{copy.id}/"))
    assert {f"{copy.id}/project.json", f"{copy.id}/source/track.wav"} <= keys
    assert not [k for k in _store().list("") if k.startswith(".")], "a staging folder reached the bucket"
    delete_project("p-six")
    assert _store().list("p-six/") == {} and not (data_root / "projects" / "p-six").exists()
    assert ProjectFolder(copy.id).load_project().state == machine.UPLOADED


def test_another_machines_worker_is_judged_by_its_heartbeat_not_a_local_pid() -> None:
    from datetime import timedelta

    from engine.jobs import job_is_dead
    from engine.models import Job, utcnow

    from tests.conftest import dead_pid

    beating = Job(kind="pipeline", status="running", pid=dead_pid(), host=f"not-{HOST}", heartbeat_at=utcnow())
    assert not job_is_dead(beating, stale_after_s=5)  # its pid is no process here, and says nothing
    silent = beating.model_copy(update={"heartbeat_at": utcnow() - timedelta(seconds=60)})
    assert job_is_dead(silent, stale_after_s=5)
    here = beating.model_copy(update={"host": HOST})
    assert job_is_dead(here, stale_after_s=5)  # on this machine a gone pid is a dead worker at once


def _other_machine(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the engine at another, empty data folder (another machine on the same bucket)."""
    from engine.config import get_settings

    other = data_root.parent / "other-machine"
    monkeypatch.setenv("STORYBEAT_DATA", str(other))
    get_settings.cache_clear()
    sync.reset()
    return other


def test_another_machine_aligns_plain_lyrics_to_the_track_in_the_bucket(bucket: str, data_root: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A lyrics import on a machine without the project's working copy still aligns to the voice: the track is
    fetched from the bucket for the aligner (not left out, which would give only the estimate)."""
    from engine.project import create_project, timed_lines_from_text, upload_track
    from engine.runner import Runner

    case = Path(__file__).resolve().parent.parent / "data" / "lyrics_align" / "speech_over_rock"
    lines = json.loads(case.with_suffix(".json").read_text())["lines"]
    create_project(project_id="p-voice")
    upload_track("p-voice", audio=case.with_suffix(".ogg"), original_name="speech.ogg")
    Runner("p-voice", target=machine.ANALYZED).run()
    text = "\n".join(line["text"] for line in lines)
    here = timed_lines_from_text("p-voice", text)
    assert [line.timing for line in here] == ["aligned"] * len(lines)
    other = _other_machine(data_root, monkeypatch)
    there = timed_lines_from_text("p-voice", text)
    assert [(line.start_ms, line.end_ms, line.timing) for line in there] == [(line.start_ms, line.end_ms, line.timing) for line in here]
    assert not any(other.rglob("track.wav")), "the fetched track was left on the other machine"


def test_another_machine_makes_the_same_contact_sheet_from_the_bucket(bucket: str, data_root: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The contact sheet made on a machine without the working copy shows the pictures (read from the bucket),
    byte for byte the sheet the working copy's machine makes, and is published to the bucket."""
    from engine.audio.sample import make_song
    from engine.models import ProjectSettings
    from engine.project import create_project, upload_track
    from engine.review import write_contact_sheet
    from engine.runner import Runner

    wav = tmp_path / "song.wav"
    make_song(wav, bpm=120, bars=4, sections=None, seed=5)
    create_project(project_id="p-sheet", settings=ProjectSettings(min_scene_ms=2000, max_scene_ms=4000))
    upload_track("p-sheet", audio=wav, original_name="song.wav", lyrics_text="[00:01.00]One line\n[00:04.00]Two lines\n")
    Runner("p-sheet", target=machine.IMAGED).run()
    here = write_contact_sheet("p-sheet").read_bytes()
    _store().delete("p-sheet/contact_sheet.png")
    other = _other_machine(data_root, monkeypatch)
    there = write_contact_sheet("p-sheet").read_bytes()
    assert there == here
    stored = _store().get("p-sheet/contact_sheet.png")
    assert stored is not None and stored.data == here
    assert not any(other.rglob("seg_*.png")), "the pictures were copied to the other machine"


def _age(folder: Path, seconds: float) -> None:
    """Make every file of ``folder`` (and it) look ``seconds`` old."""
    then = time.time() - seconds
    for path in [*folder.rglob("*"), folder]:
        os.utime(path, (then, then), follow_symlinks=False)


def test_old_working_copies_are_pruned_unless_in_use(bucket: str, data_root: Path) -> None:
    """A working copy untouched for the keep time goes (the bucket keeps the project, the next lease pulls it
    again); a fresh one, one whose lease someone holds, and everything without a bucket stay."""
    from engine.manage import rename_project
    from engine.project import create_project
    from engine.working_copies import prune_working_copies

    for pid in ("p-old", "p-new", "p-busy", "p-gone"):
        create_project(project_id=pid, name=pid)
        rename_project(pid, f"{pid} renamed")  # under the lease: a working copy is pulled and kept
    local = data_root / "projects"
    for pid in ("p-old", "p-busy", "p-gone"):
        _age(local / pid, 3 * 3600)
    for key in _store().list("p-gone/"):  # deleted from another machine
        _store().delete(key)
    holder = Lease(_store(), "p-busy").acquire()
    try:
        assert sorted(prune_working_copies(keep_s=3600)) == ["p-gone", "p-old"]
    finally:
        holder.release()
    assert sorted(p.name for p in local.iterdir()) == ["p-busy", "p-new"]
    assert ProjectFolder("p-old").load_project().name == "p-old renamed"  # still in the bucket
    assert lease_free(json.loads(_store().get("p-old/.lease").data))  # type: ignore[union-attr]  # given back
    with project_lock(ProjectFolder("p-old")):  # the next lease brings the copy back
        assert (local / "p-old" / "project.json").is_file()
    assert prune_working_copies(keep_s=3600) == ["p-busy"]  # given back now; p-old was just used: kept
    by_hand = subprocess.run([sys.executable, "-m", "engine", "prune-copies", "--older-than", "0"], capture_output=True,
                             text=True, cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert by_hand.returncode == 0 and by_hand.stdout.strip() == "removed 2 working copies: p-new, p-old", by_hand
    assert not any(local.iterdir())


def test_without_a_bucket_nothing_is_pruned(data_root: Path) -> None:
    from engine.project import create_project
    from engine.working_copies import prune_working_copies

    create_project(project_id="p-disk")
    _age(data_root / "projects" / "p-disk", 30 * 24 * 3600)
    assert prune_working_copies(keep_s=0) == [] and (data_root / "projects" / "p-disk" / "project.json").is_file()
