"""``fairly report DIR`` and ``fairly methods DIR`` on a dataset saved by the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import DATA, naming_form
from napari_fairly.cli import main
from napari_fairly.core.form import form_to_json
from napari_fairly.core.reading import open_acquisition

RAW = DATA / "dv" / "toxo.dv"
NAME = "2024-01-15_TNT_Toxo_ALebon_Controle_RAW_v01"
REPORT = f"{NAME}_report.html"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """toxo.dv saved by ``fairly save`` as OME-NGFF 0.5 (Zarr v3), in English."""
    base = tmp_path_factory.mktemp("cli-report")
    acq = open_acquisition(RAW)
    try:
        (base / "form.json").write_text(form_to_json(naming_form(acq, "Toxo")))
    finally:
        acq.close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAIRLY_LANG", "en")
        code = main(
            ["save", str(RAW), "--form", str(base / "form.json"), "--out",
             str(base / "out"), "--ngff", "0.5"]
        )  # fmt: skip
    assert code == 0
    return base / "out" / NAME


@pytest.fixture
def copy(dataset: Path, tmp_path: Path) -> Path:
    target = tmp_path / NAME
    shutil.copytree(dataset, target)
    return target


def test_an_existing_report_is_left_alone(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (copy / REPORT).read_bytes()
    assert main(["report", str(copy)]) == 0
    assert f"{REPORT} is already there; nothing written." in capsys.readouterr().out
    assert (copy / REPORT).read_bytes() == before


def test_a_missing_report_is_written_again_identical(
    copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = (copy / REPORT).read_bytes()
    (copy / REPORT).unlink()
    monkeypatch.setenv("FAIRLY_LANG", "fr")  # saved in English: found by its sha256
    assert main(["report", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "(en)" in out and "son sha256 est celui noté à l'enregistrement." in out
    assert (copy / REPORT).read_bytes() == saved
    assert main(["verify", str(copy)]) == 0


def test_a_copy_in_the_other_language(
    copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "rapport.html"
    assert main(["report", str(copy), "--lang", "fr", "--out", str(other)]) == 0
    assert '<html lang="fr">' in other.read_text("utf-8")
    assert "it differs from the report recorded at save." in capsys.readouterr().out
    # never over an existing file
    assert main(["report", str(copy), "--out", str(other)]) == 2
    assert "rapport.html exists and is never replaced." in capsys.readouterr().err


def test_a_report_that_no_longer_matches_exits_1(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (copy / REPORT).unlink()
    # the sidecar changed after the save: the report made from it differs
    sidecar = copy / f"{NAME}.json"
    sidecar.write_text(sidecar.read_text("utf-8").replace('"A. Lebon"', '"B. Lebon"'))
    assert main(["report", str(copy), "--lang", "en"]) == 1
    assert "run fairly verify" in capsys.readouterr().err


def test_methods_prints_the_paragraph(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["methods", str(dataset), "--lang", "all"]) == 0
    english, french = capsys.readouterr().out.strip().split("\n\n")
    assert english.startswith("Images were acquired by fluorescence microscopy")
    assert "(OME-NGFF 0.5)" in english
    assert french.startswith("Les images ont été acquises en microscopie")
    assert french.count("[longueur d'onde d'excitation : à compléter]") == 2


def test_not_a_dataset_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["methods", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "cannot be read" in err and "fairly save printed" in err
