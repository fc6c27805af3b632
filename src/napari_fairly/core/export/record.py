"""The facts one dataset's documents are built from, gathered once the checks ran.

Every document (sidecar, CSVs, DataCite, RO-Crate, checksums) is a function of a
:class:`DatasetRecord` and of the sha256 of the files written before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

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
    """REMBI, Dublin Core and DataCite views of the form (the form module's mapping)."""

    rembi: dict[str, Any]
    dublin_core: dict[str, Any]
    datacite: dict[str, Any]


class Provenance(NamedTuple):
    """Who and what saved: software versions, the OS user, when the save started."""

    software: dict[str, str]
    os_user: str
    started: str  # ISO 8601 with offset


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

    @property
    def name(self) -> str:
        """The dataset's name."""
        return self.plan.name

    @cached_property
    def form_documents(self) -> FormDocuments:
        """REMBI, Dublin Core and DataCite records, made once for every document."""
        from napari_fairly.core import form as form_api

        metadata = self.acquisition.metadata
        return FormDocuments(
            form_api.rembi_dict(self.form),
            form_api.dublin_core(self.form, metadata),
            form_api.datacite(self.form, metadata),
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
