"""storybeat's REST API: FastAPI routes that validate, trigger transitions and start/stop workers."""
from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("storybeat")
except metadata.PackageNotFoundError:  # running from a checkout without install
    __version__ = "0.1.0"
