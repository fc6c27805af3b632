"""Plain words for people: every code has its words, in English and French, and
values are compared in one unit; codes in JSON and CSV stay the same."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import pytest

from napari_fairly.core import why, words
from napari_fairly.core.form import RECOMMENDED, REQUIRED
from napari_fairly.core.qc import CheckResult, Severity
from napari_fairly.core.qc.results import CheckName

QC = Path(words.__file__).resolve().parent / "qc"


def _verdict_codes() -> set[str]:
    """Every verdict code the checks can write, read from their source."""
    found: set[str] = set()
    for path in QC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "verdict":
                if isinstance(node.value, ast.Constant):
                    found.add(node.value.value)
            elif isinstance(node, ast.Tuple) and len(node.elts) >= 2:
                first, second = node.elts[:2]
                if (
                    isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                    and isinstance(second, ast.Attribute)
                    and isinstance(second.value, ast.Name)
                    and second.value.id == "Severity"
                ):
                    found.add(first.value)
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "_row"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                found.add(node.args[1].value)
    return found


def test_every_check_and_verdict_has_plain_words_and_a_why() -> None:
    codes = _verdict_codes()
    assert {
        "clipped_invalid",
        "biased_by_clipping",
        "fair_good",
        "undersampled",
    } <= codes
    assert codes - set(words.VERDICTS) == set()
    for check in get_args(CheckName):
        assert words.check_words(check) != check.replace("_", " "), check
        assert why.why_check(check), check
    for severity in Severity:
        assert words.severity_words(severity.value) != severity.value


def test_verdicts_in_words_right_for_their_check() -> None:
    assert words.verdict_words("saturation", "clipped_invalid", short=True) == "clipped"
    assert words.verdict_words("saturation", "clipped") == (
        "clipped — the values at the ceiling are not measurements"
    )
    assert "z-step is too large" in words.verdict_words("nyquist_z", "undersampled")
    assert "z-step" not in words.verdict_words("nyquist_x", "undersampled")
    assert words.verdict_words("snr", "biased_by_clipping", short=True) == "unreliable"
    assert words.verdict_words("snr", "fair_good", short=True) == "fair"
    assert words.verdict_words("nyquist_x", "not_checked") == (
        "not checked — a value the check needs is missing"
    )


def _row(
    check: str, value: float, threshold: float, unit: str, verdict: str
) -> CheckResult:
    return CheckResult(
        check=check,
        value=value,
        threshold=threshold,
        unit=unit,
        verdict=verdict,
        severity=Severity.ERROR,
        message="",
    )


@pytest.mark.parametrize(
    ("row", "measured"),
    [
        (_row("nyquist_z", 500.0, 246.26, "nm", "undersampled"), "500 / ≤ 246 nm"),
        (_row("nyquist_x", 20.0, 43.57, "nm", "oversampled"), "20 / ≈ 43.6 nm"),
        (_row("saturation", 0.006217, 0.001, "1", "clipped_invalid"), "0.62 / ≤ 0.1 %"),
        (_row("dynamic_range", 0.0237, 0.05, "1", "little_range_used"), "2.4 / ≥ 5 %"),
        (_row("snr", 100.9, 5.0, "1", "biased_by_clipping"), "101 / ≥ 5"),
        (_row("oversampling", 10.31, 1.0, "1", "oversampled"), "×10.31"),
    ],
)
def test_value_and_limit_in_one_unit(row: CheckResult, measured: str) -> None:
    assert words.measured_words(row) == measured


def test_french_numbers_and_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIRLY_LANG", "fr")
    row = _row("saturation", 0.006217, 0.001, "1", "clipped_invalid")
    assert words.measured_words(row) == "0,62 / ≤ 0,1 %"
    assert words.verdict_words("saturation", "clipped") == (
        "tronqué — les valeurs au plafond ne sont pas des mesures"
    )
    assert words.source_words("ome:Image[0]/Pixels@PhysicalSizeX", "present") == (
        "du fichier : OME Pixels PhysicalSizeX"
    )


@pytest.mark.parametrize(
    ("source", "readable"),
    [
        (
            "ome:Instrument[@ID='Instrument:0']/Objective[@ID='Objective:0']@LensNA",
            "OME Objective LensNA",
        ),
        (
            "ome:Image[0]/Pixels/Channel[0]@EmissionWavelength",
            "OME Channel EmissionWavelength",
        ),
        ("czi:Metadata/Scaling/Items/Distance[@Id='X']/Value", "CZI Distance X Value"),
        (
            "nd2:metadata.channels[0].channel.emissionLambdaNm",
            "ND2 channel emissionLambdaNm",
        ),
        ("dv:extended header exWavelen", "DV extended header exWavelen"),
        (
            "OME-TIFF dimensions (the file names its axes)",
            "OME-TIFF dimensions (the file names its axes)",
        ),
    ],
)
def test_sources_read_as_words(source: str, readable: str) -> None:
    assert words.readable_source(source) == readable


def test_sources_say_where_a_value_came_from() -> None:
    na = "ome:Instrument[@ID='Instrument:0']/Objective[@ID='Objective:0']@LensNA"
    assert words.source_words(na, "present") == "from the file: OME Objective LensNA"
    assert words.source_words(na, "missing") == (
        "missing (looked for: OME Objective LensNA)"
    )
    assert words.source_words("", "missing", applies=False) == "not applicable"
    assert words.source_words("template:lyon.yaml", "operator") == (
        "set by the template lyon.yaml"
    )
    assert words.form_source_words("file:ome:Image[0]@AcquisitionDate") == (
        "from the file: OME AcquisitionDate"
    )
    assert (
        words.form_source_words("template:lyon.yaml") == "from the template (lyon.yaml)"
    )
    assert words.form_source_words("profile:alice") == "from your last entries"
    assert words.form_source_words("operator") == "typed by you"


def test_every_required_and_recommended_field_says_why_it_matters() -> None:
    assert [p for p in (*REQUIRED, *RECOMMENDED) if not why.why_field(p)] == []
    assert all(
        why.why_step(step) for step in ("open", "metadata", "form", "checks", "save")
    )
    principles = " ".join(why.STEPS.values()) + " ".join(why.CHECKS.values())
    for principle in (
        "read-only",
        "checksum",
        "3-2-1",
        "least data",
        "Nyquist",
        "REMBI",
    ):
        assert principle in principles, principle
