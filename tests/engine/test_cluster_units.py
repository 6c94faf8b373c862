"""The cluster's settings and its units, run in this process (no scheduler): engine/cluster.py, engine/render/remote.py."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import cluster
from engine.config import get_settings
from engine.errors import InputError
from engine.render import remote
from tests.conftest import REPO, use_bucket


@pytest.mark.parametrize(("value", "kind"), [("tcp://10.0.0.5:8786", "address"), ("/etc/dask/scheduler.json", "file"),
                                             ("local:2", "local"), ("", None)])
def test_the_setting_names_a_scheduler_a_file_or_a_local_cluster(value: str, kind: str | None) -> None:
    target = cluster.parse_cluster(value)
    assert (target.kind if target else None) == kind


@pytest.mark.parametrize("value", ["local:0", "local:x", "10.0.0.5:8786", "http://x:1", "tcp://"])
def test_a_malformed_setting_is_refused(value: str) -> None:
    with pytest.raises(InputError, match="STORYBEAT_CLUSTER"):
        cluster.parse_cluster(value)


def test_a_cluster_needs_the_bucket(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import store

    monkeypatch.setenv("STORYBEAT_CLUSTER", "local:2")
    monkeypatch.delenv("STORYBEAT_STORAGE", raising=False)
    get_settings.cache_clear()
    store._store.cache_clear()
    with pytest.raises(InputError, match="STORYBEAT_STORAGE"):
        cluster.configured()


def test_unset_nothing_of_dask_is_imported() -> None:
    code = ("import sys, engine.cli, engine.render.render, engine.steps.draw, engine.cluster as c; "
            "assert not c.configured(); assert 'distributed' not in sys.modules and 'dask' not in sys.modules")
    env = {k: v for k, v in os.environ.items() if k not in ("STORYBEAT_CLUSTER", "STORYBEAT_STORAGE")}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env, timeout=120)


def test_a_worker_with_other_tools_refuses_the_unit() -> None:
    mine = remote.tool_versions()
    assert set(mine) == {"render", "ffmpeg", "cv2", "numba", "raster"} and mine["ffmpeg"].startswith("ffmpeg version")
    remote.check_tools(mine)  # the same tools: accepted
    with pytest.raises(remote.ToolMismatch, match=r"ffmpeg: runner has 'ffmpeg version 9.9'.*install the same versions"):
        remote.check_tools({**mine, "ffmpeg": "ffmpeg version 9.9"})
    unit = remote.ChunkUnit(chunk=None, timeline=None, pictures=(), subtitles=(), target_key="p/x.mp4",
                            tools={**mine, "numba": "0.1"}, store=remote.StoreRef("s3://nowhere/x", None, None))
    with pytest.raises(remote.ToolMismatch, match="numba"):  # before it touches the bucket or encodes anything
        remote.encode_chunk_unit(unit)


@pytest.fixture
def rendered(data_root: Path, tmp_path: Path) -> dict:
    """A short render on this machine (no cluster), its pictures inside a project folder."""
    from engine.render.render import render_video
    from engine.render.timeline import RenderSpec, build_timeline
    from tests.engine.test_render_video import SUBS, _clips, _wav

    folder = data_root / "projects" / "abc123"
    images = folder / "images"
    images.mkdir(parents=True)
    clips = _clips(images, n=2)
    spec = RenderSpec(width=320, height=180, fps=30, preset="ultrafast", crf=23)
    timeline = build_timeline(clips, duration_ms=4000, spec=spec, seed=7)
    audio = _wav(tmp_path / "track.wav", seconds=4.0)
    cache = folder / "renders" / "cache"
    result = render_video(timeline, audio_path=audio, subtitles=SUBS, out_path=folder / "renders" / "final_v1.mp4",
                          cache_dir=cache)
    return {"timeline": timeline, "clips": clips, "audio": audio, "cache": cache, "folder": folder, "result": result}


@pytest.mark.slow
def test_a_chunk_unit_encodes_the_same_bytes_as_one_machine_once(rendered: dict, s3_endpoint: str,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    from engine import sync
    from engine.render.render import chunk_fingerprint, chunk_lines, still_name
    from tests.engine.test_render_video import SUBS

    use_bucket(monkeypatch, s3_endpoint)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "worker"))  # the worker's own scratch: no still there yet
    (tmp_path / "worker").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    store = sync.store()
    for clip in rendered["clips"]:
        store.put_file(sync.key_of(clip.image_path), clip.image_path)  # type: ignore[union-attr, arg-type]
    timeline, cache = rendered["timeline"], rendered["cache"]
    spec = timeline.spec
    chunk = max(timeline.chunks, key=lambda c: len(c.clip_indexes))  # one with a transition: two pictures
    target = cache / f"chunk_{chunk_fingerprint(chunk, timeline=timeline, subtitles=SUBS)}.mp4"
    [unit] = remote.chunk_units([(chunk, target)], timeline=timeline,
                                image_of={c.image_sha256: c.image_path for c in rendered["clips"]},
                                still_of=lambda sha: still_name(sha, timeline=timeline),
                                lines_of=lambda c: chunk_lines(c, timeline=timeline, subtitles=SUBS))
    assert unit.subtitles, "the chunk shows a line: the unit ships it"
    assert unit.target_key == f"abc123/renders/cache/{target.name}"
    assert remote.encode_chunk_unit(unit) == unit.target_key
    assert store.get(unit.target_key).data == target.read_bytes(), "the unit's chunk differs from one machine's"  # type: ignore[union-attr]
    assert list((tmp_path / "worker").rglob("still_*.yuv")), "the still was not made from the picture on the worker"
    client = store.client  # type: ignore[union-attr]
    first = client.head_object(Bucket=store.bucket, Key=store._k(unit.target_key))["LastModified"]  # type: ignore[union-attr]
    remote.encode_chunk_unit(unit)  # done twice (a retry after its upload): nothing written again
    assert client.head_object(Bucket=store.bucket, Key=store._k(unit.target_key))["LastModified"] == first  # type: ignore[union-attr]
    target.unlink()
    assert sync.adopt(unit.target_key, target) and sync._same(unit.target_key, target, sync._etags[unit.target_key])


@pytest.mark.slow
def test_with_every_chunk_cached_the_render_does_not_touch_the_cluster(rendered: dict,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.render.render import render_video
    from tests.engine.test_render_video import SUBS

    monkeypatch.setenv("STORYBEAT_CLUSTER", "tcp://127.0.0.1:9")  # nothing listens there
    get_settings.cache_clear()
    again = render_video(rendered["timeline"], audio_path=rendered["audio"], subtitles=SUBS,
                         out_path=rendered["folder"] / "renders" / "final_v2.mp4", cache_dir=rendered["cache"])
    assert again.chunks_encoded == 0 and not cluster._clients
    assert again.out_path.read_bytes() == rendered["result"].out_path.read_bytes()


@pytest.mark.slow
def test_a_render_on_a_local_cluster_equals_one_machines(rendered: dict, s3_endpoint: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import sync
    from engine.render.render import render_video
    from tests.engine.test_render_video import SUBS

    use_bucket(monkeypatch, s3_endpoint)
    monkeypatch.setenv("STORYBEAT_CLUSTER", "local:1")
    get_settings.cache_clear()
    for clip in rendered["clips"]:
        sync.store().put_file(sync.key_of(clip.image_path), clip.image_path)  # type: ignore[union-attr, arg-type]
    cache = rendered["cache"].with_name("cache2")
    calls: list[float] = []
    try:
        again = render_video(rendered["timeline"], audio_path=rendered["audio"], subtitles=SUBS,
                             out_path=rendered["folder"] / "renders" / "final_v2.mp4", cache_dir=cache,
                             progress=lambda f, e: calls.append(f))
    finally:
        cluster.close()
    assert again.chunks_encoded == len(rendered["timeline"].chunks)
    assert again.out_path.read_bytes() == rendered["result"].out_path.read_bytes()
    assert sorted(p.name for p in cache.glob("chunk_*.mp4")) == sorted(p.name for p in rendered["cache"].glob("chunk_*.mp4"))
    assert calls == sorted(calls) and calls[-1] == 1.0


@pytest.mark.slow
def test_a_picture_unit_paints_what_the_draw_step_paints_once(tmp_path: Path, s3_endpoint: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import machine, sync
    from engine.images import canvas_size
    from engine.providers.base import StepIO
    from engine.providers.local import LocalIllustrator
    from engine.steps import draw_units
    from engine.steps.draw import image_seed, picture_version
    from engine.storage import ProjectFolder
    from tests.engine.templates import project_template

    path = project_template(tmp_path, project_id="pic-unit", lyrics="[00:01.00]a lantern over the river\n", bars=4,
                            seed=3, target=machine.PROMPTED)
    folder = ProjectFolder("pic-unit", root=path.parent)
    settings = folder.load_project().settings
    scene = folder.load_segments().scenes[0]  # type: ignore[union-attr]
    prompts = folder.load_prompts()
    assert prompts is not None
    version = prompts.scenes[0].latest
    width, height = canvas_size(settings.aspect, out_height=settings.resolution)
    args = {"scene": scene, "version": version, "bible": prompts.style_bible, "settings": settings, "want": "fp-1",
            "width": width, "height": height, "seed": image_seed(settings.seed, scene.seat, picture_version(version))}
    here, _ = draw_units.paint(LocalIllustrator(), **args, io_=StepIO(), cast=[])  # as the draw step paints it

    use_bucket(monkeypatch, s3_endpoint)
    unit = draw_units.PictureUnit(**args, cast=(), key="pic-unit/images/seg_001_v1.png",
                                  tools=draw_units.picture_tools(), store=remote.StoreRef.current())
    store = sync.store()
    assert draw_units.paint_unit(unit) == unit.key
    assert store.get(unit.key).data == here  # type: ignore[union-attr]

    def boom(*_: object, **__: object) -> None:
        raise AssertionError("painted again")

    monkeypatch.setattr(draw_units, "paint", boom)
    assert draw_units.paint_unit(unit) == unit.key  # done twice: found in the bucket, not painted or written again
    assert list(store.list("pic-unit/")) == [unit.key]  # type: ignore[union-attr]
    other = draw_units.PictureUnit(**{**unit.__dict__, "tools": {**unit.tools, "pillow": "1.0"}})
    with pytest.raises(remote.ToolMismatch, match="pillow"):
        draw_units.paint_unit(other)
