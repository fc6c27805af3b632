"""The one interface every format reader implements, and how a file's format is found.

A format family is recognised by its file's first bytes (its signature) and its
extensions, as nd2's ``_readers/protocol.py`` does: :func:`format_for_content` and
:func:`format_for_suffix` pick it, and ``reading.detect_format`` requires both to
agree. What recognises a family is declared here, in :data:`FORMATS`, so that choosing
one imports nothing: each family's :class:`FormatReader` is defined at the end of its
own module, which is imported when a file of that family is read. Opening a TIFF
imports the TIFF module alone, not the six others (several milliseconds each on a
first open, far more without cached bytecode).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from napari_fairly.core.formats._common import SceneData


class FormatReader(ABC):
    """Reads the files of one format family (CZI, ND2, LIF…): their scenes, and one
    scene's lazy pixels and metadata."""

    @abstractmethod
    def scene_names(self, path: Path) -> list[str]:
        """The scenes (series, positions, tiles) of the file, in file order."""

    @abstractmethod
    def open_scene(self, path: Path, scene: int | str | None) -> SceneData:
        """One scene's lazy pixels and metadata (index from 0, a name, or the first)."""


@dataclass(frozen=True)
class Format:
    """A format family: how its files are recognised, and where its reader is."""

    name: str  # "czi", the format family named in the metadata
    label: str  # "Zeiss CZI", for people
    reader_class: str  # "czi.CziFormat": module of this package, FormatReader class
    suffixes: tuple[str, ...] = ()  # lower case, with the dot
    signatures: tuple[bytes, ...] = ()  # the file's bytes at ``offset`` start so
    offset: int = 0
    folder_files: tuple[str, ...] = ()  # a folder holding one is one acquisition

    def claims(self, head: bytes) -> bool:
        """True when ``head`` (the file's first 128 bytes) carries this signature."""
        return any(head[self.offset :].startswith(s) for s in self.signatures)

    def claims_folder(self, path: Path) -> bool:
        """True when the folder ``path`` is one acquisition of this format."""
        return any((path / name).is_file() for name in self.folder_files)

    def reader(self) -> FormatReader:
        """This family's reader; its module is imported on the first call."""
        return _reader(self.reader_class)


# most specific first: the generic bioio reader, which claims nothing, last
FORMATS: tuple[Format, ...] = (
    Format("czi", "Zeiss CZI", "czi.CziFormat", (".czi",), signatures=(b"ZISRAWFILE",)),
    Format(
        "nd2",
        "Nikon ND2",
        "nd2.Nd2Reader",
        (".nd2",),
        # ND2 chunk magic (current files), JPEG 2000 signature (legacy files)
        signatures=(b"\xda\xce\xbe\x0a", b"\x00\x00\x00\x0c"),
    ),
    Format(
        "lif",
        "Leica LIF",
        "lif.LifReader",
        (".lif",),
        signatures=(b"\x70\x00\x00\x00",),  # memory-block test value 0x70
    ),
    Format(
        "dv",
        "DeltaVision",
        "dv.DvReader",
        (".dv", ".r3d"),
        signatures=(b"\xa0\xc0", b"\xc0\xa0"),  # MRC magic 0xC0A0, either byte order
        offset=96,
    ),
    Format(
        "tiff",
        "TIFF",
        "tiff.TiffReader",
        (".tif", ".tiff", ".tf2", ".tf8", ".btf"),
        # classic and BigTIFF headers, either byte order
        signatures=(b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ),
    Format(
        "ome-zarr",
        "OME-Zarr",
        "omezarr.OmeZarrReader",
        # a Zarr group: Zarr v3, Zarr v2
        folder_files=("zarr.json", ".zattrs"),
    ),
    Format("bioio", "bioio-readable image", "generic.BioioReader"),
)

# variants a reader tells apart within its family (``SceneData.format``)
_VARIANT_LABELS = {"ome-tiff": "OME-TIFF", "imagej-tiff": "ImageJ TIFF"}


@cache
def _reader(reader_class: str) -> FormatReader:
    module, _, name = reader_class.rpartition(".")
    cls = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    reader = cls()
    if not isinstance(reader, FormatReader):
        raise TypeError(f"{reader_class} is not a FormatReader")
    return reader


def format_named(name: str) -> Format:
    """The format family ``name``; KeyError if there is none."""
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(name)


def reader_named(name: str) -> FormatReader:
    """The reader of format family ``name``; KeyError if there is none."""
    return format_named(name).reader()


def format_for_content(head: bytes) -> Format | None:
    """The family whose signature ``head`` carries, or None."""
    return next((f for f in FORMATS if f.claims(head)), None)


def format_for_suffix(suffix: str) -> Format | None:
    """The family of files named ``*<suffix>``, or None."""
    suffix = suffix.lower()
    return next((f for f in FORMATS if suffix in f.suffixes), None)


def format_for_folder(path: Path) -> Format | None:
    """The family of the folder ``path`` (an OME-Zarr), or None."""
    return next((f for f in FORMATS if f.claims_folder(path)), None)


def known_suffixes() -> frozenset[str]:
    """Every extension a family claims."""
    return frozenset(s for f in FORMATS for s in f.suffixes)


def format_label(name: str) -> str:
    """``"Zeiss CZI"`` for ``"czi"``; names no family or variant has pass as is."""
    if name in _VARIANT_LABELS:
        return _VARIANT_LABELS[name]
    return next((f.label for f in FORMATS if f.name == name), name)
