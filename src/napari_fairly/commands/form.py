"""``fairly form``: fill the FAIR form headlessly from a file, a template and values."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from napari_fairly.core.errors import InvalidFormValueError, OutputError
from napari_fairly.core.form import (
    FIELD_PATHS,
    form_issues,
    form_to_csv,
    form_to_json,
    prefill_form,
)
from napari_fairly.core.reading import open_acquisition
from napari_fairly.core.settings import find_template, load_profile, load_template

EXIT_OK = 0
EXIT_VERDICT = 1


def register(subparsers: Any) -> None:
    """Add ``fairly form`` to the ``fairly`` parser."""
    parser = subparsers.add_parser(
        "form",
        help="fill the FAIR form from an acquisition, a template and --set values",
        description=(
            "Prefill the FAIR form from the acquisition's metadata, the facility "
            "template (--template, else FAIRLY_TEMPLATE, else <config>/template.yaml) "
            "and the operator's last entries, apply --set values, write it, and exit 1 "
            "listing the required fields still missing or invalid."
        ),
        epilog="Fields: " + ", ".join(FIELD_PATHS),
    )
    parser.add_argument("acquisition", type=Path, help="raw file (czi, nd2, lif, …)")
    parser.add_argument("--scene", type=int, default=None, help="scene index (0-based)")
    parser.add_argument("--template", type=Path, default=None, help="facility YAML")
    parser.add_argument(
        "--operator", default=None, help="prefill from this operator's last entries"
    )
    parser.add_argument(
        "--set",
        dest="values",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a form value, e.g. naming.project=TNT (repeatable)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="form file to write: .json, or .csv (field,value,source); - for stdout",
    )
    parser.set_defaults(func=handle_form)


def _typed(pairs: list[str]) -> dict[str, str]:
    typed: dict[str, str] = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise InvalidFormValueError(
                f"--set '{pair}' is not FIELD=VALUE.",
                fix="Write it as --set naming.project=TNT.",
            )
        typed[field.strip()] = value
    return typed


def handle_form(args: argparse.Namespace) -> int:
    """Prefill, write, and report what is still missing (exit 1) or not (exit 0)."""
    template = load_template(args.template) if args.template else find_template()
    profile = load_profile(args.operator) if args.operator else None
    typed = _typed(args.values)
    if args.operator and "operator" not in typed:
        typed["operator"] = args.operator
    acquisition = open_acquisition(args.acquisition, args.scene)
    form = prefill_form(acquisition.metadata, template, profile, typed)
    text = (
        form_to_csv(form) if args.out.suffix.lower() == ".csv" else form_to_json(form)
    )
    if str(args.out) == "-":
        sys.stdout.write(text)
    else:
        if args.out.exists():
            raise OutputError(
                "the output form file already exists; nothing was overwritten.",
                fix="Choose another --out path or delete the old file.",
                path=args.out,
            )
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as err:
            raise OutputError(
                f"cannot write the form ({err.strerror}).",
                fix="Choose a writable --out folder.",
                path=args.out,
            ) from err
        print(f"form written to {args.out}", file=sys.stderr)
    issues = form_issues(form)
    errors = [i for i in issues if i.severity == "error"]
    for issue in issues:
        if issue.severity == "warning":
            print(f"  warning [{issue.field}] {issue.message}", file=sys.stderr)
    if errors:
        print(
            "form incomplete; fix these fields (with --set FIELD=VALUE):",
            file=sys.stderr,
        )
        for issue in errors:
            fix = f" {issue.fix}" if issue.fix else ""
            print(f"  error [{issue.field}] {issue.message}{fix}", file=sys.stderr)
        return EXIT_VERDICT
    print(f"form complete: {form.name()}", file=sys.stderr)
    return EXIT_OK
