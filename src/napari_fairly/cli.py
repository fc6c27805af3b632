"""The ``fairly`` command: the core, headless, for acquisition PCs and stations.

Each subcommand lives in ``napari_fairly.commands.<module>`` and exposes
``register(subparsers)``; its handler returns the exit code. One exit-code table for
every command (``napari_fairly.commands.EXIT_CODES``, printed by ``fairly --help``).

Help and messages are in the language of ``core.i18n`` (``FAIRLY_LANG``, else
``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/``LANG``). argparse's own headings and the
help of ``-h``/``--version`` go through the same catalogues (:class:`FairlyParser`);
the errors argparse itself words ("the following arguments are required", "invalid
choice") stay in English: argparse takes them from a catalogue Python does not ship.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from napari_fairly import __version__
from napari_fairly.commands import (
    EXIT_BAD_INPUT,
    EXIT_QC_FAILED,
    EXIT_VERDICT,
    exit_code_table,
)
from napari_fairly.core.errors import (
    FairlyError,
    InvalidFormValueError,
    QcNotAcceptedError,
)
from napari_fairly.core.i18n import _

# order = order in `fairly --help`
COMMAND_MODULES = (
    "inspect",
    "naming",
    "form",
    "qc",
    "save",
    "report",
    "batch",
    "watch",
)


class _TranslatedUsage(argparse.HelpFormatter):
    """argparse's help layout with its "usage: " heading in the current language."""

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        heading = _("usage: ") if prefix is None else prefix
        super().add_usage(usage, actions, groups, heading)


def _translated(formatter: type[argparse.HelpFormatter]) -> Any:
    """``formatter`` (raw description or not) with the translated usage heading."""
    return type(f"Translated{formatter.__name__}", (_TranslatedUsage, formatter), {})


class FairlyParser(argparse.ArgumentParser):
    """An ArgumentParser whose own words (headings, ``-h``, errors' lead) are
    translated; the subcommands' parsers are of this class too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        kwargs["formatter_class"] = _translated(
            kwargs.get("formatter_class", argparse.HelpFormatter)
        )
        kwargs["add_help"] = False  # our own -h, with translated help
        super().__init__(*args, **kwargs)
        self._positionals.title = _("positional arguments")
        self._optionals.title = _("options")
        if add_help:
            self.add_argument(
                "-h",
                "--help",
                action="help",
                default=argparse.SUPPRESS,
                help=_("show this help message and exit"),
            )

    def error(self, message: str) -> Any:
        """Usage, then ``prog: error: message`` on stderr; exit 2 (as argparse)."""
        self.print_usage(sys.stderr)
        self.exit(
            2,
            _("{prog}: error: {message}").format(prog=self.prog, message=message)
            + "\n",
        )


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every subcommand module registered."""
    parser = FairlyParser(
        prog="fairly",
        description=_("Make microscopy acquisitions FAIR: inspect, name, check, save."),
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__}",
        help=_("show the version and exit"),
    )
    subparsers = parser.add_subparsers(
        dest="command",
        metavar=_("COMMAND"),
        required=True,
        parser_class=FairlyParser,
        title=_("commands"),
    )
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"napari_fairly.commands.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"napari_fairly.commands.{name}":
                raise
            continue  # subcommand not part of this build
        module.register(subparsers)
    return parser


def exit_code_for(err: FairlyError) -> int:
    """The exit code of the README's table for an error the operator can act on."""
    if isinstance(err, QcNotAcceptedError):
        return EXIT_QC_FAILED
    if isinstance(err, InvalidFormValueError):
        return EXIT_VERDICT
    return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: an operator's problem is a message on stderr and its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except FairlyError as err:
        print(f"fairly {args.command}: {err}", file=sys.stderr)
        return exit_code_for(err)
    except KeyboardInterrupt:
        print(
            _("fairly {command}: cancelled; nothing was left half-written.").format(
                command=args.command
            ),
            file=sys.stderr,
        )
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
