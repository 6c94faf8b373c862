"""Versions (ETags) of what a user edits, and the one check of an edit against the version it was made on.

A version is a short hash of the value as stored: it changes with every change of that value, by anyone.
An edit that names the version it was made on (``If-Match``) is refused with :class:`StaleError` (HTTP 412,
with the current version and value) when the value changed since; an edit that names none is applied
(the CLI, old clients). The check runs under the project lock, in the action that writes.
"""
from __future__ import annotations

from pydantic import BaseModel

from engine.errors import StaleError
from engine.fingerprint import fingerprint
from engine.models import ProjectSettings, Scene, ScenePrompts


def version_of(kind: str, *parts: object) -> str:
    """The version of a value: 16 hex digits of the hash of ``parts`` (models as their JSON)."""
    plain = [p.model_dump(mode="json") if isinstance(p, BaseModel) else p for p in parts]
    return fingerprint(kind, *plain)[:16]


def scene_version(scene: Scene, prompts: ScenePrompts | None) -> str:
    """The version of one scene: its storyboard entry, its prompts and pictures."""
    return version_of("scene", scene, prompts)


def settings_version(settings: ProjectSettings) -> str:
    """The version of a project's settings."""
    return version_of("settings", settings)


def check_if_match(if_match: str | None, version: str, *, what: str, current: object = None) -> None:
    """StaleError when ``if_match`` (an ETag, quoted or not; ``*`` matches anything) is not ``version``."""
    if if_match is None:
        return
    wanted = if_match.strip().removeprefix("W/").strip('"')
    if wanted in ("*", version):
        return
    raise StaleError(f"{what} changed since version {wanted!r}; the current version is {version!r}",
                     version=version, current=current)
