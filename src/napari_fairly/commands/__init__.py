"""Subcommands of the ``fairly`` command, one module each (see ``cli.py``).

Exit codes, the same for every command (``fairly --help`` prints this table):
"""

from __future__ import annotations

from typing import Any

from napari_fairly.core.i18n import N_, _

EXIT_OK = 0
EXIT_VERDICT = 1
EXIT_BAD_INPUT = 2
EXIT_QC_FAILED = 3
EXIT_BATCH_FAILURES = 4

EXIT_CODES = (
    (EXIT_OK, N_("done")),
    (
        EXIT_VERDICT,
        N_(
            "a verdict says no: invalid name, incomplete or invalid form (any bad "
            "value in a form field), or a form made for another acquisition; the "
            "fields are listed"
        ),
    ),
    (
        EXIT_BAD_INPUT,
        N_(
            "bad input: an unreadable, corrupt or self-contradicting file, a bad "
            "path, a form file that is not a form"
        ),
    ),
    (
        EXIT_QC_FAILED,
        N_(
            "a quality check failed (for save: failed checks not accepted, nothing "
            "written)"
        ),
    ),
    (
        EXIT_BATCH_FAILURES,
        N_(
            "a batch (or a watched folder) finished with failures: every other item "
            "is saved; batch_report.csv (watch_report.csv) says which failed and why"
        ),
    ),
)


def exit_code_table() -> str:
    """The exit-code table as text, for ``--help`` epilogs."""
    lines = [_("exit codes:")]
    lines += [f"  {code}  {_(meaning)}" for code, meaning in EXIT_CODES]
    return "\n".join(lines)


def add_scene_argument(parser: Any, what: str) -> None:
    """``--scene N``: a scene number counted from 1 (as shown everywhere), or a name."""
    parser.add_argument(
        "--scene",
        default=None,
        metavar="N",
        help=_(
            "{what}: scene number (from 1, as `fairly inspect` lists them) or name"
        ).format(what=what),
    )


def scene_index(text: Any) -> int | str | None:
    """The reader's scene index (from 0) for a scene number typed from 1, or a name.

    Raises
    ------
    InvalidFormValueError
        For 0 or a negative number: scenes are counted from 1.
    """
    from napari_fairly.core.errors import InvalidFormValueError

    if text is None:
        return None
    value = str(text).strip()
    if value.lstrip("-").isdigit():
        number = int(value)
        if number < 1:
            raise InvalidFormValueError(
                f"--scene {value}: scenes are numbered from 1.",
                fix="Give a number from 1 (`fairly inspect FILE` lists the scenes).",
            )
        return number - 1
    return value
