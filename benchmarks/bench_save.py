"""Benchmark: ``fairly save`` against the tools a user would pick instead.

What a user compares is the command, whole: each tool runs in its own process, start-up
included, on the same generated OME-TIFF, and its wall time and peak RSS (``wait4``) are
measured from outside.

* ``fairly``: ``fairly save SRC --form F --out DEST --accept-qc-failures`` (OME-Zarr
  0.4 + pyramid + QC + plane hashes + sidecar, CSV, DataCite, RO-Crate + read-back
  verification); the form is made beforehand with ``fairly form``, as a user does.
  Its start-up (process start to the first plane read from the file) is measured too.
* ``write_image``: a user's script, ``BioImage(SRC).get_image_dask_data("CZYX")``
  written with ``ome_zarr.writer.write_image`` (ome-zarr-py, default settings);
* ``bioio_convert``: ``bioio-convert SRC --destination DEST`` (bioio-conversion).

Data profiles (16-bit, 3 channels, 2048 x 2048 planes, Z sets the size: 16 z = 0.4 GB,
64 z = 1.6 GB):

* ``noise``: a camera background, Poisson noise around 100 counts, few faint blobs;
* ``blobs``: dense smooth blobs, bright and dim, plus Poisson noise, like fluorescence.

Each case runs ``--rounds`` rounds; in each round every tool runs once, in an order
that rotates from round to round (these VMs change speed from one minute to the next),
and the median of the rounds is reported. Goals, per case: ``write_image`` /
``fairly`` >= 5, ``bioio_convert`` / ``fairly`` >= 3, ``fairly`` peak RSS <= 512 MB,
start-up <= 1.0 s.

Usage: ``python benchmarks/bench_save.py [--profiles noise blobs] [--sizes 0.4 1.6]
[--rounds 3] [--keep DIR] [--ngff 0.5] [--profile-fairly]``. Each tool's file count
and bytes written are printed (``--ngff 0.5`` shards the chunks). ``--profile-fairly``
also runs one ``fairly save`` under cProfile per case and prints where the time goes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

SIZES = {"0.4": 16, "1.6": 64}  # z planes per channel at 3 x 2048 x 2048 x 16 bit
TOOLS = ("fairly", "write_image", "bioio_convert")
GOALS = {"write_image": 5.0, "bioio_convert": 3.0}
RSS_GOAL_MB = 512
STARTUP_GOAL_S = 1.0
PLANE = 2048
CHANNELS = 3

# Runs ``fairly`` as its console script does, and writes the wall-clock time of the
# first plane read from the file (tifffile's page decode) to $BENCH_FIRST_PLANE.
FAIRLY_WRAPPER = """
import os, sys, time
import tifffile
_decode = tifffile.TiffPage.asarray
def _first(self, *args, **kwargs):
    path = os.environ.pop("BENCH_FIRST_PLANE", None)
    if path:
        with open(path, "w") as out:
            out.write(repr(time.time()))
    return _decode(self, *args, **kwargs)
tifffile.TiffPage.asarray = _first
from napari_fairly.cli import main
sys.argv[0] = "fairly"
sys.exit(main())
"""

WRITE_IMAGE_SCRIPT = """
import sys
import zarr
from bioio import BioImage
from ome_zarr.writer import write_image
image = BioImage(sys.argv[1])
data = image.get_image_dask_data("CZYX")
group = zarr.open_group(sys.argv[2], mode="w")
write_image(image=data, group=group, axes="czyx")
"""

FORM_VALUES = {
    "naming.date": "2024-01-01",
    "naming.project": "BENCH",
    "naming.sample": "Blobs",
    "naming.creator": "ABench",
    "naming.condition": "Synthetic",
    "naming.datatype": "RAW",
    "naming.version": "v01",
    "study.title": "Save benchmark",
    "study.authors": "A. Bench",
    "study.publisher": "Bench facility",
    "study_component.imaging_method": "fluorescence microscopy",
    "biosample.organism": "NCBITaxon:9606",
    "biosample.biological_entity": "synthetic blobs",
    "image_acquisition.instrument": "synthetic",
    "image_acquisition.acquisition_datetime": "2024-01-01T10:00:00",
}


def _blob_field(
    rng: np.random.Generator, count: int, radii: tuple[int, int]
) -> np.ndarray:
    """Sum of ``count`` Gaussian blobs on a PLANE x PLANE grid, built tile by tile."""
    field = np.zeros((PLANE, PLANE), np.float32)
    axis = np.arange(PLANE, dtype=np.float32)
    for _ in range(count):
        cy, cx = rng.integers(0, PLANE, 2)
        radius = float(rng.integers(*radii))
        gy = np.exp(-((axis - cy) ** 2) / (2 * radius**2))
        gx = np.exp(-((axis - cx) ** 2) / (2 * radius**2))
        field += rng.uniform(0.2, 1.0) * np.outer(gy, gx)
    return field


def _planes(profile: str, size_z: int) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(0)
    if profile == "noise":
        field, background, peak = _blob_field(rng, 60, (8, 40)), 100.0, 800.0
    else:
        field, background, peak = _blob_field(rng, 1500, (4, 30)), 200.0, 6000.0
    for c in range(CHANNELS):
        for z in range(size_z):
            weight = np.float32(np.exp(-(((z - size_z / 2) / (size_z / 3)) ** 2)))
            signal = background + peak * (c + 1) / CHANNELS * weight * field
            yield rng.poisson(signal).astype(np.uint16)


def generate(path: Path, profile: str, size_z: int) -> None:
    """A 16-bit OME-TIFF of the profile, written plane by plane."""
    import tifffile

    with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tif:
        tif.write(
            _planes(profile, size_z),
            shape=(CHANNELS, size_z, PLANE, PLANE),
            dtype=np.uint16,
            metadata={
                "axes": "CZYX",
                "PhysicalSizeX": 0.065,
                "PhysicalSizeY": 0.065,
                "PhysicalSizeZ": 0.2,
                "Channel": {"Name": [f"ch{c}" for c in range(CHANNELS)]},
            },
        )


def _fairly_bin() -> list[str]:
    return [sys.executable, "-c", FAIRLY_WRAPPER]


def make_form(source: Path, form: Path) -> None:
    """The form a user makes with ``fairly form`` (outside the clock)."""
    command = [*_fairly_bin(), "form", str(source), "--out", str(form)]
    for field, value in FORM_VALUES.items():
        command += ["--set", f"{field}={value}"]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"fairly form failed:\n{run.stdout}\n{run.stderr}")


NGFF = ["--ngff", "0.4"]  # --ngff 0.5 saves sharded Zarr v3


def command_of(tool: str, source: Path, form: Path, out: Path) -> list[str]:
    if tool == "fairly":
        return [
            *_fairly_bin(),
            "save",
            str(source),
            "--form",
            str(form),
            "--out",
            str(out),
            "--accept-qc-failures",
            "--operator",
            "ABench",
            *NGFF,
        ]
    if tool == "write_image":
        return [sys.executable, "-c", WRITE_IMAGE_SCRIPT, str(source), str(out)]
    convert = Path(sys.executable).with_name("bioio-convert")
    return [str(convert), str(source), "--destination", str(out)]


def run_tool(tool: str, source: Path, form: Path, out: Path) -> dict[str, float]:
    """Run one tool in its own process; wall time, CPU, peak RSS and start-up."""
    marker = out.with_suffix(".first-plane")
    env = dict(os.environ, BENCH_FIRST_PLANE=str(marker))
    if tool == "fairly":
        out.mkdir(parents=True)
    start_wall, start = time.time(), time.perf_counter()
    process = subprocess.Popen(
        command_of(tool, source, form, out),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{tool} failed ({process.returncode}):\n{errors[-3000:]!r}")
    result = {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }
    if tool == "fairly":
        result["startup_s"] = float(marker.read_text()) - start_wall
    files = [path for path in out.rglob("*") if path.is_file()]
    result["files"] = len(files)
    result["written_gb"] = sum(path.stat().st_size for path in files) / 1e9
    return result


def profile_fairly(source: Path, form: Path, out: Path, top: int = 25) -> None:
    """One ``fairly save`` under cProfile: where the whole command spends its time."""
    stats_file = out.with_suffix(".prof")
    out.mkdir(parents=True)
    command = command_of("fairly", source, form, out)
    script = command[2]
    wrapped = (
        "import cProfile, sys\n"
        f"sys.argv = ['fairly', *sys.argv[1:]]\n"
        f"cProfile.run({script!r}, {str(stats_file)!r})\n"
    )
    subprocess.run(
        [sys.executable, "-c", wrapped, *command[3:]],
        check=False,
        capture_output=True,
    )
    import pstats

    print(f"--- where `fairly save` spends its time ({source.name}), cumulative:")
    pstats.Stats(str(stats_file)).sort_stats("cumulative").print_stats(top)


def run_case(
    work: Path, profile: str, size: str, rounds: int, profile_it: bool
) -> dict[str, list[dict[str, float]]]:
    """All rounds of one (profile, size) case; outputs removed at the case's end."""
    source = work / f"{profile}_{size}GB.ome.tif"
    if not source.exists():
        started = time.perf_counter()
        generate(source, profile, SIZES[size])
        print(
            f"generated {source.name} ({source.stat().st_size / 1e9:.2f} GB) in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    form = work / f"{profile}_{size}GB.form.json"
    if not form.exists():
        make_form(source, form)
    outputs = work / "outputs"
    runs: dict[str, list[dict[str, float]]] = {tool: [] for tool in TOOLS}
    try:
        for index in range(rounds):
            order = TOOLS[index % len(TOOLS) :] + TOOLS[: index % len(TOOLS)]
            for tool in order:
                out = outputs / f"{profile}-{size}-{tool}-{index}"
                runs[tool].append(run_tool(tool, source, form, out))
        if profile_it:
            profile_fairly(source, form, outputs / f"{profile}-{size}-profile")
    finally:
        shutil.rmtree(outputs, ignore_errors=True)
    return runs


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def report_case(label: str, runs: dict[str, list[dict[str, float]]]) -> list[str]:
    """Print one case; returns the goals it misses."""
    print(f"== {label}: median of {len(runs['fairly'])} alternated rounds")
    for tool, tool_runs in runs.items():
        each = ", ".join(f"{run['seconds']:.1f}" for run in tool_runs)
        print(
            f"{tool:>14}: {_median(tool_runs, 'seconds'):6.1f} s wall ({each})  "
            f"{_median(tool_runs, 'cpu_seconds'):6.1f} s CPU  "
            f"peak RSS {max(r['peak_rss_mb'] for r in tool_runs):5.0f} MB  "
            f"{tool_runs[0]['files']} files, {tool_runs[0]['written_gb']:.2f} GB"
        )
    ours = _median(runs["fairly"], "seconds")
    missed = []
    for tool, goal in GOALS.items():
        ratio = _median(runs[tool], "seconds") / ours
        print(f"  {tool} / fairly: {ratio:.2f}x (goal >= {goal:g})")
        if ratio < goal:
            missed.append(f"{label} {tool} {ratio:.2f}x")
    rss = max(run["peak_rss_mb"] for run in runs["fairly"])
    startup = _median(runs["fairly"], "startup_s")
    print(f"  fairly peak RSS {rss:.0f} MB (goal <= {RSS_GOAL_MB})")
    goal = STARTUP_GOAL_S
    print(f"  fairly start-up to first plane {startup:.2f} s (goal <= {goal})")
    if rss > RSS_GOAL_MB:
        missed.append(f"{label} RSS {rss:.0f} MB")
    if startup > STARTUP_GOAL_S:
        missed.append(f"{label} start-up {startup:.2f} s")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="+", default=["noise", "blobs"])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=SIZES)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="work folder (generated files kept)")
    parser.add_argument("--profile-fairly", action="store_true")
    parser.add_argument("--ngff", choices=("0.4", "0.5"), default="0.4")
    args = parser.parse_args()
    NGFF[1] = args.ngff
    work = args.keep or Path(tempfile.mkdtemp(prefix="fairly-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"nproc {os.cpu_count()}; load {os.getloadavg()}", flush=True)
    missed: list[str] = []
    try:
        for profile in args.profiles:
            for size in args.sizes:
                runs = run_case(work, profile, size, args.rounds, args.profile_fairly)
                missed += report_case(f"{profile} {size} GB", runs)
                sys.stdout.flush()
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load after: {os.getloadavg()}")
    print("all goals met" if not missed else "goals missed: " + "; ".join(missed))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
