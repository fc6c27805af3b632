"""Benchmark: open-to-first-plane time and peak RSS, ours vs tifffile directly.

Generates a ~2 GB 16-bit OME-TIFF (plane per page, 2 channels x 128 z x 2048 x 2048 by
default) in ``--workdir`` (default: a temporary folder, deleted afterwards). Then, each
in its own subprocess so memory is measured per tool:

* ``ours``: ``with open_acquisition(path) as acq: np.asarray(acq.data[0, 0, 0])``:
  the OME-XML read into the sourced metadata model, the IFD chain checked for damage,
  the plane-to-IFD map taken from the OME TiffData, lazy dask pixels, then the first
  plane as napari asks for it (``np.asarray`` of a dask slice). ``acq.data`` is a
  ``PlaneArray``: one whole plane is read from its page in the calling thread;
* ``ours-graph``: the same, but ``acq.data[0, 0, 0].compute(scheduler="threads")``:
  the plane through dask's graph and its default threaded scheduler, as any other
  selection (and any dask array of another reader) is computed, for context;
* ``ours-plane``: the same open, then ``acq.read_plane(0, 0, 0)``: the plane straight
  from its TIFF page (how the plugin samples contrast limits on open);
* ``tifffile``: ``TiffFile(path).pages[0].asarray()``, the same plane read directly;
* ``tifffile-imread``: ``tifffile.imread(path, key=0)``, how a user reads "the first
  plane" with tifffile. Without ``series=`` tifffile applies ``key`` to the file's
  pages, so this is the direct page read plus ``imread``'s own set-up;
* ``tifffile-series``: ``TiffFile(path).series[0].asarray(key=0)``, the same plane
  through tifffile's OME series (which parses every IFD), for context;
* ``tifffile-dask``: the direct page read wrapped in a one-chunk dask array and
  computed, for context: what dask alone adds (scheduler, thread pool, and the copy
  dask makes of a single-chunk result) for any reader that hands out dask arrays.

Imports happen before the clock starts (both sides), and are timed apart. Each child
times a first open (cold: one-time set-up such as dask's thread pool is paid) and a
second one (warm); the report gives the median and the best over ``--repeat`` children
(tools interleaved, so a busy machine slows all alike) and the ratios of ours to each
tifffile baseline. Peak RSS is the child's ``ru_maxrss``,
cross-checked by polling the child with psutil.
Goals: ours within 2x of tifffile, ours under 300 MB peak RSS.

Usage: ``python benchmarks/bench_open.py [--workdir DIR] [--size 2048 --z 128
--channels 2] [--repeat 11]``.
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
import tifffile
if mode in ("ours", "ours-graph", "ours-plane", "tifffile-dask"):
    import dask.array, numpy
    from dask.base import get_scheduler
    get_scheduler()  # dask imports its scheduler (and distributed) on first use
if mode.startswith("ours"):
    from napari_fairly.core.reading import open_acquisition
    import napari_fairly.core.formats.tiff  # the TIFF reader, imported on first open
opened = []

def first_plane():
    if mode.startswith("ours"):
        start = time.perf_counter()
        with open_acquisition(path) as acq:
            opened.append(time.perf_counter() - start)
            if mode == "ours-plane":
                return acq.read_plane(0, 0, 0)
            if mode == "ours-graph":
                return acq.data[0, 0, 0].compute(scheduler="threads")
            return numpy.asarray(acq.data[0, 0, 0])  # what napari calls
    if mode == "tifffile-imread":
        return tifffile.imread(path, key=0)
    with tifffile.TiffFile(path) as tf:
        if mode == "tifffile":
            return tf.pages[0].asarray()
        if mode == "tifffile-dask":  # the floor of any reader that hands out dask
            page = tf.pages[0]
            plane = dask.array.map_blocks(
                lambda block_id=None: page.asarray(),
                chunks=tuple((n,) for n in page.shape),
                dtype=page.dtype,
                meta=numpy.empty((0, 0), page.dtype),
                name="plane",
            )
            return plane.compute()
        return tf.series[0].asarray(key=0)  # through the OME series

t1 = time.perf_counter()
plane = first_plane()
t2 = time.perf_counter()
plane = first_plane()  # warm: one-time set-up (schema caches, thread pool) is paid
t3 = time.perf_counter()
print(json.dumps({
    "import_s": t1 - t0,
    "open_to_first_plane_s": t2 - t1,
    "warm_open_to_first_plane_s": t3 - t2,
    "open_s": opened[0] if opened else float("nan"),
    "warm_open_s": opened[1] if opened else float("nan"),
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
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="fairly-bench-open-", dir=args.workdir))
    try:
        path = workdir / "bench.ome.tif"
        t = time.perf_counter()
        generate(path, args.channels, args.z, args.size)
        size_gb = path.stat().st_size / 1e9
        took = time.perf_counter() - t
        print(f"generated {path.name}: {size_gb:.2f} GB in {took:.1f} s")
        modes = (
            "ours",
            "ours-graph",
            "ours-plane",
            "tifffile",
            "tifffile-imread",
            "tifffile-series",
            "tifffile-dask",
        )
        results: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
        for _ in range(args.repeat):
            for mode in results:
                results[mode].append(run(mode, path))
        sums = {m: r[0]["plane_sum"] for m, r in results.items()}
        if len(set(sums.values())) != 1:
            raise RuntimeError(f"the tools read different first planes: {sums}")
        summary = {}
        for mode, runs in results.items():
            summary[mode] = {
                key: float(np.median([r[key] for r in runs]))
                for key in (
                    "import_s",
                    "open_to_first_plane_s",
                    "warm_open_to_first_plane_s",
                    "open_s",
                    "warm_open_s",
                    "maxrss_mb",
                    "polled_rss_mb",
                )
            }
            for key in ("open_to_first_plane_s", "warm_open_to_first_plane_s"):
                summary[mode]["best_" + key] = min(r[key] for r in runs)
            s = summary[mode]
            cold_ms = s["open_to_first_plane_s"] * 1000
            warm_ms = s["warm_open_to_first_plane_s"] * 1000
            best_ms = s["best_open_to_first_plane_s"] * 1000
            print(
                f"{mode:15s} open→first plane {cold_ms:6.1f} ms (best {best_ms:5.1f}, "
                f"warm {warm_ms:5.1f})   imports {s['import_s']:.2f} s   "
                f"peak RSS {s['maxrss_mb']:.0f} MB (polled {s['polled_rss_mb']:.0f} MB)"
            )
        ours = summary["ours"]
        print(
            f"ours: open_acquisition alone {ours['open_s'] * 1000:.1f} ms "
            f"(warm {ours['warm_open_s'] * 1000:.1f} ms); the rest is the plane read"
        )
        for key, label in (
            ("open_to_first_plane_s", "first open in a fresh process, medians"),
            ("best_open_to_first_plane_s", "first open in a fresh process, best"),
            ("warm_open_to_first_plane_s", "second open (warm), medians"),
        ):
            for mine in ("ours", "ours-graph", "ours-plane"):
                ratio = {b: summary[mine][key] / summary[b][key] for b in modes[3:]}
                print(
                    f"ratio {mine}/tifffile, {label}: "
                    f"vs tifffile {ratio['tifffile']:.2f}x, "
                    f"vs tifffile-imread {ratio['tifffile-imread']:.2f}x "
                    "(goal <= 2x); context: "
                    f"vs tifffile-series {ratio['tifffile-series']:.2f}x, "
                    f"vs tifffile-dask {ratio['tifffile-dask']:.2f}x"
                )
        print(
            f"nproc {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}), "
            f"load average {os.getloadavg()[0]:.2f}, {args.repeat} children per tool"
        )
        for mine in ("ours", "ours-graph", "ours-plane"):
            rss = summary[mine]["maxrss_mb"]
            print(
                f"{mine} peak RSS {rss:.0f} MB (goal < 300 MB): "
                + ("ok" if rss < 300 else "over")
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
