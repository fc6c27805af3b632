"""Config dir, facility templates (YAML) and operator profiles (JSON)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path, PurePosixPath

import pytest

from napari_fairly.core.errors import InvalidFormValueError, TemplateError
from napari_fairly.core.naming import parse_name
from napari_fairly.core.resources import resource_path
from napari_fairly.core.settings import (
    FacilityTemplate,
    OperatorProfile,
    ProfileWarning,
    config_dir,
    destination_subdir,
    find_template,
    load_profile,
    load_template,
    profile_path,
    save_profile,
)

EXAMPLE = resource_path("templates", "example-facility.yaml")
GUIDE = "2023-01-15_TNT_MicroAlgue_ALebon_Controle_RAW_v01"


def test_config_dir_read_on_every_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAIRLY_CONFIG_DIR", str(tmp_path / "a"))
    assert config_dir() == tmp_path / "a"
    monkeypatch.setenv("FAIRLY_CONFIG_DIR", str(tmp_path / "b"))
    assert config_dir() == tmp_path / "b"
    monkeypatch.delenv("FAIRLY_CONFIG_DIR")
    assert config_dir().name == "napari-fairly"


def test_example_template_loads() -> None:
    template = load_template(EXAMPLE)
    assert template.facility.startswith("Plateforme")
    assert template.licence == "CC-BY-4.0"
    assert template.projects == ("TNT", "NUC-2", "DEMO")
    assert template.instruments[0].name == "Zeiss Axio Observer Z1"
    assert template.options.ngff_version == "0.4"
    assert template.options.destination_layout == "{project}/{date}"
    assert template.options.qc_thresholds == {}
    assert template.datatypes == ("FLIM",)
    assert template.label == "example-facility.yaml"


def test_option_defaults() -> None:
    template = FacilityTemplate(facility="X")
    assert template.options.ngff_version == "0.4"
    assert template.options.destination_layout == "{project}"
    assert FacilityTemplate(
        facility="X", options={"qc_thresholds": {"snr_min": 3}}
    ).options.qc_thresholds == {"snr_min": 3.0}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("facility: A\nlicence: [CC-BY-4.0\nprojects: []\n", 3, "YAML syntax"),
        ("facility: A\n  licence: x\n", 2, "YAML syntax"),
        ("facility: A\nprojects: [TNT]\ncolour: red\n", 3, "colour"),
        ("facility: A\noptions:\n  ngff_version: '0.6'\n", 3, "ngff_version"),
        ("facility: A\noptions:\n  destination_layout: '../{project}'\n", 3, ".."),
        (
            "facility: A\noptions:\n  destination_layout: '/abs/{project}'\n",
            3,
            "relative",
        ),
        (
            "facility: A\noptions:\n  destination_layout: '{secret}'\n",
            3,
            "unknown keys",
        ),
        ("facility: A\nprojects: [tnt]\n", 2, "UPPER-CASE"),
        ("- just\n- a list\n", 1, "mapping"),
        ("licence: CC0-1.0\n", 1, "facility"),
    ],
)
def test_malformed_template_names_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(TemplateError) as err:
        load_template(path)
    message = str(err.value)
    assert message.startswith(f"{path}: line {line}:"), message
    assert words in message


def test_template_yaml_is_safe_loaded(tmp_path: Path) -> None:
    path = _write(tmp_path, "facility: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(TemplateError, match="line 1"):
        load_template(path)


def test_missing_template_file(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read"):
        load_template(tmp_path / "nope.yaml")


def test_find_template(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FAIRLY_CONFIG_DIR", str(tmp_path))
    assert find_template() is None
    (tmp_path / "template.yaml").write_text("facility: In config\n", encoding="utf-8")
    found = find_template()
    assert found is not None and found.facility == "In config"
    monkeypatch.setenv("FAIRLY_TEMPLATE", str(EXAMPLE))
    found = find_template()
    assert found is not None and found.label == "example-facility.yaml"


def test_destination_layout() -> None:
    parts = parse_name(GUIDE)
    assert destination_subdir("{project}", parts) == PurePosixPath("TNT")
    assert destination_subdir("{project}/{year}/{creator}", parts) == PurePosixPath(
        "TNT/2023/ALebon"
    )
    assert destination_subdir(
        "{study}", parts, study="Étude cœur / 2"
    ) == PurePosixPath("Etude-coeur-2")
    with pytest.raises(InvalidFormValueError):
        destination_subdir("../{project}", parts)
    with pytest.raises(InvalidFormValueError, match="study, which is empty"):
        destination_subdir("{study}", parts, study="")
    with pytest.raises(InvalidFormValueError, match="not a safe name"):
        destination_subdir("{project}/.hidden", parts)


def test_profile_round_trip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FAIRLY_CONFIG_DIR", str(tmp_path))
    assert load_profile("Alice Lebon") == OperatorProfile(operator="Alice Lebon")
    profile = OperatorProfile(operator="Alice Lebon", last={"naming.project": "TNT"})
    path = save_profile(profile)
    assert path == tmp_path / "profiles" / "Alice-Lebon.json"
    loaded = load_profile("Alice Lebon")
    assert loaded.last == {"naming.project": "TNT"}
    stamp = dt.datetime.fromisoformat(loaded.updated)
    assert stamp.tzinfo is not None
    assert not list(path.parent.glob(".*tmp*"))


def test_profile_never_stores_secrets() -> None:
    with pytest.raises(ValueError, match="secret"):
        OperatorProfile(operator="a", last={"omero.password": "x"})


def test_profile_name_cannot_escape_config_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAIRLY_CONFIG_DIR", str(tmp_path))
    path = profile_path("../../etc/passwd")
    assert path.parent == tmp_path / "profiles"
    assert path.name == "etc-passwd.json"
    with pytest.raises(InvalidFormValueError):
        profile_path("///")


def test_corrupt_profile_is_set_aside(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAIRLY_CONFIG_DIR", str(tmp_path))
    path = profile_path("Bob")
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.warns(ProfileWarning, match="unreadable"):
        profile = load_profile("Bob")
    assert profile == OperatorProfile(operator="Bob")
    assert not path.exists()
    assert path.with_suffix(".json.bak").read_text(encoding="utf-8") == "{not json"
    save_profile(profile.replace(last={"naming.creator": "BMartin"}))
    assert json.loads(path.read_text(encoding="utf-8"))["last"] == {
        "naming.creator": "BMartin"
    }


def test_a_long_study_title_gives_a_short_folder() -> None:
    parts = parse_name(GUIDE)
    title = "Imaging of tunnelling nanotubes between microalgae " * 3
    folder = destination_subdir("{study}", parts, study=title).as_posix()
    # cut between words (the next one, "-tunnelling", would pass 64 characters)
    assert folder == "Imaging-of-tunnelling-nanotubes-between-microalgae-Imaging-of"
