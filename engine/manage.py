"""Managing whole projects: rename one, duplicate one to try another style or aspect without re-analysing.

A duplicate copies what stays valid in a new folder with a new id: the track
and lyrics (``source/``), the analysis, the storyboard, the prompts with every
version, and the pictures (hard links where the file system allows: files are
only ever replaced, never written in place). It leaves out what belongs to the
original's runs: its renders and render cache, its job files and its history.
The copy starts in the state its files stand for, at most IMAGED (it has no
video yet); a FAILED original's copy stands where the original failed from.
Settings given to the duplicate are then applied as an ordinary settings
change, so the machine rewinds exactly as far as they need (a new style
redoes prompts and pictures, a new aspect the pictures only).
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from engine import machine
from engine.errors import InputError, NotFoundError
from engine.jobs import require_not_busy
from engine.lock import project_lock
from engine.models import Project
from engine.storage import ProjectFolder, atomic_write_json, new_project_id

log = logging.getLogger(__name__)

NAME_MAX = 200
EDIT_WAIT_S = 2.0
# What a duplicate copies (relative to the project folder); everything else is the original's own.
COPIED_FILES = ("analysis.json", "segments.json", "prompts.json")
COPIED_DIRS = ("source", "images")


def clean_name(name: str) -> str:
    """A project name as stored: trimmed, inner runs of whitespace as one space, at most 200 characters."""
    return " ".join(str(name).split())[:NAME_MAX]


def rename_project(project_id: str, name: str) -> Project:
    """Give a project a new name (InputError when empty; BusyError while a run holds it: the run would save over it)."""
    cleaned = clean_name(name)
    if not cleaned:
        raise InputError("a project name cannot be empty")
    folder = ProjectFolder(project_id)
    with project_lock(folder, wait_s=EDIT_WAIT_S):
        require_not_busy(folder)
        project = folder.load_project()
        if project.name != cleaned:
            project.name = cleaned
            folder.save_project(project)
        return project


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _copy_name(name: str) -> str:
    return clean_name(f"{name or 'Untitled song'} (copy)")


def duplicate_project(project_id: str, *, name: str | None = None, settings: dict[str, Any] | None = None) -> Project:
    """A new project with the original's track, analysis, storyboard, prompts and pictures; returns it.

    ``name`` defaults to "<name> (copy)"; ``settings`` are changed on the copy
    afterwards (see the module docstring). The original is untouched; a
    BusyError while it runs, and nothing is left behind when the copy fails.
    """
    src = ProjectFolder(project_id)
    if not src.exists():
        raise NotFoundError(f"project {project_id} not found")
    new_id = new_project_id()
    dst = ProjectFolder(new_id)
    staging = dst.path.with_name(f".copying-{new_id}")
    with project_lock(src, wait_s=EDIT_WAIT_S):
        require_not_busy(src)  # a run would change the files while they are copied
        original = src.load_project()
        try:
            staging.mkdir(parents=True)
            for rel in COPIED_DIRS:
                if (src.path / rel).is_dir():
                    shutil.copytree(src.path / rel, staging / rel, copy_function=_link_or_copy,
                                    ignore=shutil.ignore_patterns(".*"))
            for rel in COPIED_FILES:
                if (src.path / rel).is_file():
                    shutil.copy2(src.path / rel, staging / rel)
            (staging / "jobs").mkdir()
            (staging / "jobs" / ".lock").touch()
            state = machine.stands_for(original)
            if machine.state_index(state) > machine.state_index(machine.IMAGED):
                state = machine.IMAGED  # no video in the copy yet
            copy = Project(id=new_id, name=clean_name(name) if name and clean_name(name) else _copy_name(original.name),
                           state=state, settings=original.settings, source=original.source)
            _save_into(staging, copy)
            staging.rename(dst.path)
            dst.publish(new=True)  # with a bucket: the copy goes up, its project.json last
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(dst.path, ignore_errors=True)
            dst.remove_stored()
            raise
    log.info("duplicated project %s as %s (%s)", project_id, new_id, copy.state)
    if settings:
        from engine.project import update_settings

        try:
            return update_settings(new_id, settings)
        except BaseException:
            from engine.project import delete_project

            delete_project(new_id)  # a refused setting: no half-made duplicate is left
            raise
    return copy


def _save_into(folder_path: Path, project: Project) -> None:
    """Write project.json into a folder that is not in place yet (the staging folder of a duplicate)."""
    atomic_write_json(folder_path / "project.json", project)
