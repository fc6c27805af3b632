"""The one interface every format reader implements, and how one is chosen.

A reader is recognised by its file's first bytes (its signature) and its extensions,
as nd2's ``_readers/protocol.py`` does: :func:`reader_for_content` and
:func:`reader_for_suffix` pick it, and ``reading.detect_format`` requires both to
agree. Each format module defines one :class:`FormatReader` subclass; the heavy
libraries it needs are imported when a file is opened, not when it is chosen.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from napari_fairly.core.formats._common import SceneData


class FormatReader(ABC):
    """A family of files (CZI, ND2, LIF…): how to recognise it and read its scenes."""

    name: ClassVar[str]  # "czi", the format family named in the metadata
    label: ClassVar[str]  # "Zeiss CZI", for people
    suffixes: ClassVar[tuple[str, ...]] = ()  # lower case, with the dot

    @classmethod
    def claims(cls, head: bytes) -> bool:
        """True when ``head`` (the first 128 bytes) is this format's signature."""
        del head
        return False

    @classmethod
    def claims_folder(cls, path: Path) -> bool:
        """True when the folder ``path`` is one acquisition of this format."""
        del path
        return False

    @abstractmethod
    def scene_names(self, path: Path) -> list[str]:
        """The scenes (series, positions, tiles) of the file, in file order."""

    @abstractmethod
    def open_scene(self, path: Path, scene: int | str | None) -> SceneData:
        """One scene's lazy pixels and metadata (index from 0, a name, or the first)."""


@cache
def readers() -> tuple[FormatReader, ...]:
    """Every format reader, most specific first (the generic bioio reader last)."""
    from napari_fairly.core.formats.czi import CziFormat
    from napari_fairly.core.formats.dv import DvReader
    from napari_fairly.core.formats.generic import BioioReader
    from napari_fairly.core.formats.lif import LifReader
    from napari_fairly.core.formats.nd2 import Nd2Reader
    from napari_fairly.core.formats.omezarr import OmeZarrReader
    from napari_fairly.core.formats.tiff import TiffReader

    return (
        CziFormat(),
        Nd2Reader(),
        LifReader(),
        DvReader(),
        TiffReader(),
        OmeZarrReader(),
        BioioReader(),
    )


def reader_named(name: str) -> FormatReader:
    """The reader of format family ``name``; KeyError if there is none."""
    for reader in readers():
        if reader.name == name:
            return reader
    raise KeyError(name)


def reader_for_content(head: bytes) -> FormatReader | None:
    """The reader whose signature ``head`` carries, or None."""
    return next((r for r in readers() if r.claims(head)), None)


def reader_for_suffix(suffix: str) -> FormatReader | None:
    """The reader of files named ``*<suffix>``, or None."""
    suffix = suffix.lower()
    return next((r for r in readers() if suffix in r.suffixes), None)


def reader_for_folder(path: Path) -> FormatReader | None:
    """The reader of the folder ``path`` (an OME-Zarr), or None."""
    return next((r for r in readers() if r.claims_folder(path)), None)


def known_suffixes() -> frozenset[str]:
    """Every extension a reader claims."""
    return frozenset(s for r in readers() for s in r.suffixes)


def format_label(name: str) -> str:
    """``"Zeiss CZI"`` for ``"czi"``; variants named by a reader's scenes pass as is."""
    labels = {
        "ome-tiff": "OME-TIFF",
        "imagej-tiff": "ImageJ TIFF",
        **{r.name: r.label for r in readers()},
    }
    return labels.get(name, name)
