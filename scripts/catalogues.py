"""Extract, update and compile the translation catalogues (French and English).

    .venv/bin/python scripts/catalogues.py          # extract, merge into fr, compile
    .venv/bin/python scripts/catalogues.py --check  # exit 1 if a message is missing

Messages are the English texts wrapped in ``_()``, ``N_()`` or ``ngettext()`` in
``src/napari_fairly``. The French catalogue keeps its translations across updates;
a new message arrives untranslated and ``--check`` (and the tests) fail until it is
translated. The compiled ``.mo`` files are what the package ships.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "napari_fairly"
LOCALE = SOURCE / "locale"
DOMAIN = "napari_fairly"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "gettext_in": (2,)}


def extract() -> Catalog:
    """Every message of the source, with where it is used."""
    catalog = Catalog(project="napari-fairly", domain=DOMAIN, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(SOURCE),
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
    ):
        catalog.add(
            message,
            None,
            [(f"src/napari_fairly/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    return catalog


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(language: str) -> Catalog:
    path = po_path(language)
    if not path.is_file():
        return Catalog(locale=language, domain=DOMAIN)
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def save(catalog: Catalog, language: str) -> None:
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=88, sort_output=True, omit_header=False)
    path.write_bytes(buffer.getvalue())
    with path.with_suffix(".mo").open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)


def missing(catalog: Catalog) -> list[str]:
    """Message ids with no translation, or a fuzzy one."""
    out = []
    for message in catalog:
        if not message.id:
            continue
        strings = (
            message.string if isinstance(message.string, tuple) else (message.string,)
        )
        if message.fuzzy or not all(strings):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def update() -> dict[str, list[str]]:
    template = extract()
    result = {}
    for language in ("fr", "en"):
        catalog = load(language)
        catalog.update(template, no_fuzzy_matching=True)
        if language == "en":  # the source texts are English
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        save(catalog, language)
        result[language] = missing(catalog)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only report, write nothing"
    )
    args = parser.parse_args()
    if args.check:
        template = extract()
        catalog = load("fr")
        absent = [m.id for m in template if m.id and m.id not in catalog]
        gaps = sorted({str(i) for i in absent} | set(map(str, missing(catalog))))
    else:
        gaps = update()["fr"]
    for message in gaps:
        print(f"untranslated: {message!r}", file=sys.stderr)
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main())
