"""Locate the files shipped in the top-level ``resources/`` folder.

A wheel ships it as package data at ``napari_fairly/resources``; an editable install
(or a source checkout) keeps it at ``<repo>/resources``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources as importlib_resources
from pathlib import Path

from napari_fairly.core.errors import FairlyError

_REPO_RESOURCES = Path(__file__).resolve().parents[3] / "resources"


@cache
def resources_dir() -> Path:
    """The folder holding vocabularies, templates and the form's JSON Schema."""
    try:
        packaged = Path(str(importlib_resources.files("napari_fairly") / "resources"))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - zip imports
        packaged = None
    for candidate in (packaged, _REPO_RESOURCES):
        if candidate is not None and (candidate / "vocabularies").is_dir():
            return candidate
    raise FairlyError(
        "The napari-fairly resources folder (vocabularies, templates) was not found.",
        fix="Reinstall napari-fairly; the package is incomplete.",
    )


def resource_path(*parts: str) -> Path:
    """Path of one shipped file, e.g. ``resource_path("vocabularies", "fbbi.json")``."""
    return resources_dir().joinpath(*parts)
