"""The demo acquisition: complete OME-XML, seeded, with the lessons it teaches."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from ome_types import from_xml

from napari_fairly.core import demo


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.write_demo_acquisition(tmp_path_factory.mktemp("demo"))


def test_demo_ome_xml_is_complete(demo_file: Path) -> None:
    with tifffile.TiffFile(demo_file) as tif:
        assert tif.is_ome
        ome = from_xml(tif.ome_metadata)
    image = ome.images[0]
    pixels = image.pixels
    assert (pixels.size_c, pixels.size_z, pixels.size_y, pixels.size_x) == (
        3,
        24,
        256,
        256,
    )
    assert pixels.significant_bits == 12
    assert pixels.physical_size_x == pytest.approx(0.08)
    assert pixels.physical_size_z == pytest.approx(0.5)
    assert image.acquisition_date is not None and image.acquisition_date.year == 2024
    objective = ome.instruments[0].objectives[0]
    assert objective.lens_na == pytest.approx(1.4)
    assert objective.nominal_magnification == pytest.approx(63)
    assert objective.immersion.value == "Oil"
    assert ome.instruments[0].microscope.model
    assert [c.fluor for c in pixels.channels] == ["DAPI", "EGFP", "mCherry"]
    assert [c.emission_wavelength for c in pixels.channels] == [461, 507, 610]
    assert [c.excitation_wavelength for c in pixels.channels] == [358, 488, 587]
    exposures = {(p.the_c, p.exposure_time) for p in pixels.planes}
    assert exposures == {(0, 0.05), (1, 0.2), (2, 0.3)}


def test_demo_teaches_saturation_and_axial_undersampling(demo_file: Path) -> None:
    pixels = tifffile.imread(demo_file)
    ceiling = 2**demo.SIGNIFICANT_BITS - 1
    clipped = [(pixels[c] >= ceiling).mean() for c in range(3)]
    assert clipped[0] == 0 and clipped[1] == 0
    assert (
        0.001 < clipped[2] < 0.05
    )  # partly saturated: above the SPEC's 0.1 % warning band
    assert pixels.max() <= ceiling  # the 12-bit camera never exceeds its range
    # widefield axial Nyquist for the shortest emission: λ / (2 n (1 − cos α))
    n, na = demo.IMMERSION_RI, demo.OBJECTIVE_NA
    alpha = np.arcsin(na / n)
    axial_nm = 461 / (2 * n * (1 - np.cos(alpha)))
    lateral_nm = 461 / (4 * na)
    assert demo.Z_STEP_UM * 1000 / axial_nm > 1.5  # clearly undersampled in z
    assert 0.5 < demo.PIXEL_SIZE_XY_UM * 1000 / lateral_nm <= 1.02  # adequate laterally


def test_demo_is_reproducible(tmp_path: Path) -> None:
    first = demo.write_demo_acquisition(tmp_path / "a.ome.tif", size_z=4, size_yx=64)
    second = demo.write_demo_acquisition(tmp_path / "b.ome.tif", size_z=4, size_yx=64)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second)]
    assert digest[0] == digest[1]
    assert not list(tmp_path.glob(".*partial*"))
