"""Provider selection: ``local`` (offline default) or ``gemini`` (google-genai SDK)."""
from __future__ import annotations

from engine.config import Settings, get_settings
from engine.errors import InputError
from engine.models import ProjectSettings
from engine.providers.base import Provider


def default_provider_name(config: Settings | None = None) -> str:
    """``gemini`` when an API key is configured, else ``local``."""
    return "gemini" if (config or get_settings()).gemini_key else "local"


def check_provider(settings: ProjectSettings, config: Settings | None = None) -> None:
    """InputError if the project's provider cannot work here (Gemini without a key); cheap, builds nothing."""
    config = config or get_settings()
    if settings.provider == "gemini" and not config.gemini_key:
        raise InputError("provider 'gemini' needs GEMINI_API_KEY or GOOGLE_API_KEY")


def get_provider(settings: ProjectSettings, config: Settings | None = None) -> Provider:
    """The provider bundle a project's settings ask for."""
    config = config or get_settings()
    check_provider(settings, config)
    if settings.provider == "local":
        from engine.providers.local import local_provider  # deferred: a project loads only the provider it uses

        return local_provider()
    if settings.provider == "gemini":
        from engine.providers.gemini import gemini_provider  # deferred: the google-genai SDK loads slowly

        return gemini_provider(config)
    raise InputError(f"unknown provider {settings.provider!r}")  # pragma: no cover - pydantic guards it
