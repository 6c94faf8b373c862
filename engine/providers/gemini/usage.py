"""Usage accounting and an *estimated* cost per call.

The prices below are public list prices (USD per million tokens, paid tier,
late 2025) copied by hand; they are an estimate for the UI, not a bill.
Google changes prices and bills some things (long prompts, grounding, batch)
differently. Unknown models are priced like ``gemini-2.5-flash``.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.providers.base import UsageDelta, add_usage  # noqa: F401 - re-exported for the client


@dataclass(frozen=True)
class Price:
    """List price of one model in USD per million tokens."""

    input_per_m: float
    output_per_m: float
    image_output_per_m: float | None = None  # output tokens that are pictures


PRICES: dict[str, Price] = {
    "gemini-2.5-flash": Price(0.30, 2.50),
    "gemini-2.5-flash-lite": Price(0.10, 0.40),
    "gemini-2.5-pro": Price(1.25, 10.00),
    "gemini-3-pro-preview": Price(2.00, 12.00),
    "gemini-3-flash-preview": Price(0.50, 3.00),
    "gemini-2.5-flash-image": Price(0.30, 2.50, image_output_per_m=30.00),
    "gemini-3-pro-image-preview": Price(2.00, 12.00, image_output_per_m=120.00),
}
DEFAULT_PRICE = PRICES["gemini-2.5-flash"]
# Output tokens one picture costs when the answer does not say (1024px class).
IMAGE_TOKENS_FALLBACK = {"gemini-2.5-flash-image": 1290, "gemini-3-pro-image-preview": 1120}


def price_for(model: str) -> Price:
    """The list price of ``model`` (``models/`` prefix and ``-001`` style suffixes tolerated)."""
    name = model.removeprefix("models/")
    if name in PRICES:
        return PRICES[name]
    for known in sorted(PRICES, key=len, reverse=True):
        if name.startswith(known):
            return PRICES[known]
    return DEFAULT_PRICE


def estimate_cost_usd(*, model: str, prompt_tokens: int, output_tokens: int, images: int = 0) -> float:
    """Estimated cost of one call; image output tokens are priced at the image rate.

    When a picture came back but the answer reported no output tokens, a
    typical per-picture token count is assumed.
    """
    price = price_for(model)
    cost = prompt_tokens * price.input_per_m / 1e6
    if images and price.image_output_per_m is not None:
        if output_tokens <= 0:
            output_tokens = images * IMAGE_TOKENS_FALLBACK.get(model.removeprefix("models/"), 1290)
        cost += output_tokens * price.image_output_per_m / 1e6
    else:
        cost += output_tokens * price.output_per_m / 1e6
    return round(cost, 6)
