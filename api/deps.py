"""Dependencies shared by the routers: settings, bearer token, validated project and scene ids."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from engine.config import Settings, get_settings
from engine.errors import InputError, NotFoundError
from engine.storage import ProjectFolder, validate_project_id, validate_scene_id

from api.auth import check_request


async def settings_dep() -> Settings:
    """The process-wide settings."""
    return get_settings()


SettingsDep = Annotated[Settings, Depends(settings_dep)]


async def require_token(request: Request, settings: SettingsDep) -> None:
    """When STORYBEAT_TOKEN is set: the bearer header, or the session cookie on a read (api.auth)."""
    check_request(request, settings)


async def project_folder(project_id: Annotated[str, Path(description="project id")]) -> ProjectFolder:
    """The folder of an existing project; 404 for an unknown or malformed id."""
    try:
        validate_project_id(project_id)
    except InputError:
        raise NotFoundError(f"project {project_id[:80]!r} not found") from None
    folder = ProjectFolder(project_id)
    if not folder.exists():
        raise NotFoundError(f"project {project_id} not found")
    return folder


async def scene_id(seg_id: Annotated[str, Path(description="scene id, e.g. seg_001")]) -> str:
    """A well-formed scene id; 404 for anything else (it cannot exist)."""
    try:
        return validate_scene_id(seg_id)
    except InputError:
        raise NotFoundError(f"scene {seg_id[:40]!r} not found") from None


FolderDep = Annotated[ProjectFolder, Depends(project_folder)]
SceneIdDep = Annotated[str, Depends(scene_id)]
