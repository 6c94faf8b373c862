"""The cast's figures: each member drawn with its own silhouette, colours and clothing in every scene.

A member's figure depends on its look only (never on the scene's random stream), so it is the same
person (or animal) in a wide shot, a close-up or a low angle: only its size, place, facing and pose
(standing, running, dancing) follow the scene. Colours are the member's own (main: coat / body,
second: legs / trousers, accent: scarf / hair / trim), lit a little by the scene, never re-coloured
by the mood. Painters return the figure's mask too, so the bench can measure the figure.
"""
from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw

from engine.models import CastMember
from engine.providers.local.paint_base import RGB, glow, hex_rgb, mix, new_mask, paint, smooth_edges
from engine.providers.local.paint_fx import Ctx, edge_band

SKIN: RGB = (222, 182, 150)
HAIR: RGB = (46, 34, 32)
ANIMALS = ("wolf", "horse", "cat")


@dataclass(frozen=True)
class Palette:
    """A member's colours as RGB."""

    main: RGB
    second: RGB
    accent: RGB


def palette_of(member: CastMember) -> Palette:
    """The member's main, second and accent colours (repeating the last when fewer are given)."""
    cols = [hex_rgb(c) for c in member.colours] or [(60, 60, 70)]
    while len(cols) < 3:
        cols.append(mix(cols[-1], (20, 20, 26), 0.45))
    return Palette(main=cols[0], second=cols[1], accent=cols[2])


def _box(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float, float, float]:
    """An ellipse box from two corners in any order (a figure facing left mirrors its points)."""
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])


class _Layers:
    """One mask per colour role, drawn with the same point mapping."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.masks: dict[str, Image.Image] = {}
        self.draws: dict[str, ImageDraw.ImageDraw] = {}
        for role in ("second", "main", "skin", "accent", "hair"):
            self.masks[role], self.draws[role] = new_mask(size)

    def __getitem__(self, role: str) -> ImageDraw.ImageDraw:
        return self.draws[role]

    def union(self) -> Image.Image:
        out = Image.new("L", next(iter(self.masks.values())).size, 0)
        for m in self.masks.values():
            out = ImageChops.lighter(out, m)
        return out


def _person(layers: _Layers, member: CastMember, *, x: float, foot: float, h: float, pose: str, facing: float) -> None:
    """A person in the member's clothing with its feet at (x, foot), ``h`` px tall."""
    kind = member.silhouette
    lean = 0.2 * facing if pose == "run" else 0.0

    def p(px: float, py: float) -> tuple[float, float]:
        return x + (px * facing + lean * py) * h, foot - py * h

    def limb(role: str, a: tuple[float, float], b: tuple[float, float], w: float) -> None:
        layers[role].line([p(*a), p(*b)], fill=255, width=max(2, int(w * h)))
        r = w * h / 2
        ex, ey = p(*b)
        layers[role].ellipse((ex - r, ey - r, ex + r, ey + r), fill=255)

    # legs (second colour): standing apart, running stride, or a dance kick
    if pose == "run":
        limb("second", (0.0, 0.47), (0.16, 0.26), 0.075)
        limb("second", (0.16, 0.26), (0.2, 0.02), 0.06)
        limb("second", (0.0, 0.47), (-0.1, 0.24), 0.075)
        limb("second", (-0.1, 0.24), (-0.28, 0.17), 0.06)
    elif pose == "dance":
        limb("second", (-0.04, 0.47), (-0.12, 0.02), 0.07)
        limb("second", (0.04, 0.47), (0.2, 0.1), 0.07)
    else:
        limb("second", (-0.04, 0.47), (-0.06, 0.02), 0.07)
        limb("second", (0.04, 0.47), (0.06, 0.02), 0.07)
    # body (main colour) by silhouette
    hem = {"long-coat": 0.3, "jacket": 0.5, "hooded": 0.2, "dress": 0.3}.get(kind, 0.3)
    flare = {"long-coat": 0.05, "jacket": 0.0, "hooded": 0.07, "dress": 0.14}.get(kind, 0.05)
    shoulder = 0.13 if kind == "jacket" else 0.115
    waist = 0.085 if kind == "dress" else 0.1
    layers["main"].polygon([p(-shoulder, 0.83), p(shoulder, 0.83), p(waist, 0.6), p(0.09 + flare, hem), p(-0.09 - flare, hem),
                            p(-waist, 0.6)], fill=255)
    # arms (main colour), with hands (skin)
    if pose == "dance":
        arms = [((0.1, 0.8), (0.2, 0.98), (0.28, 1.12)), ((-0.1, 0.8), (-0.22, 0.96), (-0.3, 1.08))]
    elif pose == "run":
        arms = [((0.06, 0.8), (0.18, 0.62), (0.26, 0.72)), ((-0.06, 0.8), (-0.18, 0.62), (-0.22, 0.48))]
    else:
        arms = [((0.11, 0.81), (0.14, 0.62), (0.14, 0.46)), ((-0.11, 0.81), (-0.14, 0.62), (-0.14, 0.46))]
    for a, b, c in arms:
        limb("main", a, b, 0.055)
        limb("main", b, c, 0.05)
        hx, hy = p(*c)
        r = 0.028 * h
        layers["skin"].ellipse((hx - r, hy - r, hx + r, hy + r), fill=255)
    # neck and head (skin), hair or hood
    layers["skin"].polygon([p(-0.025, 0.88), p(0.025, 0.88), p(0.03, 0.83), p(-0.03, 0.83)], fill=255)
    layers["skin"].ellipse(_box(p(-0.055, 0.99), p(0.055, 0.87)), fill=255)
    if kind == "hooded":
        layers["main"].polygon([p(-0.085, 0.84), p(-0.08, 0.97), p(0.0, 1.04), p(0.08, 0.97), p(0.085, 0.84), p(0.05, 0.9),
                                p(-0.05, 0.9)], fill=255)
        layers["accent"].polygon([p(-0.12, 0.6), p(0.12, 0.6), p(0.12, 0.57), p(-0.12, 0.57)], fill=255)  # belt
    elif kind == "dress":
        layers["accent"].polygon([p(-0.06, 0.99), p(0.06, 0.99), p(0.1, 0.72), p(0.03, 0.8), p(-0.03, 0.8), p(-0.1, 0.72)], fill=255)
    else:
        layers["hair"].chord(_box(p(-0.06, 1.0), p(0.06, 0.9)), 180, 360, fill=255)
    if kind == "long-coat":  # a scarf: a band at the neck and one long end blowing back
        layers["accent"].polygon([p(-0.07, 0.85), p(0.07, 0.85), p(0.07, 0.8), p(-0.07, 0.8)], fill=255)
        layers["accent"].polygon([p(-0.05, 0.82), p(-0.02, 0.82), p(-0.2, 0.66), p(-0.24, 0.7)], fill=255)
    elif kind == "jacket":  # a stripe across the chest
        layers["accent"].polygon([p(-0.12, 0.72), p(0.12, 0.72), p(0.115, 0.68), p(-0.115, 0.68)], fill=255)


def _animal(layers: _Layers, member: CastMember, *, x: float, foot: float, h: float, pose: str, facing: float) -> None:
    """A wolf, a horse or a cat in side view, ``h`` px tall at the shoulder-to-ears."""
    kind = member.silhouette
    length = {"wolf": 1.3, "horse": 1.25, "cat": 1.0}.get(kind, 1.2)
    legs = {"wolf": 0.42, "horse": 0.55, "cat": 0.3}.get(kind, 0.45)
    stride = 0.18 if pose in ("run", "dance") else 0.05

    def p(px: float, py: float) -> tuple[float, float]:
        return x + px * facing * h, foot - py * h

    body_top = legs + 0.32
    layers["main"].ellipse(_box(p(-length / 2, body_top), p(length / 2, legs - 0.02)), fill=255)
    for lx, sway in ((-length * 0.35, -stride), (-length * 0.22, stride), (length * 0.25, stride), (length * 0.38, -stride)):
        layers["second"].line([p(lx, legs + 0.05), p(lx + sway, 0.02)], fill=255, width=max(2, int(0.07 * h)))
    neck_x = length * 0.45
    if kind == "horse":
        layers["main"].polygon([p(neck_x - 0.12, body_top - 0.08), p(neck_x + 0.05, body_top + 0.35), p(neck_x + 0.2, body_top + 0.3),
                                p(neck_x + 0.15, body_top - 0.12)], fill=255)
        layers["main"].polygon([p(neck_x + 0.05, body_top + 0.38), p(neck_x + 0.42, body_top + 0.18), p(neck_x + 0.4, body_top + 0.08),
                                p(neck_x + 0.12, body_top + 0.22)], fill=255)
        layers["accent"].polygon([p(neck_x - 0.1, body_top - 0.02), p(neck_x + 0.04, body_top + 0.4), p(neck_x - 0.02, body_top + 0.36),
                                  p(neck_x - 0.16, body_top - 0.04)], fill=255)  # the mane
        layers["accent"].line([p(-length / 2, body_top - 0.1), p(-length / 2 - 0.18, legs - 0.1)], fill=255, width=max(2, int(0.06 * h)))
    else:
        head = 0.2 if kind == "wolf" else 0.17
        hx, hy = neck_x + 0.08, body_top + 0.08
        layers["main"].ellipse(_box(p(hx - head, hy + head), p(hx + head, hy - head)), fill=255)
        layers["main"].polygon([p(hx + head * 0.5, hy + head * 0.3), p(hx + head * (2.0 if kind == "wolf" else 1.2), hy - head * 0.3),
                                p(hx + head * 0.4, hy - head * 0.6)], fill=255)  # the muzzle
        for ex in (-0.35, 0.25):  # ears
            layers["main"].polygon([p(hx + ex * head, hy + head * 0.8), p(hx + (ex + 0.15) * head, hy + head * 1.7),
                                    p(hx + (ex + 0.5) * head, hy + head * 0.8)], fill=255)
        tail_end = (-length / 2 - 0.35, body_top + (0.35 if kind == "cat" else -0.15))
        layers["accent"].line([p(-length / 2 + 0.05, body_top - 0.08), p(*tail_end)], fill=255,
                              width=max(2, int((0.05 if kind == "cat" else 0.11) * h)))
        eye = 0.025 * h
        ex_, ey_ = p(hx + head * 0.35, hy + head * 0.2)
        layers["skin"].ellipse((ex_ - eye, ey_ - eye, ex_ + eye, ey_ + eye), fill=255)


def _bird(layers: _Layers, member: CastMember, *, x: float, foot: float, h: float, pose: str, facing: float) -> None:
    """One bird in flight with spread wings (main), a tail (second) and a beak (accent), in the air above ``foot``."""
    cy = foot - h * 0.9

    def p(px: float, py: float) -> tuple[float, float]:
        return x + px * facing * h, cy - py * h

    layers["main"].ellipse(_box(p(-0.22, 0.08), p(0.22, -0.08)), fill=255)
    up = 0.35 if pose == "stand" else 0.5
    for side in (-1, 1):
        layers["main"].polygon([p(-0.05, 0.03), p(side * 0.1 - 0.1, up), p(side * 0.05 + 0.25 * side, up * 0.8), p(0.1, 0.02)], fill=255)
    layers["second"].polygon([p(-0.2, 0.02), p(-0.42, 0.1), p(-0.42, -0.08), p(-0.2, -0.03)], fill=255)
    layers["main"].ellipse(_box(p(0.16, 0.13), p(0.3, -0.01)), fill=255)
    layers["accent"].polygon([p(0.29, 0.07), p(0.38, 0.05), p(0.29, 0.03)], fill=255)


def paint_member(base: Image.Image, ctx: Ctx | None, member: CastMember, *, x: float, foot: float, height_px: float,
                 pose: str = "stand", facing: float = 1.0, rim: RGB | None = None) -> tuple[Image.Image, Image.Image]:
    """Paint ``member`` with its feet at (x, foot) and ``height_px`` tall; the picture and the figure's mask."""
    layers = _Layers(base.size)
    painter = _animal if member.silhouette in ANIMALS else _bird if member.silhouette == "bird" else _person
    painter(layers, member, x=x, foot=foot, h=height_px, pose=pose, facing=facing)
    pal = palette_of(member)
    shade = ctx.look.dark if ctx is not None else (30, 30, 36)
    colours = {"second": pal.second, "main": pal.main, "skin": SKIN, "accent": pal.accent, "hair": HAIR}
    whole = smooth_edges(layers.union())
    if ctx is not None and ctx.look.treatment in ("neon", "rim") and rim is not None:  # the scene's rim light behind the figure
        base = glow(base, edge_band(whole, width_px=3 * ctx.unit, gain=6), rim, radius_px=12 * ctx.unit, strength=1.0)
    for role, mask in layers.masks.items():
        colour = colours[role]
        paint(base, smooth_edges(mask), mix(colour, shade, 0.12))  # lit a little by the scene, never re-coloured
    return base, whole


def reference_picture(member: CastMember, *, background: RGB, ground: RGB, size: tuple[int, int]) -> tuple[Image.Image, Image.Image]:
    """The member standing in the middle of a plain ``background`` with a ground line; the picture and the mask."""
    W, H = size
    img = Image.new("RGB", size, background)
    d = ImageDraw.Draw(img)
    d.rectangle((0, int(H * 0.86), W, H), fill=ground)
    tall = 0.5 if member.silhouette in ANIMALS else 0.7
    return paint_member(img, None, member, x=W / 2, foot=H * 0.9, height_px=H * tall, pose="stand", facing=1.0)
