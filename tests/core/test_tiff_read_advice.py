"""Whole-plane reads of large planes ask the kernel not to read ahead; small keep it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_fairly.core.reading import open_acquisition


@pytest.mark.parametrize(("side", "advised"), [(1024, True), (64, False)])
def test_read_ahead_advice_follows_the_plane_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, side: int, advised: bool
) -> None:
    stack = np.arange(3 * side * side, dtype=np.uint16).reshape(3, side, side)
    path = tmp_path / "stack.ome.tif"
    tifffile.imwrite(path, stack, ome=True, metadata={"axes": "ZYX"})
    calls: list[int] = []
    real = os.posix_fadvise

    def recording(fd: int, offset: int, length: int, advice: int) -> None:
        calls.append(advice)
        real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", recording)
    acq = open_acquisition(path)
    for z in range(3):
        np.testing.assert_array_equal(acq.read_plane(0, 0, z), stack[z])
    np.testing.assert_array_equal(np.asarray(acq.data[0, 0, 1]), stack[1])
    acq.close()
    assert calls == ([os.POSIX_FADV_RANDOM] if advised else [])
