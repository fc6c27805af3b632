"""Micro-Meta App microscope files: read, refused when malformed, used by the form."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from micrometa_synth import OBJECTIVE_63, microscope, write_microscope

from napari_fairly.core.errors import TemplateError
from napari_fairly.core.form import (
    form_from_csv,
    form_from_json,
    form_to_csv,
    form_to_json,
    prefill_form,
)
from napari_fairly.core.metadata import (
    AcquisitionMetadata,
    ChannelMetadata,
    Objective,
)
from napari_fairly.core.micrometa import (
    Band,
    MicroscopeFileError,
    load_microscope,
    matching_objective,
)
from napari_fairly.core.model import Sourced, Status
from napari_fairly.core.settings import load_template

INSTRUMENT = "Axio Observer 7 (room 12)"


def test_reads_objectives_light_sources_filters_and_detectors(tmp_path: Path) -> None:
    path = write_microscope(tmp_path / "scope.json")
    hardware = load_microscope(path)
    assert (hardware.name, hardware.manufacturer, hardware.model) == (
        INSTRUMENT,
        "Zeiss",
        "Axio Observer 7",
    )
    assert hardware.stand == "inverted"
    assert hardware.file_name == "scope.json"
    assert hardware.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    obj63, obj20 = hardware.objectives
    assert (obj63.magnification, obj63.na, obj63.immersion) == (63.0, 1.4, "Oil")
    assert obj63.correction == "PlanApo"
    assert obj63.source == "Micro-Meta App scope.json#obj-63"
    assert (obj20.magnification, obj20.na, obj20.immersion) == (20.0, 0.8, "Air")
    laser, led = hardware.light_sources
    assert (laser.kind, laser.wavelengths_nm) == ("laser", (488.0,))
    # the LED's first module is written in µm: converted to nm
    assert (led.kind, led.wavelengths_nm) == ("LED", (365.0, 590.0))
    kinds = [(f.kind, f.label, f.bands) for f in hardware.filters]
    assert kinds == [
        ("emission filter", "ET525/50m", (Band(cut_in_nm=500, cut_out_nm=550),)),
        ("emission filter", "ET460/50m", (Band(cut_in_nm=435, cut_out_nm=485),)),
        ("dichroic mirror", "T495lpxr", (Band(cut_in_nm=495, cut_out_nm=800),)),
    ]
    (camera,) = hardware.detectors
    assert (camera.kind, camera.label, camera.model) == (
        "CMOS",
        "ORCA-Fusion",
        "C14440-20UP",
    )


def _broken(**changes: object) -> dict[str, object]:
    data = microscope()
    data.update(changes)
    return data


def _with_objective(**values: str) -> dict[str, object]:
    data = microscope()
    objective = copy.deepcopy(OBJECTIVE_63)
    objective.update(values)
    data["components"] = [objective]
    return data


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "the file holds no JSON object"),
        (json.dumps(_broken(components="none")), "it has no list of components"),
        (
            json.dumps(_broken(Name="", MicroscopeStand={})),
            "the microscope has no Name",
        ),
        (
            json.dumps(_broken(components=[{"Name": "lens"}])),
            "component 1 has no Schema_ID (like Objective.json)",
        ),
        (
            json.dumps(_with_objective(LensNA="1,4x")),
            "Objective.json 'Plan-Apochromat 63x/1.4 Oil': LensNA '1,4x' is not a "
            "number",
        ),
        (
            json.dumps(_with_objective(LensNA="14")),
            "Objective.json 'Plan-Apochromat 63x/1.4 Oil': LensNA 14 is outside 0–1.7",
        ),
    ],
)
def test_a_malformed_file_gets_a_clear_message(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "scope.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MicroscopeFileError) as caught:
        load_microscope(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not a Micro-Meta App microscope file: ")
    assert expected in message
    assert "micro_meta_app_json" in message  # the fix says what to do


def test_a_wavelength_in_an_unknown_unit_is_refused(tmp_path: Path) -> None:
    data = microscope()
    data["components"] = [
        {
            "Schema_ID": "Laser.json",
            "ID": "l",
            "Name": "L",
            "Wavelength": "488",
            "WavelengthUnit": "furlong",
        }
    ]
    with pytest.raises(MicroscopeFileError, match="WavelengthUnit has the unit"):
        load_microscope(write_microscope(tmp_path / "scope.json", data))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MicroscopeFileError, match="cannot read the Micro-Meta App"):
        load_microscope(tmp_path / "absent.json")


def _template(tmp_path: Path, scope: str = "scopes/scope.json") -> Path:
    (tmp_path / "scopes").mkdir(exist_ok=True)
    write_microscope(tmp_path / "scopes" / "scope.json")
    path = tmp_path / "facility.yaml"
    path.write_text(
        "facility: Plateforme test\n"
        "instruments:\n"
        f"  - name: {INSTRUMENT}\n"
        f"    micro_meta_app_json: {scope}\n"
        "  - name: Other scope\n",
        encoding="utf-8",
    )
    return path


def test_the_template_imports_the_hardware_of_its_instruments(tmp_path: Path) -> None:
    template = load_template(_template(tmp_path))
    described, other = template.instruments
    assert described.hardware is not None and other.hardware is None
    assert len(described.hardware.objectives) == 2
    # the YAML leaves them empty: the file's stand fills them
    assert (described.manufacturer, described.model) == ("Zeiss", "Axio Observer 7")


def test_a_template_naming_a_malformed_file_is_refused(tmp_path: Path) -> None:
    path = _template(tmp_path)
    (tmp_path / "scopes" / "scope.json").write_text("{}", encoding="utf-8")
    with pytest.raises(TemplateError, match="it has no list of components"):
        load_template(path)


def _metadata(magnification: float | None, **stated: object) -> AcquisitionMetadata:
    """One channel (488/525 nm); the objective's ``stated`` values from the file."""
    values = {"magnification": magnification, **stated}
    objective = Objective(
        **{
            key: Sourced.found(value, f"ome:{key}")
            for key, value in values.items()
            if value is not None
        }
    )
    return AcquisitionMetadata(
        source_path="cells.ome.tif",
        size_bytes=1000,
        format="ome-tiff",
        reader="test",
        shape={"T": 1, "C": 1, "Z": 1, "Y": 64, "X": 64},
        dtype="uint16",
        objective=objective,
        channels=(
            ChannelMetadata(
                index=0,
                excitation_wavelength_nm=Sourced.found(488.0, "ome:Ex", "nm"),
                emission_wavelength_nm=Sourced.found(525.0, "ome:Em", "nm"),
            ),
        ),
    )


def test_the_form_fills_the_instrument_fields_from_the_hardware(tmp_path: Path) -> None:
    template = load_template(_template(tmp_path))
    form = prefill_form(
        _metadata(63.0), template, None, {"image_acquisition.instrument": INSTRUMENT}
    )
    acquisition = form.image_acquisition
    assert acquisition.instrument_manufacturer == "Zeiss"
    assert acquisition.objective == "Plan-Apochromat 63x/1.4 Oil"
    assert acquisition.objective_na == 1.4
    assert acquisition.immersion == "Oil"
    assert acquisition.objective_magnification == 63.0  # the file's, kept
    na = form.corrections.get("image_acquisition.objective_na")
    assert na is not None and na.status is Status.OPERATOR and na.value == 1.4
    assert na.source == "template:facility.yaml (Micro-Meta App scope.json#obj-63)"
    assert form.sources["image_acquisition.objective"] == na.source
    assert form.sources["image_acquisition.instrument_manufacturer"] == (
        "template:facility.yaml (Micro-Meta App scope.json)"
    )
    assert form.hardware is not None and form.hardware.sha256


def test_two_objectives_and_no_magnification_fill_no_objective(tmp_path: Path) -> None:
    template = load_template(_template(tmp_path))
    form = prefill_form(
        _metadata(None), template, None, {"image_acquisition.instrument": INSTRUMENT}
    )
    assert form.image_acquisition.objective_na is None  # never a guess
    assert form.corrections.get("image_acquisition.objective_na") is None
    assert form.hardware is not None  # still described for the methods
    assert matching_objective(form.hardware, 20.0) is not None
    assert matching_objective(form.hardware, 40.0) is None


def test_another_instrument_gets_no_hardware(tmp_path: Path) -> None:
    template = load_template(_template(tmp_path))
    form = prefill_form(
        _metadata(63.0), template, None, {"image_acquisition.instrument": "Other scope"}
    )
    assert form.hardware is None
    assert form.image_acquisition.objective_na is None


def test_the_files_values_win_over_the_hardware(tmp_path: Path) -> None:
    template = load_template(_template(tmp_path))
    metadata = _metadata(63.0, na=1.3, immersion="Water")
    form = prefill_form(
        metadata, template, None, {"image_acquisition.instrument": INSTRUMENT}
    )
    assert form.image_acquisition.objective_na == 1.3
    assert form.image_acquisition.immersion == "Water"
    assert form.corrections.values == {}
    assert form.sources["image_acquisition.objective_na"] == "file:ome:na"


def test_the_hardware_survives_json_and_csv(tmp_path: Path) -> None:
    template = load_template(_template(tmp_path))
    metadata = _metadata(63.0, na=1.4, immersion="Oil")  # no correction in the form
    form = prefill_form(
        metadata, template, None, {"image_acquisition.instrument": INSTRUMENT}
    )
    assert form.hardware is not None
    assert form_from_json(form_to_json(form)).hardware == form.hardware
    assert form_from_csv(form_to_csv(form)).hardware == form.hardware
