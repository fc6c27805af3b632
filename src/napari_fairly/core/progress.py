"""Progress reports for long jobs, shared by the GUI worker and the CLI.

Long jobs are generators that yield :class:`Progress` and return their result, so the
same code runs in a napari worker (with cancel at each ``yield``) and in the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a job is: ``done`` of ``total`` units (``total`` None when unknown)."""

    done: int
    total: int | None
    step: str


def drive(
    job: Generator[Progress, None, R],
    on_progress: Callable[[Progress], None] | None = None,
) -> R:
    """Run a ``*_steps`` generator to the end and hand back its return value."""
    while True:
        try:
            report = next(job)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if on_progress is not None:
            on_progress(report)
