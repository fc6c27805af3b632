"""Progress and notes: two typed events, dispatched by ``drive`` without parsing."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from napari_fairly.core.progress import Note, NoteKind, Progress, drive


def _job() -> Generator[Progress | Note, None, str]:
    yield Progress(0, 2, "starting")
    yield Note(NoteKind.SAME_DISK, "note: not a prefix, just text", Path("/x"))
    yield Progress(2, 2, "done")
    return "result"


def test_drive_sends_each_event_to_its_handler_and_returns_the_result() -> None:
    progress: list[Progress] = []
    notes: list[Note] = []
    assert drive(_job(), progress.append, notes.append) == "result"
    assert [p.step for p in progress] == ["starting", "done"]
    assert notes == [
        Note(NoteKind.SAME_DISK, "note: not a prefix, just text", Path("/x"))
    ]


def test_drive_without_handlers_still_runs_the_job() -> None:
    assert drive(_job()) == "result"
    seen: list[Progress] = []
    assert drive(_job(), seen.append) == "result"  # notes dropped, not sent here
    assert all(isinstance(p, Progress) for p in seen) and len(seen) == 2


def test_note_kinds_are_stable_strings() -> None:
    assert {k.value for k in NoteKind} == {
        "leftover_partial",
        "long_path",
        "same_disk",
        "accepted_failures",
        "no_ome_model",
    }
