"""Pixels (and scene names) through a bioio reader plugin, named explicitly."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_fairly.core.formats._common import guard, lib_version, to_tczyx

if TYPE_CHECKING:
    import dask.array as da


def open_image(path: Path, plugin: str) -> Any:
    """A ``bioio.BioImage`` read with ``plugin`` (e.g. ``"bioio_nd2"``), never another.

    Naming the plugin keeps bioio from trying every installed reader and logging each
    failure, and makes the reader recorded in the metadata the one actually used.
    """
    from bioio import BioImage

    module = importlib.import_module(f"{plugin}.reader")
    logging.getLogger("bioio").setLevel(logging.ERROR)
    return BioImage(str(path), reader=module.Reader)


def scene_pixels(image: Any, index: int, path: Path) -> da.Array:
    """Lazy TCZYX(S) pixels of scene ``index``, with guarded, one-at-a-time reads."""
    image.set_scene(index)
    order = image.dims.order
    data = image.get_image_dask_data(order)  # BioImage stitches mosaic tiles
    return guard(to_tczyx(data, order), path, serialize=True)


def plugin_version(plugin: str) -> str:
    """``"bioio-nd2 2.6.0"``."""
    return lib_version(plugin.replace("_", "-"))
