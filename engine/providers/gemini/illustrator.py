"""The Gemini illustrator: one image call per prompt version.

The request text joins the scene's prompt with the project's style bible and
preset (so every scene shares one look), the aspect ratio comes from the
project, and the model from its quality setting. The picture is cover-cropped
to the canvas the draw step asked for. A refusal (safety block, prompt
block, text-only answer) comes back as ``Drawing(png=None,
blocked_reason=...)``; the draw step then records it as blocked and draws the
local fallback. Each version of a scene's picture is asked differently
(the draw step's ``seed`` and, from the second version on, a variation
phrase), so a regenerate after a refusal is a new request, while the same
version always sends the same request (its fingerprint stays deterministic).
A reference picture (e.g. the previous scene's) is sent
along when the caller puts PNG bytes in ``io.extra["reference_png"]``.
"""
from __future__ import annotations

import io as _io
import logging

from PIL import Image, ImageOps

from engine.config import Settings
from engine.models import ProjectSettings, PromptVersion, Scene, StyleBible
from engine.providers.base import Drawing, StepIO
from engine.providers.gemini.client import GeminiClient
from engine.providers.gemini.router import UsageRouter
from engine.styles import get_preset
from engine.usage import image_model

log = logging.getLogger(__name__)


def variation_phrase(prompt: PromptVersion) -> str:
    """For a picture's second and later versions: ask for a fresh take ('' for the first)."""
    number = prompt.restored_from or prompt.version
    if number <= 1:
        return ""
    return f"Variation {number}: the same scene drawn afresh, with a different composition and details."


def image_request_text(*, scene: Scene, prompt: PromptVersion, bible: StyleBible, aspect: str) -> str:
    """The full text of one image request: scene prompt + style bible + what to avoid (+ the variation phrase)."""
    preset = get_preset(bible.preset) if bible.preset else None
    hints = ", ".join(prompt.style_hints)
    parts = [
        prompt.image_prompt.strip(),
        f"Style: {bible.look}" + (f"; {preset.keywords}" if preset else "") + ".",
        f"Colour palette: {', '.join(bible.palette)}.",
        f"Setting: {bible.setting}. Recurring subject: {bible.subject}.",
        f"Mood: {scene.mood}, energy {scene.energy:.2f}." + (f" Hints: {hints}." if hints else ""),
        f"Avoid: {prompt.negative_prompt or bible.negative}.",
        f"No text, letters, captions or watermarks. Frame for {aspect}.",
        variation_phrase(prompt),
    ]
    return "\n".join(p for p in parts if p.strip())


def fit_image(png: bytes, *, width: int, height: int) -> Image.Image:
    """The picture in ``png`` scaled and centre-cropped to exactly ``width`` x ``height`` (RGB)."""
    with Image.open(_io.BytesIO(png)) as image:
        image.load()
        rgb = image.convert("RGB")
    if rgb.size != (width, height):
        rgb = ImageOps.fit(rgb, (width, height), method=Image.Resampling.LANCZOS)
    return rgb


class GeminiIllustrator:
    """:class:`engine.providers.base.Illustrator` over Gemini's image models (fast / pro)."""

    name = "gemini"
    version = "1"

    def __init__(self, client: GeminiClient, *, config: Settings, router: UsageRouter) -> None:
        self.client = client
        self.config = config
        self.router = router

    def model_for(self, settings: ProjectSettings) -> str:
        """The fast or pro image model, by the project's quality."""
        return image_model(settings, self.config)

    @staticmethod
    def image_size_for(settings: ProjectSettings, model: str) -> str | None:
        """``imageSize`` for models that take it (the pro model): 2K for 1080p, else 1K."""
        if "pro" not in model:
            return None
        return "2K" if settings.resolution >= 1080 else "1K"

    def draw(
        self,
        *,
        scene: Scene,
        prompt: PromptVersion,
        bible: StyleBible,
        settings: ProjectSettings,
        width: int,
        height: int,
        seed: int,
        io: StepIO,
    ) -> Drawing:
        """One image call; a picture fitted to ``width`` x ``height``, or the refusal's reason."""
        model = self.model_for(settings)
        text = image_request_text(scene=scene, prompt=prompt, bible=bible, aspect=settings.aspect)
        reference = io.extra.get("reference_png")
        with self.router.to(io):
            answer = self.client.generate_image(
                model, prompt=text, aspect_ratio=settings.aspect, image_size=self.image_size_for(settings, model),
                reference_png=reference if isinstance(reference, bytes) else None, seed=seed,
                should_stop=io.should_stop,
            )
        if answer.png is None:
            reason = answer.blocked_reason or "blocked without a reason"
            log.warning("%s v%d: %s refused: %s", scene.id, prompt.version, model, reason)
            return Drawing(png=None, blocked_reason=reason, model=answer.model or model)
        image = fit_image(answer.png, width=width, height=height)
        buf = _io.BytesIO()
        image.save(buf, format="PNG")
        return Drawing(png=buf.getvalue(), image=image, model=answer.model or model)
