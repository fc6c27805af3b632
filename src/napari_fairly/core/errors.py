"""Errors that say what is wrong and what to do about it.

Each error carries the problem, the fix and (when known) the path; ``str(err)`` is the
one line shown to the operator in a napari notification or on the CLI's stderr.
"""

from __future__ import annotations

from pathlib import Path

# a path longer than this is shown by its start and its end: the line stays one
# an operator can read (a path over PATH_MAX has thousands of characters)
SHOWN_PATH_CHARS = 300


def shown_path(path: Path | str) -> str:
    """``path`` (or any text from outside) as a message shows it, on one line.

    Control characters (a newline in a file name) and direction overrides are shown
    as escapes (``\\n``, ``\\u202e``) so the line reads as it is; a long text is
    shown by its start and end around '…'.
    """
    text = str(path)
    if len(text) > SHOWN_PATH_CHARS:
        text = f"{text[:80]}…{text[-(SHOWN_PATH_CHARS - 81) :]}"
    if any(_hidden(char) for char in text):
        text = "".join(
            char.encode("unicode_escape").decode("ascii") if _hidden(char) else char
            for char in text
        )
    return text


def _hidden(char: str) -> bool:
    """A character a terminal would not show as itself."""
    import unicodedata

    return unicodedata.category(char) in ("Cc", "Cf", "Cs") and char != "\u200d"


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
        where = f"{shown_path(self.path)}: " if self.path else ""
        fix = f" {self.fix}" if self.fix else ""
        return f"{where}{self.problem}{fix}"


class UnreadableFileError(FairlyError, OSError):
    """The raw file is missing, corrupt, truncated or of an unsupported format."""


class BadInputError(FairlyError, ValueError):
    """An argument or a path that cannot be used as given (not UTF-8 text)."""


class MissingMetadataError(FairlyError, LookupError):
    """A value a check needs is missing from the file and was not supplied."""


class InvalidFormValueError(FairlyError, ValueError):
    """A REMBI or naming form value breaks a rule."""


class TemplateError(FairlyError, ValueError):
    """A facility template or operator profile cannot be read."""


class OutputError(FairlyError, OSError):
    """The output cannot be written: it exists, the folder is read-only, disk full."""


class FormNotReadyError(InvalidFormValueError):
    """The form is incomplete, invalid or made for another acquisition: no save.

    ``problems`` lists ``(field, message)`` pairs, so a widget can show each next to
    its field and the CLI can print them one per line.
    """

    def __init__(
        self,
        problem: str,
        *,
        problems: list[tuple[str, str]] | None = None,
        fix: str = "",
        path: Path | str | None = None,
    ) -> None:
        super().__init__(problem, fix=fix, path=path)
        self.problems = list(problems or [])

    def __str__(self) -> str:
        lines = [super().__str__()]
        lines += [f"  - {field}: {message}" for field, message in self.problems]
        return "\n".join(lines)


class FormFileError(FairlyError, ValueError):
    """A file given as a form is not a form (not JSON, not UTF-8, not our schema)."""


class QcNotAcceptedError(FairlyError):
    """Quality checks failed and the operator did not accept them: nothing written."""

    def __init__(
        self,
        problem: str,
        *,
        failed: list[str] | None = None,
        fix: str = "",
        path: Path | str | None = None,
    ) -> None:
        super().__init__(problem, fix=fix, path=path)
        self.failed = list(failed or [])
