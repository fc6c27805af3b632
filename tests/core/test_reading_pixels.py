"""Pixels of every real file and scene against the low-level readers' fingerprints.

``expected.json`` records, per scene, planes read with the format's own low-level
reader (never bioio): dtype, shape, min/max/mean per sample and the sha256 of the
plane's bytes (C order, little-endian, samples R, G, B). Each recorded plane must come
out the same through the three ways our pixels are used:

- ``Acquisition.read_plane(t, c, z)``: QC, contrast limits, the save's read-back;
- ``acq.data[t, c, z]``: the dask array napari shows and the save writes;
- level 0 of the saved OME-Zarr, reopened with zarr.

A reader that is wrong passes our own read-back checks; only these independent
values catch it. LIF tile scans are kept as one position (scene) per tile, in the
file's tile order (``index.m``), so a tile's fingerprint is that scene's plane.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from conftest import DATA, EXPECTED, naming_form, save_request
from napari_fairly.core.export import save_steps
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import Acquisition, list_scenes, open_acquisition


def _tiles(scene: dict[str, Any]) -> int:
    tiles = scene.get("lif_tiles")
    return len(tiles["tiles"]) if tiles else 1


def our_scene(rel: str, series: int, tile: int) -> int:
    """Our scene index for ``series`` (and tile) of ``expected.json``'s scene list."""
    scenes = EXPECTED["files"][rel]["low_level"]["scenes"]
    return sum(_tiles(s) for s in scenes[:series]) + tile


PLANES = [
    pytest.param(
        rel,
        our_scene(rel, series, plane["index"].get("m") or 0),
        plane,
        id=f"{rel}[{series}]" + "".join(f"{k}{v}" for k, v in plane["index"].items()),
    )
    for rel, rec in sorted(EXPECTED["files"].items())
    for series, scene in enumerate(rec["low_level"]["scenes"])
    for plane in scene["pixels"]["planes"]
]
SCENE_COUNTS = {
    rel: our_scene(rel, len(rec["low_level"]["scenes"]), 0)
    for rel, rec in EXPECTED["files"].items()
}


def fingerprint(plane: np.ndarray) -> dict[str, Any]:
    """The values ``expected.json`` records for one plane, computed the same way."""
    arr = np.ascontiguousarray(plane)
    arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    flat = arr.reshape(arr.shape[0], arr.shape[1], -1).astype(np.float64)
    return {
        "dtype": arr.dtype.name,
        "shape": list(arr.shape),
        "min": flat.min(axis=(0, 1)).tolist(),
        "max": flat.max(axis=(0, 1)).tolist(),
        "mean": flat.mean(axis=(0, 1)).tolist(),
        "sha256": hashlib.sha256(arr.tobytes()).hexdigest(),
    }


def assert_plane_matches(plane: np.ndarray, want: dict[str, Any], how: str) -> None:
    """Same dtype, shape and bytes as the low-level reader; stats say how it differs."""
    got = fingerprint(plane)
    assert (got["dtype"], got["shape"]) == (want["dtype"], want["shape"]), how
    summary = {k: got[k] for k in ("min", "max", "mean")}
    assert got["mean"] == pytest.approx(want["mean"], rel=1e-5, abs=1e-9), (
        f"{how}: {summary} vs { {k: want[k] for k in summary} }"
    )
    assert got["min"] == pytest.approx(want["min"]), how
    assert got["max"] == pytest.approx(want["max"]), how
    assert got["sha256"] == want["sha256"], f"{how}: same statistics, other bytes"


@pytest.fixture(scope="module")
def opened() -> Iterator[dict[tuple[str, int], Acquisition]]:
    """Each (file, scene) opened once for the module, closed at its end."""
    cache: dict[tuple[str, int], Acquisition] = {}
    yield cache
    for acq in cache.values():
        acq.close()


def _open(cache: dict[tuple[str, int], Acquisition], rel: str, scene: int) -> Any:
    if (rel, scene) not in cache:
        cache[rel, scene] = open_acquisition(DATA / rel, scene)
    return cache[rel, scene]


@pytest.mark.parametrize(("rel", "count"), sorted(SCENE_COUNTS.items()))
def test_every_series_and_tile_is_a_scene(rel: str, count: int) -> None:
    assert len(list_scenes(DATA / rel)) == count


@pytest.mark.parametrize(("rel", "scene", "plane"), PLANES)
def test_plane_matches_low_level_reader(
    opened: dict[tuple[str, int], Acquisition], rel: str, scene: int, plane: dict
) -> None:
    acq = _open(opened, rel, scene)
    t, c, z = (plane["index"][k] for k in "tcz")
    assert_plane_matches(acq.read_plane(t, c, z), plane, "read_plane")
    assert_plane_matches(np.asarray(acq.data[t, c, z]), plane, "acq.data")
    # a plane computed as part of a larger selection, as the save's writer reads it
    block = acq.data[t, c].compute(scheduler="threads")
    assert_plane_matches(block[z], plane, "acq.data[t, c] (threads)")


def _level0_plane(image: Any, t: int, c: int, z: int, samples: int) -> np.ndarray:
    """Plane (t, c, z) of a saved image: absent axes dropped, RGB samples in c."""
    axes = [a["name"] for a in image.attrs["multiscales"][0]["axes"]]
    level0 = image["0"]

    def plane(channel: int) -> np.ndarray:
        where = {"t": t, "c": channel, "z": z}
        return np.asarray(level0[tuple(where.get(a, slice(None)) for a in axes)])

    if samples == 1:
        return plane(c)
    return np.stack([plane(c * samples + s) for s in range(samples)], axis=-1)


@pytest.fixture(scope="module")
def saved_images(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple, Any]:
    """Every file saved once (all scenes); each dataset's image, opened with zarr."""
    out = tmp_path_factory.mktemp("pixels-saved")
    images: dict[tuple, Any] = {}
    for n, (rel, count) in enumerate(sorted(SCENE_COUNTS.items())):
        try:  # one file that fails to save fails its own planes' tests only
            acqs = tuple(open_acquisition(DATA / rel, i) for i in range(count))
            result = drive(
                save_steps(
                    save_request(
                        acqs, naming_form(acqs[0], "Pixels"), out / f"f{n:02d}"
                    )
                ),
                lambda _p: None,
            )
        except Exception as err:
            images.update({(rel, i): err for i in range(count)})
            continue
        for acq, dataset in zip(acqs, result.datasets, strict=True):
            images[rel, acq.scene_index] = zarr.open_group(
                str(dataset.zarr_path), mode="r"
            )
            acq.close()
    return images


@pytest.mark.slow
@pytest.mark.parametrize(("rel", "scene", "plane"), PLANES)
def test_saved_level0_matches_low_level_reader(
    saved_images: dict[tuple, Any], rel: str, scene: int, plane: dict
) -> None:
    image = saved_images[rel, scene]
    if isinstance(image, Exception):
        pytest.fail(f"the file was not saved: {image}")
    t, c, z = (plane["index"][k] for k in "tcz")
    samples = plane["shape"][2] if len(plane["shape"]) == 3 else 1
    got = _level0_plane(image, t, c, z, samples)
    assert_plane_matches(got, plane, "saved level 0")


def test_fingerprint_is_the_recorded_one() -> None:
    """The test's own fingerprint reproduces a recorded plane from a plain read."""
    import tifffile

    rel = "tiff/chessboard_GRAY_U16.tif"
    want = EXPECTED["files"][rel]["low_level"]["scenes"][0]["pixels"]["planes"][0]
    got = fingerprint(tifffile.imread(Path(DATA / rel)))
    assert got["sha256"] == want["sha256"]
    assert got["mean"] == pytest.approx(want["mean"], rel=1e-6)
