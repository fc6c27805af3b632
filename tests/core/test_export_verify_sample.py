"""The read-back sample: the planes hashed while reading are the planes compared."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from conftest import naming_form, save_request
from napari_fairly.core.export import save_steps, verify_dataset
from napari_fairly.core.export.save import VERIFY_SAMPLE_PLANES
from napari_fairly.core.export.verify import plane_key, recorded_planes, spread_planes
from napari_fairly.core.export.zarr_writer import ZarrSpec, write_ome_zarr_steps
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import open_acquisition

SIZE_C, SIZE_Z = 2, 24  # 48 planes: more than the sample


def test_spread_planes_covers_first_last_and_every_channel() -> None:
    picked = spread_planes((1, 3, 64, 8, 8), 32)
    assert len(picked) == 32
    assert picked[0] == (0, 0, 0)
    assert picked[-1] == (0, 2, 63)
    assert {c for _t, c, _z in picked} == {0, 1, 2}
    assert picked == sorted(set(picked))  # file order, no repeats
    everything = spread_planes((2, 2, 3, 8, 8), None)
    assert len(everything) == 12
    assert spread_planes((2, 2, 3, 8, 8), 32) == everything  # fewer planes than asked


def test_recorded_planes_names_bad_keys() -> None:
    keys, problems = recorded_planes({"0,1,2": "a", "0,5,0": "b", "x": "c"}, (1, 2, 4))
    assert keys == [(0, 1, 2)]
    assert len(problems) == 2
    assert all("outside the image" in p for p in problems)
    assert recorded_planes({}, (1, 1, 1))[1] == [
        "the sidecar records no plane hash to compare"
    ]


def test_writer_hashes_only_the_planes_asked(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 4000, (1, 2, 5, 32, 32), dtype=np.uint16)
    import dask.array as da

    asked = {(0, 0, 0), (0, 1, 4)}
    written = drive(
        write_ome_zarr_steps(
            da.from_array(pixels, chunks=(1, 1, 1, 32, 32)),
            tmp_path / "x.ome.zarr",
            ZarrSpec(name="x", fsync=False),
            hash_planes=asked,
        )
    )
    assert set(written.plane_sha256) == asked
    for t, c, z in asked:
        expected = hashlib.sha256(pixels[t, c, z].astype("<u2").tobytes()).hexdigest()
        assert written.plane_sha256[(t, c, z)] == expected


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stack")
    path = folder / "stack.ome.tif"
    rng = np.random.default_rng(0)
    data = rng.poisson(200, (SIZE_C, SIZE_Z, 64, 64)).astype(np.uint16)
    tifffile.imwrite(
        path,
        data,
        ome=True,
        metadata={"axes": "CZYX", "PhysicalSizeX": 0.1, "PhysicalSizeY": 0.1},
    )
    return path


def _save(source: Path, out: Path, **options: bool) -> Path:
    acq = open_acquisition(source)
    form = naming_form(acq, "Stack")
    result = drive(save_steps(save_request((acq,), form, out, **options)))
    return result.datasets[0].folder


def _image(folder: Path) -> dict:
    sidecar = json.loads((folder / f"{folder.name}.json").read_text())
    return next(o for o in sidecar["outputs"] if o["role"] == "image")


def test_default_save_records_and_compares_the_spread_sample(
    stack: Path, tmp_path: Path
) -> None:
    folder = _save(stack, tmp_path)
    hashes = _image(folder)["plane_sha256"]
    sample = spread_planes((1, SIZE_C, SIZE_Z, 64, 64), VERIFY_SAMPLE_PLANES)
    assert sorted(hashes) == sorted(plane_key(*k) for k in sample)
    assert len(hashes) == VERIFY_SAMPLE_PLANES < SIZE_C * SIZE_Z
    assert _image(folder)["plane_sha256_scope"] == (
        f"sample of {VERIFY_SAMPLE_PLANES} planes spread over T, C, Z"
    )
    # each recorded hash is the source plane's, bytes in C order, little-endian
    source = tifffile.imread(stack)
    for t, c, z in sample:
        plane = np.ascontiguousarray(source[c, z]).astype("<u2")
        assert hashes[plane_key(t, c, z)] == hashlib.sha256(plane.tobytes()).hexdigest()
    report = verify_dataset(folder)
    assert report.ok, report.problems
    assert report.planes_checked == VERIFY_SAMPLE_PLANES


def test_verify_all_planes_hashes_and_compares_every_plane(
    stack: Path, tmp_path: Path
) -> None:
    folder = _save(stack, tmp_path, verify_all_planes=True)
    assert len(_image(folder)["plane_sha256"]) == SIZE_C * SIZE_Z
    assert _image(folder)["plane_sha256_scope"] == "all"
    report = verify_dataset(folder)
    assert report.ok, report.problems
    assert report.planes_checked == SIZE_C * SIZE_Z


def test_verify_finds_a_recorded_plane_that_differs(
    stack: Path, tmp_path: Path
) -> None:
    """A pixel rewritten through zarr (a valid chunk): the plane hash catches it."""
    folder = _save(stack, tmp_path)
    zarr_path = folder / f"{folder.name}.ome.zarr"
    level0 = zarr.open_array(store=str(zarr_path / "0"), mode="r+")
    level0[1, SIZE_Z - 1, 0, 0] = int(level0[1, SIZE_Z - 1, 0, 0]) + 1  # last plane
    report = verify_dataset(folder)
    assert not report.ok
    assert any("c=1 z=23 differs from the source" in p for p in report.problems)
