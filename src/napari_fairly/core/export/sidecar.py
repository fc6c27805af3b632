"""The sidecar ``<name>.json``: a typed model, its builder and its reader (SPEC 7.3).

:class:`Sidecar` is what a save writes and what ``fairly verify`` reads back.
Schema 1.1.0 added ``qc_acceptance``, ``source.scene_number`` and the image's
``plane_sha256_scope`` to 1.0.0. Schema 1.2.0 (today's) names the source by its file
name and sha256 only: ``source.path`` and ``operator.os_user`` are gone, and
``source.location`` / ``operator.os_user`` appear only when the facility template
asks for them (SPEC 7.3); the ``datacite`` summary's ``publication_year`` is a
string, as in the DataCite record. Schema 1.3.0 adds ``language``: the language
of the texts written for people (the checks' messages and advice, the notes, the
storage reminder); keys, codes and values never change with it. Sidecars of every
1.x version are read.
"""

from __future__ import annotations

import datetime as dt
import getpass
import importlib.metadata
import json
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from napari_fairly.core.export.plan import SIDECAR_OUTPUTS, OutputRole
from napari_fairly.core.export.record import zarr_hashes
from napari_fairly.core.i18n import N_, _, current_language, texts_in

if TYPE_CHECKING:
    from napari_fairly.core.export.record import DatasetRecord
    from napari_fairly.core.naming import NameParts
    from napari_fairly.core.qc import QcReport
    from napari_fairly.core.session import Acceptance

SCHEMA_VERSION = "1.3.0"
READ_SCHEMA_MAJOR = "1"  # sidecars of this major version are read
STORAGE_REMINDER = N_(
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
Json = dict[str, JsonValue]


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


def datacite_summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """The six DataCite mandatory properties, flat, for the sidecar (SPEC 2.2).

    ``identifier`` is the DOI: null until a repository assigns one.
    """
    types = record.get("types") or {}
    publisher = record.get("publisher")
    if isinstance(publisher, dict):
        publisher = publisher.get("name")
    return {
        "identifier": record.get("doi") or None,
        "creators": record.get("creators", []),
        "titles": record.get("titles", []),
        "publisher": publisher,
        "publication_year": record.get("publicationYear"),
        "resource_type_general": types.get("resourceTypeGeneral", "Image"),
        "resource_type": types.get("resourceType", "OME-Zarr light-microscopy image"),
    }


class _Part(BaseModel):
    """A block of the sidecar: read leniently (a newer minor version may add keys)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class NamePartsRecord(_Part):
    """The naming components (SPEC 7.3 ``name_parts``)."""

    date: str
    project: str
    sample: str
    creator: str
    condition: str
    datatype: str
    version: int

    @classmethod
    def of(cls, parts: NameParts) -> NamePartsRecord:
        """The record of parsed name ``parts``."""
        return cls(
            date=parts.date.isoformat(),
            project=parts.project,
            sample=parts.sample,
            creator=parts.creator,
            condition=parts.condition,
            datatype=parts.datatype,
            version=parts.version,
        )


class AcceptanceRecord(_Part):
    """Who accepted which failed checks, when, for which report (schema 1.1.0)."""

    checks: list[str]
    by: str
    at: str
    report_key: str


class SourceRecord(_Part):
    """The raw file the dataset was made from: its name and sha256, not where it is.

    ``location`` (1.2.0) is the full path, only when the facility template asks for
    it; sidecars before 1.2.0 always held it as ``path``.
    """

    path: str | None = None  # < 1.2.0
    location: str | None = None  # 1.2.0, template option record_source_location
    file_name: str
    size_bytes: int
    sha256: str
    scene: int  # 0-based
    scene_number: int | None = None  # 1-based, as the CLI numbers scenes (1.1.0)
    scene_name: str | None
    scene_count: int
    format: str
    reader: str


class ImageOutput(_Part):
    """The OME-Zarr image and what the read-back compares against."""

    role: Literal["image"] = "image"
    path: str
    ngff_version: Literal["0.4", "0.5"]
    sha256_manifest: str
    files: int
    shape_tczyx: list[int]
    dtype: str
    axes: list[str]
    scale_level0: list[float]
    levels: list[list[int]]
    units: dict[str, str]
    unknown_scale_axes: list[str]
    bytes_uncompressed: int
    bytes_written: int
    # sha256 of level-0 planes (C order, little-endian) taken while the raw file
    # was read: the planes the read-back compared ("t,c,z" → sha256)
    plane_sha256: dict[str, str]
    plane_sha256_scope: str | None = None  # 1.1.0; 1.0.0 hashed every plane


class FileOutput(_Part):
    """Any other file the sidecar lists."""

    role: OutputRole
    path: str
    sha256: str


class CsvColumn(_Part):
    """One column of a CSV table: name, UCUM unit, pandas dtype, meaning."""

    name: str
    unit: str
    dtype: str
    description: str


class OperatorRecord(_Part):
    """Who saved: the form's operator (and the OS login, when the template asks)."""

    name: str
    os_user: str | None = None  # 1.2.0: only with record_os_user


class Timestamps(_Part):
    """When the save started and when the sidecar was written."""

    save_started: str
    saved: str


class Sidecar(_Part):
    """``<name>.json``: the dataset's metadata, checks and provenance (SPEC 7.3)."""

    schema_version: str
    name: str
    requested_name: str
    name_parts: NamePartsRecord
    rembi: Json
    form: Json | None
    dublin_core: Json
    datacite: Json
    acquisition: Json
    qc: Json
    qc_acceptance: AcceptanceRecord | None = None  # 1.1.0
    source: SourceRecord
    image_metadata_notes: list[str]
    storage_notes: list[str]
    outputs: list[ImageOutput | FileOutput]
    csv_columns: dict[str, list[CsvColumn]]
    software: dict[str, str]
    operator: OperatorRecord
    timestamps: Timestamps
    storage_reminder: str
    # 1.3.0: language of the texts for people ("en", "fr"); None before 1.3.0
    language: str | None = None

    def to_json(self) -> Json:
        """The sidecar as written: keys the template did not ask for are left out
        (``source.location``, ``operator.os_user``), not written as null."""
        data: Json = self.model_dump(mode="json")
        for block, key in (
            ("source", "path"),
            ("source", "location"),
            ("operator", "os_user"),
        ):
            part = data.get(block)
            if isinstance(part, dict) and part.get(key) is None:
                part.pop(key, None)
        return data

    @property
    def image(self) -> ImageOutput | None:
        """The OME-Zarr image output, if the sidecar lists one."""
        return next((o for o in self.outputs if isinstance(o, ImageOutput)), None)


class SidecarError(ValueError):
    """A sidecar that cannot be read: not JSON, another schema, a newer version."""


def read_sidecar(path: Path) -> Sidecar:
    """Read and check a sidecar of schema 1.x.

    Raises
    ------
    OSError
        When the file cannot be read.
    SidecarError
        When it is not a sidecar this version of napari-fairly reads.
    """
    text = path.read_text(encoding="utf-8")
    try:
        sidecar = Sidecar.model_validate_json(text)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SidecarError(
            f"{path.name} is not a sidecar ({err.error_count()} problem(s), "
            f"first: {where}: {first['msg']})"
        ) from None
    if sidecar.schema_version.split(".")[0] != READ_SCHEMA_MAJOR:
        raise SidecarError(
            f"{path.name} has schema {sidecar.schema_version}; this napari-fairly "
            f"reads {READ_SCHEMA_MAJOR}.x (update napari-fairly)"
        )
    return sidecar


def _json(value: Mapping[str, Any]) -> Json:
    """``value`` as the JSON text holds it (tuples become lists): the other modules'
    records (form, acquisition, checks) are JSON-ready but not all JSON types."""
    data: Json = json.loads(json.dumps(value, ensure_ascii=False))
    return data


def _qc_json(report: QcReport | None, source: str) -> Json:
    """The QC report, naming the source as the sidecar does (``source``)."""
    if report is None:
        return {"status": "not_run"}
    data = _json(report.to_dict())
    data["source_path"] = source
    return data


def _form_json(record: DatasetRecord) -> Json:
    """The form as saved: the source named by its file name only."""
    data = _json(record.form.model_dump(mode="json"))
    image_data = data.get("image_data")
    if isinstance(image_data, dict) and image_data.get("source_file"):
        image_data["source_file"] = record.described.source.file_name
    return data


def _acquisition_json(record: DatasetRecord, source: str) -> Json:
    """The effective acquisition metadata, naming the source as the sidecar does."""
    data = _json(record.acquisition_json)
    if "source_path" in data:
        data["source_path"] = source
    return data


def _acceptance(acceptance: Acceptance | None) -> AcceptanceRecord | None:
    if acceptance is None:
        return None
    return AcceptanceRecord(
        checks=list(acceptance.checks),
        by=acceptance.by,
        at=acceptance.at,
        report_key=acceptance.report_key,
    )


def _source(record: DatasetRecord) -> SourceRecord:
    acq = record.acquisition
    meta = acq.metadata
    return SourceRecord(
        location=str(acq.path) if record.disclosure.source_location else None,
        file_name=acq.path.name,
        size_bytes=record.source.size_bytes,
        sha256=record.source.sha256,
        scene=acq.scene_index,
        scene_number=acq.scene_index + 1,
        scene_name=meta.scene_name,
        scene_count=meta.scene_count,
        format=meta.format,
        reader=meta.reader,
    )


def _image_output(record: DatasetRecord, hashes: Mapping[str, str]) -> ImageOutput:
    written = record.pixels.written
    plane_hashes = record.pixels.plane_hashes
    scope = (
        "all"
        if len(plane_hashes) == record.pixels.total
        else f"sample of {len(plane_hashes)} planes spread over T, C, Z"
    )
    return ImageOutput(
        path=record.plan.path(OutputRole.IMAGE),
        ngff_version=record.ngff_version,
        sha256_manifest=hashes[record.plan.path(OutputRole.ZARR_MANIFEST)],
        files=len(zarr_hashes(record, hashes)),
        shape_tczyx=list(written.shape_tczyx),
        dtype=written.dtype,
        axes=list(written.axes),
        scale_level0=written.scales[0],
        levels=[list(s) for s in written.level_shapes],
        units=written.units,
        unknown_scale_axes=list(written.unknown_scale_axes),
        bytes_uncompressed=written.bytes_uncompressed,
        bytes_written=written.bytes_written,
        plane_sha256=plane_hashes,
        plane_sha256_scope=scope,
    )


def _outputs(
    record: DatasetRecord, hashes: Mapping[str, str]
) -> list[ImageOutput | FileOutput]:
    outputs: list[ImageOutput | FileOutput] = []
    for output in record.plan.outputs:
        if output.role is OutputRole.IMAGE:
            outputs.append(_image_output(record, hashes))
        elif output.role in SIDECAR_OUTPUTS:
            outputs.append(
                FileOutput(
                    role=output.role, path=output.path, sha256=hashes[output.path]
                )
            )
    return outputs


def _csv_columns(record: DatasetRecord) -> dict[str, list[CsvColumn]]:
    from napari_fairly.core.export import tables

    tables_written = {
        OutputRole.MEASUREMENTS: tables.MEASUREMENT_COLUMNS,
        OutputRole.OBJECTS: tables.object_columns(
            tables.channel_names(
                record.acquisition, tables.acq_tcz(record.acquisition)[1]
            )
        ),
    }
    return {
        record.plan.path(role): [CsvColumn(**c.as_dict()) for c in columns]
        for role, columns in tables_written.items()
        if record.plan.has(role)
    }


def build_sidecar(
    record: DatasetRecord, hashes: Mapping[str, str], saved: str
) -> Sidecar:
    """The sidecar of ``record``, listing the outputs written before it (``hashes``).

    ``saved`` is when the sidecar is written (ISO 8601 with offset).
    """
    report = record.qc_report
    language = report.language if report is not None else current_language()
    with texts_in(language):
        return _sidecar(record, hashes, saved, language)


def _sidecar(
    record: DatasetRecord, hashes: Mapping[str, str], saved: str, language: str
) -> Sidecar:
    from napari_fairly.core.naming import parse_name

    documents = record.form_documents
    disclosure = record.disclosure
    source = (
        str(record.acquisition.path)
        if disclosure.source_location
        else record.described.source.file_name
    )
    return Sidecar(
        schema_version=SCHEMA_VERSION,
        name=record.name,
        requested_name=record.plan.requested_name,
        name_parts=NamePartsRecord.of(parse_name(record.name)),
        rembi=_json(documents.rembi),
        form=_form_json(record),
        dublin_core=_json(documents.dublin_core),
        datacite=_json(datacite_summary(documents.datacite)),
        acquisition=_acquisition_json(record, source),
        qc=_qc_json(record.qc_report, source),
        qc_acceptance=_acceptance(record.acceptance),
        source=_source(record),
        image_metadata_notes=[
            _(
                "axis {axis}: physical size unknown in the source; scale 1 without "
                "unit written"
            ).format(axis=a)
            for a in record.pixels.written.unknown_scale_axes
        ],
        storage_notes=list(record.storage_notes),
        outputs=_outputs(record, hashes),
        csv_columns=_csv_columns(record),
        software=record.provenance.software,
        operator=OperatorRecord(
            name=record.form.operator,
            os_user=record.provenance.os_user if disclosure.os_user else None,
        ),
        timestamps=Timestamps(save_started=record.provenance.started, saved=saved),
        storage_reminder=_(STORAGE_REMINDER),
        language=language,
    )
