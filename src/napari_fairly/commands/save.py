"""``fairly save`` and ``fairly verify``: write a FAIR dataset, check one later."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from napari_fairly.commands import (
    EXIT_OK,
    EXIT_VERDICT,
    add_scene_argument,
    exit_code_table,
    scene_index,
)
from napari_fairly.core.i18n import _
from napari_fairly.core.progress import Note, NoteKind, Progress

if TYPE_CHECKING:
    from rich.console import Console

    from napari_fairly.core.export import SaveRequest, SaveResult
    from napari_fairly.core.export.request import NgffVersion
    from napari_fairly.core.form import FairForm
    from napari_fairly.core.session import Session

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: Subparsers) -> None:
    """Add the ``save`` and ``verify`` subcommands."""
    save = subparsers.add_parser(
        "save",
        help=_("save an acquisition as a named OME-Zarr dataset with its documents"),
        description=_(
            "Write <out>/<name>/ (OME-Zarr, sidecar JSON, measurements CSV, DataCite, "
            "RO-Crate, checksums) from a raw file and a FAIR form. Never overwrites. "
            "The form must be complete, valid and made for this file (else exit 1, "
            "nothing written); a failed quality check stops the save (exit 3, nothing "
            "written) unless --accept-qc-failures records that you accept it."
        ),
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    save.add_argument("path", type=Path, help=_("raw acquisition file"))
    save.add_argument(
        "--form", type=Path, required=True, help=_("FAIR form JSON (fairly form)")
    )
    save.add_argument("--out", type=Path, required=True, help=_("destination folder"))
    scenes = save.add_mutually_exclusive_group()
    add_scene_argument(scenes, _("save only this scene"))
    scenes.add_argument(
        "--all-scenes", action="store_true", help=_("one dataset per scene (default)")
    )
    save.add_argument(
        "--set",
        dest="values",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help=_(
            "correct an acquisition value (image_acquisition.pixel_size_z_um=0.2, "
            "or na=1.4, pz=0.2, em.2=520…) or set a QC parameter (gain=2.0); as in "
            "fairly form and fairly qc"
        ),
    )
    save.add_argument(
        "--accept-qc-failures",
        action="store_true",
        help=_(
            "save even if a quality check fails; the acceptance (which checks, who, "
            "when) is recorded in the sidecar"
        ),
    )
    save.add_argument(
        "--operator",
        default=None,
        help=_("who accepts failed checks (default: the form's operator)"),
    )
    save.add_argument(
        "--ngff",
        choices=("0.4", "0.5"),
        default=None,
        help=_("OME-NGFF version: 0.4 (Zarr v2, default) or 0.5 (Zarr v3)"),
    )
    save.add_argument(
        "--labels", type=Path, default=None, help=_("label image (TIFF or .npy)")
    )
    save.add_argument(
        "--copy-raw",
        action="store_true",
        help=_("also copy the raw file to raw/<name>.<ext>"),
    )
    save.add_argument(
        "--on-exists",
        choices=("bump", "refuse"),
        default="bump",
        help=_("when the name exists: save as the next version (default) or stop"),
    )
    save.add_argument(
        "--verify-all-planes",
        action="store_true",
        help=_(
            "hash every level-0 plane while reading and compare them all before "
            "publishing (slower; default: a sample spread over T, C and Z)"
        ),
    )
    save.set_defaults(func=run_save)

    verify = subparsers.add_parser(
        "verify",
        help=_("check a saved dataset: checksums, OME-Zarr pixels, documents"),
        description=_("Recompute every checksum, re-read the OME-Zarr; 0 if all hold."),
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "dir",
        type=Path,
        help=_("dataset folder <out>/<name> (with --cleanup: <out>)"),
    )
    verify.add_argument(
        "--cleanup",
        action="store_true",
        help=_(
            "list the temporary folders of saves under DIR and remove the "
            "interrupted ones (a running save's folder is left alone); their version "
            "numbers are free again"
        ),
    )
    verify.set_defaults(func=run_verify)


def _open_sessions(args: argparse.Namespace, form: FairForm) -> tuple[Session, ...]:
    """One Session per scene to save, each with the form and --set applied."""
    from napari_fairly.core.corrections import parse_settings
    from napari_fairly.core.errors import FormNotReadyError
    from napari_fairly.core.reading import open_acquisition
    from napari_fairly.core.session import Session
    from napari_fairly.core.settings import find_template

    index = scene_index(args.scene)
    first = open_acquisition(args.path, index)
    acqs = [first]
    if index is None and first.metadata.scene_count > 1:
        acqs += [
            open_acquisition(args.path, i) for i in range(1, len(first.scene_names))
        ]
    template = find_template()
    sessions = []
    try:
        corrections, parameters = parse_settings(
            args.values, len(first.metadata.channels)
        )
        for acq in acqs:
            session = Session(
                acq,
                form,
                template=template,
                parameters=parameters,
                any_scene=len(acqs) > 1,
            )
            if corrections:
                session.set_fields(corrections)
            session.check_form_ready(form_file=str(args.form))
            sessions.append(session)
    except FormNotReadyError as err:
        for acq in acqs:
            acq.close()
        raise FormNotReadyError(
            err.problem, problems=err.problems, fix=err.fix, path=args.form
        ) from None
    except Exception:
        for acq in acqs:
            acq.close()
        raise
    return tuple(sessions)


def run_save(args: argparse.Namespace) -> int:
    """Handler of ``fairly save``."""
    from rich.console import Console

    from napari_fairly.commands.qc import read_form_file
    from napari_fairly.core.export import SaveRequest

    form: FairForm = read_form_file(args.form)
    sessions = _open_sessions(args, form)
    template = sessions[0].template
    ngff: NgffVersion = args.ngff
    if ngff is None:
        ngff = template.options.ngff_version if template is not None else "0.4"
    accepted_by = None
    if args.accept_qc_failures:
        accepted_by = args.operator or form.operator or "operator (fairly save)"
    request = SaveRequest(
        sessions=sessions,
        destination=args.out,
        ngff_version=ngff,
        on_exists=args.on_exists,
        labels=args.labels,
        copy_raw=args.copy_raw,
        accept_qc_failures_by=accepted_by,
        verify_all_planes=args.verify_all_planes,
    )
    err_console = Console(file=sys.stderr)
    try:
        result = _run_with_bar(request, err_console)
    finally:
        for session in sessions:  # release the raw file handles the readers keep
            session.close()
    for dataset in result.datasets:
        bumped = (
            f" (requested {dataset.requested_name} exists)" if dataset.bumped else ""
        )
        print(f"saved {dataset.folder}{bumped}")
    return EXIT_OK


# what the operator may do about a note, by kind
NOTE_ADVICE = {
    NoteKind.LEFTOVER_PARTIAL: "not used, not deleted",
}


def render_note(note: Note) -> str:
    """One line for a note, with the advice its kind calls for."""
    advice = NOTE_ADVICE.get(note.kind)
    return f"note: {note.text}" + (f" ({advice})" if advice else "")


def _run_with_bar(request: SaveRequest, err_console: Console) -> SaveResult:
    """Drive the save with a rich progress bar on stderr; notes are printed as lines."""
    from rich.progress import BarColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    from napari_fairly.core.export import save_steps
    from napari_fairly.core.progress import drive

    with Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} planes"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("saving", total=None)

        def on_progress(step: Progress) -> None:
            bar.update(
                task, description=step.step, completed=step.done, total=step.total
            )

        def on_note(note: Note) -> None:
            err_console.print(
                render_note(note), markup=False, highlight=False, soft_wrap=True
            )

        return drive(save_steps(request), on_progress, on_note)


def run_cleanup(folder: Path) -> int:
    """``fairly verify --cleanup``: remove interrupted saves' folders under ``folder``.

    A folder whose save still runs (its lock is held) is listed and left alone.
    """
    from napari_fairly.core.errors import UnreadableFileError
    from napari_fairly.core.export.leftovers import find_leftovers, remove_leftover
    from napari_fairly.core.i18n import _

    if not folder.is_dir():
        raise UnreadableFileError(
            _("is not a folder: --cleanup looks in an output folder."),
            fix=_("Give the --out folder of the saves."),
            path=folder,
        )
    leftovers = find_leftovers(folder)
    for leftover in leftovers:
        where = leftover.path.relative_to(folder)
        if leftover.running or not remove_leftover(leftover):
            print(_("left alone (a save is running in it): {path}").format(path=where))
            continue
        size = leftover.size_bytes / 2**20
        print(
            _("removed ({kind}, {size:.1f} MiB): {path}").format(
                kind=leftover.kind, size=size, path=where
            )
        )
    if not leftovers:
        print(_("no temporary folder of a save under {folder}").format(folder=folder))
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    """Handler of ``fairly verify``."""
    from napari_fairly.core.errors import UnreadableFileError
    from napari_fairly.core.export import verify_dataset

    folder = Path(args.dir)
    if args.cleanup:
        return run_cleanup(folder)
    name = folder.name
    if not folder.is_dir() or not (
        (folder / f"{name}.sha256").is_file() or (folder / f"{name}.json").is_file()
    ):
        what = "is not a folder" if not folder.is_dir() else "holds no dataset"
        raise UnreadableFileError(
            f"{what}: a saved dataset is a folder <out>/<name> with <name>.json and "
            "<name>.sha256.",
            fix="Give the dataset folder that fairly save printed.",
            path=folder,
        )
    report = verify_dataset(folder)
    if report.ok:
        print(report.summary())
        return EXIT_OK
    print(f"{args.dir}: verification FAILED", file=sys.stderr)
    for problem in report.problems:
        print(f"  - {problem}", file=sys.stderr)
    return EXIT_VERDICT
