"""The FAIR form: prefill order and provenance, checks, exports, round trips."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DATA
from napari_fairly.core.errors import (
    FormFileError,
    InvalidFormValueError,
    TemplateError,
)
from napari_fairly.core.form import (
    FIELD_PATHS,
    FairForm,
    form_from_csv,
    form_from_json,
    form_issues,
    form_json_schema,
    form_to_csv,
    form_to_csv_rows,
    form_to_json,
    missing_required,
    prefill_form,
    profile_from_form,
    rembi_dict,
    set_field,
)
from napari_fairly.core.metadata import AcquisitionMetadata, ChannelMetadata, Objective
from napari_fairly.core.model import Sourced
from napari_fairly.core.naming import InvalidNameError, is_safe_filename
from napari_fairly.core.reading import open_acquisition
from napari_fairly.core.resources import resource_path
from napari_fairly.core.settings import FacilityTemplate, OperatorProfile, load_template

TYPED = {
    "naming.project": "TNT",
    "naming.sample": "MicroAlgue",
    "naming.creator": "ALebon",
    "naming.condition": "Controle",
    "study.title": "Chlamydomonas flagella",
    "study.authors": "Alice Lebon|0000-0002-1825-0097|Université Exemple",
    "biosample.organism": "Chlamydomonas reinhardtii",
    "biosample.biological_entity": "whole cells",
    "study.publisher": "Université Exemple",
}


def hand_metadata(**changes: Any) -> AcquisitionMetadata:
    base = AcquisitionMetadata(
        source_path="/acq/exp3.czi",
        size_bytes=1234,
        format="czi",
        reader="hand-built",
        shape={"T": 1, "C": 2, "Z": 5, "Y": 64, "X": 64},
        dtype="uint16",
        pixel_size_x_um=Sourced.found(0.065, "ome:Pixels@PhysicalSizeX", unit="µm"),
        acquisition_date=Sourced.found(
            "2023-01-15T14:02:11+01:00", "ome:Image/AcquisitionDate"
        ),
        microscope=Sourced.found("LSM 980", "ome:Microscope@Model"),
        experimenter=Sourced.found("Alice Lebon", "ome:Experimenter"),
        objective=Objective(
            model=Sourced.found("Plan-Apochromat 63x/1.4 Oil", "ome:Objective@Model"),
            magnification=Sourced.found(63.0, "ome:Objective@NominalMagnification"),
            na=Sourced.found(1.4, "ome:Objective@LensNA"),
            immersion=Sourced.found("Oil", "ome:Objective@Immersion"),
        ),
        channels=(
            ChannelMetadata(
                index=0,
                name=Sourced.found("EGFP", "ome:Channel@Name"),
                fluorophore=Sourced.found("EGFP", "ome:Channel@Fluor"),
                acquisition_mode=Sourced.found(
                    "LaserScanningConfocalMicroscopy", "ome:Channel@AcquisitionMode"
                ),
                excitation_wavelength_nm=Sourced.found(
                    488.0, "ome:Channel@ExcitationWavelength"
                ),
                emission_wavelength_nm=Sourced.found(
                    520.0, "ome:Channel@EmissionWavelength"
                ),
            ),
            ChannelMetadata(
                index=1, name=Sourced.found("Chlorophyll", "ome:Channel@Name")
            ),
        ),
    )
    return base.replace(**changes) if changes else base


def complete_form(**typed: Any) -> FairForm:
    return prefill_form(hand_metadata(), None, None, {**TYPED, **typed})


# ----------------------------------------------------------------------- prefill


def test_prefill_from_hand_built_metadata_records_sources() -> None:
    form = prefill_form(hand_metadata(), None, None, None)
    assert form.naming.date == "2023-01-15"
    assert form.sources["naming.date"] == "file:ome:Image/AcquisitionDate"
    assert form.image_acquisition.acquisition_datetime == "2023-01-15T14:02:11+01:00"
    assert form.image_acquisition.objective_na == 1.4
    assert form.sources["image_acquisition.objective_na"] == "file:ome:Objective@LensNA"
    assert form.image_acquisition.instrument == "LSM 980"
    assert form.image_acquisition.pixel_size_x_um == pytest.approx(0.065)
    assert [c.name for c in form.image_acquisition.channels] == ["EGFP", "Chlorophyll"]
    assert form.image_acquisition.channels[0].excitation_wavelength_nm == 488.0
    assert form.specimen.channels[0].fluorophore == "EGFP"
    assert form.study_component.imaging_method.id == "FBbi:00000251"
    assert form.sources["study_component.imaging_method"].startswith(
        "file:ome:Channel@AcquisitionMode"
    )
    assert form.study.authors[0].name == "Alice Lebon"
    assert form.image_data.shape == {"T": 1, "C": 2, "Z": 5, "Y": 64, "X": 64}
    assert (form.naming.datatype, form.naming.version, form.study.licence) == (
        "RAW",
        "v01",
        "CC-BY-4.0",
    )
    assert form.sources["naming.datatype"] == "default"
    assert "naming.project" not in form.sources


def test_prefill_real_nd2() -> None:
    acq = open_acquisition(DATA / "nd2" / "example-multichannel.nd2")
    form = prefill_form(acq.metadata, None, None, None)
    assert form.naming.date == "2025-04-17"
    assert form.sources["naming.date"].startswith("file:nd2:")
    assert form.image_acquisition.objective_magnification == 20.0
    assert form.image_acquisition.objective_na == 0.75
    assert form.sources["image_acquisition.objective_na"].startswith("file:nd2:")
    assert len(form.image_acquisition.channels) == 4
    assert [c.name for c in form.specimen.channels] == [
        "Mono",
        "DAPI",
        "FITC BP",
        "TRITC BP",
    ]
    assert form.image_acquisition.channels[0].exposure_s == pytest.approx(0.02)
    assert form.image_data.format == "nd2"
    # the file's name only: a saved form must not tell where the file lies
    assert form.image_data.source_file == "example-multichannel.nd2"


def test_prefill_real_czi() -> None:
    acq = open_acquisition(DATA / "czi" / "CellDivision_T3_Z5_CH2_X240_Y170.czi")
    form = prefill_form(acq.metadata, None, None, None)
    assert form.naming.date == "2016-02-12"
    assert [c.fluorophore for c in form.specimen.channels] == [
        "Alexa Fluor 555",
        "Alexa Fluor 488",
    ]
    assert form.sources["specimen.channels"].startswith("file")
    assert form.image_acquisition.objective_na == pytest.approx(1.2)
    assert form.image_acquisition.immersion == "Water"
    assert form.study_component.imaging_method.label == "fluorescence microscopy"
    fluor_warnings = [i for i in form_issues(form) if "fluorophore" in i.field]
    assert fluor_warnings == []


def test_prefill_order_file_template_profile_typed() -> None:
    template = FacilityTemplate(
        facility="Facility",
        source_path="/etc/fac.yaml",
        defaults={
            "image_acquisition.instrument": "Template scope",
            "study.title": "T title",
            "biosample.organism": "Danio rerio",
        },
    )
    profile = OperatorProfile(
        operator="Alice",
        last={
            "study.title": "Profile title",
            "naming.project": "PRJ",
            "study.keywords": ["a", "b"],
            "image_acquisition.instrument": "ignored: not a profile field",
        },
    )
    form = prefill_form(hand_metadata(), template, profile, {"naming.project": "TNT"})
    assert form.image_acquisition.instrument == "LSM 980"  # file first
    assert form.sources["image_acquisition.instrument"].startswith("file:")
    assert form.study.title == "T title"  # template before profile
    assert form.sources["study.title"] == "template:fac.yaml"
    assert form.study.keywords == ("a", "b")  # profile
    assert form.sources["study.keywords"] == "profile:Alice"
    assert form.naming.project == "TNT"  # typed wins
    assert form.sources["naming.project"] == "operator"
    assert form.biosample.organism.id == "NCBITaxon:7955"
    assert form.study.publisher == "Facility"
    assert form.sources["study.publisher"] == "template:fac.yaml"


def test_fixed_template_fields_cannot_be_overridden() -> None:
    template = load_template(resource_path("templates", "example-facility.yaml"))
    form = prefill_form(hand_metadata(), template, None, {"study.licence": "CC-BY-4.0"})
    assert form.study.licence == "CC-BY-4.0"
    assert set(form.rules.fixed_fields) == {"study.language", "study.licence"}
    with pytest.raises(InvalidFormValueError, match="fixed by the facility template"):
        prefill_form(hand_metadata(), template, None, {"study.licence": "CC0-1.0"})
    with pytest.raises(InvalidFormValueError, match="fixed"):
        set_field(form, "study.licence", "CC0-1.0")
    assert set_field(form, "study.licence", form.study.licence) == form


def test_template_publisher_is_a_default_the_operator_may_change() -> None:
    """The publisher defaults to the template's (with its ROR id); a dataset
    deposited in a repository may name the repository instead."""
    template = load_template(resource_path("templates", "example-facility.yaml"))
    form = prefill_form(hand_metadata(), template, None, None)
    assert form.study.publisher == "Université Exemple, CNRS"
    assert form.study.publisher_ror == "https://ror.org/02feahw73"
    assert form.sources["study.publisher"] == "template:example-facility.yaml"
    changed = set_field(form, "study.publisher", "EMBL-EBI")
    assert changed.study.publisher == "EMBL-EBI"
    assert changed.sources["study.publisher"] == "operator"
    fixed = FacilityTemplate(facility="F", fixed={"study.publisher": "F"})
    with pytest.raises(InvalidFormValueError, match="fixed"):
        set_field(prefill_form(None, fixed, None, None), "study.publisher", "G")


def test_publisher_is_required_and_its_ror_checked() -> None:
    form = complete_form(**{"study.publisher": ""})
    errors = {i.field: i for i in form_issues(form) if i.severity == "error"}
    assert errors["study.publisher"].code == "required"
    bad = complete_form(**{"study.publisher_ror": "https://ror.org/02feahw74"})
    (issue,) = [i for i in form_issues(bad) if i.severity == "error"]
    assert issue.field == "study.publisher_ror"
    assert "check digits (expected 73" in issue.message
    good = complete_form(**{"study.publisher_ror": "02feahw73"})
    assert [i for i in form_issues(good) if i.severity == "error"] == []


def test_template_naming_unknown_fields_is_an_error() -> None:
    template = FacilityTemplate(facility="F", defaults={"study.colour": "red"})
    with pytest.raises(TemplateError, match=r"study\.colour"):
        prefill_form(None, template, None, None)


def test_template_rules_are_checked() -> None:
    template = load_template(resource_path("templates", "example-facility.yaml"))
    form = prefill_form(
        hand_metadata(), template, None, {**TYPED, "naming.project": "XYZ"}
    )
    by_field = {i.field: i for i in form_issues(form)}
    assert by_field["naming.project"].severity == "error"
    assert "TNT, NUC-2, DEMO" in by_field["naming.project"].fix
    assert by_field["study.funding"].severity == "error"  # extra required field
    assert by_field["image_acquisition.instrument"].severity == "warning"
    flim = set_field(
        set_field(form, "naming.project", "TNT"), "naming.datatype", "FLIM"
    )
    assert flim.name().endswith("_FLIM_v01")


# ----------------------------------------------------------------------- checks


def test_missing_required_fields_are_errors() -> None:
    form = prefill_form(None, None, None, None)
    missing = missing_required(form)
    assert missing == [
        "naming.date",
        "naming.project",
        "naming.sample",
        "naming.creator",
        "naming.condition",
        "study.title",
        "study.authors",
        "study.publisher",
        "study_component.name",
        "study_component.imaging_method",
        "biosample.organism",
        "biosample.biological_entity",
        "image_acquisition.instrument",
        "image_acquisition.acquisition_datetime",
    ]
    errors = {i.field for i in form_issues(form) if i.severity == "error"}
    assert set(missing) <= errors
    codes = {i.field: i.code for i in form_issues(form)}
    assert codes["study.title"] == "required"
    assert codes["study.description"] == "recommended"
    dated = set_field(
        form, "image_acquisition.acquisition_datetime", "2023-01-15T10:00:00"
    )
    offset = [i for i in form_issues(dated) if "UTC offset" in i.message]
    assert [(i.severity, i.code) for i in offset] == [("warning", "check")]


def test_complete_form_has_no_errors_and_builds_its_name() -> None:
    form = complete_form()
    assert [i for i in form_issues(form) if i.severity == "error"] == []
    assert form.name() == "2023-01-15_TNT_MicroAlgue_ALebon_Controle_RAW_v01"
    assert form.name_parts().version_width == 2
    warnings = {i.field for i in form_issues(form) if i.severity == "warning"}
    assert "study.description" in warnings


@pytest.mark.parametrize(
    ("field", "value", "code_field", "words"),
    [
        (
            "study.authors",
            "A. Lebon|0000-0002-1825-0098",
            "study.authors[0].orcid",
            "check digit",
        ),
        (
            "biosample.organism",
            "NCBITaxon:abc",
            "biosample.organism",
            "not an NCBI Taxonomy id",
        ),
        ("study.licence", "WTFPL", "study.licence", "not a known SPDX id"),
        (
            "study.related_publication_doi",
            "doi 12",
            "study.related_publication_doi",
            "not a DOI",
        ),
        (
            "image_acquisition.acquisition_datetime",
            "15/01/2023",
            "image_acquisition.acquisition_datetime",
            "ISO 8601",
        ),
        (
            "study_component.imaging_method",
            "holography",
            "study_component.imaging_method",
            "unknown term",
        ),
        ("study_component.name", "../../etc", "study_component.name", "path separator"),
        ("operator", "a\\b", "operator", "path separator"),
        ("naming.condition", "Contrôle", "naming.condition", "Controle"),
        ("naming.sample", "../up", "naming.sample", "/"),
    ],
)
def test_invalid_values_are_errors(
    field: str, value: str, code_field: str, words: str
) -> None:
    form = set_field(complete_form(), field, value)
    errors = [i for i in form_issues(form) if i.severity == "error"]
    assert [i.field for i in errors] == [code_field], errors
    assert words in errors[0].message + " " + errors[0].fix


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                ("study.title", "Study title is required.", "Fill it in."),
                (
                    "study.authors[0].orcid",
                    "ORCID '0000-0002-1825-0098' has a wrong check digit "
                    "(expected 7; typo?).",
                    "Copy it from orcid.org.",
                ),
                (
                    "study.related_publication_doi",
                    "'doi 12' is not a DOI.",
                    "Type it as 10.1234/abcd (prefix 10.).",
                ),
            ],
        ),
        (
            "fr",
            [
                (
                    "study.title",
                    "Le champ « Titre de l'étude » est obligatoire.",
                    "Remplissez-le.",
                ),
                (
                    "study.authors[0].orcid",
                    "L'identifiant ORCID « 0000-0002-1825-0098 » a un chiffre de "
                    "contrôle erroné (7 attendu ; faute de frappe ?).",
                    "Copiez-le depuis orcid.org.",
                ),
                (
                    "study.related_publication_doi",
                    "« doi 12 » n'est pas un DOI.",
                    "Saisissez-le sous la forme 10.1234/abcd (préfixe 10.).",
                ),
            ],
        ),
    ],
)
def test_form_problems_are_in_the_operators_language(
    monkeypatch: pytest.MonkeyPatch,
    language: str,
    expected: list[tuple[str, str, str]],
) -> None:
    form = complete_form(
        **{
            "study.title": "",
            "study.authors": "A. Lebon|0000-0002-1825-0098",
            "study.related_publication_doi": "doi 12",
        }
    )
    monkeypatch.setenv("FAIRLY_LANG", language)
    errors = [i for i in form_issues(form) if i.severity == "error"]
    assert [(i.field, i.message, i.fix) for i in errors] == expected


def test_future_date_is_a_warning() -> None:
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    form = set_field(complete_form(), "naming.date", future)
    issues = [i for i in form_issues(form) if i.field == "naming.date"]
    assert {i.severity for i in issues} == {"warning"}
    assert any("future" in i.message for i in issues)


def test_invalid_component_stops_the_name() -> None:
    form = set_field(complete_form(), "naming.sample", "Micro Algue")
    with pytest.raises(InvalidNameError) as err:
        form.name()
    assert isinstance(err.value, InvalidFormValueError)
    assert err.value.issues[0].component == "sample"
    assert "Micro-Algue" in str(err.value)


def test_over_long_name_is_an_error() -> None:
    form = complete_form(
        **{
            "naming.sample": "S" * 32,
            "naming.condition": "C" * 32,
            "naming.creator": "ALebon" + "x" * 18,
            "naming.project": "P" * 16,
        }
    )
    issues = [i for i in form_issues(form) if i.field == "naming"]
    assert issues and issues[0].severity == "error"
    assert "characters" in issues[0].message


def test_set_field_errors() -> None:
    form = complete_form()
    with pytest.raises(InvalidFormValueError, match="unknown form field"):
        set_field(form, "study.colour", "x")
    with pytest.raises(InvalidFormValueError, match="not a number"):
        set_field(form, "image_acquisition.objective_na", "high")
    assert (
        set_field(
            form, "image_acquisition.objective_na", "1,2"
        ).image_acquisition.objective_na
        == 1.2
    )
    cleared = set_field(form, "study.title", "")
    assert "study.title" not in cleared.sources


_text = st.text(max_size=40)


@given(
    st.sampled_from(
        [
            "naming.project",
            "naming.sample",
            "naming.creator",
            "naming.condition",
            "naming.date",
            "naming.version",
            "naming.datatype",
        ]
    ),
    _text,
)
@settings(max_examples=200, deadline=None)
def test_no_form_value_yields_an_unsafe_name(field: str, text: str) -> None:
    form = set_field(complete_form(), field, text)
    try:
        name = form.name()
    except InvalidFormValueError:
        assert any(
            i.severity == "error" and i.field.startswith("naming")
            for i in form_issues(form)
        )
        return
    assert is_safe_filename(name)
    assert "/" not in name and "\\" not in name and ".." not in name


# ----------------------------------------------------------------------- exports


def test_json_round_trip_and_errors() -> None:
    form = complete_form()
    assert form_from_json(form_to_json(form)) == form
    # not a form at all: bad input (exit 2), not a form verdict
    with pytest.raises(FormFileError, match="not valid JSON"):
        form_from_json("{")
    with pytest.raises(FormFileError, match=r"study\.colour"):
        form_from_json(json.dumps({"study": {"colour": "red"}}))
    with pytest.raises(FormFileError, match="not valid JSON"):
        form_from_json("[" * 100_000 + "]" * 100_000)


def test_csv_round_trip() -> None:
    form = complete_form()
    rows = form_to_csv_rows(form)
    assert ("naming.project", "TNT", "operator") in rows
    assert ("naming.date", "2023-01-15", "file:ome:Image/AcquisitionDate") in rows
    assert ("study.authors[0].orcid", "0000-0002-1825-0097", "operator") in rows
    text = form_to_csv(form)
    assert text.splitlines()[0] == "field,value,source"
    assert form_from_csv(text) == form


def test_csv_errors() -> None:
    with pytest.raises(InvalidFormValueError, match="header"):
        form_from_csv("a,b\n")
    with pytest.raises(InvalidFormValueError, match="line 2"):
        form_from_csv("field,value,source\nstudy..title,x,\n")


def test_rembi_dict() -> None:
    rembi = rembi_dict(complete_form())
    assert set(rembi) == {
        "study",
        "study_component",
        "biosample",
        "specimen",
        "image_acquisition",
        "image_data",
    }
    assert rembi["study"]["project_acronym"] == "TNT"
    assert (
        rembi["study"]["authors"][0]["orcid"] == "https://orcid.org/0000-0002-1825-0097"
    )
    assert rembi["biosample"]["organism"] == {
        "id": "NCBITaxon:3055",
        "name": "Chlamydomonas reinhardtii",
    }
    assert rembi["image_acquisition"]["imaging_method"] == {
        "id": "FBbi:00000251",
        "label": "confocal microscopy",
    }
    assert rembi["image_data"]["datatype"] == "RAW"


def test_profile_keeps_only_remembered_fields() -> None:
    template = FacilityTemplate(facility="F", fixed={"study.title": "Fixed title"})
    form = prefill_form(
        hand_metadata(),
        template,
        None,
        {k: v for k, v in TYPED.items() if k != "study.title"},
    )
    profile = profile_from_form(form, "Alice")
    assert "study.title" not in profile.last  # fixed by the template
    assert profile.last["naming.project"] == "TNT"
    assert "naming.date" not in profile.last
    assert profile.last["biosample.organism"] == {
        "id": "NCBITaxon:3055",
        "label": "Chlamydomonas reinhardtii",
    }
    again = prefill_form(None, None, profile, None)
    assert again.biosample.organism.label == "Chlamydomonas reinhardtii"
    assert again.sources["naming.project"] == "profile:Alice"


def test_json_schema_is_current_and_validates_forms() -> None:
    path = resource_path("schema", "fair-form.schema.json")
    shipped = json.loads(path.read_text(encoding="utf-8"))
    assert shipped == form_json_schema(), (
        "resources/schema/fair-form.schema.json is stale; regenerate it with "
        "`python -c 'from napari_fairly.core.form import write_json_schema; "
        "write_json_schema()'`"
    )
    jsonschema.Draft202012Validator.check_schema(shipped)
    jsonschema.validate(json.loads(form_to_json(complete_form())), shipped)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"study": {"colour": "red"}}, shipped)


def test_every_field_path_is_reachable() -> None:
    form = complete_form()
    for path in FIELD_PATHS:
        assert path.split(".")[0] in form.model_fields
    assert Path(form.image_data.source_file).name == "exp3.czi"


# ------------------------------------------------------------------- vocabularies


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("FBbi:00000243", "FBbi:00000243"),
        ("FBbi_00000243", "FBbi:00000243"),
        ("obo:FBbi_00000243", "FBbi:00000243"),
        ("http://purl.obolibrary.org/obo/FBbi_00000243", "FBbi:00000243"),
        ("https://purl.obolibrary.org/obo/FBbi_00000243", "FBbi:00000243"),
    ],
)
def test_imaging_method_curie_forms_are_stored_as_curies(
    typed: str, stored: str
) -> None:
    form = complete_form(**{"study_component.imaging_method": typed})
    method = form.study_component.imaging_method
    assert (method.id, method.label) == (stored, "bright-field microscopy")
    assert [i for i in form_issues(form) if i.severity == "error"] == []


@pytest.mark.parametrize(
    "typed",
    [
        "NCBITaxon:5811",
        "NCBITaxon_5811",
        "5811",
        "http://purl.obolibrary.org/obo/NCBITaxon_5811",
        "obo:NCBITaxon_5811",
    ],
)
def test_organism_ids_outside_the_list_are_accepted_as_curies(typed: str) -> None:
    form = complete_form(**{"biosample.organism": typed})
    assert form.biosample.organism.id == "NCBITaxon:5811"
    assert [i for i in form_issues(form) if i.field == "biosample.organism"] == []


def test_organism_name_outside_the_list_is_kept_with_a_warning() -> None:
    form = complete_form(**{"biosample.organism": "Toxoplasma gondii"})
    assert form.biosample.organism.model_dump() == {
        "id": "",
        "label": "Toxoplasma gondii",
    }
    issues = [i for i in form_issues(form) if i.field == "biosample.organism"]
    assert [(i.severity, i.code) for i in issues] == [("warning", "check")]
    assert "not verified" in issues[0].message
    assert [i for i in form_issues(form) if i.severity == "error"] == []
    typo = complete_form(**{"biosample.organism": "Mus musclus"})
    (issue,) = [i for i in form_issues(typo) if i.field == "biosample.organism"]
    assert issue.severity == "warning"
    assert "Did you mean Mus musculus" in issue.fix


def test_older_forms_with_underscore_ids_load_as_curies() -> None:
    data = json.loads(form_to_json(complete_form()))
    data["study_component"]["imaging_method"]["id"] = "FBbi_00000251"
    form = form_from_json(json.dumps(data))
    assert form.study_component.imaging_method.id == "FBbi:00000251"
