"""``fairly save`` and ``fairly verify``: write a FAIR dataset, check one later."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_VERDICT = 1
EXIT_QC_FAILED = 3


def register(subparsers: Any) -> None:
    """Add the ``save`` and ``verify`` subcommands."""
    save = subparsers.add_parser(
        "save",
        help="save an acquisition as a named OME-Zarr dataset with its documents",
        description=(
            "Write <out>/<name>/ (OME-Zarr, sidecar JSON, measurements CSV, DataCite, "
            "RO-Crate, checksums) from a raw file and a FAIR form. Never overwrites."
        ),
    )
    save.add_argument("path", type=Path, help="raw acquisition file")
    save.add_argument(
        "--form", type=Path, required=True, help="FAIR form JSON (fairly form)"
    )
    save.add_argument("--out", type=Path, required=True, help="destination folder")
    scenes = save.add_mutually_exclusive_group()
    scenes.add_argument(
        "--scene", type=int, default=None, help="save only this scene (0-based)"
    )
    scenes.add_argument(
        "--all-scenes", action="store_true", help="one dataset per scene (default)"
    )
    save.add_argument(
        "--ngff",
        choices=("0.4", "0.5"),
        default=None,
        help="OME-NGFF version: 0.4 (Zarr v2, default) or 0.5 (Zarr v3)",
    )
    save.add_argument(
        "--labels", type=Path, default=None, help="label image (TIFF or .npy)"
    )
    save.add_argument(
        "--copy-raw",
        action="store_true",
        help="also copy the raw file to raw/<name>.<ext>",
    )
    save.add_argument(
        "--on-exists",
        choices=("bump", "refuse"),
        default="bump",
        help="when the name exists: save as the next version (default) or stop",
    )
    save.add_argument(
        "--verify-all-planes",
        action="store_true",
        help="hash every level-0 plane while reading and compare them all before "
        "publishing (slower; default: a sample spread over T, C and Z)",
    )
    save.set_defaults(func=run_save)

    verify = subparsers.add_parser(
        "verify",
        help="check a saved dataset: checksums, OME-Zarr pixels, documents",
        description="Recompute every checksum, re-read the OME-Zarr; 0 if all hold.",
    )
    verify.add_argument("dir", type=Path, help="dataset folder <out>/<name>")
    verify.set_defaults(func=run_verify)


def _open_scenes(path: Path, scene: int | None) -> tuple[Any, ...]:
    from napari_fairly.core.reading import open_acquisition

    if scene is not None:
        return (open_acquisition(path, scene),)
    first = open_acquisition(path, 0)
    count = first.metadata.scene_count
    return (first, *(open_acquisition(path, i) for i in range(1, count)))


def run_save(args: argparse.Namespace) -> int:
    """Handler of ``fairly save``."""
    from rich.console import Console

    from napari_fairly.core.errors import InvalidFormValueError
    from napari_fairly.core.export import SaveRequest
    from napari_fairly.core.form import form_from_json
    from napari_fairly.core.settings import find_template

    try:
        form_text = args.form.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidFormValueError(
            f"the form cannot be read ({err.strerror}).",
            fix="Give the JSON written by 'fairly form' or the FAIR form widget.",
            path=args.form,
        ) from err
    form = form_from_json(form_text)
    template = find_template()
    ngff = args.ngff
    if ngff is None:
        ngff = template.options.ngff_version if template is not None else "0.4"
    acquisitions = _open_scenes(args.path, args.scene)
    request = SaveRequest(
        acquisitions=acquisitions,
        form=form,
        destination=args.out,
        ngff_version=ngff,
        on_exists=args.on_exists,
        labels=args.labels,
        copy_raw=args.copy_raw,
        template=template,
        verify_all_planes=args.verify_all_planes,
    )
    err_console = Console(file=sys.stderr)
    try:
        result = _run_with_bar(request, err_console)
    finally:
        for acq in acquisitions:  # release the raw file handles the readers keep
            close = getattr(acq, "close", None)
            if close is not None:
                close()
    code = EXIT_OK
    for dataset in result.datasets:
        bumped = (
            f" (requested {dataset.requested_name} exists)" if dataset.bumped else ""
        )
        print(f"saved {dataset.folder}{bumped}")
        report = dataset.qc_report
        if report is not None and getattr(report, "failed", False):
            print(
                f"  quality checks failed for {dataset.name}: see its sidecar",
                file=sys.stderr,
            )
            code = EXIT_QC_FAILED
    return code


def _run_with_bar(request: Any, err_console: Any) -> Any:
    """Drive the save with a rich progress bar on stderr; notes are printed as lines."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from napari_fairly.core.export import save_steps
    from napari_fairly.core.progress import drive

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} planes"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("saving", total=None)

        def on_progress(step: Any) -> None:
            if step.total is None and step.done == 0:  # a note, not progress
                text = (
                    step.step if step.step.startswith("note:") else f"note: {step.step}"
                )
                if "interrupted" in text:
                    text += " (not used, not deleted: remove it once checked)"
                err_console.print(text, highlight=False, soft_wrap=True)
                return
            bar.update(
                task, description=step.step, completed=step.done, total=step.total
            )

        return drive(save_steps(request), on_progress)


def run_verify(args: argparse.Namespace) -> int:
    """Handler of ``fairly verify``."""
    from napari_fairly.core.export import verify_dataset

    report = verify_dataset(args.dir)
    if report.ok:
        print(report.summary())
        return EXIT_OK
    print(f"{args.dir}: verification FAILED", file=sys.stderr)
    for problem in report.problems:
        print(f"  - {problem}", file=sys.stderr)
    return EXIT_VERDICT
