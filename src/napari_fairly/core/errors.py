"""Errors that say what is wrong and what to do about it.

Each error carries the problem, the fix and (when known) the path; ``str(err)`` is the
one line shown to the operator in a napari notification or on the CLI's stderr.
"""

from __future__ import annotations

from pathlib import Path


class FairlyError(Exception):
    """Base class: a problem the operator can act on (not a bug)."""

    def __init__(
        self, problem: str, *, fix: str = "", path: Path | str | None = None
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.path = Path(path) if path is not None else None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        fix = f" {self.fix}" if self.fix else ""
        return f"{where}{self.problem}{fix}"


class UnreadableFileError(FairlyError, OSError):
    """The raw file is missing, corrupt, truncated or of an unsupported format."""


class MissingMetadataError(FairlyError, LookupError):
    """A value a check needs is missing from the file and was not supplied."""


class InvalidFormValueError(FairlyError, ValueError):
    """A REMBI or naming form value breaks a rule."""


class TemplateError(FairlyError, ValueError):
    """A facility template or operator profile cannot be read."""


class OutputError(FairlyError, OSError):
    """The output cannot be written: it exists, the folder is read-only, disk full."""


class CancelledError(FairlyError):
    """The operator cancelled a long job; nothing was left half-written."""
