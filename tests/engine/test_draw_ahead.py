"""The local pictures drawn ahead on both cores: the same bytes as drawn one by one, the loop's order and rules kept."""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from engine import machine
from engine.cast import CastPicture
from engine.errors import CancelledError
from engine.images import PNG_COMPRESS_LEVEL, png_bytes
from engine.providers.local import local_provider
from engine.runner import Runner
from engine.steps import draw, draw_ahead
from engine.steps.common import StepContext
from engine.steps.draw_batch import pictures_to_draw
from engine.storage import ProjectFolder
from tests.engine.templates import short_project

LRC = "[00:00.50]She walks the night city\n[00:03.00]Rain on the road\n[00:05.50]Her heart on fire\n" \
      "[00:08.00]The sea under the moon\n[00:10.50]A train in the snow\n"


@pytest.fixture
def prompted(data_root: Path, tmp_path: Path) -> str:
    """A short local project with five or more scenes, prompted (no pictures yet)."""
    return short_project(tmp_path, bars=7, lyrics=LRC, target=machine.PROMPTED, max_scene_ms=3000)


def _context(pid: str) -> StepContext:
    folder = ProjectFolder(pid)
    return StepContext(folder=folder, project=folder.load_project(), provider=local_provider())


def _one_by_one(ctx: StepContext) -> dict[str, str]:
    """sha256 of each picture the draw step would draw, drawn here one after the other in the loop's order."""
    prompts = ctx.require_prompts()
    cast = draw.load_or_propose_cast(ctx, prompts)
    references = draw.ensure_references(ctx, cast, prompts)
    out = {}
    for w in pictures_to_draw(ctx, ctx.require_segments(), prompts, cast):
        pictures = [CastPicture(member=m, png=references.get(m.id, b"")) for m in draw.scene_cast(cast, w.scene, w.version)]
        data, _ = draw._draw_one(ctx, w.scene, w.version, prompts, w.want, pictures)
        out[w.scene.id] = hashlib.sha256(data).hexdigest()
    return out


def test_pictures_drawn_ahead_are_the_bytes_drawn_one_by_one(prompted: str) -> None:
    ctx = _context(prompted)
    assert draw_ahead.draws_ahead(ctx, continuity=False, batch=False)
    serial = _one_by_one(ctx)
    assert len(serial) >= 5
    Runner(prompted, target=machine.IMAGED).run()  # the draw step, pictures drawn ahead on two threads
    folder = ProjectFolder(prompted)
    drawn = {}
    for sp in folder.load_prompts().scenes:
        record = sp.latest.image
        assert record is not None and record.file is not None
        data = folder.resolve(record.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record.sha256
        drawn[sp.id] = record.sha256
    assert drawn == serial


def test_resume_adopts_what_was_drawn_and_draws_the_rest(prompted: str) -> None:
    ctx = _context(prompted)
    serial = _one_by_one(ctx)
    folder = ProjectFolder(prompted)
    prompts = ctx.require_prompts()
    cast = folder.load_cast()
    assert cast is not None
    wanted = pictures_to_draw(ctx, ctx.require_segments(), prompts, cast)
    for w in wanted[:2]:  # a crash after two pictures were written, before prompts.json recorded them
        pictures = [CastPicture(member=m, png=b"") for m in draw.scene_cast(cast, w.scene, w.version)]
        data, _ = draw._draw_one(ctx, w.scene, w.version, prompts, w.want, pictures)
        w.path.parent.mkdir(parents=True, exist_ok=True)
        w.path.write_bytes(data)
    left = pictures_to_draw(ctx, ctx.require_segments(), prompts, cast)
    assert [w.key for w in left] == [w.key for w in wanted[2:]]  # only the rest is drawn ahead
    written = {w.path: w.path.stat().st_mtime_ns for w in wanted[:2]}
    Runner(prompted, target=machine.IMAGED).run()
    assert {path: path.stat().st_mtime_ns for path in written} == written  # adopted, not drawn again
    assert {sp.id: sp.latest.image.sha256 for sp in folder.load_prompts().scenes} == serial  # type: ignore[union-attr]


def _wanted(prompted: str) -> list:  # type: ignore[type-arg]
    ctx = _context(prompted)
    prompts = ctx.require_prompts()
    return pictures_to_draw(ctx, ctx.require_segments(), prompts, draw.load_or_propose_cast(ctx, prompts))


def test_take_returns_each_planned_picture_and_none_for_another(prompted: str) -> None:
    wanted = _wanted(prompted)
    seen: list[str] = []
    lock = threading.Lock()

    def fake_draw(w):  # type: ignore[no-untyped-def]
        with lock:
            seen.append(w.scene.id)
        return w.scene.id.encode(), {"k": w.key}

    ahead = draw_ahead.DrawAhead(wanted, fake_draw, check_stop=lambda: None)
    assert ahead.take("seg_999", 1, "x") is None  # not planned: the loop draws it itself
    for w in wanted:
        assert ahead.take(w.scene.id, w.version.version, w.want) == (w.scene.id.encode(), {"k": w.key})
    ahead.close()
    assert sorted(seen) == sorted(w.scene.id for w in wanted)  # each drawn exactly once


def test_at_most_a_few_pictures_are_drawn_beyond_the_one_awaited(prompted: str) -> None:
    wanted = _wanted(prompted)
    started: list[str] = []
    release = threading.Event()

    def slow_draw(w):  # type: ignore[no-untyped-def]
        started.append(w.scene.id)
        release.wait(10)
        return b"", {}

    ahead = draw_ahead.DrawAhead(wanted, slow_draw, check_stop=lambda: None)
    assert len(ahead._futures) == draw_ahead.AHEAD  # submitted before the loop asks
    release.set()
    ahead.take(wanted[0].scene.id, wanted[0].version.version, wanted[0].want)
    assert len(ahead._futures) <= draw_ahead.AHEAD
    ahead.close()
    assert len(started) <= draw_ahead.AHEAD + 1 < len(wanted)  # the rest were cancelled, never drawn


def test_a_stop_reaches_the_pictures_queued_ahead(prompted: str) -> None:
    wanted = _wanted(prompted)
    stop = threading.Event()

    def check_stop() -> None:
        if stop.is_set():
            raise CancelledError("stopped")

    stop.set()
    ahead = draw_ahead.DrawAhead(wanted, lambda w: (b"", {}), check_stop=check_stop)
    with pytest.raises(CancelledError):
        ahead.take(wanted[0].scene.id, wanted[0].version.version, wanted[0].want)
    ahead.close()


def test_only_the_local_illustrator_without_continuity_or_batch_draws_ahead(prompted: str) -> None:
    import dataclasses

    ctx = _context(prompted)
    assert draw_ahead.draws_ahead(ctx, continuity=False, batch=False)
    assert not draw_ahead.draws_ahead(ctx, continuity=True, batch=False)
    assert not draw_ahead.draws_ahead(ctx, continuity=False, batch=True)

    class Wrapped:  # another illustrator that calls the local one (it may fail or count): one picture at a time
        name, version = "local", local_provider().illustrator.version

    other = dataclasses.replace(ctx, provider=dataclasses.replace(ctx.provider, illustrator=Wrapped()))
    assert not draw_ahead.draws_ahead(other, continuity=False, batch=False)


def test_png_level_is_lossless() -> None:
    from io import BytesIO

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(3)
    img = Image.fromarray(rng.integers(0, 255, (90, 160, 3), dtype=np.uint8))
    back = Image.open(BytesIO(png_bytes(img, metadata={"k": "v"})))
    assert np.array_equal(np.asarray(back.convert("RGB")), np.asarray(img))
    assert PNG_COMPRESS_LEVEL == 1


def test_pictures_stored_at_another_png_level_are_kept(prompted: str) -> None:
    """Pictures written at the old level (3: other bytes, the same pixels and fingerprint) are not drawn again:
    the level is not part of a picture's fingerprint, so an upgrade redraws (and pays for) nothing."""
    from io import BytesIO

    from PIL import Image

    from engine.images import read_png_metadata

    Runner(prompted, target=machine.IMAGED).run()
    folder = ProjectFolder(prompted)
    for path in folder.images_dir.glob("seg_*.png"):
        with Image.open(path) as img:
            img.load()
            old = png_bytes(img.convert("RGB"), metadata=read_png_metadata(path), level=3)
        assert old != path.read_bytes()
        path.write_bytes(old)
    before = {p.name: p.read_bytes() for p in folder.images_dir.glob("seg_*.png")}
    assert draw.run(_context(prompted)) is False  # the draw step again: every picture up to date
    after = {p.name: p.read_bytes() for p in folder.images_dir.glob("seg_*.png")}
    assert after == before  # no new version, no picture rewritten
