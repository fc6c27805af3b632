"""State "training demo, checked": the second demo (oversampled, under-exposed).

Run with ``--sample training``. Tutorial shots for trainers: its metadata step and
its checks.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _screen


def prepare(viewer: Any, docks: list[tuple[str, Any]]) -> None:
    """Run the checks of the training demo and show them."""
    _screen.fill_screen(viewer)
    assistant = _screen.assistant(docks)
    assistant.show_training(True)
    assistant.go_to("metadata")
    _screen.shot("08_training_metadata")
    assistant.go_to("form")
    assistant.continue_anyway()  # look at the checks before filling the form
    assistant.checks_page.run()
    _screen.wait_until(lambda: assistant.checks_page.worker() is None)
    assistant.checks_page.select_row(0)
    _screen.shot("09_training_checks")
