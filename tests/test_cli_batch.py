"""``fairly batch`` on real files, killed and resumed, and on a real Dask cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from batch_helpers import (
    REAL_FILES,
    UNDATED,
    VALUES,
    corrupt_czi,
    dataset_folders,
    partial_folders,
    set_args,
    write_ome_tiff,
)
from conftest import DATA, EXPECTED
from napari_fairly.cli import main
from napari_fairly.core.batch import STATE_FILE, read_report
from napari_fairly.core.batch.state import read_records
from napari_fairly.core.checksums import sha256_file
from napari_fairly.core.export import read_sidecar, verify_dataset

MANIFEST = (
    "file,sample,condition,naming.date,image_acquisition.instrument,"
    "image_acquisition.acquisition_datetime\n"
    "toxo.dv,Toxo,Ctl,2024-01-15,DeltaVision,2024-01-15T10:00:00+01:00\n"
    "example-zstack.nd2,Yeast,Heat,,,\n"
    "WellD6-7_S2.czi,Wells,Drug,,,\n"
)
NAMES = [
    "2023-01-06_TNT_Wells-s01_ALebon_Drug_RAW_v01",
    "2023-01-06_TNT_Wells-s02_ALebon_Drug_RAW_v01",
    "2024-01-15_TNT_Toxo_ALebon_Ctl_RAW_v01",
    "2025-03-07_TNT_Yeast_ALebon_Heat_RAW_v01",
]


def _batch_args(tmp_path: Path, *extra: str) -> list[str]:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(MANIFEST)
    broken = corrupt_czi(tmp_path / "incoming" / "broken.czi")
    sources = [str(p) for p in (*REAL_FILES, broken)]
    return [
        "batch",
        *sources,
        "--out",
        str(tmp_path / "out"),
        "--manifest",
        str(manifest),
        *set_args(VALUES),
        *extra,
    ]


def test_dry_run_prints_the_names_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_batch_args(tmp_path, "--dry-run")) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert f"{tmp_path / 'out' / name}" in out
    assert "broken.czi\n    ✗" in out and "cannot be read" in out
    assert "5 items into" in out
    assert not (tmp_path / "out").exists()

    # a plan with problems: listed on stderr, exit 1, nothing written
    args = _batch_args(tmp_path, "--dry-run", "--set", "colour=red")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "--set colour: unknown field" in err
    assert not (tmp_path / "out").exists()

    # a source that is not there is bad input: exit 2, the other problems listed too
    args = _batch_args(tmp_path, "--dry-run", "--set", "colour=red")
    args.insert(1, str(tmp_path / "nowhere"))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "the batch plan has 2 problems" in err, err
    assert f"{tmp_path / 'nowhere'}: no such file or folder" in err
    assert "--set colour: unknown field" in err
    assert not (tmp_path / "out").exists()


def test_watching_a_missing_folder_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["watch", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("fairly watch: the batch plan has 1 problem")
    assert "nowhere: not a folder to watch" in err


def test_real_files_and_a_corrupt_one_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every good scene saved and verified, the corrupt file reported, exit 4."""
    args = _batch_args(tmp_path, "--accept-qc-failures", "--operator", "QC Lead")
    args += ["--workers", "2"]
    assert main(args) == 4
    captured = capsys.readouterr()
    assert "saved: 4 · failed: 1" in captured.out
    assert "broken.czi: " in captured.out and "cannot be read" in captured.out
    out = tmp_path / "out"
    folders = dataset_folders(out)
    assert [f.name for f in folders] == NAMES
    for folder in folders:
        assert verify_dataset(folder).ok, folder
    assert partial_folders(out) == []
    yeast = read_sidecar(folders[3] / f"{NAMES[3]}.json")
    assert yeast.qc_acceptance is not None and yeast.qc_acceptance.by == "QC Lead"
    rows = {
        (Path(r["source"]).name, r["scene"]): r
        for r in read_report(out / "batch_report.csv")
    }
    assert len(rows) == 5
    broken = rows[("broken.czi", "")]
    assert (broken["status"], broken["error_kind"]) == ("failed", "unreadable")
    assert "cannot be read as Zeiss CZI" in broken["error"]
    for key in (("toxo.dv", "1"), ("WellD6-7_S2.czi", "2")):
        row = rows[key]
        assert row["status"] == "saved" and row["worker"].startswith("tcp://")
        assert float(row["total_s"]) > 0 and float(row["compression_ratio"]) > 0
        assert int(row["output_bytes"]) > int(row["zarr_bytes"]) > 0
        assert row["qc_verdict"] in ("passed", "warnings", "failed_accepted")
    # the raw files are untouched
    for raw in REAL_FILES:
        relative = raw.relative_to(DATA).as_posix()
        assert sha256_file(raw) == EXPECTED["files"][relative]["sha256"]

    # again: nothing saved twice, the corrupt file still reported
    assert main(args) == 4
    assert "already saved: 4 · failed: 1" in capsys.readouterr().out
    assert [f.name for f in dataset_folders(out)] == NAMES
    statuses = [r["status"] for r in read_report(out / "batch_report.csv")]
    assert sorted(statuses) == ["already_saved"] * 4 + ["failed"]


# ---------------------------------------------------------------- killed, resumed


def _big_sources(folder: Path, count: int) -> list[Path]:
    """OME-TIFFs large enough (≈8 MB) that a save lasts long enough to be killed."""
    return [
        write_ome_tiff(folder / f"Cells{n:02d}_Ctl.ome.tif", n, planes=16, size=512)
        for n in range(count)
    ]


def _finished(out: Path) -> int:
    return sum(1 for r in read_records(out / STATE_FILE) if r["event"] == "finished")


def test_sigkill_mid_batch_then_resume_does_each_item_once(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    sources = _big_sources(src, 6)
    command = [sys.executable, "-m", "napari_fairly.cli", "batch", str(src)]
    command += ["--out", str(out), "--workers", "1", "--accept-qc-failures"]
    command += ["--name-pattern", r"(?P<sample>[^_]+)_(?P<condition>[^_.]+)"]
    command += set_args({**VALUES, **UNDATED})
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its workers too: the whole batch is killed
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            if out.is_dir() and _finished(out) >= 2 and partial_folders(out):
                break
            time.sleep(0.02)
        assert process.poll() is None, "the batch ended before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    done_before = _finished(out)
    assert 2 <= done_before < 6 and partial_folders(out)

    run = subprocess.run(command, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    rows = read_report(out / "batch_report.csv")
    statuses = sorted(r["status"] for r in rows)
    assert statuses.count("already_saved") >= done_before  # not saved again
    assert statuses.count("already_saved") + statuses.count("saved") == 6
    folders = dataset_folders(out)
    assert len(folders) == 6 and all(f.name.endswith("_v01") for f in folders)
    sidecars = [read_sidecar(f / f"{f.name}.json").source for f in folders]
    made_from = sorted((s.file_name, s.size_bytes) for s in sidecars)
    assert made_from == sorted((p.name, p.stat().st_size) for p in sources)  # once each
    assert partial_folders(out) == []  # no partial output left
    for folder in folders:
        assert verify_dataset(folder).ok


# ---------------------------------------------------------------- a real cluster


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A ``dask scheduler`` and a ``dask worker``, separate processes on 127.0.0.1."""
    scheduler_file = tmp_path / "scheduler.json"
    dask = Path(sys.executable).with_name("dask")
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    command = [str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0"]
    command += ["--no-dashboard", "--scheduler-file", str(scheduler_file)]
    scheduler = subprocess.Popen(command, **common)  # type: ignore[call-overload]
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        command = [str(dask), "worker", address, "--name", "fairly-test-worker"]
        command += ["--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1"]
        command += ["--no-dashboard"]
        worker = subprocess.Popen(command, **common)  # type: ignore[call-overload]
        yield address
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def _worker_address(scheduler: str) -> str:
    from distributed import Client

    with Client(scheduler, timeout=30) as client:
        client.wait_for_workers(1, timeout=60)
        workers = client.scheduler_info()["workers"]
    [(address, info)] = workers.items()
    assert info["name"] == "fairly-test-worker"
    return str(address)


def test_batch_runs_on_a_running_scheduler_and_its_worker(
    dask_cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worker = _worker_address(dask_cluster)
    src = tmp_path / "src"
    for n in range(3):
        write_ome_tiff(src / f"Cells{n}_Ctl.ome.tif", n)
    args = ["batch", str(src), "--out", str(tmp_path / "out")]
    args += ["--scheduler", dask_cluster, "--accept-qc-failures"]
    args += ["--name-pattern", r"(?P<sample>[^_]+)_(?P<condition>[^_.]+)"]
    assert main(args + set_args({**VALUES, **UNDATED})) == 0
    captured = capsys.readouterr()
    assert f"1 worker(s) on {dask_cluster}" in captured.err
    rows = read_report(tmp_path / "out" / "batch_report.csv")
    assert [r["status"] for r in rows] == ["saved"] * 3
    assert {r["worker"] for r in rows} == {worker}  # ran in that worker process
    assert worker.startswith("tcp://127.0.0.1:")
