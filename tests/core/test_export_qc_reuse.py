"""The save's quality checks use the planes it already read, with the same results.

The save keeps the planes SNR needs as they pass through the writer, so the checks
read nothing from the raw file again; the verdicts and values must not change.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from conftest import naming_form, save_request
from napari_fairly.core import demo
from napari_fairly.core.export import save_steps
from napari_fairly.core.progress import drive
from napari_fairly.core.qc import run_qc
from napari_fairly.core.reading import open_acquisition

if TYPE_CHECKING:
    import pytest


def test_save_qc_equals_standalone_qc_without_rereading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = demo.write_demo_acquisition(tmp_path / "raw.ome.tif", size_z=6, size_yx=128)
    standalone = run_qc(open_acquisition(raw))

    acq = open_acquisition(raw)
    form = naming_form(acq, "Demo")
    reads_after_writer: list[tuple[int, int, int]] = []
    writing = {"done": False}
    original = type(acq).read_plane

    def counting_read_plane(self, t=0, c=0, z=0):  # type: ignore[no-untyped-def]
        if writing["done"]:
            reads_after_writer.append((t, c, z))
        return original(self, t, c, z)

    monkeypatch.setattr(type(acq), "read_plane", counting_read_plane)
    job = save_steps(save_request((acq,), form, tmp_path))

    def on_progress(step) -> None:  # type: ignore[no-untyped-def]
        if "quality checks" in step.step:
            writing["done"] = True

    result = drive(job, on_progress)
    saved = result.datasets[0].qc_report
    assert writing["done"]
    assert reads_after_writer == []
    assert [r.model_dump() for r in saved.rows] == [
        r.model_dump() for r in standalone.rows
    ]
