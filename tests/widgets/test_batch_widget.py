"""The Batch dock widget: plan shown as a table, run with statuses, cancel, resume."""

from __future__ import annotations

import csv
from pathlib import Path

from batch_helpers import (
    UNDATED,
    VALUES,
    corrupt_czi,
    dataset_folders,
    partial_folders,
    write_ome_tiff,
)
from napari_fairly.widgets.batch_widget import BatchWidget


def _manifest(path: Path, files: list[Path]) -> Path:
    """Every required value per file, as a facility's spreadsheet would hold it."""
    columns = ["file", "sample", "condition", *VALUES, *UNDATED]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for n, file in enumerate(files):
            writer.writerow(
                [file.name, f"Cells{n}", "Ctl", *VALUES.values(), *UNDATED.values()]
            )
    return path


def _widget(make_napari_viewer, qtbot, tmp_path: Path, count: int):  # type: ignore[no-untyped-def]
    src = tmp_path / "src"
    files = [write_ome_tiff(src / f"acq{n}.ome.tif", n) for n in range(count)]
    widget = BatchWidget(make_napari_viewer())
    qtbot.addWidget(widget)
    widget.processes = False
    widget.addSources([src])
    widget.setManifest(_manifest(tmp_path / "manifest.csv", files))
    widget.setDestination(tmp_path / "out")
    widget.setAcceptance("Batch tester")
    return widget, files


def _wait(widget: BatchWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: widget.worker() is None, timeout=120_000)


def test_plan_run_and_plan_again(make_napari_viewer, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    widget, _files = _widget(make_napari_viewer, qtbot, tmp_path, 2)
    corrupt_czi(tmp_path / "src" / "broken.czi")
    widget.plan()
    _wait(widget, qtbot)
    assert widget.problems() == []
    rows = widget.rows()
    assert [r[0] for r in rows] == ["acq0.ome.tif", "acq1.ome.tif", "broken.czi"]
    assert rows[0][2] == "2024-01-15_TNT_Cells0_ALebon_Ctl_RAW_v01"
    assert rows[0][1] == "to save"
    assert rows[2][1].startswith("✗ cannot be read as Zeiss CZI")
    assert widget._run_button.isEnabled()

    with qtbot.waitSignal(widget.valueChanged, timeout=120_000) as done:
        widget.run()
    result = done.args[0]
    _wait(widget, qtbot)
    assert [r[1].split(":")[0] for r in widget.rows()] == ["saved", "saved", "failed"]
    assert len(dataset_folders(tmp_path / "out")) == 2
    assert result.summary() in widget.status()
    assert result.results[0].accepted_by in ("", "Batch tester")

    widget.plan()
    _wait(widget, qtbot)
    assert [r[1] for r in widget.rows()][:2] == ["already saved"] * 2


def test_problems_are_listed_and_run_stays_off(
    make_napari_viewer, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    widget, _files = _widget(make_napari_viewer, qtbot, tmp_path, 1)
    widget.setManifest(tmp_path / "missing.csv")
    widget.plan()
    _wait(widget, qtbot)
    assert "manifest cannot be read" in widget.status()
    (tmp_path / "m.csv").write_text("file,colour\nacq0.ome.tif,red\n")
    widget.setManifest(tmp_path / "m.csv")
    widget.plan()
    _wait(widget, qtbot)
    assert any("unknown column(s): colour" in p for p in widget.problems())
    assert widget._problems.isVisibleTo(widget)
    assert not widget._run_button.isEnabled()


def test_cancel_keeps_what_was_saved_and_run_goes_on(
    make_napari_viewer, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    widget, _files = _widget(make_napari_viewer, qtbot, tmp_path, 8)
    widget.plan()
    _wait(widget, qtbot)
    widget.run()
    qtbot.waitUntil(
        lambda: any(r[1].startswith("saved") for r in widget.rows()), timeout=120_000
    )
    widget.cancel()
    _wait(widget, qtbot)
    statuses = [r[1] for r in widget.rows()]
    assert "cancelled" in statuses and statuses.count("saved") < 8
    assert statuses.count("saved") + statuses.count("cancelled") == 8
    assert "Cancelled" in widget.status()
    out = tmp_path / "out"
    assert partial_folders(out) == []
    assert len(dataset_folders(out)) == statuses.count("saved")

    with qtbot.waitSignal(widget.valueChanged, timeout=120_000) as done:
        widget.run()
    _wait(widget, qtbot)
    again = [r.status.value for r in done.args[0].results]
    assert again.count("already_saved") == statuses.count("saved")
    assert again.count("saved") == 8 - statuses.count("saved")
    assert len(dataset_folders(out)) == 8
