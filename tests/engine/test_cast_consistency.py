"""The local illustrator keeps the cast's figure the same across scenes and shot types.

Each scene of a 3-minute storyboard is drawn with the lead; its figure (the painter's mask) is compared
with the lead's reference picture and with the other scenes (``bench/bench_cast.py``, figures in
docs/benchmarks.md): the colours and the standing outline stay alike, and the same measures tell the lead
from a different member.
"""
from __future__ import annotations

import pytest

from bench.bench_cast import consistency, storyboard
from engine.cast import propose_cast
from tests.engine.test_shots import hand_made_song


@pytest.mark.parametrize("style", ["noir", "synthwave"])
def test_the_lead_looks_the_same_in_every_scene(style: str) -> None:
    scenes, bible, prompts = storyboard(hand_made_song(90_000), style=style)
    lead = propose_cast(bible).members[0]
    other = propose_cast(bible.model_copy(update={"subject": "a silver wolf"})).members[0]
    c = consistency(lead, other, scenes, prompts, style=style, size=(480, 270))
    shots = {s.split()[0] for s in c.shots.split(", ")}
    assert c.shown == c.scenes and len(shots) >= 5, c  # in frame in every scene, over many shot types
    assert c.colour_across >= 0.75 and c.silhouette >= 0.7 and c.silhouette_min >= 0.6, c
    assert c.other_colour < c.colour - 0.3 and c.other_silhouette < c.silhouette - 0.2, c
