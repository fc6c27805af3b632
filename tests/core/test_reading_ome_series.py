"""Several images in one dataset: each scene gets the metadata of its own OME Image.

bioformats2raw OME-Zarr (collections and plates, NGFF 0.4 "bf2raw" on Zarr v2 and
0.5 on Zarr v3) and multi-image OME-TIFF, built here with ome-zarr-py, zarr and
tifffile. Two images always have the same size but different pixel sizes, channel
names and wavelengths: choosing the OME Image by size would give both the first one's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pytest

from napari_fairly.core.reading import list_scenes, open_acquisition

OME_NS = "http://www.openmicroscopy.org/Schemas/OME/2016-06"


@dataclass(frozen=True)
class Img:
    """What one OME Image states, and the pixels written for it (TCZYX)."""

    name: str
    pixel_um: float
    channels: tuple[tuple[str, float], ...]  # (name, emission nm)
    shape_yx: tuple[int, int] = (64, 64)
    date: str = "2024-05-06T07:08:09"
    tiffdata: str | None = None  # TiffData elements (OME-TIFF); None: MetadataOnly

    def pixels(self, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        shape = (1, len(self.channels), 1, *self.shape_yx)
        return rng.integers(0, 4096, size=shape, dtype=np.uint16)


FIRST = Img("first", 0.1, (("DAPI", 461.0), ("GFP", 509.0)))
SAME_SIZE = Img(
    "same size", 0.25, (("mCherry", 610.0), ("Cy5", 670.0)), date="2024-06-01T10:00:00"
)
SMALLER = Img(
    "smaller", 0.65, (("BF", 520.0),), shape_yx=(32, 48), date="2023-01-02T03:04:05"
)


def _image_xml(i: int, image: Img, size_c: int | None = None, spp: int = 1) -> str:
    n_y, n_x = image.shape_yx
    channels = "".join(
        f'<Channel ID="Channel:{i}:{c}" Name={quoteattr(name)} SamplesPerPixel="{spp}" '
        f'EmissionWavelength="{em}" EmissionWavelengthUnit="nm"/>'
        for c, (name, em) in enumerate(image.channels)
    )
    body = image.tiffdata if image.tiffdata is not None else "<MetadataOnly/>"
    return (
        f'<Image ID="Image:{i}" Name={quoteattr(image.name)}>'
        f"<AcquisitionDate>{image.date}</AcquisitionDate>"
        f'<Pixels ID="Pixels:{i}" DimensionOrder="XYZCT" Type="uint16" '
        f'SizeX="{n_x}" SizeY="{n_y}" SizeZ="1" '
        f'SizeC="{size_c or len(image.channels)}" SizeT="1" '
        f'PhysicalSizeX="{image.pixel_um}" PhysicalSizeXUnit="µm" '
        f'PhysicalSizeY="{image.pixel_um}" PhysicalSizeYUnit="µm">'
        f"{channels}{body}</Pixels></Image>"
    )


def ome_xml(images: list[Img], plate: str = "", rgb: tuple[int, ...] = ()) -> str:
    """OME-XML 2016-06 with one Image per entry (``rgb``: indices stored as RGB)."""
    parts = [
        _image_xml(i, im, 3, 3) if i in rgb else _image_xml(i, im)
        for i, im in enumerate(images)
    ]
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><OME xmlns="{OME_NS}">'
        f"{plate}{''.join(parts)}</OME>"
    )


def _assert_metadata(md: object, image: Img, index: int) -> None:
    """The scene states ``image``'s values, sourced from OME Image ``index``."""
    assert md.pixel_size_x_um.value == pytest.approx(image.pixel_um)
    assert md.pixel_size_y_um.value == pytest.approx(image.pixel_um)
    assert [c.name.value for c in md.channels] == [n for n, _em in image.channels]
    assert [c.emission_wavelength_nm.value for c in md.channels] == pytest.approx(
        [em for _n, em in image.channels]
    )
    assert md.acquisition_date.value == image.date
    assert md.acquisition_date.source == f"ome:Image[{index}]/AcquisitionDate"
    assert md.channels[0].name.source == f"ome:Image[{index}]/Pixels/Channel[0]@Name"


# --- OME-Zarr, bioformats2raw layout --------------------------------------------------


def _fmt(zarr_format: int):
    from ome_zarr.format import FormatV04, FormatV05

    return FormatV04() if zarr_format == 2 else FormatV05()


def _root(root: Path, zarr_format: int):
    import zarr

    return zarr.open_group(str(root), mode="a", zarr_format=zarr_format)


def _write_ngff(root: Path, rel: str, pixels: np.ndarray, zarr_format: int) -> None:
    """An NGFF image as bioformats2raw writes one when the pixel size is unknown:
    scale 1 without unit (the OME-XML then gives the pixel size)."""
    from ome_zarr.writer import write_image

    group = _root(root, zarr_format).require_group(rel)
    write_image(pixels, group, scale_factors=[2], axes="tczyx", fmt=_fmt(zarr_format))


def _set_attrs(folder: Path, attrs: dict, zarr_format: int) -> None:
    """Add group attributes as bioformats2raw writes them (NGFF 0.5: under ``ome``)."""
    group = _root(folder, zarr_format)
    if zarr_format == 3:
        group.attrs["ome"] = {"version": "0.5", **group.attrs.get("ome", {}), **attrs}
    else:
        group.attrs.update(attrs)


def bf2raw(
    root: Path,
    images: list[Img],
    paths: list[str],
    *,
    series: list[str] | None,
    zarr_format: int = 2,
    plate: str = "",
) -> dict[str, np.ndarray]:
    """A bioformats2raw folder: Image i of the OME-XML stored at ``paths[i]``."""
    written = {}
    for i, (image, rel) in enumerate(zip(images, paths, strict=True)):
        written[rel] = image.pixels(seed=i)
        _write_ngff(root, rel, written[rel], zarr_format)
    _set_attrs(root, {"bioformats2raw.layout": 3}, zarr_format)
    (root / "OME").mkdir(exist_ok=True)
    (root / "OME" / "METADATA.ome.xml").write_text(
        ome_xml(images, plate), encoding="utf-8"
    )
    _set_attrs(root / "OME", {} if series is None else {"series": series}, zarr_format)
    return written


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("with_series", [True, False], ids=["OME-series", "numbered"])
def test_bioformats2raw_series_get_their_own_ome_image(
    tmp_path: Path, zarr_format: int, with_series: bool, count_listings: Callable
) -> None:
    root = tmp_path / "collection.ome.zarr"
    images = [FIRST, SAME_SIZE, SMALLER]
    paths = ["0", "1", "2"]
    written = bf2raw(
        root,
        images,
        paths,
        series=paths if with_series else None,
        zarr_format=zarr_format,
    )
    listings = count_listings(root)
    # ome-zarr-py names every multiscales "image": names repeat, scenes go by path
    assert list_scenes(root) == ["/0", "/1", "/2"]
    for i, image in enumerate(images):
        acq = open_acquisition(root, i)
        _assert_metadata(acq.metadata, image, i)
        assert acq.vendor_metadata["ome_image_index"] == i
        assert acq.metadata.scene_count == 3
        np.testing.assert_array_equal(acq.data.compute(), written[paths[i]])
        assert acq.data.shape == written[paths[i]].shape  # level 0, not a pyramid level
    assert listings.paths == []  # series found from metadata (probing 0, 1, 2, 3)


def test_series_order_not_the_group_names_decides(tmp_path: Path) -> None:
    """OME/series lists the path of Image 0 first, whatever the group is called."""
    root = tmp_path / "renamed.ome.zarr"
    images = [FIRST, SAME_SIZE]
    written = bf2raw(root, images, ["b", "a"], series=["b", "a"])
    assert list_scenes(root) == ["/b", "/a"]
    for i, image in enumerate(images):
        acq = open_acquisition(root, i)
        _assert_metadata(acq.metadata, image, i)
        assert acq.vendor_metadata["path"] == ["b", "a"][i]
        np.testing.assert_array_equal(acq.data.compute(), written[["b", "a"][i]])


def test_bioformats2raw_names_scenes_by_image_name(tmp_path: Path) -> None:
    """bioformats2raw writes the OME Image name as the multiscales name."""
    root = tmp_path / "named.ome.zarr"
    bf2raw(root, [FIRST, SAME_SIZE], ["0", "1"], series=["0", "1"])
    for rel, name in (("0", "first"), ("1", "same size")):
        attrs_path = root / rel / ".zattrs"
        attrs = json.loads(attrs_path.read_text(encoding="utf-8"))
        attrs["multiscales"][0]["name"] = name
        attrs_path.write_text(json.dumps(attrs), encoding="utf-8")
    assert list_scenes(root) == ["first", "same size"]
    md = open_acquisition(root, "same size").metadata
    _assert_metadata(md, SAME_SIZE, 1)


def test_an_ome_image_of_another_size_is_not_used(tmp_path: Path) -> None:
    """A companion that does not describe the array is reported, not merged."""
    root = tmp_path / "mismatch.ome.zarr"
    bf2raw(root, [FIRST, SMALLER], ["0", "1"], series=["1", "0"])  # swapped: wrong
    md = open_acquisition(root, 0).metadata  # path "1" holds SMALLER's pixels
    assert md.channels[0].name.value is None
    assert md.pixel_size_x_um.value is None
    assert any("Image 0" in n and "not used" in n for n in md.notes)


# --- plates ---------------------------------------------------------------------------

# wells B/3 (row 1, column 2; fields 0, 1) and C/1 (row 2, column 0; field 0); the OME
# Images are in another order than the scenes: C/1 field 0 is Image 0
PLATE_IMAGES = [
    SAME_SIZE,
    FIRST,
    Img("B3 second field", 0.33, (("A488", 520.0), ("A647", 668.0))),
]
PLATE_PATHS = ["C/1/0", "B/3/0", "B/3/1"]
PLATE_XML = (
    '<Plate ID="Plate:0" Name="screen">'
    '<Well ID="Well:0:0" Row="1" Column="2">'
    '<WellSample ID="WellSample:0:0:0" Index="1"><ImageRef ID="Image:1"/></WellSample>'
    '<WellSample ID="WellSample:0:0:1" Index="2"><ImageRef ID="Image:2"/></WellSample>'
    "</Well>"
    '<Well ID="Well:0:1" Row="2" Column="0">'
    '<WellSample ID="WellSample:0:1:0" Index="0"><ImageRef ID="Image:0"/></WellSample>'
    "</Well></Plate>"
)


def _plate(
    root: Path, zarr_format: int, *, companion: str | None
) -> dict[str, np.ndarray]:
    """A plate as bioformats2raw writes it, or (companion None) as ome-zarr-py does."""
    from ome_zarr.writer import write_plate_metadata, write_well_metadata

    fmt = _fmt(zarr_format)
    if companion is None:
        written = {}
        for i, (image, rel) in enumerate(zip(PLATE_IMAGES, PLATE_PATHS, strict=True)):
            written[rel] = image.pixels(seed=i)
            _write_ngff(root, rel, written[rel], zarr_format)
    else:
        written = bf2raw(
            root,
            PLATE_IMAGES,
            PLATE_PATHS,
            series=PLATE_PATHS if companion == "series" else None,
            zarr_format=zarr_format,
            plate=PLATE_XML,
        )
    group = _root(root, zarr_format)
    layout = dict(group.attrs.get("ome", group.attrs))
    rows, columns = ["A", "B", "C"], ["1", "2", "3"]
    write_plate_metadata(group, rows, columns, ["B/3", "C/1"], fmt=fmt)
    if "bioformats2raw.layout" in layout:  # NGFF 0.5: the plate replaced "ome"
        _set_attrs(root, {"bioformats2raw.layout": 3}, zarr_format)
    write_well_metadata(group["B/3"], [{"path": "0"}, {"path": "1"}], fmt=fmt)
    write_well_metadata(group["C/1"], [{"path": "0"}], fmt=fmt)
    return written


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("companion", ["series", "wellsample"])
def test_plate_fields_get_their_own_ome_image(
    tmp_path: Path, zarr_format: int, companion: str, count_listings: Callable
) -> None:
    root = tmp_path / "plate.ome.zarr"
    written = _plate(root, zarr_format, companion=companion)
    listings = count_listings(root)
    assert list_scenes(root) == ["B/3 field 0", "B/3 field 1", "C/1 field 0"]
    # scene → (OME Image index, path)
    for scene, (index, rel) in {
        "B/3 field 0": (1, "B/3/0"),
        "B/3 field 1": (2, "B/3/1"),
        "C/1 field 0": (0, "C/1/0"),
    }.items():
        acq = open_acquisition(root, scene)
        _assert_metadata(acq.metadata, PLATE_IMAGES[index], index)
        assert acq.vendor_metadata["layout"] == "plate"
        assert acq.vendor_metadata["ome_image_index"] == index
        np.testing.assert_array_equal(acq.data.compute(), written[rel])
    assert listings.paths == []  # plate → wells → fields, from metadata only


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_plate_without_companion_reads_each_field(
    tmp_path: Path, zarr_format: int
) -> None:
    root = tmp_path / "plain_plate.ome.zarr"
    written = _plate(root, zarr_format, companion=None)
    assert list_scenes(root) == ["B/3 field 0", "B/3 field 1", "C/1 field 0"]
    acq = open_acquisition(root, "C/1 field 0")
    np.testing.assert_array_equal(acq.data.compute(), written["C/1/0"])
    assert acq.ome_xml is None
    assert acq.metadata.channels[0].name.value is None


# --- OME-TIFF -------------------------------------------------------------------------


def _ome_tiff(
    path: Path,
    images: list[Img],
    pages: list[np.ndarray],
    *,
    rgb: tuple[int, ...] = (),
    extra: list[np.ndarray] = (),
) -> None:
    """An OME-TIFF whose OME-XML is ours: ``pages`` in IFD order, then ``extra``
    pages the OME-XML does not reference (a thumbnail)."""
    import tifffile

    xml = ome_xml(images, rgb=rgb)
    with tifffile.TiffWriter(path) as tif:
        for k, page in enumerate([*pages, *extra]):
            tif.write(
                page,
                description=xml.encode() if k == 0 else None,
                metadata=None,
                photometric="rgb" if page.ndim == 3 else "minisblack",
                subfiletype=1 if k >= len(pages) else 0,
            )


def _td(ifd: int, count: int) -> str:
    return f'<TiffData IFD="{ifd}" PlaneCount="{count}"/>'


def test_ome_tiff_images_of_the_same_size_get_their_own_metadata(
    tmp_path: Path,
) -> None:
    images = [
        replace(FIRST, tiffdata=_td(0, 2)),
        replace(SAME_SIZE, tiffdata=_td(2, 2)),
        replace(SMALLER, tiffdata=_td(4, 1)),
    ]
    pixels = [im.pixels(seed=i) for i, im in enumerate(images)]
    pages = [p[0, c, 0] for p in pixels for c in range(p.shape[1])]
    path = tmp_path / "three.ome.tif"
    _ome_tiff(path, images, pages)
    assert list_scenes(path) == ["first", "same size", "smaller"]
    for i, image in enumerate(images):
        acq = open_acquisition(path, i)
        _assert_metadata(acq.metadata, image, i)
        np.testing.assert_array_equal(acq.data.compute(), pixels[i])


def test_ome_tiff_series_are_matched_to_their_images(tmp_path: Path) -> None:
    """tifffile's series skip an Image without pixels (MetadataOnly): series 1 is
    Image 2. An RGB Image forces the series path for every scene."""
    rgb = Img(
        "rgb overview",
        2.0,
        (("R", 600.0), ("G", 530.0), ("B", 460.0)),
        tiffdata=_td(0, 1),
    )
    label = Img("label only", 9.0, (("none", 500.0),))  # no TiffData
    images = [
        rgb,
        label,
        replace(FIRST, tiffdata=_td(1, 2)),
        replace(SAME_SIZE, tiffdata=_td(3, 2)),
    ]
    rgb_pixels = np.random.default_rng(7).integers(
        0, 4096, (64, 64, 3), dtype=np.uint16
    )
    pixels = {2: images[2].pixels(seed=2), 3: images[3].pixels(seed=3)}
    pages = [rgb_pixels] + [p[0, c, 0] for p in pixels.values() for c in range(2)]
    path = tmp_path / "rgb_and_metadata_only.ome.tif"
    _ome_tiff(path, images, pages, rgb=(0,))
    assert list_scenes(path) == ["rgb overview", "first", "same size"]
    acq = open_acquisition(path, "rgb overview")
    assert acq.dims == "TCZYXS"
    np.testing.assert_array_equal(acq.data[0, 0, 0].compute(), rgb_pixels)
    assert acq.metadata.pixel_size_x_um.value == pytest.approx(2.0)
    for scene, index in (("first", 2), ("same size", 3)):
        acq = open_acquisition(path, scene)
        _assert_metadata(acq.metadata, images[index], index)
        np.testing.assert_array_equal(acq.data.compute(), pixels[index])


def test_ome_tiff_pyramid_levels_and_thumbnail_are_not_scenes(tmp_path: Path) -> None:
    """SubIFD pyramid levels and a trailing thumbnail page stay out of the scenes."""
    import tifffile

    image = replace(FIRST, tiffdata=_td(0, 2))
    pixels = image.pixels(seed=1)
    path = tmp_path / "pyramid.ome.tif"
    xml = ome_xml([image])
    with tifffile.TiffWriter(path) as tif:
        for c in range(2):
            plane = pixels[0, c, 0]
            tif.write(
                plane,
                description=xml.encode() if c == 0 else None,
                metadata=None,
                subifds=1,
            )
            tif.write(plane[::2, ::2], subfiletype=1, metadata=None)
        tif.write(pixels[0, 0, 0, ::8, ::8], subfiletype=1, metadata=None)  # thumbnail
    with tifffile.TiffFile(path) as tf:
        assert len(tf.pages) == 3 and len(tf.pages[0].subifds) == 1
    assert list_scenes(path) == ["first"]
    acq = open_acquisition(path)
    assert acq.data.shape == (1, 2, 1, 64, 64)
    np.testing.assert_array_equal(acq.data.compute(), pixels)
    _assert_metadata(acq.metadata, image, 0)
