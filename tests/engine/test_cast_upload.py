"""A cast member's reference picture the user brings (engine, API, CLI): read like any picture the user brings,
never redrawn, its hash in the fingerprint of exactly the pictures that show the member; and the way back to a
drawn reference (adopted from disk, not paid again)."""
from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from engine import machine
from engine import project as actions
from engine.cast import cast_version, members_in
from engine.cast_actions import upload_reference, use_drawn_reference
from engine.errors import InputError, NotFoundError, StaleError
from engine.images import read_png_metadata
from engine.models import CastMemberFields
from engine.storage import ProjectFolder
from tests.engine.test_cast import imaged, run_counted  # noqa: F401 (the fixture)


def jpeg_on_its_side(size: tuple[int, int] = (300, 200), colour: tuple[int, int, int] = (200, 40, 60)) -> bytes:
    """A JPEG stored landscape with EXIF orientation 6 (shown rotated: portrait), its top row white."""
    img = Image.new("RGB", size, colour)
    img.paste((255, 255, 255), (0, 0, 20, size[1]))  # the stored left column: the top row once upright
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    return buf.getvalue()


def picture(fmt: str = "PNG", size: tuple[int, int] = (640, 480), colour: tuple[int, int, int] = (30, 160, 90)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format=fmt)
    return buf.getvalue()


def fields(member) -> CastMemberFields:  # type: ignore[no-untyped-def]
    return CastMemberFields.model_validate(member.model_dump(exclude={"reference"}))


def naming_scenes(folder: ProjectFolder) -> tuple[str, set[str]]:
    """A word some scenes' prompts name and others do not, and the scenes naming it."""
    import re

    prompts, segments = folder.load_prompts(), folder.load_segments()
    assert prompts is not None and segments is not None
    texts = {s.id: f"{p.latest.image_prompt} {s.visual_intent}".lower() for s, p in zip(segments.scenes, prompts.scenes)}
    words = Counter(w for t in texts.values() for w in set(re.findall(r"[a-z]{5,}", t)))
    word = next(w for w, n in sorted(words.items()) if 0 < n < len(texts))
    return word, {sid for sid, t in texts.items() if word in t}


def test_an_uploaded_reference_redraws_exactly_the_scenes_showing_the_member_and_back(imaged: str) -> None:  # noqa: F811
    folder = ProjectFolder(imaged)
    word, naming = naming_scenes(folder)
    cast = folder.load_cast()
    assert cast is not None
    guest = CastMemberFields(id="guest", name=word, description=f"a {word} spirit", silhouette="bird",
                             colours=["#ffffff"], appears="named")
    actions.edit_cast(imaged, [fields(cast.members[0]), guest])
    assert run_counted(imaged).references == {"guest": 1}
    drawn = folder.load_cast().members[1].reference  # type: ignore[union-attr]
    assert drawn is not None and drawn.origin == "drawn" and drawn.file == "cast/guest_r1.png"

    project = upload_reference(imaged, "guest", jpeg_on_its_side(), if_match=cast_version(folder.load_cast()))
    assert project.state == machine.PROMPTED and project.history[-1].trigger == "edit_cast"
    ref = folder.load_cast().members[1].reference  # type: ignore[union-attr]
    assert ref is not None and ref.origin == "upload" and ref.file == "cast/guest_r2.png" and ref.fingerprint == ""
    with Image.open(folder.resolve(ref.file)) as img:
        assert img.format == "PNG" and img.size == (200, 300)  # the EXIF orientation applied
        assert img.convert("RGB").getpixel((100, 5)) > (230, 230, 230)  # the white edge is on top
    assert read_png_metadata(folder.resolve(ref.file))["storybeat:provider"] == "upload"
    assert folder.resolve("cast/guest_r1.png").is_file()  # the drawn reference stays on disk

    ill = run_counted(imaged)
    assert not ill.references  # an uploaded reference is never drawn over
    assert set(ill.scenes) == naming and set(ill.scenes.values()) == {1}  # exactly the scenes that show it
    shown = {m.id for m in members_in(folder.load_cast(), word)}
    assert shown == {"lead", "guest"}
    again = run_counted(imaged)
    assert not again.scenes and not again.references

    # the same picture again changes nothing; a new look keeps the upload (not redrawn)
    assert upload_reference(imaged, "guest", jpeg_on_its_side()).state == machine.IMAGED
    cast = folder.load_cast()
    actions.edit_cast(imaged, [fields(cast.members[0]), fields(cast.members[1]).model_copy(update={"colours": ["#101010"]})])
    ill = run_counted(imaged)
    assert not ill.references and set(ill.scenes) == naming
    assert folder.load_cast().members[1].reference == ref  # type: ignore[union-attr]

    # back to a drawn reference: drawn for the new look (the old drawn one no longer fits it)
    project = use_drawn_reference(imaged, "guest", if_match=cast_version(folder.load_cast()))
    assert project.state == machine.PROMPTED and folder.load_cast().members[1].reference is None  # type: ignore[union-attr]
    ill = run_counted(imaged)
    assert ill.references == {"guest": 1} and set(ill.scenes) == naming
    back = folder.load_cast().members[1].reference  # type: ignore[union-attr]
    assert back is not None and back.origin == "drawn" and back.file == "cast/guest_r3.png"


def test_back_to_the_drawn_reference_adopts_it_without_drawing(imaged: str) -> None:  # noqa: F811
    folder = ProjectFolder(imaged)
    drawn = folder.load_cast().members[0].reference  # type: ignore[union-attr]
    upload_reference(imaged, "lead", picture("WEBP"))
    assert set(run_counted(imaged).scenes) == {s.id for s in folder.load_segments().scenes}  # type: ignore[union-attr]
    use_drawn_reference(imaged, "lead")
    ill = run_counted(imaged)
    assert not ill.references  # the drawn reference on disk still fits: adopted, not drawn (nor paid) again
    assert folder.load_cast().members[0].reference.sha256 == drawn.sha256  # type: ignore[union-attr]


def test_refused_reference_edits_change_nothing(imaged: str, data_root: Path) -> None:  # noqa: F811
    from tests.api.conftest import tree_hash

    before = tree_hash(data_root / "projects" / imaged)
    for data, error, words in [
        (b"", InputError, "empty"),
        (b"GIF89a" + b"\0" * 100, InputError, "not a picture"),
        (picture("GIF"), InputError, "PNG, JPEG or WebP"),
        (picture(size=(40, 400)), InputError, "at least 64"),
        (picture()[:200], InputError, "damaged"),
    ]:
        with pytest.raises(error, match=words):
            upload_reference(imaged, "lead", data)
    with pytest.raises(StaleError):
        upload_reference(imaged, "lead", picture(), if_match='"0123456789abcdef"')
    with pytest.raises(NotFoundError, match="no cast member"):
        upload_reference(imaged, "nobody", picture())
    with pytest.raises(InputError, match="already drawn"):
        use_drawn_reference(imaged, "lead")
    assert tree_hash(data_root / "projects" / imaged) == before
    assert ProjectFolder(imaged).load_project().state == machine.IMAGED


def test_reference_api_put_delete_and_refusals(imaged: str, data_root: Path) -> None:  # noqa: F811
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.api.conftest import tree_hash

    url = f"/projects/{imaged}/cast/lead/reference"
    with TestClient(create_app()) as client:
        etag = client.get(f"/projects/{imaged}/cast").headers["etag"]
        before = tree_hash(data_root / "projects" / imaged)
        for body, headers, status, words in [
            (b"hello", {"Content-Type": "text/plain"}, 415, "image/png"),
            (b"\x89PNG not really", {"Content-Type": "image/png"}, 422, "not a picture"),
            (b"\0" * (21 * 1024 * 1024), {"Content-Type": "image/png"}, 413, "larger than"),
            (picture(), {"Content-Type": "image/png", "If-Match": '"0000000000000000"'}, 412, "cast changed"),
        ]:
            res = client.put(url, content=body, headers=headers)
            assert res.status_code == status and words in res.text, (status, res.status_code, res.text[:300])
        res = client.put(f"/projects/{imaged}/cast/nobody/reference", content=picture(), headers={"Content-Type": "image/png"})
        assert res.status_code == 404 and "no cast member" in res.text
        res = client.delete(url, headers={"If-Match": etag})
        assert res.status_code == 422 and "already drawn" in res.text
        assert tree_hash(data_root / "projects" / imaged) == before

        res = client.put(url, content=picture("JPEG"), headers={"Content-Type": "image/jpeg", "If-Match": etag})
        assert res.status_code == 200, res.text
        body = res.json()
        assert res.headers["etag"] == f'"{body["version"]}"' != etag and body["state"] == machine.PROMPTED
        assert body["members"][0]["reference"]["origin"] == "upload"
        pic = client.get(body["reference_urls"]["lead"])
        assert pic.status_code == 200 and Image.open(io.BytesIO(pic.content)).size == (640, 480)
        stale = client.delete(url, headers={"If-Match": etag})
        assert stale.status_code == 412
        res = client.delete(url, headers={"If-Match": res.headers["etag"]})
        assert res.status_code == 200 and res.json()["members"][0]["reference"] is None, res.text
        assert "/projects/{project_id}/cast/{member_id}/reference" in client.get("/openapi.json").json()["paths"]


def test_reference_cli(imaged: str, data_root: Path, tmp_path: Path) -> None:  # noqa: F811
    from tests.engine.test_cli import cli

    mine = tmp_path / "mine.jpg"
    mine.write_bytes(picture("JPEG"))
    done = cli(data_root, "cast", imaged, "--reference", "lead", str(mine))
    assert done.returncode == 0 and "PROMPTED" in done.stdout, done.stderr
    shown = cli(data_root, "cast", imaged)
    assert "upload cast/lead_r2.png" in shown.stdout, shown.stdout
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a picture")
    bad = cli(data_root, "cast", imaged, "--reference", "lead", str(junk))
    assert bad.returncode != 0 and "not a picture" in bad.stderr
    missing = cli(data_root, "cast", imaged, "--reference", "lead", str(tmp_path / "nope.png"))
    assert missing.returncode != 0 and "nope.png" in missing.stderr
    back = cli(data_root, "cast", imaged, "--drawn-reference", "lead")
    assert back.returncode == 0, back.stderr
    assert "not drawn yet" in cli(data_root, "cast", imaged).stdout
    again = cli(data_root, "cast", imaged, "--drawn-reference", "lead")
    assert again.returncode != 0 and "already drawn" in again.stderr
