"""User actions on the cast's reference pictures: bring your own, or go back to a drawn one.

Both are the machine's ``edit_cast`` (back to PROMPTED) and follow the rules of every edit: the project lock,
the trigger and ``if_match`` (the cast's version, :func:`engine.cast.cast_version`) checked *before* anything
is written, files written atomically, a refused action changes nothing on disk.

An uploaded reference (``origin="upload"``) is a PNG of the user's picture (:func:`engine.pictures.reference_png`)
in the member's next free ``cast/<id>_rN.png``: no file is overwritten, so the drawn reference stays on disk.
Its hash enters the fingerprint of every picture that shows the member (:func:`engine.cast.cast_part`), so
exactly those pictures are drawn again; the draw step never redraws it. Going back to a drawn reference
drops the upload from cast.json: the draw step then adopts the drawn reference already on disk when its
fingerprint still matches (no call is paid again), or draws one.
"""
from __future__ import annotations

import logging
from pathlib import Path

from engine import machine
from engine.cast import cast_version
from engine.errors import InputError, NotFoundError
from engine.fingerprint import bytes_sha256
from engine.models import Cast, CastMember, CastReference, Project
from engine.pictures import UPLOAD, reference_png
from engine.project import _edit_lock, current_cast
from engine.storage import ProjectFolder, atomic_write_bytes, atomic_write_json
from engine.versions import check_if_match

log = logging.getLogger(__name__)


def _member_edit(folder: ProjectFolder, member_id: str, if_match: str | None) -> tuple[Project, Cast, CastMember]:
    """The checks every reference edit makes (under the lock): the trigger, the cast's version, the member."""
    project = folder.load_project()
    machine.require_allowed(project, "edit_cast")
    cast = current_cast(folder)
    check_if_match(if_match, cast_version(cast), what="the cast", current=cast.model_dump(mode="json"))
    member = next((m for m in cast.members if m.id == member_id), None)
    if member is None:
        raise NotFoundError(f"no cast member {member_id!r} (the cast has {', '.join(m.id for m in cast.members)})")
    return project, cast, member


def _free_reference_path(folder: ProjectFolder, member_id: str) -> Path:
    """The member's first ``cast/<id>_rN.png`` not taken (a reference file is never overwritten)."""
    n = 1
    while folder.cast_reference_path(member_id, n).exists():
        n += 1
    return folder.cast_reference_path(member_id, n)


def upload_reference(project_id: str, member_id: str, data: bytes, *, if_match: str | None = None) -> Project:
    """The user's picture (PNG, JPEG or WebP) as ``member_id``'s reference picture (``edit_cast``): the
    pictures that show the member are drawn again from it. The same picture again changes nothing."""
    png = reference_png(data)  # refused (InputError) before anything is locked or written
    sha = bytes_sha256(png)
    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        project, cast, member = _member_edit(folder, member_id, if_match)
        ref = member.reference
        if ref is not None and ref.origin == "upload" and ref.sha256 == sha and folder.resolve(ref.file).is_file():
            return project
        path = _free_reference_path(folder, member_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, png)
        rel = folder.rel(path)
        member.reference = CastReference(file=rel, sha256=sha, origin="upload", provider=UPLOAD, model=UPLOAD)
        atomic_write_json(folder.cast_json, cast)
        machine.fire(project, "edit_cast")
        folder.save_project(project)
        log.info("project %s: %s has the user's reference picture %s", project_id, member_id, rel)
        return project


def use_drawn_reference(project_id: str, member_id: str, *, if_match: str | None = None) -> Project:
    """Back to a drawn reference for ``member_id`` (``edit_cast``): the upload is dropped from the cast (its
    file stays); the next draw step adopts the drawn reference on disk when it is still current, or draws one."""
    folder = ProjectFolder(project_id)
    with _edit_lock(folder):
        project, cast, member = _member_edit(folder, member_id, if_match)
        if member.reference is None or member.reference.origin != "upload":
            raise InputError(f"{member_id}'s reference is already drawn, not one you uploaded")
        member.reference = None
        atomic_write_json(folder.cast_json, cast)
        machine.fire(project, "edit_cast")
        folder.save_project(project)
        log.info("project %s: %s goes back to a drawn reference", project_id, member_id)
        return project
