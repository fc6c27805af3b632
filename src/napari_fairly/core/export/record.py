"""The facts one dataset's documents are built from, gathered once the checks ran.

Every document (sidecar, CSVs, DataCite, RO-Crate, checksums) is a function of a
:class:`DatasetRecord` and of the sha256 of the files written before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from napari_fairly.core.export.describe import Described, SourceFile

if TYPE_CHECKING:
    from napari_fairly.core.export.pixel_pass import PixelPass
    from napari_fairly.core.export.plan import DatasetPlan
    from napari_fairly.core.export.request import Labels, NgffVersion
    from napari_fairly.core.export.safety import FileFingerprint
    from napari_fairly.core.form import FairForm
    from napari_fairly.core.qc import PixelStatistics, QcReport
    from napari_fairly.core.reading import Acquisition
    from napari_fairly.core.session import Acceptance


class FormDocuments(NamedTuple):
    """REMBI, Dublin Core and DataCite views of the dataset."""

    rembi: dict[str, Any]
    dublin_core: dict[str, Any]
    datacite: dict[str, Any]


class Provenance(NamedTuple):
    """Who and what saved: software versions, the OS user, when the save started."""

    software: dict[str, str]
    os_user: str
    started: str  # ISO 8601 with offset


class Disclosure(NamedTuple):
    """What a published dataset may tell beyond the source's name and sha256:
    the source's full path and the OS login (off unless the facility template
    turns them on: ``options.record_source_location``, ``options.record_os_user``)."""

    source_location: bool = False
    os_user: bool = False


@dataclass(frozen=True)
class DatasetRecord:
    """Everything the documents of one dataset say about it."""

    plan: DatasetPlan
    acquisition: Acquisition  # the effective values: corrections applied
    form: FairForm
    source: FileFingerprint  # the raw file before the save
    pixels: PixelPass
    stats: PixelStatistics | None
    qc_report: QcReport | None
    acceptance: Acceptance | None
    ngff_version: NgffVersion
    labels: Labels | None
    storage_notes: tuple[str, ...]
    provenance: Provenance
    disclosure: Disclosure = field(default_factory=Disclosure)

    @property
    def name(self) -> str:
        """The dataset's name."""
        return self.plan.name

    @cached_property
    def described(self) -> Described:
        """The typed facts the DataCite, Dublin Core and RO-Crate builders take."""
        meta = self.acquisition.metadata
        source = SourceFile(
            file_name=self.acquisition.path.name,
            sha256=self.source.sha256,
            size_bytes=self.source.size_bytes,
            scene_number=self.acquisition.scene_index + 1,
            scene_count=meta.scene_count,
            format=meta.format,
        )
        saved = dt.datetime.fromisoformat(self.provenance.started).date()
        return Described(self.name, self.form, source, self.ngff_version, saved)

    @cached_property
    def form_documents(self) -> FormDocuments:
        """REMBI, Dublin Core and DataCite records, made once for every document."""
        from napari_fairly.core import form as form_api
        from napari_fairly.core.export.datacite import datacite_record
        from napari_fairly.core.export.dublin_core import dublin_core_record

        rembi = form_api.rembi_dict(self.form)
        rembi["image_data"]["source_file"] = self.described.source.file_name
        rembi["image_data"]["sha256"] = self.described.source.sha256
        return FormDocuments(
            rembi,
            dublin_core_record(self.described),
            datacite_record(self.described),
        )

    @cached_property
    def acquisition_json(self) -> dict[str, Any]:
        """The effective acquisition metadata as JSON values."""
        return self.acquisition.metadata.model_dump(mode="json")


def zarr_hashes(record: DatasetRecord, hashes: Mapping[str, str]) -> dict[str, str]:
    """The files of the OME-Zarr among ``hashes`` (relative path → sha256)."""
    from napari_fairly.core.export.plan import OutputRole

    prefix = record.plan.path(OutputRole.IMAGE) + "/"
    return {p: h for p, h in hashes.items() if p.startswith(prefix)}
