"""Benchmark: ``fairly save`` from 0.4 GB to larger than memory, time per GB and RSS.

Saves generated acquisitions (the ``blobs`` profile of ``bench_save.py``: 3 channels of
2048 x 2048 16-bit planes; 16, 64 and 256 z for 0.4, 1.6 and 6.4 GB) with the user's
command, each in its own process, and prints seconds per GB and peak RSS at each size.
Goals: time per GB flat within 15 % (largest / smallest), peak RSS flat and <= 512 MB
at every size.

Usage: ``python benchmarks/bench_scale.py [--sizes 0.4 1.6 6.4] [--profile blobs]
[--keep DIR]``. The 6.4 GB file takes a few minutes to generate; ``--keep`` reuses it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_save

Z_PER_SIZE = {"0.4": 16, "1.6": 64, "6.4": 256}
FLAT_WITHIN = 0.15
RSS_GOAL_MB = 512


def run_size(work: Path, profile: str, size: str) -> dict[str, float]:
    source = work / f"{profile}_{size}GB.ome.tif"
    if not source.exists():
        bench_save.generate(source, profile, Z_PER_SIZE[size])
    form = work / f"{profile}_{size}GB.form.json"
    if not form.exists():
        bench_save.make_form(source, form)
    out = work / "outputs" / f"{profile}-{size}"
    try:
        result = bench_save.run_tool("fairly", source, form, out)
    finally:
        shutil.rmtree(work / "outputs", ignore_errors=True)
    gigabytes = 3 * Z_PER_SIZE[size] * bench_save.PLANE**2 * 2 / 1e9
    result["gigabytes"] = gigabytes
    result["seconds_per_gb"] = result["seconds"] / gigabytes
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(Z_PER_SIZE))
    parser.add_argument("--profile", default="blobs", choices=("noise", "blobs"))
    parser.add_argument("--keep", type=Path, help="work folder (generated files kept)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="fairly-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"nproc {os.cpu_count()}; load {os.getloadavg()}", flush=True)
    results = {}
    try:
        for size in args.sizes:
            results[size] = run_size(work, args.profile, size)
            r = results[size]
            print(
                f"{r['gigabytes']:5.2f} GB: {r['seconds']:6.1f} s  "
                f"{r['seconds_per_gb']:5.2f} s/GB  "
                f"peak RSS {r['peak_rss_mb']:4.0f} MB  "
                f"start-up {r['startup_s']:.2f} s",
                flush=True,
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    per_gb = [r["seconds_per_gb"] for r in results.values()]
    rss = [r["peak_rss_mb"] for r in results.values()]
    spread = max(per_gb) / min(per_gb) - 1
    print(f"time per GB spread {spread:.0%} (goal <= {FLAT_WITHIN:.0%})")
    print(f"peak RSS {min(rss):.0f}-{max(rss):.0f} MB (goal <= {RSS_GOAL_MB})")
    met = spread <= FLAT_WITHIN and max(rss) <= RSS_GOAL_MB
    print("all goals met" if met else "goals missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
