"""State "as opened by make demo": the demo loaded, the assistant on its first step.

Tutorial shots: the first step, then the metadata step.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _screen


def prepare(viewer: Any, docks: list[tuple[str, Any]]) -> None:
    """Fill the screen; show the assistant as ``make demo`` opens it."""
    _screen.fill_screen(viewer)
    assistant = _screen.assistant(docks)
    assistant.show_training(True)
    _screen.shot("01_open")
    assistant.go_to("metadata")
    assistant.metadata_page.select("objective.na")
    _screen.shot("02_metadata")
    assistant.go_to("open")
