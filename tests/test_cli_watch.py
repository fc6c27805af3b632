"""``fairly watch`` as a facility runs it: a process stopped with Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from batch_helpers import UNDATED, VALUES, dataset_folders, set_args, write_ome_tiff
from napari_fairly.core.batch.watch import LOG_FILE


def _wait_for(path: Path, text: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if path.is_file() and text in path.read_text(encoding="utf-8"):
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never logged; exit code {process.poll()}")


def test_watch_saves_new_files_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    command = [sys.executable, "-m", "napari_fairly.cli", "watch", str(src)]
    command += ["--out", str(out), "--settle", "0.5", "--workers", "1"]
    command += ["--accept-qc-failures"]
    command += ["--name-pattern", r"(?P<sample>[^_]+)_(?P<condition>[^_.]+)"]
    command += set_args({**VALUES, **UNDATED})
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    log = out / LOG_FILE
    try:
        _wait_for(log, "watching", process)
        write_ome_tiff(src / "Cells_Ctl.ome.tif", 1)
        _wait_for(log, "saved 2024-01-15_TNT_Cells_ALebon_Ctl_RAW_v01", process)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "1 saved, 0 not saved" in stdout
    text = log.read_text(encoding="utf-8")
    assert "Ctrl-C: stopping" in text and text.rstrip().endswith("stopped")
    assert "Traceback" not in stderr
    assert [f.name for f in dataset_folders(out)] == [
        "2024-01-15_TNT_Cells_ALebon_Ctl_RAW_v01"
    ]
    assert sorted(p.name for p in src.iterdir()) == ["Cells_Ctl.ome.tif"]
