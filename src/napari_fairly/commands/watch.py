"""``fairly watch``: save each acquisition that appears in a folder, once complete."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from napari_fairly.commands import EXIT_BATCH_FAILURES, EXIT_OK, exit_code_table
from napari_fairly.commands.batch import add_common_arguments, load_inputs, settings_of
from napari_fairly.core.i18n import _

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: Subparsers) -> None:
    """Add ``fairly watch``."""
    parser = subparsers.add_parser(
        "watch",
        help=_("watch an acquisition folder and save each new file once complete"),
        description=_(
            "Watch SRC (and its sub-folders) and save each acquisition that appears "
            "as fairly batch does, once the file is complete: unchanged for the "
            "settling time, or once its sentinel file exists (the template's batch "
            "policy, or --settle / --sentinel). Network shares are polled. Every "
            "action is logged to fairly_watch.log in the destination; files saved "
            "before a restart are left alone. The source files are only read. "
            "Stop with Ctrl-C."
        ),
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", type=Path, metavar="SRC", help=_("folder to watch"))
    add_common_arguments(parser)
    parser.add_argument(
        "--settle",
        type=float,
        default=None,
        metavar="SECONDS",
        help=_("a file is complete once unchanged this long (default: template, 30)"),
    )
    parser.add_argument(
        "--sentinel",
        default=None,
        metavar="PATTERN",
        help=_(
            "a file is complete once this file exists beside it, e.g. '{name}.done' "
            "({name}: the file's name, {stem}: without extension)"
        ),
    )
    polling = parser.add_mutually_exclusive_group()
    polling.add_argument(
        "--polling",
        dest="polling",
        action="store_const",
        const=True,
        default=None,
        help=_("poll the folder (default for network shares)"),
    )
    polling.add_argument(
        "--no-polling",
        dest="polling",
        action="store_const",
        const=False,
        help=_("use the system's change notifications even on a network share"),
    )
    parser.set_defaults(func=run_watch_command)


def run_watch_command(args: argparse.Namespace) -> int:
    """Handler of ``fairly watch``; Ctrl-C stops it cleanly."""
    from napari_fairly.core.batch.watch import FolderWatch, WatchOptions, watch_logger

    template, values = load_inputs(args)
    settings = settings_of(args, args.out, template)
    policy = template.batch if template is not None else None
    options = WatchOptions(
        settle_seconds=args.settle
        if args.settle is not None
        else (policy.settle_seconds if policy else 30.0),
        sentinel=args.sentinel
        if args.sentinel is not None
        else (policy.sentinel if policy else ""),
        polling=args.polling,
    )
    watch = FolderWatch(
        args.source,
        settings,
        manifest=args.manifest,
        name_pattern=args.name_pattern,
        values=values,
        options=options,
    )
    settings.destination.mkdir(parents=True, exist_ok=True)
    watch.logger = watch_logger(settings.destination)
    echo = logging.StreamHandler(sys.stderr)
    echo.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    watch.logger.addHandler(echo)
    summary = watch.run(
        scheduler=args.scheduler, workers=args.workers, processes=not args.in_process
    )
    saved = sum(1 for r in summary.results if r.ok)
    print(
        _("{saved} saved, {failed} not saved").format(
            saved=saved, failed=len(summary.failed)
        )
    )
    return EXIT_BATCH_FAILURES if summary.failed else EXIT_OK
