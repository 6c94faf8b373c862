"""The ``gemini`` provider: Google's Gemini through the official ``google-genai`` SDK.

``gemini_provider(config)`` builds the four roles around one shared
:class:`GeminiClient` (one retry layer that honours the server's retry delay,
one repair call for a bad answer, a per-minute request limit, usage reports). Analysis and
storyboard timing always rest on the local signal analysis; see
``docs/providers.md``. What a run will cost before it starts is
:mod:`engine.usage`'s estimate.
"""
from __future__ import annotations

from engine.config import Settings, get_settings
from engine.errors import ProviderError
from engine.providers.base import Provider
from engine.providers.gemini.analyst import GeminiAnalyst
from engine.providers.gemini.client import GeminiClient
from engine.providers.gemini.illustrator import GeminiIllustrator
from engine.providers.gemini.router import UsageRouter
from engine.providers.gemini.storyboard import GeminiStoryboarder
from engine.providers.gemini.writer import GeminiWriter
from engine.providers.local import local_provider

__all__ = [
    "GeminiAnalyst", "GeminiClient", "GeminiIllustrator", "GeminiStoryboarder", "GeminiWriter", "gemini_client",
    "gemini_provider",
]


def gemini_client(config: Settings, *, router: UsageRouter | None = None) -> GeminiClient:
    """A client configured from settings (key, base URL, API version, timeout, rate, backoff)."""
    key = config.gemini_key
    if not key:
        raise ProviderError("Gemini needs GEMINI_API_KEY or GOOGLE_API_KEY", transient=False)
    return GeminiClient(
        key, base_url=config.gemini_base_url, api_version=config.gemini_api_version, timeout_s=config.gemini_timeout_s,
        requests_per_minute=config.gemini_rpm, on_usage=router, initial_backoff_s=config.retry_base_s,
        max_backoff_s=config.retry_max_s, max_retry_after_s=config.gemini_max_wait_s,
    )


def gemini_provider(config: Settings | None = None, *, client: GeminiClient | None = None,
                    local: Provider | None = None) -> Provider:
    """The Gemini provider bundle; ``local`` (default: the local provider) supplies the signal analysis
    and the fallback storyboard and prompts when Gemini refuses to write them.

    Upload status polls wait ``config.retry_base_s`` (at most 2 s) between tries, for at most
    ``config.gemini_upload_timeout_s``.
    """
    config = config or get_settings()
    router = UsageRouter()
    if client is None:
        client = gemini_client(config, router=router)
    else:
        client.on_usage = router
    if local is None:
        local = local_provider()
    text = config.gemini_text_model
    return Provider(
        name="gemini",
        analyst=GeminiAnalyst(client, model=text, base=local.analyst, router=router,
                              poll_interval_s=min(2.0, max(0.05, config.retry_base_s)),
                              upload_timeout_s=config.gemini_upload_timeout_s),
        storyboarder=GeminiStoryboarder(client, model=text, router=router, base=local.storyboarder),
        writer=GeminiWriter(client, model=text, router=router, base=local.writer),
        illustrator=GeminiIllustrator(client, config=config, router=router),
    )
