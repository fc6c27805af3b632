"""Benchmark: our save vs ``ome_zarr.writer.write_image`` vs the compression floor.

Generates a ~1.6 GB 16-bit OME-TIFF (3 channels, 64 z, 2048 x 2048) and, each in its own
subprocess so peak RSS is measured per tool:

* ``ours``: the full save (OME-Zarr 0.4 + pyramid + QC statistics + plane hashes +
  sidecar/CSV/RO-Crate + read-back verification), ``save_steps``;
* ``writer``: our OME-Zarr writer alone, feeding the QC statistics accumulator;
* ``ome_zarr``: ``ome_zarr.writer.write_image`` with default settings on the same dask
  array (what napari users get today);
* ``floor``: the same chunks (level 0 and the pyramid) compressed with the same codec
  (Blosc zstd 5, bit-shuffle) in a thread pool, nothing else: the compression-bound
  floor.

Every tool's imports happen before its clock starts (``zarr`` and ``ome_zarr`` for
ome-zarr-py; ``preload()`` for ours, which the Save widget runs when it opens), so the
times compare the work of a save, not the start-up of a session.

Usage: ``python benchmarks/bench_save.py [--size 2048 --z 64 --channels 3]
[--keep DIR] [--ngff 0.5]``. ``--ngff 0.5`` saves ours in NGFF 0.5 (Zarr v3 shards);
the files each save wrote, and their count per GB, are printed either way (inode
quotas count files).
Goals: ours >= 5x faster than ome_zarr, peak RSS <= 512 MB, ours <= 2x the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def generate(path: Path, channels: int, size_z: int, size: int) -> None:
    """A 16-bit OME-TIFF with blobs over a noisy background, written plane by plane."""
    import tifffile

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    blobs = np.zeros((size, size), np.float32)
    for _ in range(60):
        cy, cx = rng.integers(0, size, 2)
        radius = rng.integers(8, 40)
        blobs += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2.0 * radius**2)).astype(
            np.float32
        )
    del yy, xx

    def planes():
        for c in range(channels):
            for z in range(size_z):
                weight = np.float32(np.exp(-(((z - size_z / 2) / (size_z / 3)) ** 2)))
                signal = 100.0 + (800.0 * (c + 1)) * weight * blobs
                noisy = rng.poisson(signal).astype(np.uint16)
                yield noisy

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


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU time of this process (all threads): robust to other load on the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _report(start: float, cpu_start: float, **extra: float) -> None:
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - start,
                "cpu_seconds": _cpu_s() - cpu_start,
                "peak_rss_mb": _peak_rss_mb(),
                **extra,
            }
        )
    )


def run_ours(source: Path, out: Path, ngff: str = "0.4") -> None:
    import datetime as dt

    from napari_fairly.core.export import SaveRequest, preload, save_steps
    from napari_fairly.core.progress import drive
    from napari_fairly.core.reading import open_acquisition
    from napari_fairly.core.session import Session

    acq = open_acquisition(source)
    session = Session(acq, _bench_form(acq.metadata, dt.date(2024, 1, 1)))
    # synthetic blobs need not pass every check: the save's work is what is timed
    request = SaveRequest(
        (session,), out, ngff_version=ngff, accept_qc_failures_by="bench"
    )
    preload()  # imports and kernels, as the Save widget loads them when it opens
    start, cpu_start = time.perf_counter(), _cpu_s()
    drive(save_steps(request))
    _report(start, cpu_start)


def _bench_form(metadata, date):
    from napari_fairly.core.form import prefill_form

    return prefill_form(
        metadata,
        None,
        None,
        {
            "naming.date": date.isoformat(),
            "naming.project": "BENCH",
            "naming.sample": "Blobs",
            "naming.creator": "ABench",
            "naming.condition": "Synthetic",
            "naming.datatype": "RAW",
            "naming.version": "v01",
            # every field the save gate requires
            "study.title": "Save benchmark",
            "study.publisher": "Bench imaging facility",
            "study.authors": [{"name": "A. Bench"}],
            "study_component.imaging_method": "fluorescence microscopy",
            "biosample.organism": {"id": "NCBITaxon:9606", "label": "Homo sapiens"},
            "biosample.biological_entity": "synthetic blobs",
            "image_acquisition.instrument": "synthetic",
            "image_acquisition.acquisition_datetime": f"{date.isoformat()}T10:00:00",
        },
    )


def run_writer(source: Path, out: Path) -> None:
    """Only our OME-Zarr writer (with the QC statistics fed from the same planes)."""
    from napari_fairly.core.export import ZarrSpec, preload, write_ome_zarr_steps
    from napari_fairly.core.export.save import VERIFY_SAMPLE_PLANES
    from napari_fairly.core.export.verify import spread_planes
    from napari_fairly.core.progress import drive
    from napari_fairly.core.qc import PlaneStatsAccumulator
    from napari_fairly.core.reading import open_acquisition

    acq = open_acquisition(source)
    stats = PlaneStatsAccumulator(acq.data.dtype, acq.data.shape)
    preload()
    start, cpu_start = time.perf_counter(), _cpu_s()
    drive(
        write_ome_zarr_steps(
            acq.data,
            out / "x.ome.zarr",
            ZarrSpec(name="x"),
            plane_sink=stats.add_plane,
            read_plane=acq.read_plane,  # as the save does for one page per plane
            # the planes the save's read-back compares are hashed, as in the save
            hash_planes=set(spread_planes(acq.data.shape, VERIFY_SAMPLE_PLANES)),
        )
    )
    stats.result()
    _report(start, cpu_start)


def run_ome_zarr(source: Path, out: Path) -> None:
    import zarr
    from ome_zarr.writer import write_image

    from napari_fairly.core.reading import open_acquisition

    acq = open_acquisition(source)
    data = acq.data[0, :, :, :, :]  # C, Z, Y, X
    start, cpu_start = time.perf_counter(), _cpu_s()
    group = zarr.open_group(str(out), mode="w")
    write_image(image=data, group=group, axes="czyx")
    _report(start, cpu_start)


def run_floor(source: Path, out: Path) -> None:
    """Compress the same chunks with the same codec on all cores, and nothing else.

    The chunks are those we write: level 0 (1024 x 1024) and the pyramid levels, made
    by the same 2x2 mean (0.2 ms a plane; averaged planes compress differently from
    strided views of the noise, so views would not be the same chunks).
    """
    from concurrent.futures import ThreadPoolExecutor

    import tifffile

    from napari_fairly.core.export import preload
    from napari_fairly.core.export.zarr_writer import (
        MAX_CHUNK_PX,
        blosc_codec,
        downsample_plane,
        pyramid_shapes,
    )

    del out
    preload()  # the compiled 2x2 mean, loaded before the clock as for ours
    codec = blosc_codec(2)
    workers = os.cpu_count() or 2
    with tifffile.TiffFile(source) as tif:
        pages = tif.series[0].pages
        start, cpu_start = time.perf_counter(), _cpu_s()

        def compress(plane: np.ndarray) -> int:
            size = 0
            view = plane
            for level in range(len(pyramid_shapes(*plane.shape))):
                if level:
                    view = downsample_plane(view)
                for y in range(0, view.shape[0], MAX_CHUNK_PX):
                    for x in range(0, view.shape[1], MAX_CHUNK_PX):
                        block = np.ascontiguousarray(
                            view[y : y + MAX_CHUNK_PX, x : x + MAX_CHUNK_PX]
                        )
                        size += len(codec.encode(block))
            return size

        with ThreadPoolExecutor(workers) as pool:
            pending = []
            total = 0
            for page in pages:
                pending.append(pool.submit(compress, page.asarray()))
                if len(pending) >= 2 * workers:
                    total += pending.pop(0).result()
            total += sum(f.result() for f in pending)
        _report(start, cpu_start, bytes=total)


def _files(out: Path) -> dict[str, float]:
    """Files under ``out`` and their bytes (what inode and size quotas count)."""
    sizes = [p.stat().st_size for p in out.rglob("*") if p.is_file()]
    return {"files": len(sizes), "bytes": sum(sizes)}


def measure(
    kind: str, source: Path, work: Path, run_index: int, ngff: str = "0.4"
) -> dict[str, float]:
    """One run of one tool in a fresh interpreter, into its own new folder.

    Outputs are removed at the end of the benchmark, not between runs: for a few
    minutes after thousands of files are deleted, ext4 allocates new inodes slowly
    (it skips recently deleted ones), which would slow down whichever tool runs next.
    """
    out = work / "outputs" / f"{kind}-{run_index}"
    out.parent.mkdir(exist_ok=True)
    if kind in ("ours", "writer"):
        out.mkdir()
    run = subprocess.run(
        [
            sys.executable,
            __file__,
            "--run",
            kind,
            "--source",
            str(source),
            "--out",
            str(out),
            "--ngff",
            ngff,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{run.stderr[-3000:]}")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    if kind != "floor" and out.exists():
        result.update(_files(out))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--z", type=int, default=64)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="work folder to reuse")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per tool; the fastest is kept"
    )
    parser.add_argument(
        "--run", choices=("ours", "writer", "ome_zarr", "floor"), default=None
    )
    parser.add_argument(
        "--ngff", choices=("0.4", "0.5"), default="0.4", help="NGFF version of ours"
    )
    parser.add_argument("--source", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.run:
        runs = {
            "ours": run_ours,
            "writer": run_writer,
            "ome_zarr": run_ome_zarr,
            "floor": run_floor,
        }
        if args.run == "ours":
            run_ours(args.source, args.out, args.ngff)
        else:
            runs[args.run](args.source, args.out)
        return

    work = args.keep or Path(tempfile.mkdtemp(prefix="fairly-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"bench_{args.channels}c_{args.z}z_{args.size}.ome.tif"
    results: dict[str, dict[str, float]] = {}
    try:
        if not source.exists():
            t0 = time.perf_counter()
            generate(source, args.channels, args.z, args.size)
            print(
                f"generated {source} ({source.stat().st_size / 1e9:.2f} GB) "
                f"in {time.perf_counter() - t0:.0f} s"
            )
        for index in range(args.repeat):
            for kind in ("floor", "writer", "ours", "ome_zarr"):
                run = measure(kind, source, work, index, args.ngff)
                best = results.get(kind)
                if best is None or run["seconds"] < best["seconds"]:
                    results[kind] = run
    finally:
        shutil.rmtree(work / "outputs", ignore_errors=True)
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"nproc: {os.cpu_count()}; best of {args.repeat}; load {os.getloadavg()}; "
        f"ours in NGFF {args.ngff}"
    )
    for kind, r in results.items():
        files = ""
        if "files" in r:
            gb = r["bytes"] / 1e9
            files = (
                f"  {r['files']:.0f} files in {gb:.2f} GB "
                f"({r['files'] / gb:.0f} per GB)"
            )
        print(
            f"{kind:>9}: {r['seconds']:7.1f} s wall  {r['cpu_seconds']:7.1f} s CPU  "
            f"peak RSS {r['peak_rss_mb']:6.0f} MB{files}"
        )
    for measure_key, label in (("seconds", "wall"), ("cpu_seconds", "CPU")):
        ours = results["ours"][measure_key]
        writer = results["writer"][measure_key]
        floor = results["floor"][measure_key]
        ome_zarr = results["ome_zarr"][measure_key]
        print(
            f"[{label}] ome_zarr / ours: {ome_zarr / ours:.2f}x (goal >= 5); "
            f"ours / floor: {ours / floor:.2f}x (goal <= 2); "
            f"writer alone / floor: {writer / floor:.2f}x; "
            f"ome_zarr / writer alone: {ome_zarr / writer:.2f}x"
        )
    print(f"ours peak RSS: {results['ours']['peak_rss_mb']:.0f} MB (goal <= 512)")


if __name__ == "__main__":
    main()
