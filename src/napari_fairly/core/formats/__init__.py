"""One module per format family; each turns a raw file into a :class:`SceneData`.

``base.FORMATS`` declares each family (name, extensions, signature) and the
:class:`~napari_fairly.core.formats.base.FormatReader` at the end of its module, which
offers ``scene_names(path) -> list[str]`` and ``open_scene(path, scene) -> SceneData``;
a module is imported when a file of its family is read. Pixels are lazy dask arrays in
TCZYX (TCZYXS for RGB); metadata values are
:class:`~napari_fairly.core.model.Sourced`, typed by ``_common.SceneFields`` and read
with the library that reads them right (see ``../shared/data/README.md`` for the
reader bugs each module works around). ``ome`` reads OME-XML for the OME-TIFF,
OME-Zarr and bioio modules; ``_common`` holds what they share.
"""
