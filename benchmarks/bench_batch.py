"""Benchmark: ``fairly batch`` on 1 vs 2 local workers, and against a plain loop.

Generates 16 16-bit OME-TIFF acquisitions (blobs over Poisson noise; by default 2
channels x 24 z x 512 x 512, 25 MB each) and saves all of them three ways, each into
a fresh destination:

* ``loop``: the saves one after another in this process, the way a script would call
  the core (open, session with the same form values, ``save_steps``); each save
  uses every core for its own pixel pass, as ``fairly save`` does;
* ``batch-1``: ``run_batch`` on a LocalCluster of 1 worker process (1 task at a
  time, the save with both cores);
* ``batch-2``: ``run_batch`` on 2 worker processes (2 saves at a time, one core each).

The batch times include everything a user waits for: planning (every file opened
and its form built), starting the workers (processes that import the core) and the
state file and report; the run-only time (planning excluded) is printed beside it.
The loop's imports and kernels are warmed first (``preload``); the workers warm
their own, which is part of the batch's overhead.

Usage: ``python benchmarks/bench_batch.py [--files 16 --size 512 --z 24
--channels 2] [--keep DIR]``.
Goals (2 cores): batch-2 >= 1.5x batch-1's throughput; best batch <= 1.3x the loop.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

VALUES = {
    "naming.project": "BENCH",
    "naming.creator": "ALebon",
    "naming.condition": "Ctl",
    "naming.date": "2024-01-15",
    "study.title": "Batch benchmark",
    "study.publisher": "Benchmark facility",
    "study.authors": "A. Lebon",
    "biosample.organism": "Homo sapiens",
    "biosample.biological_entity": "cultured cells",
    "study_component.imaging_method": "fluorescence microscopy",
    "image_acquisition.instrument": "Benchmark microscope",
    "image_acquisition.acquisition_datetime": "2024-01-15T10:00:00+01:00",
}
PATTERN = r"(?P<sample>[A-Za-z0-9]+)\."


def generate(folder: Path, files: int, channels: int, size_z: int, size: int) -> None:
    """``files`` OME-TIFFs with blobs over Poisson noise (different seeds)."""
    import tifffile

    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:size, 0:size]
    for n in range(files):
        rng = np.random.default_rng(n)
        blobs = np.zeros((size, size), np.float32)
        for _ in range(30):
            cy, cx = rng.integers(0, size, 2)
            radius = rng.integers(4, 20)
            blobs += np.exp(
                -((yy - cy) ** 2 + (xx - cx) ** 2) / (2.0 * radius**2)
            ).astype(np.float32)
        data = np.empty((channels, size_z, size, size), np.uint16)
        for c in range(channels):
            for z in range(size_z):
                weight = np.exp(-(((z - size_z / 2) / (size_z / 3)) ** 2))
                data[c, z] = rng.poisson(100.0 + 600.0 * (c + 1) * weight * blobs)
        tifffile.imwrite(
            folder / f"Acq{n:02d}.ome.tif",
            data,
            ome=True,
            metadata={
                "axes": "CZYX",
                "PhysicalSizeX": 0.065,
                "PhysicalSizeY": 0.065,
                "PhysicalSizeZ": 0.2,
            },
        )


def run_loop(sources: list[Path], out: Path) -> float:
    """The same saves, one after another, in this process."""
    from napari_fairly.core.batch import plan_batch
    from napari_fairly.core.batch.items import item_session
    from napari_fairly.core.export import SaveRequest, save_steps
    from napari_fairly.core.progress import drive
    from napari_fairly.core.reading import open_acquisition

    plan = plan_batch(sources, out, values=VALUES, name_pattern=PATTERN)
    plan.check()
    clock = time.perf_counter()
    for item in plan.items:
        with open_acquisition(item.source, item.scene) as acquisition:
            session = item_session(acquisition, item, None)
            request = SaveRequest(
                sessions=(session,), destination=out, accept_qc_failures_by="bench"
            )
            drive(save_steps(request))
    return time.perf_counter() - clock


def run_batch_timed(
    sources: list[Path], out: Path, workers: int
) -> tuple[float, float]:
    """(total, run-only) seconds of ``run_batch`` on ``workers`` local processes."""
    from napari_fairly.core.batch import (
        batch_settings,
        plan_batch,
        run_batch_steps,
    )
    from napari_fairly.core.progress import drive

    clock = time.perf_counter()
    plan = plan_batch(sources, out, values=VALUES, name_pattern=PATTERN)
    planned = time.perf_counter()
    settings = batch_settings(plan.destination, None, accept_qc_failures_by="bench")
    result = drive(run_batch_steps(plan, settings, workers=workers))  # type: ignore[arg-type]
    done = time.perf_counter()
    failed = [r for r in result.results if not r.ok]
    assert not failed, failed[0].error
    return done - clock, done - planned


def _measure(name: str, sources: list[Path], out: Path) -> tuple[float, float]:
    """(total, without planning) seconds of one way of saving ``sources``."""
    shutil.rmtree(out, ignore_errors=True)
    if name == "loop":
        seconds = run_loop(sources, out)
        return seconds, seconds
    return run_batch_timed(sources, out, int(name[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--z", type=int, default=24)
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds (the median is reported)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep")
    args = parser.parse_args()

    from napari_fairly.core.export import preload

    root = args.keep or Path(tempfile.mkdtemp(prefix="fairly-bench-batch-"))
    src = root / "src"
    names = ("loop", "batch-1", "batch-2")
    try:
        if not src.is_dir():
            generate(src, args.files, args.channels, args.z, args.size)
        sources = sorted(src.glob("*.ome.tif"))
        raw_mb = sum(p.stat().st_size for p in sources) / 1e6
        print(f"{len(sources)} acquisitions, {raw_mb:.0f} MB in {src}")
        print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
        preload()
        rounds: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
        for number in range(args.repeat):  # interleaved: a busy spell hits all three
            for name in names:
                total, run = _measure(name, sources, root / f"out-{name}")
                rounds[name].append((total, run))
                print(f"  round {number + 1} {name:8s} {total:6.1f} s")
        times = {n: statistics.median(t for t, _r in rounds[n]) for n in names}
        run_only = {n: statistics.median(r for _t, r in rounds[n]) for n in names}
        print(f"medians of {args.repeat} round(s):")
        for name in names:
            rate = len(sources) / times[name]
            print(
                f"{name:8s} {times[name]:6.1f} s  ({run_only[name]:5.1f} s without "
                f"planning)  {rate:5.2f} items/s  {raw_mb / times[name]:6.1f} MB/s"
            )
        best = min(times["batch-1"], times["batch-2"])
        print(f"2 workers vs 1: {times['batch-1'] / times['batch-2']:.2f}x throughput")
        print(f"batch-1 / loop: {times['batch-1'] / times['loop']:.2f}x time")
        print(f"batch-2 / loop: {times['batch-2'] / times['loop']:.2f}x time")
        print(f"best batch / loop: {best / times['loop']:.2f}x time (overhead)")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
