"""Open real files through the dock widgets; a corrupt file is a notification."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import DATA
from napari_fairly.widgets import _common
from napari_fairly.widgets.metadata_widget import MetadataWidget
from napari_fairly.widgets.open_widget import OpenAcquisitionWidget


@pytest.fixture
def errors_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(
        _common, "show_error", lambda message: shown.append(str(message))
    )
    return shown


def _open(
    widget: OpenAcquisitionWidget, qtbot, path: Path, scene: int | None = None
) -> None:
    with qtbot.waitSignal(widget.openFinished, timeout=60_000):
        assert widget.open_path(path, scene) is not None


def test_open_multichannel_file_adds_one_scaled_layer_per_channel(
    make_napari_viewer, qtbot
) -> None:
    viewer = make_napari_viewer()
    widget = OpenAcquisitionWidget(viewer)
    qtbot.addWidget(widget)
    _open(widget, qtbot, DATA / "nd2" / "example-multichannel.nd2")
    assert [layer.name for layer in viewer.layers] == [
        "Mono",
        "DAPI",
        "FITC BP",
        "TRITC BP",
    ]
    for layer in viewer.layers:
        assert layer.scale[-1] == pytest.approx(0.3234, rel=1e-3)
        assert layer.scale[-2] == pytest.approx(0.3234, rel=1e-3)
        assert (
            layer.metadata["fairly_session"]
            is viewer.layers[0].metadata["fairly_session"]
        )
        low, high = layer.contrast_limits
        assert high > low


def test_open_zstack_keeps_axial_scale(make_napari_viewer, qtbot) -> None:
    viewer = make_napari_viewer()
    widget = OpenAcquisitionWidget(viewer)
    qtbot.addWidget(widget)
    _open(widget, qtbot, DATA / "dv" / "toxo.dv")
    assert len(viewer.layers) == 2
    layer = viewer.layers[0]
    assert layer.data.shape[-3:] == (17, 128, 128)
    assert tuple(layer.scale[-3:]) == pytest.approx((0.3, 0.1326, 0.1326), rel=2e-3)


def test_scene_picker_lists_scenes_and_opens_the_chosen_one(
    make_napari_viewer, qtbot
) -> None:
    viewer = make_napari_viewer()
    widget = OpenAcquisitionWidget(viewer)
    qtbot.addWidget(widget)
    path = DATA / "czi" / "S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"
    widget.setValue(path)
    assert widget._scene_combo.count() == 3
    assert widget._scene_combo.itemText(0).startswith("1: ")  # numbered from 1
    assert widget.status() == f"3 scenes in {path.name}."
    with qtbot.waitSignal(widget.sessionOpened, timeout=60_000) as opened:
        widget.open_path(path, scene=2)
    session = viewer.layers[0].metadata["fairly_session"]
    assert opened.args == [session]
    assert session.source.scene_index == 2
    assert widget._status_label.text().startswith(f"Opened {path.name}, scene 3 of 3:")
    assert viewer.layers[0].data.shape[-2:] == (237, 352)


def test_metadata_widget_follows_selection_and_flags_missing(
    make_napari_viewer, qtbot
) -> None:
    viewer = make_napari_viewer()
    opener = OpenAcquisitionWidget(viewer)
    metadata = MetadataWidget(viewer)
    qtbot.addWidget(opener)
    qtbot.addWidget(metadata)
    _open(opener, qtbot, DATA / "nd2" / "example-multichannel.nd2")
    viewer.layers.selection.active = viewer.layers[1]
    rows = metadata.rows()
    # plain names and readable sources; the raw path is in the tooltip
    assert rows["objective.na"][:2] == ("Numerical aperture (NA)", "0.75")
    assert rows["objective.na"][2].startswith("from the file: ND2 ")
    assert (
        metadata.item("objective.na")
        .toolTip(1)
        .endswith("nd2:metadata.channels[0].microscope.objectiveNumericalAperture")
    )
    assert rows["objective.magnification"][1].startswith("20")
    # single-plane ND2: the 1.0 µm Z default is not a z-step, and a single plane
    # has none: not applicable, which is not missing
    assert rows["pixel_size_z_um"][1] == "—"
    assert rows["pixel_size_z_um"][2] == (
        "not applicable: a single plane: there is no z-step"
    )
    # a missing value says what was looked for, and why it matters when selected
    assert rows["channels[0].excitation_wavelength_nm"][2].startswith(
        "missing (looked for: ND2 "
    )
    metadata.select("channels[0].excitation_wavelength_nm")
    assert "Why it matters: no excitation wavelength" in metadata.details()
    assert "24 values missing · 11 do not apply · 0 corrected" in metadata.title()
    # search narrows the tree, sources included
    metadata._search_edit.setText("ObjectiveNumerical")
    visible = [f for f in metadata.rows() if not metadata.item(f).isHidden()]
    assert visible == ["objective.na"]
    metadata._search_edit.setText("")
    # a correction shows as such, with the file's value
    session = viewer.layers[1].metadata["fairly_session"]
    assert metadata.value() is session
    session.set_fields({"image_acquisition.objective_na": "0.8"})
    rows = metadata.rows()
    assert rows["objective.na"][1] == "0.8"
    assert rows["objective.na"][2].startswith("corrected (file: 0.75")
    assert "1 corrected" in metadata.title()
    metadata._on_copy_clicked()
    from qtpy.QtGui import QGuiApplication

    assert '"objective"' in QGuiApplication.clipboard().text()


def test_open_corrupt_file_notifies_and_adds_nothing(
    make_napari_viewer, qtbot, tmp_path: Path, errors_shown: list[str]
) -> None:
    broken = tmp_path / "broken.nd2"
    broken.write_bytes((DATA / "nd2" / "example-zstack.nd2").read_bytes()[:4096])
    viewer = make_napari_viewer()
    widget = OpenAcquisitionWidget(viewer)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.openFinished, timeout=60_000):
        widget.open_path(broken)
    assert len(viewer.layers) == 0
    assert errors_shown, "the operator must be told"
    assert "broken.nd2" in errors_shown[-1]
