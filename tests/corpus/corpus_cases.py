"""The bad-input corpus: hostile files, paths and forms, built at test time.

Every case is generated in a temporary folder from the real files in ``../shared/data``
(read, never modified or copied into the repository) or from code. A case names its
kind and, for each entry point, the exit codes of the README's table that are a
correct answer:

- ``damaged``: truncated, bytes flipped, a damaged chunk or plane: 2 everywhere (where
  no pixels are read, ``inspect`` and ``form`` may answer 0, saying so);
- ``contradiction``: the metadata and the pixels disagree: 2 everywhere, found when
  the file is opened;
- ``bomb``: sizes that would allocate or schedule far more than the file holds: 2
  everywhere, within the corpus' time and memory bounds;
- ``path``: what is given is no acquisition file (a FIFO, a loop, a name too long): 2;
- ``odd``: valid but unusual files: read as they are (qc may fail: 3);
- ``form``: a form file that is not a form (2), or a hostile form value (1).
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# what the CLI entry points are: the file alone (inspect, qc, core, reader), a form
# made for it first (form, save)
ENTRIES = ("core", "inspect", "form", "qc", "save", "reader")
ALL_BAD = dict.fromkeys(ENTRIES, frozenset({2}))
# damage in the pixels only: metadata-only commands may not see it
PIXELS_BAD = {
    **ALL_BAD,
    "inspect": frozenset({0, 2}),
    "form": frozenset({0, 2}),
}
ODD_OK = {
    "core": frozenset({0}),
    "inspect": frozenset({0}),
    "form": frozenset({0}),
    "qc": frozenset({0, 3}),
    "save": frozenset({0}),
    "reader": frozenset({0}),
}


@dataclass(frozen=True)
class Case:
    """One hostile input: how to build it, what it is, what each entry may answer.

    ``codes`` maps an entry point to the exit codes that are a right answer: the
    standard ones (``ENTRIES``) take the built path; any other is a command line in
    ``commands`` (``{path}``: the built path, ``{work}``: the job's folder, ``{raw}``:
    a real acquisition), run in this process, or in a new one through a shell when it
    starts with ``|``.
    """

    name: str
    kind: str
    build: Callable[[Path], Path]
    codes: dict[str, frozenset[int]] = field(default_factory=lambda: dict(ALL_BAD))
    commands: dict[str, tuple[str, ...]] = field(default_factory=dict)


# ------------------------------------------------------------------ TIFF helpers


def _ome_xml_of(rel: str) -> str:
    import tifffile

    with tifffile.TiffFile(DATA / rel) as tf:
        return str(tf.ome_metadata)


def _planes_of(rel: str) -> np.ndarray:
    import tifffile

    return np.asarray(tifffile.imread(DATA / rel))


def _set_attr(xml: str, element: str, **attrs: str) -> str:
    """``xml`` with attributes of the first ``<element …>`` replaced or added."""
    match = re.search(rf"<{element}\b[^>]*>", xml)
    assert match, element
    tag = match.group(0)
    for key, value in attrs.items():
        if re.search(rf'\b{key}="[^"]*"', tag):
            tag = re.sub(rf'\b{key}="[^"]*"', f'{key}="{value}"', tag)
        else:
            tag = tag.replace(f"<{element}", f'<{element} {key}="{value}"', 1)
    return xml[: match.start()] + tag + xml[match.end() :]


def _ome_tiff(path: Path, planes: np.ndarray, xml: str) -> Path:
    """One page per plane, the given OME-XML in the first page's description."""
    import tifffile

    tifffile.imwrite(
        path,
        planes,
        description=xml.encode("utf-8"),
        metadata=None,
        photometric="minisblack",
    )
    return path


def _six_planes_xml(**pixels: str) -> tuple[np.ndarray, str]:
    """multi-channel.ome.tif's three planes twice (Z2 C3), its XML said so, then
    ``pixels`` attributes changed."""
    planes = _planes_of("ome-tiff/multi-channel.ome.tif")
    six = np.concatenate([planes, planes[::-1]])
    xml = _ome_xml_of("ome-tiff/multi-channel.ome.tif")
    # one TiffData for all six planes: IFD 0, PlaneCount 6
    xml = re.sub(r"<TiffData.*?</TiffData>", "", xml, flags=re.S)
    xml = xml.replace("</Pixels>", '<TiffData IFD="0" PlaneCount="6"/></Pixels>')
    xml = _set_attr(xml, "Pixels", SizeZ="2", **pixels)
    return six, xml


def tiled_tiff(
    path: Path, width: int, height: int, tile: int, *, bigtiff: bool = False
) -> Path:
    """A deflate-tiled uint8 TIFF whose every tile is the same tiny compressed tile.

    Written by hand: a few MB on disk claim ``width`` x ``height`` pixels.
    """
    across, down = math.ceil(width / tile), math.ceil(height / tile)
    count = across * down
    data = zlib.compress(bytes(tile * tile), 9)
    order = "<"
    if bigtiff:
        head = struct.pack("<2sHHHQ", b"II", 43, 8, 0, 16)
        entry, count_fmt, offset_fmt, off_size = "<HHQQ", "<Q", "Q", 8
        long_type = 16
    else:
        head = struct.pack("<2sHI", b"II", 42, 8)
        entry, count_fmt, offset_fmt, off_size = "<HHII", "<H", "I", 4
        long_type = 4
    data_at = len(head)
    offsets_at = data_at + len(data) + (len(data) % 2)
    offsets = np.full(count, data_at, dtype=order + offset_fmt)
    counts = np.full(count, len(data), dtype=order + offset_fmt)
    counts_at = offsets_at + offsets.nbytes
    ifd_at = counts_at + counts.nbytes
    tags = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 8),
        (262, 3, 1, 1),
        (277, 3, 1, 1),
        (284, 3, 1, 1),
        (322, 4, 1, tile),
        (323, 4, 1, tile),
        (324, long_type, count, offsets_at),
        (325, long_type, count, counts_at),
    ]
    ifd = struct.pack(count_fmt, len(tags))
    for code, kind, n, value in tags:
        if kind == 3 and n == 1:
            raw = struct.pack("<H", value).ljust(off_size, b"\0")
            ifd += struct.pack(entry[:-1], code, kind, n) + raw
        else:
            ifd += struct.pack(entry, code, kind, n, value)
    ifd += struct.pack("<" + offset_fmt, 0)
    if bigtiff:
        head = struct.pack("<2sHHHQ", b"II", 43, 8, 0, ifd_at)
    else:
        head = struct.pack("<2sHI", b"II", 42, ifd_at)
    with open(path, "wb") as out:
        out.write(head)
        out.write(data + b"\0" * (len(data) % 2))
        out.write(offsets.tobytes())
        out.write(counts.tobytes())
        out.write(ifd)
    return path


# ------------------------------------------------------------------ builders


def copy_of(rel: str, name: str | None = None) -> Callable[[Path], Path]:
    """A byte copy of a real file (for cases that change the path, not the file)."""

    def build(folder: Path) -> Path:
        out = folder / (name or Path(rel).name)
        out.write_bytes((DATA / rel).read_bytes())
        return out

    return build


def truncated(rel: str, keep: float | int) -> Callable[[Path], Path]:
    """The first ``keep`` bytes (or that fraction) of a real file."""

    def build(folder: Path) -> Path:
        data = (DATA / rel).read_bytes()
        n = keep if isinstance(keep, int) else int(len(data) * keep)
        out = folder / Path(rel).name
        out.write_bytes(data[: n if n >= 0 else len(data) + n])
        return out

    return build


def flipped(
    rel: str, start: int, stop: int, mask: int = 0x5A
) -> Callable[[Path], Path]:
    """A real file with bytes ``start:stop`` XOR ``mask`` (negative: from the end)."""

    def build(folder: Path) -> Path:
        data = bytearray((DATA / rel).read_bytes())
        lo, hi = (i if i >= 0 else len(data) + i for i in (start, stop))
        for i in range(lo, hi):
            data[i] ^= mask
        out = folder / Path(rel).name
        out.write_bytes(bytes(data))
        return out

    return build


def ome_lie(name: str, **pixels: str) -> Callable[[Path], Path]:
    """Six real planes whose OME-XML Pixels attributes say otherwise."""

    def build(folder: Path) -> Path:
        planes, xml = _six_planes_xml(**pixels)
        return _ome_tiff(folder / f"{name}.ome.tif", planes, xml)

    return build


def ome_channel_name(length: int) -> Callable[[Path], Path]:
    """multi-channel.ome.tif with a channel name of ``length`` characters."""

    def build(folder: Path) -> Path:
        xml = _ome_xml_of("ome-tiff/multi-channel.ome.tif")
        xml = xml.replace(
            '<Channel ID="Channel:0:0"',
            f'<Channel Name="{"A" * length}" ID="Channel:0:0"',
            1,
        )
        return _ome_tiff(
            folder / "long-name.ome.tif",
            _planes_of("ome-tiff/multi-channel.ome.tif"),
            xml,
        )

    return build


def ome_physical_size(value: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        xml = _ome_xml_of("ome-tiff/multi-channel.ome.tif")
        xml = _set_attr(xml, "Pixels", PhysicalSizeX=value, PhysicalSizeY=value)
        return _ome_tiff(
            folder / "huge-pixels.ome.tif",
            _planes_of("ome-tiff/multi-channel.ome.tif"),
            xml,
        )

    return build


def ome_csv_injection(folder: Path) -> Path:
    """Channel names and a file name that a spreadsheet would run as formulas."""
    xml = _ome_xml_of("ome-tiff/multi-channel.ome.tif")
    names = ["=HYPERLINK(&quot;http://x&quot;)", "+cmd|' /C calc'!A0", "@SUM(A1)"]
    for i, label in enumerate(names):
        xml = xml.replace(
            f'<Channel ID="Channel:0:{i}"',
            f'<Channel Name="{label}" ID="Channel:0:{i}"',
            1,
        )
    return _ome_tiff(
        folder / "=cmd|calc.ome.tif", _planes_of("ome-tiff/multi-channel.ome.tif"), xml
    )


def big_tiled(width: int, tile: int) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        return tiled_tiff(folder / f"tiled-{width}-{tile}.tif", width, width, tile)

    return build


def _zarr_v2_image(
    folder: Path,
    shape: list[int],
    chunks: list[int],
    dtype: str = "<f8",
    axes: str = "cyx",
    compressor: dict[str, object] | None = None,
) -> Path:
    """An NGFF 0.4 image group with one level-0 array, metadata only."""
    folder.mkdir()
    (folder / ".zgroup").write_text('{"zarr_format": 2}')
    axes_meta = [
        {
            "name": a,
            "type": "channel" if a == "c" else ("time" if a == "t" else "space"),
        }
        for a in axes
    ]
    attrs = {
        "multiscales": [
            {
                "version": "0.4",
                "axes": axes_meta,
                "datasets": [
                    {
                        "path": "0",
                        "coordinateTransformations": [
                            {"type": "scale", "scale": [1.0] * len(axes)}
                        ],
                    }
                ],
            }
        ]
    }
    (folder / ".zattrs").write_text(json.dumps(attrs))
    array = folder / "0"
    array.mkdir()
    (array / ".zarray").write_text(
        json.dumps(
            {
                "zarr_format": 2,
                "shape": shape,
                "chunks": chunks,
                "dtype": dtype,
                "compressor": compressor,
                "fill_value": 0,
                "filters": None,
                "order": "C",
                "dimension_separator": "/",
            }
        )
    )
    return folder


def zarr_bomb(folder: Path) -> Path:
    """Array metadata claiming 3 x 1e7 x 1e7 float64 pixels, no chunk on disk."""
    return _zarr_v2_image(folder / "bomb.ome.zarr", [3, 10**7, 10**7], [1, 1000, 1000])


def zarr_many_chunks(folder: Path) -> Path:
    """A modest plane split into one-pixel chunks: 1.6e7 chunks per plane."""
    return _zarr_v2_image(
        folder / "confetti.ome.zarr", [1, 4000, 4000], [1, 1, 1], "|u1"
    )


def _zarr_real(folder: Path, compressor: str | None) -> Path:
    """A small real OME-Zarr written with zarr (one chunk per plane)."""
    import zarr

    out = folder / f"real-{compressor or 'raw'}.ome.zarr"
    planes = _planes_of("ome-tiff/multi-channel.ome.tif").astype("<f8")
    root = _zarr_v2_image(out, list(planes.shape), [1, *planes.shape[1:]], "<f8")
    meta = json.loads((root / "0" / ".zarray").read_text())
    if compressor == "zlib":
        meta["compressor"] = {"id": "zlib", "level": 1}
    (root / "0" / ".zarray").write_text(json.dumps(meta))
    array = zarr.open_array(str(root / "0"), mode="r+", zarr_format=2)
    array[:] = planes
    return out


def zarr_chunk_short(compressor: str | None) -> Callable[[Path], Path]:
    """A real OME-Zarr whose last chunk file lost its last byte."""

    def build(folder: Path) -> Path:
        out = _zarr_real(folder, compressor)
        chunk = out / "0" / "2" / "0" / "0"
        chunk.write_bytes(chunk.read_bytes()[:-1])
        return out

    return build


def zarr_chunk_garbage(folder: Path) -> Path:
    """A compressed chunk replaced by bytes no codec decodes."""
    out = _zarr_real(folder, "zlib")
    chunk = out / "0" / "1" / "0" / "0"
    chunk.write_bytes(b"\x00garbage" * 16)
    return out


def zarr_bad_json(folder: Path) -> Path:
    out = folder / "badjson.ome.zarr"
    out.mkdir()
    (out / ".zgroup").write_text('{"zarr_format": 2}')
    (out / ".zattrs").write_bytes(b'{"multiscales": [{"datasets": [' + b"[" * 100000)
    return out


def zarr_deep_json(folder: Path) -> Path:
    out = folder / "deep.ome.zarr"
    out.mkdir()
    (out / ".zgroup").write_text('{"zarr_format": 2}')
    (out / ".zattrs").write_text('{"x": ' + "[" * 100000 + "]" * 100000 + "}")
    return out


def zarr_wrong_types(folder: Path) -> Path:
    """``multiscales`` of the wrong JSON types: a string where a list belongs."""
    out = folder / "types.ome.zarr"
    out.mkdir()
    (out / ".zgroup").write_text('{"zarr_format": 2}')
    (out / ".zattrs").write_text('{"multiscales": "yes", "omero": 5}')
    return out


def zarr_negative_shape(folder: Path) -> Path:
    return _zarr_v2_image(folder / "negative.ome.zarr", [3, -5, 12], [1, 12, 12])


def zarr_path_escape(folder: Path) -> Path:
    """A dataset path pointing outside the image folder."""
    out = _zarr_v2_image(folder / "escape.ome.zarr", [1, 4, 4], [1, 4, 4], "|u1")
    attrs = json.loads((out / ".zattrs").read_text())
    attrs["multiscales"][0]["datasets"][0]["path"] = "../../../../../../etc"
    (out / ".zattrs").write_text(json.dumps(attrs))
    return out


def ome_bomb_size_z(folder: Path) -> Path:
    """A 7 KB OME-TIFF whose OME-XML says SizeZ=1e9."""
    xml = _ome_xml_of("ome-tiff/multi-channel.ome.tif")
    xml = _set_attr(xml, "Pixels", SizeZ="1000000000")
    xml = re.sub(r"<TiffData.*?</TiffData>", "", xml, flags=re.S)
    xml = xml.replace("</Pixels>", '<TiffData IFD="0"/></Pixels>')
    planes = _planes_of("ome-tiff/multi-channel.ome.tif")[:, :8, :8]
    return _ome_tiff(folder / "sizez.ome.tif", planes, xml)


def ome_bomb_size_xy(folder: Path) -> Path:
    """OME-XML claiming 1e6 x 1e6 planes for pages of 439 x 167."""
    planes = _planes_of("ome-tiff/multi-channel.ome.tif")
    xml = _set_attr(
        _ome_xml_of("ome-tiff/multi-channel.ome.tif"),
        "Pixels",
        SizeX="1000000",
        SizeY="1000000",
    )
    return _ome_tiff(folder / "sizexy.ome.tif", planes, xml)


def ome_wrong_type(folder: Path) -> Path:
    """OME-XML says uint16 for int8 pages."""
    planes = _planes_of("ome-tiff/multi-channel.ome.tif")
    xml = _set_attr(
        _ome_xml_of("ome-tiff/multi-channel.ome.tif"), "Pixels", Type="uint16"
    )
    return _ome_tiff(folder / "type.ome.tif", planes, xml)


def ome_broken_xml(folder: Path) -> Path:
    """An OME-TIFF whose OME-XML is cut in the middle."""
    planes = _planes_of("ome-tiff/multi-channel.ome.tif")
    xml = _ome_xml_of("ome-tiff/multi-channel.ome.tif")
    return _ome_tiff(folder / "cut.ome.tif", planes, xml[: len(xml) // 2])


def ome_entities(folder: Path) -> Path:
    """OME-XML with a billion-laughs entity expansion."""
    planes = _planes_of("ome-tiff/multi-channel.ome.tif")
    xml = _ome_xml_of("ome-tiff/multi-channel.ome.tif")
    lol = (
        '<!DOCTYPE OME [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
            for i in range(9)
        )
        + "]>"
    )
    xml = xml.replace("?>", "?>" + lol, 1)
    xml = xml.replace(
        '<Channel ID="Channel:0:0"', '<Channel Name="&j;" ID="Channel:0:0"', 1
    )
    return _ome_tiff(folder / "laughs.ome.tif", planes, xml)


def imagej_lie(folder: Path) -> Path:
    """An ImageJ hyperstack whose description claims 1e6 slices for 3 pages."""
    import tifffile

    planes = _planes_of("imagej-tiff/test_still_stack.tif")[:3, :16, :16]
    out = folder / "ij.tif"
    tifffile.imwrite(out, planes, imagej=True, metadata={"axes": "ZYX"})
    data = bytearray(out.read_bytes())
    text = b"slices=3"
    at = data.find(text)
    assert at > 0
    data[at : at + len(text)] = b"slices=9"
    out.write_bytes(bytes(data))
    return out


def czi_directory_flip(entry_field: str) -> Callable[[Path], Path]:
    """CellDivision with one subblock directory entry's Z start changed."""

    def build(folder: Path) -> Path:
        data = bytearray(
            (DATA / "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi").read_bytes()
        )
        (directory,) = struct.unpack_from("<q", data, 32 + 52)
        (count,) = struct.unpack_from("<i", data, directory + 32)
        at = directory + 32 + 128
        for _k in range(count):
            (dims,) = struct.unpack_from("<i", data, at + 28)
            for d in range(dims):
                where = at + 32 + 20 * d
                name = bytes(data[where : where + 4]).rstrip(b"\0")
                if name == entry_field.encode():
                    (start,) = struct.unpack_from("<i", data, where + 4)
                    if start == 4:  # the last z-plane of the first subblock there
                        struct.pack_into("<i", data, where + 4, 2)
                        out = folder / "czi-dir.czi"
                        out.write_bytes(bytes(data))
                        return out
            at += 32 + 20 * dims
        raise AssertionError("no subblock at that index")

    return build


def fifo(folder: Path) -> Path:
    out = folder / "pipe.czi"
    os.mkfifo(out)
    return out


def symlink_loop(folder: Path) -> Path:
    out = folder / "loop.czi"
    os.symlink(out, out)
    return out


def long_component(folder: Path) -> Path:
    return folder / ("x" * 300 + ".czi")


def long_path(folder: Path) -> Path:
    return folder.joinpath(*(["d" * 200] * 25), "f.czi")


def missing(folder: Path) -> Path:
    return folder / "nope.nd2"


def plain_folder(folder: Path) -> Path:
    out = folder / "plain"
    out.mkdir()
    (out / "a.txt").write_text("x")
    return out


def device(folder: Path) -> Path:
    return Path("/dev/zero")


def empty(suffix: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        out = folder / f"empty{suffix}"
        out.write_bytes(b"")
        return out

    return build


def lif_bad_xml(folder: Path) -> Path:
    """A LIF whose XML header says its size is 4 GB."""
    data = bytearray((DATA / "lif/testdata_2channel_xz.lif").read_bytes())
    struct.pack_into("<I", data, 4, 0x7FFFFFF0)
    out = folder / "size.lif"
    out.write_bytes(bytes(data))
    return out


def dv_huge_header(folder: Path) -> Path:
    """A DV whose header says 1e5 x 1e5 x 1e5 pixels."""
    data = bytearray((DATA / "dv/toxo.dv").read_bytes())
    struct.pack_into("<3i", data, 0, 100000, 100000, 100000)
    out = folder / "huge.dv"
    out.write_bytes(bytes(data))
    return out


def dv_more_sections(folder: Path) -> Path:
    """A DV whose header says more sections than the file holds."""
    data = bytearray((DATA / "dv/toxo.dv").read_bytes())
    (nz,) = struct.unpack_from("<i", data, 8)
    struct.pack_into("<i", data, 8, nz * 4)
    out = folder / "sections.dv"
    out.write_bytes(bytes(data))
    return out


PIXEL_SAMPLES = {
    "czi": "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi",
    "czi-zstd": "czi/newCZI_compressed.czi",
    "nd2": "nd2/cluster.nd2",
    "lif": "lif/testdata_2channel_xz.lif",
    "dv": "dv/toxo.dv",
    "ome-tiff": "ome-tiff/multi-channel.ome.tif",
    "imagej": "imagej-tiff/test_still_stack.tif",
    "tiff": "tiff/stuck.tif",
}


def cases() -> list[Case]:
    """Every case of the corpus, in a stable order."""
    out: list[Case] = []
    for key, rel in PIXEL_SAMPLES.items():
        out.append(Case(f"{key}-truncated-half", "damaged", truncated(rel, 0.5)))
        out.append(
            Case(
                f"{key}-truncated-90", "damaged", truncated(rel, 0.9), dict(PIXELS_BAD)
            )
        )
        out.append(Case(f"{key}-header-flipped", "damaged", flipped(rel, 16, 2048)))
        out.append(Case(f"{key}-magic-flipped", "damaged", flipped(rel, 0, 64)))
    out += [
        Case(
            "ome-tiff-last-byte",
            "damaged",
            truncated("ome-tiff/multi-channel.ome.tif", -1),
        ),
        Case("ome-tiff-xml-cut", "damaged", ome_broken_xml),
        Case("ome-size-c-1", "contradiction", ome_lie("c1", SizeC="1")),
        Case("ome-size-c-5", "contradiction", ome_lie("c5", SizeC="5")),
        Case("ome-size-xy", "contradiction", ome_bomb_size_xy),
        Case("ome-type", "contradiction", ome_wrong_type),
        Case("ome-size-z-1e9", "bomb", ome_bomb_size_z),
        Case("ome-entities", "bomb", ome_entities),
        Case("imagej-slices", "contradiction", imagej_lie),
        Case("czi-directory-z", "contradiction", czi_directory_flip("Z")),
        Case("tiff-100000", "bomb", big_tiled(100_000, 1024)),
        Case("tiff-32768-tiles", "bomb", big_tiled(32_768, 16)),
        Case("zarr-3x1e7x1e7", "bomb", zarr_bomb),
        Case("zarr-confetti", "bomb", zarr_many_chunks),
        Case(
            "zarr-chunk-short-raw", "damaged", zarr_chunk_short(None), dict(PIXELS_BAD)
        ),
        Case(
            "zarr-chunk-short-zlib",
            "damaged",
            zarr_chunk_short("zlib"),
            dict(PIXELS_BAD),
        ),
        Case("zarr-chunk-garbage", "damaged", zarr_chunk_garbage, dict(PIXELS_BAD)),
        Case("zarr-bad-json", "damaged", zarr_bad_json),
        Case("zarr-deep-json", "damaged", zarr_deep_json),
        Case("zarr-wrong-types", "damaged", zarr_wrong_types),
        Case("zarr-negative-shape", "contradiction", zarr_negative_shape),
        Case("zarr-path-escape", "damaged", zarr_path_escape),
        Case("dv-huge-header", "bomb", dv_huge_header),
        Case("dv-more-sections", "contradiction", dv_more_sections),
        Case(
            "ome-channel-name-10mib", "odd", ome_channel_name(10 * 2**20), dict(ODD_OK)
        ),
        Case("ome-pixel-size-1e9", "odd", ome_physical_size("1e9"), dict(ODD_OK)),
        Case("csv-injection", "odd", ome_csv_injection, dict(ODD_OK)),
        Case("fifo", "path", fifo),
        Case("symlink-loop", "path", symlink_loop),
        Case("name-over-255", "path", long_component),
        Case("path-over-path-max", "path", long_path),
        Case("missing", "path", missing),
        Case("plain-folder", "path", plain_folder),
        Case("device", "path", device),
        Case("empty-czi", "path", empty(".czi")),
        Case("empty-ome-tif", "path", empty(".ome.tif")),
        Case("nd2-named-czi", "path", copy_of("nd2/cluster.nd2", "cluster.czi")),
    ]
    return out + form_cases() + cli_cases()


# ------------------------------------------------------------------ forms and values

RAW = "dv/toxo.dv"  # the real acquisition the form and value cases are made for
FORM_VALUES = (
    "naming.project=TNT",
    "naming.sample=Cells",
    "naming.creator=ALebon",
    "naming.condition=Controle",
    "study.title=Hostile inputs",
    "study.publisher=Test facility",
    "study.authors=Alice Lebon|0000-0002-1825-0097",
    "biosample.organism=Homo sapiens",
    "biosample.biological_entity=cultured cells",
    "image_acquisition.instrument=Test microscope",
    "study_component.imaging_method=fluorescence microscopy",
    "naming.date=2024-01-15",
    "image_acquisition.acquisition_datetime=2024-01-15T10:00:00+01:00",
)


def set_args(*values: str) -> tuple[str, ...]:
    return tuple(arg for value in values for arg in ("--set", value))


_GOOD_FORM: dict[str, str] = {}


def good_form(rel: str = RAW) -> dict[str, object]:
    """A complete form made with ``fairly form`` for a real file, as a JSON object."""
    if rel not in _GOOD_FORM:
        import contextlib
        import io
        import tempfile

        from napari_fairly.cli import main

        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "form.json"
            sink = io.StringIO()
            with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
                code = main(
                    [
                        "form",
                        str(DATA / rel),
                        *set_args(*FORM_VALUES),
                        "--out",
                        str(out),
                    ]
                )
            assert code == 0, sink.getvalue()
            _GOOD_FORM[rel] = out.read_text(encoding="utf-8")
    return dict(json.loads(_GOOD_FORM[rel]))


def form_file(
    name: str, content: bytes | Callable[[dict[str, object]], object]
) -> Callable[[Path], Path]:
    """A form file: raw bytes, or the good form changed by ``content``."""

    def build(folder: Path) -> Path:
        out = folder / name
        if isinstance(content, bytes):
            out.write_bytes(content)
        else:
            out.write_text(json.dumps(content(good_form())), encoding="utf-8")
        return out

    return build


def _title(value: str) -> Callable[[dict[str, object]], object]:
    def change(form: dict[str, object]) -> object:
        study = dict(form["study"])  # type: ignore[arg-type]
        study["title"] = value
        return {**form, "study": study}

    return change


def _wrong_type(form: dict[str, object]) -> object:
    data = dict(form["image_data"])  # type: ignore[arg-type]
    data["size_bytes"] = "lots"
    return {**form, "image_data": data}


def _other_file(form: dict[str, object]) -> object:
    return good_form("nd2/cluster.nd2")


FORM_CODES = {"qc --form": frozenset({2}), "save --form": frozenset({2})}
FORM_BAD_VALUE = {"qc --form": frozenset({1}), "save --form": frozenset({1})}
FORM_COMMANDS = {
    "qc --form": ("qc", "{raw}", "--form", "{path}"),
    "save --form": ("save", "{raw}", "--form", "{path}", "--out", "{work}/out"),
}


def form_case(
    name: str, build: Callable[[Path], Path], bad_value: bool = False
) -> Case:
    return Case(
        name,
        "form",
        build,
        dict(FORM_BAD_VALUE if bad_value else FORM_CODES),
        dict(FORM_COMMANDS),
    )


def fifo_form(folder: Path) -> Path:
    out = folder / "form.json"
    os.mkfifo(out)
    return out


def value_case(
    name: str, values: tuple[str, ...], codes: frozenset[int], save: bool = False
) -> Case:
    """``fairly form`` of the real file with ``--set`` values; ``save``: the value is
    a correction ``fairly save --set`` takes too (form fields it refuses)."""
    args = set_args(*FORM_VALUES, *values)
    commands = {"form --set": ("form", "{raw}", *args, "--out", "{work}/form.json")}
    if save:
        commands["save --set"] = (
            "save",
            "{raw}",
            "--form",
            "{form}",
            "--out",
            "{work}/out",
            *set_args(*values),
        )
    return Case(
        name, "value", lambda folder: folder, dict.fromkeys(commands, codes), commands
    )


def regular_file(folder: Path) -> Path:
    out = folder / "a-file"
    out.write_text("not a folder")
    return out


def latin1_name(folder: Path) -> Path:
    """A real acquisition under a name that is not UTF-8 (a Latin-1 é)."""
    out = Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9.dv"))
    out.write_bytes((DATA / RAW).read_bytes())
    return out


def damaged_dataset(folder: Path) -> Path:
    """A dataset saved from the real file, one chunk byte flipped since."""
    import contextlib
    import io

    from napari_fairly.cli import main

    form = folder / "form.json"
    form.write_text(json.dumps(good_form()), encoding="utf-8")
    sink = io.StringIO()
    with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
        code = main(
            ["save", str(DATA / RAW), "--form", str(form), "--out", str(folder / "out")]
        )
    assert code == 0, sink.getvalue()
    (dataset,) = (folder / "out").iterdir()
    chunk = max(
        p for p in dataset.rglob("*") if p.is_file() and p.parent.name.isdigit()
    )
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 1
    chunk.write_bytes(bytes(data))
    return dataset


def form_cases() -> list[Case]:
    """Form files that are no form (2) or hold a bad value (1); hostile --set values."""
    deep = b'{"study": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    return [
        form_case(
            "form-invalid-utf8", form_file("f.json", b'{"study": {"title": "caf\xe9"}}')
        ),
        form_case("form-surrogate", form_file("f.json", _title("\ud800"))),
        form_case("form-deep", form_file("f.json", deep)),
        form_case("form-not-json", form_file("f.json", b"hello")),
        form_case("form-array", form_file("f.json", b"[]")),
        form_case("form-empty", form_file("f.json", b"")),
        form_case("form-huge", form_file("f.json", b" " * (40 * 2**20) + b"{}")),
        form_case("form-fifo", fifo_form),
        form_case("form-folder", plain_folder),
        form_case("form-csv-header", form_file("f.csv", b"a,b\n1,2\n")),
        form_case("form-wrong-type", form_file("f.json", _wrong_type), bad_value=True),
        form_case("form-other-file", form_file("f.json", _other_file), bad_value=True),
        form_case("form-nul", form_file("f.json", _title("a\x00b")), bad_value=True),
        form_case(
            "form-10mib-title",
            form_file("f.json", _title("T" * 10 * 2**20)),
            bad_value=True,
        ),
        value_case("set-sample-dotdot", ("naming.sample=../../etc",), frozenset({1})),
        value_case("set-project-slash", ("naming.project=a/b",), frozenset({1})),
        value_case("set-title-nul", ("study.title=a\x00b",), frozenset({1})),
        value_case("set-sample-bidi", ("naming.sample=abc\u202egpj",), frozenset({1})),
        value_case("set-title-2mib", ("study.title=" + "x" * 2**21,), frozenset({1})),
        value_case(
            "set-title-newline", ("study.title=line\nbreak",), frozenset({0, 1})
        ),
        value_case("set-no-equals", ("novalue",), frozenset({1})),
        value_case("set-unknown-field", ("nope.field=1",), frozenset({1})),
        value_case(
            "set-pixel-negative",
            ("image_acquisition.pixel_size_x_um=-5",),
            frozenset({1}),
            save=True,
        ),
        value_case("set-pixel-nan", ("px=nan",), frozenset({1}), save=True),
        value_case("set-pixel-inf", ("px=inf",), frozenset({1}), save=True),
        value_case("set-na-text", ("na=abc",), frozenset({1}), save=True),
        value_case("set-channel-99", ("em.99=500",), frozenset({1}), save=True),
        value_case(
            "set-formula", ('study.title==HYPERLINK("http://x")',), frozenset({0})
        ),
        value_case("set-latin1", ("study.title=caf\udce9",), frozenset({2})),
    ]


def deep_sidecar(folder: Path) -> Path:
    """A folder shaped like a dataset whose sidecar is JSON nested 100000 deep."""
    out = folder / "2024-01-15_TNT_Cells_ALebon_Controle_RAW_v01"
    out.mkdir()
    deep = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    (out / f"{out.name}.json").write_bytes(deep)
    return out


def dataset_commands(path: str = "{path}") -> dict[str, tuple[str, ...]]:
    """The commands that read a saved dataset, on ``path``."""
    return {
        "report": ("report", path, "--out", "{work}/report.html"),
        "methods": ("methods", path),
        "verify": ("verify", path),
    }


TAIL = "_ALebon_Controle_RAW_v01"


def cli_cases() -> list[Case]:
    """The command line itself: closed pipes, a full stdout, wrong kinds of paths."""
    inspect = ("inspect", "{raw}")
    return [
        Case(
            "cli-outputs",
            "cli",
            regular_file,
            {
                "inspect | true": frozenset({0, 141}),
                "inspect | head -1": frozenset({0, 141}),
                "inspect --json | head -c 10": frozenset({0, 141}),
                "inspect > /dev/full": frozenset({2}),
                "save --out FILE": frozenset({2}),
                "form --out FOLDER": frozenset({2}),
                "verify FILE": frozenset({2}),
                "verify MISSING": frozenset({2}),
                "qc --csv EXISTING": frozenset({2}),
                "set latin-1 byte (argv)": frozenset({2}),
            },
            {
                "inspect | true": ("|", *inspect, "| true"),
                "inspect | head -1": ("|", *inspect, "| head -1"),
                "inspect --json | head -c 10": (
                    "|",
                    *inspect,
                    "--json",
                    "| head -c 10",
                ),
                "inspect > /dev/full": ("|", *inspect, "> /dev/full"),
                "save --out FILE": (
                    "save",
                    "{raw}",
                    "--form",
                    "{form}",
                    "--out",
                    "{path}",
                ),
                "form --out FOLDER": (
                    "form",
                    "{raw}",
                    *set_args(*FORM_VALUES),
                    "--out",
                    "{work}",
                ),
                "verify FILE": ("verify", "{path}"),
                "verify MISSING": ("verify", "{work}/nope"),
                "qc --csv EXISTING": ("qc", "{raw}", "--csv", "{path}"),
                "set latin-1 byte (argv)": (
                    "|",
                    "form",
                    "{raw}",
                    *set_args(*FORM_VALUES, "study.title=caf\udce9"),
                    "--out",
                    "{work}/form.json",
                ),
            },
        ),
        Case(
            "latin1-file-name",
            "path",
            latin1_name,
            {
                "core": frozenset({0, 2}),
                "inspect": frozenset({0, 2}),
                "reader": frozenset({0, 2}),
            },
        ),
        Case(
            "dataset-deep-sidecar",
            "damaged",
            deep_sidecar,
            {
                "report": frozenset({2}),
                "methods": frozenset({2}),
                "verify": frozenset({1}),  # its verdict: no checksums, not a dataset
            },
            dataset_commands(),
        ),
        Case(
            "dataset-is-a-file",
            "path",
            regular_file,
            dict.fromkeys(("report", "methods", "verify"), frozenset({2})),
            dataset_commands(),
        ),
        Case(
            "name-check-hostile",
            "value",
            lambda folder: folder,
            dict.fromkeys(
                ("name NUL", "name bidi", "name 1 MiB", "name slash"), frozenset({1})
            ),
            {
                "name NUL": ("name", "--check", "2024-01-15_TNT_A\x00B_AL_C_RAW_v01"),
                "name bidi": (
                    "name",
                    "--check",
                    "2024-01-15_TNT_abc\u202egpj_AL_C_RAW_v01",
                ),
                "name 1 MiB": ("name", "--check", "2024-01-15_" + "T" * 2**20),
                "name slash": (
                    "name",
                    "--check",
                    "2024-01-15_TNT_../../etc_AL_C_RAW_v01",
                ),
            },
        ),
        Case(
            "verify-damaged-dataset",
            "cli",
            damaged_dataset,
            {"verify": frozenset({1})},
            {"verify": ("verify", "{path}")},
        ),
    ]
