"""The manifest: one row per acquisition file, columns are form values.

A facility often knows per file what the file cannot say (the condition, the sample,
the date of a TIFF export). The manifest is a CSV table (comma, semicolon or tab
separated, as spreadsheets write it) or a JSON list of objects; the column ``file``
names the acquisition (a name, or a path relative to the manifest), an optional
``scene`` column (counted from 1) restricts a row to one scene, every other column is
a form field (``naming.condition`` or ``condition``, ``study.title``…), a correction
(``na``, ``pz``, ``em.2``…) or a QC parameter (``gain``). A row's values override
the template's and the file name's for that file.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.i18n import _


def absolute_path(path: Path) -> Path:
    """``path`` resolved; made absolute only when it cannot be (a symlink loop).

    ``Path.resolve`` raises on a loop: a bad entry of a folder must be an item that
    fails, not a crash of the whole batch.
    """
    try:
        return path.expanduser().resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path.expanduser()))


FILE_COLUMN = "file"
SCENE_COLUMN = "scene"
MANIFEST_SUFFIXES = (".csv", ".tsv", ".txt", ".json")


@dataclass(frozen=True)
class ManifestRow:
    """One row: which file (and scene, from 0), its values, its line."""

    line: int
    file: str
    scene: int | None
    values: Mapping[str, str]


@dataclass
class Manifest:
    """The rows of a manifest file and what is wrong with them (listed together)."""

    path: Path
    rows: list[ManifestRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def origin(self, row: ManifestRow) -> str:
        """Where a value of ``row`` came from, as the form's sources record it."""
        return f"manifest {self.path.name} line {row.line}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    return str(value).strip()


def _records_from_json(text: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except ValueError as err:
        raise UnreadableFileError(
            _("the manifest is not valid JSON ({error}).").format(error=str(err)[:120]),
            fix=_("Write a list of objects, one per file, each with a 'file' key."),
            path=path,
        ) from None
    if isinstance(data, dict):  # {"a.czi": {...}, ...}
        data = [
            {FILE_COLUMN: name, **(values if isinstance(values, dict) else {})}
            for name, values in data.items()
        ]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise UnreadableFileError(
            _("the manifest must be a list of objects, one per file."),
            fix=_("Write a list of objects, one per file, each with a 'file' key."),
            path=path,
        )
    return [(number, record) for number, record in enumerate(data, start=1)]


def _records_from_csv(text: str) -> list[tuple[int, dict[str, Any]]]:
    head = text.splitlines()[0] if text.strip() else ""
    delimiter = max(",;\t", key=head.count) if head else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return [(reader.line_num, dict(record)) for record in reader]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # spreadsheets add a BOM
    except (OSError, UnicodeDecodeError) as err:
        raise UnreadableFileError(
            _("the manifest cannot be read ({error}).").format(
                error=getattr(err, "strerror", None) or err
            ),
            fix=_("Save it as UTF-8 CSV (or JSON) and check the path."),
            path=path,
        ) from err


def _scene_of(text: str) -> int | str | None:
    """The scene from 0, None when empty, or the problem."""
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        return _("scene '{text}' is not a number from 1").format(text=text[:20])
    return int(text) - 1


def _row(
    manifest: Manifest, line: int, record: Mapping[str, Any]
) -> ManifestRow | None:
    """The row of ``record``, or None after noting its problem."""
    cells = {str(k).strip(): _cell(v) for k, v in record.items() if k is not None}
    name = cells.pop(FILE_COLUMN, "")
    scene = _scene_of(cells.pop(SCENE_COLUMN, ""))
    where = _("line {line}").format(line=line)
    if not name:
        manifest.problems.append(
            _("{where}: the 'file' cell is empty.").format(where=where)
        )
        return None
    if isinstance(scene, str):
        manifest.problems.append(f"{where}: {scene}.")
        return None
    return ManifestRow(line, name, scene, cells)


def _check_columns(manifest: Manifest, columns: Iterable[str]) -> None:
    from napari_fairly.core.batch.items import known_key

    seen = [c for c in columns if c not in (FILE_COLUMN, SCENE_COLUMN)]
    unknown = sorted({c for c in seen if c and not known_key(c)})
    if unknown:
        manifest.problems.append(
            _(
                "unknown column(s): {columns}. Columns are form fields "
                "(naming.condition or condition, study.title…), corrections (na, "
                "pz, em.2…) or QC parameters (gain…)."
            ).format(columns=", ".join(unknown))
        )


def read_manifest(path: Path | str) -> Manifest:
    """Read a manifest (CSV or JSON); its problems are listed, not raised.

    Raises
    ------
    UnreadableFileError
        When the file cannot be read at all, or is JSON of another shape.
    """
    path = Path(path)
    text = _read_text(path)
    manifest = Manifest(path)
    if path.suffix.lower() == ".json":
        records = _records_from_json(text, path)
    else:
        records = _records_from_csv(text)
    columns: list[str] = []
    for _line, record in records:
        columns += [str(k).strip() for k in record if k is not None]
    if records and FILE_COLUMN not in columns:
        manifest.problems.append(
            _("the manifest has no 'file' column naming each acquisition file.")
        )
        return manifest
    _check_columns(manifest, dict.fromkeys(columns))
    seen: dict[tuple[str, int | None], int] = {}
    for line, record in records:
        row = _row(manifest, line, record)
        if row is None:
            continue
        first = seen.setdefault((row.file, row.scene), line)
        if first != line:
            manifest.problems.append(
                _("line {line}: '{file}' is already on line {first}.").format(
                    line=line, file=row.file, first=first
                )
            )
            continue
        manifest.rows.append(row)
    return manifest


def match_rows(
    manifest: Manifest, sources: Sequence[Path]
) -> tuple[dict[Path, list[ManifestRow]], list[str]]:
    """The rows of each source file, and the rows that name no source (problems).

    A row's ``file`` is a path relative to the manifest's folder, or a file name
    that only one source has. A watched folder's manifest names files still to
    come: there, a row without its file is no problem.
    """
    by_name: dict[str, list[Path]] = {}
    for source in sources:
        by_name.setdefault(source.name, []).append(source)
    resolved = {absolute_path(source): source for source in sources}
    out: dict[Path, list[ManifestRow]] = {}
    unmatched: list[str] = []
    for row in manifest.rows:
        target = resolved.get(absolute_path(manifest.path.parent / row.file))
        named = by_name.get(Path(row.file.replace("\\", "/")).name, [])
        if target is None and len(named) == 1:
            target = named[0]
        if target is None:
            what = (
                _("several files are named '{file}': give its path").format(
                    file=row.file
                )
                if len(named) > 1
                else _("'{file}' is not among the files of the batch").format(
                    file=row.file
                )
            )
            unmatched.append(_("line {line}: {what}.").format(line=row.line, what=what))
            continue
        out.setdefault(target, []).append(row)
    return out, unmatched
