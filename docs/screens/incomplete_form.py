"""State "incomplete form": the form step with a few fields typed, one of them wrong.

A project typed in lower case and no creator yet: the name preview says what is
missing and what is wrong, the save is blocked. Tutorial shot: the form step.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _screen


def prepare(viewer: Any, docks: list[tuple[str, Any]]) -> None:
    """Type part of the form, with a mistake, and show the form step."""
    _screen.fill_screen(viewer)
    assistant = _screen.assistant(docks)
    assistant.show_training(True)
    session = assistant.session()
    session.set_fields({"naming.project": "tnt", "naming.sample": "HeLa"})
    assistant.go_to("form")
    _screen.shot("03_form_incomplete")
