"""CSV cells never run as spreadsheet formulas, whoever wrote the text (issue 17).

The form CSV (``fairly form --out f.csv``), the measurements CSV of a saved dataset
and ``fairly qc --csv`` are read back with the csv module: no text cell begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and what we read back through
our own readers is the text as it was.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from conftest import DATA
from napari_fairly.cli import main
from napari_fairly.core.csvcell import FORMULA_STARTS, safe_cell, text_of_cell
from napari_fairly.core.export.tables import MEASUREMENT_COLUMNS, read_csv
from napari_fairly.core.form import form_from_csv

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
import corpus_cases

HOSTILE = [
    '=HYPERLINK("http://x")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(A1)",
    "\tTAB",
    "\rCR",
    "'=already quoted",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_cells_are_text_and_come_back(text: str) -> None:
    cell = safe_cell(text)
    assert cell.startswith("'") and text_of_cell(cell) == text


@pytest.mark.parametrize("text", ["-1.5", "+3e-2", "0.1", "plain", "", "Ω"])
def test_numbers_and_plain_text_are_left_alone(text: str) -> None:
    assert safe_cell(text) == text == text_of_cell(text)


def _unsafe(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would run: a formula start and not a plain number."""
    return [
        cell
        for row in rows
        for cell in row
        if cell[:1] in FORMULA_STARTS and safe_cell(cell) != cell
    ]


def _rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_form_csv_neutralises_typed_text_and_reads_it_back(tmp_path: Path) -> None:
    out = tmp_path / "form.csv"
    values = [*corpus_cases.FORM_VALUES]
    values += [
        "study.title=" + HOSTILE[0],
        "study.description=" + HOSTILE[1],
        "study_component.description=-1+1",
        "study.funding=@SUM(A1)",
    ]
    args = ["form", str(DATA / corpus_cases.RAW), "--out", str(out)]
    assert main([*args, *corpus_cases.set_args(*values)]) == 0
    rows = _rows(out)
    assert _unsafe(rows) == []
    cells = {row[0]: row[1] for row in rows}
    assert cells["study.title"] == "'" + HOSTILE[0]
    form = form_from_csv(out.read_text(encoding="utf-8"))
    assert form.study.title == HOSTILE[0]
    assert form.study.description == HOSTILE[1]
    assert form.study_component.description == "-1+1"
    assert form.study.funding == "@SUM(A1)"


def test_measurements_and_qc_csv_neutralise_file_text(tmp_path: Path) -> None:
    raw = corpus_cases.ome_csv_injection(tmp_path)  # hostile file and channel names
    form = tmp_path / "form.json"
    values = corpus_cases.set_args(*corpus_cases.FORM_VALUES)
    assert main(["form", str(raw), *values, "--out", str(form)]) == 0
    out = tmp_path / "out"
    assert main(["save", str(raw), "--form", str(form), "--out", str(out)]) == 0
    (dataset,) = out.iterdir()
    measurements = dataset / f"{dataset.name}_measurements.csv"
    rows = _rows(measurements)
    assert _unsafe(rows) == []
    header = rows[0]
    assert {row[header.index("source_file")] for row in rows[1:]} == {
        "'=cmd|calc.ome.tif"
    }
    frame = read_csv(measurements, MEASUREMENT_COLUMNS)
    assert set(frame["source_file"]) == {"=cmd|calc.ome.tif"}
    assert set(frame["channel_name"]) == {
        '=HYPERLINK("http://x")',
        "+cmd|' /C calc'!A0",
        "@SUM(A1)",
    }
    assert main(["verify", str(dataset)]) == 0

    qc_csv = tmp_path / "qc.csv"
    assert main(["qc", str(raw), "--csv", str(qc_csv)]) in (0, 3)
    assert _unsafe(_rows(qc_csv)) == []
