"""open_acquisition on every real file and scene, against the low-level readers.

Reference values are ``expected.json`` ``low_level`` (tifffile, nd2, readlif,
pylibCZIrw, mrc, zarr). Tolerances: pixel sizes rel 1e-3, time increment rel 1e-2,
wavelengths ±1 nm, NA / magnification / RI / exposure rel 1e-6. Where we deliberately
differ, the value we give and why are listed in JUSTIFIED below: the test checks that
value.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import DATA, EXPECTED
from napari_fairly.core.metadata import AcquisitionMetadata
from napari_fairly.core.model import Sourced, Status
from napari_fairly.core.reading import Acquisition, list_scenes, open_acquisition


def _tiles(series: dict[str, Any]) -> int:
    """Scenes one series of expected.json is for us: one per LIF tile, else one."""
    tiles = series.get("lif_tiles")
    return len(tiles["tiles"]) if tiles else 1


# (file, series of expected.json, our scene): a LIF tile scan is one scene per tile
# (test_reading_pixels.py), each compared with its series' values
SCENES = [
    (rel, series, sum(_tiles(s) for s in lo[:series]) + tile)
    for rel, rec in sorted(EXPECTED["files"].items())
    for lo in [rec["low_level"]["scenes"]]
    for series in range(len(lo))
    for tile in range(_tiles(lo[series]))
]
SCENE_COUNTS = {
    rel: sum(_tiles(s) for s in rec["low_level"]["scenes"])
    for rel, rec in EXPECTED["files"].items()
}
SCENE_IDS = [f"{r}[{s}]" + (f"-scene{i}" if i != s else "") for r, s, i in SCENES]

# (file, series, field) → (the value we give, why it differs from expected.json)
JUSTIFIED: dict[tuple[str, int, str], tuple[Any, str]] = {
    # data README "ND2 notes": nd2 says 405 nm for every channel; the description text
    # lists the one laser line actually on, which we use (a note records the conflict).
    ("nd2/example-multichannel.nd2", 0, "channels[2].excitation_nm"): (
        488.0,
        "laser line on",
    ),
    ("nd2/example-multichannel.nd2", 0, "channels[3].excitation_nm"): (
        561.0,
        "laser line on",
    ),
    ("nd2/example-timelapse.nd2", 0, "channels[0].excitation_nm"): (
        488.0,
        "laser line on",
    ),
    ("nd2/example-zstack.nd2", 0, "channels[0].excitation_nm"): (
        488.0,
        "laser line on",
    ),
    ("nd2/example-cerevisiae.nd2", 0, "channels[1].excitation_nm"): (
        488.0,
        "laser line on",
    ),
    # DIC channel: nd2's 405 nm is none of the lines on (450/550/640): not trusted
    ("nd2/example-cerevisiae.nd2", 0, "channels[0].excitation_nm"): (
        None,
        "conflict, invalid",
    ),
    # the time loop states no period; measured from the frame clock (status inferred)
    ("nd2/cluster.nd2", 0, "time_increment_s"): (10.6475, "frame clock, inferred"),
    # LAS X writes 'GLYC'; we map it to the OME Immersion vocabulary (raw text kept)
    **{
        (f"lif/{name}", i, "objective.immersion"): ("Glycerol", "OME vocabulary")
        for name in (
            "LeicaLASX_wavelength-sweep_example.lif",
            "testdata_2channel_xz.lif",
        )
        for i in range(3)
    },
    # LAS X writes 'DRY'; OME Immersion calls it 'Air' (raw text kept)
    ("lif/PR2729_frameOrderCombinedScanTypes.lif", 0, "objective.immersion"): (
        "Air",
        "OME vocabulary",
    ),
    # the Z Length is negative (z decreases from plane to plane): the z-step is its
    # magnitude, the direction is kept in a note and in the value's raw text
    ("lif/PR2729_frameOrderCombinedScanTypes.lif", 0, "pixel_size_z_um"): (
        6.227615,
        "magnitude of a negative Z Length/(N-1)",
    ),
    # DV header wave1/wave2: softWoRx names channels by emission filter (inferred)
    ("dv/toxo.dv", 0, "channels[0].emission_nm"): (
        525.0,
        "DV wave1, inferred emission",
    ),
    ("dv/toxo.dv", 0, "channels[1].emission_nm"): (
        632.0,
        "DV wave2, inferred emission",
    ),
    # mrc's lens table for lens ID 10003 says Oil (status inferred)
    ("dv/toxo.dv", 0, "objective.immersion"): ("Oil", "mrc lens table"),
    # ImageJ 'Labels' are slice labels, one per plane ("c:1/4 t:75/132 - ….nd2"), not
    # channel names: the channels stay unnamed (expected.json lists no channel) and
    # the labels are kept in the vendor metadata and a note
    **{
        ("imagej-tiff/test_still_stack.tif", 0, f"channels[{c}].name"): (
            None,
            "ImageJ Labels are slice labels, not channel names",
        )
        for c in range(3)
    },
}


def _value(s: Sourced[Any]) -> Any:
    return s.value


def _date(text: str | None) -> dt.datetime | None:
    """Expected dates: ISO 8601 (CZI: 7 fraction digits; LIF) or ND2's local text."""
    if text is None:
        return None
    for fmt in ("%m/%d/%Y %I:%M:%S %p", "%d/%m/%Y %H:%M:%S"):
        try:
            return dt.datetime.strptime(" ".join(text.split()), fmt)
        except ValueError:
            pass
    return dt.datetime.fromisoformat(text[:19])


def _ours(md: AcquisitionMetadata) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pixel_size_x_um": md.pixel_size_x_um.value,
        "pixel_size_y_um": md.pixel_size_y_um.value,
        "pixel_size_z_um": md.pixel_size_z_um.value,
        "time_increment_s": md.time_increment_s.value,
        "significant_bits": md.significant_bits.value,
        "acquisition_date": _date(md.acquisition_date.value),
        "microscope": md.microscope.value,
        "objective.model": md.objective.model.value,
        "objective.magnification": md.objective.magnification.value,
        "objective.na": md.objective.na.value,
        "objective.immersion": md.objective.immersion.value,
        "objective.refractive_index": md.objective.refractive_index.value,
    }
    for c in md.channels:
        out[f"channels[{c.index}].name"] = c.name.value
        out[f"channels[{c.index}].excitation_nm"] = c.excitation_wavelength_nm.value
        out[f"channels[{c.index}].emission_nm"] = c.emission_wavelength_nm.value
        out[f"channels[{c.index}].exposure_s"] = c.exposure_s.value
        out[f"channels[{c.index}].fluorophore"] = c.fluorophore.value
    return out


def _reference(lo: dict[str, Any]) -> dict[str, Any]:
    ob = lo["objective"]
    sb = lo["significant_bits"]
    out: dict[str, Any] = {
        "pixel_size_x_um": lo["pixel_size_um"]["x"],
        "pixel_size_y_um": lo["pixel_size_um"]["y"],
        "pixel_size_z_um": lo["pixel_size_um"]["z"],
        "time_increment_s": lo["time_increment_s"],
        "significant_bits": int(sb) if sb is not None else None,
        "acquisition_date": _date(lo["acquisition_date"]),
        "microscope": lo["microscope"],
        "objective.model": ob["model"],
        "objective.magnification": ob["magnification"],
        "objective.na": ob["na"],
        "objective.immersion": ob["immersion"],
        "objective.refractive_index": ob["refractive_index"],
    }
    for i, ch in enumerate(lo["channels"]):
        out[f"channels[{i}].name"] = ch["name"] or None  # "" = not named
        out[f"channels[{i}].excitation_nm"] = ch["excitation_nm"]
        out[f"channels[{i}].emission_nm"] = ch["emission_nm"]
        out[f"channels[{i}].exposure_s"] = ch["exposure_s"]
        out[f"channels[{i}].fluorophore"] = ch["fluorophore"]
    return out


def _close(key: str, ours: Any, ref: Any) -> bool:
    if ours is None or ref is None:
        return ours is None and ref is None
    if isinstance(ref, (int, float)) and not isinstance(ref, bool):
        if key.endswith("_nm"):
            return abs(float(ours) - ref) <= 1.0
        if key.startswith("pixel_size"):
            return float(ours) == pytest.approx(ref, rel=1e-3)
        if key == "time_increment_s":
            return float(ours) == pytest.approx(ref, rel=1e-2)
        return float(ours) == pytest.approx(ref, rel=1e-6)
    return bool(ours == ref)


@pytest.fixture(scope="module")
def opened() -> dict[tuple[str, int], Acquisition]:
    return {}


def _open(cache: dict[tuple[str, int], Acquisition], rel: str, i: int) -> Acquisition:
    if (rel, i) not in cache:
        cache[(rel, i)] = open_acquisition(DATA / rel, i)
    return cache[(rel, i)]


@pytest.mark.parametrize(("rel", "series", "scene"), SCENES, ids=SCENE_IDS)
def test_values_match_low_level_readers(
    rel: str, series: int, scene: int, opened: dict[tuple[str, int], Acquisition]
) -> None:
    lo = EXPECTED["files"][rel]["low_level"]["scenes"][series]
    acq = _open(opened, rel, scene)
    md = acq.metadata
    # shape per axis, dims and dtype
    assert md.shape == lo["shape"]
    assert acq.data.shape == tuple(lo["shape"][a] for a in acq.dims)
    assert acq.dims == ("TCZYXS" if "S" in lo["shape"] else "TCZYX")
    assert str(lo["dtype"]).startswith(md.dtype)
    assert md.scene_index == scene
    assert md.scene_count == SCENE_COUNTS[rel]
    # every value, or the justified difference
    ours, ref = _ours(md), _reference(lo)
    assert len(md.channels) == lo["shape"]["C"]
    wrong = {}
    for key in sorted(
        set(ref) | {k for (f, s, k) in JUSTIFIED if (f, s) == (rel, series)}
    ):
        want = ref.get(key)
        if (rel, series, key) in JUSTIFIED:
            want = JUSTIFIED[(rel, series, key)][0]
        if not _close(key, ours.get(key), want):
            wrong[key] = (ours.get(key), want)
    assert not wrong, f"ours vs expected: {wrong}"


@pytest.mark.parametrize(("rel", "series", "scene"), SCENES, ids=SCENE_IDS)
def test_first_and_last_plane_readable(
    rel: str, series: int, scene: int, opened: dict[tuple[str, int], Acquisition]
) -> None:
    acq = _open(opened, rel, scene)
    first = acq.data[0, 0, 0].compute()
    last = acq.data[-1, -1, -1].compute()
    plane_shape = tuple(acq.data.shape[3:])
    assert first.shape == plane_shape
    assert last.shape == plane_shape
    assert first.dtype == np.dtype(acq.metadata.dtype)
    # real images are not constant (a zero-filled read would be)
    assert float(first.max()) > float(first.min())


def test_every_value_states_its_source(
    opened: dict[tuple[str, int], Acquisition],
) -> None:
    for rel, _series, scene in SCENES:
        md = _open(opened, rel, scene).metadata
        for key, value in md.sourced_fields().items():
            if value.status in (Status.PRESENT, Status.INFERRED):
                assert value.source, f"{rel}[{scene}] {key} has no source"


def test_scene_lists_and_names() -> None:
    assert list_scenes(DATA / "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi") == [
        "TR1",
        "P1",
        "TR2",
    ]
    assert list_scenes(DATA / "lif/testdata_2channel_xz.lif") == ["xzt", "xzy", "xz"]
    by_name = open_acquisition(DATA / "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi", "TR2")
    assert by_name.scene_index == 2
    assert by_name.metadata.shape["X"] == 352


def test_known_reader_bugs_are_worked_around() -> None:
    # CZI: bioio says 0.0 for unset sizes: ours is invalid, with the file's text kept
    z = open_acquisition(DATA / "czi/Airyscan.czi").metadata.pixel_size_z_um
    assert z.status is Status.INVALID and z.value is None and z.raw == "0"
    # ND2: Z=1.0 on an uncalibrated axis is a default, not a measurement
    md = open_acquisition(DATA / "nd2/example-multichannel.nd2").metadata
    assert md.pixel_size_z_um.status is Status.MISSING
    assert any("laser line" in n for n in md.notes)
    # TIFF: 72 dpi is not a pixel size
    md = open_acquisition(DATA / "tiff/multipage.tif").metadata
    assert md.pixel_size_x_um.value is None
    assert md.pixel_size_x_um.reason == "unit_not_physical"
    # OME-Zarr: unitless scale 1.0 is not 1 µm
    md = open_acquisition(DATA / "ome-zarr/blobs_image_v04.ome.zarr").metadata
    assert md.pixel_size_x_um.value is None
    assert md.pixel_size_x_um.reason == "unit_not_physical"
    assert md.pixel_size_x_um.raw == "1.0 (no unit)"
    # LSM880: no invented channel names
    md = open_acquisition(DATA / "czi/LSM880_AiryScan.czi").metadata
    assert [c.name.value for c in md.channels][4:] == [None] * 4
    # fallbacks say so in reader and notes
    md = open_acquisition(DATA / "czi/DAPI_GFP.czi").metadata
    assert md.reader.startswith("pylibCZIrw") and "no OME view" in md.notes[0]
    md = open_acquisition(DATA / "lif/LeicaLASX_wavelength-sweep_example.lif").metadata
    assert md.reader.startswith("liffile")
    assert any("emission λ over 20 steps" in n for n in md.notes)


def test_sources_name_the_vendor_path() -> None:
    md = open_acquisition(DATA / "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi").metadata
    assert (
        md.pixel_size_x_um.source
        == "czi:Metadata/Scaling/Items/Distance[@Id='X']/Value"
    )
    assert md.objective.na.source.endswith("Objectives/Objective/LensNA")
    md = open_acquisition(DATA / "nd2/cluster.nd2").metadata
    assert md.time_increment_s.status is Status.INFERRED
    assert "frame_metadata" in md.time_increment_s.source


def test_rgb_pixels_keep_samples_last() -> None:
    acq = open_acquisition(DATA / "czi/RGB-8bit.czi")
    assert acq.dims == "TCZYXS"
    plane = acq.data[0, 0, 0].compute()
    assert plane.shape == (624, 924, 3)


def test_lif_xz_scan_is_z_by_x_with_y_one() -> None:
    from readlif.reader import LifFile

    acq = open_acquisition(DATA / "lif/testdata_2channel_xz.lif", "xz")
    assert acq.data.shape == (1, 2, 512, 1, 512)
    ours = acq.data[0, 1, :, 0, :].compute()
    image = LifFile(str(DATA / "lif/testdata_2channel_xz.lif")).get_image(2)
    ref = np.asarray(image.get_plane(display_dims=(1, 3), c=1, requested_dims={}))
    np.testing.assert_array_equal(ours, ref)


def test_pixels_match_tifffile() -> None:
    import tifffile

    acq = open_acquisition(DATA / "imagej-tiff/test_still_stack.tif")
    ref = tifffile.imread(DATA / "imagej-tiff/test_still_stack.tif")  # CYX
    np.testing.assert_array_equal(acq.data[0, :, 0].compute(), ref)


def test_ome_model_is_parsed_and_cached() -> None:
    acq = open_acquisition(DATA / "ome-tiff/multi-channel.ome.tif")
    ome = acq.ome
    assert ome is not None
    assert ome.images[0].pixels.size_c == 3
    assert acq.ome is ome
    assert open_acquisition(DATA / "tiff/stuck.tif").ome is None


@pytest.mark.parametrize(
    "rel",
    [
        "nd2/cluster.nd2",
        "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi",
        "czi/DAPI_GFP.czi",
        "lif/testdata_2channel_xz.lif",
        "dv/toxo.dv",
        "imagej-tiff/test_still_stack.tif",
        "ome-zarr/blobs_image_v05.ome.zarr",
    ],
)
def test_lazy_pixels_survive_pickling(rel: str) -> None:
    """A dask cluster ships the graph to other processes: it must pickle and read."""
    import pickle

    import cloudpickle

    acq = open_acquisition(DATA / rel)
    plane = acq.data[0, -1, 0]
    shipped = pickle.loads(cloudpickle.dumps(plane))  # noqa: S301  (our own bytes)
    np.testing.assert_array_equal(shipped.compute(), plane.compute())


def test_ome_zarr_with_units_and_companion_ome_xml(tmp_path: Path) -> None:
    """An NGFF 0.4 image like our own output: µm scale, omero labels, OME/ companion."""
    import zarr

    source = open_acquisition(DATA / "nd2/cluster.nd2")
    assert source.ome_xml is not None
    root_path = tmp_path / "cluster.ome.zarr"
    root = zarr.open_group(str(root_path), mode="w", zarr_format=2)
    pixels = source.data[0].compute()  # CZYX
    root.create_array("0", data=pixels, chunks=(1, 1, 31, 38))
    root.attrs["multiscales"] = [
        {
            "version": "0.4",
            "axes": [
                {"name": "c", "type": "channel"},
                {"name": "z", "type": "space", "unit": "micrometer"},
                {"name": "y", "type": "space", "unit": "micrometer"},
                {"name": "x", "type": "space", "unit": "micrometer"},
            ],
            "datasets": [
                {
                    "path": "0",
                    "coordinateTransformations": [
                        {"type": "scale", "scale": [1.0, 0.5, 0.1678, 0.1678]}
                    ],
                }
            ],
        }
    ]
    root.attrs["omero"] = {"channels": [{"label": "FAM", "color": "00FF00"}, {}]}
    (root_path / "OME").mkdir()
    (root_path / "OME" / "METADATA.ome.xml").write_text(
        source.ome_xml, encoding="utf-8"
    )

    acq = open_acquisition(root_path)
    md = acq.metadata
    assert md.shape == {"T": 1, "C": 2, "Z": 10, "Y": 31, "X": 38}
    assert md.pixel_size_x_um.value == pytest.approx(0.1678)
    assert md.pixel_size_x_um.source.startswith("ngff:")
    assert md.pixel_size_z_um.value == pytest.approx(0.5)
    # what NGFF does not say comes from the companion OME-XML
    assert md.objective.na.value == pytest.approx(0.95)
    assert md.objective.na.source.startswith("ome:")
    assert md.channels[0].emission_wavelength_nm.value == pytest.approx(525.0)
    np.testing.assert_array_equal(acq.data[0, 1, 3].compute(), pixels[1, 3])
    # the omero label (written at save time) names the channel; unlabelled: OME name
    assert md.channels[0].name.value == "FAM"
    assert md.channels[1].name.value == "FM 4-64/2% CHAPS"


def test_rich_ome_xml_from_the_demo_ome_tiff(tmp_path: Path) -> None:
    """The data folder has no full OME-XML; the demo writes one with every field."""
    from napari_fairly.core.demo import write_demo_acquisition

    path = write_demo_acquisition(tmp_path / "demo.ome.tif", size_z=4, size_yx=64)
    md = open_acquisition(path).metadata
    assert md.format == "ome-tiff"
    assert md.shape == {"T": 1, "C": 3, "Z": 4, "Y": 64, "X": 64}
    assert md.objective.na.value == pytest.approx(1.4)
    assert md.objective.immersion.value == "Oil"
    assert md.objective.na.source.endswith("@LensNA")
    assert md.significant_bits.value == 12
    assert md.acquisition_date.value is not None
    assert md.microscope.value is not None
    ex = [c.excitation_wavelength_nm.value for c in md.channels]
    em = [c.emission_wavelength_nm.value for c in md.channels]
    assert all(e is not None for e in ex + em)
    assert all(a < b for a, b in zip(ex, em, strict=True))  # Stokes shift
    assert all(
        c.exposure_s.value is not None and c.exposure_s.unit == "s" for c in md.channels
    )
    assert md.channels[0].detector.type.value is not None


def test_generic_bioio_path_reads_the_ome_model() -> None:
    """Formats without a module of their own go through bioio and its OME model."""
    from napari_fairly.core.formats import generic

    found = generic.open_scene(DATA / "ome-tiff/multi-channel.ome.tif", 0)
    assert found.data.shape == (1, 3, 1, 167, 439)
    assert found.reader.startswith("bioio-ome-tiff")
    assert found.ome_xml is not None
    assert found.fields["pixel_size_x_um"].value is None
    assert found.data[0, 2, 0].compute().shape == (167, 439)
