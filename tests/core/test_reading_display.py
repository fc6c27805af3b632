"""Layer settings from core.display: SPEC 7.2 colours, scale, and sampled contrast."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import numpy as np
import pytest

from napari_fairly.core.display import channel_layer_specs, colormap_for, summary_text
from napari_fairly.core.metadata import AcquisitionMetadata, ChannelMetadata
from napari_fairly.core.model import Sourced
from napari_fairly.core.reading import Acquisition


@pytest.mark.parametrize(
    ("emission_nm", "name"),
    [
        (None, "gray"),
        (450.0, "blue"),
        (469.9, "blue"),
        (470.0, "cyan"),
        (510.0, "green"),
        (565.0, "yellow"),
        (600.0, "red"),
        (640.0, "magenta"),
        (700.0, "magenta"),
    ],
)
def test_colour_bands(emission_nm: float | None, name: str) -> None:
    em = Sourced.found(emission_nm, "test") if emission_nm is not None else Sourced()
    assert colormap_for(ChannelMetadata(index=0, emission_wavelength_nm=em)) == name


def _acquisition(n_z: int, counter: list[int]) -> Acquisition:
    """A 1 x 2 x n_z x 64 x 64 stack whose plane reads are counted."""

    def read(block_id: tuple[int, ...] | None = None) -> np.ndarray:
        assert block_id is not None
        counter.append(1)
        _t, c, z, _y, _x = block_id
        plane = np.full((64, 64), 100 * (c + 1) + z, np.uint16)
        plane[0, 0] = 0
        return plane.reshape(1, 1, 1, 64, 64)

    data = da.map_blocks(
        read,
        chunks=((1,), (1, 1), (1,) * n_z, (64,), (64,)),
        dtype=np.uint16,
        meta=np.empty((0,) * 5, np.uint16),
    )
    md = AcquisitionMetadata(
        source_path="/synthetic.tif",
        size_bytes=1,
        format="tiff",
        reader="test",
        shape={"T": 1, "C": 2, "Z": n_z, "Y": 64, "X": 64},
        dtype="uint16",
        pixel_size_x_um=Sourced.found(0.1, "test", unit="µm"),
        pixel_size_y_um=Sourced.found(0.1, "test", unit="µm"),
        channels=(
            ChannelMetadata(index=0, name=Sourced.found("DAPI", "test")),
            ChannelMetadata(
                index=1, emission_wavelength_nm=Sourced.found(520.0, "test", unit="nm")
            ),
        ),
    )
    return Acquisition(
        path=Path("/synthetic.tif"),
        scene_index=0,
        scene_names=("s",),
        pixels=data,
        dims="TCZYX",
        metadata=md,
    )


def test_contrast_from_a_few_planes_only() -> None:
    reads: list[int] = []
    acq = _acquisition(200, reads)
    specs = channel_layer_specs(acq, sample_planes=3)
    assert len(reads) == 6  # 3 planes per channel out of 400
    assert [s["name"] for s in specs] == ["DAPI", "520 nm"]
    assert [s["colormap"] for s in specs] == ["gray", "green"]
    # unknown z-step counts as 1; x/y known
    assert specs[0]["scale"] == (1.0, 0.1, 0.1)
    assert specs[0]["axis_labels"] == ("z", "y", "x")
    low, high = specs[1]["contrast_limits"]
    assert 200 <= low < high <= 399  # channel 1 planes hold 200 + z
    assert specs[0]["metadata"]["fairly_channel"] == 0
    assert specs[0]["metadata"]["fairly_acquisition"] is acq
    assert specs[0]["data"].shape == (200, 64, 64)


def test_summary_text_flags_missing() -> None:
    acq = _acquisition(2, [])
    text = summary_text(acq.metadata)
    assert "MISSING  pixel_size_z_um" in text
    assert "objective.na" in text
    assert "values missing or invalid" in text


def test_unnamed_channels_are_numbered_from_one_as_in_the_panels() -> None:
    from napari_fairly.core.display import channel_label
    from napari_fairly.core.qc.overrides import ChannelInputs, QcInputs

    assert channel_label(ChannelMetadata(index=0)) == "channel 1"
    assert channel_label(ChannelMetadata(index=2)) == "channel 3"
    named = ChannelMetadata(index=0, name=Sourced.found("DAPI", "t"))
    assert channel_label(named) == "DAPI"
    inputs = QcInputs(channels=(ChannelInputs(index=0), ChannelInputs(index=1)))
    names = [row[0] for row in inputs.rows() if row[0].startswith("channel")]
    assert names[0] == "channel 1 modality"
    assert "channel 2 emission_nm" in names
    assert not any(name.startswith("channel 0") for name in names)
