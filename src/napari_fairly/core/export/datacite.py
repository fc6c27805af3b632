"""The DataCite record of a dataset: Metadata Schema 4.5, as JSON and as XML.

The JSON follows the schema the ``datacite`` package validates (``schema45``); the
XML is the same record as DataCite's DOI registration takes it, made by that package
(``schema45.tostring``). The DOI is left for the repository to assign: the record
has no ``doi`` (and the XML no ``<identifier>``) until then. The publication year is
the save's year; the repository sets it again when it publishes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from napari_fairly.core.export.describe import (
    OME_ZARR_MEDIA_TYPE,
    RESOURCE_TYPE,
    Described,
    acquisition_summary,
    licence_url,
    orcid_or_empty,
    ror_or_empty,
)
from napari_fairly.core.vocabularies import (
    OBO_PURL,
    curie_iri,
    is_doi,
    licence,
)

if TYPE_CHECKING:
    from napari_fairly.core.form import Author, FairForm, Term

SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"
UNAVAILABLE = ":unav"  # DataCite's standard value for "not available"
ROR_SCHEME = {"scheme": "ROR", "uri": "https://ror.org/"}


def person_name(name: str) -> dict[str, str]:
    """``{"name": "Lebon, A.", "givenName": "A.", "familyName": "Lebon"}``."""
    parts = name.strip().rsplit(" ", 1)
    if len(parts) == 2:
        given, family = parts
        return {"givenName": given, "familyName": family, "name": f"{family}, {given}"}
    return {"name": name.strip() or UNAVAILABLE}


def _creator(author: Author) -> dict[str, Any]:
    """One author: name parts, ORCID, affiliation with its ROR id."""
    entry: dict[str, Any] = {"nameType": "Personal", **person_name(author.name)}
    orcid = orcid_or_empty(author.orcid)
    if orcid:
        entry["nameIdentifiers"] = [
            {
                "nameIdentifier": orcid,
                "nameIdentifierScheme": "ORCID",
                "schemeUri": "https://orcid.org",
            }
        ]
    if author.affiliation:
        affiliation: dict[str, str] = {"name": author.affiliation}
        ror = ror_or_empty(author.ror)
        if ror:
            affiliation |= {
                "affiliationIdentifier": ror,
                "affiliationIdentifierScheme": ROR_SCHEME["scheme"],
                "schemeUri": ROR_SCHEME["uri"],
            }
        entry["affiliation"] = [affiliation]
    return entry


def _publisher(form: FairForm) -> dict[str, str]:
    """The publisher as an object: its name, and its ROR id when given."""
    publisher = {"name": form.study.publisher.strip() or UNAVAILABLE}
    ror = ror_or_empty(form.study.publisher_ror)
    if ror:
        publisher |= {
            "publisherIdentifier": ror,
            "publisherIdentifierScheme": ROR_SCHEME["scheme"],
            "schemeUri": ROR_SCHEME["uri"],
        }
    return publisher


def _term_subject(term: Term, scheme: str, scheme_uri: str) -> dict[str, str]:
    """A vocabulary term as a subject: its label, scheme, IRI and CURIE."""
    if not term.id:
        return {"subject": term.label}  # typed, not verified: no scheme claimed
    return {
        "subject": term.label or term.id,
        "subjectScheme": scheme,
        "schemeUri": scheme_uri,
        "valueUri": curie_iri(term.id),
        "classificationCode": term.id,
    }


def _subjects(form: FairForm) -> list[dict[str, str]]:
    """Keywords (once each), the organism and the imaging method."""
    subjects = [{"subject": k} for k in dict.fromkeys(form.study.keywords) if k]
    organism = form.biosample.organism
    if organism.id or organism.label:
        subjects.append(
            _term_subject(
                organism, "NCBI Taxonomy", "https://www.ncbi.nlm.nih.gov/taxonomy"
            )
        )
    method = form.study_component.imaging_method
    if method.id or method.label:
        subjects.append(_term_subject(method, "FBbi", f"{OBO_PURL}fbbi.owl"))
    return subjects


def _rights(form: FairForm) -> list[dict[str, str]]:
    """The licence with its SPDX id and URL."""
    spdx = form.study.licence
    if not spdx:
        return []
    term = licence(spdx)
    rights = {
        "rights": term.label if term else spdx,
        "rightsIdentifier": spdx.lower(),
        "rightsIdentifierScheme": "SPDX",
        "schemeUri": "https://spdx.org/licenses/",
    }
    url = licence_url(spdx)
    return [{**rights, "rightsUri": url} if url else rights]


def _descriptions(facts: Described) -> list[dict[str, str]]:
    """The study's abstract, and how the images were acquired and converted."""
    form = facts.form
    technical = " ".join(
        p
        for p in (
            acquisition_summary(form) + "." if acquisition_summary(form) else "",
            f"OME-Zarr (OME-NGFF {facts.ngff_version}) converted without loss "
            f"from {facts.source.text()}.",
        )
        if p
    )
    return [
        {"description": d, "descriptionType": t}
        for d, t in ((form.study.description, "Abstract"), (technical, "TechnicalInfo"))
        if d
    ]


def _contributors(form: FairForm) -> list[dict[str, str]]:
    """The operator who acquired the data, when not already an author."""
    authors = {a.name.strip().casefold() for a in form.study.authors}
    operator = form.operator.strip()
    if not operator or operator.casefold() in authors:
        return []
    return [
        {
            "nameType": "Personal",
            **person_name(operator),
            "contributorType": "DataCollector",
        }
    ]


def _optional(facts: Described) -> dict[str, Any]:
    """Contributors, related publication and funding, when the form has them."""
    study = facts.form.study
    out: dict[str, Any] = {}
    contributors = _contributors(facts.form)
    if contributors:
        out["contributors"] = contributors
    if is_doi(study.related_publication_doi):
        out["relatedIdentifiers"] = [
            {
                "relatedIdentifier": study.related_publication_doi,
                "relatedIdentifierType": "DOI",
                "relationType": "IsSupplementTo",
            }
        ]
    if study.funding:
        out["fundingReferences"] = [{"funderName": study.funding}]
    return out


def datacite_record(facts: Described) -> dict[str, Any]:
    """The record (DataCite 4.5 JSON): mandatory properties first, no DOI yet."""
    form = facts.form
    study = form.study
    dates = [{"date": facts.saved.isoformat(), "dateType": "Created"}]
    if form.naming.date:
        dates.insert(0, {"date": form.naming.date, "dateType": "Collected"})
    return {
        "creators": [_creator(a) for a in study.authors] or [{"name": UNAVAILABLE}],
        "titles": [{"title": study.title or facts.name}],
        "publisher": _publisher(form),
        "publicationYear": str(facts.saved.year),
        "types": {"resourceTypeGeneral": "Image", "resourceType": RESOURCE_TYPE},
        "subjects": _subjects(form),
        "dates": dates,
        "language": study.language or "en",
        "alternateIdentifiers": [
            {
                "alternateIdentifier": facts.name,
                "alternateIdentifierType": "dataset name",
            }
        ],
        "formats": [OME_ZARR_MEDIA_TYPE],
        "rightsList": _rights(form),
        "descriptions": _descriptions(facts),
        **_optional(facts),
        "schemaVersion": SCHEMA_VERSION,
    }


def datacite_xml(record: dict[str, Any]) -> str:
    """The record as DataCite XML (kernel 4.5), UTF-8 with its declaration."""
    from datacite import schema45

    text: str = schema45.tostring(record)
    if not text.startswith("<?xml"):
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + text
    return text if text.endswith("\n") else text + "\n"
