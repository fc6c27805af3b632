"""``fairly name`` and ``fairly form``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from conftest import DATA
from napari_fairly.cli import main
from napari_fairly.core.form import form_from_csv, form_from_json
from napari_fairly.core.resources import resource_path

if TYPE_CHECKING:
    import pytest

GUIDE = "2023-01-15_TNT_MicroAlgue_ALebon_Controle_RAW_v01"
ND2 = DATA / "nd2" / "example-multichannel.nd2"
BUILD = [
    "name",
    "--project",
    "TNT",
    "--sample",
    "MicroAlgue",
    "--creator",
    "ALebon",
    "--condition",
    "Controle",
    "--type",
    "RAW",
    "--date",
    "2023-01-15",
]
COMPLETE = [
    "--set",
    "naming.project=TNT",
    "--set",
    "naming.sample=PBMC",
    "--set",
    "naming.creator=ALebon",
    "--set",
    "naming.condition=Controle",
    "--set",
    "study.title=PBMC imaging",
    "--set",
    "study.publisher=Test imaging facility",
    "--set",
    "study.authors=Alice Lebon|0000-0002-1825-0097",
    "--set",
    "biosample.organism=Homo sapiens",
    "--set",
    "biosample.biological_entity=PBMC",
]


def test_name_prints_the_guide_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(BUILD) == 0
    assert capsys.readouterr().out == GUIDE + "\n"


def test_name_entry_point_runs() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "napari_fairly.cli", *BUILD],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == GUIDE


def test_name_with_role_ext_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main([*BUILD, "--version", "12", "--role", "measurements", "--ext", ".csv"])
        == 0
    )
    assert (
        capsys.readouterr().out.strip()
        == GUIDE.replace("v01", "v12") + "_measurements.csv"
    )


def test_name_bumps_version_in_destination(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / GUIDE).mkdir()
    assert main([*BUILD, "--dest", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == GUIDE.replace("v01", "v02")


def test_name_with_invalid_component_says_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [a if a != "Controle" else "Contrôle 10 µM" for a in BUILD]
    assert main([*argv, "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "condition 'Contrôle 10 µM'" in err
    assert "suggested: 2023-01-15_TNT_MicroAlgue_ALebon_Controle-10-uM_RAW_v01" in err


def test_name_missing_components_is_a_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["name", "--project", "TNT"]) == 1
    assert "--sample" in capsys.readouterr().err


def test_check_valid_and_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["name", "--check", GUIDE + ".csv"]) == 0
    assert capsys.readouterr().out.startswith("valid:")
    bad = "2023-01-15_TNT_MicroAlgue_alebon_Controle_RAW_v1.csv"
    assert main(["name", "--check", bad, "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("invalid:")
    assert "[creator/pattern]" in out and "'ALebon'" in out
    assert "[version/pattern]" in out and "'v01'" in out


def test_check_warning_only_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["name", "--check", GUIDE + ".CSV"]) == 0
    assert "[ext/extension_case]" in capsys.readouterr().out


def test_form_lists_missing_required_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "form.json"
    assert (
        main(["form", str(ND2), "--set", "naming.project=TNT", "--out", str(out)]) == 1
    )
    err = capsys.readouterr().err
    for field in (
        "naming.sample",
        "naming.creator",
        "study.title",
        "study.authors",
        "biosample.organism",
    ):
        assert f"error [{field}]" in err
    assert "error [naming.project]" not in err
    form = form_from_json(out.read_text(encoding="utf-8"))
    assert form.naming.project == "TNT" and form.sources["naming.project"] == "operator"
    assert form.naming.date == "2025-04-17"
    assert form.sources["naming.date"].startswith("file:nd2:")


def test_form_complete_exit_0_and_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "form.csv"
    assert main(["form", str(ND2), *COMPLETE, "--out", str(out)]) == 0
    assert (
        "form complete: 2025-04-17_TNT_PBMC_ALebon_Controle_RAW_v01"
        in capsys.readouterr().err
    )
    form = form_from_csv(out.read_text(encoding="utf-8"))
    assert form.biosample.organism.id == "NCBITaxon:9606"
    assert form.image_acquisition.objective_na == 0.75
    # replaces a form it made for this acquisition, never any other file
    assert main(["form", str(ND2), *COMPLETE, "--out", str(out)]) == 0
    capsys.readouterr()
    other = tmp_path / "notes.csv"
    other.write_text("my notes\n", encoding="utf-8")
    assert main(["form", str(ND2), *COMPLETE, "--out", str(other)]) == 2
    assert "not a form made for this acquisition" in capsys.readouterr().err
    assert other.read_text(encoding="utf-8") == "my notes\n"
    toxo_form = tmp_path / "toxo.csv"
    assert main(["form", str(DATA / "dv/toxo.dv"), "--out", str(toxo_form)]) == 1
    capsys.readouterr()
    before = toxo_form.read_bytes()
    assert main(["form", str(ND2), *COMPLETE, "--out", str(toxo_form)]) == 2
    assert toxo_form.read_bytes() == before


def test_form_with_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = resource_path("templates", "example-facility.yaml")
    out = tmp_path / "form.json"
    code = main(
        [
            "form",
            str(ND2),
            "--template",
            str(template),
            *COMPLETE,
            "--set",
            "study.funding=ANR-20-XYZ",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    data = json.loads(out.read_text(encoding="utf-8"))
    # the template's publisher is a default: what the operator typed wins
    assert data["study"]["publisher"] == "Test imaging facility"
    assert data["study"]["publisher_ror"] == "https://ror.org/02feahw73"
    assert data["sources"]["study.licence"] == "template:example-facility.yaml"
    assert (
        main(
            [
                "form",
                str(ND2),
                "--template",
                str(template),
                *COMPLETE,
                "--set",
                "study.licence=CC0-1.0",
                "--out",
                str(tmp_path / "b.json"),
            ]
        )
        == 1
    )
    assert "fixed by the facility template" in capsys.readouterr().err


def test_form_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_template = tmp_path / "t.yaml"
    bad_template.write_text("facility: A\n  licence: x\n", encoding="utf-8")
    assert main(["form", str(ND2), "--template", str(bad_template), "--out", "-"]) == 2
    assert "line 2" in capsys.readouterr().err
    # a bad value typed for a form field is a verdict (exit 1), not bad input
    assert main(["form", str(ND2), "--set", "nonsense", "--out", "-"]) == 1
    assert "FIELD=VALUE" in capsys.readouterr().err
    assert main(["form", str(ND2), "--set", "study.colour=red", "--out", "-"]) == 1
    assert "unknown form field" in capsys.readouterr().err
