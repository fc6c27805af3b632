"""A batch plan: the scenes to save, their form values and names, checked up front.

The planner finds the acquisition files (files and folders given; folders are walked
for the formats napari-fairly reads), gives each scene its values (the command line's
``--set``, then the naming components parsed from the file name, then the manifest
row), builds each form exactly as the save will, and lists *every* problem at once:
unknown manifest columns, rows for files that are not there, incomplete or invalid
forms, two scenes that would get the same name. Nothing runs while one is left.

A file that cannot be read is not a problem of the plan: it is an item that fails
when it runs, with the reader's message, and is reported with the others.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from napari_fairly.core.batch.items import BatchItem, item_session, known_key
from napari_fairly.core.batch.manifest import (
    Manifest,
    ManifestRow,
    absolute_path,
    match_rows,
    read_manifest,
)
from napari_fairly.core.errors import (
    FairlyError,
    InvalidFormValueError,
    UnreadableFileError,
)
from napari_fairly.core.i18n import _, ngettext
from napari_fairly.core.naming import COMPONENTS, InvalidNameError, parse_name
from napari_fairly.core.progress import Progress, drive

if TYPE_CHECKING:
    from napari_fairly.core.reading import Acquisition
    from napari_fairly.core.settings import FacilityTemplate

COMMAND_LINE = "command line"
MAX_NAMED = 4  # items named after a problem shared by many
FILE_NAME = "file name"


def _plan_message(count: int) -> str:
    return ngettext(
        "the batch plan has %(n)d problem; nothing was run.",
        "the batch plan has %(n)d problems; nothing was run.",
        count,
    ) % {"n": count}


def _listed(message: str, problems: Sequence[str]) -> str:
    return "\n".join([message, *(f"  - {problem}" for problem in problems)])


class BatchPlanError(InvalidFormValueError):
    """The plan has problems: nothing was run. ``problems`` lists every one."""

    def __init__(self, problems: Sequence[str], *, fix: str = "") -> None:
        super().__init__(_plan_message(len(problems)), fix=fix)
        self.problems = list(problems)

    def __str__(self) -> str:
        return _listed(super().__str__(), self.problems)


class BatchSourcesError(UnreadableFileError):
    """The plan has problems, among them a source that is no file or folder.

    Bad input (exit 2) rather than a verdict on the values: ``problems`` still
    lists every problem of the plan.
    """

    def __init__(self, problems: Sequence[str], *, fix: str = "") -> None:
        super().__init__(_plan_message(len(problems)), fix=fix)
        self.problems = list(problems)

    def __str__(self) -> str:
        return _listed(super().__str__(), self.problems)


@dataclass(frozen=True)
class BatchPlan:
    """The items of a batch, where they go, and the problems that stop it."""

    items: tuple[BatchItem, ...]
    destination: Path
    template: FacilityTemplate | None = None
    manifest: Path | None = None
    problems: tuple[str, ...] = ()
    folders: Mapping[str, str] = field(default_factory=dict)  # key → "sub/name"
    bad_sources: tuple[str, ...] = ()  # the problems that are paths (in problems)

    def check(self) -> None:
        """Raise listing every problem, if there is one.

        :class:`BatchSourcesError` when a source is no file or folder (bad input),
        else :class:`BatchPlanError`.
        """
        if self.bad_sources:
            raise BatchSourcesError(
                self.problems,
                fix=_(
                    "Check the files and folders given, then run the batch again "
                    "(--dry-run shows the plan)."
                ),
            )
        if self.problems:
            raise BatchPlanError(
                self.problems,
                fix=_(
                    "Fix the manifest, the template or the --set values, then run "
                    "the batch again (--dry-run shows the plan)."
                ),
            )


# ------------------------------------------------------------------ sources


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "~"))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def walk_folder(folder: Path, skip: Path | None = None) -> list[Path]:
    """Acquisition files and ``.zarr`` folders under ``folder``, in a stable order.

    Hidden entries (``.name``, ``~name``) and anything under ``skip`` (the
    destination) are left out; a ``.zarr`` folder is one acquisition, not walked.
    """
    from napari_fairly.core.reading import is_supported_suffix

    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        keep = []
        for name in sorted(dirs):
            path = here / name
            if _is_hidden(name) or (skip is not None and _inside(path, skip)):
                continue
            if name.lower().endswith(".zarr"):
                found.append(path)
            else:
                keep.append(name)
        dirs[:] = keep
        found += [
            here / name
            for name in sorted(files)
            if not _is_hidden(name) and is_supported_suffix(here / name)
        ]
    return sorted(found)


def find_sources(
    paths: Sequence[Path], destination: Path
) -> tuple[list[Path], list[str]]:
    """The acquisition files of ``paths`` (absolute), and the problems found."""
    problems: list[str] = []
    sources: list[Path] = []
    dest = absolute_path(destination)
    for given in paths:
        path = absolute_path(Path(given))
        if not path.exists():
            problems.append(_("{path}: no such file or folder.").format(path=given))
            continue
        if path.is_dir() and _inside(dest, path):
            problems.append(
                _(
                    "{path}: the output folder is inside it; choose an output "
                    "folder outside the raw data."
                ).format(path=given)
            )
        if path.is_dir() and not path.name.lower().endswith(".zarr"):
            found = walk_folder(path, skip=dest)
            if not found:
                problems.append(
                    _("{path}: no acquisition file in this folder.").format(path=given)
                )
            sources += found
        else:
            sources.append(path)
    unique = list(dict.fromkeys(sources))
    return unique, problems


# ------------------------------------------------------------------ values


def compile_name_pattern(pattern: str | None) -> re.Pattern[str] | None:
    """The ``--name-pattern`` regular expression; its named groups are components.

    Raises
    ------
    InvalidFormValueError
        When it is not a regular expression, or names a group that is not one of
        the naming components.
    """
    if not pattern:
        return None
    try:
        compiled = re.compile(pattern)
    except re.error as err:
        raise InvalidFormValueError(
            _("The name pattern is not a regular expression ({error}).").format(
                error=err
            ),
            fix=_("Write groups as (?P<sample>[^_]+)."),
        ) from None
    unknown = sorted(set(compiled.groupindex) - set(COMPONENTS))
    if unknown or not compiled.groupindex:
        raise InvalidFormValueError(
            _("The name pattern must name its groups after naming components."),
            fix=_("Use groups named {components}.").format(
                components=", ".join(COMPONENTS)
            ),
        )
    return compiled


def name_values(
    path: Path, pattern: re.Pattern[str] | None
) -> tuple[dict[str, str], str | None]:
    """Naming components read from the file name, and the problem, if any.

    With a pattern, its named groups (searched in the file name); without one, a
    file already named by the convention gives its seven components.
    """
    if pattern is not None:
        match = pattern.search(path.name)
        if match is None:
            return {}, _("the file name does not match the name pattern")
        return {k: v for k, v in match.groupdict().items() if v}, None
    stem = path.name.split(".")[0]
    try:
        parts = parse_name(stem)
    except InvalidNameError:
        return {}, None
    values = {c: str(getattr(parts, c)) for c in COMPONENTS if c != "version"}
    values["date"] = parts.date.isoformat()
    values["version"] = parts.version_text
    return values, None


@dataclass
class _Context:
    """What every file of the plan shares."""

    destination: Path
    template: FacilityTemplate | None
    values: Mapping[str, str]
    pattern: re.Pattern[str] | None
    rows: dict[Path, list[ManifestRow]]
    manifest: Manifest | None
    problems: list[str] = field(default_factory=list)
    # one problem of the form, and the items that have it
    form_problems: dict[str, list[str]] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)

    def grouped_form_problems(self) -> list[str]:
        """Each form problem once, with the items that have it."""
        out = []
        for problem, where in self.form_problems.items():
            shown = ", ".join(where[:MAX_NAMED])
            more = len(where) - MAX_NAMED
            if more > 0:
                shown += " " + ngettext("and %(n)d more", "and %(n)d more", more) % {
                    "n": more
                }
            out.append(f"{problem} [{shown}]")
        return out

    def layered(
        self, path: Path, scene: int | None
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The item's values and their origins: --set < file name < manifest."""
        values = dict(self.values)
        origins = dict.fromkeys(self.values, COMMAND_LINE)
        parsed, problem = name_values(path, self.pattern)
        if problem:
            self.problems.append(f"{path.name}: {problem}.")
        values.update(parsed)
        origins.update(dict.fromkeys(parsed, FILE_NAME))
        rows = self.rows.get(path, [])
        for row in [r for r in rows if r.scene is None] + [
            r for r in rows if r.scene is not None and r.scene == scene
        ]:
            # unknown columns are reported once, for the whole manifest
            cells = {k: v for k, v in row.values.items() if v and known_key(k)}
            values.update(cells)
            if self.manifest is not None:
                origins.update(dict.fromkeys(cells, self.manifest.origin(row)))
        return values, origins


def unknown_keys(values: Mapping[str, str]) -> list[str]:
    """A problem for each ``--set`` key that names nothing a batch may set."""
    from napari_fairly.core.batch.items import known_key

    return [
        _("--set {key}: unknown field.").format(key=key[:60])
        for key in values
        if not known_key(key)
    ]


def _where(item: BatchItem) -> str:
    if item.scene is None:
        return item.source.name
    return _("{file} scene {n}").format(file=item.source.name, n=item.scene + 1)


def _without_bad_values(
    acquisition: Acquisition, item: BatchItem, context: _Context
) -> BatchItem:
    """``item`` without the values its form refuses, each noted as a problem.

    So one wrong value does not hide the other problems of the same file.
    """
    good = dict(item.values)
    for key, value in item.values.items():
        try:
            alone = replace(item, values={key: value})
            item_session(acquisition, alone, context.template)
        except InvalidFormValueError as err:
            context.problems.append(f"{_where(item)}: {err}")
            del good[key]
    return replace(item, values=good)


def check_item(item: BatchItem, context: _Context) -> BatchItem:
    """Open the item's scene, build its form as the save will; note its problems."""
    from napari_fairly.core.export.plan import dataset_name, destination_folder
    from napari_fairly.core.reading import open_acquisition

    try:
        acquisition = open_acquisition(item.source, item.scene)
    except FairlyError as err:
        return replace(item, unreadable=str(err))
    try:
        try:
            session = item_session(acquisition, item, context.template)
        except InvalidFormValueError:
            checked = _without_bad_values(acquisition, item, context)
            if len(checked.values) == len(item.values):
                raise  # the template refuses the values together: said as it is
            session = item_session(acquisition, checked, context.template)
        problems = session.form_problems()
        if problems:
            for path, message in problems:
                context.form_problems.setdefault(f"{path}: {message}", []).append(
                    _where(item)
                )
            return item
        parts, name = dataset_name(session.form, session.acquisition)
        folder = destination_folder(
            context.destination, context.template, parts, session.form
        )
    except FairlyError as err:
        context.problems.append(f"{_where(item)}: {err}")
        return item
    finally:
        acquisition.close()
    relative = folder.relative_to(context.destination) / name
    context.folders[item.key] = relative.as_posix()
    return replace(item, name=name)


def _file_items(path: Path, context: _Context) -> list[BatchItem]:
    """One item per scene of ``path``; one failing item when it cannot be listed."""
    from napari_fairly.core.reading import list_scenes

    try:
        scenes = list_scenes(path)
    except FairlyError as err:
        values, origins = context.layered(path, None)
        return [BatchItem(path, None, values, origins, unreadable=str(err))]
    items = []
    for index in range(max(1, len(scenes))):
        values, origins = context.layered(path, index)
        items.append(check_item(BatchItem(path, index, values, origins), context))
    return items


def _duplicate_names(
    items: Sequence[BatchItem], folders: Mapping[str, str]
) -> list[str]:
    """Two items that would be saved under one name (they would become versions)."""
    seen: dict[str, BatchItem] = {}
    problems = []
    for item in items:
        folder = folders.get(item.key)
        if not folder:
            continue
        first = seen.setdefault(folder, item)
        if first is not item:
            problems.append(
                _(
                    "{first} and {second} would both be saved as {name}: give them "
                    "different names (sample or condition) in the manifest."
                ).format(first=_where(first), second=_where(item), name=item.name)
            )
    return problems


def plan_batch_steps(
    sources: Sequence[Path],
    destination: Path,
    *,
    template: FacilityTemplate | None = None,
    manifest: Path | Manifest | None = None,
    name_pattern: str | None = None,
    values: Mapping[str, str] | None = None,
    every_row_used: bool = True,
) -> Generator[Progress, None, BatchPlan]:
    """Plan a batch; yields one progress step per file, returns the plan.

    The plan's ``problems`` list everything that stops it (see
    :meth:`BatchPlan.check`); unreadable files are items that will fail. With
    ``every_row_used`` a manifest row naming none of the files is a problem.

    Raises
    ------
    UnreadableFileError
        When the manifest cannot be read at all.
    InvalidFormValueError
        When ``name_pattern`` is not a usable regular expression.
    """
    destination = absolute_path(Path(destination))
    pattern = compile_name_pattern(name_pattern)
    files, problems = find_sources(sources, destination)
    bad_sources = tuple(problems)
    loaded = (
        manifest
        if isinstance(manifest, Manifest) or manifest is None
        else read_manifest(manifest)
    )
    rows, unmatched = match_rows(loaded, files) if loaded is not None else ({}, [])
    if not every_row_used:
        unmatched = []
    # an unknown --set key is one problem of the plan, not one per file
    known = {k: v for k, v in (values or {}).items() if known_key(k)}
    context = _Context(destination, template, known, pattern, rows, loaded)
    items: list[BatchItem] = []
    for done, path in enumerate(files):
        yield Progress(done, len(files), _("planning {file}").format(file=path.name))
        items += _file_items(path, context)
    yield Progress(len(files), len(files), _("planned"))
    problems += (loaded.problems + unmatched) if loaded is not None else []
    problems += unknown_keys(values or {})
    problems += context.problems + context.grouped_form_problems()
    problems += _duplicate_names(items, context.folders)
    problems = list(dict.fromkeys(problems))  # a file's problem once, not per scene
    return BatchPlan(
        items=tuple(items),
        destination=destination,
        template=template,
        manifest=loaded.path if loaded is not None else None,
        problems=tuple(problems),
        folders=dict(context.folders),
        bad_sources=bad_sources,
    )


def plan_batch(
    sources: Sequence[Path],
    destination: Path,
    *,
    template: FacilityTemplate | None = None,
    manifest: Path | Manifest | None = None,
    name_pattern: str | None = None,
    values: Mapping[str, str] | None = None,
) -> BatchPlan:
    """:func:`plan_batch_steps` run to the end (no progress shown)."""
    return drive(
        plan_batch_steps(
            sources,
            destination,
            template=template,
            manifest=manifest,
            name_pattern=name_pattern,
            values=values,
        )
    )
