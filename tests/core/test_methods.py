"""The Materials-and-methods paragraph: recorded values, visible gaps, two languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from micrometa_synth import write_microscope

from conftest import DATA, naming_form
from napari_fairly.core.demo import write_demo_acquisition
from napari_fairly.core.methods import format_number, methods_pieces, methods_text
from napari_fairly.core.reading import open_acquisition
from napari_fairly.core.session import Session
from napari_fairly.core.settings import load_template

SOFTWARE = {
    "napari-fairly": "0.1.0",
    "python": "3.11.7",
    "bioio": "3.6.0",
    "zarr": "3.1",
}
INSTRUMENT = "Axio Observer 7 (room 12)"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # a smaller stack than the plugin's demo: the same metadata, written faster
    return write_demo_acquisition(tmp_path_factory.mktemp("demo"), size_z=6, size_yx=96)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in text.replace("). ", ").\n").split("\n")]


def test_the_demo_paragraph_says_what_the_file_records(demo_file: Path) -> None:
    acq = open_acquisition(demo_file)
    try:
        form = naming_form(acq, "Demo")
        text = methods_text(acq.metadata, form, SOFTWARE, "en", "0.4")
    finally:
        acq.close()
    reader = acq.metadata.reader.split(" (")[0]
    expected = (
        "Images were acquired by fluorescence microscopy with the Zeiss Axio "
        "Observer 7 (simulated) (Inverted) (Zeiss). "
        "Objective: Plan-Apochromat 63x/1.4 Oil DIC M27 (63×, NA 1.4, oil immersion). "
        "3 channels were recorded: DAPI (excitation 358 nm, emission 461 nm, exposure "
        "50 ms), EGFP (excitation 488 nm, emission 507 nm, exposure 200 ms) and "
        "mCherry (excitation 587 nm, emission 610 nm, exposure 300 ms). "
        "Illumination: [light source: not recorded]; emission filters: [filters: not "
        "recorded]; detector: ORCA-Flash4.0 V3 (simulated) CMOS. "
        "Images are 96 × 96 pixels of 0.08 × 0.08 µm. "
        "Z-stacks have 6 planes 0.5 µm apart. "
        "Pixel values are uint16; significant bits: 12. "
        "The acquisition is dated 2024-03-14. "
        f"The raw file (ome-tiff, read with {reader}) was converted without loss to "
        "OME-Zarr (OME-NGFF 0.4) with napari-fairly 0.1.0 (Python 3.11.7, bioio "
        "3.6.0, zarr 3.1), which also checked the sampling (Nyquist), the "
        "signal-to-noise ratio and the saturation."
    )
    assert text == expected


def test_the_demo_paragraph_in_french(demo_file: Path) -> None:
    acq = open_acquisition(demo_file)
    try:
        text = methods_text(acq.metadata, naming_form(acq, "Demo"), SOFTWARE, "fr")
    finally:
        acq.close()
    assert "(63×, ON 1,4, immersion huile)." in text
    assert "DAPI (excitation 358 nm, émission 461 nm, exposition 50 ms)" in text
    assert "Éclairage : [source de lumière : à compléter] ;" in text
    assert "pixels de 0,08 × 0,08 µm. Les piles en z comptent 6 plans" in text
    assert "(OME-NGFF [version OME-NGFF : à compléter])" in text  # not given here


def test_missing_values_are_gaps_and_inferred_ones_marked() -> None:
    acq = open_acquisition(DATA / "dv" / "toxo.dv")
    try:
        form = naming_form(acq, "Toxo")
        pieces = methods_pieces(acq.metadata, form, SOFTWARE, "en", "0.4")
    finally:
        acq.close()
    gaps = [p.text for p in pieces if p.gap]
    # the DV header states neither excitation nor exposure: one gap per channel
    assert gaps.count("[excitation wavelength: not recorded]") == 2
    assert gaps.count("[exposure: not recorded]") == 2
    assert "[significant bits: not recorded]" in gaps
    assert all(g.startswith("[") and g.endswith(": not recorded]") for g in gaps)
    text = "".join(p.text for p in pieces)
    # the lens table gives NA and magnification: shown, marked as inferred
    assert "(100†×, NA 1.35†, oil† immersion)" in text
    assert text.endswith(
        "† Inferred by napari-fairly, not stated in the file: instrument "
        "manufacturer, objective model, magnification, objective NA, immersion "
        "medium, emission wavelength."
    )
    assert "emission 525 nm†" in text and "emission 632 nm†" in text


def test_the_instruments_hardware_names_light_sources_and_filters(
    demo_file: Path, tmp_path: Path
) -> None:
    """A template instrument with a Micro-Meta App file: chosen in the form, its
    light sources and emission filters join the paragraph, matched by wavelength."""
    write_microscope(tmp_path / "scope.json")
    (tmp_path / "facility.yaml").write_text(
        f"facility: Test\ninstruments:\n  - name: {INSTRUMENT}\n"
        "    micro_meta_app_json: scope.json\n",
        encoding="utf-8",
    )
    template = load_template(tmp_path / "facility.yaml")
    acq = open_acquisition(demo_file)
    session = Session(acq, naming_form(acq, "Demo"), template=template)
    try:
        assert session.form.hardware is None
        session.set_fields({"image_acquisition.instrument": INSTRUMENT})
        assert session.form.hardware is not None
        assert session.form.image_acquisition.instrument == INSTRUMENT
        text = methods_text(session.metadata, session.form, SOFTWARE, "en", "0.4")
        french = methods_text(session.metadata, session.form, SOFTWARE, "fr", "0.4")
    finally:
        session.close()
    assert (
        "Illumination: 365/590 nm LED (pE-300) and 488 nm laser (OBIS 488 LX); "
        "emission filters: ET460/50m and ET525/50m; detector: ORCA-Flash4.0 V3 "
        "(simulated) CMOS."
    ) in text
    assert "with the Axio Observer 7 (room 12) (Zeiss)." in text
    assert "Éclairage : LED 365/590 nm (pE-300) et laser 488 nm (OBIS 488 LX)" in (
        french
    )


def test_numbers_are_written_for_people() -> None:
    assert [format_number(v, "en") for v in (65535.0, 55366.3, 0.13262, 1.4, 2.0)] == [
        "65535",
        "55366",
        "0.1326",
        "1.4",
        "2",
    ]
    assert format_number(0.13262, "fr") == "0,1326"
