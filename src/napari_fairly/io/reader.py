"""npe2 reader: raw acquisitions as one lazy image layer per channel.

``get_reader`` claims only what the core can open (suffix and first bytes agree, or an
OME-Zarr folder) and never raises, so napari can offer another plugin. Once claimed, a
broken file raises UnreadableFileError with a message naming the file and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_fairly.core.errors import UnreadableFileError

if TYPE_CHECKING:
    from napari_fairly.core.reading import Acquisition

LayerData = tuple[Any, dict[str, Any], str]
ReaderFunction = Callable[[Any], list[LayerData]]


def can_read(path: Path) -> bool:
    """Cheap check (suffix, first bytes, zarr metadata); never raises, no pixels."""
    from napari_fairly.core.reading import _SUFFIXES, detect_format

    try:
        if path.is_dir():
            return detect_format(path) == "ome-zarr"
        if path.suffix.lower() not in _SUFFIXES:
            return False
        return detect_format(path) in {"czi", "nd2", "lif", "dv", "tiff"}
    except (UnreadableFileError, OSError, ValueError):
        return False


def get_reader(path: str | list[str]) -> ReaderFunction | None:
    """npe2 ``get_reader``: a reader function when every path is ours, else None."""
    paths = [path] if isinstance(path, str) else list(path)
    if not paths:
        return None
    try:
        ok = all(can_read(Path(p)) for p in paths)
    except Exception:  # a reader hook must never raise
        return None
    return read_layers if ok else None


def acquisition_layers(acq: Acquisition) -> list[LayerData]:
    """One ``(data, add_image kwargs, "image")`` tuple per channel of an open scene."""
    from napari_fairly.core.display import channel_layer_specs

    layers: list[LayerData] = []
    for spec in channel_layer_specs(acq):
        data = spec.pop("data")
        layers.append((data, spec, "image"))
    return layers


def read_layers(path: str | list[str]) -> list[LayerData]:
    """Open each path (first scene) and return one image layer per channel."""
    from napari_fairly.core.reading import open_acquisition

    paths = [path] if isinstance(path, str) else list(path)
    layers: list[LayerData] = []
    for p in paths:
        layers += acquisition_layers(open_acquisition(p))
    return layers
