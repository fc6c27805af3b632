"""A save larger than the memory it may use: ``fairly save`` inside a memory cgroup.

The limit is set with the cgroup v1 memory controller (``/sys/fs/cgroup/memory``, as
root): a child group gets ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes``
when the kernel accounts swap, so swapping cannot hide a leak), and the save process
joins it before it starts (its pid written to ``cgroup.procs``). Past the limit the
kernel's OOM killer ends the process with SIGKILL, so a save that holds the
acquisition in memory cannot pass. The page cache of the files read and written is
charged to the group too and reclaimed under the limit, as on a PC with little RAM.
Where the controller is missing or the tests do not run as root, the test is skipped,
except under CI (``CI`` set), where it must run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import naming_form
from napari_fairly.core.form import form_to_json
from napari_fairly.core.reading import open_acquisition

MEMORY_CGROUPS = Path("/sys/fs/cgroup/memory")
LIMIT = 512 * 2**20  # bytes the save may use, page cache included
SHAPE = (4, 34, 2048, 2048)  # C, Z, Y, X of 16-bit: 1.14 GB, over twice the limit


def _cgroup_unavailable() -> str | None:
    if not (MEMORY_CGROUPS / "cgroup.procs").exists():
        return f"no cgroup v1 memory controller at {MEMORY_CGROUPS}"
    if os.geteuid() != 0:
        return "setting a memory limit with cgroup v1 needs root"
    return None


@pytest.fixture
def memory_cgroup() -> Iterator[Path]:
    """A fresh memory cgroup limited to LIMIT bytes, removed afterwards."""
    reason = _cgroup_unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the memory-limit test must run in CI: {reason}")
        pytest.skip(reason)
    group = MEMORY_CGROUPS / f"fairly-test-{uuid.uuid4().hex[:8]}"
    group.mkdir()
    try:
        (group / "memory.limit_in_bytes").write_text(str(LIMIT))
        swap_limit = group / "memory.memsw.limit_in_bytes"
        if swap_limit.exists():
            swap_limit.write_text(str(LIMIT))
        yield group
    finally:
        for _ in range(50):  # the group empties once its last process is reaped
            try:
                group.rmdir()
                break
            except OSError:
                import time

                time.sleep(0.1)


def _acquisition(path: Path) -> None:
    """A 16-bit OME-TIFF over twice LIMIT: textured planes, each different."""
    import tifffile

    rng = np.random.default_rng(7)
    texture = rng.integers(0, 3000, (256, 2048), dtype=np.uint16)

    def planes() -> Iterator[np.ndarray]:
        for index in range(SHAPE[0] * SHAPE[1]):
            yield np.roll(np.tile(texture, (8, 1)), index * 37, axis=1) + index

    tifffile.imwrite(
        path,
        planes(),
        shape=SHAPE,
        dtype=np.uint16,
        ome=True,
        bigtiff=True,
        metadata={"axes": "CZYX", "PhysicalSizeX": 0.1, "PhysicalSizeY": 0.1},
    )


def _in_group(group: Path) -> None:
    (group / "cgroup.procs").write_text(str(os.getpid()))


def test_save_twice_the_allowed_memory_is_written_and_verified(
    memory_cgroup: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "big.ome.tif"
    _acquisition(raw)
    size = int(np.prod(SHAPE)) * 2
    assert size >= 2 * LIMIT
    form = tmp_path / "form.json"
    form.write_text(form_to_json(naming_form(open_acquisition(raw), "Big")))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "napari_fairly.cli", "save", str(raw)]
    command += ["--form", str(form), "--out", str(out), "--accept-qc-failures"]
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: _in_group(memory_cgroup),
    )
    peak = int((memory_cgroup / "memory.max_usage_in_bytes").read_text())
    oom = (memory_cgroup / "memory.oom_control").read_text()
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:], oom)
    assert peak <= LIMIT
    (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    sidecar = json.loads((folder / f"{folder.name}.json").read_text())
    shape = sidecar["acquisition"]["shape"]
    assert [shape[axis] for axis in "CZYX"] == list(SHAPE)
    verify = subprocess.run(
        [sys.executable, "-m", "napari_fairly.cli", "verify", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
