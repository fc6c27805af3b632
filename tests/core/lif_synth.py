"""Synthetic Leica LIF files with known pixels: acquisitions we never see, in tmp_path.

The layout is LIF version 2 as readlif and liffile read it (after Bio-Formats'
LIFReader):

- header: uint32 0x70, uint32 2·n + 5, uint8 0x2A, uint32 n, then the XML as n
  UTF-16-LE characters;
- one memory block per XML Element: uint32 0x70, uint32 (bytes up to the data),
  uint8 0x2A, uint64 size, uint8 0x2A, uint32 k, the block id as k UTF-16-LE
  characters, then ``size`` bytes of pixels.

Each series' Element/Memory names its block; Data/Image/ImageDescription says where
each frame is: DimensionDescription (DimID, NumberOfElements, Length, BytesInc) per
axis and ChannelDescription@BytesInc per channel. Here the bytes are a numpy array in
the series' storage order (``order``, outermost axis first), so any axis order the
instrument may write (T outside or inside the tiles M, channels after each plane or
outermost, a λ sweep, an XZ scan, RGB samples) is one string.
"""

from __future__ import annotations

import datetime as dt
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DIM_IDS = {"X": 1, "Y": 2, "Z": 3, "T": 4, "λ": 5, "Λ": 9, "M": 10}
UNITS = {"X": "m", "Y": "m", "Z": "m", "T": "s", "λ": "m", "Λ": "m", "M": ""}
WHEN = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
SETTINGS = {
    "ObjectiveName": "HC PL APO CS2   63x/1.40 OIL",
    "Magnification": "63",
    "NumericalAperture": "1.4",
    "Immersion": "OIL",
    "RefractionIndex": "1.518",
    "MicroscopeModel": "DMI8-CS",
    "ScanMode": "xyz",
    "Pinhole": "0.0000955",
    "PinholeAiry": "1",
}


@dataclass(frozen=True)
class Tile:
    """One TileScanInfo/Tile: grid field and stage position (m; None: not stated)."""

    field_x: int
    field_y: int
    pos_x_m: float
    pos_y_m: float
    pos_z_m: float | None = None


@dataclass
class Series:
    """One image series: storage order, sizes, Lengths, tiles; pixels are random."""

    name: str
    order: str  # storage order, outermost first; C = channels, S = samples (B, G, R)
    sizes: dict[str, int]
    bits: int = 8  # ChannelDescription@Resolution: 8, 12 or 16
    lengths: dict[str, float] = field(default_factory=dict)  # Length, m or s
    tiles: list[Tile] = field(default_factory=list)
    channel_names: tuple[str, ...] = ()
    seed: int = 0

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8 if self.bits <= 8 else "<u2")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.sizes[a] for a in self.order)

    def stored(self) -> np.ndarray:
        """The pixels in storage order: distinct random values in every plane."""
        rng = np.random.default_rng(self.seed)
        return rng.integers(0, 2**self.bits, self.shape, dtype=self.dtype)

    def stride(self, axis: str) -> int:
        """BytesInc of ``axis``: the bytes of everything stored inside it."""
        inner = self.order[self.order.index(axis) + 1 :]
        return self.dtype.itemsize * int(np.prod([self.sizes[a] for a in inner]))

    def expected(self, tile: int | None = None) -> np.ndarray:
        """TCZYX(S) as the plugin should give it: tile ``tile``, other axes at 0."""
        arr, axes = self.stored(), self.order
        for axis in [a for a in axes if a not in "TCZYXS"]:
            index = tile if axis == "M" and tile is not None else 0
            arr = np.take(arr, index, axis=axes.index(axis))
            axes = axes.replace(axis, "")
        target = "TCZYX" + ("S" if "S" in axes else "")
        for axis in target:
            if axis not in axes:
                arr, axes = arr[..., np.newaxis], axes + axis
        arr = np.transpose(arr, [axes.index(a) for a in target])
        return arr[..., ::-1] if "S" in target else arr  # stored B, G, R → R, G, B

    def scene_names(self) -> list[str]:
        n = self.sizes.get("M", 1)
        if n <= 1:
            return [self.name]
        return [f"{self.name} tile {m + 1} of {n}" for m in range(n)]


def _channels(series: Series, parent: ET.Element) -> None:
    channels = ET.SubElement(parent, "Channels")
    if "S" in series.order:  # RGB: one ChannelDescription per sample, B, G, R
        incs = [s * series.dtype.itemsize for s in range(series.sizes["S"])]
        tags = [3, 2, 1]
    else:
        n = series.sizes.get("C", 1)
        step = series.stride("C") if "C" in series.order else 0
        incs, tags = [c * step for c in range(n)], [0] * n
    names = series.channel_names or ("Green", "Red", "Blue", "Gray")
    for i, (inc, tag) in enumerate(zip(incs, tags, strict=True)):
        ET.SubElement(
            channels,
            "ChannelDescription",
            DataType="0",
            ChannelTag=str(tag),
            Resolution=str(series.bits),
            NameOfMeasuredQuantity="",
            Min="0",
            Max=str(2**series.bits - 1),
            Unit="",
            LUTName=names[i % len(names)],
            IsLUTInverted="0",
            BytesInc=str(inc),
            BitInc="0",
        )


def _dimensions(series: Series, parent: ET.Element) -> None:
    dims = ET.SubElement(parent, "Dimensions")
    axes = [a for a in series.order if a not in "CS"]
    for axis in sorted(axes, key=series.stride):  # innermost first, as LAS X writes
        ET.SubElement(
            dims,
            "DimensionDescription",
            DimID=str(DIM_IDS[axis]),
            NumberOfElements=str(series.sizes[axis]),
            Origin="0",
            Length=repr(series.lengths.get(axis, 0.0)),
            Unit=UNITS[axis],
            BitInc="0",
            BytesInc=str(series.stride(axis)),
        )


def _element(series: Series, block_id: str, uid: int) -> ET.Element:
    element = ET.Element(
        "Element",
        Name=series.name,
        Visibility="1",
        CopyOption="1",
        UniqueID=f"00000000-0000-0000-0000-{uid:012d}",
    )
    image = ET.SubElement(ET.SubElement(element, "Data"), "Image", TextDescription="")
    description = ET.SubElement(image, "ImageDescription")
    _channels(series, description)
    _dimensions(series, description)
    if series.tiles:
        info = ET.SubElement(
            image,
            "Attachment",
            Name="TileScanInfo",
            Application="LAS AF",
            FlipX="0",
            FlipY="0",
            SwapXY="0",
        )
        for tile in series.tiles:
            attrs = {
                "FieldX": str(tile.field_x),
                "FieldY": str(tile.field_y),
                "PosX": repr(tile.pos_x_m),
                "PosY": repr(tile.pos_y_m),
            }
            if tile.pos_z_m is not None:
                attrs["PosZ"] = repr(tile.pos_z_m)
            ET.SubElement(info, "Tile", attrs)
    hardware = ET.SubElement(image, "Attachment", Name="HardwareSetting")
    ET.SubElement(hardware, "ATLConfocalSettingDefinition", SETTINGS)
    ticks = int(
        (WHEN - dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)).total_seconds()
    )
    stamps = ET.SubElement(image, "TimeStampList", NumberOfTimeStamps="1")
    stamps.text = f"{ticks * 10_000_000:x}"
    size = int(np.prod(series.shape)) * series.dtype.itemsize
    ET.SubElement(element, "Memory", Size=str(size), MemoryBlockID=block_id)
    ET.SubElement(element, "Children")
    return element


def _block(block_id: str, data: bytes) -> bytes:
    name = block_id.encode("utf-16-le")
    head = struct.pack(
        "<IIBQBI", 0x70, 1 + 8 + 1 + 4 + len(name), 0x2A, len(data), 0x2A, len(block_id)
    )
    return head + name + data


def write_lif(path: Path, series: list[Series]) -> Path:
    """Write ``series`` as one LIF file at ``path``, in that order."""
    root = ET.Element("LMSDataContainerHeader", Version="2")
    top = ET.SubElement(
        root,
        "Element",
        Name=path.name,
        Visibility="1",
        CopyOption="1",
        UniqueID="00000000-0000-0000-0000-000000000000",
    )
    ET.SubElement(ET.SubElement(top, "Data"), "Experiment", Path=str(path))
    ET.SubElement(top, "Memory", Size="0", MemoryBlockID="MemBlock_0")
    children = ET.SubElement(top, "Children")
    blocks = [_block("MemBlock_0", b"")]
    for i, one in enumerate(series, start=1):
        children.append(_element(one, f"MemBlock_{i}", i))
        blocks.append(_block(f"MemBlock_{i}", one.stored().tobytes()))
    xml = ET.tostring(root, encoding="unicode")
    header = struct.pack("<IIBI", 0x70, 2 * len(xml) + 5, 0x2A, len(xml))
    path.write_bytes(header + xml.encode("utf-16-le") + b"".join(blocks))
    return path
