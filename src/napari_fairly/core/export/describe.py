"""What the dataset's descriptions (DataCite, Dublin Core, RO-Crate) are built from.

:class:`Described` gathers the typed facts once: the form, the dataset's name, the
source file by name and sha256 (never where it lies: a published dataset does not
tell local paths), the OME-NGFF version and the save's date. The builders of
``export.datacite``, ``export.dublin_core`` and ``export.rocrate`` are pure
functions of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from napari_fairly.core.vocabularies import (
    licence,
    orcid_problem,
    orcid_uri,
    ror_problem,
    ror_uri,
)

if TYPE_CHECKING:
    from napari_fairly.core.form import FairForm

RESOURCE_TYPE = "OME-Zarr light-microscopy image"
OME_ZARR_MEDIA_TYPE = "application/x-ome-zarr"


@dataclass(frozen=True)
class SourceFile:
    """The raw file a dataset was made from, as a published dataset names it."""

    file_name: str
    sha256: str
    size_bytes: int
    scene_number: int  # from 1, as people count
    scene_count: int
    format: str

    def text(self) -> str:
        """``toxo.dv (sha256 …), scene 1 of 1``: the source in a sentence."""
        scene = f"scene {self.scene_number} of {self.scene_count}"
        return f"{self.file_name} (sha256 {self.sha256}), {scene}"


@dataclass(frozen=True)
class Described:
    """The typed facts every description of one dataset is built from."""

    name: str
    form: FairForm
    source: SourceFile
    ngff_version: str
    saved: dt.date  # the save's date: DataCite's (provisional) publication year


def orcid_or_empty(text: str) -> str:
    """``https://orcid.org/…`` for a well-formed ORCID iD, else ``""``."""
    return orcid_uri(text) if text and not orcid_problem(text) else ""


def ror_or_empty(text: str) -> str:
    """``https://ror.org/…`` for a well-formed ROR id, else ``""``."""
    return ror_uri(text) if text and not ror_problem(text) else ""


def licence_url(spdx: str) -> str:
    """The licence's URL from the offline SPDX list (``""`` when unknown)."""
    term = licence(spdx) if spdx else None
    return str(term.extra.get("url", "")) if term else ""


def _objective_text(form: FairForm) -> str:
    """``Plan Apo 63x/1.4``: the objective's model, magnification and NA."""
    acq = form.image_acquisition
    objective = acq.objective
    mag, na = acq.objective_magnification, acq.objective_na
    if na and f"/{na:g}" not in objective:
        lens = f"{mag:g}x" if mag and f"{mag:g}x" not in objective else ""
        objective = (
            f"{objective} {lens}/{na:g}".strip() if lens else f"{objective}/{na:g}"
        )
    return objective


def acquisition_summary(form: FairForm) -> str:
    """One line on how the images were acquired (method, instrument, objective,
    sampling, channels), from the form's effective values."""
    acq = form.image_acquisition
    bits = [form.study_component.imaging_method.label, acq.instrument]
    if acq.objective or acq.objective_na:
        bits.append(_objective_text(form))
    if acq.pixel_size_x_um:
        bits.append(f"pixel {acq.pixel_size_x_um:.4g} µm")
    if acq.pixel_size_z_um:
        bits.append(f"z-step {acq.pixel_size_z_um:.4g} µm")
    if acq.channels:
        names = ", ".join(c.name for c in acq.channels if c.name)
        bits.append(f"{len(acq.channels)} channel(s){': ' + names if names else ''}")
    return "; ".join(b for b in bits if b)
