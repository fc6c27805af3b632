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
    """One hostile input: how to build it, what it is, what each entry may answer."""

    name: str
    kind: str
    build: Callable[[Path], Path]
    codes: dict[str, frozenset[int]] = field(default_factory=lambda: dict(ALL_BAD))
    # entry points this case is run through (default: every one in ``codes``)
    what: str = ""


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
        Case("lif-xml-size", "damaged", lif_bad_xml),
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
    return out
