"""The ``fairly`` command: the core, headless, for acquisition PCs and stations.

Each subcommand lives in ``napari_fairly.commands.<module>`` and exposes
``register(subparsers)``; its handler returns the exit code. One exit-code table for
every command (``napari_fairly.commands.EXIT_CODES``, printed by ``fairly --help``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

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

# order = order in `fairly --help`
COMMAND_MODULES = ("inspect", "naming", "form", "qc", "save", "report")


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every subcommand module registered."""
    parser = argparse.ArgumentParser(
        prog="fairly",
        description="Make microscopy acquisitions FAIR: inspect, name, check, save.",
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
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
            f"fairly {args.command}: cancelled; nothing was left half-written.",
            file=sys.stderr,
        )
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
