"""Benchmark: full QC of a ~1.5 GB 16-bit z-stack against a plain chunked read.

Writes an OME-TIFF (3 channels x 64 z x 2048 x 2048, uint16, one plane per page) in a
temporary folder, then runs, each in its own subprocess so that peak memory is its own:

* ``plain``: ``open_acquisition(path).data.sum().compute()`` (dask, threaded scheduler);
* ``qc``: ``run_qc(open_acquisition(path))`` (one pixel pass + SNR + every check).

Both runs are measured twice over: with the file in the page cache (read once
beforehand) and with the file evicted from it (``posix_fadvise(DONTNEED)`` on this
file only), as on an acquisition PC reading from disk. Modules are imported (and the
numba histogram kernel loaded from its cache) before the clock starts, for both runs
``distributed`` too, which dask imports at the first compute; each run is repeated and
the fastest kept (CPU seconds are printed as well: on a busy machine they vary less).
Goals (issue 4): QC time ≤ 1.3x the plain read, peak RSS of the QC run ≤ 512 MB.

Usage: ``python benchmarks/bench_qc.py [--workdir DIR] [--repeat 2] [--keep]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SHAPE_CZYX = (3, 64, 2048, 2048)
PIXEL_SIZE_UM = 0.1
Z_STEP_UM = 0.3
GOAL_RATIO = 1.3
GOAL_RSS_MB = 512


def write_stack(path: Path) -> Path:
    """Write the synthetic stack: noise, bright blobs, a few saturated pixels."""
    import numpy as np
    import tifffile

    size_c, size_z, size_y, size_x = SHAPE_CZYX
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size_y, :size_x]
    blobs = np.zeros((size_y, size_x), np.float32)
    for cy, cx in rng.uniform(0, size_y, (60, 2)):
        blobs += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 15.0**2)).astype(
            np.float32
        )
    del yy, xx

    def planes():
        for c in range(size_c):
            for z in range(size_z):
                weight = np.exp(-(((z - size_z / 2) / (size_z / 4)) ** 2))
                base = rng.integers(90, 130, (size_y, size_x), dtype=np.uint16)
                signal = (blobs * (800 + 1500 * c) * weight).astype(np.uint16)
                plane = base + signal
                if c == 2:
                    np.minimum(plane, 4095, out=plane)  # a 12-bit camera clips
                yield plane

    metadata = {
        "axes": "CZYX",
        "PhysicalSizeX": PIXEL_SIZE_UM,
        "PhysicalSizeY": PIXEL_SIZE_UM,
        "PhysicalSizeZ": Z_STEP_UM,
        "Channel": {"Name": ["DAPI", "EGFP", "mCherry"]},
    }
    tifffile.imwrite(
        path,
        planes(),
        shape=SHAPE_CZYX,
        dtype="uint16",
        ome=True,
        metadata=metadata,
        photometric="minisblack",
        bigtiff=True,
    )
    return path


class PeakRss:
    """Peak resident memory of this process, sampled every 5 ms with psutil."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def child(kind: str, path: Path) -> None:
    """One measured run; prints a JSON line with seconds and peak RSS.

    Modules are imported before the clock starts (as in a running napari session), so
    both runs time the work: opening the file and going through its pixels.
    """
    import psutil

    from napari_fairly.core.reading import open_acquisition

    # dask imports distributed at the first compute (to look for a client): not work
    with contextlib.suppress(ImportError):
        import distributed  # noqa: F401

    if kind == "qc":
        import numpy as np
        import scipy.ndimage
        import skimage.filters
        import skimage.morphology
        from skimage.filters import threshold_otsu  # a lazily loaded submodule

        from napari_fairly.core.qc import run_qc
        from napari_fairly.core.qc.snr import smooth
        from napari_fairly.core.qc.stats import exact_histogram

        # load the numba kernels from their on-disk cache (compiled once per machine),
        # as a napari session does at its first QC
        exact_histogram(np.zeros((2, 2), np.uint16), 0, 65536)
        smooth(np.zeros((2, 2), np.float32))
        del scipy, skimage, threshold_otsu
    baseline = psutil.Process().memory_info().rss
    with PeakRss() as rss:
        start, start_cpu = time.perf_counter(), time.process_time()
        acq = open_acquisition(path)
        if kind == "plain":
            total = int(acq.data.sum().compute())
            detail: dict[str, object] = {"sum": total}
        else:
            report = run_qc(acq, lang="en")
            detail = {
                "worst": report.worst_severity.value,
                "snr_planes": len(report.snr),
                "rows": len(report.rows),
            }
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - start_cpu
    result = {
        "kind": kind,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mb": rss.peak / 2**20,
        "rss_after_imports_mb": baseline / 2**20,
        **detail,
    }
    print(json.dumps(result))


def drop_from_page_cache(path: Path) -> None:
    """Evict this file (only) from the page cache, so the next read comes from disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def warm_page_cache(path: Path) -> None:
    """Read the whole file once so the next read comes from memory."""
    with open(path, "rb") as handle:
        while handle.read(64 << 20):
            pass


def measure(kind: str, path: Path, cold: bool) -> dict[str, object]:
    """Run one measurement in a fresh interpreter (file in or out of the page cache)."""
    if cold:
        drop_from_page_cache(path)
    else:
        warm_page_cache(path)
    run = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def report(results: dict[str, list[dict[str, object]]], label: str) -> None:
    """Print the fastest run of each kind, the ratio and memory against the goals."""
    plain = min(float(str(r["seconds"])) for r in results["plain"])
    qc = min(float(str(r["seconds"])) for r in results["qc"])
    rss = max(float(str(r["peak_rss_mb"])) for r in results["qc"])
    plain_rss = max(float(str(r["peak_rss_mb"])) for r in results["plain"])
    ratio = qc / plain
    verdict = "OK" if ratio <= GOAL_RATIO else "MISSED"
    print(f"-- {label}")
    print(f"plain dask sum : {plain:6.2f} s  peak RSS {plain_rss:6.0f} MB")
    print(f"full QC        : {qc:6.2f} s  peak RSS {rss:6.0f} MB")
    print(f"ratio QC/plain : {ratio:.2f} (goal ≤ {GOAL_RATIO}) {verdict}")
    verdict = "OK" if rss <= GOAL_RSS_MB else "MISSED"
    print(f"QC peak RSS    : {rss:.0f} MB (goal ≤ {GOAL_RSS_MB} MB) {verdict}")


def main() -> int:
    """Generate, measure, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--child", choices=("plain", "qc"), help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.path)
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="bench-qc-", dir=args.workdir))
    try:
        path = workdir / "bench_zstack.ome.tif"
        start = time.perf_counter()
        write_stack(path)
        size_gb = path.stat().st_size / 1e9
        took = time.perf_counter() - start
        print(f"wrote {path.name}: {size_gb:.2f} GB in {took:.1f} s")
        print(f"nproc {os.cpu_count()}, {size_gb:.2f} GB, shape CZYX {SHAPE_CZYX}")
        for cold in (False, True):
            results: dict[str, list[dict[str, object]]] = {"plain": [], "qc": []}
            for _ in range(args.repeat):
                for kind in ("plain", "qc"):
                    results[kind].append(measure(kind, path, cold))
                    print(json.dumps(results[kind][-1]))
            report(
                results, "cold (file read from disk)" if cold else "warm (page cache)"
            )
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
