"""Progress reports and notes for long jobs, shared by the GUI worker and the CLI.

Long jobs are generators that yield :class:`Progress` (how far they are) and
:class:`Note` (something the operator should know that does not stop the job) and
return their result, so the same code runs in a napari worker (with cancel at each
``yield``) and in the CLI. A note's :class:`NoteKind` tells a view how to show it;
its text is for the operator, never parsed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a job is: ``done`` of ``total`` units (``total`` None when unknown)."""

    done: int
    total: int | None
    step: str


class NoteKind(enum.StrEnum):
    """What a :class:`Note` is about."""

    LEFTOVER_PARTIAL = "leftover_partial"  # an interrupted save's folder, left alone
    LONG_PATH = "long_path"  # a path too long for some Windows tools (SPEC 1.2)
    SAME_DISK = "same_disk"  # the output shares the raw data's disk: not a backup
    ACCEPTED_FAILURES = "accepted_failures"  # saved with failed checks accepted
    NO_OME_MODEL = "no_ome_model"  # pixels OME has no type for: no METADATA.ome.xml


@dataclass(frozen=True, slots=True)
class Note:
    """Something the operator should know that does not stop the job.

    ``path`` is the file or folder it is about, when there is one.
    """

    kind: NoteKind
    text: str
    path: Path | None = None


Event = Progress | Note


def drive(
    job: Generator[Progress | Note, None, R],
    on_progress: Callable[[Progress], None] | None = None,
    on_note: Callable[[Note], None] | None = None,
) -> R:
    """Run a ``*_steps`` generator to the end and hand back its return value.

    Each :class:`Progress` goes to ``on_progress``, each :class:`Note` to ``on_note``.
    """
    while True:
        try:
            event = next(job)
        except StopIteration as stop:
            result: R = stop.value
            return result
        if isinstance(event, Note):
            if on_note is not None:
                on_note(event)
        elif on_progress is not None:
            on_progress(event)
