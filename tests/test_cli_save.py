"""``fairly save`` and ``fairly verify`` on the command line, and a killed save."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, naming_form
from napari_fairly.cli import main
from napari_fairly.core.checksums import sha256_file
from napari_fairly.core.form import form_to_json
from napari_fairly.core.reading import open_acquisition

RAW = DATA / "dv/toxo.dv"
NAME = "2024-01-15_TNT_Toxo_ALebon_Controle_RAW_v01"


def write_form(raw: Path, path: Path) -> Path:
    """A complete form made for ``raw``, written as JSON to ``path``."""
    path.write_text(form_to_json(naming_form(open_acquisition(raw), "Toxo")))
    return path


@pytest.fixture
def form_json(tmp_path: Path) -> Path:
    return write_form(RAW, tmp_path / "form.json")


def _save(form_json: Path, out: Path, *extra: str, raw: Path = RAW) -> int:
    return main(["save", str(raw), "--form", str(form_json), "--out", str(out), *extra])


def test_save_then_verify(
    form_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = _save(form_json, out, "--ngff", "0.5", "--copy-raw")
    captured = capsys.readouterr()
    folder = out / NAME
    side = json.loads((folder / f"{NAME}.json").read_text())
    assert code == 0 and not side["qc"]["failed"]
    assert side["source"]["scene_number"] == 1 and side["source"]["scene"] == 0
    assert f"saved {folder}" in captured.out
    assert side["outputs"][0]["ngff_version"] == "0.5"
    assert (folder / "raw" / f"{NAME}.dv").read_bytes() == RAW.read_bytes()
    assert side["source"]["sha256"] == sha256_file(RAW)

    assert main(["verify", str(folder)]) == 0
    assert "OK" in capsys.readouterr().out

    # flip one byte of level 0 (one shard at 0.5): verify must say which file changed
    (chunk,) = [
        p for p in (folder / f"{NAME}.ome.zarr" / "0" / "c").rglob("*") if p.is_file()
    ]
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0x01
    chunk.write_bytes(bytes(data))
    assert main(["verify", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "verification FAILED" in err
    assert chunk.relative_to(folder).as_posix() in err


def test_existing_name_refused_or_bumped(
    form_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _save(form_json, out) == 0
    assert _save(form_json, out, "--on-exists", "refuse") == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "v02" in err
    assert sorted(p.name for p in out.iterdir()) == [NAME]
    assert _save(form_json, out) == 0
    assert sorted(p.name for p in out.iterdir()) == [NAME, NAME.replace("v01", "v02")]


def test_bad_form_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _save(tmp_path / "missing.json", tmp_path / "out")
    assert code == 2
    assert "form cannot be read" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def _big_ome_tiff(path: Path) -> None:
    """A ~200 MB noisy 16-bit OME-TIFF, so the save lasts long enough to be killed."""
    import tifffile

    rng = np.random.default_rng(3)
    planes = (
        rng.integers(0, 4000, (1024, 1024), dtype=np.uint16) for _ in range(2 * 48)
    )
    tifffile.imwrite(
        path,
        planes,
        shape=(2, 48, 1024, 1024),
        dtype=np.uint16,
        ome=True,
        metadata={"axes": "CZYX", "PhysicalSizeX": 0.1, "PhysicalSizeY": 0.1},
    )


def test_sigkill_mid_write_leaves_only_a_partial_that_the_next_save_reports(
    form_json: Path, tmp_path: Path
) -> None:
    big = tmp_path / "big.ome.tif"
    _big_ome_tiff(big)
    before = (sha256_file(big), big.stat().st_mtime_ns)
    big_form = write_form(big, tmp_path / "big-form.json")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "napari_fairly.cli", "save", str(big)]
    command += ["--form", str(big_form), "--out", str(out), "--accept-qc-failures"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        chunks: list[Path] = []
        while time.monotonic() < deadline and process.poll() is None:
            partials = list(out.glob(f".{NAME}.partial-*")) if out.is_dir() else []
            if partials:
                chunks = [
                    p
                    for p in (partials[0] / f"{NAME}.ome.zarr").rglob("*")
                    if p.is_file()
                ]
                if len(chunks) > 10:
                    break
            time.sleep(0.05)
        assert process.poll() is None, "the save ended before it could be killed"
        assert len(chunks) > 10
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    entries = sorted(p.name for p in out.iterdir())
    assert len(entries) == 1 and entries[0].startswith(f".{NAME}.partial-")
    assert not (out / NAME).exists()
    leftover = out / entries[0]
    leftover_files = sorted(p for p in leftover.rglob("*"))

    # the next save reports the leftover, leaves it alone, and takes the next version
    run = subprocess.run(
        [*command[:4], str(RAW), "--form", str(form_json), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "interrupted save" in run.stderr and leftover.name in run.stderr
    assert "remove it once checked" in run.stderr  # the advice for that kind of note
    assert sorted(p for p in leftover.rglob("*")) == leftover_files
    assert (out / NAME.replace("v01", "v02")).is_dir()
    assert (sha256_file(big), big.stat().st_mtime_ns) == before


def test_labels_file_gives_objects_csv(form_json: Path, tmp_path: Path) -> None:
    import pandas as pd
    import tifffile

    acq = open_acquisition(RAW)
    size_z, size_y, size_x = acq.data.shape[2:]
    labels = np.zeros((size_z, size_y, size_x), np.uint16)
    labels[4:8, 10:20, 10:20] = 3  # 4 × 10 × 10 voxels
    labels_path = tmp_path / "labels.tif"
    tifffile.imwrite(labels_path, labels)
    out = tmp_path / "out"
    assert _save(form_json, out, "--labels", str(labels_path)) == 0
    objects = pd.read_csv(out / NAME / f"{NAME}_objects.csv")
    assert objects["label"].tolist() == [3]
    meta = acq.metadata
    voxel = (
        meta.pixel_size_x_um.value
        * meta.pixel_size_y_um.value
        * meta.pixel_size_z_um.value
    )
    assert objects["volume_um3"].iloc[0] == pytest.approx(400 * voxel)
    assert objects["centroid_z_um"].iloc[0] == pytest.approx(
        5.5 * meta.pixel_size_z_um.value
    )
    assert main(["verify", str(out / NAME)]) == 0
