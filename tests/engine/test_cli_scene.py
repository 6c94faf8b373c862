"""`storybeat scene`: list the scenes, move a cut, split, merge, lock, bring a picture; exit codes for mistakes."""
from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image

from tests.engine.test_cli import cli


def _scenes(listing: str) -> list[tuple[str, str]]:
    """(id, the rest of the line) of each scene line of `storybeat scene ID`."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^(seg_\d{3})  (.*)$", listing, re.M)]


def test_scene_commands_change_the_structure_and_mistakes_exit_2(tmp_path: Path) -> None:
    from engine.audio.sample import make_song

    wav = tmp_path / "s.wav"
    make_song(wav, bpm=120, bars=12, sections=None, seed=7)
    lrc = tmp_path / "in.lrc"
    lrc.write_text("[00:00.50]Night city lights\n[00:04.00]Running down the road\n[00:08.00]Hearts on fire\n"
                   "[00:12.00]Stars above the sea\n[00:16.00]Into the dawn\n")
    data = tmp_path / "data"
    pid = cli(data, "new", str(wav), "--provider", "local", "--lyrics", str(lrc)).stdout.strip()
    assert cli(data, "scene", pid).returncode == 2, "no storyboard yet"
    assert cli(data, "run", pid, "--target", "PROMPTED", "--quiet").returncode == 0
    listed = cli(data, "scene", pid)
    assert listed.returncode == 0, listed.stderr
    scenes = _scenes(listed.stdout)
    assert len(scenes) >= 3 and "Night city lights" in scenes[0][1]

    first = scenes[0][0]
    merged = cli(data, "scene", pid, "merge", first, "next")
    assert merged.returncode == 0, merged.stderr
    assert "SEGMENTED" in merged.stdout
    assert "Night city lights / Running down the road" in _scenes(merged.stdout)[0][1], "both lines shown in one scene"
    one = _scenes(merged.stdout)[0][0]  # the merged scene takes the id of the one it overlaps most
    split = cli(data, "scene", pid, "split", one, "4.0")
    assert split.returncode == 0, split.stderr
    after = _scenes(split.stdout)
    assert "Running down the road" not in after[0][1] and "Running down the road" in after[1][1]

    moved = cli(data, "scene", pid, "move", after[1][0], "--end", "0:07.35", "--free")
    assert moved.returncode == 0, moved.stderr
    assert "-00:07.350" in dict(_scenes(moved.stdout))[after[1][0]]

    assert cli(data, "run", pid, "--target", "PROMPTED", "--quiet").returncode == 0
    locked = cli(data, "scene", pid, "lock", after[1][0])
    assert locked.returncode == 0 and "locked" in dict(_scenes(locked.stdout))[after[1][0]]
    assert f"locked: {after[1][0]}" in cli(data, "status", pid).stdout

    picture = tmp_path / "mine.png"
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (20, 120, 200)).save(buf, format="PNG")
    picture.write_bytes(buf.getvalue())
    assert cli(data, "scene", pid, "picture", after[2][0], str(picture), "--focus-x", "0.3").returncode == 0
    assert cli(data, "scene", pid, "focus", after[2][0], "0.7", "0.5").returncode == 0

    for args, words in [
        (("move", after[1][0], "--end", "soon"), "not a time"),
        (("move", after[1][0]), "--start and/or --end"),
        (("merge", "seg_999", "next"), "not found"),
        (("picture", after[1][0], str(picture)), "locked"),
        (("picture", after[2][0], str(lrc)), "not a picture"),
        (("split", after[3][0], "0.5"), "not inside"),
    ]:
        refused = cli(data, "scene", pid, *args)
        assert refused.returncode == 2 and words in refused.stderr, (args, refused.stderr)
