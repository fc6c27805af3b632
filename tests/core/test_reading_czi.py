"""CZI files we never saw, with the quirks of the ones we did: written here with
pylibCZIrw's writer (ZEISS libCZI) so every pixel and time stamp is known.

- RGB (Bgr24, Bgr48): stored B,G,R; must come out R,G,B through ``read_plane``,
  ``acq.data`` and a saved OME-Zarr, with channels named R, G, B;
- scenes of different sizes and places, mosaics with overlapping tiles and gaps
  (higher M on top, 0 where no tile is), channels of different pixel types;
- time increments stated only in the TimeStamps attachment (CZTIMS), in seconds or
  as OLE dates, and attachments that are damaged or lie about their size;
- attachments (Thumbnail, Label, SlidePreview, Prescan: JPEG or whole embedded CZI
  files) that must never become scenes or planes.

Attachments are appended here following the ZISRAW layout the reader follows
(segment header, attachment segments, attachment directory, file header pointer).
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from conftest import DATA, naming_form, save_request
from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.export import save_steps
from napari_fairly.core.formats import czi as czi_format
from napari_fairly.core.model import Status
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import Acquisition, list_scenes, open_acquisition

pyczi = pytest.importorskip("pylibCZIrw.czi")


# ---------------------------------------------------------------- writing helpers
def write_czi(path: Path, tiles: list[tuple[dict[str, int], np.ndarray, Any]]) -> Path:
    """A CZI of ``(plane, pixels, (x, y) or (x, y, scene))`` tiles, in that order.

    RGB pixels are given as R,G,B and stored B,G,R, as ZEN stores Bgr24/Bgr48.
    """
    with pyczi.create_czi(str(path)) as writer:
        for plane, pixels, where in tiles:
            x, y, *scene = where
            data = pixels[..., ::-1] if pixels.ndim == 3 else pixels
            writer.write(
                np.ascontiguousarray(data),
                plane=plane,
                location=(x, y),
                scene=scene[0] if scene else 0,
            )
    return path


def edit_xml(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the file's XML, with libCZI's metadata editor."""
    with pyczi.edit_czi(str(path)) as editor:
        xml = editor.read_metadata_xml()
        assert old in xml
        builder = editor.create_metadata_builder()
        builder.set_xml(xml.replace(old, new, 1))
        builder.commit()


def _segment(sid: bytes, data: bytes) -> bytes:
    """A ZISRAW segment: 16-byte id, allocated and used size, data padded to 32."""
    allocated = -(-len(data) // 32) * 32
    return struct.pack("<16sqq", sid, allocated, len(data)) + data.ljust(
        allocated, b"\0"
    )


def _entry(name: str, kind: str, position: int) -> bytes:
    """A 128-byte A1 attachment entry."""
    return struct.pack(
        "<2s10xqi16s8s80s", b"A1", position, 0, bytes(16), kind.encode(), name.encode()
    )


def append_attachments(path: Path, items: list[tuple[str, str, bytes]]) -> None:
    """Append ``(name, content type, content)`` attachments and a directory listing
    them, and point the file header at it (as ZEN leaves a finished file).
    """
    with open(path, "r+b") as fh:
        fh.seek(0, 2)
        entries = []
        for name, kind, content in items:
            position = fh.tell()
            head = (
                struct.pack("<i12x", len(content)) + _entry(name, kind, 0) + bytes(112)
            )
            fh.write(_segment(b"ZISRAWATTACH", head + content))
            entries.append(_entry(name, kind, position))
        directory = fh.tell()
        body = struct.pack("<i252x", len(entries)) + b"".join(entries)
        fh.write(_segment(b"ZISRAWATTDIR", body))
        fh.seek(32 + 72)  # file header data: attachment directory position
        fh.write(struct.pack("<q", directory))


def stamps_content(stamps: list[float], count: int | None = None) -> bytes:
    """CZTIMS content: size, count, float64 stamps."""
    n = len(stamps) if count is None else count
    return struct.pack("<ii", 8 + 8 * len(stamps), n) + struct.pack(
        f"<{len(stamps)}d", *stamps
    )


def saved_level0(acqs: tuple[Acquisition, ...], out: Path) -> list[Any]:
    """Save ``acqs`` as the plugin does; each image group, opened with zarr."""
    result = drive(
        save_steps(save_request(acqs, naming_form(acqs[0], "Pixels"), out)),
        lambda _p: None,
    )
    return [zarr.open_group(str(d.zarr_path), mode="r") for d in result.datasets]


def level0_plane(image: Any, t: int, c: int, z: int, samples: int) -> np.ndarray:
    """Plane (t, c, z) of a saved image: absent axes dropped, RGB samples in c."""
    axes = [a["name"] for a in image.attrs["multiscales"][0]["axes"]]

    def plane(channel: int) -> np.ndarray:
        where = {"t": t, "c": channel, "z": z}
        return np.asarray(image["0"][tuple(where.get(a, slice(None)) for a in axes)])

    if samples == 1:
        return plane(c)
    return np.stack([plane(c * samples + s) for s in range(samples)], axis=-1)


# ---------------------------------------------------------------- RGB
def rgb_truth(dtype: str, t: int) -> np.ndarray:
    """R, G and B all different, and different per pixel and per time point."""
    info = np.iinfo(dtype)
    y, x = np.mgrid[0:7, 0:9]
    r = (x * 7 + y * 3 + t * 11) % 50 + 10
    g = np.full_like(r, 120 + t)
    b = (y * 13 + x) % 40 + 180
    scale = 1 if info.max == 255 else 251  # 16-bit: use the high bits too
    return (np.stack([r, g, b], axis=-1) * scale).astype(dtype)


@pytest.mark.parametrize(("dtype", "stored"), [("uint8", "Bgr24"), ("uint16", "Bgr48")])
def test_rgb_comes_out_r_g_b_everywhere(
    tmp_path: Path, dtype: str, stored: str
) -> None:
    truth = [rgb_truth(dtype, t) for t in range(2)]
    path = write_czi(
        tmp_path / f"rgb-{dtype}.czi",
        [({"T": t}, truth[t], (0, 0)) for t in range(2)],
    )
    with pyczi.open_czi(str(path)) as raw:  # the file is what we meant to write
        assert raw.pixel_types == {0: stored}
        np.testing.assert_array_equal(raw.read(plane={"T": 1})[..., ::-1], truth[1])
    acq = open_acquisition(path)
    assert acq.dims == "TCZYXS"
    assert acq.data.shape == (2, 1, 1, 7, 9, 3)
    assert acq.data.dtype == np.dtype(dtype)
    for t in range(2):
        np.testing.assert_array_equal(acq.read_plane(t, 0, 0), truth[t])
        np.testing.assert_array_equal(np.asarray(acq.data[t, 0, 0]), truth[t])
    block = acq.data.compute(scheduler="threads")
    np.testing.assert_array_equal(block[:, 0, 0], np.stack(truth))
    (image,) = saved_level0((acq,), tmp_path / "out")
    for t in range(2):
        np.testing.assert_array_equal(level0_plane(image, t, 0, 0, 3), truth[t])
    labels = [ch["label"] for ch in image.attrs["omero"]["channels"]]
    assert [label.split()[-1] for label in labels] == ["R", "G", "B"]
    colours = [ch["color"] for ch in image.attrs["omero"]["channels"]]
    assert colours == ["FF0000", "00FF00", "0000FF"]


def test_rgb_of_the_real_file_is_r_g_b() -> None:
    """bioio-czi gave the blue sample three times: means 14.77, 14.77, 14.77."""
    plane = open_acquisition(DATA / "czi/RGB-8bit.czi").read_plane()
    means = plane.reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(means, [13.8093, 28.0247, 14.7711], atol=1e-4)


# ---------------------------------------------------------------- scenes, mosaics
def value(scene: int, t: int, c: int, z: int) -> int:
    return 1000 * scene + 100 * t + 10 * c + z + 1


def test_scenes_of_different_sizes_and_places(tmp_path: Path) -> None:
    sizes = {0: (5, 8), 1: (9, 4), 2: (3, 3)}  # (height, width)
    places = {0: (0, 0), 1: (500, 40), 2: (30, 900)}
    tiles = []
    for s, (h, w) in sizes.items():
        for t, c, z in np.ndindex(2, 2, 3):
            ramp = np.arange(h * w, dtype=np.uint16).reshape(h, w)
            pixels = ramp + value(s, t, c, z)
            tiles.append(({"T": t, "C": c, "Z": z}, pixels, (*places[s], s)))
    path = write_czi(tmp_path / "scenes.czi", tiles)
    assert list_scenes(path) == ["scene 0", "scene 1", "scene 2"]
    for s, (h, w) in sizes.items():
        acq = open_acquisition(path, s)
        assert acq.data.shape == (2, 2, 3, h, w)
        ramp = np.arange(h * w, dtype=np.uint16).reshape(h, w)
        every = acq.data.compute(scheduler="threads")
        for t, c, z in np.ndindex(2, 2, 3):
            want = ramp + value(s, t, c, z)
            np.testing.assert_array_equal(acq.read_plane(t, c, z), want)
            np.testing.assert_array_equal(every[t, c, z], want)
        acq.close()


def test_scene_names_follow_the_xml_index(tmp_path: Path) -> None:
    tiles = [({}, np.full((2, 2), s + 1, np.uint16), (10 * s, 0, s)) for s in range(2)]
    path = write_czi(tmp_path / "named.czi", tiles)
    edit_xml(
        path,
        "<SizeX>",
        '<Dimensions><S><Scenes><Scene Index="1" Name="B2"/>'
        '<Scene Index="0" Name="A1"/></Scenes></S></Dimensions><SizeX>',
    )
    assert list_scenes(path) == ["A1", "B2"]
    assert open_acquisition(path, "B2").read_plane().max() == 2


def test_mosaic_is_composed_in_m_order_with_zero_background(tmp_path: Path) -> None:
    """Three tiles of one plane: the second overlaps the first, the third leaves a gap.

    libCZI draws tiles in M order (later on top) over the scene's bounding rectangle;
    what no tile covers is 0. That is also what ``expected.json`` records for the
    real mosaic (``S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi``).
    """
    first = np.arange(1, 25, dtype=np.uint16).reshape(4, 6)
    second = np.arange(101, 125, dtype=np.uint16).reshape(4, 6)
    third = np.full((3, 3), 7, np.uint16)
    path = write_czi(
        tmp_path / "mosaic.czi",
        [({}, first, (10, 20)), ({}, second, (13, 22)), ({}, third, (20, 20))],
    )
    truth = np.zeros((6, 13), np.uint16)  # bounding rectangle x 10..22, y 20..25
    truth[0:4, 0:6] = first
    truth[2:6, 3:9] = second
    truth[0:3, 10:13] = third
    acq = open_acquisition(path)
    np.testing.assert_array_equal(acq.read_plane(), truth)
    np.testing.assert_array_equal(np.asarray(acq.data[0, 0, 0]), truth)


def test_channels_of_different_pixel_types_keep_their_values(tmp_path: Path) -> None:
    grey8 = (np.arange(20, dtype=np.uint8) + 200).reshape(4, 5)
    grey16 = (np.arange(20, dtype=np.uint16) * 3000 + 7).reshape(4, 5)
    path = write_czi(
        tmp_path / "mixed.czi", [({"C": 0}, grey8, (0, 0)), ({"C": 1}, grey16, (0, 0))]
    )
    acq = open_acquisition(path)
    assert acq.data.dtype == np.uint16
    np.testing.assert_array_equal(acq.read_plane(0, 0, 0), grey8.astype(np.uint16))
    np.testing.assert_array_equal(acq.read_plane(0, 1, 0), grey16)
    assert any("Gray16, Gray8" in note for note in acq.metadata.notes)


# ---------------------------------------------------------------- time stamps
def series(tmp_path: Path, name: str = "series.czi", size_t: int = 4) -> Path:
    tiles = [
        ({"T": t}, np.full((3, 4), t + 1, np.uint16), (0, 0)) for t in range(size_t)
    ]
    return write_czi(tmp_path / name, tiles)


def test_time_increment_from_the_timestamps_attachment(tmp_path: Path) -> None:
    path = series(tmp_path)
    no_stamps = open_acquisition(path).metadata.time_increment_s
    assert no_stamps.status is Status.MISSING
    append_attachments(
        path, [("TimeStamps", "CZTIMS", stamps_content([10.0, 12.5, 15.0, 18.0]))]
    )
    md = open_acquisition(path).metadata
    inc = md.time_increment_s
    assert inc.value == pytest.approx(2.5)  # median of 2.5, 2.5, 3.0 (mean 2.67)
    assert inc.status is Status.INFERRED
    assert inc.source == "czi:Attachments/TimeStamps (CZTIMS) (median step)"
    assert any("TimeStamps attachment (median of 3 steps)" in n for n in md.notes)


def test_the_xml_names_the_attachment_to_use(tmp_path: Path) -> None:
    path = series(tmp_path)
    edit_xml(
        path,
        "<SizeX>",
        "<Dimensions><T><Positions><BinaryList><AttachmentName>Stamps2"
        "</AttachmentName></BinaryList></Positions></T></Dimensions><SizeX>",
    )
    append_attachments(
        path,
        [
            ("TimeStamps", "CZTIMS", stamps_content([0.0, 1.0, 2.0, 3.0])),
            ("Stamps2", "CZTIMS", stamps_content([0.0, 4.0, 8.0, 12.0])),
        ],
    )
    assert open_acquisition(path).metadata.time_increment_s.value == pytest.approx(4.0)


def test_the_xml_interval_wins_over_the_attachment(tmp_path: Path) -> None:
    path = series(tmp_path)
    edit_xml(
        path,
        "<SizeX>",
        "<Dimensions><T><Positions><Interval><Increment>3</Increment></Interval>"
        "</Positions></T></Dimensions><SizeX>",
    )
    append_attachments(
        path, [("TimeStamps", "CZTIMS", stamps_content([0.0, 1.0, 2.0, 3.0]))]
    )
    inc = open_acquisition(path).metadata.time_increment_s
    assert (inc.value, inc.status) == (3.0, Status.PRESENT)


def _ole(day: float, step_s: float, n: int) -> list[float]:
    return [day + k * step_s / 86400.0 for k in range(n)]


@pytest.mark.parametrize(
    ("date", "stamps", "want"),
    [
        # OLE dates on the acquisition day (45293 = 2024-01-02): steps of 90 s
        ("2024-01-02T03:04:05.1234567Z", _ole(45293.2, 90.0, 4), 90.0),
        # seconds that happen to fall in the OLE range, far from the date
        ("2024-01-02T03:04:05Z", [40000.0, 40000.5, 40001.0, 40001.5], 0.5),
        # in the OLE range and no date to tell: not guessed
        (None, _ole(45293.2, 90.0, 4), None),
    ],
)
def test_ole_date_stamps_are_told_from_seconds(
    tmp_path: Path, date: str | None, stamps: list[float], want: float | None
) -> None:
    path = series(tmp_path)
    if date:
        edit_xml(
            path,
            "<SizeX>",
            f"<AcquisitionDateAndTime>{date}</AcquisitionDateAndTime><SizeX>",
        )
    append_attachments(path, [("TimeStamps", "CZTIMS", stamps_content(stamps))])
    md = open_acquisition(path).metadata
    if want is None:
        assert md.time_increment_s.status is Status.MISSING
        assert any("seconds or OLE dates" in n for n in md.notes)
    else:
        assert md.time_increment_s.value == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (stamps_content([0.0, 1.0, 2.0, 3.0], count=1 << 30), "states 1073741824"),
        (stamps_content([0.0, 1.0, 2.0, 3.0], count=-5), "states -5 time stamps"),
        (stamps_content([0.0, 1.0, 2.0, 3.0], count=5), "states 5 time stamps"),
        (stamps_content([0.0, 1.0, 2.0]), "3 time stamps for 4 time points"),
        (b"\x01\x00", "ZISRAWATTACH at 4032 is too small"),
    ],
)
def test_damaged_timestamps_never_fail_the_open(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = series(tmp_path)
    append_attachments(path, [("TimeStamps", "CZTIMS", content)])
    acq = open_acquisition(path)
    assert acq.metadata.time_increment_s.status is Status.MISSING
    assert any(says in n for n in acq.metadata.notes), acq.metadata.notes
    np.testing.assert_array_equal(acq.read_plane(3, 0, 0), np.full((3, 4), 4))


def test_decreasing_stamps_are_invalid(tmp_path: Path) -> None:
    path = series(tmp_path)
    append_attachments(
        path, [("TimeStamps", "CZTIMS", stamps_content([9.0, 6.0, 3.0, 0.0]))]
    )
    inc = open_acquisition(path).metadata.time_increment_s
    assert inc.status is Status.INVALID and inc.raw == "9 6 3 0"


@pytest.mark.parametrize(
    ("where", "says"),
    [(1 << 40, "outside the file"), (64, "no ZISRAWATTDIR segment at 64")],
)
def test_an_attachment_directory_elsewhere_is_refused(
    tmp_path: Path, where: int, says: str
) -> None:
    """libCZI refuses such a file at open; our parser refuses it without reading."""
    path = series(tmp_path)
    with open(path, "r+b") as fh:
        fh.seek(32 + 72)
        fh.write(struct.pack("<q", where))
    with pytest.raises(ValueError, match=says):
        czi_format._time_stamps(path, None)
    with pytest.raises(UnreadableFileError, match="cannot be read as Zeiss CZI"):
        open_acquisition(path)


# ---------------------------------------------------------------- real files
def blank_in_xml(source: Path, target: Path, old: bytes) -> Path:
    """A copy of ``source`` with ``old`` in its XML blanked, the segment unchanged."""
    data = source.read_bytes()
    assert data.count(old) == 1
    tag = old[: old.index(b">") + 1]
    end = b"</" + tag[1:]
    blank = tag + b" " * (len(old) - len(tag) - len(end)) + end
    target.write_bytes(data.replace(old, blank))
    return target


@pytest.mark.parametrize(
    ("rel", "old", "want"),
    [  # the stamps' median step: the XML rounds it (33.412, 0.523, 60.075)
        (
            "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi",
            b"<Increment>33.412</Increment>",
            33.9559896 - 0.5439875,
        ),
        ("czi/Airyscan.czi", b"<Offsets>0 0.523 1.046</Offsets>", 0.5233454),
        (
            "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi",
            b"<Offsets>0 60.075 120.15</Offsets>",
            (480.4104779 - 360.4196148) / 2,
        ),
    ],
)
def test_real_files_with_the_xml_interval_blanked_use_their_stamps(
    tmp_path: Path, rel: str, old: bytes, want: float
) -> None:
    path = blank_in_xml(DATA / rel, tmp_path / Path(rel).name, old)
    inc = open_acquisition(path).metadata.time_increment_s
    assert inc.status is Status.INFERRED
    assert inc.value == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize(
    "rel",
    [
        "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi",
        "czi/Airyscan.czi",
        "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi",
    ],
)
def test_real_xml_intervals_agree_with_the_stamps(rel: str) -> None:
    """Where both exist the XML value is kept; the stamps confirm it within 0.2 %."""
    inc = open_acquisition(DATA / rel).metadata.time_increment_s
    found = czi_format._time_stamps(DATA / rel, "TimeStamps")
    assert found is not None
    step = float(np.median(np.diff(found[1])))
    assert inc.status is Status.PRESENT
    assert inc.value == pytest.approx(step, rel=2e-3)


def test_real_files_list_their_attachments() -> None:
    """The parser reads real directories: names and content types as ZEN wrote them."""
    with open(DATA / "czi/LSM880_AiryScan.czi", "rb") as fh:
        size = (DATA / "czi/LSM880_AiryScan.czi").stat().st_size
        listed = [(n, k) for n, k, _pos in czi_format._attachments(fh, size)]
    assert listed[:3] == [
        ("LookupTables", "CZLUT"),
        ("TimeStamps", "CZTIMS"),
        ("EventList", "CZEVL"),
    ]
    assert ("Thumbnail", "JPG") in listed


# ---------------------------------------------------------------- attachments
def test_embedded_images_are_never_scenes_or_planes(tmp_path: Path) -> None:
    """Label, SlidePreview and Prescan are whole CZI files inside the file (Axioscan);
    Thumbnail is a JPEG. None of them is a scene, a plane or a pixel of the image.
    """
    label = write_czi(
        tmp_path / "label.czi",
        [({}, np.full((50, 60), 999, np.uint16), (0, 0, 3)) for _ in range(1)],
    )
    path = write_czi(
        tmp_path / "slide.czi",
        [({"C": c}, np.full((6, 8), c + 1, np.uint16), (0, 0)) for c in range(2)],
    )
    embedded = label.read_bytes()
    append_attachments(
        path,
        [
            ("Label", "CZI", embedded),
            ("SlidePreview", "CZI", embedded),
            ("Prescan", "CZI", embedded),
            ("Thumbnail", "JPG", b"\xff\xd8\xff\xe0" + bytes(60)),
        ],
    )
    with open(path, "rb") as fh:  # the attachments are really there
        names = [n for n, _k, _p in czi_format._attachments(fh, path.stat().st_size)]
    assert names == ["Label", "SlidePreview", "Prescan", "Thumbnail"]
    assert list_scenes(path) == ["scene 0"]
    acq = open_acquisition(path)
    assert acq.data.shape == (1, 2, 1, 6, 8)
    every = acq.data.compute()
    np.testing.assert_array_equal(
        every[0, :, 0], [np.full((6, 8), 1), np.full((6, 8), 2)]
    )


def test_float_rgb_is_refused_with_a_reason(tmp_path: Path) -> None:
    """libCZI cannot compose Bgr96Float planes: said at open, not at a read."""
    rgb = np.zeros((2, 3, 3), np.float32) + np.float32(0.5)
    path = write_czi(tmp_path / "float-rgb.czi", [({}, rgb, (0, 0))])
    with pytest.raises(UnreadableFileError, match="Bgr96Float"):
        open_acquisition(path)


def test_a_copy_keeps_its_pixels_after_pickling(tmp_path: Path) -> None:
    """dask ships the plane reader to other processes: it reopens the file there."""
    import pickle

    import cloudpickle

    path = tmp_path / "copy.czi"
    shutil.copyfile(DATA / "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi", path)
    acq = open_acquisition(path, 2)
    plane = acq.data[1, 1, 2]
    shipped = pickle.loads(cloudpickle.dumps(plane))  # noqa: S301  (our own bytes)
    acq.close()
    np.testing.assert_array_equal(shipped.compute(), acq.read_plane(1, 1, 2))
