"""storybeat engine: a resumable state machine that turns a song into a music video."""

__version__ = "0.1.0"
