"""``fairly form``: fill the FAIR form headlessly from a file, a template and values."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from napari_fairly.commands import (
    EXIT_OK,
    EXIT_VERDICT,
    add_scene_argument,
    exit_code_table,
    scene_index,
)
from napari_fairly.core.corrections import expand_alias, parse_assignments
from napari_fairly.core.errors import FairlyError, OutputError
from napari_fairly.core.form import (
    FIELD_PATHS,
    FairForm,
    form_from_csv,
    form_from_json,
    form_issues,
    form_to_csv,
    form_to_json,
    prefill_form,
    set_fields,
)
from napari_fairly.core.i18n import _
from napari_fairly.core.reading import open_acquisition
from napari_fairly.core.settings import find_template, load_profile, load_template


def register(subparsers: Any) -> None:
    """Add ``fairly form`` to the ``fairly`` parser."""
    parser = subparsers.add_parser(
        "form",
        help=_("fill the FAIR form from an acquisition, a template and --set values"),
        description=_(
            "Prefill the FAIR form from the acquisition's metadata, the facility "
            "template (--template, else FAIRLY_TEMPLATE, else <config>/template.yaml) "
            "and the operator's last entries, apply --set values, write it, and exit 1 "
            "listing the required fields still missing or invalid. Acquisition values "
            "(image_acquisition.pixel_size_z_um, image_acquisition.objective_na, "
            "image_acquisition.channels.N.name…, or the short names of fairly qc: "
            "na, pz, em.N…) are corrections: the save uses them."
        ),
        epilog=_("Fields:") + " " + ", ".join(FIELD_PATHS) + "\n\n" + exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("acquisition", type=Path, help=_("raw file (czi, nd2, lif, …)"))
    add_scene_argument(parser, _("the scene the form is for (default: the first)"))
    parser.add_argument("--template", type=Path, default=None, help=_("facility YAML"))
    parser.add_argument(
        "--operator", default=None, help=_("prefill from this operator's last entries")
    )
    parser.add_argument(
        "--set",
        dest="values",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help=_("a form value, e.g. naming.project=TNT (repeatable)"),
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help=_(
            "form file to write: .json, or .csv (field,value,source); - for stdout. "
            "An existing file is replaced only if it is a form made for this "
            "acquisition."
        ),
    )
    parser.set_defaults(func=handle_form)


def _typed(pairs: list[str], channels: int) -> dict[str, str]:
    """--set values by dotted name; the short correction names are translated."""
    typed: dict[str, str] = {}
    for field, value in parse_assignments(pairs):
        names = None if field in FIELD_PATHS else expand_alias(field, channels)
        for name in names or [field]:
            typed[name] = value
    return typed


def _own_form(out: Path, metadata: Any) -> bool:
    """True when ``out`` is a form this command wrote for the same acquisition."""
    from napari_fairly.core.form import form_file_text, form_source_problem

    try:
        text = form_file_text(out)  # a regular file of a form's size, never a FIFO
        old = (
            form_from_csv(text)
            if out.suffix.lower() == ".csv"
            else form_from_json(text)
        )
    except (FairlyError, OSError, UnicodeDecodeError):
        return False
    return bool(old.image_data.source_file) and (
        form_source_problem(old, metadata) is None
    )


def _write_atomically(out: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``out``, then rename it into place.

    Whatever stops the write (a full disk, text that cannot be encoded), the
    temporary file goes and ``out`` is left as it was: never a file half written.
    """
    data = text.encode("utf-8")  # before anything is created
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{out.name}.", suffix=".partial", dir=out.parent or Path(".")
        )
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, out)
        temporary = None
    except OSError as err:
        raise OutputError(
            f"cannot write the form ({err.strerror or err}).",
            fix="Choose a writable --out folder.",
            path=out,
        ) from err
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _write(out: Path, form: FairForm, metadata: Any) -> None:
    text = form_to_csv(form) if out.suffix.lower() == ".csv" else form_to_json(form)
    if str(out) == "-":
        sys.stdout.write(text)
        return
    if out.is_dir():
        raise OutputError(
            "--out is a folder; give a file name such as form.json.",
            fix="Add a file name to the path.",
            path=out,
        )
    if out.exists() and not out.is_file():
        raise OutputError(
            _("--out exists and is not a file (a pipe or a device); nothing written."),
            fix=_("Choose another --out path."),
            path=out,
        )
    if out.exists() and not _own_form(out, metadata):
        raise OutputError(
            "the output file exists and is not a form made for this acquisition; "
            "nothing was overwritten.",
            fix="Choose another --out path or delete the old file.",
            path=out,
        )
    _write_atomically(out, text)
    print(f"form written to {out}", file=sys.stderr)
    from napari_fairly.commands.inspect import pixels_not_read

    print(pixels_not_read(), file=sys.stderr)


def _with_identity(form: FairForm, acquisition: Any) -> FairForm:
    """The form with the source's sha256: a save refuses it for another file."""
    from napari_fairly.core.export.safety import FileFingerprint

    sha = FileFingerprint.of(acquisition.path).sha256
    return set_fields(form, {"image_data.sha256": sha}, source="file")


def handle_form(args: argparse.Namespace) -> int:
    """Prefill, write, and report what is still missing (exit 1) or not (exit 0)."""
    from napari_fairly.core.session import Session

    template = load_template(args.template) if args.template else find_template()
    profile = load_profile(args.operator) if args.operator else None
    acquisition = open_acquisition(args.acquisition, scene_index(args.scene))
    try:
        typed = _typed(args.values, len(acquisition.metadata.channels))
        if args.operator and "operator" not in typed:
            typed["operator"] = args.operator
        form = prefill_form(acquisition.metadata, template, profile, typed)
        form = _with_identity(form, acquisition)
        _write(args.out, form, acquisition.metadata)
        problems = Session(acquisition, form, template=template).form_problems()
    finally:
        acquisition.close()
    for issue in form_issues(form):
        if issue.severity == "warning":
            print(f"  warning [{issue.field}] {issue.message}", file=sys.stderr)
    if problems:
        print(
            "form incomplete; fix these fields (with --set FIELD=VALUE):",
            file=sys.stderr,
        )
        for field, message in problems:
            print(f"  error [{field}] {message}", file=sys.stderr)
        return EXIT_VERDICT
    print(f"form complete: {form.name()}", file=sys.stderr)
    return EXIT_OK
