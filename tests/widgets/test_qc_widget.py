"""Quality checks widget: run, cancel mid-way, inputs, saturated overlay scale."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
from widget_helpers import write_demo

from napari_fairly.core.metadata import AcquisitionMetadata
from napari_fairly.core.model import Sourced
from napari_fairly.core.qc import stats as stats_module
from napari_fairly.core.reading import Acquisition
from napari_fairly.core.session import Session
from napari_fairly.io.reader import read_layers
from napari_fairly.widgets.qc_widget import QualityChecksWidget

PZ = "image_acquisition.pixel_size_z_um"
NA = "image_acquisition.objective_na"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo(tmp_path_factory)


def add_demo(viewer, demo_file: Path) -> list:
    layers = [
        viewer.add_image(data, **kwargs)
        for data, kwargs, _ in read_layers(str(demo_file))
    ]
    viewer.layers.selection.active = layers[0]
    return layers


def run_to_end(widget: QualityChecksWidget, qtbot) -> None:
    worker = widget.run()
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass


def test_run_fills_traffic_light_table_and_histogram(
    make_napari_viewer, qtbot, demo_file: Path
) -> None:
    viewer = make_napari_viewer()
    add_demo(viewer, demo_file)
    widget = QualityChecksWidget(viewer)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.reportReady, timeout=120_000):
        widget.run()
    qtbot.waitUntil(lambda: widget.worker() is None, timeout=10_000)
    report = widget.report()
    assert report is not None and report.failed
    assert report is widget.session().report  # kept in the session
    assert widget.session().qc_runs == 1
    rows = widget.table_rows()
    results = widget.shown_results()
    # failed checks first, in words; the codes stay in the report
    assert [r.severity.value for r in results[:4]] == ["error"] * 4
    assert rows[0] == ("Z sampling", "1 DAPI", "500 / ≤ 246 nm", "undersampled")
    assert {r.check for r in results[:3]} == {"nyquist_z"}
    saturation = [  # channels are numbered from 1, as everywhere
        row
        for row, r in zip(rows, results, strict=True)
        if r.check == "saturation" and r.channel == 2
    ]
    # one unit in a row: fractions of the pixels, not a fraction against 4095
    assert saturation == [("Saturation", "3 mCherry", "0.62 / ≤ 0.1 %", "clipped")]
    widget.select_row(3)
    details = widget.details()
    assert details.startswith("Saturation: pixels at the ceiling — channel 3 mCherry")
    assert "clipped — the values at the ceiling are not measurements" in details
    assert "4095 (12 bits)" in details  # the ceiling, in the message
    assert "What to do: reduce exposure, laser power or gain" in details
    assert "Why it matters: A pixel at the detector's ceiling" in details
    snr = [
        row
        for row, r in zip(rows, results, strict=True)
        if r.check == "snr" and r.channel == 2
    ]
    assert snr and all(row[3] == "unreliable" for row in snr)  # not "good"
    assert "clipped_invalid" not in str(rows) and "not_checked" not in str(rows)
    widget._channel_combo.setCurrentIndex(2)
    assert widget._histogram.ceiling() == 4095
    assert widget._histogram.ceiling_text() == "ceiling 4095"
    widget._histogram.grab()  # paints without error
    assert widget._saturated_button.isEnabled()


def test_inputs_are_corrections_and_change_the_verdict(
    make_napari_viewer, qtbot, demo_file: Path
) -> None:
    viewer = make_napari_viewer()
    add_demo(viewer, demo_file)
    widget = QualityChecksWidget(viewer)
    qtbot.addWidget(widget)
    session = widget.session()
    pz = widget.correction_editor(PZ)
    assert pz.placeholderText() == "0.5"
    assert widget.state(PZ) == "from the file"
    assert widget.state("image_acquisition.refractive_index") == "from the file"
    pz.setText("0.2")
    assert widget.state(PZ) == "corrected (file: 0.5 µm)"
    assert session.form.corrections.get(PZ).value == 0.2  # the session's correction
    run_to_end(widget, qtbot)
    assert {r.verdict for r in widget.shown_results() if r.check == "nyquist_z"} == {
        "adequate"
    }
    assert {r[3] for r in widget.table_rows() if r[0] == "Z sampling"} == {"adequate"}
    report = widget.report()
    assert (
        report is not None and report.inputs.pixel_size_z_um.status.value == "operator"
    )
    # another value: the report no longer applies and is no longer shown
    widget._immersion_combo.setCurrentText("water")  # shown in words
    assert session.form.corrections.get("image_acquisition.immersion").value == "Water"
    assert widget.state("image_acquisition.immersion") == "corrected (file: Oil)"
    assert widget.report() is None and widget.table_rows() == []
    widget._modality_combo.setCurrentText("confocal (point scanning)")
    mode = session.metadata.channels[0].acquisition_mode
    assert mode.value == "LaserScanningConfocalMicroscopy" and mode.original.value
    widget._modality_combo.setCurrentIndex(0)  # (from file)
    assert session.form.corrections.get("image_acquisition.modality") is None
    widget.correction_editor(NA).setText("abc")
    assert "not a number" in widget.input_error()
    assert widget.run() is None  # refused with the message, nothing started


def test_qc_parameters_belong_to_the_session_and_messages_follow_the_language(
    make_napari_viewer, qtbot, demo_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = make_napari_viewer()
    add_demo(viewer, demo_file)
    widget = QualityChecksWidget(viewer)
    qtbot.addWidget(widget)
    session = widget.session()
    assert session.language == "en"  # the language texts are shown in
    widget.parameter_editor("gain").setText("2")
    widget.parameter_editor("offset").setText("100")
    assert session.parameters.gain_e_per_adu == 2.0
    assert session.parameters.offset_adu == 100.0
    assert session.form.corrections.values == {}  # not acquisition metadata
    widget.parameter_editor("binning").setText("0")
    assert "binning" in widget.input_error()
    assert session.parameters.binning is None
    widget.parameter_editor("binning").setText("")
    assert widget.input_error() == ""
    run_to_end(widget, qtbot)
    report = widget.report()
    assert report is not None and report.language == "en"
    assert report.inputs.gain_e_per_adu.value == 2.0
    nyquist_z = next(r for r in report.rows if r.check == "nyquist_z")
    assert "undersampled" in nyquist_z.message
    assert nyquist_z.verdict == "undersampled"  # a code: never translated
    monkeypatch.setenv("FAIRLY_LANG", "fr")
    session.set_language("fr")
    assert widget.report() is None  # messages in another language: run again
    run_to_end(widget, qtbot)
    report = widget.report()
    assert report is not None and report.language == "fr"
    nyquist_z = next(r for r in report.rows if r.check == "nyquist_z")
    assert nyquist_z.verdict == "undersampled"
    assert "sous-échantillonné" in nyquist_z.message
    assert widget.table_rows()[0] == (
        "Échant. Z",
        "1 DAPI",
        "500 / ≤ 246 nm",
        "insuffisant",
    )


def big_acquisition() -> Acquisition:
    pixels = da.random.default_rng(0).integers(
        0, 4000, (1, 1, 120, 256, 256), dtype=np.uint16, chunks=(1, 1, 1, 256, 256)
    )
    meta = AcquisitionMetadata(
        source_path="synthetic",
        size_bytes=int(pixels.nbytes),
        format="test",
        reader="test",
        shape={"T": 1, "C": 1, "Z": 120, "Y": 256, "X": 256},
        dtype="uint16",
        pixel_size_x_um=Sourced.found(0.1, "t"),
        pixel_size_y_um=Sourced.found(0.1, "t"),
        pixel_size_z_um=Sourced.found(0.3, "t"),
    )
    return Acquisition(Path("synthetic.tif"), 0, ("0",), pixels, "TCZYX", meta)


def test_cancel_mid_way_leaves_no_stale_state(
    make_napari_viewer, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        stats_module, "BLOCK_BYTES", 256 * 256 * 2
    )  # one plane per block
    viewer = make_napari_viewer()
    acq = big_acquisition()
    layer = viewer.add_image(
        acq.data[0, 0],
        metadata={"fairly_session": Session(acq), "fairly_channel": 0},
    )
    viewer.layers.selection.active = layer
    widget = QualityChecksWidget(viewer)
    qtbot.addWidget(widget)
    seen = []

    def cancel_once(progress) -> None:
        seen.append(progress)
        if progress.done > 0 and len(seen) == 2:
            widget.cancel()

    worker = widget.run()
    worker.yielded.connect(cancel_once)
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    assert seen[-1].done < seen[-1].total  # stopped before the end
    assert widget.report() is None and widget.session().qc_runs == 0
    assert widget.table_rows() == []
    assert widget._run_button.isEnabled() and not widget._cancel_button.isEnabled()
    assert widget.status().startswith("Cancelled")
    assert not widget._saturated_button.isEnabled()
    # a new run after the cancel completes normally
    run_to_end(widget, qtbot)
    report = widget.report()
    assert report is not None and report.pixel_statistics.complete


def test_saturated_overlay_at_the_image_scale(
    make_napari_viewer, qtbot, demo_file: Path
) -> None:
    viewer = make_napari_viewer()
    images = add_demo(viewer, demo_file)
    widget = QualityChecksWidget(viewer)
    qtbot.addWidget(widget)
    run_to_end(widget, qtbot)
    added = widget.show_saturated_pixels()
    assert [layer.name for layer in added] == [
        f"saturated: {images[2].name}"
    ]  # mCherry only
    labels = added[0]
    assert tuple(labels.scale) == pytest.approx(tuple(images[2].scale))
    assert tuple(labels.scale) == pytest.approx((0.5, 0.08, 0.08))
    assert labels.data.shape == images[2].data.shape
    stats = widget.report().pixel_statistics
    worst = max(stats.channel_planes(2), key=lambda p: p.count_at_ceiling)
    assert int(np.asarray(labels.data[worst.z]).sum()) == worst.count_at_ceiling > 0


def test_unreadable_pixels_show_the_error_not_a_cancel(
    make_napari_viewer, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from napari_fairly.core.errors import UnreadableFileError
    from napari_fairly.widgets import _common

    shown: list[str] = []
    monkeypatch.setattr(
        _common, "show_error", lambda message: shown.append(str(message))
    )

    def broken(block: np.ndarray) -> np.ndarray:
        raise UnreadableFileError("pixels cannot be read.", fix="Copy it again.")

    acq = big_acquisition()
    acq = Acquisition(
        acq.path,
        0,
        ("0",),
        acq.data.map_blocks(broken, dtype=np.uint16),
        "TCZYX",
        acq.metadata,
    )
    viewer = make_napari_viewer()
    layer = viewer.add_image(
        np.zeros((4, 4)), metadata={"fairly_session": Session(acq), "fairly_channel": 0}
    )
    viewer.layers.selection.active = layer
    widget = QualityChecksWidget(viewer)
    qtbot.addWidget(widget)
    run_to_end(widget, qtbot)
    assert widget.report() is None and widget.table_rows() == []
    assert "pixels cannot be read" in widget.status()
    assert shown and "Copy it again" in shown[0]
