"""``fairly batch``: save many acquisitions, on this machine or a Dask cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from napari_fairly.commands import EXIT_BATCH_FAILURES, EXIT_OK, exit_code_table
from napari_fairly.core.i18n import _, ngettext

if TYPE_CHECKING:
    from rich.console import Console

    from napari_fairly.core.batch import (
        BatchPlan,
        BatchResult,
        BatchSettings,
        BatchStarted,
    )
    from napari_fairly.core.settings import FacilityTemplate

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments ``fairly batch`` and ``fairly watch`` share."""
    parser.add_argument("--out", type=Path, required=True, help=_("destination folder"))
    parser.add_argument(
        "--template",
        type=Path,
        default=None,
        help=_("facility template (else FAIRLY_TEMPLATE, else <config>/template.yaml)"),
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help=_(
            "CSV or JSON table, one row per file: a 'file' column, an optional "
            "'scene' column, and form fields as columns (condition, study.title…)"
        ),
    )
    parser.add_argument(
        "--name-pattern",
        default=None,
        metavar="REGEX",
        help=_(
            "read naming components from file names with named groups, e.g. "
            "'(?P<sample>[^_]+)_(?P<condition>[^_.]+)'"
        ),
    )
    parser.add_argument(
        "--set",
        dest="values",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help=_("a value for every file (naming.project=TNT, na=1.4…); repeatable"),
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDR",
        help=_(
            "a running Dask scheduler (tcp://host:8786); default: workers on this "
            "machine"
        ),
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help=_("workers on this machine (default: by cores and memory)"),
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help=_(
            "run the workers as threads of this process (quicker to start: a few "
            "small files)"
        ),
    )
    parser.add_argument(
        "--accept-qc-failures",
        action="store_true",
        help=_(
            "save files whose quality checks fail; the acceptance is recorded in "
            "each sidecar (default: the template's batch policy)"
        ),
    )
    parser.add_argument(
        "--operator",
        default=None,
        help=_("who accepts failed checks (default: your login name)"),
    )
    parser.add_argument(
        "--ngff",
        choices=("0.4", "0.5"),
        default=None,
        help=_("OME-NGFF version (default: the template's, else 0.4)"),
    )


def register(subparsers: Subparsers) -> None:
    """Add ``fairly batch``."""
    parser = subparsers.add_parser(
        "batch",
        help=_("save many acquisitions (folders, a manifest), resumable"),
        description=_(
            "Plan every scene of the files and folders given (form values from the "
            "template, the manifest, the file names and --set), list every problem "
            "before anything runs, then check and save each one as fairly save "
            "does, in parallel on Dask. A bad file does not stop the batch; "
            "running it again skips what is saved and verified. Writes "
            "batch_report.csv and batch_state.jsonl into the destination."
        ),
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "sources", nargs="+", type=Path, metavar="SRC", help=_("files or folders")
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help=_("print the plan (the names that would be written) and stop"),
    )
    parser.set_defaults(func=run_batch_command)


def load_inputs(
    args: argparse.Namespace,
) -> tuple[FacilityTemplate | None, dict[str, str]]:
    """The template and the ``--set`` values."""
    from napari_fairly.core.corrections import parse_assignments
    from napari_fairly.core.settings import find_template, load_template

    template = load_template(args.template) if args.template else find_template()
    return template, dict(parse_assignments(args.values))


def settings_of(
    args: argparse.Namespace, destination: Path, template: FacilityTemplate | None
) -> BatchSettings:
    """The batch settings the arguments and the template's policy give."""
    from napari_fairly.core.batch import batch_settings
    from napari_fairly.core.export.sidecar import os_user

    accepted = None
    if args.accept_qc_failures:
        accepted = args.operator or os_user() or "operator (fairly batch)"
    return batch_settings(
        destination, template, accept_qc_failures_by=accepted, ngff_version=args.ngff
    )


def _plan(
    args: argparse.Namespace, template: FacilityTemplate | None, values: dict[str, str]
) -> BatchPlan:
    from rich.console import Console

    from napari_fairly.core.batch import plan_batch_steps
    from napari_fairly.core.progress import Progress, drive

    console = Console(file=sys.stderr)
    with console.status(_("planning…")) as status:

        def on_progress(step: Progress) -> None:
            status.update(step.step)

        return drive(
            plan_batch_steps(
                args.sources,
                args.out,
                template=template,
                manifest=args.manifest,
                name_pattern=args.name_pattern,
                values=values,
            ),
            on_progress,
        )


def print_plan(plan: BatchPlan) -> None:
    """The names that would be written, one line per item, then the problems."""
    from napari_fairly.core.batch import last_records
    from napari_fairly.core.batch.state import previous_of

    earlier = last_records(plan.destination)
    for item in plan.items:
        scene = f" [{_('scene')} {item.scene_number}]" if item.scene_number else ""
        where = f"{item.source}{scene}"
        previous = previous_of(earlier.get(item.key), item)
        if item.unreadable:
            print(f"{where}\n    ✗ {item.unreadable}")
        elif previous is not None and previous.kind == "done":
            print(f"{where}\n    = {previous.folder} ({_('already saved')})")
        else:
            folder = plan.folders.get(item.key, "?")
            print(f"{where}\n    → {plan.destination / folder}")
    count = len(plan.items)
    print(
        ngettext(
            "%(n)d item into %(destination)s", "%(n)d items into %(destination)s", count
        )
        % {"n": count, "destination": plan.destination}
    )


def run_batch_command(args: argparse.Namespace) -> int:
    """Handler of ``fairly batch``."""
    from rich.console import Console

    template, values = load_inputs(args)
    plan = _plan(args, template, values)
    if args.dry_run:
        print_plan(plan)
        plan.check()  # exit 1, listing the problems, when there are any
        return EXIT_OK
    plan.check()
    err = Console(file=sys.stderr)
    if args.scheduler and args.workers:
        err.print(_("note: --workers is ignored with --scheduler"), markup=False)
    settings = settings_of(args, plan.destination, template)
    result = _run_with_bar(plan, settings, args, err)
    print(result.summary())
    for failed in result.failed:
        print(f"  ✗ {failed.source}: {failed.error or failed.status_label}")
    for leftover in result.leftovers:
        print(
            _("note: temporary folder left, not deleted: {path}").format(path=leftover),
            file=sys.stderr,
        )
    print(_("report: {path}").format(path=result.report))
    return EXIT_BATCH_FAILURES if result.failed else EXIT_OK


def _run_with_bar(
    plan: BatchPlan,
    settings: BatchSettings,
    args: argparse.Namespace,
    err: Console,
) -> BatchResult:
    """Drive the batch with a progress bar over items on stderr."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    from napari_fairly.core.batch import BatchStarted, ItemResult, run_batch_steps

    job = run_batch_steps(
        plan,
        settings,
        scheduler=args.scheduler,
        workers=args.workers,
        processes=not args.in_process,
    )
    with Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(_("starting the workers"), total=len(plan.items))
        while True:
            try:
                event = next(job)
            except StopIteration as stop:
                done: BatchResult = stop.value
                return done
            if isinstance(event, BatchStarted):
                _started(event, err)
            elif isinstance(event, ItemResult):
                bar.update(task, description=f"{event.status_label}: {event.name}")
                if not event.ok:
                    err.print(
                        f"✗ {event.source}: {event.error or event.status_label}",
                        markup=False,
                        highlight=False,
                        soft_wrap=True,
                    )
            else:
                bar.update(task, completed=event.done)


def _started(event: BatchStarted, err: Console) -> None:
    """Where the batch runs: the scheduler, its workers, the dashboard."""
    err.print(
        _("{n} worker(s) on {scheduler}").format(
            n=len(event.workers), scheduler=event.scheduler
        ),
        markup=False,
        highlight=False,
    )
    if event.dashboard:
        err.print(
            _("Dask dashboard: {url}").format(url=event.dashboard),
            markup=False,
            highlight=False,
        )
