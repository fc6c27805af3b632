"""Any other format a bioio plugin reads; metadata from its OME model, if any.

The model is read through the OME-XML it writes (``ome.fields_from_ome_xml``), the
same way as an OME-TIFF's; its values are not checked against the vendor's reader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.formats import _bioio
from napari_fairly.core.formats._common import SceneData, SceneFields, resolve_scene
from napari_fairly.core.formats.base import FormatReader
from napari_fairly.core.formats.ome import fields_from_ome_xml, parse_ome_xml


def _image(path: Path) -> Any:
    from bioio import BioImage
    from bioio_base.exceptions import UnsupportedFileFormatError

    try:
        return BioImage(str(path))
    except UnsupportedFileFormatError as err:
        raise UnreadableFileError(
            f"the format {path.suffix or '(no extension)'!r} is not supported.",
            fix="Supported: CZI, ND2, LIF, DV, OME-TIFF, TIFF and OME-Zarr; export the "
            "acquisition to OME-TIFF from the vendor's software.",
            path=path,
        ) from err


def scene_names(path: Path) -> list[str]:
    """The scenes bioio lists."""
    return [str(s) for s in _image(path).scenes]


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read one scene through whichever bioio plugin claims the file."""
    image = _image(path)
    names = [str(s) for s in image.scenes]
    index = resolve_scene(names, scene, path)
    data = _bioio.scene_pixels(image, index, path)
    plugin = type(image.reader).__module__.split(".")[0]
    notes = [
        f"read with {plugin}; values come from its OME model, not checked "
        "against the vendor's reader."
    ]
    fields: SceneFields = {}
    ome_xml = None
    try:
        ome = image.ome_metadata
    except NotImplementedError:
        ome = None
    if ome is not None and len(ome.images) > index:
        ome_xml = ome.to_xml()
        fields = fields_from_ome_xml(parse_ome_xml(ome_xml), index)
    return SceneData(
        data=data,
        scene_names=tuple(names),
        fields=fields,
        reader=_bioio.plugin_version(plugin),
        notes=notes,
        ome_xml=ome_xml,
        vendor_metadata=image.metadata
        if isinstance(image.metadata, (dict, str))
        else None,
        scene_index=index,
    )


class BioioReader(FormatReader):
    """bioio-readable image files."""

    def scene_names(self, path: Path) -> list[str]:
        """See :meth:`FormatReader.scene_names`."""
        return scene_names(path)

    def open_scene(self, path: Path, scene: int | str | None) -> SceneData:
        """See :meth:`FormatReader.open_scene`."""
        return open_scene(path, scene)
