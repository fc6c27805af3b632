"""The 15 Dublin Core elements (DCMES 1.1) of a dataset, mapped as in SPEC 2.2."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from napari_fairly.core.export.describe import (
    OME_ZARR_MEDIA_TYPE,
    Described,
    acquisition_summary,
    licence_url,
    orcid_or_empty,
)
from napari_fairly.core.vocabularies import is_doi

if TYPE_CHECKING:
    from napari_fairly.core.form import FairForm


def _creators(form: FairForm) -> list[str]:
    """Each author as ``Name (ORCID URI)``, or the name alone."""
    out = []
    for author in form.study.authors:
        uri = orcid_or_empty(author.orcid)
        out.append(f"{author.name} ({uri})" if uri else author.name)
    return out


def _subjects(form: FairForm) -> list[str]:
    """Keywords, then the organism and the imaging method."""
    subjects = list(form.study.keywords)
    for term in (form.biosample.organism, form.study_component.imaging_method):
        if term.label and term.label not in subjects:
            subjects.append(term.label)
    return subjects


def _contributor(form: FairForm) -> list[str]:
    """The operator, when not already an author."""
    authors = {a.name.strip().casefold() for a in form.study.authors}
    operator = form.operator.strip()
    return [operator] if operator and operator.casefold() not in authors else []


def dublin_core_record(facts: Described) -> dict[str, Any]:
    """The 15 elements; ``source`` names the raw file and its sha256, no path."""
    form = facts.form
    study = form.study
    description = " ".join(
        p for p in (study.description, acquisition_summary(form)) if p
    )
    formats = [f"{OME_ZARR_MEDIA_TYPE}; ngff={facts.ngff_version}"]
    if facts.source.format:
        formats.append(f"source: {facts.source.format}")
    doi = study.related_publication_doi
    coverage = ", ".join(
        p
        for p in (form.biosample.organism.label, form.biosample.biological_entity)
        if p
    )
    return {
        "title": " — ".join(p for p in (study.title, facts.name) if p),
        "creator": _creators(form),
        "subject": _subjects(form),
        "description": description,
        "publisher": study.publisher,
        "contributor": _contributor(form),
        "date": form.naming.date,
        "type": "Image",
        "format": formats,
        "identifier": facts.name,
        "source": f"{facts.source.file_name} sha256:{facts.source.sha256}",
        "language": study.language or "en",
        "relation": [f"https://doi.org/{doi}"] if is_doi(doi) else [],
        "coverage": coverage,
        "rights": " ".join(p for p in (study.licence, licence_url(study.licence)) if p),
    }
