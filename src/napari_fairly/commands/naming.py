"""``fairly name``: build a dataset name from its components, or check one."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from napari_fairly.core.errors import InvalidFormValueError
from napari_fairly.core.i18n import _
from napari_fairly.core.naming import (
    NameIssue,
    NameParts,
    build_name,
    check_component,
    default_lang,
    next_free_version,
    transliterate,
    validate_name,
)

EXIT_OK = 0
EXIT_VERDICT = 1

_BUILD_ARGS = ("project", "sample", "creator", "condition")


def register(subparsers: Any) -> None:
    """Add ``fairly name`` to the ``fairly`` parser."""
    parser = subparsers.add_parser(
        "name",
        help=_("build a dataset name from its components, or check a name"),
        description=_(
            "Print the name date_project_sample_creator_condition_datatype_version, "
            "or with --check say whether NAME follows the convention (exit 0 valid, "
            "1 invalid, with the reasons and suggested fixes)."
        ),
    )
    parser.add_argument("--check", metavar="NAME", help=_("check this file name"))
    parser.add_argument("--project", help=_("project acronym, upper case (TNT)"))
    parser.add_argument("--sample", help=_("sample or experiment (MicroAlgue)"))
    parser.add_argument("--creator", help=_("initials + family name (ALebon)"))
    parser.add_argument("--condition", help=_("experimental condition (Controle)"))
    parser.add_argument(
        "--type", dest="datatype", default="RAW", help=_("RAW, PROC, …")
    )
    parser.add_argument(
        "--date", help=_("acquisition date YYYY-MM-DD (default: today)"), default=None
    )
    parser.add_argument("--version", dest="version", default="v01", help=_("v01, v02…"))
    parser.add_argument("--role", default=None, help=_("measurements, objects, …"))
    parser.add_argument(
        "--ext", default="", help=_("extension, e.g. .csv or .ome.zarr")
    )
    parser.add_argument(
        "--dest",
        type=Path,
        default=None,
        help=_("destination folder: bump the version if the name is taken there"),
    )
    parser.add_argument("--lang", choices=("fr", "en"), default=None)
    parser.set_defaults(func=handle_name)


def _print_issues(issues: list[NameIssue]) -> None:
    for issue in issues:
        print(f"  {issue.severity}: {issue.message}", file=sys.stderr)


def handle_name(args: argparse.Namespace) -> int:
    """Build or check a name; exit 1 when it breaks the convention."""
    lang = args.lang or default_lang()
    if args.check is not None:
        return _check(args.check, args.dest, lang)
    missing = [f"--{a}" for a in _BUILD_ARGS if not getattr(args, a)]
    if missing:
        raise InvalidFormValueError(
            f"missing {', '.join(missing)}.",
            fix="Give every component, or use --check NAME to check a name.",
        )
    date_text = args.date or dt.date.today().isoformat()
    version_text = args.version if args.version.startswith("v") else f"v{args.version}"
    values = {
        "date": date_text,
        "project": args.project,
        "sample": args.sample,
        "creator": args.creator,
        "condition": args.condition,
        "datatype": args.datatype,
        "version": version_text,
    }
    issues = [
        i
        for c, v in values.items()
        for i in check_component(c, v, lang=lang)
        if i.severity == "error"
    ]
    if issues:
        print("invalid components:", file=sys.stderr)
        _print_issues(issues)
        fixed = {c: transliterate(v, c) for c, v in values.items()}
        if not any(e for c, v in fixed.items() for e in check_component(c, v)):
            print(f"suggested: {_join(fixed)}", file=sys.stderr)
        return EXIT_VERDICT
    parts = NameParts(
        date=dt.date.fromisoformat(date_text),
        project=args.project,
        sample=args.sample,
        creator=args.creator,
        condition=args.condition,
        datatype=args.datatype,
        version=int(version_text[1:]),
        version_width=len(version_text) - 1,
        role=args.role,
        ext=args.ext,
    )
    name = build_name(parts)
    if args.dest is not None:
        name = next_free_version(name, args.dest)
    warnings = validate_name(name, dest_dir=args.dest, lang=lang)
    _print_issues(warnings)
    print(name)
    return EXIT_OK


def _join(values: dict[str, str]) -> str:
    return "_".join(values.values())


def _check(name: str, dest: Path | None, lang: str) -> int:
    from napari_fairly.core.errors import shown_path

    issues = validate_name(name, dest_dir=dest, lang=lang)  # type: ignore[arg-type]
    errors = [i for i in issues if i.severity == "error"]
    shown = shown_path(name)
    if errors:  # a pasted page of text is shown by its start and end
        print(f"invalid: {shown}")
        for issue in issues:
            print(
                f"  {issue.severity} [{issue.component}/{issue.code}] {issue.message}"
            )
        return EXIT_VERDICT
    print(f"valid: {name}")
    for issue in issues:
        print(f"  {issue.severity} [{issue.component}/{issue.code}] {issue.message}")
    return EXIT_OK
