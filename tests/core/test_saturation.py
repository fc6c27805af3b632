"""Saturation and zero clipping with known clipped fractions (SPEC 6)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_fairly.core.qc import PlaneStatsAccumulator
from napari_fairly.core.qc.results import DEFAULT_THRESHOLDS, CheckResult, Severity
from napari_fairly.core.qc.saturation import (
    check_saturation,
    format_percent,
    saturation_labels,
)

SHAPE = (200, 250)  # 50 000 px per plane


def clipped_stack(
    dtype: str, ceiling: int, n_clip: list[int], n_zero: list[int], seed: int = 0
) -> np.ndarray:
    """(Z, Y, X) noise planes with exact counts at the ceiling and at 0."""
    rng = np.random.default_rng(seed)
    planes = []
    for clip, zero in zip(n_clip, n_zero, strict=True):
        plane = rng.integers(int(ceiling * 0.1), int(ceiling * 0.6), SHAPE).astype(
            dtype
        )
        flat = plane.reshape(-1)
        idx = rng.permutation(flat.size)
        flat[idx[:clip]] = ceiling
        flat[idx[clip : clip + zero]] = 0
        planes.append(plane)
    return np.stack(planes)


def run(stack: np.ndarray, significant_bits: int | None = None):
    acc = PlaneStatsAccumulator(
        stack.dtype, (1, 1, stack.shape[0], *SHAPE), significant_bits
    )
    for z, plane in enumerate(stack):
        acc.add_plane(0, 0, z, plane)
    stats = acc.result()
    return stats, check_saturation(stats, ["EGFP"], DEFAULT_THRESHOLDS)


@pytest.mark.parametrize(
    ("dtype", "ceiling", "significant_bits", "source"),
    [
        ("uint8", 255, None, "inferred"),
        ("uint16", 4095, None, "inferred"),  # 12 bits in 16, inferred from the max
        ("uint16", 4095, 12, "ome"),  # 12 bits in 16, stated
        ("uint16", 65535, None, "inferred"),  # true 16-bit
    ],
)
def test_known_clipped_fractions(
    dtype: str, ceiling: int, significant_bits: int | None, source: str
) -> None:
    n_clip = [0, 25, 100, 1000]  # 0, 0.05 %, 0.2 %, 2 % of 50 000
    n_zero = [0, 0, 10, 200]  # 0, 0, 0.02 %, 0.4 %
    stats, rows = run(clipped_stack(dtype, ceiling, n_clip, n_zero), significant_bits)
    ch = stats.channels[0]
    assert ch.ceiling.value == ceiling
    assert ch.ceiling.source == source
    assert ch.count_at_ceiling == sum(n_clip)
    assert ch.frac_ceiling == pytest.approx(sum(n_clip) / (4 * 50_000))
    assert ch.count_zero == sum(n_zero)
    plane_rows = {r.z: r for r in rows if r.check == "saturation" and r.z is not None}
    assert [plane_rows[z].value for z in range(4)] == pytest.approx(
        [0, 0.0005, 0.002, 0.02]
    )
    assert [plane_rows[z].severity for z in range(4)] == [
        Severity.OK,
        Severity.INFO,
        Severity.WARNING,
        Severity.ERROR,
    ]
    summary = next(r for r in rows if r.check == "saturation" and r.z is None)
    assert summary.severity is Severity.ERROR  # the worst plane decides
    assert "3 of 4 planes" in summary.message and "z = 3" in summary.message
    zero_rows = {r.z: r for r in rows if r.check == "zero_clipping" and r.z is not None}
    assert [zero_rows[z].value for z in range(4)] == pytest.approx(
        [0, 0, 0.0002, 0.004]
    )
    assert [zero_rows[z].severity for z in range(4)] == [Severity.OK] * 3 + [
        Severity.WARNING
    ]
    zero_summary = next(r for r in rows if r.check == "zero_clipping" and r.z is None)
    assert zero_summary.value == pytest.approx(210 / 200_000)
    assert zero_summary.severity is Severity.WARNING


def test_no_plausible_ceiling_reached_is_ok() -> None:
    stack = clipped_stack("uint16", 3000, [0], [0])
    stats, rows = run(stack)
    assert stats.channels[0].ceiling.source == "dtype"
    summary = next(r for r in rows if r.check == "saturation" and r.z is None)
    assert summary.severity is Severity.OK
    assert "no pixel reaches a plausible ceiling" in summary.message


def test_pileup_below_an_unstated_ceiling() -> None:
    # 11-bit-like clipping at 2000: not a power of two, found by the pile-up test only
    stack = clipped_stack("uint16", 2000, [500], [0])
    stats, rows = run(stack)
    assert stats.planes[(0, 0, 0)].pileup_at_max
    pile = [r for r in rows if r.check == "pileup"]
    assert (
        len(pile) == 1
        and pile[0].value == 2000
        and pile[0].severity is Severity.WARNING
    )


def test_messages_follow_the_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """The messages come from the catalogues, in the current language; the verdict
    codes and values are the same in both."""
    stack = clipped_stack("uint16", 4095, [1150], [0])
    acc = PlaneStatsAccumulator(stack.dtype, (1, 1, 1, *SHAPE), 12)
    acc.add_plane(0, 0, 0, stack[0])

    def summary() -> CheckResult:
        rows = check_saturation(acc.result(), ["EGFP"], DEFAULT_THRESHOLDS)
        return next(r for r in rows if r.check == "saturation" and r.z is None)

    english = summary()
    assert english.message.startswith(
        "Channel 0 (EGFP): 2.3 % of the pixels at 4095 (12 bits)"
    )
    assert english.advice == "reduce exposure, laser power or gain"
    assert format_percent(0.023) == "2.3 %"
    monkeypatch.setenv("FAIRLY_LANG", "fr")
    french = summary()
    assert french.message.startswith(
        "Canal 0 (EGFP) : 2,3 % des pixels à 4095 (12 bits)"
    )
    assert "baissez l'exposition" in french.message
    assert french.advice == "baissez l'exposition, la puissance laser ou le gain"
    assert format_percent(0.023) == "2,3 %"
    assert (french.verdict, french.value) == (english.verdict, english.value)


def test_saturation_labels_are_lazy_and_exact() -> None:
    import dask.array as da

    stack = clipped_stack("uint16", 4095, [7, 0], [0, 0])[None, None]  # (1, 1, 2, Y, X)
    labels = saturation_labels(da.from_array(stack, chunks=(1, 1, 1, *SHAPE)), [4095.0])
    assert isinstance(labels, da.Array) and labels.dtype == np.uint8
    assert int(labels.sum().compute()) == 7
