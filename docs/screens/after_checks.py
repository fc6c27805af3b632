"""State "after the checks": the form filled, the checks run, the save step reached.

Tutorial shots: the completed form, the checks' results (a failed check selected),
and the save step once the failed checks are accepted.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _screen


def prepare(viewer: Any, docks: list[tuple[str, Any]]) -> None:
    """Fill the form, run the checks through the assistant, accept, reach the save."""
    _screen.fill_screen(viewer)
    assistant = _screen.assistant(docks)
    assistant.show_training(True)
    _screen.fill_form(assistant.session())
    assistant.go_to("form")
    _screen.shot("04_form_complete")
    assistant.next()
    assistant.checks_page.run()
    _screen.wait_until(lambda: assistant.checks_page.worker() is None)
    if assistant.checks_page.report() is None:
        raise RuntimeError(assistant.checks_page.status())
    assistant.checks_page.select_row(0)
    _screen.shot("05_checks")
    assistant.checks_page.show_saturated_pixels()
    viewer.dims.set_point(0, 11 * 0.5)
    _screen.shot("06_saturated_pixels")
    assistant.continue_anyway()  # the acceptance of the failed checks
    assistant.save_page.setDestination(tempfile.mkdtemp(prefix="fairly-screens-"))
    _screen.shot("07_save")
