"""npe2 writer: File › Save Layers… from a headless viewer, through the save gate.

The viewer is napari's ``ViewerModel`` (no window): the layers are opened with our
reader, the session they hold is changed as the panels would change it, and
``viewer.layers.save(..., plugin="napari-fairly")`` runs the writer the way the Save
Layers dialog does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from conftest import DATA, naming_form
from napari_fairly.core.errors import QcNotAcceptedError
from napari_fairly.core.export import verify_dataset
from napari_fairly.core.session import Session
from napari_fairly.io.writer import SaveRefusedError

RAW = DATA / "nd2/example-multichannel.nd2"  # 4 channels; 3 fail lateral Nyquist


@pytest.fixture(scope="module")
def plugins() -> None:
    """npe2 knows the installed plugins (napari's own viewer does this at start)."""
    import npe2

    npe2.PluginManager.instance().discover()


@pytest.fixture
def viewer(plugins: None) -> Any:
    from napari.components import ViewerModel

    model = ViewerModel()
    layers = model.open(str(RAW), plugin="napari-fairly")
    assert len(layers) == 4
    return model


def _session(viewer: Any) -> Session:
    session = viewer.layers[0].metadata["fairly_session"]
    assert isinstance(session, Session)
    return session


def _nothing_in(folder: Path) -> bool:
    return not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()]


def test_without_a_complete_form_nothing_is_written(
    viewer: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with pytest.raises(SaveRefusedError) as refused:
        viewer.layers.save(str(out), plugin="napari-fairly")
    text = str(refused.value)
    assert "the form is not ready to save" in text
    assert "naming.project" in text and "study.title" in text  # field by field
    assert _nothing_in(out)


def test_failed_checks_need_the_operators_acceptance(
    viewer: Any, tmp_path: Path
) -> None:
    session = _session(viewer)
    session.set_form(naming_form(session.source, "Cells"))
    out = tmp_path / "out"
    with pytest.raises(QcNotAcceptedError, match="nyquist_x"):
        viewer.layers.save(str(out), plugin="napari-fairly")
    assert _nothing_in(out)
    # the checks ran in the save and are kept: the operator accepts them
    assert session.report is not None and session.report.failed
    session.accept_failures("A. Lebon")
    (folder,) = viewer.layers.save(str(out), plugin="napari-fairly")
    side = json.loads((Path(folder) / f"{Path(folder).name}.json").read_text())
    assert side["qc_acceptance"]["by"] == "A. Lebon"
    assert verify_dataset(folder).ok


def test_the_viewers_session_and_labels_layer_are_what_is_saved(
    viewer: Any, tmp_path: Path
) -> None:
    from ome_types import from_xml

    session = _session(viewer)
    session.set_form(naming_form(session.source, "Cells"))
    # a correction in the FAIR form panel: what the save writes
    session.set_fields({"image_acquisition.objective_na": 0.8})
    labels = np.zeros((256, 256), np.int32)
    labels[40:80, 100:150] = 3
    viewer.add_labels(labels, name="nuclei")
    # only one channel layer selected with the labels: the whole acquisition is saved
    viewer.layers.selection = {viewer.layers[1], viewer.layers["nuclei"]}
    out = tmp_path / "out"
    with pytest.raises(QcNotAcceptedError):
        viewer.layers.save(str(out), selected=True, plugin="napari-fairly")
    session.accept_failures("A. Lebon")
    (folder,) = viewer.layers.save(str(out), selected=True, plugin="napari-fairly")
    folder = Path(folder)
    assert folder.parent == out  # the path is the destination folder
    assert folder.name == "2025-04-17_TNT_Cells_ALebon_Controle_RAW_v01"  # the form
    zarr_path = folder / f"{folder.name}.ome.zarr"
    image = zarr.open_group(str(zarr_path), mode="r")
    assert image["0"].shape == (4, 256, 256)
    np.testing.assert_array_equal(image["labels/nuclei/0"][...], labels)
    ome = from_xml((zarr_path / "OME" / "METADATA.ome.xml").read_bytes())
    (objective,) = ome.instruments[0].objectives
    assert objective.lens_na == 0.8
    assert (folder / f"{folder.name}_objects.csv").is_file()
    assert verify_dataset(folder).ok


def test_layers_not_opened_by_napari_fairly_are_refused(
    viewer: Any, tmp_path: Path
) -> None:
    viewer.add_image(np.zeros((8, 8), np.uint8), name="scratch")
    viewer.layers.selection = {viewer.layers["scratch"]}
    with pytest.raises(SaveRefusedError, match="'scratch' was not opened"):
        viewer.layers.save(str(tmp_path / "out"), selected=True, plugin="napari-fairly")
    assert _nothing_in(tmp_path / "out")


def test_npe2_write_api_with_layer_data(plugins: None, tmp_path: Path) -> None:
    """The writer as npe2 calls it: layer data tuples, no viewer."""
    import npe2

    from napari_fairly.io.reader import read_layers

    layers = read_layers(str(DATA / "dv/toxo.dv"))
    session = layers[0][1]["metadata"]["fairly_session"]
    session.set_form(naming_form(session.source, "Toxo"))
    for _ in session.run_qc_steps():
        pass
    if session.report is not None and session.report.failed:
        session.accept_failures("A. Lebon")
    written = npe2.write(str(tmp_path / "out"), layers, plugin_name="napari-fairly")
    (folder,) = written
    assert verify_dataset(folder).ok
    with pytest.raises(SaveRefusedError, match="a file"):
        target = tmp_path / "a-file"
        target.write_text("")
        npe2.write(str(target), layers, plugin_name="napari-fairly")
