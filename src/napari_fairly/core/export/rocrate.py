"""``ro-crate-metadata.json`` and ``file_list.tsv`` (SPEC 7.5).

RO-Crate 1.1 with the root folder as a ``Dataset`` + ``bia:Study``, following the
BioImage Archive submission profile's entity types as far as they apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

RO_CRATE_CONTEXT = "https://w3id.org/ro/crate/1.1/context"
RO_CRATE_SPEC = "https://w3id.org/ro/crate/1.1"
BIA_PROFILE = "https://w3id.org/bia/ro-crate/profile/bia-submission"
LICENCE_URLS = {
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "etalab-2.0": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}
FILE_LIST_COLUMNS = (
    "file_path",
    "dataset",
    "associated_protocol",
    "associated_specimen",
)
FBBI_LABELS = {
    "WideField": ("FBbi_00000246", "fluorescence microscopy"),
    "LaserScanningConfocalMicroscopy": ("FBbi_00000251", "confocal microscopy"),
    "SpinningDiskConfocal": ("FBbi_00000253", "spinning disk confocal microscopy"),
    "BrightField": ("FBbi_00000243", "bright-field microscopy"),
    "SPIM": ("FBbi_00000369", "light sheet fluorescence microscopy"),
}


def file_list_tsv(name: str, files: Sequence[str]) -> str:
    """The ``bia:FileList`` table: one row per file of the dataset (tab-separated)."""
    lines = ["\t".join(FILE_LIST_COLUMNS)]
    for path in files:
        lines.append("\t".join((path, "#acq", "#protocol-acq", "#biosample")))
    del name
    return "\n".join(lines) + "\n"


def _first(mapping: Mapping[str, Any] | None, *keys: str) -> Any:
    """The first key present in a nested dict (the form module's mapping may vary)."""
    if not mapping:
        return None
    for key in keys:
        value: Any = mapping
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value not in (None, "", [], {}):
            return value
    return None


def _licence(rembi: Mapping[str, Any], dc: Mapping[str, Any]) -> str:
    """The licence's URL where known, else its SPDX id (CC-BY-4.0 by default)."""
    licence = (
        _first(rembi, "study.licence", "study.license")
        or dc.get("rights")
        or "CC-BY-4.0"
    )
    if isinstance(licence, Mapping):
        licence = licence.get("id") or licence.get("value") or "CC-BY-4.0"
    return LICENCE_URLS.get(str(licence), str(licence))


def _people(rembi: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One ``Person`` per study author; the ORCID as ``@id`` when given."""
    people: list[dict[str, Any]] = []
    authors = _first(rembi, "study.authors") or []
    for i, author in enumerate(authors if isinstance(authors, list) else []):
        if not isinstance(author, Mapping):
            continue
        orcid = author.get("orcid") or ""
        if orcid and not str(orcid).startswith("http"):
            orcid = f"https://orcid.org/{orcid}"
        person = {
            "@id": orcid or f"#person-{i}",
            "@type": ["Person", "bia:Contributor"],
            "name": author.get("name", ""),
            "displayName": author.get("name", ""),
        }
        if author.get("affiliation"):
            person["affiliation"] = author["affiliation"]
        people.append(person)
    return people


def _imaging_methods(
    rembi: Mapping[str, Any], acquisition: Mapping[str, Any]
) -> tuple[list[str], list[str]]:
    """FBbi ids and labels: the form's imaging method, else the channels' modes."""
    imaging = _first(
        rembi, "study_component.imaging_method", "image_acquisition.imaging_method"
    )
    if isinstance(imaging, Mapping) and imaging.get("id"):
        return [str(imaging["id"])], [str(imaging.get("label", ""))]
    fbbi_ids: list[str] = []
    fbbi_labels: list[str] = []
    for channel in acquisition.get("channels", []):
        mode = (channel.get("acquisition_mode") or {}).get("value")
        if mode in FBBI_LABELS and FBBI_LABELS[mode][0] not in fbbi_ids:
            fbbi_ids.append(FBBI_LABELS[mode][0])
            fbbi_labels.append(FBBI_LABELS[mode][1])
    return fbbi_ids, fbbi_labels


def _objective_text(acquisition: Mapping[str, Any]) -> str:
    """The objective's model and NA, as far as the file states them."""
    objective = acquisition.get("objective") or {}
    na = (objective.get("na") or {}).get("value")
    return " ".join(
        str(v)
        for v in (
            (objective.get("model") or {}).get("value"),
            f"NA {na}" if na else None,
        )
        if v
    )


def _organism(rembi: Mapping[str, Any]) -> tuple[str | None, str]:
    """The organism's taxon id (None if not given) and name."""
    organism = _first(rembi, "biosample.organism") or {}
    if not isinstance(organism, Mapping):
        return None, ""
    return organism.get("id"), organism.get("name", "")


def _study_entities(
    name: str,
    name_parts: Mapping[str, Any],
    rembi: Mapping[str, Any],
    dc: Mapping[str, Any],
    part_ids: list[str],
) -> list[dict[str, Any]]:
    """The metadata descriptor, the root study and its contributors."""
    title = _first(rembi, "study.title") or dc.get("title") or name
    description = _first(rembi, "study.description") or dc.get("description") or title
    people = _people(rembi)
    return [
        {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "about": {"@id": "./"},
            "conformsTo": [{"@id": RO_CRATE_SPEC}, {"@id": BIA_PROFILE}],
        },
        {
            "@id": "./",
            "@type": ["Dataset", "bia:Study"],
            "name": str(title),
            "title": str(title),
            "description": str(description),
            "license": _licence(rembi, dc),
            "datePublished": name_parts["date"],
            "identifier": name,
            "contributor": [{"@id": p["@id"]} for p in people],
            "hasPart": [{"@id": p} for p in part_ids] + [{"@id": "#acq"}],
        },
        *people,
    ]


def _acquisition_entities(
    name: str,
    name_parts: Mapping[str, Any],
    rembi: Mapping[str, Any],
    acquisition: Mapping[str, Any],
    zarr_folder: str,
) -> list[dict[str, Any]]:
    """The dataset, its acquisition and specimen protocols and the biosample."""
    fbbi_ids, fbbi_labels = _imaging_methods(rembi, acquisition)
    microscope = (acquisition.get("microscope") or {}).get("value") or ""
    organism_id = _organism(rembi)[0]
    entity = _first(rembi, "biosample.biological_entity")
    return [
        {
            "@id": "#acq",
            "@type": ["Dataset", "bia:Dataset"],
            "name": " ".join((name_parts["sample"], name_parts["condition"])),
            "associatedImageAcquisitionProtocol": [{"@id": "#protocol-acq"}],
            "associatedBiologicalEntity": [{"@id": "#biosample"}],
            "associatedSpecimenImagingPreparationProtocol": [
                {"@id": "#protocol-specimen"}
            ],
            "hasPart": [{"@id": f"{zarr_folder}/"}],
        },
        {
            "@id": "#protocol-acq",
            "@type": "bia:ImageAcquisitionProtocol",
            "title": f"Acquisition of {name}",
            "protocolDescription": _objective_text(acquisition)
            or "see the sidecar's acquisition section",
            "imagingInstrumentDescription": microscope or "not stated in the file",
            "fbbiId": fbbi_ids,
            "imagingMethodName": fbbi_labels,
        },
        {
            "@id": "#protocol-specimen",
            "@type": "bia:SpecimenImagingPreparationProtocol",
            "title": "Specimen preparation",
            "protocolDescription": str(
                _first(rembi, "specimen.preparation_protocol", "specimen.protocol")
                or "not given"
            ),
        },
        {
            "@id": "#biosample",
            "@type": "bia:BioSample",
            "title": str(entity or "biosample"),
            "organismClassification": [{"@id": organism_id}] if organism_id else [],
            "biologicalEntityDescription": str(entity or "not given"),
        },
    ]


def _file_entities(
    files: Mapping[str, dict[str, Any]], rembi: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The organism's taxon, every file, and the file list's table schema."""
    graph: list[dict[str, Any]] = []
    organism_id, organism_name = _organism(rembi)
    if organism_id:
        graph.append(
            {"@id": organism_id, "@type": "bia:Taxon", "scientificName": organism_name}
        )
    for path, props in files.items():
        entity: dict[str, Any] = {"@id": path, "@type": "File", "name": path, **props}
        if path == "file_list.tsv":
            entity["@type"] = ["File", "bia:FileList", "csvw:Table"]
            entity["tableSchema"] = {"@id": "#ts0"}
        graph.append(entity)
    graph.append(
        {
            "@id": "#ts0",
            "@type": "csvw:Schema",
            "column": [{"@id": f"#ts0-{c}"} for c in FILE_LIST_COLUMNS],
        }
    )
    for column in FILE_LIST_COLUMNS:
        graph.append(
            {"@id": f"#ts0-{column}", "@type": "csvw:Column", "csvw:name": column}
        )
    return graph


def build_crate(
    *,
    name: str,
    name_parts: Mapping[str, Any],
    rembi: Mapping[str, Any],
    dublin_core: Mapping[str, Any],
    acquisition: Mapping[str, Any],
    files: Mapping[str, dict[str, Any]],
    zarr_folder: str,
    ngff_version: str,
) -> dict[str, Any]:
    """The crate: root study, contributors, dataset, protocol, biosample and every file.

    Parameters
    ----------
    name_parts, rembi, dublin_core, acquisition
        The sidecar's blocks of the same names.
    files
        Relative path → extra properties (``encodingFormat``, ``sha256``) of each file
        that is not inside the OME-Zarr folder.
    """
    part_ids = [f"{zarr_folder}/", *files.keys()]
    graph = [
        *_study_entities(name, name_parts, rembi, dublin_core, part_ids),
        *_acquisition_entities(name, name_parts, rembi, acquisition, zarr_folder),
        {
            "@id": f"{zarr_folder}/",
            "@type": "Dataset",
            "name": zarr_folder,
            "encodingFormat": "application/x-ome-zarr",
            "conformsTo": {"@id": f"https://ngff.openmicroscopy.org/{ngff_version}/"},
        },
        *_file_entities(files, rembi),
    ]
    return {
        "@context": [
            RO_CRATE_CONTEXT,
            {"bia": "http://bia/", "csvw": "http://www.w3.org/ns/csvw#"},
        ],
        "@graph": graph,
    }
