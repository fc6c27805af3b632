"""``fairly report DIR`` and ``fairly methods DIR``: a saved dataset, explained.

``report`` writes ``<name>_report.html`` again when it is missing (never over an
existing file), from the dataset alone, and says whether it matches the sha256 the
save recorded. ``methods`` prints the Materials-and-methods paragraph.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from napari_fairly.commands import EXIT_OK, EXIT_VERDICT, exit_code_table
from napari_fairly.core.i18n import LANGUAGES, _

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: Subparsers) -> None:
    """Add the ``report`` and ``methods`` subcommands."""
    report = subparsers.add_parser(
        "report",
        help=_("write a saved dataset's HTML report again when it is missing"),
        description=_(
            "Write <name>_report.html in a saved dataset from its sidecar and "
            "OME-Zarr, when it is missing (an existing file is never replaced). It "
            "is made in the language it was saved in, so its sha256 matches the "
            "one recorded in <name>.sha256 (exit 1 when it does not)."
        ),
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("dir", type=Path, help=_("dataset folder <out>/<name>"))
    report.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None,
        help=_("language of the report (default: the one it was saved in)"),
    )
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        help=_("write the report to this file instead (never over an existing one)"),
    )
    report.set_defaults(func=run_report)

    methods = subparsers.add_parser(
        "methods",
        help=_("print the Materials-and-methods paragraph of a saved dataset"),
        description=_(
            "Print a methods paragraph written from the dataset's metadata, form "
            "and instrument hardware; values nobody recorded show as [gaps]."
        ),
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    methods.add_argument("dir", type=Path, help=_("dataset folder <out>/<name>"))
    methods.add_argument(
        "--lang",
        choices=(*LANGUAGES, "all"),
        default=None,
        help=_("language (default: the current one; all: every language)"),
    )
    methods.set_defaults(func=run_methods)


def _write_new(path: Path, text: str) -> None:
    """A new file; refused when one is there (the dataset is never overwritten)."""
    from napari_fairly.core.errors import OutputError
    from napari_fairly.core.export.safety import write_new_file

    try:
        write_new_file(path, text.encode("utf-8"), fsync=True)
    except FileExistsError as err:
        raise OutputError(
            _("{file} exists and is never replaced.").format(file=path.name),
            fix=_("Give another file with --out, or remove it first."),
            path=path,
        ) from err
    except OSError as err:
        raise OutputError(
            _("the report cannot be written ({error}).").format(
                error=err.strerror or err
            ),
            fix=_("Check that the folder exists and is writable, or use --out."),
            path=path,
        ) from err


def run_report(args: argparse.Namespace) -> int:
    """Handler of ``fairly report``."""
    from napari_fairly.core.export.plan import report_name
    from napari_fairly.core.report import regenerate

    folder = Path(args.dir)
    target = args.out or folder / report_name(folder.name)
    if args.out is None and target.exists():
        print(_("{file} is already there; nothing written.").format(file=target.name))
        return EXIT_OK
    made = regenerate(folder, args.lang)
    _write_new(target, made.text)
    print(_("wrote {file} ({language})").format(file=target, language=made.language))
    if made.recorded_sha256 is None:
        print(
            _(
                "note: {checksums} lists no report (saved before reports): "
                "fairly verify will report it as an extra file."
            ).format(checksums=f"{folder.name}.sha256"),
            file=sys.stderr,
        )
        return EXIT_OK
    if made.matches:
        print(_("it matches the sha256 recorded at save."))
        return EXIT_OK
    if args.out is not None:
        print(_("it differs from the report recorded at save."))
        return EXIT_OK  # a copy asked for, in another language or place
    print(
        _(
            "it differs from the report recorded at save (another language, another "
            "version of napari-fairly, or the dataset changed: run fairly verify)."
        ),
        file=sys.stderr,
    )
    return EXIT_VERDICT


def run_methods(args: argparse.Namespace) -> int:
    """Handler of ``fairly methods``."""
    from napari_fairly.core.i18n import current_language
    from napari_fairly.core.methods import methods_text
    from napari_fairly.core.report import load_dataset

    facts = load_dataset(args.dir)
    languages = LANGUAGES if args.lang == "all" else (args.lang or current_language(),)
    paragraphs = [
        methods_text(
            facts.metadata,
            facts.form,
            facts.sidecar.software,
            language,
            facts.image.ngff_version,
        )
        for language in languages
    ]
    print("\n\n".join(paragraphs))
    return EXIT_OK
