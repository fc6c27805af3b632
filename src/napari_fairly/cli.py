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
import contextlib
import errno
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from napari_fairly import __version__
from napari_fairly.commands import (
    EXIT_BAD_INPUT,
    EXIT_QC_FAILED,
    EXIT_VERDICT,
    exit_code_table,
)
from napari_fairly.core.errors import (
    BadInputError,
    FairlyError,
    InvalidFormValueError,
    QcNotAcceptedError,
)
from napari_fairly.core.i18n import _
from napari_fairly.core.textcheck import undecodable

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
# the module that registers each command: a command run imports only its own module
# (``fairly save`` does not pay for what ``fairly inspect`` imports)
MODULE_OF_COMMAND = {
    "inspect": "inspect",
    "name": "naming",
    "form": "form",
    "qc": "qc",
    "save": "save",
    "verify": "save",
    "report": "report",
    "methods": "report",
    "batch": "batch",
    "watch": "watch",
}


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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with every subcommand module registered, or only the module of
    ``command`` when it names one (help and errors of that command are the same)."""
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
    only = MODULE_OF_COMMAND.get(command or "")
    for name in COMMAND_MODULES if only is None else (only,):
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


# a reader that closed our stdout (``fairly inspect F | head``): what a program
# killed by SIGPIPE exits with, as other command-line tools do
EXIT_PIPE_CLOSED = 128 + 13


def _check_text(args: argparse.Namespace) -> None:
    """Refuse arguments that are not text: bytes that are not UTF-8 (a Latin-1 ``é``
    typed in a terminal) reach Python as lone surrogates, which no document can hold.
    """
    for name, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str | Path):
                continue
            found = undecodable(str(item))
            if found is None:
                continue
            shown = str(item).encode("utf-8", "backslashreplace").decode("ascii")
            what = "--set" if name in ("values", "overrides") else name
            raise BadInputError(
                _("{what} '{shown}' is not UTF-8 text (byte {byte}).").format(
                    what=what, shown=shown[:120], byte=found
                ),
                fix=_(
                    "Type it again in a UTF-8 terminal, or rename the file with "
                    "UTF-8 characters."
                ),
            )


def _stdout_closed() -> None:
    """Point stdout at the null device: what is still buffered for a reader that is
    gone (a closed pipe, a full disk) must not fail again when Python exits."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


@contextlib.contextmanager
def _libraries_quiet() -> Iterator[None]:
    """Reader libraries' log lines and warnings stay off stderr: the operator reads
    one line per problem, ours. ``FAIRLY_DEBUG=1`` lets them through."""
    if os.environ.get("FAIRLY_DEBUG"):
        yield
        return
    root = logging.getLogger()
    quiet = logging.NullHandler() if not root.handlers else None
    if quiet is not None:  # else logging's last resort prints WARNING lines
        root.addHandler(quiet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if quiet is not None:
            root.removeHandler(quiet)


def _os_error(command: str, err: OSError) -> int:
    """One line for an OSError no layer turned into a FairlyError; its exit code."""
    if err.errno == errno.EPIPE:
        _stdout_closed()
        return EXIT_PIPE_CLOSED
    why = err.strerror or str(err)
    if err.filename is None:  # writing our own output failed (stdout on a full disk)
        _stdout_closed()
        print(
            f"fairly {command}: "
            + _("cannot write the output ({why}).").format(why=why),
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    print(f"fairly {command}: {os.fsdecode(err.filename)}: {why}.", file=sys.stderr)
    return EXIT_BAD_INPUT


def _command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs: its first word that is not an option, if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def _zarr_threads() -> None:
    """zarr decodes chunks with one thread per core in this process (unless the
    environment says otherwise): with its default (cores + 4), every thread keeps its
    own malloc arena of freed chunk buffers, ~10 MB each, for the rest of a save."""
    os.environ.setdefault("ZARR_THREADING__MAX_WORKERS", str(os.cpu_count() or 1))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: an operator's problem is a message on stderr and its exit code."""
    _zarr_threads()
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_named(words))
    args = parser.parse_args(words)
    with _libraries_quiet():
        try:
            _check_text(args)
            code: int = args.func(args)
            sys.stdout.flush()  # a closed pipe or a full disk shows here, not at exit
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
        except OSError as err:
            return _os_error(args.command, err)
    return code


if __name__ == "__main__":
    sys.exit(main())
