"""One module per format family; each turns a raw file into a :class:`SceneData`.

Every module offers ``scene_names(path) -> list[str]`` and
``open_scene(path, index) -> SceneData``. Pixels are lazy dask arrays in TCZYX (TCZYXS
for RGB); metadata values are :class:`~napari_fairly.core.model.Sourced`, read with the
library that reads them right (see ``../shared/data/README.md`` for the reader bugs
each module works around).
"""
