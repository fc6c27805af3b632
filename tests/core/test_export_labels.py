"""Labels saved as NGFF labels of the image, and read back as they were given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from conftest import DATA, naming_form, save_request
from napari_fairly.core.errors import InvalidFormValueError
from napari_fairly.core.export import save_steps, verify_dataset
from napari_fairly.core.export.labels import WrittenLabels
from napari_fairly.core.export.verify import check_labels
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import open_acquisition


def _labels_2d(shape: tuple[int, int]) -> np.ndarray:
    labels = np.zeros(shape, np.uint16)
    labels[10:60, 20:90] = 1
    labels[300:333, 400:401] = 2  # one column: only even columns survive level 1
    labels[601:640, 5:7] = 65535
    return labels


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_labels_file_round_trips_as_ngff_labels(tmp_path: Path, version: str) -> None:
    import tifffile
    from napari_ome_zarr import napari_get_reader

    acq = open_acquisition(DATA / "czi/DAPI_GFP.czi")  # C2, 640×640: two levels
    labels = _labels_2d((640, 640))
    given = tmp_path / "nuclei mask.tif"
    tifffile.imwrite(given, labels)
    request = save_request(
        (acq,),
        naming_form(acq, "Cells"),
        tmp_path / "out",
        ngff_version=version,
        labels=given,
    )
    (dataset,) = drive(save_steps(request)).datasets
    assert verify_dataset(dataset.folder).ok
    root = zarr.open_group(str(dataset.zarr_path), mode="r")
    attrs = dict(root["labels"].attrs)
    listed = attrs["ome"]["labels"] if version == "0.5" else attrs["labels"]
    assert listed == ["nuclei_mask"]  # the file's stem, as a path component
    image = root["labels/nuclei_mask"]
    np.testing.assert_array_equal(image["0"][...], labels)
    np.testing.assert_array_equal(image["1"][...], labels[::2, ::2])  # nearest
    assert image["1"].shape == root["1"].shape[-2:]  # the image's levels
    assert image["0"].dtype == np.uint16
    meta = dict(image.attrs)
    meta = meta["ome"] if version == "0.5" else meta
    assert meta["image-label"]["source"] == {"image": "../../"}
    scales = [
        d["coordinateTransformations"][0]["scale"]
        for d in meta["multiscales"][0]["datasets"]
    ]
    px = acq.metadata.pixel_size_x_um.value or 1.0
    assert scales == [[px, px], [2 * px, 2 * px]]
    if version == "0.5":
        from ome_zarr_models.v05.image_label import ImageLabel

        assert image["0"].shards is not None
    else:
        from ome_zarr_models.v04.image_label import ImageLabel
    ImageLabel.from_zarr(image)
    layers = napari_get_reader(str(dataset.zarr_path))(str(dataset.zarr_path))  # type: ignore[misc]
    (label_layer,) = [data for data, _kw, kind in layers if kind == "labels"]
    np.testing.assert_array_equal(np.asarray(label_layer[0]), labels)
    assert (dataset.folder / f"{dataset.name}_objects.csv").is_file()


def test_time_and_z_labels_keep_their_axes(tmp_path: Path) -> None:
    acq = open_acquisition(DATA / "nd2/cluster.nd2")  # T3 C2 Z10 Y31 X38
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, (3, 10, 31, 38)).astype(np.int32)
    request = save_request(
        (acq,), naming_form(acq, "Cells"), tmp_path, labels=labels, labels_name="cells"
    )
    (dataset,) = drive(save_steps(request)).datasets
    image = zarr.open_group(str(dataset.zarr_path / "labels" / "cells"), mode="r")
    axes = [a["name"] for a in image.attrs["multiscales"][0]["axes"]]
    assert axes == ["t", "z", "y", "x"]
    np.testing.assert_array_equal(image["0"][...], labels)
    assert image["0"].dtype == np.dtype("<i4")
    scale = image.attrs["multiscales"][0]["datasets"][0]["coordinateTransformations"]
    meta = acq.metadata
    assert scale[0]["scale"] == pytest.approx(
        [
            meta.time_increment_s.value,
            meta.pixel_size_z_um.value,
            meta.pixel_size_y_um.value,
            meta.pixel_size_x_um.value,
        ]
    )


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.zeros((256, 256), np.float32), "float32 values"),
        (np.zeros((255, 256), np.uint8), "the labels have shape"),
    ],
)
def test_wrong_labels_are_refused_before_anything_is_written(
    tmp_path: Path, labels: np.ndarray, message: str
) -> None:
    acq = open_acquisition(DATA / "nd2/example-multichannel.nd2")
    request = save_request(
        (acq,), naming_form(acq, "Cells"), tmp_path / "out", labels=labels
    )
    steps: list[object] = []
    with pytest.raises(InvalidFormValueError, match=message):
        drive(save_steps(request), steps.append)
    assert not any("writing" in str(getattr(s, "step", "")) for s in steps)
    out = tmp_path / "out"
    assert not out.exists() or not list(out.rglob("*.*"))


def test_the_read_back_finds_labels_that_differ_from_those_given(
    tmp_path: Path,
) -> None:
    acq = open_acquisition(DATA / "dv/toxo.dv")
    labels = np.zeros(acq.data.shape[2:], np.uint8)
    labels[3, 5:9, 5:9] = 1
    request = save_request((acq,), naming_form(acq, "Cells"), tmp_path, labels=labels)
    (dataset,) = drive(save_steps(request)).datasets
    image = zarr.open_group(str(dataset.zarr_path / "labels" / "labels"), mode="r")
    level0 = image["0"][...]
    written = WrittenLabels(
        name="labels",
        path="labels/labels",
        axes=("z", "y", "x"),
        shape=level0.shape,
        dtype=level0.dtype.str,
        levels=1,
        sha256="0" * 64,
    )
    assert check_labels(dataset.zarr_path, "0.4", written) == [
        "label image 'labels' differs from the labels given"
    ]
    wrong_levels = WrittenLabels(**{**written.__dict__, "levels": 2})
    assert check_labels(dataset.zarr_path, "0.4", wrong_levels) == [
        "label image 'labels' has 1 levels, the image 2"
    ]


def test_fairly_save_labels_option_writes_the_label_image(tmp_path: Path) -> None:
    """``fairly save --labels L.npy --ngff 0.5``: the labels inside the OME-Zarr."""
    from napari_fairly.cli import main
    from napari_fairly.core.form import form_to_json

    raw = DATA / "dv/toxo.dv"
    acq = open_acquisition(raw)
    form = tmp_path / "form.json"
    form.write_text(form_to_json(naming_form(acq, "Toxo")))
    labels = np.zeros(acq.data.shape[2:], np.uint16)  # Z, Y, X
    labels[4:9, 20:40, 50:60] = 12
    given = tmp_path / "cells.npy"
    np.save(given, labels)
    out = tmp_path / "out"
    argv = ["save", str(raw), "--form", str(form), "--out", str(out)]
    argv += ["--labels", str(given), "--ngff", "0.5", "--accept-qc-failures"]
    assert main(argv) == 0
    (folder,) = out.iterdir()
    image = zarr.open_group(str(folder / f"{folder.name}.ome.zarr"), mode="r")
    assert dict(image["labels"].attrs)["ome"]["labels"] == ["cells"]
    np.testing.assert_array_equal(image["labels/cells/0"][...], labels)
    assert main(["verify", str(folder)]) == 0
