"""``python -m engine``: the storybeat CLI."""
import sys

from engine.cli import main

sys.exit(main())
