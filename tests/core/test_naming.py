"""Naming convention: SPEC 1.6 table, transliteration, version bump, properties."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_fairly.core.errors import InvalidFormValueError
from napari_fairly.core.naming import (
    DATATYPES,
    ROLES,
    InvalidNameError,
    NameParts,
    build_name,
    creator_from_person,
    next_free_version,
    parse_name,
    transliterate,
    validate_name,
    with_scene_suffix,
)

TODAY = dt.date(2026, 1, 1)
GUIDE = "2023-01-15_TNT_MicroAlgue_ALebon_Controle_RAW_v01"

VALID = [
    GUIDE + ".csv",
    GUIDE,
    GUIDE + ".ome.zarr",
    GUIDE + "_measurements.csv",
    "2024-11-03_NUC-2_HeLa-H2B_JPDupont_DMSO-10uM_DECON_v12.ome.zarr",
    "2023-01-15_TNT_MicroAlgue_AMcDonald-Smith_Controle_RAW_v01.tif",
    "2023-01-15_TNT_MicroAlgue_ALebon_Controle_RAW_v100.ome.zarr",
]

# (row, file name, component, code, suggested fix or None)
INVALID = [
    (
        8,
        "2023-01-15_TNT_MicroAlgue_ALebon_Contrôle_RAW_v01.csv",
        "condition",
        "non_ascii",
        "Controle",
    ),
    (
        9,
        "2023-1-15_TNT_MicroAlgue_ALebon_Controle_RAW_v01.csv",
        "date",
        "pattern",
        "2023-01-15",
    ),
    (
        10,
        "15-01-2023_TNT_MicroAlgue_ALebon_Controle_RAW_v01.csv",
        "date",
        "pattern",
        "2023-01-15",
    ),
    (
        11,
        "2023-02-30_TNT_MicroAlgue_ALebon_Controle_RAW_v01.csv",
        "date",
        "not_a_calendar_date",
        None,
    ),
    (
        12,
        "2023-01-15_tnt_MicroAlgue_ALebon_Controle_RAW_v01.csv",
        "project",
        "pattern",
        "TNT",
    ),
    (
        13,
        "2023-01-15_T_MicroAlgue_ALebon_Controle_RAW_v01.csv",
        "project",
        "length",
        None,
    ),
    (
        14,
        "2023-01-15_TNT_Micro Algue_ALebon_Controle_RAW_v01.csv",
        "sample",
        "whitespace",
        "Micro-Algue",
    ),
    (
        15,
        "2023-01-15_TNT_MicroAlgue_alebon_Controle_RAW_v01.csv",
        "creator",
        "pattern",
        "ALebon",
    ),
    (
        16,
        "2023-01-15_TNT_MicroAlgue_ALebon_Controle_RAW_v1.csv",
        "version",
        "pattern",
        "v01",
    ),
    (
        17,
        "2023-01-15_TNT_MicroAlgue_ALebon_Controle_RAW_v00.csv",
        "version",
        "pattern",
        "v01",
    ),
    (
        18,
        "2023-01-15_TNT_MicroAlgue_ALebon_Controle_raw_v01.csv",
        "datatype",
        "pattern",
        "RAW",
    ),
    (
        19,
        "2023-01-15_TNT_MicroAlgue_ALebon_Controle_BRUT_v01.csv",
        "datatype",
        "not_in_vocabulary",
        "RAW",
    ),
    (
        20,
        "2023-01-15_TNT_MicroAlgue_ALebon_RAW_v01.csv",
        "name",
        "component_count",
        None,
    ),
    (
        21,
        "2023-01-15_TNT_MicroAlgue_ALebon_Controle_RAW_v01_final.csv",
        "name",
        "component_count",
        None,
    ),
    (
        22,
        "2023-01-15_TNT__ALebon_Controle_RAW_v01.csv",
        "sample",
        "empty_component",
        None,
    ),
    (
        23,
        "2023-01-15_TNT_MicroAlgue_ALebon_Controle%50_RAW_v01.csv",
        "condition",
        "pattern",
        "Controle-50",
    ),
    (
        24,
        "2023-01-15_TNT_MicroAlgue_ALebon_-Controle_RAW_v01.csv",
        "condition",
        "pattern",
        "Controle",
    ),
    (
        25,
        "2023-01-15_TNT_Micro--Algue_ALebon_Controle_RAW_v01.csv",
        "sample",
        "pattern",
        "Micro-Algue",
    ),
    (
        26,
        "2023-01-15_TNT_" + "A" * 40 + "_ALebon_Controle_RAW_v01.csv",
        "sample",
        "length",
        None,
    ),
]


@pytest.mark.parametrize("filename", VALID)
def test_spec_table_valid_rows(filename: str) -> None:
    assert validate_name(filename, today=TODAY, lang="en") == []
    assert build_name(parse_name(filename)) == filename


@pytest.mark.parametrize(
    ("row", "filename", "component", "code", "fix"),
    INVALID,
    ids=[f"row{r[0]}" for r in INVALID],
)
def test_spec_table_invalid_rows(
    row: int, filename: str, component: str, code: str, fix: str | None
) -> None:
    issues = validate_name(filename, today=TODAY, lang="en")
    assert len(issues) == 1, issues
    (issue,) = issues
    assert (issue.component, issue.code, issue.severity) == (component, code, "error")
    assert issue.suggestion == fix
    with pytest.raises(InvalidNameError) as err:
        parse_name(filename)
    assert isinstance(err.value, InvalidFormValueError)
    assert err.value.issues[0].code == code


def test_row20_names_the_missing_component() -> None:
    (issue,) = validate_name(INVALID[12][1], lang="en")
    assert "6 components" in issue.message
    assert "probably missing: condition" in issue.message


def test_row21_says_final_is_not_a_role() -> None:
    (issue,) = validate_name(INVALID[13][1], lang="en")
    assert "8 components" in issue.message
    assert "'final' is not a known role" in issue.message


def test_row27_upper_case_extension_is_a_warning() -> None:
    name = GUIDE + ".CSV"
    (issue,) = validate_name(name, today=TODAY)
    assert (issue.component, issue.code, issue.severity, issue.suggestion) == (
        "ext",
        "extension_case",
        "warning",
        ".csv",
    )
    assert parse_name(name).ext == ".CSV"


def test_row28_128_characters_is_too_long() -> None:
    def padded(total: int) -> str:
        return GUIDE + "." + "x" * (total - len(GUIDE) - 1)

    assert len(padded(127)) == 127
    assert validate_name(padded(127), today=TODAY) == []
    (issue,) = validate_name(padded(128), today=TODAY, lang="en")
    assert (issue.component, issue.code, issue.severity) == (
        "name",
        "too_long",
        "error",
    )
    assert "128 characters" in issue.message
    long_parts = f"2023-01-15_TNT_{'A' * 32}_ALebon_{'B' * 32}_RAW_v01_measurements.csv"
    assert len(long_parts) < 128
    assert validate_name(long_parts, today=TODAY) == []


def test_deepest_zarr_path_warning_reports_both_lengths(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 150)
    (issue,) = validate_name(GUIDE, dest_dir=deep, today=TODAY, lang="en")
    assert (issue.code, issue.severity) == ("path_too_long", "warning")
    assert f"file name: {len(GUIDE)} characters" in issue.message
    assert validate_name(GUIDE, dest_dir=tmp_path, today=TODAY) == []


@pytest.mark.parametrize("date", ["2030-05-01", "1985-06-01"])
def test_future_or_old_date_is_a_warning(date: str) -> None:
    (issue,) = validate_name(GUIDE.replace("2023-01-15", date), today=TODAY, lang="en")
    assert (issue.component, issue.code, issue.severity) == (
        "date",
        "date_implausible",
        "warning",
    )


def test_messages_in_french_and_english(monkeypatch: pytest.MonkeyPatch) -> None:
    name = INVALID[0][1]
    (fr,) = validate_name(name, lang="fr")
    assert fr.message == (
        "condition « Contrôle » : caractère accentué ou non ASCII « ô » interdit"
        " → proposé « Controle »"
    )
    (en,) = validate_name(name, lang="en")
    assert en.message.startswith(
        "condition 'Contrôle': accented or non-ASCII character 'ô'"
    )
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    for variable in ("FAIRLY_LANG", "LANGUAGE", "LC_ALL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    assert validate_name(name)[0].message == fr.message


@pytest.mark.parametrize(
    ("text", "component", "expected"),
    [
        ("Contrôle 10 µM", "condition", "Controle-10-uM"),
        ("Micro algue", "sample", "Micro-algue"),
        ("Lætitia", "sample", "Laetitia"),
        ("Stéphane O'Brien", "sample", "Stephane-OBrien"),
        ("Cœur", "sample", "Coeur"),
        ("Straße", "sample", "Strasse"),
        ("50% DMSO", "condition", "50-DMSO"),
        ("37°C", "condition", "37degC"),
        ("Åsa_x", "sample", "Asa-x"),
        ("tnt", "project", "TNT"),
        ("v1", "version", "v01"),
        ("15/01/2023", "date", "2023-01-15"),
        ("20230115", "date", "2023-01-15"),
        ("brut", "datatype", "RAW"),
        ("Alice Lebon", "creator", "ALebon"),
        ("../../etc", "sample", "etc"),
        ("a\\b/c", "condition", "a-b-c"),
    ],
)
def test_transliterate(text: str, component: str, expected: str) -> None:
    assert transliterate(text, component) == expected


def test_creator_from_person() -> None:
    assert creator_from_person("Jean-Pierre", "Dupont") == "JPDupont"
    assert creator_from_person("Alice", "Lebon") == "ALebon"
    assert creator_from_person("Jeanne", "de la Tour") == "JDe-La-Tour"
    assert creator_from_person("Hélène", "Ørsted") == "HOrsted"


@pytest.mark.parametrize("bad", ["../x", "a/b", "a\\b", "C:x"])
def test_path_separators_in_components_are_rejected(bad: str) -> None:
    for component in ("project", "sample", "creator", "condition"):
        values = dict(
            zip(
                (
                    "date",
                    "project",
                    "sample",
                    "creator",
                    "condition",
                    "datatype",
                    "version",
                ),
                GUIDE.split("_"),
                strict=True,
            )
        )
        values[component] = bad
        name = "_".join(values.values())
        issues = validate_name(name, today=TODAY, lang="en")
        assert any(
            i.component == component and i.severity == "error" for i in issues
        ), (component, issues)
        with pytest.raises(InvalidNameError):
            parse_name(name)


def test_build_name_rejects_invalid_parts() -> None:
    parts = parse_name(GUIDE)
    with pytest.raises(InvalidNameError, match="condition"):
        build_name(NameParts(**{**parts.__dict__, "condition": "Contrôle"}))
    with pytest.raises(InvalidNameError, match="role"):
        build_name(NameParts(**{**parts.__dict__, "role": "final"}))


def test_cli_example_and_roles() -> None:
    parts = NameParts(
        dt.date(2023, 1, 15), "TNT", "MicroAlgue", "ALebon", "Controle", "RAW", 1
    )
    assert build_name(parts) == GUIDE
    assert ROLES == ("measurements", "objects", "datacite", "report")
    for role in ROLES:
        assert parse_name(f"{GUIDE}_{role}.json").role == role


def test_scene_suffix() -> None:
    parts = with_scene_suffix(parse_name(GUIDE), 0)
    assert build_name(parts) == "2023-01-15_TNT_MicroAlgue-s01_ALebon_Controle_RAW_v01"
    assert with_scene_suffix(parse_name(GUIDE), 11).sample == "MicroAlgue-s12"


def test_template_datatypes_extend_the_list() -> None:
    name = GUIDE.replace("RAW", "FLIM")
    assert validate_name(name, today=TODAY)[0].code == "not_in_vocabulary"
    assert validate_name(name, today=TODAY, datatypes=["FLIM"]) == []


# ------------------------------------------------------------------ version bump


def test_free_version_is_kept(tmp_path: Path) -> None:
    assert next_free_version(GUIDE, tmp_path) == GUIDE
    (tmp_path / GUIDE.replace("v01", "v03")).mkdir()
    assert next_free_version(GUIDE, tmp_path) == GUIDE


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ([GUIDE + "/"], "v02"),
        ([GUIDE + ".json"], "v02"),
        ([GUIDE + "_measurements.csv"], "v02"),
        (["." + GUIDE + ".partial-1234/"], "v02"),
        ([GUIDE + "/", GUIDE.replace("v01", "v09") + "/"], "v10"),
        ([GUIDE + "/", GUIDE.replace("v01", "v99") + "/"], "v100"),
    ],
)
def test_taken_version_is_bumped(
    tmp_path: Path, existing: list[str], expected: str
) -> None:
    for entry in existing:
        if entry.endswith("/"):
            (tmp_path / entry).mkdir()
        else:
            (tmp_path / entry).write_text("x")
    # an unrelated name (other condition) must not count
    (tmp_path / GUIDE.replace("Controle", "Traite").replace("v01", "v50")).mkdir()
    assert next_free_version(GUIDE, tmp_path) == GUIDE.replace("v01", expected)


def test_version_exhausted(tmp_path: Path) -> None:
    (tmp_path / GUIDE).mkdir()
    (tmp_path / GUIDE.replace("v01", "v999")).mkdir()
    with pytest.raises(InvalidNameError) as err:
        next_free_version(GUIDE, tmp_path)
    assert err.value.issues[0].code == "version_exhausted"


def test_bump_keeps_width_of_three_digit_names(tmp_path: Path) -> None:
    name = GUIDE.replace("v01", "v100")
    (tmp_path / name).mkdir()
    assert next_free_version(name, tmp_path) == GUIDE.replace("v01", "v101")


# ------------------------------------------------------------------ properties

_word = st.from_regex(r"[A-Za-z0-9]{1,6}(-[A-Za-z0-9]{1,5}){0,2}", fullmatch=True)
_project = st.from_regex(r"[A-Z][A-Z0-9]{1,6}(-[A-Z0-9]{1,4})?", fullmatch=True)
_creator = st.from_regex(
    r"[A-Z]{1,3}[A-Z][a-z]{1,8}(-[A-Z][a-z]{1,5})?", fullmatch=True
)


@st.composite
def name_parts(draw: st.DrawFn) -> NameParts:
    version = draw(st.integers(1, 999))
    return NameParts(
        date=draw(st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31))),
        project=draw(_project),
        sample=draw(_word),
        creator=draw(_creator),
        condition=draw(_word),
        datatype=draw(st.sampled_from(DATATYPES)),
        version=version,
        version_width=2 if version < 100 else 3,
        role=draw(st.none() | st.sampled_from(ROLES)),
        ext=draw(st.sampled_from(["", ".csv", ".json", ".ome.zarr", ".ome.tiff"])),
    )


@given(name_parts())
@settings(max_examples=300, deadline=None)
def test_build_then_parse_is_identity(parts: NameParts) -> None:
    name = build_name(parts)
    assert parse_name(name) == parts
    assert [
        i
        for i in validate_name(name, today=dt.date(2101, 1, 1))
        if i.severity == "error"
    ] == []


@given(st.text(max_size=200))
@settings(max_examples=500, deadline=None)
def test_validator_never_crashes_on_unicode(text: str) -> None:
    issues = validate_name(text, dest_dir=Path("/tmp/x"))
    assert all(i.severity in ("error", "warning") for i in issues)
    if not any(i.severity == "error" for i in issues):
        parse_name(text)


@given(
    st.text(max_size=60),
    st.sampled_from(
        ["project", "sample", "condition", "creator", "date", "version", "datatype"]
    ),
)
@settings(max_examples=300, deadline=None)
def test_transliteration_only_emits_safe_characters(text: str, component: str) -> None:
    out = transliterate(text, component)
    assert all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in out)
    assert "/" not in out and "\\" not in out and ".." not in out


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_control_characters_are_shown_escaped_and_left_out_of_fixes(lang: str) -> None:
    """A name pasted from a coloured terminal: the messages show the escapes (a
    terminal would obey them) and the fixes keep none of their characters."""
    name = "2023-01-15_TNT_Micro\tAlgue_ALebon_Controle_RAW_v01\x1b[31m.csv"
    issues = {i.component: i for i in validate_name(name, lang=lang)}
    assert "Micro\\tAlgue" in issues["sample"].message
    assert issues["sample"].suggestion == "Micro-Algue"
    assert "v01\\x1b[31m" in issues["version"].message
    assert issues["version"].suggestion == "v01"
    override = validate_name(
        "2023-01-15_TNT_Micro\u202eAlgue_ALebon_Controle_RAW_v01.csv", lang=lang
    )
    assert override and override[0].suggestion == "MicroAlgue"
    for issue in [*issues.values(), *override]:
        assert not any(ord(ch) < 32 or ch == "\u202e" for ch in issue.message)
