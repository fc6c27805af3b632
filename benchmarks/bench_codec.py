"""Benchmark: what the SPEC's codec costs, against the levels other tools write.

SPEC 7.2 fixes Blosc zstd level 5 with bit-shuffle for every chunk; c-blosc runs it as
zstd level 9. bioio-convert writes Blosc zstd level 3 with bit-shuffle (zstd level 5).
On a 2-core machine the compression is most of a save's CPU, so this prints, per
codec, the CPU of one thread per 2048² 16-bit plane (level 0 only, 1024² chunks) and
the output size, on the save benchmark's two data profiles (``bench_save.py``'s
generator), relative to the SPEC's.

Usage: ``python benchmarks/bench_codec.py [--planes 3]``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
from numcodecs import Blosc
from numcodecs import blosc as blosc_module

sys.path.insert(0, str(Path(__file__).parent))

import bench_save

CODECS = (  # (label, cname, clevel, shuffle)
    ("zstd 5 bit-shuffle (SPEC 7.2)", "zstd", 5, Blosc.BITSHUFFLE),
    ("zstd 3 bit-shuffle (bioio-convert)", "zstd", 3, Blosc.BITSHUFFLE),
    ("zstd 1 bit-shuffle", "zstd", 1, Blosc.BITSHUFFLE),
    ("zstd 5 byte shuffle", "zstd", 5, Blosc.SHUFFLE),
    ("lz4 5 byte shuffle", "lz4", 5, Blosc.SHUFFLE),
)
CHUNK = 1024


def chunks_of(profile: str, planes: int) -> list[np.ndarray]:
    """1024² chunks of ``planes`` planes from the middle of the profile's z-stack."""
    stack = itertools.islice(bench_save._planes(profile, 16), 6, 6 + planes)
    return [
        np.ascontiguousarray(plane[y : y + CHUNK, x : x + CHUNK])
        for plane in stack
        for y in range(0, plane.shape[0], CHUNK)
        for x in range(0, plane.shape[1], CHUNK)
    ]


def measure(
    chunks: list[np.ndarray], cname: str, clevel: int, shuffle: int
) -> tuple[float, int]:
    """(CPU seconds of the fastest of 3 passes, compressed bytes) on one thread."""
    codec = Blosc(cname=cname, clevel=clevel, shuffle=shuffle)
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        encoded = [codec.encode(chunk) for chunk in chunks]
        best = min(best, time.process_time() - start)
    return best, sum(len(e) for e in encoded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=3)
    args = parser.parse_args()
    blosc_module.set_nthreads(1)  # one thread: CPU time is what a core spends
    blosc_module.use_threads = False
    per_plane = (bench_save.PLANE // CHUNK) ** 2
    for profile in ("blobs", "noise"):
        chunks = chunks_of(profile, args.planes)
        raw = sum(c.nbytes for c in chunks)
        planes = len(chunks) / per_plane
        print(f"== {profile}: {planes:g} planes of 2048² uint16")
        results = [(label, *measure(chunks, *codec)) for label, *codec in CODECS]
        _label, spec_cpu, spec_size = results[0]
        for label, cpu, size in results:
            print(
                f"  {label:36s} {cpu / planes * 1000:6.1f} ms CPU per plane "
                f"({cpu / spec_cpu:4.2f}x the SPEC's), output "
                f"{size / raw * 100:5.1f} % of the pixels "
                f"({(size / spec_size - 1) * 100:+5.1f} % vs the SPEC's)"
            )


if __name__ == "__main__":
    main()
