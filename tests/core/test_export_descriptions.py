"""DataCite, Dublin Core and RO-Crate builders: pure functions of typed facts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from datacite import schema45
from lxml import etree

from napari_fairly.core.export.datacite import datacite_record, datacite_xml
from napari_fairly.core.export.describe import Described, SourceFile
from napari_fairly.core.export.dublin_core import dublin_core_record
from napari_fairly.core.export.rocrate import CONTEXT_TERMS, build_crate
from napari_fairly.core.form import FairForm, prefill_form, set_field

NAME = "2023-01-15_TNT_MicroAlgue_ALebon_Controle_RAW_v01"
SOURCE = SourceFile(
    file_name="exp3.czi",
    sha256="ab" * 32,
    size_bytes=1234,
    scene_number=1,
    scene_count=1,
    format="czi",
)
TYPED: dict[str, Any] = {
    "naming.date": "2023-01-15",
    "naming.project": "TNT",
    "naming.sample": "MicroAlgue",
    "naming.creator": "ALebon",
    "naming.condition": "Controle",
    "study.title": "Chlamydomonas flagella",
    "study.publisher": "Université Exemple",
    "study.authors": "Alice Lebon|0000-0002-1825-0097|Université Exemple|02feahw73",
    "biosample.organism": "Chlamydomonas reinhardtii",
    "biosample.biological_entity": "whole cells",
    "study_component.imaging_method": "FBbi_00000251",
    "image_acquisition.instrument": "LSM 980",
    "image_acquisition.objective": "Plan-Apochromat 63x/1.4 Oil",
}


def facts(form: FairForm | None = None) -> Described:
    form = form or prefill_form(None, None, None, TYPED)
    return Described(NAME, form, SOURCE, "0.4", dt.date(2024, 3, 1))


def test_dublin_core_has_the_15_elements() -> None:
    form = set_field(facts().form, "operator", "Bob Martin")
    dc = dublin_core_record(facts(form))
    assert list(dc) == [
        "title",
        "creator",
        "subject",
        "description",
        "publisher",
        "contributor",
        "date",
        "type",
        "format",
        "identifier",
        "source",
        "language",
        "relation",
        "coverage",
        "rights",
    ]
    assert dc["creator"] == ["Alice Lebon (https://orcid.org/0000-0002-1825-0097)"]
    assert dc["type"] == "Image"
    assert dc["date"] == "2023-01-15"
    assert dc["identifier"] == NAME
    assert "Chlamydomonas reinhardtii" in dc["subject"]
    assert "confocal microscopy" in dc["subject"]
    assert dc["contributor"] == ["Bob Martin"]
    assert dc["rights"] == "CC-BY-4.0 https://creativecommons.org/licenses/by/4.0/"
    assert dc["source"] == f"exp3.czi sha256:{'ab' * 32}"  # a name, never a path
    assert "LSM 980; Plan-Apochromat 63x/1.4 Oil" in dc["description"]
    assert dc["format"] == ["application/x-ome-zarr; ngff=0.4", "source: czi"]


def test_datacite_record_is_schema_4_5_with_no_doi_yet() -> None:
    record = datacite_record(facts())
    assert list(schema45.validator.iter_errors(record)) == []
    assert "doi" not in record and "identifier" not in record
    assert "publicationYearProvisional" not in record
    assert record["publicationYear"] == "2024"  # the save's year, as a string
    assert record["publisher"] == {"name": "Université Exemple"}
    (creator,) = record["creators"]
    assert creator["name"] == "Lebon, Alice"
    assert creator["nameIdentifiers"] == [
        {
            "nameIdentifier": "https://orcid.org/0000-0002-1825-0097",
            "nameIdentifierScheme": "ORCID",
            "schemeUri": "https://orcid.org",
        }
    ]
    assert creator["affiliation"] == [
        {
            "name": "Université Exemple",
            "affiliationIdentifier": "https://ror.org/02feahw73",
            "affiliationIdentifierScheme": "ROR",
            "schemeUri": "https://ror.org/",
        }
    ]
    assert {
        "subject": "confocal microscopy",
        "subjectScheme": "FBbi",
        "schemeUri": "http://purl.obolibrary.org/obo/fbbi.owl",
        "valueUri": "http://purl.obolibrary.org/obo/FBbi_00000251",
        "classificationCode": "FBbi:00000251",
    } in record["subjects"]
    assert record["dates"] == [
        {"date": "2023-01-15", "dateType": "Collected"},
        {"date": "2024-03-01", "dateType": "Created"},
    ]
    (technical,) = record["descriptions"]
    assert technical["descriptionType"] == "TechnicalInfo"
    assert f"exp3.czi (sha256 {'ab' * 32}), scene 1 of 1" in technical["description"]


def test_a_sparse_form_still_gives_a_valid_record() -> None:
    """Mandatory properties are never missing: DataCite's ':unav' stands in."""
    record = datacite_record(facts(FairForm()))
    assert list(schema45.validator.iter_errors(record)) == []
    assert record["creators"] == [{"name": ":unav"}]
    assert record["publisher"] == {"name": ":unav"}
    assert record["titles"] == [{"title": NAME}]


def test_duplicate_keywords_do_not_break_the_schema() -> None:
    form = set_field(facts().form, "study.keywords", "algae, flagella, algae")
    record = datacite_record(facts(form))
    assert list(schema45.validator.iter_errors(record)) == []
    assert [s["subject"] for s in record["subjects"]][:2] == ["algae", "flagella"]


def test_the_xml_is_the_same_record() -> None:
    form = set_field(facts().form, "study.publisher_ror", "02feahw73")
    record = datacite_record(facts(form))
    text = datacite_xml(record)
    assert text.startswith("<?xml") and text.endswith("\n")
    root = etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=False))
    ns = "{http://datacite.org/schema/kernel-4}"
    assert root.tag == f"{ns}resource"
    publisher = root.find(f"{ns}publisher")
    assert publisher is not None and publisher.text == "Université Exemple"
    assert publisher.get("publisherIdentifier") == "https://ror.org/02feahw73"
    assert publisher.get("publisherIdentifierScheme") == "ROR"
    assert root.findtext(f"{ns}publicationYear") == "2024"
    assert root.find(f"{ns}identifier") is None
    assert root.findtext(f"{ns}creators/{ns}creator/{ns}creatorName") == (
        "Lebon, Alice"
    )


def test_crate_terms_are_all_defined_and_ids_are_curies() -> None:
    crate = build_crate(facts(), "cd" * 32)
    context = crate["@context"]
    assert context[0] == "https://w3id.org/ro/crate/1.1/context"
    graph = {e["@id"]: e for e in crate["@graph"]}
    protocol = graph["#image-acquisition"]
    assert protocol["fbbiId"] == ["FBbi:00000251"]
    assert protocol["imagingMethodName"] == ["confocal microscopy"]
    assert protocol["imagingInstrumentDescription"] == "LSM 980"
    taxon = graph["http://purl.obolibrary.org/obo/NCBITaxon_3055"]
    assert taxon["scientificName"] == "Chlamydomonas reinhardtii"
    assert graph["file_list.tsv"]["sha256"] == "cd" * 32
    rocrate_terms = {
        "name",
        "description",
        "license",
        "datePublished",
        "hasPart",
        "about",
        "conformsTo",
        "encodingFormat",
        "identifier",
    }
    used = {k for e in crate["@graph"] for k in e if not k.startswith("@")}
    assert used - rocrate_terms <= set(CONTEXT_TERMS)


@pytest.mark.parametrize("organism", ["", "Toxoplasma gondii"])
def test_crate_organism_without_an_id(organism: str) -> None:
    form = set_field(facts().form, "biosample.organism", organism)
    graph = {e["@id"]: e for e in build_crate(facts(form), "")["@graph"]}
    classification = graph["#biosample"]["organismClassification"]
    if organism:
        assert classification == [{"@id": "#taxon"}]
        assert graph["#taxon"]["scientificName"] == organism
    else:
        assert classification == [] and "#taxon" not in graph
