"""Plain and ImageJ TIFF: what the stacked planes are, slice labels, thumbnails, masks.

Files are written here with tifffile the way instruments and tools write them (ImageJ
hyperstacks, stacks without axis names, thumbnails and masks flagged in
NewSubfileType). Every plane is compared, by value, through ``read_plane``,
``acq.data`` and a saved OME-Zarr's level 0, with the array written.
"""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pytest
import tifffile
import zarr

from conftest import DATA, naming_form, save_request
from napari_fairly.core.corrections import Corrections, effective_metadata
from napari_fairly.core.display import summary_text
from napari_fairly.core.export import save_steps
from napari_fairly.core.metadata import summary_rows
from napari_fairly.core.model import Reason, Status
from napari_fairly.core.progress import drive
from napari_fairly.core.qc.overrides import resolve_inputs
from napari_fairly.core.qc.runner import run_qc
from napari_fairly.core.reading import Acquisition, list_scenes, open_acquisition

RNG = np.random.default_rng(20240115)


def _planes(shape: tuple[int, ...], dtype: Any = np.uint16) -> np.ndarray:
    """Distinct random planes: a plane read from the wrong page cannot match."""
    return RNG.integers(0, 4000, size=shape).astype(dtype)


def _saved(acq: Acquisition, out: Path) -> Any:
    """Level 0 of ``acq`` saved as OME-Zarr, as a TCZYX numpy array."""
    result = drive(
        save_steps(save_request((acq,), naming_form(acq, "Axes"), out)), lambda _p: None
    )
    image = zarr.open_group(str(result.datasets[0].zarr_path), mode="r")
    axes = [a["name"] for a in image.attrs["multiscales"][0]["axes"]]
    level0 = np.asarray(image["0"])
    for a in "tczyx":  # absent axes back, in TCZYX order
        if a not in axes:
            level0 = level0[np.newaxis]
            axes.insert(0, a)
    return level0.transpose([axes.index(a) for a in "tczyx"])


def assert_pixels(acq: Acquisition, want: np.ndarray, out: Path | None = None) -> None:
    """Every plane of ``acq`` is ``want`` (TCZYX): read_plane, acq.data, saved."""
    assert acq.data.shape == want.shape
    assert acq.data.dtype == want.dtype
    size_t, size_c, size_z = want.shape[:3]
    for t in range(size_t):
        for c in range(size_c):
            for z in range(size_z):
                np.testing.assert_array_equal(acq.read_plane(t, c, z), want[t, c, z])
                np.testing.assert_array_equal(
                    np.asarray(acq.data[t, c, z]), want[t, c, z]
                )
    np.testing.assert_array_equal(acq.data.compute(scheduler="threads"), want)
    if out is not None:
        np.testing.assert_array_equal(_saved(acq, out), want)


# --- ImageJ: axes named by slices= / frames=, labels, spacing ---------------------


def test_imagej_hyperstack_names_its_axes_and_labels_are_not_channel_names(
    tmp_path: Path,
) -> None:
    data = _planes((2, 3, 2, 12, 10))  # T Z C Y X, ImageJ's order
    labels = [
        f"c:{c + 1}/2 z:{z + 1}/3 t:{t + 1}/2 - cell.tif"
        for t in range(2)
        for z in range(3)
        for c in range(2)
    ]
    path = tmp_path / "hyper.tif"
    tifffile.imwrite(
        path,
        data,
        imagej=True,
        resolution=(1 / 0.2, 1 / 0.2),
        metadata={
            "axes": "TZCYX",
            "spacing": 0.5,
            "unit": "um",
            "finterval": 2.0,
            "Labels": labels,
        },
    )
    with open_acquisition(path) as acq:
        md = acq.metadata
        assert md.format == "imagej-tiff"
        assert md.shape == {"T": 2, "C": 2, "Z": 3, "Y": 12, "X": 10}
        assert md.stack_axis.value == "TZ"
        assert md.stack_axis.status is Status.PRESENT
        assert md.stack_axis.source == "imagej:frames=2, slices=3"
        assert md.pixel_size_z_um.value == pytest.approx(0.5)
        assert md.pixel_size_z_um.status is Status.PRESENT
        assert md.pixel_size_x_um.value == pytest.approx(0.2)
        assert md.time_increment_s.value == pytest.approx(2.0)
        # slice labels: not channel names, kept whole in the vendor metadata and said
        assert [c.name.value for c in md.channels] == [None, None]
        assert all("slice labels" in c.name.source for c in md.channels)
        assert list(acq.vendor_metadata["Labels"]) == labels
        assert any(labels[0] in n and "not channel names" in n for n in md.notes)
        assert_pixels(acq, data.transpose(0, 2, 1, 3, 4), tmp_path / "out")


def test_real_imagej_labels_stay_in_vendor_metadata() -> None:
    acq = open_acquisition(DATA / "imagej-tiff/test_still_stack.tif")
    labels = acq.vendor_metadata["Labels"]
    assert labels[0] == "c:1/4 t:75/132 - SB-75 HY3G mCherry 4b.nd2 (series 1)"
    assert [c.name.value for c in acq.metadata.channels] == [None] * 3
    assert [c.name.status for c in acq.metadata.channels] == [Status.MISSING] * 3
    assert any(labels[0] in note for note in acq.metadata.notes)
    assert acq.metadata.stack_axis.reason == Reason.NOT_APPLICABLE.value  # C3 only


def test_imagej_negative_spacing_is_a_step_and_a_direction(tmp_path: Path) -> None:
    data = _planes((4, 8, 8))
    path = tmp_path / "down.tif"
    tifffile.imwrite(
        path,
        data,
        imagej=True,
        metadata={"axes": "ZYX", "spacing": -0.25, "unit": "um"},
    )
    md = open_acquisition(path).metadata
    assert md.pixel_size_z_um.value == pytest.approx(0.25)
    assert md.pixel_size_z_um.status is Status.PRESENT
    assert md.pixel_size_z_um.raw == "-0.25 um"
    assert any("negative" in n and "z decreases" in n for n in md.notes)
    assert md.stack_axis.value == "Z"
    assert md.stack_axis.source == "imagej:slices=4"


def _imagej_without_axes(path: Path, data: np.ndarray, extra: str) -> None:
    """An ImageJ file that counts its images but names no axis (other writers do)."""
    description = f"ImageJ=1.11a\nimages={len(data)}\nunit=micron\n{extra}"
    with tifffile.TiffWriter(path) as tw:
        for k, plane in enumerate(data):
            tw.write(
                plane,
                resolution=(5.0, 5.0),
                description=description if k == 0 else None,
                metadata=None,
            )


def test_imagej_spacing_is_no_z_step_when_the_stack_is_not_named_z(
    tmp_path: Path,
) -> None:
    """A guessed Z must not reach the axial Nyquist check as a z-step."""
    data = _planes((5, 16, 16))
    named, unnamed = tmp_path / "named.tif", tmp_path / "unnamed.tif"
    tifffile.imwrite(
        named, data, imagej=True, metadata={"axes": "ZYX", "spacing": 0.3, "unit": "um"}
    )
    _imagej_without_axes(unnamed, data, "spacing=0.3\n")
    acq = open_acquisition(unnamed)
    md = acq.metadata
    assert md.shape == {"T": 1, "C": 1, "Z": 5, "Y": 16, "X": 16}  # placed as today
    assert md.stack_axis.value == "Z"
    assert md.stack_axis.status is Status.INFERRED
    assert md.stack_axis.reason == Reason.NOT_IN_FILE.value
    assert "tifffile axis I" in md.stack_axis.source
    assert "spacing is stated" in md.stack_axis.source
    assert md.pixel_size_z_um.value is None
    assert md.pixel_size_z_um.raw == "0.3 micron"
    assert any("not used as the z-step" in n for n in md.notes)
    assert any("correct the stack axis" in n for n in md.notes)
    assert_pixels(acq, data[np.newaxis, np.newaxis])

    corrections = Corrections().with_values(
        {
            "image_acquisition.objective_na": 1.4,
            "image_acquisition.immersion": "Oil",
            "image_acquisition.modality": "widefield",
            "image_acquisition.channels.1.emission_nm": 520.0,
        }
    )
    assert (
        resolve_inputs(effective_metadata(md, corrections)).pixel_size_z_um.value
        is None
    )

    def corrected(path: Path) -> Any:
        acq = open_acquisition(path)
        return replace(acq, metadata=effective_metadata(acq.metadata, corrections))

    z_axis = {
        rel: next(a for a in run_qc(corrected(p)).nyquist[0].axes if a.axis == "z")
        for rel, p in (("named", named), ("unnamed", unnamed))
    }
    assert z_axis["named"].actual_nm == pytest.approx(300.0)
    assert z_axis["named"].verdict != "not_checked"
    assert z_axis["unnamed"].actual_nm is None
    assert z_axis["unnamed"].verdict == "not_checked"


def test_imagej_frame_interval_alone_places_an_unnamed_stack_on_t(
    tmp_path: Path,
) -> None:
    data = _planes((4, 8, 12))
    path = tmp_path / "movie.tif"
    _imagej_without_axes(path, data, "finterval=0.05\n")
    acq = open_acquisition(path)
    md = acq.metadata
    assert md.shape == {"T": 4, "C": 1, "Z": 1, "Y": 8, "X": 12}
    assert md.stack_axis.value == "T"
    assert md.stack_axis.status is Status.INFERRED
    assert "finterval is stated" in md.stack_axis.source
    assert md.time_increment_s.value == pytest.approx(0.05)
    assert md.pixel_size_z_um.value is None
    assert_pixels(acq, data[:, np.newaxis, np.newaxis])


def test_imagej_images_beyond_its_slices_go_on_t_and_say_so(tmp_path: Path) -> None:
    """images=6 with slices=3: tifffile's axis I holds 2 groups of 3 slices."""
    data = _planes((6, 8, 8))
    path = tmp_path / "groups.tif"
    _imagej_without_axes(path, data, "slices=3\nspacing=0.4\n")
    acq = open_acquisition(path)
    md = acq.metadata
    assert md.shape == {"T": 2, "C": 1, "Z": 3, "Y": 8, "X": 8}
    assert md.stack_axis.value == "TZ"
    assert md.stack_axis.status is Status.INFERRED
    assert "placed on T (Z is an axis the file names)" in md.stack_axis.source
    assert md.pixel_size_z_um.value == pytest.approx(0.4)  # Z itself is named
    assert_pixels(acq, data.reshape(2, 1, 3, 8, 8))
    with tifffile.TiffFile(path) as tf:  # tifffile reads the first 3 pages only
        assert tf.series[0].shape == (3, 8, 8)
    # a page beyond whole groups is not read, and a note says so
    _imagej_without_axes(path, _planes((7, 8, 8)), "slices=3\n")
    md = open_acquisition(path).metadata
    assert md.shape["T"] == 2
    assert any("1 page(s) after the planes" in n for n in md.notes)


# --- plain TIFF: unnamed stacks are said to be placed on Z -----------------------


def test_plain_stack_of_unknown_kind_is_placed_on_z_and_says_so(
    tmp_path: Path,
) -> None:
    data = _planes((6, 10, 14))
    path = tmp_path / "calcium.tif"
    tifffile.imwrite(path, data, photometric="minisblack")  # tifffile axis Q
    acq = open_acquisition(path)
    md = acq.metadata
    assert md.shape["Z"] == 6 and md.shape["T"] == 1
    assert md.stack_axis.value == "Z"
    assert md.stack_axis.status is Status.INFERRED
    assert md.stack_axis.source.startswith("tifffile axis Q: 6 planes")
    assert md.pixel_size_z_um.value is None
    row = next(r for r in summary_rows(md) if r.field == "stack_axis")
    assert (row.value, row.status) == ("Z", Status.INFERRED)
    text = summary_text(md)
    assert "inferred stack_axis" in " ".join(text.split())
    assert "Note: the file does not say what its 6 stacked planes are" in text
    assert_pixels(acq, data[np.newaxis, np.newaxis], tmp_path / "out")


def test_stuck_tif_says_its_stack_axis_was_guessed() -> None:
    md = open_acquisition(DATA / "tiff/stuck.tif").metadata
    assert (md.stack_axis.value, md.stack_axis.status) == ("Z", Status.INFERRED)
    assert "tifffile axis Q" in md.stack_axis.source
    assert any("5 stacked planes" in n for n in md.notes)


def test_plain_stack_with_named_axes_is_present(tmp_path: Path) -> None:
    data = _planes((3, 8, 8))
    path = tmp_path / "named.tif"
    tifffile.imwrite(path, data, photometric="minisblack", metadata={"axes": "TYX"})
    md = open_acquisition(path).metadata
    assert md.shape["T"] == 3
    assert (md.stack_axis.value, md.stack_axis.status) == ("T", Status.PRESENT)
    assert "'T'" in md.stack_axis.source
    assert not any("stacked planes" in n for n in md.notes)


def test_single_plane_has_no_stack_axis() -> None:
    md = open_acquisition(DATA / "tiff/chessboard_GRAY_U16.tif").metadata
    assert md.stack_axis.value is None
    assert md.stack_axis.reason == Reason.NOT_APPLICABLE.value


# --- thumbnails (NewSubfileType bit 0) and masks (bit 2) ----------------------------


def _write_pages(
    path: Path, pages: list[tuple[np.ndarray, int]], bigtiff: bool = False
) -> None:
    """Pages in order, each with its NewSubfileType (0: a plane of the image)."""
    with tifffile.TiffWriter(path, bigtiff=bigtiff) as tw:
        for plane, kind in pages:
            photometric = "minisblack" if plane.ndim == 2 else "rgb"
            if kind & 4:  # tifffile writes masks as 1-bit pages
                tw.write(plane, subfiletype=kind, metadata=None)
            else:
                tw.write(
                    plane, subfiletype=kind, metadata=None, photometric=photometric
                )


def _set_subfiletype(path: Path, page: int, value: int) -> None:
    """Flag ``page`` afterwards (a same-shape page some writers mark as a mask)."""
    with tifffile.TiffFile(path, mode="r+") as tf:
        tf.pages[page].tags["NewSubfileType"].overwrite(value)


STACK = _planes((4, 24, 20))
THUMB = _planes((6, 5), np.uint8)
MASK = np.ones((24, 20), dtype=bool)


@pytest.mark.parametrize(
    "layout",
    [
        "thumbnail after each plane",
        "thumbnail after each plane, BigTIFF",
        "thumbnail first",
        "thumbnail among 10 planes",
        "mask page",
        "reduced copies",
    ],
)
def test_thumbnails_and_masks_are_neither_planes_nor_scenes(
    tmp_path: Path, layout: str
) -> None:
    stack = STACK
    if layout.startswith("thumbnail after each plane"):
        pages = [p for plane in stack for p in ((plane, 0), (THUMB, 1))]
    elif layout == "thumbnail first":
        pages = [(THUMB, 1)] + [(plane, 0) for plane in stack]
    elif layout == "thumbnail among 10 planes":
        # tifffile checks pages 1, 7 and -1 only, then refuses the file
        # ("incompatible keyframe") for the thumbnail at page 4
        stack = _planes((10, 24, 20))
        pages = [(plane, 0) for plane in stack]
        pages.insert(4, (_planes((6, 20)), 1))
    elif layout == "mask page":
        pages = [(plane, 0) for plane in stack] + [(MASK, 4)]
    else:  # reduced-resolution copy of each plane, same type
        pages = [p for plane in stack for p in ((plane, 0), (plane[::2, ::2], 1))]
    path = tmp_path / "aux.tif"
    _write_pages(path, pages, bigtiff="BigTIFF" in layout)
    assert list_scenes(path) == ["series 0"]
    acq = open_acquisition(path)
    assert acq.metadata.shape == {"T": 1, "C": 1, "Z": len(stack), "Y": 24, "X": 20}
    assert acq.metadata.stack_axis.status is Status.INFERRED
    assert_pixels(acq, stack[np.newaxis, np.newaxis])
    # the pages are found again after the graph is shipped to another process
    shipped = pickle.loads(cloudpickle.dumps(acq.data[0, 0, -1]))  # noqa: S301
    np.testing.assert_array_equal(shipped.compute(), stack[-1])


def test_a_same_shape_page_flagged_as_mask_is_not_a_plane(tmp_path: Path) -> None:
    path = tmp_path / "flagged.tif"
    _write_pages(path, [(plane, 0) for plane in STACK] + [(STACK[0], 1)])
    _set_subfiletype(path, len(STACK), 4)
    with tifffile.TiffFile(path) as tf:  # tifffile counts it as a plane
        assert tf.series[0].shape[0] == len(STACK) + 1
    acq = open_acquisition(path)
    assert acq.metadata.shape["Z"] == len(STACK)
    assert_pixels(acq, STACK[np.newaxis, np.newaxis], tmp_path / "out")


@pytest.mark.parametrize("thumbnail", ["smaller", "same size"])
def test_imagej_hyperstack_with_a_thumbnail_page(
    tmp_path: Path, thumbnail: str
) -> None:
    data = _planes((2, 3, 16, 12))  # Z C Y X
    description = (
        "ImageJ=1.11a\nimages=6\nchannels=3\nslices=2\nhyperstack=true\n"
        "spacing=0.4\nunit=micron\n"
    )
    extra = THUMB if thumbnail == "smaller" else data[0, 0]
    path = tmp_path / "ij.tif"
    with tifffile.TiffWriter(path) as tw:
        for k, plane in enumerate(data.reshape(6, 16, 12)):
            tw.write(plane, description=description if k == 0 else None, metadata=None)
        tw.write(extra, subfiletype=1, metadata=None)
    acq = open_acquisition(path)
    md = acq.metadata
    assert md.format == "imagej-tiff"
    assert md.shape == {"T": 1, "C": 3, "Z": 2, "Y": 16, "X": 12}
    assert (md.stack_axis.value, md.stack_axis.status) == ("Z", Status.PRESENT)
    assert md.pixel_size_z_um.value == pytest.approx(0.4)
    assert_pixels(acq, data.transpose(1, 0, 2, 3)[np.newaxis])
