"""Health, the state machine, and the style presets (with cached sample pictures)."""
from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import FileResponse

from engine import machine
from engine.config import Settings
from engine.errors import NotFoundError
from engine.images import png_bytes
from engine.providers import default_provider_name
from engine.storage import atomic_write_bytes
from engine.styles import PRESETS, get_preset

from api import __version__
from api.auth import clear_session_cookie, set_session_cookie
from api.deps import SettingsDep
from api.errors import responses
from api.http import StrictJSONRoute
from api.schemas import Health, MachinePublic, SessionPublic, StylePublic

log = logging.getLogger(__name__)

router = APIRouter(tags=["system"], route_class=StrictJSONRoute)

SAMPLE_SIZE_PX = (320, 180)
SAMPLE_VERSION = "1"
SAMPLE_PROMPT = "a lone traveller in a wide landscape at dusk under a vast sky"


@router.get("/health", response_model=Health, responses=responses(401))
def health(settings: SettingsDep) -> Health:
    """Liveness, version and the provider new projects get by default."""
    return Health(version=__version__, default_provider=default_provider_name(settings))


@router.post("/session", response_model=SessionPublic, responses=responses(401))
def open_session(request: Request, response: Response, settings: SettingsDep) -> SessionPublic:
    """Trade the bearer header for the read-only media cookie (for ``<img>``, ``<video>`` and EventSource)."""
    return SessionPublic(expires_in=set_session_cookie(response, request, settings))


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=responses(401))
def close_session() -> Response:
    """Remove the media cookie."""
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response)
    return response


@router.get("/machine", response_model=MachinePublic, responses=responses(401))
def get_machine() -> MachinePublic:
    """The state machine (states, pipeline, edits, transitions) and its Mermaid diagram."""
    return MachinePublic(**machine.machine_spec(), mermaid=machine.mermaid())


@router.get("/styles", response_model=list[StylePublic], responses=responses(401))
def list_styles() -> list[StylePublic]:
    """The style presets a project can use."""
    return [
        StylePublic(id=p.id, label=p.label, description=p.description, palette=list(p.palette),
                    sample_url=f"/styles/{p.id}/sample.png")
        for p in PRESETS.values()
    ]


def draw_sample(style_id: str) -> bytes:
    """A thumbnail drawn by the local illustrator in this style (PNG bytes)."""
    from engine.providers.local.illustrator import draw_scene  # the painter's modules load on the first sample only

    preset = get_preset(style_id)
    width, height = SAMPLE_SIZE_PX
    image = draw_scene(
        prompt=f"{SAMPLE_PROMPT}, {preset.keywords}", mood="dreamy", energy=0.5, style=preset.id, seed=0, version=1,
        width=width, height=height,
    )
    return png_bytes(image, metadata={"storybeat:sample": preset.id})


def sample_path(settings: Settings, style_id: str) -> Path:
    """Where a style's sample is cached under the data root."""
    return settings.data / "cache" / "styles" / f"{style_id}_v{SAMPLE_VERSION}.png"


@router.get(
    "/styles/{style_id}/sample.png",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}, "description": "a PNG thumbnail"}, **responses(401, 404)},
)
def style_sample(style_id: str, settings: SettingsDep) -> FileResponse:
    """A small sample picture of the style (drawn once, then cached)."""
    if style_id not in PRESETS:
        raise NotFoundError(f"unknown style {style_id[:40]!r}")
    path = sample_path(settings, style_id)
    if not path.is_file():
        atomic_write_bytes(path, draw_sample(style_id))
        log.info("drew style sample %s", path)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})
