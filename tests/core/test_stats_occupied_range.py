"""Plane statistics computed on the occupied histogram range match brute force."""

from __future__ import annotations

import numpy as np
import pytest

from napari_fairly.core.qc import PlaneStatsAccumulator
from napari_fairly.core.qc.stats import candidate_ceilings


def _planes(dtype: type) -> list[np.ndarray]:
    info = np.iinfo(dtype)
    rng = np.random.default_rng([info.bits, int(info.min < 0)])
    narrow = rng.integers(100, 131, (40, 50)).astype(dtype)  # a few bins in the middle
    full = rng.integers(info.min, info.max, (33, 17), endpoint=True).astype(dtype)
    ends = np.full((20, 20), info.max, dtype)
    ends[:5] = info.min  # both extremes occupied, pile-ups at each end
    flat = np.full((9, 9), 7, dtype)
    shifted = (rng.integers(0, 256, (30, 30)) * 16).clip(0, info.max).astype(dtype)
    return [narrow, full, ends, flat, shifted]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int8, np.int16])
def test_plane_stats_equal_brute_force(dtype: type) -> None:
    for k, plane in enumerate(_planes(dtype)):
        acc = PlaneStatsAccumulator(dtype, (1, 1, 1, *plane.shape))
        p = acc.add_plane(0, 0, 0, plane)
        wide = plane.astype(np.int64)
        assert (p.min_adu, p.max_adu) == (wide.min(), wide.max()), k
        assert p.mean_adu == pytest.approx(wide.mean(), rel=1e-12)
        assert p.median_adu == float(np.percentile(wide, 50))
        assert p.p0_1_adu == pytest.approx(float(np.percentile(wide, 0.1)), abs=1e-9)
        assert p.p99_9_adu == pytest.approx(float(np.percentile(wide, 99.9)), abs=1e-9)
        assert p.count_at_min == np.count_nonzero(wide == wide.min())
        assert p.count_at_max == np.count_nonzero(wide == wide.max())
        assert p.count_zero == np.count_nonzero(wide == 0)
        candidates = candidate_ceilings(np.dtype(dtype))
        assert set(p.tail_counts) == set(candidates)
        for v in candidates:
            assert p.tail_counts[v] == np.count_nonzero(wide >= v), (k, v)


def test_pileups_seen_at_the_ends_of_the_occupied_range() -> None:
    rng = np.random.default_rng(5)
    plane = rng.integers(1000, 3000, (64, 64)).astype(np.uint16)
    plane[:4] = 4095  # 256 px clipped at a 12-bit ceiling
    plane[4:6] = 900  # 128 px piled at the bottom
    p = PlaneStatsAccumulator(np.uint16, (1, 1, 1, 64, 64)).add_plane(0, 0, 0, plane)
    assert p.pileup_at_max and p.pileup_at_min
    assert (p.count_at_max, p.count_at_min) == (256, 128)
    assert p.tail_counts[4095] == 256 and p.tail_counts[65535] == 0
    smooth = rng.integers(1000, 3000, (64, 64)).astype(np.uint16)
    q = PlaneStatsAccumulator(np.uint16, (1, 1, 1, 64, 64)).add_plane(0, 0, 0, smooth)
    assert not q.pileup_at_max and not q.pileup_at_min
