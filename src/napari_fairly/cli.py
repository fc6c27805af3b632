"""The ``fairly`` command: the core, headless, for acquisition PCs and stations.

Each subcommand lives in ``napari_fairly.commands.<module>`` and exposes
``register(subparsers)``; its handler returns the exit code. Exit codes: 0 ok,
1 a verdict says no (invalid name, missing required fields), 2 bad input,
3 a quality check failed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from napari_fairly import __version__
from napari_fairly.core.errors import FairlyError

EXIT_OK = 0
EXIT_VERDICT = 1
EXIT_BAD_INPUT = 2
EXIT_QC_FAILED = 3

# order = order in `fairly --help`
COMMAND_MODULES = ("inspect", "naming", "form", "qc", "save")


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every subcommand module registered."""
    parser = argparse.ArgumentParser(
        prog="fairly",
        description="Make microscopy acquisitions FAIR: inspect, name, check, save.",
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: bad input is one line on stderr and exit code 2, no traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except FairlyError as err:
        print(f"fairly {args.command}: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(
            f"fairly {args.command}: cancelled; nothing was left half-written.",
            file=sys.stderr,
        )
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
