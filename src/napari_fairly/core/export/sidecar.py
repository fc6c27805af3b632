"""The sidecar ``<name>.json``, the DataCite record and software versions (SPEC 7.3)."""

from __future__ import annotations

import datetime as dt
import getpass
import importlib.metadata
import platform
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from napari_fairly.core.metadata import AcquisitionMetadata
    from napari_fairly.core.naming import NameParts

SCHEMA_VERSION = "1.1.0"
STORAGE_REMINDER = (
    "3-2-1: this folder is one copy. Keep 3 copies on 2 different media, 1 off-site."
)
SOFTWARE = (
    "napari-fairly",
    "bioio",
    "zarr",
    "numcodecs",
    "numpy",
    "dask",
    "scikit-image",
    "ome-types",
    "pydantic",
)


def software_versions() -> dict[str, str]:
    """Versions of the packages that shaped the output."""
    versions = {"python": platform.python_version()}
    for package in SOFTWARE:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def now_iso() -> str:
    """Local time with its UTC offset, to the second."""
    return dt.datetime.now().astimezone().replace(microsecond=0).isoformat()


def os_user() -> str:
    """Login name of the operator's session (not a secret, only who saved)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def name_parts_dict(parts: NameParts) -> dict[str, Any]:
    """Naming components for the sidecar (SPEC 7.3 ``name_parts``)."""
    return {
        "date": parts.date.isoformat(),
        "project": parts.project,
        "sample": parts.sample,
        "creator": parts.creator,
        "condition": parts.condition,
        "datatype": parts.datatype,
        "version": parts.version,
    }


def form_documents(form: Any, metadata: AcquisitionMetadata) -> dict[str, Any]:
    """REMBI, Dublin Core and DataCite views of the form (the form module's mapping)."""
    from napari_fairly.core import form as form_api

    return {
        "rembi": form_api.rembi_dict(form),
        "dublin_core": form_api.dublin_core(form, metadata),
        "datacite": form_api.datacite(form, metadata),
    }


def datacite_summary(record: dict[str, Any]) -> dict[str, Any]:
    """The six DataCite mandatory properties, flat, for the sidecar (SPEC 2.2)."""
    types = record.get("types") or {}
    publisher = record.get("publisher")
    if isinstance(publisher, dict):
        publisher = publisher.get("name")
    return {
        "identifier": (record.get("identifier") or None)
        if not isinstance(record.get("identifier"), dict)
        else record["identifier"].get("identifier"),
        "creators": record.get("creators", []),
        "titles": record.get("titles", []),
        "publisher": publisher,
        "publication_year": record.get("publicationYear"),
        "resource_type_general": types.get("resourceTypeGeneral", "Image"),
        "resource_type": types.get("resourceType", "OME-Zarr light-microscopy image"),
    }
