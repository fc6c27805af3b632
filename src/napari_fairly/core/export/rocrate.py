"""``ro-crate-metadata.json`` and ``file_list.tsv``: an RO-Crate the BioImage Archive
takes (SPEC 7.5, as changed by the BIA submission profile).

RO-Crate 1.1, checked with the BIA's own validator (``bia-ro-crate-validator``):

* every term is defined in the crate's ``@context`` (the RO-Crate 1.1 context plus
  the BIA terms, with the IRIs the validator's standard context gives them);
* every entity has exactly one BIA type: the root folder is the ``bia:Study`` with
  its people as ``author`` (``bia:Contributor``, ORCID as ``@id``) and their
  ``bia:Affiliation``; the REMBI modules are a ``bia:Dataset`` tied to its
  ``bia:BioSample`` (and ``bia:Taxon``), ``bia:Specimen``,
  ``bia:SpecimenImagingPreparationProtocol`` (with a ``bia:SignalChannel`` per
  channel), ``bia:ImageAcquisitionProtocol`` and the ``bia:CreationProcess`` that
  made the image; the OME-Zarr is the ``bia:Image``;
* the other files are listed in ``file_list.tsv`` (``bia:FileList``) whose columns
  declare their meaning (``csvw:propertyUrl``): path, dataset, type, size, sha256,
  media type and the REMBI entities each image belongs to.

The raw file is named by its file name and sha256 only. The builders are pure: the
caller gives the typed facts (:class:`~napari_fairly.core.export.describe.Described`)
and the files with their sizes and hashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from napari_fairly.core.export.describe import (
    OME_ZARR_MEDIA_TYPE,
    Described,
    acquisition_summary,
    licence_url,
    orcid_or_empty,
    ror_or_empty,
)
from napari_fairly.core.vocabularies import curie_iri, is_doi

if TYPE_CHECKING:
    from napari_fairly.core.form import FairForm

RO_CRATE_CONTEXT = "https://w3id.org/ro/crate/1.1/context"
RO_CRATE_SPEC = "https://w3id.org/ro/crate/1.1"
BIA_PROFILE = "https://w3id.org/bia/ro-crate/profile/bia-submission"
BIA = "http://bia/"
SCHEMA = "http://schema.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
FILE_LIST = "file_list.tsv"
# BIA terms as the validator's standard context maps them (a term mapped to another
# IRI is refused); ``sha256`` as RO-Crate 1.2 maps it
_SET = "@set"
CONTEXT_TERMS: dict[str, Any] = {
    "bia": BIA,
    "csvw": "http://www.w3.org/ns/csvw#",
    "schema": SCHEMA,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/terms/",
    "accessionId": {"@id": "bia:accessionId"},
    "author": {"@id": "schema:author", "@container": _SET},
    "keywords": {"@id": "schema:keywords", "@container": _SET},
    "memberOf": {"@id": "schema:memberOf", "@container": _SET},
    "role": {"@id": "bia:role", "@container": _SET},
    "fundingStatement": {"@id": "bia:fundingStatement"},
    "relatedPublication": {"@id": "bia:relatedPublication", "@container": _SET},
    "doi": {"@id": "bia:doi"},
    "associatedBiologicalEntity": {
        "@id": "bia:associatedBiologicalEntity",
        "@container": _SET,
    },
    "associatedSpecimenImagingPreparationProtocol": {
        "@id": "bia:associatedImagingPreparationProtocol",
        "@container": _SET,
    },
    "associatedImageAcquisitionProtocol": {
        "@id": "bia:associatedImageAcquisitionProtocol",
        "@container": _SET,
    },
    "associatedSpecimen": {"@id": "bia:associatedSubject"},
    "associatedCreationProcess": {"@id": "bia:associatedCreationProcess"},
    "imagingInstrumentDescription": {"@id": "bia:imagingInstrumentDescription"},
    "imagingMethodName": {"@id": "bia:imagingMethodName", "@container": _SET},
    "fbbiId": {"@id": "bia:fbbiId", "@container": _SET},
    "signalChannelInformation": {
        "@id": "bia:signalChannelInformation",
        "@container": _SET,
    },
    "signalContrastMechanismDescription": {
        "@id": "bia:signalContrastMechanismDescription"
    },
    "channelContentDescription": {"@id": "bia:channelContentDescription"},
    "channelBiologicalEntity": {"@id": "bia:channelBiologicalEntity"},
    "organismClassification": {"@id": "schema:taxonomicRange", "@container": _SET},
    "scientificName": {"@id": "http://rs.tdwg.org/dwc/terms/scientificName"},
    "intrinsicVariableDescription": {
        "@id": "bia:intrinsicVariableDescription",
        "@container": _SET,
    },
    "extrinsicVariableDescription": {
        "@id": "bia:extrinsicVariableDescription",
        "@container": _SET,
    },
    "experimentalVariableDescription": {
        "@id": "bia:experimentalVariableDescription",
        "@container": _SET,
    },
    "biologicalEntity": {"@id": "bia:sampleOf", "@container": _SET},
    "imagingPreparationProtocol": {
        "@id": "bia:imagingPreparationProtocol",
        "@container": _SET,
    },
    "imageAcquisitionProtocol": {
        "@id": "bia:imageAcquisitionProtocol",
        "@container": _SET,
    },
    "subject": {"@id": "bia:subject"},
    "resultOf": {"@id": "bia:resultOf"},
    "tableSchema": {"@id": "csvw:tableSchema"},
    "column": {"@id": "csvw:column", "@container": _SET},
    "columnName": {"@id": "csvw:name"},
    "propertyUrl": {"@id": "csvw:propertyUrl"},
    "sha256": {"@id": "schema:sha256"},
}

# entity ids of the REMBI modules
DATASET_ID = "#dataset"
BIOSAMPLE_ID = "#biosample"
SPECIMEN_ID = "#specimen"
PREPARATION_ID = "#specimen-preparation"
ACQUISITION_PROTOCOL_ID = "#image-acquisition"
CREATION_ID = "#acquisition"
SCHEMA_ID = "#file-list-schema"


@dataclass(frozen=True)
class FileListColumn:
    """A column of ``file_list.tsv`` and the property it holds (its meaning)."""

    name: str
    property_url: str


FILE_LIST_COLUMNS = (
    FileListColumn("file_path", f"{BIA}filePath"),
    FileListColumn("dataset", f"{SCHEMA}isPartOf"),
    FileListColumn("type", RDF_TYPE),
    FileListColumn("size_in_bytes", f"{BIA}sizeInBytes"),
    FileListColumn("sha256", f"{SCHEMA}sha256"),
    FileListColumn("encoding_format", f"{SCHEMA}encodingFormat"),
    FileListColumn("associated_biological_entity", f"{BIA}associatedBiologicalEntity"),
    FileListColumn("associated_specimen", f"{BIA}associatedSubject"),
    FileListColumn(
        "associated_specimen_preparation_protocol",
        f"{BIA}associatedImagingPreparationProtocol",
    ),
    FileListColumn(
        "associated_image_acquisition_protocol",
        f"{BIA}associatedImageAcquisitionProtocol",
    ),
)
_IMAGE_LINKS = (BIOSAMPLE_ID, SPECIMEN_ID, PREPARATION_ID, ACQUISITION_PROTOCOL_ID)


@dataclass(frozen=True)
class ListedFile:
    """One row of the file list: a file (or the OME-Zarr folder) of the dataset."""

    path: str  # POSIX, relative to the dataset folder; a folder ends with "/"
    size_bytes: int
    sha256: str  # "" for a folder (its own manifest lists its files' hashes)
    encoding_format: str
    image: bool = False  # the OME-Zarr and the raw copy: a bia:Image

    def row(self) -> list[str]:
        """The row's cells, in :data:`FILE_LIST_COLUMNS` order."""
        links = list(_IMAGE_LINKS) if self.image else ["", "", "", ""]
        kind = f"{BIA}Image" if self.image else f"{SCHEMA}MediaObject"
        return [
            self.path,
            DATASET_ID,
            kind,
            str(self.size_bytes),
            self.sha256,
            self.encoding_format,
            *links,
        ]


def file_list_tsv(files: Sequence[ListedFile]) -> str:
    """The ``bia:FileList`` table: one row per file, tab-separated, with a header."""
    lines = ["\t".join(c.name for c in FILE_LIST_COLUMNS)]
    lines += ["\t".join(f.row()) for f in files]
    return "\n".join(lines) + "\n"


def _ref(entity_id: str) -> dict[str, str]:
    return {"@id": entity_id}


def _people(form: FairForm) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each author as a ``bia:Contributor`` (ORCID as ``@id``), and the
    affiliations they are members of (ROR as ``@id``), each once."""
    people: list[dict[str, Any]] = []
    affiliations: dict[str, dict[str, Any]] = {}
    for i, author in enumerate(form.study.authors):
        person: dict[str, Any] = {
            "@id": orcid_or_empty(author.orcid) or f"#person-{i + 1}",
            "@type": ["Person", "bia:Contributor"],
            "name": author.name.strip(),
        }
        if author.affiliation.strip():
            key = ror_or_empty(author.ror) or f"#affiliation-{len(affiliations) + 1}"
            for known_id, known in affiliations.items():
                if known["name"] == author.affiliation.strip():
                    key = known_id
            affiliations.setdefault(
                key,
                {
                    "@id": key,
                    "@type": ["Organization", "bia:Affiliation"],
                    "name": author.affiliation.strip(),
                },
            )
            person["memberOf"] = [_ref(key)]
        if author.role.strip():
            person["role"] = [author.role.strip()]
        people.append(person)
    return people, list(affiliations.values())


def _study(facts: Described, people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The metadata descriptor, the root ``bia:Study`` and its publication."""
    form = facts.form
    study = form.study
    root: dict[str, Any] = {
        "@id": "./",
        "@type": ["Dataset", "bia:Study"],
        "conformsTo": _ref(BIA_PROFILE),
        "name": study.title or facts.name,
        "description": " ".join(
            p for p in (study.description, acquisition_summary(form)) if p
        )
        or facts.name,
        "license": licence_url(study.licence) or study.licence,
        "datePublished": form.naming.date or facts.saved.isoformat(),
        # the BIA assigns the accession at submission; the dataset's name until then
        "accessionId": facts.name,
        "author": [_ref(p["@id"]) for p in people],
        "keywords": list(dict.fromkeys(k for k in study.keywords if k)),
        "hasPart": [_ref(DATASET_ID), _ref(f"{_zarr_id(facts)}"), _ref(FILE_LIST)],
    }
    entities = [
        {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "about": _ref("./"),
            "conformsTo": _ref(RO_CRATE_SPEC),
        },
        root,
    ]
    if study.funding:
        root["fundingStatement"] = study.funding
    doi = study.related_publication_doi
    if is_doi(doi):
        publication = f"https://doi.org/{doi}"
        root["relatedPublication"] = [_ref(publication)]
        entities.append({"@id": publication, "@type": "bia:Publication", "doi": doi})
    return entities


def _zarr_id(facts: Described) -> str:
    return f"{facts.name}.ome.zarr/"


def _protocols(facts: Described) -> list[dict[str, Any]]:
    """How the specimen was prepared (per channel) and how it was imaged."""
    form = facts.form
    acq = form.image_acquisition
    method = form.study_component.imaging_method
    instrument = " ".join(
        p for p in (acq.instrument_manufacturer, acq.instrument) if p
    ).strip()
    channels = [
        {
            "@id": f"#channel-{i + 1}",
            "@type": "bia:SignalChannel",
            "identifier": channel.name or f"channel {i + 1}",
            "signalContrastMechanismDescription": channel.contrast_method
            or "not stated",
            "channelContentDescription": " ".join(
                p for p in (channel.fluorophore, channel.target) if p
            )
            or "not stated",
            "channelBiologicalEntity": channel.target or "not stated",
        }
        for i, channel in enumerate(form.specimen.channels)
    ]
    preparation = {
        "@id": PREPARATION_ID,
        "@type": "bia:SpecimenImagingPreparationProtocol",
        "name": "Specimen preparation",
        "description": form.specimen.preparation_protocol or "not stated",
        "signalChannelInformation": [_ref(c["@id"]) for c in channels],
    }
    acquisition = {
        "@id": ACQUISITION_PROTOCOL_ID,
        "@type": "bia:ImageAcquisitionProtocol",
        "name": form.study_component.name or "Image acquisition",
        "description": acquisition_summary(form) or "not stated",
        "imagingInstrumentDescription": instrument or "not stated",
        "imagingMethodName": [method.label] if method.label else [],
        "fbbiId": [method.id] if method.id else [],
    }
    return [preparation, *channels, acquisition]


def _biosample(form: FairForm) -> list[dict[str, Any]]:
    """The biosample, its organism (``bia:Taxon``) and the specimen made from it."""
    biosample = form.biosample
    organism = biosample.organism
    taxa: list[dict[str, Any]] = []
    if organism.id or organism.label:
        # a name typed outside the offline list has no id: a local taxon entity
        taxon_id = curie_iri(organism.id) if organism.id else "#taxon"
        taxa.append({"@id": taxon_id, "@type": "bia:Taxon"})
        if organism.label:
            taxa[0]["scientificName"] = organism.label
    entity = biosample.biological_entity or "not stated"
    sample: dict[str, Any] = {
        "@id": BIOSAMPLE_ID,
        "@type": "bia:BioSample",
        "name": entity,
        "description": entity,
        "organismClassification": [_ref(t["@id"]) for t in taxa],
    }
    for key, text in (
        ("intrinsicVariableDescription", biosample.intrinsic_variables),
        ("extrinsicVariableDescription", biosample.extrinsic_variables),
        ("experimentalVariableDescription", biosample.experimental_variables),
    ):
        if text:
            sample[key] = [text]
    specimen = {
        "@id": SPECIMEN_ID,
        "@type": "bia:Specimen",
        "biologicalEntity": [_ref(BIOSAMPLE_ID)],
        "imagingPreparationProtocol": [_ref(PREPARATION_ID)],
    }
    return [sample, *taxa, specimen]


def _dataset(facts: Described) -> list[dict[str, Any]]:
    """The REMBI ``bia:Dataset``, the acquisition that made the image, the image."""
    form = facts.form
    zarr = _zarr_id(facts)
    dataset = {
        "@id": DATASET_ID,
        "@type": ["Dataset", "bia:Dataset"],
        "name": form.study_component.name or facts.name,
        "description": form.study_component.description
        or f"{facts.name}: one scene of {facts.source.file_name}",
        "associatedBiologicalEntity": [_ref(BIOSAMPLE_ID)],
        "associatedSpecimen": _ref(SPECIMEN_ID),
        "associatedSpecimenImagingPreparationProtocol": [_ref(PREPARATION_ID)],
        "associatedImageAcquisitionProtocol": [_ref(ACQUISITION_PROTOCOL_ID)],
        "associatedCreationProcess": _ref(CREATION_ID),
        "hasPart": [_ref(zarr)],
    }
    creation = {
        "@id": CREATION_ID,
        "@type": "bia:CreationProcess",
        "description": f"Acquisition recorded in {facts.source.text()}",
        "imageAcquisitionProtocol": [_ref(ACQUISITION_PROTOCOL_ID)],
        "subject": _ref(SPECIMEN_ID),
    }
    image = {
        "@id": zarr,
        "@type": ["Dataset", "bia:Image"],
        "name": zarr.rstrip("/"),
        "description": f"OME-Zarr (OME-NGFF {facts.ngff_version}) converted "
        f"without loss from {facts.source.text()}",
        "encodingFormat": OME_ZARR_MEDIA_TYPE,
        "conformsTo": _ref(f"https://ngff.openmicroscopy.org/{facts.ngff_version}/"),
        "resultOf": _ref(CREATION_ID),
    }
    return [dataset, creation, image]


def _file_list_entities(file_list_sha256: str) -> list[dict[str, Any]]:
    """The file list and its table schema: a ``csvw:Column`` per column."""
    columns = [
        {
            "@id": f"#column-{c.name}",
            "@type": "csvw:Column",
            "columnName": c.name,
            "propertyUrl": c.property_url,
        }
        for c in FILE_LIST_COLUMNS
    ]
    return [
        {
            "@id": FILE_LIST,
            "@type": ["File", "bia:FileList", "csvw:Table"],
            "name": "file list",
            "encodingFormat": "text/tab-separated-values",
            "sha256": file_list_sha256,
            "tableSchema": _ref(SCHEMA_ID),
        },
        {
            "@id": SCHEMA_ID,
            "@type": "csvw:Schema",
            "column": [_ref(c["@id"]) for c in columns],
        },
        *columns,
    ]


def build_crate(facts: Described, file_list_sha256: str) -> dict[str, Any]:
    """The crate: study and people, REMBI entities, the image, the file list."""
    people, affiliations = _people(facts.form)
    graph = [
        *_study(facts, people),
        *people,
        *affiliations,
        *_dataset(facts),
        *_biosample(facts.form),
        *_protocols(facts),
        *_file_list_entities(file_list_sha256),
    ]
    return {"@context": [RO_CRATE_CONTEXT, CONTEXT_TERMS], "@graph": graph}
