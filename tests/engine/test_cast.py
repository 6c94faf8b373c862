"""The cast: proposed with the prompts, references drawn once (fingerprinted, adopted after a crash), edits
redraw exactly the pictures that show the changed member; Gemini gets the references as input images."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from engine import machine
from engine import project as actions
from engine.cast import cast_version, members_in, propose_cast
from engine.errors import InputError, StaleError, StateError
from engine.images import read_png_metadata
from engine.models import CastMemberFields, ProjectSettings, StyleBible
from engine.providers.base import Provider
from engine.providers.local import local_provider
from engine.runner import Runner
from engine.steps.draw import META_FP
from engine.storage import ProjectFolder
from tests.engine.templates import short_project

LRC = "[00:00.50]She walks the night city\n[00:03.00]Rain on the road\n[00:05.50]Her heart on fire\n"


class CountingIllustrator:
    """The real local illustrator, counting the pictures and references it draws."""

    def __init__(self) -> None:
        self.inner = local_provider().illustrator
        self.name, self.version = self.inner.name, self.inner.version
        self.scenes: Counter[str] = Counter()
        self.references: Counter[str] = Counter()

    def model_for(self, s: ProjectSettings) -> str:
        return self.inner.model_for(s)

    def draw(self, **kw):  # type: ignore[no-untyped-def]
        self.scenes[kw["scene"].id] += 1
        return self.inner.draw(**kw)

    def draw_reference(self, **kw):  # type: ignore[no-untyped-def]
        self.references[kw["member"].id] += 1
        return self.inner.draw_reference(**kw)


def counting_provider(ill: CountingIllustrator) -> Provider:
    base = local_provider()
    return Provider(name="local", analyst=base.analyst, storyboarder=base.storyboarder, writer=base.writer,
                    illustrator=ill)  # type: ignore[arg-type]


@pytest.fixture
def imaged(data_root: Path, tmp_path: Path) -> str:
    """A short local project drawn to IMAGED."""
    return short_project(tmp_path, bars=4, lyrics=LRC, target=machine.IMAGED, max_scene_ms=4000)


def run_counted(pid: str) -> CountingIllustrator:
    ill = CountingIllustrator()
    Runner(pid, target=machine.IMAGED, provider=counting_provider(ill)).run()
    return ill


def test_proposal_follows_the_subject() -> None:
    bible = StyleBible(preset="noir", palette=["#0d0d0f", "#2b2b30", "#6e6e76", "#b9b9c0", "#f2f2f2", "#c8102e"],
                       setting="a city", subject="a young woman in a flowing red coat", look="ink")
    lead = propose_cast(bible).members[0]
    assert (lead.id, lead.name, lead.silhouette, lead.appears) == ("lead", "The woman", "long-coat", "always")
    assert lead.colours[0] == "#c8283a" and lead.clothing == "a flowing red coat"
    wolf = propose_cast(bible.model_copy(update={"subject": "a silver wolf"})).members[0]
    assert wolf.silhouette == "wolf" and wolf.colours[0] == "#c4cad2"


def test_references_are_drawn_once_and_pictures_carry_them(imaged: str) -> None:
    folder = ProjectFolder(imaged)
    cast = folder.load_cast()
    assert cast is not None and [m.id for m in cast.members] == ["lead"]
    ref = cast.members[0].reference
    assert ref is not None and ref.origin == "drawn" and ref.file == "cast/lead_r1.png"
    assert read_png_metadata(folder.resolve(ref.file))[META_FP] == ref.fingerprint
    again = run_counted(imaged)  # nothing changed: nothing is drawn again
    assert not again.scenes and not again.references


def test_a_reference_finished_before_a_crash_is_adopted(imaged: str) -> None:
    folder = ProjectFolder(imaged)
    cast = folder.load_cast()
    assert cast is not None
    cast.members[0].reference = None  # the PNG was written, the crash came before cast.json recorded it
    from engine.storage import atomic_write_json

    atomic_write_json(folder.cast_json, cast)
    ill = run_counted(imaged)
    assert not ill.references and not ill.scenes
    assert folder.load_cast().members[0].reference.file == "cast/lead_r1.png"  # type: ignore[union-attr]


def test_editing_the_lead_redraws_its_reference_and_every_picture_as_new_versions(imaged: str) -> None:
    folder = ProjectFolder(imaged)
    before = folder.load_prompts()
    cast = folder.load_cast()
    assert before is not None and cast is not None
    lead = CastMemberFields.model_validate(cast.members[0].model_dump(exclude={"reference"}))
    project = actions.edit_cast(imaged, [lead.model_copy(update={"colours": ["#20a040", "#202020", "#f0d020"]})],
                                if_match=cast_version(cast))
    assert project.state == machine.PROMPTED and project.history[-1].trigger == "edit_cast"
    ill = run_counted(imaged)
    assert ill.references == {"lead": 1}
    assert set(ill.scenes) == {sp.id for sp in before.scenes} and set(ill.scenes.values()) == {1}
    after = folder.load_prompts()
    assert after is not None
    for old, new in zip(before.scenes, after.scenes):
        assert new.latest.version == old.latest.version + 1  # a drawn picture is never overwritten
        assert folder.resolve(old.latest.image.file).is_file()  # type: ignore[union-attr]
    new_ref = folder.load_cast().members[0].reference  # type: ignore[union-attr]
    assert new_ref is not None and new_ref.file == "cast/lead_r2.png" and folder.resolve("cast/lead_r1.png").is_file()


def test_a_named_member_redraws_exactly_the_scenes_that_name_it(imaged: str) -> None:
    folder = ProjectFolder(imaged)
    prompts, segments, cast = folder.load_prompts(), folder.load_segments(), folder.load_cast()
    assert prompts is not None and segments is not None and cast is not None
    texts = {s.id: f"{p.latest.image_prompt} {s.visual_intent}".lower() for s, p in zip(segments.scenes, prompts.scenes)}
    words = Counter(w for t in texts.values() for w in set(re.findall(r"[a-z]{5,}", t)))
    word = next(w for w, n in sorted(words.items()) if 0 < n < len(texts))  # named in some scenes, not all
    naming = {sid for sid, t in texts.items() if word in t}
    lead = CastMemberFields.model_validate(cast.members[0].model_dump(exclude={"reference"}))
    extra = CastMemberFields(id="guest", name=word, description=f"a {word} spirit", silhouette="bird",
                             colours=["#ffffff"], appears="named")
    actions.edit_cast(imaged, [lead, extra])
    ill = run_counted(imaged)
    assert ill.references == {"guest": 1}  # the lead's reference is still valid
    assert set(ill.scenes) == naming
    assert {m.id for m in members_in(folder.load_cast(), f"the {word} here")} == {"lead", "guest"}


def test_refused_cast_edits_change_nothing(imaged: str) -> None:
    folder = ProjectFolder(imaged)
    cast = folder.load_cast()
    assert cast is not None
    lead = CastMemberFields.model_validate(cast.members[0].model_dump(exclude={"reference"}))
    before = folder.cast_json.read_bytes()
    with pytest.raises(StaleError):
        actions.edit_cast(imaged, [lead.model_copy(update={"name": "Ann"})], if_match="0123456789abcdef")
    with pytest.raises(InputError, match="at least one"):
        actions.edit_cast(imaged, [])
    with pytest.raises(ValueError, match="rrggbb"):
        CastMemberFields(id="x", name="x", description="x", colours=["red"])
    assert folder.cast_json.read_bytes() == before
    assert folder.load_project().state == machine.IMAGED


def test_no_cast_before_the_prompt_step(data_root: Path, tmp_path: Path) -> None:
    from engine.errors import NotFoundError

    project = actions.create_project()
    with pytest.raises(NotFoundError):
        actions.current_cast(ProjectFolder(project.id))
    with pytest.raises((StateError, NotFoundError)):
        actions.edit_cast(project.id, [CastMemberFields(id="a", name="a", description="a", colours=["#000000"])])


def test_cast_api_get_put_etag_and_refusals(imaged: str, data_root: Path) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.api.conftest import tree_hash

    with TestClient(create_app()) as client:
        got = client.get(f"/projects/{imaged}/cast")
        assert got.status_code == 200, got.text
        body = got.json()
        assert got.headers["etag"] == f'"{body["version"]}"' and body["edited"] is False
        url = body["reference_urls"]["lead"]
        pic = client.get(url)
        assert pic.status_code == 200 and pic.content[:8] == b"\x89PNG\r\n\x1a\n"
        lead = {k: v for k, v in body["members"][0].items() if k != "reference"}
        before = tree_hash(data_root / "projects" / imaged)
        for payload, headers, status, words in [
            ({"members": [{**lead, "colours": ["red"]}]}, {}, 422, "rrggbb"),
            ({"members": [{**lead, "silhouette": "dragon"}]}, {}, 422, "silhouette"),
            ({"members": []}, {}, 422, "members"),
            ({"members": [lead], "extra": 1}, {}, 422, "extra"),
            ({"members": [{**lead, "name": "Ann"}]}, {"If-Match": '"0000000000000000"'}, 412, "cast changed"),
        ]:
            res = client.put(f"/projects/{imaged}/cast", json=payload, headers=headers)
            assert res.status_code == status and words in res.text, (payload, res.status_code, res.text)
        assert tree_hash(data_root / "projects" / imaged) == before
        res = client.put(f"/projects/{imaged}/cast", json={"members": [{**lead, "name": "Ann"}]},
                         headers={"If-Match": got.headers["etag"]})
        assert res.status_code == 200, res.text
        assert res.json()["members"][0]["name"] == "Ann" and res.json()["edited"] is True
        assert res.json()["state"] == machine.PROMPTED
        assert "edit_cast" in {e["trigger"] for e in client.get("/machine").json()["edits"]}


def test_cast_cli_show_set_export(imaged: str, data_root: Path, tmp_path: Path) -> None:
    from tests.engine.test_cli import cli

    shown = cli(data_root, "cast", imaged)
    assert shown.returncode == 0 and "lead" in shown.stdout and "cast/lead_r1.png" in shown.stdout, shown.stderr
    bad = cli(data_root, "cast", imaged, "--set", "lead", "colours=blue")
    assert bad.returncode != 0 and "rrggbb" in bad.stderr
    done = cli(data_root, "cast", imaged, "--set", "lead", "colours=#102030,#405060")
    assert done.returncode == 0 and "PROMPTED" in done.stdout, done.stderr
    out = tmp_path / "cast.json"
    assert cli(data_root, "cast", imaged, "--export", str(out)).returncode == 0
    assert '"#102030"' in out.read_text()
