"""The OME-TIFF open path: OME-XML read with ElementTree, planes mapped from TiffData.

Opening must give the same metadata as ome-types and the same pixels as tifffile's OME
series, without building either (both parse far more than one open needs).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from ome_types import from_xml

from conftest import DATA
from napari_fairly.core.demo import write_demo_acquisition
from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.formats.ome import (
    OmeXmlError,
    fields_from_ome,
    fields_from_ome_xml,
    image_names,
    parse_ome_xml,
)
from napari_fairly.core.reading import open_acquisition

# every reader that hands back OME-XML: Bio-Formats OME-TIFFs, bioio-czi, nd2
OME_XML_FILES = [
    "ome-tiff/multi-channel.ome.tif",
    "ome-tiff/FOV7_HV110_P0500510000.ome.tiff",
    "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi",
    "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi",
    "czi/Airyscan.czi",
    "czi/RGB-8bit.czi",
    "nd2/cluster.nd2",
    "nd2/example-multichannel.nd2",
    "nd2/example-timelapse.nd2",
]

NS = "http://www.openmicroscopy.org/Schemas/OME/2016-06"

# What vendors write and the demo does not: units other than the defaults, DeltaT
# only (no TimeIncrement), signed RGBA colours, a date with fraction and zone, two
# instruments with the image pointing at the second, detector settings, experimenter.
RICH = f"""<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="{NS}" UUID="urn:uuid:0f0f0f0f-0000-0000-0000-000000000001">
  <Experimenter ID="Experimenter:0" FirstName="Ada" LastName="Lovelace"/>
  <Instrument ID="Instrument:0">
    <Microscope Manufacturer="Nobody" Model="Unused"/>
    <Objective ID="Objective:0:0" Model="Wrong" LensNA="0.1"/>
  </Instrument>
  <Instrument ID="Instrument:1">
    <Microscope Manufacturer="Zeiss" Model="LSM 980" Type="Inverted"/>
    <Detector ID="Detector:1:0" Model="GaAsP" Type="PMT"/>
    <Detector ID="Detector:1:1" Model="Airyscan" Type="Other"/>
    <Objective ID="Objective:1:0" Model="Plan-Apochromat 20x/0.8"
        Manufacturer="Zeiss" NominalMagnification="20" LensNA="0.8"
        Immersion="Air" Correction="PlanApo"/>
    <Objective ID="Objective:1:1" Model="Plan-Apochromat 63x/1.4 Oil DIC"
        Manufacturer="Zeiss" NominalMagnification="63" LensNA="1.4"
        Immersion="Oil" Correction="PlanApo"/>
  </Instrument>
  <Image ID="Image:0" Name="cells &amp; beads">
    <AcquisitionDate>2024-03-05T14:07:09.123456Z</AcquisitionDate>
    <ExperimenterRef ID="Experimenter:0"/>
    <InstrumentRef ID="Instrument:1"/>
    <ObjectiveSettings ID="Objective:1:1" RefractiveIndex="1.518"/>
    <Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SignificantBits="12"
        SizeX="8" SizeY="6" SizeZ="2" SizeC="2" SizeT="3"
        PhysicalSizeX="65" PhysicalSizeXUnit="nm" PhysicalSizeY="0.065"
        PhysicalSizeZ="0.0005" PhysicalSizeZUnit="mm">
      <Channel ID="Channel:0:0" Name=" DAPI " Fluor="DAPI" SamplesPerPixel="1"
          ExcitationWavelength="0.405" ExcitationWavelengthUnit="µm"
          EmissionWavelength="461" AcquisitionMode="LaserScanningConfocalMicroscopy"
          IlluminationType="Epifluorescence" ContrastMethod="Fluorescence"
          PinholeSize="0.05" PinholeSizeUnit="mm" Color="-16776961">
        <DetectorSettings ID="Detector:1:0" Gain="650.5" Offset="-3" Binning="1x1"/>
      </Channel>
      <Channel ID="Channel:0:1" Name="GFP" SamplesPerPixel="1"
          EmissionWavelength="5100" EmissionWavelengthUnit="Å" Color="16711935">
        <DetectorSettings ID="Detector:1:1" Gain="1"/>
      </Channel>
      <TiffData IFD="0" PlaneCount="12"/>
      <Plane TheZ="0" TheC="0" TheT="0" DeltaT="0" DeltaTUnit="ms"
          ExposureTime="20" ExposureTimeUnit="ms"/>
      <Plane TheZ="0" TheC="1" TheT="0" DeltaT="5" DeltaTUnit="ms" ExposureTime="0.1"/>
      <Plane TheZ="0" TheC="0" TheT="1" DeltaT="1500" DeltaTUnit="ms"/>
      <Plane TheZ="0" TheC="0" TheT="2" DeltaT="3000" DeltaTUnit="ms"/>
    </Pixels>
  </Image>
  <Image ID="Image:1">
    <AcquisitionDate>2024-03-05T14:07:09</AcquisitionDate>
    <Pixels ID="Pixels:1" DimensionOrder="XYZCT" Type="float" SizeX="4" SizeY="4"
        SizeZ="1" SizeC="1" SizeT="5" TimeIncrement="250" TimeIncrementUnit="ms">
      <Channel ID="Channel:1:0" SamplesPerPixel="1"/>
      <TiffData IFD="12" PlaneCount="5"/>
    </Pixels>
  </Image>
</OME>"""


def _ome_types(xml: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return from_xml(xml, validate=False)


def _assert_same_fields(xml: str) -> int:
    ome = _ome_types(xml)
    root = parse_ome_xml(xml)
    assert image_names(root) == [im.name or im.id for im in ome.images]
    for index in range(len(ome.images)):
        assert fields_from_ome_xml(root, index) == fields_from_ome(ome, index)
    return len(ome.images)


@pytest.mark.parametrize("rel", OME_XML_FILES)
def test_fast_fields_equal_ome_types_on_real_files(rel: str) -> None:
    xml = open_acquisition(DATA / rel).ome_xml
    assert xml
    assert _assert_same_fields(xml) >= 1


def test_fast_fields_equal_ome_types_on_demo_and_rich_xml(tmp_path: Path) -> None:
    demo = write_demo_acquisition(tmp_path / "demo.ome.tif", size_z=3, size_yx=64)
    assert _assert_same_fields(tifffile.TiffFile(demo).ome_metadata) == 1
    assert _assert_same_fields(RICH) == 2


def test_rich_xml_values() -> None:
    """The values themselves, so both readers cannot agree on a wrong answer."""
    fields = fields_from_ome_xml(parse_ome_xml(RICH), 0)
    assert fields["pixel_size_x_um"].value == pytest.approx(0.065)
    assert fields["pixel_size_z_um"].value == pytest.approx(0.5)
    assert fields["pixel_size_y_um"].reason == "default_unit"
    assert fields["time_increment_s"].value == pytest.approx(1.5)
    assert fields["time_increment_s"].status == "inferred"
    assert fields["acquisition_date"].value == "2024-03-05T14:07:09.123456+00:00"
    assert fields["microscope"].value == "Zeiss LSM 980 (Inverted)"
    assert fields["experimenter"].value == "Ada Lovelace"
    objective = fields["objective"]
    assert objective.na.value == pytest.approx(1.4)
    assert objective.refractive_index.value == pytest.approx(1.518)
    assert (
        objective.na.source
        == "ome:Instrument[@ID='Instrument:1']/Objective[@ID='Objective:1:1']@LensNA"
    )
    dapi, gfp = fields["channels"]
    assert dapi.name.value == "DAPI"
    assert dapi.excitation_wavelength_nm.value == pytest.approx(405)
    assert dapi.pinhole_um.value == pytest.approx(50)
    assert dapi.exposure_s.value == pytest.approx(0.02)
    assert dapi.color_rgb.value == "FF0000"
    assert dapi.detector.offset.value == -3
    assert dapi.detector.model.value == "GaAsP"
    assert gfp.emission_wavelength_nm.value == pytest.approx(510)
    assert gfp.exposure_s.value == pytest.approx(0.1)
    assert gfp.color_rgb.value == "00FF00"
    second = fields_from_ome_xml(parse_ome_xml(RICH), 1)
    assert second["time_increment_s"].value == pytest.approx(0.25)


def test_values_ome_types_rejects_are_invalid_not_fatal() -> None:
    """A zero pixel size fails ome-types' validation; here it is one invalid value."""
    xml = RICH.replace('PhysicalSizeY="0.065"', 'PhysicalSizeY="0"')
    with pytest.raises(ValueError, match="physical_size_y"):
        _ome_types(xml)
    fields = fields_from_ome_xml(parse_ome_xml(xml), 0)
    assert fields["pixel_size_y_um"].status == "invalid"
    assert fields["pixel_size_y_um"].raw == "0.0"
    assert fields["pixel_size_x_um"].value == pytest.approx(0.065)


@pytest.mark.parametrize(
    "xml",
    [
        "not xml at all",
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2015-01"/>',
    ],
)
def test_other_schemas_are_left_to_ome_types(xml: str) -> None:
    with pytest.raises(OmeXmlError):
        parse_ome_xml(xml)


def _write(path: Path, data: np.ndarray, axes: str, **kwargs: object) -> None:
    tifffile.imwrite(path, data, ome=True, metadata={"axes": axes}, **kwargs)


@pytest.mark.parametrize("axes", ["TCZYX", "ZTCYX", "CZYX", "TYX", "YX"])
def test_planes_match_tifffile_series(axes: str, tmp_path: Path) -> None:
    """Each (T, C, Z) plane comes from the IFD tifffile's OME series reads it from."""
    sizes = {"T": 3, "C": 2, "Z": 4, "Y": 5, "X": 7}
    shape = tuple(sizes[a] for a in axes)
    data = np.arange(np.prod(shape), dtype=np.uint16).reshape(shape)
    path = tmp_path / "stack.ome.tif"
    _write(path, data, axes)
    acq = open_acquisition(path)
    with tifffile.TiffFile(path) as tf:
        series = tf.series[0]
        ref = series.asarray()
        ref_axes = series.axes
    for a in "TCZ":  # bring tifffile's series to TCZYX
        if a not in ref_axes:
            ref = ref[np.newaxis]
            ref_axes = a + ref_axes
    ref = np.transpose(ref, [ref_axes.index(a) for a in "TCZYX"])
    assert acq.data.shape == ref.shape
    np.testing.assert_array_equal(acq.data.compute(), ref)


def test_open_builds_neither_ome_types_nor_the_tifffile_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_demo_acquisition(tmp_path / "demo.ome.tif", size_z=3, size_yx=64)
    expected = open_acquisition(path)

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the open path built the full model")

    monkeypatch.setattr("ome_types.from_xml", forbidden)
    monkeypatch.setattr(tifffile.TiffFile, "series", property(forbidden))
    acq = open_acquisition(path)
    assert acq.metadata == expected.metadata
    np.testing.assert_array_equal(acq.data.compute(), expected.data.compute())


def test_bio_formats_tiffdata_per_plane() -> None:
    """One TiffData (with UUID and FileName) per plane, as Bio-Formats writes."""
    acq = open_acquisition(DATA / "ome-tiff/multi-channel.ome.tif")
    ref = tifffile.imread(DATA / "ome-tiff/multi-channel.ome.tif")  # CYX
    assert acq.data.shape == (1, 3, 1, 167, 439)
    np.testing.assert_array_equal(acq.data[0, :, 0].compute(), ref)


def test_multi_image_ome_tiff_scenes(tmp_path: Path) -> None:
    path = tmp_path / "two.ome.tif"
    first = np.arange(2 * 5 * 7, dtype=np.uint8).reshape(2, 5, 7)
    second = np.full((3, 4, 6), 9, dtype=np.uint8)
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(first, metadata={"axes": "ZYX", "Name": "first"})
        tif.write(second, metadata={"axes": "TYX", "Name": "second"})
    acq = open_acquisition(path, "second")
    assert acq.scene_names == ("first", "second")
    assert acq.data.shape == (3, 1, 1, 4, 6)
    np.testing.assert_array_equal(acq.data[:, 0, 0].compute(), second)
    np.testing.assert_array_equal(open_acquisition(path).data[0, 0].compute(), first)


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.95])
def test_truncated_multi_plane_ome_tiff_fails_at_open(
    fraction: float, tmp_path: Path
) -> None:
    """Damage is found when the file is opened, before any plane is read."""
    good = tmp_path / "good.ome.tif"
    _write(good, np.ones((2, 10, 64, 64), dtype=np.uint16), "CZYX")
    bad = tmp_path / "bad.ome.tif"
    content = good.read_bytes()
    bad.write_bytes(content[: int(len(content) * fraction)])
    with pytest.raises(UnreadableFileError, match="truncated") as info:
        open_acquisition(bad)
    assert str(bad) in str(info.value)


def test_more_planes_stated_than_ifds_fails_at_open(tmp_path: Path) -> None:
    path = tmp_path / "short.ome.tif"
    _write(path, np.ones((3, 16, 16), dtype=np.uint8), "ZYX")
    with tifffile.TiffFile(path) as tf:
        xml = tf.ome_metadata
    edited = xml.replace('SizeZ="3"', 'SizeZ="5"').replace(
        'PlaneCount="3"', 'PlaneCount="5"'
    )
    assert edited != xml
    tifffile.tiffcomment(path, edited.encode())
    with pytest.raises(UnreadableFileError, match="IFD"):
        open_acquisition(path)
