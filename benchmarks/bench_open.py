"""Benchmark: open-to-first-plane time and peak RSS, ours vs tifffile directly.

Generates a ~2 GB 16-bit OME-TIFF (plane per page, 2 channels x 128 z x 2048 x 2048 by
default) in ``--workdir`` (default: a temporary folder, deleted afterwards). Then, each
in its own subprocess so memory is measured per tool:

* ``ours``: ``open_acquisition(path)`` (OME-XML parsed into the metadata model, IFD
  chain checked for damage, lazy dask pixels) and ``acq.data[0, 0, 0].compute()``;
* ``tifffile``: ``TiffFile(path).pages[0].asarray()``, the same plane read directly;
* ``tifffile-series``: ``TiffFile(path).series[0].asarray(key=0)``, the same plane
  through tifffile's OME series (which walks every IFD), for context.

Imports happen before the clock starts (both sides), and are timed apart. Peak RSS is
the child's ``ru_maxrss``, cross-checked by polling the child with psutil.
Goals: ours within 2x of tifffile, ours under 300 MB peak RSS.

Usage: ``python benchmarks/bench_open.py [--workdir DIR] [--size 2048 --z 128
--channels 2] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
mode, path = sys.argv[1], sys.argv[2]
if mode == "ours":
    from napari_fairly.core.reading import open_acquisition
    import napari_fairly.core.formats.tiff, ome_types, tifffile, dask.array  # reader
    from dask.base import get_scheduler
    get_scheduler()  # dask imports its scheduler (and distributed) on first use
else:
    import tifffile

def first_plane():
    if mode == "ours":
        acq = open_acquisition(path)
        return acq.data[0, 0, 0].compute()
    with tifffile.TiffFile(path) as tf:
        if mode == "tifffile":
            return tf.pages[0].asarray()
        return tf.series[0].asarray(key=0)  # through the OME series, as readers must

t1 = time.perf_counter()
plane = first_plane()
t2 = time.perf_counter()
plane = first_plane()  # warm: one-time set-up (schema caches, thread pool) is paid
t3 = time.perf_counter()
print(json.dumps({
    "import_s": t1 - t0,
    "open_to_first_plane_s": t2 - t1,
    "warm_open_to_first_plane_s": t3 - t2,
    "plane_shape": list(plane.shape),
    "plane_sum": int(plane.astype("uint64").sum()),
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def generate(path: Path, channels: int, size_z: int, size: int) -> None:
    """A 16-bit OME-TIFF with full physical metadata, written plane by plane."""
    import tifffile

    rng = np.random.default_rng(0)
    base = rng.poisson(200.0, (size, size)).astype(np.uint16)

    def planes():  # bounded memory: one plane at a time
        for c in range(channels):
            for z in range(size_z):
                yield base + np.uint16(c * 1000 + z)

    with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tif:
        tif.write(
            planes(),
            shape=(channels, size_z, size, size),
            dtype=np.uint16,
            metadata={
                "axes": "CZYX",
                "PhysicalSizeX": 0.065,
                "PhysicalSizeY": 0.065,
                "PhysicalSizeZ": 0.2,
                "Channel": {"Name": [f"ch{c}" for c in range(channels)]},
            },
        )


def run(mode: str, path: Path) -> dict[str, float]:
    """One measurement in a fresh interpreter; psutil polls its RSS meanwhile."""
    import psutil

    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watched = psutil.Process(proc.pid)
    polled = 0
    while proc.poll() is None:
        try:
            polled = max(polled, watched.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.005)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} failed: {err}")
    result = json.loads(out)
    result["polled_rss_mb"] = polled / 2**20
    return result


def main() -> None:
    """Generate, measure both tools ``--repeat`` times, print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--z", type=int, default=128)
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="fairly-bench-open-", dir=args.workdir))
    try:
        path = workdir / "bench.ome.tif"
        t = time.perf_counter()
        generate(path, args.channels, args.z, args.size)
        size_gb = path.stat().st_size / 1e9
        took = time.perf_counter() - t
        print(f"generated {path.name}: {size_gb:.2f} GB in {took:.1f} s")
        modes = ("ours", "tifffile", "tifffile-series")
        results: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
        for _ in range(args.repeat):
            for mode in results:
                results[mode].append(run(mode, path))
        assert results["ours"][0]["plane_sum"] == results["tifffile"][0]["plane_sum"]
        summary = {}
        for mode, runs in results.items():
            summary[mode] = {
                key: float(np.median([r[key] for r in runs]))
                for key in (
                    "import_s",
                    "open_to_first_plane_s",
                    "warm_open_to_first_plane_s",
                    "maxrss_mb",
                    "polled_rss_mb",
                )
            }
            s = summary[mode]
            cold_ms = s["open_to_first_plane_s"] * 1000
            warm_ms = s["warm_open_to_first_plane_s"] * 1000
            print(
                f"{mode:15s} open→first plane {cold_ms:7.1f} ms "
                f"(warm {warm_ms:6.1f} ms)   "
                f"imports {s['import_s']:.2f} s   peak RSS {s['maxrss_mb']:.0f} MB "
                f"(polled {s['polled_rss_mb']:.0f} MB)"
            )
        for key, label in (
            ("open_to_first_plane_s", "first open in a fresh process"),
            ("warm_open_to_first_plane_s", "second open (warm)"),
        ):
            ratio = summary["ours"][key] / summary["tifffile"][key]
            ratio_series = summary["ours"][key] / summary["tifffile-series"][key]
            print(
                f"ratio ours/tifffile, {label}: {ratio:.2f}x (goal <= 2x); "
                f"vs tifffile-series {ratio_series:.2f}x"
            )
        print(f"nproc {os.cpu_count()}")
        print(
            f"ours peak RSS {summary['ours']['maxrss_mb']:.0f} MB (goal < 300 MB): "
            + ("ok" if summary["ours"]["maxrss_mb"] < 300 else "over")
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
