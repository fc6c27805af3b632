"""LIF acquisitions we never see: synthetic files with known pixels (``lif_synth``).

The same quirk classes as the real files, and more: tile scans stored with T outside
the tiles (M) and inside them, stage positions per tile (one scan without PosZ),
negative and positive Z Lengths, channels stored after each plane or outermost, 8-,
12- and 16-bit data, a λ sweep with time points, an XZ scan, RGB samples, and series
without tiles. Every plane must come out as written, through ``read_plane``,
``acq.data`` and a saved OME-Zarr's level 0; readlif and liffile must both parse the
files, so they are LIF as the instruments' readers know it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from lif_synth import Series, Tile, write_lif

from conftest import naming_form, save_request
from napari_fairly.core.export import save_steps
from napari_fairly.core.model import Status
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import list_scenes, open_acquisition

UM = 1e-6
TM_TILES = [  # 2×2 grid, 18 µm steps on a 24 × 16 px tile of 1 µm pixels
    Tile(0, 0, 100 * UM, 200 * UM, -0.02 * UM),
    Tile(0, 1, 100 * UM, 218 * UM, -0.02 * UM),
    Tile(1, 0, 118 * UM, 200 * UM, -0.02 * UM),
    Tile(1, 1, 118 * UM, 218 * UM, -0.02 * UM),
]
MT_TILES = [Tile(i, 0, (50 + 20 * i) * UM, 10 * UM) for i in range(3)]  # no PosZ
SERIES = [
    Series(
        "Plain",
        "TZCYX",
        {"T": 2, "Z": 3, "C": 2, "Y": 12, "X": 20},
        bits=16,
        lengths={"X": 19 * UM, "Y": 11 * UM, "Z": 4 * UM, "T": 10.0},
        seed=1,
    ),
    Series(
        "TileScan_TM",
        "TMZCYX",
        {"T": 2, "M": 4, "Z": 3, "C": 2, "Y": 16, "X": 24},
        lengths={"X": 23 * UM, "Y": 15 * UM, "Z": -1e-5, "T": 5.0},
        tiles=TM_TILES,
        seed=2,
    ),
    Series(
        "TileScan_MT",
        "MTZYX",
        {"M": 3, "T": 2, "Z": 2, "Y": 16, "X": 24},
        bits=12,
        lengths={"X": 23 * UM, "Y": 15 * UM, "Z": 3 * UM, "T": 5.0},
        tiles=MT_TILES,
        seed=3,
    ),
    Series(
        "ChannelsOuter",
        "CTZYX",
        {"C": 3, "T": 2, "Z": 2, "Y": 8, "X": 10},
        lengths={"X": 9 * UM, "Y": 7 * UM, "Z": 1 * UM, "T": 1.0},
        seed=4,
    ),
    Series(
        "LambdaT",
        "TλZYX",
        {"T": 2, "λ": 3, "Z": 2, "Y": 8, "X": 10},
        lengths={"X": 9 * UM, "Y": 7 * UM, "Z": 1 * UM, "T": 1.0},
        seed=5,
    ),
    Series(
        "XZ",
        "TCZX",
        {"T": 2, "C": 2, "Z": 9, "X": 10},
        lengths={"X": 9 * UM, "Z": 8 * UM, "T": 1.0},
        seed=6,
    ),
    Series("RGB", "YXS", {"Y": 8, "X": 10, "S": 3}, lengths={"X": 9 * UM}, seed=7),
    # a tile axis without TileScanInfo: tiles, but no stage positions
    Series("TilesNoInfo", "MYX", {"M": 2, "Y": 6, "X": 7}, seed=8),
]
# (scene index, series, tile) in the order the plugin lists them
SCENES = [
    (i, series, tile if series.sizes.get("M", 1) > 1 else None)
    for i, (series, tile) in enumerate(
        (s, m) for s in SERIES for m in range(s.sizes.get("M", 1))
    )
]


@pytest.fixture(scope="module")
def lif_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lif(tmp_path_factory.mktemp("lif") / "synthetic.lif", SERIES)


def test_both_low_level_readers_parse_the_file(lif_file: Path) -> None:
    import liffile
    from readlif.reader import LifFile

    lif = LifFile(str(lif_file))
    assert [im.name for im in lif.get_iter_image()] == [s.name for s in SERIES]
    # readlif's get_plane is right where channels follow each plane, 8-bit data
    image, series = lif.get_image(1), SERIES[1]
    stored = series.stored()  # T M Z C Y X
    for t, m, z, c in np.ndindex(2, 4, 3, 2):
        plane = image.get_plane(c=c, requested_dims={4: t, 10: m, 3: z})
        np.testing.assert_array_equal(np.asarray(plane), stored[t, m, z, c])
    with liffile.LifFile(lif_file, squeeze=False) as lf:
        assert [im.name for im in lf.images] == [s.name for s in SERIES]
        for im, one in zip(lf.images, SERIES, strict=True):
            stored = one.stored()
            if "S" in one.order:
                stored = stored[..., ::-1]  # liffile gives R, G, B
            np.testing.assert_array_equal(im.asarray(), stored)


def test_each_tile_is_a_scene_where_its_series_is(lif_file: Path) -> None:
    assert list_scenes(lif_file) == [
        "Plain",
        "TileScan_TM tile 1 of 4",
        "TileScan_TM tile 2 of 4",
        "TileScan_TM tile 3 of 4",
        "TileScan_TM tile 4 of 4",
        "TileScan_MT tile 1 of 3",
        "TileScan_MT tile 2 of 3",
        "TileScan_MT tile 3 of 3",
        "ChannelsOuter",
        "LambdaT",
        "XZ",
        "RGB",
        "TilesNoInfo tile 1 of 2",
        "TilesNoInfo tile 2 of 2",
    ]
    acq = open_acquisition(lif_file, "TileScan_TM tile 3 of 4")
    assert acq.scene_index == 3
    assert acq.metadata.scene_count == 14


@pytest.mark.parametrize(
    ("scene", "series", "tile"), SCENES, ids=[f"{i}" for i, _, _ in SCENES]
)
def test_every_plane_as_written(
    lif_file: Path, scene: int, series: Series, tile: int | None
) -> None:
    want = series.expected(tile)
    with open_acquisition(lif_file, scene) as acq:
        assert acq.dims == ("TCZYXS" if "S" in series.order else "TCZYX")
        assert acq.data.shape == want.shape
        assert acq.data.dtype == series.dtype
        for t, c, z in np.ndindex(*want.shape[:3]):
            np.testing.assert_array_equal(acq.read_plane(t, c, z), want[t, c, z])
            np.testing.assert_array_equal(np.asarray(acq.data[t, c, z]), want[t, c, z])
        np.testing.assert_array_equal(acq.data.compute(scheduler="threads"), want)


def _level0(image: Any, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Level 0 of a saved image and ``want`` in its axes (RGB samples folded in c)."""
    axes = [a["name"] for a in image.attrs["multiscales"][0]["axes"]]
    if want.ndim == 6:  # T C Z Y X S → T (C·S) Z Y X
        t, c, z, y, x, s = want.shape
        want = np.moveaxis(want, 5, 2).reshape(t, c * s, z, y, x)
    keep = tuple(slice(None) if a in axes else 0 for a in "tczyx")
    return np.asarray(image["0"][...]), want[keep]


def test_saved_level0_and_sidecar_as_written(lif_file: Path, tmp_path: Path) -> None:
    acqs = tuple(open_acquisition(lif_file, i) for i, _, _ in SCENES)
    result = drive(
        save_steps(save_request(acqs, naming_form(acqs[0], "Synth"), tmp_path / "out")),
        lambda _p: None,
    )
    for (_, series, tile), dataset, acq in zip(
        SCENES, result.datasets, acqs, strict=True
    ):
        acq.close()
        got, want = _level0(
            zarr.open_group(str(dataset.zarr_path), mode="r"), series.expected(tile)
        )
        np.testing.assert_array_equal(got, want)
        side = json.loads(dataset.sidecar_path.read_text(encoding="utf-8"))
        position = side["acquisition"]["position"]
        if tile is None:
            assert position is None
        else:
            assert (position["kind"], position["index"]) == ("tile", tile)
            stage_x = position["stage_x_um"]
            if series.tiles:
                want_x = series.tiles[tile].pos_x_m / UM
                assert stage_x["value"] == pytest.approx(want_x)
                assert stage_x["status"] == "present"
            else:
                assert (stage_x["value"], stage_x["status"]) == (None, "missing")


def test_tiles_carry_their_stage_position_and_overlap(lif_file: Path) -> None:
    for tile, want in enumerate(TM_TILES):
        md = open_acquisition(lif_file, 1 + tile).metadata
        pos = md.position
        assert pos is not None
        assert (pos.kind, pos.group, pos.index, pos.count) == (
            "tile",
            "TileScan_TM",
            tile,
            4,
        )
        assert (pos.grid_x.value, pos.grid_y.value) == (want.field_x, want.field_y)
        assert pos.stage_x_um.value == pytest.approx(want.pos_x_m / UM)
        assert pos.stage_y_um.value == pytest.approx(want.pos_y_m / UM)
        assert pos.stage_z_um.value == pytest.approx(-0.02)
        assert pos.stage_x_um.source.endswith(f"Tile[{tile}]@PosX (m)")
        notes = " ".join(md.notes)
        assert "tile scan of 4 tiles, 2×2 fields" in notes
        assert f"this is tile {tile + 1}" in notes and "not stitched" in notes
        # 1 µm pixels (23 µm over 24 px), 18 µm steps: 6 px of a 24-px tile overlap
        # in x (25 %); in y 18 px steps on a 16-px tile leave a 2-px gap
        assert (
            "18 µm apart in x, 18.00 px at 1 µm per pixel: an overlap of 6.0 px "
            "(25.0 %) of the 24-px tile; 18 µm apart in y, 18.00 px at 1 µm per "
            "pixel: a gap of 2.0 px (12.5 %) of the 16-px tile"
        ) in notes
    md = open_acquisition(lif_file, 6).metadata  # second tile of the M-outside-T scan
    pos = md.position
    assert pos is not None and (pos.index, pos.count) == (1, 3)
    assert pos.stage_x_um.value == pytest.approx(70.0)
    assert pos.stage_z_um.status is Status.MISSING  # PosZ not stated: not 0
    assert "an overlap of 4.0 px (16.7 %) of the 24-px tile" in " ".join(md.notes)
    for scene in (0, 8, 9, 10, 11):
        assert open_acquisition(lif_file, scene).metadata.position is None
    md = open_acquisition(lif_file, 13).metadata  # tiles without TileScanInfo
    pos = md.position
    assert pos is not None and (pos.group, pos.index, pos.count) == (
        "TilesNoInfo",
        1,
        2,
    )
    assert pos.stage_x_um.status is Status.MISSING
    assert pos.grid_x.status is Status.MISSING
    assert any("lists 0 tile positions for 2 tiles" in n for n in md.notes)


def test_z_step_magnitude_and_direction(lif_file: Path) -> None:
    md = open_acquisition(lif_file, 1).metadata  # Z Length −10 µm over 3 planes
    z = md.pixel_size_z_um
    assert (z.value, z.status, z.unit) == (pytest.approx(5.0), Status.PRESENT, "µm")
    assert z.raw is not None and z.raw.startswith("Length -1e-05 m")
    assert any(
        "Z Length is negative" in n and "z decreases from plane to plane" in n
        for n in md.notes
    )
    md = open_acquisition(lif_file, 0).metadata  # +4 µm over 3 planes
    assert md.pixel_size_z_um.value == pytest.approx(2.0)
    assert md.pixel_size_z_um.raw is None
    assert not any("negative" in n for n in md.notes)


def test_values_of_other_layouts(lif_file: Path) -> None:
    plain = open_acquisition(lif_file, 0).metadata
    assert plain.dtype == "uint16" and plain.significant_bits.value == 16
    assert plain.pixel_size_x_um.value == pytest.approx(1.0)
    assert plain.time_increment_s.value == pytest.approx(10.0)
    assert [c.name.value for c in plain.channels] == ["Green", "Red"]
    assert plain.acquisition_date.value == "2024-05-06T07:08:09+00:00"
    assert plain.objective.immersion.value == "Oil"
    assert plain.objective.na.value == pytest.approx(1.4)
    twelve = open_acquisition(lif_file, 5).metadata
    assert twelve.dtype == "uint16" and twelve.significant_bits.value == 12
    lam = open_acquisition(lif_file, 9).metadata
    assert any("emission λ over 3 steps" in n for n in lam.notes)
    xz = open_acquisition(lif_file, 10).metadata
    assert xz.shape == {"T": 2, "C": 2, "Z": 9, "Y": 1, "X": 10}
    assert xz.pixel_size_z_um.value == pytest.approx(1.0)
    assert xz.pixel_size_y_um.status is Status.MISSING
    rgb = open_acquisition(lif_file, 11).metadata
    assert rgb.shape == {"T": 1, "C": 1, "Z": 1, "Y": 8, "X": 10, "S": 3}
    for md in (plain, twelve, lam, xz, rgb):
        assert md.reader.startswith("liffile")
        assert not any("bioio" in n for n in md.notes)
