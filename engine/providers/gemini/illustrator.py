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
The cast members the scene shows go along as input images
(their reference pictures, named in the text in the same order), and, with
the project's continuity setting, the previous scene's picture last.
"""
from __future__ import annotations

import io as _io
import logging
from collections.abc import Sequence

from PIL import Image, ImageOps

from engine.cast import CastPicture
from engine.config import Settings
from engine.models import CastMember, ProjectSettings, PromptVersion, Scene, StyleBible
from engine.providers.base import Drawing, StepIO
from engine.providers.gemini.batch import ImageRequest, poll_images, submit_images
from engine.providers.gemini.client import GeminiClient, ImageAnswer
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


def cast_request_text(cast: Sequence[CastPicture], *, continuity: bool) -> str:
    """The lines that tell the model what each input image is: one per cast member, then the previous scene."""
    lines = []
    for k, pic in enumerate(p for p in cast if p.png):
        m = pic.member
        colours = ", ".join(m.colours)
        lines.append(f"Input image {k + 1} is {m.name}: {m.description}" + (f", wearing {m.clothing}" if m.clothing else "")
                     + f" (colours {colours}). Draw {m.name} exactly as in that image: same face, build, clothing and colours.")
    if continuity:
        lines.append("The last input image is the previous scene: keep its characters, light and style continuous.")
    return "\n".join(lines)


def reference_request_text(member: CastMember, *, bible: StyleBible) -> str:
    """The request for a cast member's reference picture: the whole figure, plain background, the project's style."""
    preset = get_preset(bible.preset) if bible.preset else None
    return "\n".join([
        f"Character reference sheet of {member.name}: {member.description}."
        + (f" Wearing {member.clothing}." if member.clothing else ""),
        f"Colours: {', '.join(member.colours)}. Full figure, standing, facing the viewer, plain light background.",
        f"Style: {bible.look}" + (f"; {preset.keywords}" if preset else "") + ".",
        "No text, letters, captions or watermarks.",
    ])


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
    version = "2"  # 2: the cast's reference pictures go along as input images

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
        cast: Sequence[CastPicture] = (),
        previous_png: bytes | None = None,
    ) -> Drawing:
        """One image call with the cast's reference pictures (and the previous scene's) as input images;
        a picture fitted to ``width`` x ``height``, or the refusal's reason."""
        req = self.image_request(scene=scene, prompt=prompt, bible=bible, settings=settings, seed=seed, cast=cast,
                                 previous_png=previous_png)
        return self._call(self.model_for(settings), text=req.prompt, images=list(req.references), aspect=req.aspect_ratio,
                          settings=settings, width=width, height=height, seed=seed, io=io, what=req.key)

    def image_request(self, *, scene: Scene, prompt: PromptVersion, bible: StyleBible, settings: ProjectSettings, seed: int,
                      cast: Sequence[CastPicture] = (), previous_png: bytes | None = None) -> ImageRequest:
        """What :meth:`draw` asks for (text, input images, aspect, size, seed), e.g. to send it in a batch."""
        text = image_request_text(scene=scene, prompt=prompt, bible=bible, aspect=settings.aspect)
        cast_text = cast_request_text(cast, continuity=previous_png is not None)
        images = [p.png for p in cast if p.png] + ([previous_png] if previous_png else [])
        return ImageRequest(key=f"{scene.id} v{prompt.version}", prompt=f"{cast_text}\n{text}" if cast_text else text,
                            aspect_ratio=settings.aspect, image_size=self.image_size_for(settings, self.model_for(settings)),
                            seed=seed, references=tuple(images))

    def submit_batch(self, requests: Sequence[ImageRequest], *, settings: ProjectSettings, io: StepIO, display_name: str) -> str:
        """Send ``requests`` as one Batch API job (half price, slower); its name."""
        with self.router.to(io):
            return submit_images(self.client, self.model_for(settings), requests, display_name=display_name)

    def poll_batch(self, name: str, *, settings: ProjectSettings, width: int, height: int, io: StepIO
                   ) -> tuple[str, dict[str, Drawing] | None]:
        """The batch's state and, once done, a Drawing per request key (fitted like :meth:`draw`'s)."""
        model = self.model_for(settings)
        with self.router.to(io):
            state, answers = poll_images(self.client, name, model=model)
        if answers is None:
            return state, None
        return state, {key: self._drawing(answer, model, width=width, height=height, what=f"{key} (batch)")
                       for key, answer in answers.items()}

    def draw_reference(
        self, *, member: CastMember, bible: StyleBible, settings: ProjectSettings, width: int, height: int, seed: int,
        io: StepIO,
    ) -> Drawing:
        """One image call for a cast member's reference picture (portrait 3:4)."""
        model = self.model_for(settings)
        return self._call(model, text=reference_request_text(member, bible=bible), images=[], aspect="3:4",
                          settings=settings, width=width, height=height, seed=seed, io=io, what=f"reference of {member.id}")

    def _call(self, model: str, *, text: str, images: list[bytes], aspect: str, settings: ProjectSettings, width: int,
              height: int, seed: int | None, io: StepIO, what: str) -> Drawing:
        with self.router.to(io):
            answer = self.client.generate_image(
                model, prompt=text, aspect_ratio=aspect, image_size=self.image_size_for(settings, model), references=images,
                seed=seed, should_stop=io.should_stop,
            )
        return self._drawing(answer, model, width=width, height=height, what=what)

    @staticmethod
    def _drawing(answer: ImageAnswer, model: str, *, width: int, height: int, what: str) -> Drawing:
        """An answer as a Drawing: the picture fitted to ``width`` x ``height``, or the refusal's reason."""
        if answer.png is None:
            reason = answer.blocked_reason or "blocked without a reason"
            log.warning("%s: %s refused: %s", what, model, reason)
            return Drawing(png=None, blocked_reason=reason, model=answer.model or model)
        image = fit_image(answer.png, width=width, height=height)
        buf = _io.BytesIO()
        image.save(buf, format="PNG")
        return Drawing(png=buf.getvalue(), image=image, model=answer.model or model)
