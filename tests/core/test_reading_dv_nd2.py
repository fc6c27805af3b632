"""DeltaVision and ND2: steps, stack axes, extended-header values, stage positions.

DV files are written here with mrc (``Mrc2``, the writer behind ``mrc.save``, which
cannot write an extended header itself), with per-section values set as softWoRx
writes them; a big-endian copy is made by swapping every header field, extended-header
value and pixel. ND2 cannot be written: the ND2 checks use the real files and nd2's own
structures.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from test_reading_tiff_axes import assert_pixels

from conftest import DATA
from napari_fairly.core.formats import nd2 as nd2_format
from napari_fairly.core.model import Reason, Status
from napari_fairly.core.reading import open_acquisition

NT, NC, NZ, NY, NX = 2, 2, 3, 16, 20


def _dv(
    path: Path,
    pixels: np.ndarray,
    dz: float,
    sections: dict[int, list[float]] | None = None,
) -> None:
    """A DV file of ``pixels`` (T, Z, C, Y, X: DV image sequence 1, "WZT").

    ``sections`` maps an extended-header float index to its value per section (file
    order); without it the file has no extended header.
    """
    from mrc.mrc import Mrc2

    size_t, _size_z, size_c = pixels.shape[:3]
    stack = pixels.reshape(-1, *pixels.shape[3:])
    m = Mrc2(str(path), mode="w")
    m.initHdrForArr(stack, "z")
    m.hdr.NumTimes, m.hdr.NumWaves, m.hdr.ImgSequence = size_t, size_c, 1
    m.hdr.d = (0.1, 0.1, dz)
    m.hdr.wave[:2] = (525, 632)
    m.hdr.LensNum = 10003
    if sections is not None:
        m.makeExtendedHdr(8, 32, nSecs=len(stack))
        m.extInts[:] = 0
        m.extFloats[:] = 0
        for column, values in sections.items():
            m.extFloats[: len(values), column] = values
        m.writeHeader()
        m.writeExtHeader()
    else:
        m.writeHeader()
    m.seekSec(0)
    m.writeStack(stack)
    m.close()


def _big_endian(source: Path, target: Path) -> None:
    """The same DV file in big-endian order: every field swapped, as SGI/Mac wrote."""
    import mrc
    from mrc.mrc import mrcHdr_dtype

    raw = source.read_bytes()
    with mrc.DVFile(str(source)) as f:
        hdr, dtype = f.hdr, f.dtype
    header = np.frombuffer(raw[:1024], dtype=mrcHdr_dtype).byteswap()
    ext_len = hdr.ext_hdr_len
    ext = np.frombuffer(raw[1024 : 1024 + ext_len], dtype="<i4").byteswap()
    pixels = np.frombuffer(raw[1024 + ext_len :], dtype=dtype).byteswap()
    target.write_bytes(header.tobytes() + ext.tobytes() + pixels.tobytes())


def _sections() -> dict[int, list[float]]:
    """softWoRx values per section, in file order (t, z, c; c fastest)."""
    index = np.indices((NT, NZ, NC)).reshape(3, -1)
    t, z, c = index
    return {
        1: list(0.75 + 2.5 * t),  # timeStampSeconds
        2: [1250.5] * len(t),  # stageXCoord
        3: [-310.25] * len(t),  # stageYCoord
        4: list(4100.0 - 0.2 * z),  # stageZCoord
        8: [[0.05, 0.2][k] for k in c],  # expTime (s)
        10: [[488.0, 561.0][k] for k in c],  # exWavelen
        11: [[525.0, 600.0][k] for k in c],  # emWavelen
    }


PIXELS = (
    np.random.default_rng(7).integers(0, 4000, (NT, NZ, NC, NY, NX)).astype(np.uint16)
)


@pytest.mark.parametrize("order", ["little-endian", "big-endian"])
def test_dv_extended_header_values_and_negative_dz(tmp_path: Path, order: str) -> None:
    path = tmp_path / "cells.dv"
    _dv(path, PIXELS, -0.2, _sections())
    if order == "big-endian":
        swapped = tmp_path / "cells_be.dv"
        _big_endian(path, swapped)
        assert swapped.read_bytes()[96:98] == b"\xc0\xa0"
        path = swapped
    acq = open_acquisition(path)
    md = acq.metadata
    assert md.shape == {"T": NT, "C": NC, "Z": NZ, "Y": NY, "X": NX}
    # negative dz: the magnitude, present; the direction in a note
    assert md.pixel_size_z_um.value == pytest.approx(0.2)
    assert md.pixel_size_z_um.status is Status.PRESENT
    assert md.pixel_size_z_um.raw == "-0.2"
    assert any("negative (-0.2 µm)" in n for n in md.notes)
    assert md.stack_axis.value == "TZ"
    assert md.stack_axis.status is Status.PRESENT
    # the extended header states what the header does not
    ex = [c.excitation_wavelength_nm for c in md.channels]
    em = [c.emission_wavelength_nm for c in md.channels]
    exposure = [c.exposure_s for c in md.channels]
    assert [e.value for e in ex] == [488.0, 561.0]
    assert [e.value for e in em] == [525.0, 600.0]
    assert [e.value for e in exposure] == pytest.approx([0.05, 0.2])
    assert all(v.status is Status.PRESENT for v in ex + em + exposure)
    assert em[1].source == "dv:extended header (section t0 c1 z0) emWavelen"
    assert any("600 nm differs from the header's wave2 632 nm" in n for n in md.notes)
    # time stamps give the time increment, inferred
    assert md.time_increment_s.value == pytest.approx(2.5)
    assert md.time_increment_s.status is Status.INFERRED
    assert (md.position.stage_x_um.value, md.position.stage_y_um.value) == (
        pytest.approx(1250.5),
        pytest.approx(-310.25),
    )
    assert md.position.stage_z_um.value == pytest.approx(4100.0)
    assert md.position.stage_x_um.status is Status.INFERRED  # DV states no unit
    assert acq.vendor_metadata["header"]["nt"] == NT
    assert acq.vendor_metadata["extended_header"][3]["expTime"] == pytest.approx(0.2)
    assert_pixels(acq, PIXELS.transpose(0, 2, 1, 3, 4), tmp_path / "out")


def test_dv_z_step_from_the_stage_when_the_header_has_none(tmp_path: Path) -> None:
    path = tmp_path / "nodz.dv"
    _dv(path, PIXELS, 0.0, _sections())
    md = open_acquisition(path).metadata
    assert md.pixel_size_z_um.value == pytest.approx(0.2, rel=1e-3)  # float32
    assert md.pixel_size_z_um.status is Status.INFERRED
    assert "stageZCoord" in md.pixel_size_z_um.source
    assert any("z decreases along the stack" in n for n in md.notes)


def test_dv_without_extended_header_keeps_header_values(tmp_path: Path) -> None:
    path = tmp_path / "plain.dv"
    _dv(path, PIXELS, 0.3)
    acq = open_acquisition(path)
    md = acq.metadata
    assert md.pixel_size_z_um.value == pytest.approx(0.3)
    assert [c.emission_wavelength_nm.value for c in md.channels] == [525.0, 632.0]
    assert md.channels[0].emission_wavelength_nm.status is Status.INFERRED
    assert md.channels[0].exposure_s.value is None
    assert md.time_increment_s.value is None
    assert md.position is None  # no stage position stated
    assert_pixels(acq, PIXELS.transpose(0, 2, 1, 3, 4))


def test_real_dv_header_is_kept_and_its_stack_named() -> None:
    acq = open_acquisition(DATA / "dv/toxo.dv")
    assert acq.vendor_metadata["header"]["lens_num"] == 10003
    assert acq.vendor_metadata["header"]["nc"] == 2
    md = acq.metadata
    assert (md.stack_axis.value, md.stack_axis.status) == ("Z", Status.PRESENT)
    assert md.time_increment_s.reason == Reason.NOT_APPLICABLE.value


# --- ND2 -----------------------------------------------------------------------------


def test_nd2_stack_axes_and_stage_position_from_the_file() -> None:
    import nd2

    md = open_acquisition(DATA / "nd2/cluster.nd2").metadata
    assert (md.stack_axis.value, md.stack_axis.status) == ("TZ", Status.PRESENT)
    assert md.stack_axis.source == "nd2:experiment (TimeLoop, ZStackLoop)"
    with nd2.ND2File(str(DATA / "nd2/cluster.nd2")) as f:
        stage = f.frame_metadata(0).channels[0].position.stagePositionUm
    assert md.position.stage_x_um.value == pytest.approx(stage.x)
    assert md.position.stage_y_um.value == pytest.approx(stage.y)
    assert md.position.stage_z_um.value == pytest.approx(stage.z)
    assert md.position.stage_x_um.status is Status.PRESENT
    md = open_acquisition(DATA / "nd2/example-multichannel.nd2").metadata
    assert md.stack_axis.reason == Reason.NOT_APPLICABLE.value


def _z_loop(step: float, bottom_to_top: bool = True) -> Any:
    from nd2.structures import ZStackLoop, ZStackLoopParams

    params = ZStackLoopParams(homeIndex=2, stepUm=step, bottomToTop=bottom_to_top)
    return ZStackLoop(count=5, nestingLevel=0, parameters=params)


def test_nd2_negative_z_loop_step_is_a_magnitude_and_a_direction() -> None:
    notes: list[str] = []
    step = nd2_format._z_step(1.0, False, {"ZStackLoop": _z_loop(-0.4)}, notes)
    assert step.value == pytest.approx(0.4)
    assert step.status is Status.PRESENT
    assert step.raw == "-0.4"
    assert any("negative (-0.4 µm)" in n for n in notes)
    # a calibrated Z is nd2's |step|: used, with the direction noted
    notes = []
    step = nd2_format._z_step(0.4, True, {"ZStackLoop": _z_loop(-0.4, False)}, notes)
    assert step.value == pytest.approx(0.4)
    assert any("negative" in n for n in notes)
    assert any("top to bottom" in n for n in notes)
    # no loop, uncalibrated: nd2's 1.0 default is no step
    notes = []
    step = nd2_format._z_step(1.0, False, {}, notes)
    assert step.value is None and any("default" in n for n in notes)


def test_nd2_each_position_has_its_own_stage_position() -> None:
    """XY positions are scenes; the recorded stage position of a position's first
    frame wins, the loop's point is the fallback (its Z only when the loop sets Z).
    """
    from nd2.structures import (
        Position,
        StagePosition,
        TimeLoop,
        TimeLoopParams,
        XYPosLoop,
        XYPosLoopParams,
    )

    points = [
        Position(StagePosition(100.0 * p, -50.0 * p, 3000.0 + p)) for p in range(3)
    ]
    xy = XYPosLoop(
        count=3,
        nestingLevel=1,
        parameters=XYPosLoopParams(isSettingZ=False, points=points),
    )
    time = TimeLoop(
        count=4,
        nestingLevel=0,
        parameters=TimeLoopParams(
            startMs=0, periodMs=1000, durationMs=0, periodDiff=None
        ),
    )
    experiment = [time, xy]  # T outermost, then P: frame = t * 3 + p
    assert nd2_format._first_frame(experiment, 2) == 2
    assert nd2_format._first_frame([xy, time], 2) == 8

    recorded = {
        p: SimpleNamespace(x=101.0 * p, y=-49.0 * p, z=3010.0 + p) for p in range(3)
    }

    def frame_metadata(seq: int) -> Any:
        position = SimpleNamespace(stagePositionUm=recorded[seq % 3])
        return SimpleNamespace(channels=[SimpleNamespace(position=position)])

    def no_frame_metadata(seq: int) -> Any:
        raise ValueError("legacy file")

    with_frames = SimpleNamespace(frame_metadata=frame_metadata)
    stage = nd2_format._stage_position(with_frames, experiment, 2)
    assert [stage[f"stage_{a}_um"].value for a in "xyz"] == [
        202.0,
        -98.0,
        3012.0,
    ]
    assert stage["stage_x_um"].source.startswith("nd2:frame_metadata(2)")
    without = SimpleNamespace(frame_metadata=no_frame_metadata)
    stage = nd2_format._stage_position(without, experiment, 1)
    assert stage["stage_x_um"].value == 100.0
    assert stage["stage_y_um"].value == -50.0
    assert "XYPosLoop.parameters.points[1]" in stage["stage_x_um"].source
    assert stage["stage_z_um"].value is None  # the loop does not set Z
