"""One item of a batch: a scene of a raw file with the values its form gets.

An item carries *assignments* (``naming.condition=Controle``, ``na=1.4``,
``gain=2.0``), not a form: the form is built where the item runs, from the file's own
metadata, the facility template and these values, exactly as the planner built it.
Each value keeps where it came from (the manifest row, the file name, the command
line), and the form records it in ``sources``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from napari_fairly.core.corrections import expand_alias, is_correction
from napari_fairly.core.errors import InvalidFormValueError
from napari_fairly.core.form import FIELD_PATHS, FairForm, prefill_form
from napari_fairly.core.i18n import _
from napari_fairly.core.naming import COMPONENTS

if TYPE_CHECKING:
    from napari_fairly.core.qc import QcParameters
    from napari_fairly.core.reading import Acquisition
    from napari_fairly.core.session import Session
    from napari_fairly.core.settings import FacilityTemplate

# a manifest column or --set key may name a naming component alone: "condition"
NAMING_KEYS = {component: f"naming.{component}" for component in COMPONENTS}


@dataclass(frozen=True)
class BatchItem:
    """A scene of a raw file to save, with its form values.

    ``scene`` counts from 0 (None when the file could not even be listed: the item
    then fails when it runs, with the reader's message). ``values`` maps a key (a
    form field, a correction or its alias, a QC parameter) to its text, and
    ``origins`` the same key to where the value came from. ``name`` is the dataset
    name the planner expects (empty when it could not tell).
    """

    source: Path
    scene: int | None
    values: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    unreadable: str = ""  # why the planner could not read the file

    @property
    def key(self) -> str:
        """Stable identity in the state file: the absolute path and the scene."""
        scene = "*" if self.scene is None else str(self.scene + 1)
        return f"{self.source}#{scene}"

    @property
    def scene_number(self) -> int | None:
        """The scene counted from 1, as people read it."""
        return None if self.scene is None else self.scene + 1


def known_key(key: str) -> bool:
    """True when ``key`` names something a batch value may set."""
    from napari_fairly.core.qc import PARAMETER_KEYS

    key = key.strip()
    return (
        key in FIELD_PATHS
        or key.lower() in NAMING_KEYS
        or is_correction(key)
        or expand_alias(key, 1) is not None
        or key.lower() in PARAMETER_KEYS
    )


def paths_of(key: str, channels: int) -> list[str] | None:
    """The form paths ``key`` sets (a field, a naming component, a correction)."""
    if key in FIELD_PATHS:
        return [key]
    if key.lower() in NAMING_KEYS:
        return [NAMING_KEYS[key.lower()]]
    return expand_alias(key, channels)


def split_values(
    values: Mapping[str, str], channels: int
) -> tuple[dict[str, str], list[tuple[str, str]], dict[str, str]]:
    """Form values (dotted paths), QC parameters, and which key each path came from.

    An empty value sets nothing (an empty manifest cell keeps the template's value).

    Raises
    ------
    InvalidFormValueError
        For a key that is neither a form field, a correction nor a QC parameter.
    """
    from napari_fairly.core.qc import PARAMETER_KEYS

    typed: dict[str, str] = {}
    parameters: list[tuple[str, str]] = []
    keys: dict[str, str] = {}
    for key, text in values.items():
        if not str(text).strip():
            continue
        name = key.strip()
        paths = paths_of(name, channels)
        if paths is None and name.lower() in PARAMETER_KEYS:
            parameters.append((name, str(text).strip()))
            continue
        if paths is None:
            raise InvalidFormValueError(
                _("unknown field '{key}'.").format(key=name[:60]),
                fix=_(
                    "Use a form field (naming.condition, study.title…), a "
                    "correction (na, pz, em.2…) or a QC parameter (gain…)."
                ),
            )
        for path in paths:
            typed[path] = str(text).strip()
            keys[path] = key
    return typed, parameters, keys


def item_form(
    acquisition: Acquisition, item: BatchItem, template: FacilityTemplate | None
) -> tuple[FairForm, QcParameters]:
    """The item's form and QC parameters, built from the file, template and values.

    Raises
    ------
    InvalidFormValueError
        A value of the wrong type, out of range, or against a field the template fixes.
    """
    from napari_fairly.core.qc import parse_parameters

    typed, parameters, keys = split_values(
        item.values, len(acquisition.metadata.channels)
    )
    form = prefill_form(acquisition.metadata, template, None, typed)
    sources = dict(form.sources)
    for path, key in keys.items():
        origin = item.origins.get(key)
        if origin and sources.get(path) == "operator":
            sources[path] = f"operator:{origin}"
    if sources != form.sources:
        form = form.replace(sources=sources)
    return form, parse_parameters(parameters)


def item_session(
    acquisition: Acquisition, item: BatchItem, template: FacilityTemplate | None
) -> Session:
    """A :class:`Session` for the item: the same gate as the GUI and ``fairly save``.

    Raises
    ------
    InvalidFormValueError
        When a value cannot be used (see :func:`item_form`).
    """
    from napari_fairly.core.session import Session

    form, parameters = item_form(acquisition, item, template)
    return Session(acquisition, form, template=template, parameters=parameters)
