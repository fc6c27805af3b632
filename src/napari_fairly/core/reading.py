"""Open raw acquisitions lazily, read-only, exactly as the instrument wrote them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dask.array as da
    import ome_types

    from napari_fairly.core.metadata import AcquisitionMetadata


@dataclass(frozen=True)
class Acquisition:
    """One scene of a raw file: lazy pixels, typed metadata, and the file's own metadata.

    ``data`` is a dask array whose axes are named by ``dims``: always ``"TCZYX"``, or
    ``"TCZYXS"`` for RGB(A) samples. Nothing is read from disk until it is computed.
    """

    path: Path
    scene_index: int
    scene_names: tuple[str, ...]
    data: da.Array
    dims: str
    metadata: AcquisitionMetadata
    ome_xml: str | None = None  # full OME-XML, as the file or the reader states it
    vendor_metadata: Any = None  # the vendor's raw metadata (dict, XML text), kept whole
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def ome(self) -> ome_types.OME | None:
        """The OME model parsed from ``ome_xml`` (None when the file has none)."""
        raise NotImplementedError
