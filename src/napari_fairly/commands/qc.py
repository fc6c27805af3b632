"""``fairly qc``: Nyquist sampling, SNR, saturation and metadata consistency."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from napari_fairly.commands import (
    EXIT_OK,
    EXIT_QC_FAILED,
    add_scene_argument,
    exit_code_table,
    scene_index,
)
from napari_fairly.core.i18n import N_, _

SEVERITY_MARK = {
    "ok": N_("OK"),
    "info": N_("info"),
    "not_checked": N_("n/c"),
    "warning": N_("WARN"),
    "error": N_("FAIL"),
}


def register(subparsers: Any) -> None:
    """Add the ``qc`` subcommand."""
    parser = subparsers.add_parser(
        "qc",
        help=_(
            "quality checks: Nyquist sampling, SNR, saturation, metadata consistency"
        ),
        description=_(
            "Check one scene of a raw file: sampling against Nyquist, signal-to-noise, "
            "saturation and zero clipping, and metadata consistency. Exit 0 when every "
            "check passes or warns, 3 when one fails, 2 on bad input."
        ),
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "path", type=Path, help=_("raw acquisition file or OME-Zarr folder")
    )
    add_scene_argument(parser, _("the scene to check (default: the first)"))
    parser.add_argument(
        "--form",
        type=Path,
        default=None,
        help=_("a FAIR form JSON whose corrections (pixel sizes, NA…) the checks use"),
    )
    parser.add_argument(
        "--json", action="store_true", help=_("print the report as JSON")
    )
    parser.add_argument(
        "--csv",
        type=Path,
        default=None,
        metavar="OUT",
        help=_("write the tidy table (one row per check x channel x plane) to OUT"),
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=_(
            "correct an acquisition value or set a QC parameter, e.g. na=1.4, "
            "ri=1.515, em.1=520 (channel 1), modality=confocal, pz=0.3, pinhole_au=1, "
            "image_acquisition.pixel_size_x_um=0.1, gain=2.0 (e-/ADU), offset=100"
        ),
    )
    parser.add_argument(
        "--lang",
        choices=("fr", "en"),
        default=None,
        help=_(
            "language of the messages and advice (default: FAIRLY_LANG, else the "
            "system's language)"
        ),
    )
    parser.add_argument(
        "--planes", action="store_true", help=_("also print the per-plane rows")
    )
    parser.set_defaults(func=run_qc_command)


def format_table(report: Any, planes: bool = False) -> str:
    """The report as an aligned text table, one line per check.

    Values and limits in one unit per row, verdicts in plain words (the JSON and
    CSV keep the codes).
    """
    from napari_fairly.core.words import (
        check_words,
        qc_limit_words,
        qc_value_words,
        verdict_words,
    )

    rows = report.rows if planes else report.summary_rows()
    header = (
        "",
        _("check"),
        _("channel"),
        "z",
        "t",
        _("value"),
        _("limit"),
        _("verdict"),
        _("message"),
    )
    lines = [header]
    for r in rows:
        channel = (
            ""
            if r.channel is None
            else f"{r.channel}" + (f" {r.channel_name}" if r.channel_name else "")
        )
        lines.append(
            (
                _(SEVERITY_MARK[r.severity.value]),
                check_words(r.check, short=True),
                channel,
                "" if r.z is None else str(r.z),
                "" if r.t is None else str(r.t),
                qc_value_words(r),
                qc_limit_words(r) or "—",
                verdict_words(r.check, r.verdict, short=True),
                r.message + (f" → {r.advice}" if r.advice else ""),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    out = []
    for line in lines:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])]
        out.append("  ".join([*cells, line[-1]]).rstrip())
    return "\n".join(out)


def open_session(
    path: Path,
    scene: Any,
    form_path: Path | None,
    settings: list[str],
    lang: str | None = None,
) -> Any:
    """A Session for ``path`` with a form file's and ``--set`` corrections applied.

    Shared by ``fairly qc`` and ``fairly save``: the same names, the same checks.
    """
    from napari_fairly.core.corrections import parse_settings
    from napari_fairly.core.reading import open_acquisition
    from napari_fairly.core.session import Session
    from napari_fairly.core.settings import find_template

    form = read_form_file(form_path) if form_path is not None else None
    acq = open_acquisition(path, scene_index(scene))
    try:
        corrections, parameters = parse_settings(settings, len(acq.metadata.channels))
        session = Session(
            acq,
            form,
            template=find_template(),
            parameters=parameters,
            language=lang,
        )
        if corrections:
            session.set_fields(corrections)
    except Exception:
        acq.close()
        raise
    return session


def read_form_file(path: Path) -> Any:
    """The form in ``path`` (JSON or CSV); errors name the file.

    A file that is not a form is bad input (FormFileError, exit 2); a form whose
    values do not fit their fields is a verdict naming them (FormNotReadyError, 1).
    """
    from napari_fairly.core.errors import (
        FormFileError,
        FormNotReadyError,
        InvalidFormValueError,
    )
    from napari_fairly.core.form import load_form_file, text_issues

    try:
        form = load_form_file(path)
        hostile = text_issues(form)
        if hostile:  # whatever the command, such a form is not used
            raise FormNotReadyError(
                _("the form holds text no field may hold."),
                problems=[(issue.field, issue.message) for issue in hostile],
                fix=_(
                    "Correct it (fairly form FILE --set FIELD=VALUE, or the FAIR "
                    "form panel)."
                ),
            )
        return form
    except FormNotReadyError as err:
        raise FormNotReadyError(
            err.problem, problems=err.problems, fix=err.fix, path=path
        ) from None
    except (FormFileError, InvalidFormValueError) as err:
        raise FormFileError(err.problem, fix=err.fix, path=path) from None


def run_qc_command(args: argparse.Namespace) -> int:
    """Open the file, run every check, print the table (or JSON), write the CSV.

    ``--lang`` is the language of every text the command prints and of the report's
    messages (the verdicts are codes in any language).
    """
    from napari_fairly.core.i18n import texts_in

    with texts_in(args.lang):
        return _run_qc(args)


def _run_qc(args: argparse.Namespace) -> int:
    from napari_fairly.core.progress import Progress, drive
    from napari_fairly.core.words import severity_words

    session = open_session(args.path, args.scene, args.form, args.overrides, args.lang)
    acq = session.acquisition
    interactive = sys.stderr.isatty()

    def on_progress(p: Progress) -> None:
        if interactive and p.total:
            print(
                f"\r{p.step}: {p.done}/{p.total}", end="", file=sys.stderr, flush=True
            )

    try:
        report = drive(session.run_qc_steps(), on_progress)
    finally:
        session.close()
    if interactive:
        print(file=sys.stderr)
    if args.csv is not None:
        _write_csv(report, args.csv)
    if args.json:
        print(report.to_json())
    else:
        name = acq.path.name + (
            " "
            + _("[scene {number}: {name}]").format(
                number=acq.scene_index + 1, name=acq.scene_name
            )
            if acq.metadata.scene_count > 1
            else ""
        )
        worst = _("{name}: worst = {severity}").format(
            name=name, severity=severity_words(report.worst_severity.value)
        )
        print(worst + (_("; QC FAILED") if report.failed else ""))
        print(format_table(report, planes=args.planes))
    return EXIT_QC_FAILED if report.failed else EXIT_OK


def _write_csv(report: Any, out: Path) -> None:
    from napari_fairly.core.errors import OutputError

    if out.exists():
        raise OutputError(
            _("{path} already exists; it is never overwritten.").format(path=out),
            fix=_("Choose another --csv path."),
            path=out,
        )
    if not out.parent.is_dir():
        raise OutputError(
            _("folder {path} does not exist.").format(path=out.parent),
            fix=_("Create it first."),
        )
    from pandas.api.types import is_numeric_dtype

    from napari_fairly.core.csvcell import safe_cell

    frame = report.to_dataframe()
    for column in frame.columns:  # channel names and messages: never a formula
        if not is_numeric_dtype(frame[column]):
            frame[column] = frame[column].map(
                lambda v: safe_cell(v) if isinstance(v, str) else v
            )
    try:
        with open(out, "x", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index=False, lineterminator="\n")
    except OSError as err:
        raise OutputError(
            _("cannot write {path}: {why}.").format(path=out, why=err.strerror),
            fix=_("Choose a writable folder."),
        ) from err
