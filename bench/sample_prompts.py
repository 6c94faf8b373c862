"""Varied sample scene prompts shared by the illustrator benchmark and the contact-sheet script."""
from __future__ import annotations

SAMPLES: list[tuple[str, str, float, str]] = [  # (prompt, mood, energy, lyric)
    ("A lone figure on a neon-lit highway at night under a huge setting sun, rain on the asphalt", "hopeful", 0.7, "I drive all night to find you"),
    ("Two lovers on a beach at sunset, waves rolling in, birds over the sea", "romantic", 0.5, "Hold me where the water ends"),
    ("A city skyline at night with the moon, lights in every window", "melancholic", 0.4, "A thousand windows, none of them mine"),
    ("Mountains and a pine forest under a starry sky, fireflies in the grass", "dreamy", 0.3, "Stars keep the secrets we told"),
    ("A campfire burning in the desert dunes under the stars, embers rising", "calm", 0.35, "Sparks fly up and disappear"),
    ("A red heart glowing above the city rooftops", "euphoric", 0.9, "My heart is a neon sign"),
    ("A train leaving the station in the snow, winter evening", "nostalgic", 0.45, "The last train takes the winter with it"),
    ("A small house alone on a hill at dawn, a tree beside it", "hopeful", 0.3, "Home is a light left on"),
    ("A car driving down an empty road through the mountains at sunset", "energetic", 0.8, "Foot down, no looking back"),
    ("Storm clouds and lightning over a dark sea, rain falling", "tense", 0.85, "The thunder knows my name"),
    ("Planets and a nebula in deep space, a lone astronaut", "dreamy", 0.5, ""),
    ("A girl dancing in the street in the rain under street lamps", "energetic", 0.95, "Dance until the rain gives up"),
]
