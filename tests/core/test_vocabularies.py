"""Offline vocabularies and identifier checks (SPEC 2.3, 2.4)."""

from __future__ import annotations

import json

import pytest

from napari_fairly.core.errors import InvalidFormValueError
from napari_fairly.core.resources import resource_path, resources_dir
from napari_fairly.core.vocabularies import (
    VOCABULARIES,
    curie_iri,
    fbbi_for_acquisition_mode,
    find_fluorophore,
    is_doi,
    licence,
    normalize_curie,
    orcid_check_digit,
    orcid_problem,
    orcid_uri,
    refractive_index,
    resolve_imaging_method,
    resolve_organism,
    ror_problem,
    ror_uri,
    vocabulary,
)


def test_resources_found_in_the_source_tree() -> None:
    assert (resources_dir() / "vocabularies").is_dir()
    assert resource_path("templates", "example-facility.yaml").is_file()


@pytest.mark.parametrize("key", VOCABULARIES)
def test_every_vocabulary_notes_source_and_version(key: str) -> None:
    raw = json.loads(resource_path("vocabularies", f"{key}.json").read_text("utf-8"))
    assert raw["source"].strip() and raw["version"].strip()
    vocab = vocabulary(key)
    assert len(vocab.terms) >= 5
    assert len({t.id for t in vocab.terms}) == len(vocab.terms)


@pytest.mark.parametrize(
    ("mode", "fbbi_id", "label"),
    [
        ("WideField", "FBbi:00000246", "fluorescence microscopy"),
        ("LaserScanningConfocalMicroscopy", "FBbi:00000251", "confocal microscopy"),
        ("SpinningDiskConfocal", "FBbi:00000253", "spinning disk confocal microscopy"),
        ("BrightField", "FBbi:00000243", "bright-field microscopy"),
        ("SPIM", "FBbi:00000369", "light sheet fluorescence microscopy"),
    ],
)
def test_fbbi_keyed_by_acquisition_mode(mode: str, fbbi_id: str, label: str) -> None:
    term = fbbi_for_acquisition_mode(mode)
    assert term is not None
    assert (term.id, term.label) == (fbbi_id, label)


def test_unverified_fbbi_modes_are_not_guessed() -> None:
    for mode in (
        "MultiPhotonMicroscopy",
        "STED",
        "StructuredIllumination",
        "TIRF",
        None,
    ):
        assert fbbi_for_acquisition_mode(mode) is None


def test_organism_shortlist_and_completion() -> None:
    mouse = vocabulary("ncbi_taxonomy").complete("mus")
    assert [(t.id, t.label) for t in mouse] == [("NCBITaxon:10090", "Mus musculus")]
    assert resolve_organism("mouse").id == "NCBITaxon:10090"
    assert resolve_organism("9606").label == "Homo sapiens"
    assert resolve_organism("NCBITaxon:3055").label == "Chlamydomonas reinhardtii"
    other = resolve_organism("NCBITaxon:559292")  # not in the shortlist: accepted
    assert (other.id, other.label) == ("NCBITaxon:559292", "")
    assert len(vocabulary("ncbi_taxonomy").terms) == 10


def test_unknown_term_names_close_matches() -> None:
    with pytest.raises(InvalidFormValueError) as err:
        resolve_organism("Mus musclus")
    assert "unknown term 'Mus musclus'" in str(err.value)
    assert "Did you mean Mus musculus" in str(err.value)
    with pytest.raises(InvalidFormValueError, match="imaging method"):
        resolve_imaging_method("holography")
    assert resolve_imaging_method("SpinningDiskConfocal").id == "FBbi:00000253"


def test_unknown_term_in_french(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIRLY_LANG", "fr")
    with pytest.raises(InvalidFormValueError) as err:
        resolve_organism("Mus musclus")
    assert err.value.args[0].startswith(
        "organisme : terme inconnu « Mus musclus » (absent de la liste "
    )
    assert err.value.fix.startswith("Vouliez-vous dire Mus musculus")
    assert "Choisissez parmi : " in err.value.fix
    with pytest.raises(InvalidFormValueError, match="méthode d'imagerie : terme"):
        resolve_imaging_method("holography")


@pytest.mark.parametrize(
    ("name", "ex", "em"),
    [
        ("Alexa Fluor 555", 555, 565),
        ("AF488", 495, 519),
        ("GFP", 488, 507),
        ("hoechst 33342", 350, 461),
        ("mNeonGreen", 506, 517),
        ("tdTomato", 554, 581),
        ("DAPI", 358, 461),
        ("Cy5", 649, 670),
    ],
)
def test_fluorophore_peaks(name: str, ex: int, em: int) -> None:
    term = find_fluorophore(name)
    assert term is not None
    assert (term.extra["excitation_nm"], term.extra["emission_nm"]) == (ex, em)


def test_licences_and_immersion() -> None:
    assert vocabulary("licences").default == "CC-BY-4.0"
    for spdx in ("CC-BY-4.0", "CC0-1.0", "etalab-2.0", "CC-BY-SA-4.0"):
        term = licence(spdx)
        assert term is not None
        assert term.extra["url"].startswith("https://")
    assert licence("GPL-3.0") is None
    assert refractive_index("Oil") == pytest.approx(1.515)
    assert refractive_index("water") == pytest.approx(1.333)
    assert refractive_index("Glycerol") == pytest.approx(1.47)
    assert refractive_index("Air") == 1.0
    assert refractive_index("Silicone") == pytest.approx(1.40)
    assert refractive_index("Multi") is None


@pytest.mark.parametrize(
    "orcid", ["0000-0002-1825-0097", "0000-0002-1694-233X", "9999-0001-2222-3333"]
)
def test_valid_orcids(orcid: str) -> None:
    assert orcid_problem(orcid) is None
    assert orcid_problem("https://orcid.org/" + orcid) is None
    assert orcid_uri(orcid) == "https://orcid.org/" + orcid


def test_orcid_check_digit() -> None:
    assert orcid_check_digit("000000021825009") == "7"
    assert orcid_check_digit("000000021694233") == "X"
    problem = orcid_problem("0000-0002-1825-0098")
    assert problem is not None and "check digit" in problem and "expected 7" in problem
    assert "must look like" in (orcid_problem("0000-0002-1825") or "")
    with pytest.raises(InvalidFormValueError):
        orcid_uri("0000-0002-1825-0098")


def test_doi() -> None:
    assert is_doi("10.1038/s41592-021-01166-8")
    assert is_doi("https://doi.org/10.1038/s41592-021-01166-8")
    assert not is_doi("s41592-021-01166-8")
    assert not is_doi("10.12/x")


@pytest.mark.parametrize(
    ("text", "curie"),
    [
        ("FBbi:00000243", "FBbi:00000243"),
        ("FBbi_00000243", "FBbi:00000243"),
        ("fbbi:00000243", "FBbi:00000243"),
        ("obo:FBbi_00000243", "FBbi:00000243"),
        ("http://purl.obolibrary.org/obo/FBbi_00000243", "FBbi:00000243"),
        (" NCBITaxon_5811 ", "NCBITaxon:5811"),
        ("http://purl.obolibrary.org/obo/NCBITaxon_5811", "NCBITaxon:5811"),
        ("Mus musculus", "Mus musculus"),
        ("FBbi:abc", "FBbi:abc"),
    ],
)
def test_obo_ids_are_read_in_every_spelling(text: str, curie: str) -> None:
    assert normalize_curie(text) == curie


def test_curie_forms_resolve_and_give_their_iri() -> None:
    assert resolve_imaging_method("FBbi:00000243").label == "bright-field microscopy"
    assert resolve_imaging_method("FBbi_00000243").id == "FBbi:00000243"
    unlisted = resolve_imaging_method("obo:FBbi_00000399")  # accepted, unlabelled
    assert (unlisted.id, unlisted.label) == ("FBbi:00000399", "")
    toxo = resolve_organism("http://purl.obolibrary.org/obo/NCBITaxon_5811")
    assert (toxo.id, toxo.label) == ("NCBITaxon:5811", "")
    assert resolve_organism("NCBITaxon_9606").label == "Homo sapiens"
    assert curie_iri("NCBITaxon:5811") == (
        "http://purl.obolibrary.org/obo/NCBITaxon_5811"
    )
    assert curie_iri("FBbi:00000243") == "http://purl.obolibrary.org/obo/FBbi_00000243"


@pytest.mark.parametrize(
    "ror", ["02feahw73", "https://ror.org/02feahw73", "02catss52", "0495fxg12"]
)
def test_valid_ror_ids(ror: str) -> None:
    assert ror_problem(ror) is None
    assert ror_uri(ror) == "https://ror.org/" + ror.rsplit("/", 1)[-1]


def test_ror_check_digits_and_form() -> None:
    problem = ror_problem("02feahw74")
    assert problem is not None and "expected 73" in problem
    assert "must look like" in (ror_problem("12feahw73") or "")
    assert "must look like" in (ror_problem("02feahu73") or "")  # no u in base 32
    with pytest.raises(InvalidFormValueError):
        ror_uri("02feahw74")
