"""Pictures through the Gemini Batch API (economy mode): half the list price, answered within hours, not seconds.

``client.batches.create(model=..., src=[InlinedRequest...])`` sends every picture request at once
(``POST models/{model}:batchGenerateContent``) and answers a batch name (``batches/ID``);
``client.batches.get(name=...)`` (``GET batches/ID``) tells its state (``JOB_STATE_PENDING``,
``JOB_STATE_RUNNING``, then ``JOB_STATE_SUCCEEDED`` with the inline responses, or ``JOB_STATE_FAILED`` /
``JOB_STATE_CANCELLED`` / ``JOB_STATE_EXPIRED``). Each request carries its key in ``metadata`` and each
response echoes it. The caller persists the batch name (``engine.steps.draw_batch``) so that a run killed
while it waits polls the same batch again instead of paying for the pictures twice.

Each answer is read by the same rules as an interactive picture (:func:`engine.providers.gemini.client.pick_image`,
``image_block_reason``: a refusal is a reason, not an error) and its usage is reported at the batch price.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from google.genai import types

from engine.errors import ProviderError
from engine.providers.base import BatchEnded
from engine.providers.gemini.client import (GeminiClient, ImageAnswer, _BadAnswer, answer_text, as_png, image_block_reason,
                                            image_config, image_parts, pick_image, usage_delta)
from engine.usage import BATCH_PRICE_FACTOR

log = logging.getLogger(__name__)

SUCCEEDED = "JOB_STATE_SUCCEEDED"
ENDED_WITHOUT_ANSWERS = frozenset({"JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"})


@dataclass(frozen=True)
class ImageRequest:
    """One picture request of a batch, as :meth:`GeminiClient.generate_image` would send it; ``key`` names it."""

    key: str
    prompt: str
    aspect_ratio: str
    image_size: str | None = None
    seed: int | None = None
    references: Sequence[bytes] = ()


def submit_images(client: GeminiClient, model: str, requests: Sequence[ImageRequest], *, display_name: str) -> str:
    """Send ``requests`` as one batch job; its name (``batches/ID``). One billed unit of work per request later."""
    src = [types.InlinedRequest(
        contents=[types.Content(role="user", parts=image_parts(r.references, r.prompt))],
        config=image_config(aspect_ratio=r.aspect_ratio, image_size=r.image_size, seed=r.seed),
        metadata={"key": r.key},
    ) for r in requests]

    def create() -> types.BatchJob:
        client.limiter.acquire()
        return client.sdk.batches.create(model=model, src=src, config=types.CreateBatchJobConfig(display_name=display_name))

    job = client._with_retries(create, what=f"{model} batch of {len(requests)}")
    if not job.name:
        raise ProviderError("the Batch API answered without a batch name", transient=True)
    log.info("Gemini batch %s: %d picture(s) sent", job.name, len(requests))
    return job.name


def image_answer(model: str, response: types.GenerateContentResponse) -> ImageAnswer:
    """One batch response as a picture or the reason there is none (unreadable bytes count as a refusal)."""
    found = pick_image(response)
    text = answer_text(response)
    if found is not None:
        try:
            return ImageAnswer(png=as_png(found[0]), text=text, model=model)
        except _BadAnswer as exc:
            return ImageAnswer(blocked_reason=f"MALFORMED_IMAGE: {exc}"[:500], text=text, model=model)
    return ImageAnswer(blocked_reason=image_block_reason(response) or "NO_IMAGE", text=text, model=model)


def poll_images(client: GeminiClient, name: str, *, model: str) -> tuple[str, dict[str, ImageAnswer] | None]:
    """The batch's state and, once it succeeded, an answer per key (a request that failed has none: the
    caller draws it another way). BatchEnded when it ended without answers."""
    job = client._with_retries(lambda: client.sdk.batches.get(name=name), what=f"batch {name}")
    state = job.state.name if hasattr(job.state, "name") else str(job.state or "")
    if state in ENDED_WITHOUT_ANSWERS:
        raise BatchEnded(f"Gemini batch {name} ended {state}: {job.error.message if job.error else 'no answers'}",
                         transient=True)
    if state != SUCCEEDED:
        return state, None
    answers: dict[str, ImageAnswer] = {}
    for item in (job.dest.inlined_responses if job.dest else None) or []:
        key = (item.metadata or {}).get("key", "")
        if item.response is None or not key:
            log.warning("batch %s: request %s failed: %s", name, key or "?", item.error)
            continue
        answer = image_answer(model, item.response)
        delta = usage_delta(model, item.response, images=0 if answer.blocked else 1)
        client._report(dataclasses.replace(delta, est_cost_usd=round(delta.est_cost_usd * BATCH_PRICE_FACTOR, 6)))
        answers[key] = answer
    return state, answers
