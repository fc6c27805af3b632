"""The OME-Zarr writer on synthetic data with known truth: pixels, pyramid, metadata."""

from __future__ import annotations

import hashlib
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import zarr

from napari_fairly.core.export.zarr_writer import (
    ChannelDisplay,
    ZarrSpec,
    downsample_plane,
    emission_colour,
    pyramid_shapes,
    write_ome_zarr_steps,
)
from napari_fairly.core.progress import drive


@pytest.mark.parametrize(
    ("emission_nm", "colour"),
    [
        (None, "FFFFFF"),
        (461, "0000FF"),
        (470, "00FFFF"),
        (499.9, "00FFFF"),
        (519, "00FF00"),
        (570, "FFFF00"),
        (610, "FF0000"),
        (640, "FF00FF"),
        (700, "FF00FF"),
    ],
)
def test_emission_colour_follows_spec_bands(
    emission_nm: float | None, colour: str
) -> None:
    assert emission_colour(emission_nm) == colour


def test_pyramid_stops_at_512_px() -> None:
    assert pyramid_shapes(256, 256) == [(256, 256)]
    assert pyramid_shapes(512, 300) == [(512, 300)]
    assert pyramid_shapes(2048, 2048) == [(2048, 2048), (1024, 1024), (512, 512)]
    assert pyramid_shapes(1025, 600) == [(1025, 600), (513, 300), (257, 150)]


def test_downsample_is_local_mean_with_edges_averaging_present_pixels() -> None:
    plane = np.array([[0, 2, 10], [4, 6, 20], [8, 8, 30]], dtype=np.uint16)
    half = downsample_plane(plane)
    assert half.dtype == np.uint16
    # [0,2,4,6] → 3; [10,20] → 15; [8,8] → 8; [30] → 30 (edge replicated)
    np.testing.assert_array_equal(half, [[3, 15], [8, 30]])
    floats = downsample_plane(np.arange(16, dtype=np.float32).reshape(4, 4))
    np.testing.assert_allclose(floats, [[2.5, 4.5], [10.5, 12.5]])


def _write(tmp_path: Path, arr: np.ndarray, version: str, **spec_kw: object):
    data = da.from_array(arr, chunks=(1, 1, 1, *arr.shape[3:]))
    spec = ZarrSpec(name="img", ngff_version=version, **spec_kw)  # type: ignore[arg-type]
    target = tmp_path / f"img-{version}.ome.zarr"
    written = drive(write_ome_zarr_steps(data, target, spec, workers=2))
    return target, written


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_writer_round_trips_pixels_levels_and_metadata(
    tmp_path: Path, version: str
) -> None:
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 4096, (2, 3, 4, 1100, 700), dtype=np.uint16)
    displays = (
        ChannelDisplay("DAPI", "0000FF", 0, 4095),
        ChannelDisplay("GFP", "00FF00", 0, 4095),
        ChannelDisplay("Cy5", "FF00FF", 0, 4095),
    )
    target, written = _write(
        tmp_path,
        arr,
        version,
        scale_tczyx=(2.5, None, 0.3, 0.1, 0.1),
        channels=displays,
    )
    group = zarr.open_group(
        str(target), mode="r", zarr_format=2 if version == "0.4" else 3
    )
    level0 = group["0"]
    assert level0.shape == arr.shape
    assert level0.chunks == (1, 1, 1, 1024, 700)
    np.testing.assert_array_equal(level0[:], arr)
    # level k+1 is the 2×2 local mean of level k; 1100 → 550 → 275 ≤ 512
    assert [tuple(group[k].shape[-2:]) for k in ("0", "1", "2")] == [
        (1100, 700),
        (550, 350),
        (275, 175),
    ]
    assert "3" not in group
    np.testing.assert_array_equal(group["1"][1, 2, 3], downsample_plane(arr[1, 2, 3]))
    # plane hashes are of the little-endian C-order bytes of the source
    assert (
        written.plane_sha256[(1, 0, 2)]
        == hashlib.sha256(arr[1, 0, 2].tobytes()).hexdigest()
    )
    assert len(written.plane_sha256) == 2 * 3 * 4

    attrs = dict(group.attrs)
    meta = attrs if version == "0.4" else attrs["ome"]
    ms = meta["multiscales"][0]
    assert [a["name"] for a in ms["axes"]] == ["t", "c", "z", "y", "x"]
    assert ms["axes"][0] == {"name": "t", "type": "time", "unit": "second"}
    assert ms["axes"][1] == {"name": "c", "type": "channel"}
    assert ms["axes"][4]["unit"] == "micrometer"
    assert ms["datasets"][0]["coordinateTransformations"][0]["scale"] == [
        2.5,
        1.0,
        0.3,
        0.1,
        0.1,
    ]
    assert ms["datasets"][1]["coordinateTransformations"][0]["scale"] == [
        2.5,
        1.0,
        0.3,
        0.2,
        0.2,
    ]
    assert ms["datasets"][2]["coordinateTransformations"][0]["scale"] == [
        2.5,
        1.0,
        0.3,
        0.4,
        0.4,
    ]
    channels = meta["omero"]["channels"]
    assert [c["label"] for c in channels] == ["DAPI", "GFP", "Cy5"]
    assert [c["color"] for c in channels] == ["0000FF", "00FF00", "FF00FF"]
    assert channels[0]["window"]["max"] == 4095
    # start/end: 0.1/99.9 percentiles of the smallest level
    small = np.stack(
        [
            downsample_plane(downsample_plane(p))
            for p in arr[:, 0].reshape(-1, 1100, 700)
        ]
    )
    lo, hi = np.percentile(small, [0.1, 99.9])
    assert channels[0]["window"]["start"] == pytest.approx(lo, abs=2)
    assert channels[0]["window"]["end"] == pytest.approx(hi, abs=2)
    if version == "0.4":
        assert group["0"].metadata.dimension_separator == "/"
        assert (target / "0" / "1" / "2" / "3" / "1" / "0").is_file()
        assert "version" in ms
    else:
        assert group["0"].metadata.dimension_names == ("t", "c", "z", "y", "x")
        # the whole level (68 MB of pixels) is one shard: one file of 2×3×4×2 chunks
        assert group["0"].shards == (2, 3, 4, 2048, 700)
        level0_files = [p for p in (target / "0").rglob("*") if p.is_file()]
        assert sorted(p.relative_to(target).as_posix() for p in level0_files) == [
            "0/c/0/0/0/0/0",
            "0/zarr.json",
        ]
        assert written.files_written == 3  # one shard per level
        assert meta["version"] == "0.5"
        assert "version" not in ms


def test_absent_axes_dropped_and_unknown_scale_has_no_unit(tmp_path: Path) -> None:
    arr = np.arange(1 * 1 * 1 * 30 * 40, dtype=np.uint8).reshape(1, 1, 1, 30, 40)
    target, written = _write(tmp_path, arr, "0.4", ome_xml="<OME/>")
    group = zarr.open_group(str(target), mode="r")
    ms = group.attrs["multiscales"][0]
    assert ms["axes"] == [
        {"name": "y", "type": "space"},
        {"name": "x", "type": "space"},
    ]
    assert ms["datasets"][0]["coordinateTransformations"][0]["scale"] == [1.0, 1.0]
    assert written.unknown_scale_axes == ("y", "x")
    np.testing.assert_array_equal(group["0"][:], arr[0, 0, 0])
    assert (target / "OME" / "METADATA.ome.xml").read_text() == "<OME/>"
    assert (target / "OME" / ".zgroup").is_file()


def test_writer_refuses_an_existing_target(tmp_path: Path) -> None:
    from napari_fairly.core.errors import OutputError

    (tmp_path / "img-0.4.ome.zarr").mkdir()
    with pytest.raises(OutputError, match="already exists"):
        _write(tmp_path, np.zeros((1, 1, 1, 4, 4), np.uint8), "0.4")


def test_float_and_big_endian_data(tmp_path: Path) -> None:
    arr = np.linspace(-1, 1, 2 * 16 * 16, dtype=">f4").reshape(1, 2, 1, 16, 16)
    target, written = _write(tmp_path, arr, "0.5")
    group = zarr.open_group(str(target), mode="r")
    np.testing.assert_array_equal(group["0"][:], arr.reshape(2, 16, 16))
    assert group["0"].dtype == np.dtype("<f4")
    window = group.attrs["ome"]["omero"]["channels"][1]["window"]
    assert window["min"] == pytest.approx(float(arr[0, 1].min()))
    assert window["max"] == pytest.approx(1.0)
    little = arr[0, 1, 0].astype("<f4")
    assert (
        written.plane_sha256[(0, 1, 0)] == hashlib.sha256(little.tobytes()).hexdigest()
    )
