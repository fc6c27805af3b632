"""DeltaVision (.dv, .r3d): header and pixels with mrc.

The header stores per-channel wavelengths (``wave1..5``) without saying excitation or
emission; softWoRx names channels by their emission filter, so they are kept as
*inferred* emission wavelengths. The objective is a lens ID looked up in mrc's table of
Applied Precision lens IDs (``mrc.lenses``), also inferred.

The extended header holds per-section values the main header lacks: exposure,
excitation and emission wavelength, time stamp and stage position of every plane. It is
read here from mrc's raw bytes in the file's byte order (mrc's own ``ExtHeader`` unpacks
in the machine's order and assumes 8 integers per section). Its stated wavelengths and
exposure are used as stated; the time increment (median step of the time stamps), a
z-step from the stage Z of the sections where the header gives none, and the stage
position (the format states no unit; softWoRx records µm) are inferred.

A negative header ``dz`` is a z-step whose planes run downwards: its magnitude is the
z-step, the direction a note.
"""

from __future__ import annotations

import statistics
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.formats._common import (
    SceneData,
    SceneFields,
    delayed_planes,
    length_um,
    lib_version,
    number,
    resolve_scene,
    stage_position,
    wavelength_nm,
)
from napari_fairly.core.formats.base import FormatReader
from napari_fairly.core.metadata import (
    ChannelMetadata,
    Objective,
    named_stack_axis,
)
from napari_fairly.core.model import Reason, Sourced

if TYPE_CHECKING:
    import dask.array as da

_IMMERSION = {
    "Oil": "Oil",
    "Water": "Water",
    "Air": "Air",
    "Glycerol": "Glycerol",
    "Silicone": "Other",
}
# extended header floats of one section (the first 14 of ``n_floats``)
_TIME, _STAGE_X, _STAGE_Y, _STAGE_Z, _EXPOSURE, _EXCITATION, _EMISSION = (
    1,
    2,
    3,
    4,
    8,
    10,
    11,
)
_EXT = "dv:extended header"


def scene_names(path: Path) -> list[str]:
    """DV files hold one image."""
    return ["Image:0"]


class _Sections:
    """The extended header's floats, one row per section, and the section of a plane."""

    def __init__(self, floats: np.ndarray, axes: str, sizes: dict[str, int]) -> None:
        self.floats = floats
        self.lead = [a for a in axes if a in "TCZ"]
        self.sizes = sizes

    def row(self, t: int = 0, c: int = 0, z: int = 0) -> np.ndarray | None:
        """The floats of plane (t, c, z); None when the header has no such section."""
        where = {"T": t, "C": c, "Z": z}
        index = int(
            np.ravel_multi_index(
                [where[a] for a in self.lead], [self.sizes[a] for a in self.lead]
            )
        )
        return self.floats[index] if index < len(self.floats) else None

    def along(self, axis: str, column: int) -> list[float]:
        """Column ``column`` of the sections along ``axis`` (others at 0)."""
        rows = [self.row(**{axis.lower(): i}) for i in range(self.sizes.get(axis, 1))]
        return [float(r[column]) for r in rows if r is not None]


def _sections(f: Any, order: str, axes: str, sizes: dict[str, int]) -> _Sections | None:
    """Per-section floats of the extended header, in the file's byte order."""
    hdr = f.hdr
    if f.ext_hdr is None or hdr.n_floats < _EMISSION + 1:
        return None
    per = 4 * (hdr.n_ints + hdr.n_floats)
    buffer = f.ext_hdr.buffer
    count = min(hdr.n_sections, len(buffer) // per)
    layout = np.dtype(
        [
            ("ints", f"{order}i4", (hdr.n_ints,)),
            ("floats", f"{order}f4", (hdr.n_floats,)),
        ]
    )
    floats = np.frombuffer(buffer, dtype=layout, count=count)["floats"]
    return _Sections(floats.astype(np.float64), axes, sizes)


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read a DeltaVision file."""
    import mrc

    names = scene_names(path)
    index = resolve_scene(names, scene, path)
    with open(path, "rb") as handle:
        raw = handle.read(1024)
    order = "<" if raw[96:98] == b"\xa0\xc0" else ">"
    f = mrc.DVFile(str(path))
    try:
        hdr = f.hdr
        sizes = dict(f.sizes)
        axes, dtype = str(f.axes), f.dtype
        sections = _sections(f, order, axes, sizes)
        vendor = _vendor(hdr, sections)
    finally:
        f.close()
    notes: list[str] = []
    fields: SceneFields = {
        "pixel_size_x_um": length_um(hdr.dx, "µm", "dv:hdr.dx"),
        "pixel_size_y_um": length_um(hdr.dy, "µm", "dv:hdr.dy"),
        "pixel_size_z_um": _z_step(hdr.dz, sizes, sections, notes),
        "time_increment_s": _time_increment(sizes, sections),
        "stack_axis": named_stack_axis(
            sizes, "dv:hdr (n_sections, NumTimes, NumWaves, ImgSequence)"
        ),
        "objective": _objective(int(hdr.lens_num), notes),
        "channels": _channels(hdr, sizes.get("C", 1), sections, notes),
        "instrument_manufacturer": Sourced.inferred(
            "Applied Precision (GE) DeltaVision", "dv file format"
        ),
    }
    fields["position"] = stage_position(
        _stage(sections, notes), "position", path.name, 0, 1
    )
    _panels_note(raw, order, hdr, notes)
    return SceneData(
        data=_pixels(path, sizes, axes, dtype),
        scene_names=tuple(names),
        fields=fields,
        reader=f"{lib_version('mrc')} (bioio-dv reads from a closed file when lazy)",
        notes=notes,
        vendor_metadata=vendor,
        scene_index=index,
    )


_EXT_NAMES = (  # the 14 named floats of a section (softWoRx)
    "photosensorReading",
    "timeStampSeconds",
    "stageXCoord",
    "stageYCoord",
    "stageZCoord",
    "minInten",
    "maxInten",
    "meanInten",
    "expTime",
    "ndFilter",
    "exWavelen",
    "emWavelen",
    "intenScaling",
    "energyConvFactor",
)


def _vendor(hdr: Any, sections: _Sections | None) -> dict[str, Any]:
    """The header, and the extended header's named values of every section."""
    header = {k: v for k, v in hdr._asdict().items() if k != "blank"}
    out: dict[str, Any] = {"header": header}
    if sections is not None:
        names = _EXT_NAMES[: sections.floats.shape[1]]
        out["extended_header"] = [
            dict(zip(names, row, strict=False)) for row in sections.floats.tolist()
        ]
    return out


def _z_step(
    dz: float, sizes: dict[str, int], sections: _Sections | None, notes: list[str]
) -> Sourced[float]:
    """The header's dz (its magnitude when negative); else the stage Z steps."""
    if dz and dz < 0:
        step = length_um(-dz, "µm", "dv:hdr.dz")
        notes.append(
            f"the DV header's z-step is negative ({dz:g} µm): z decreases from one "
            f"section to the next; the z-step is its magnitude, {-dz:g} µm."
        )
        return step.replace(raw=f"{dz:g}")
    stated = length_um(dz, "µm", "dv:hdr.dz")
    if stated.present or sizes.get("Z", 1) < 2 or sections is None:
        return stated
    positions = sections.along("Z", _STAGE_Z)
    steps = np.diff(positions)
    if len(steps) == 0 or not np.all(steps):
        return stated
    mean = (positions[-1] - positions[0]) / len(steps)
    if np.any(np.abs(steps - mean) > 0.02 * abs(mean)):  # not a regular stack
        return stated
    size = float(abs(mean))
    notes.append(
        f"z-step {size:g} µm taken from the stage Z of the sections (the header's dz "
        f"is {dz:g})" + ("; z decreases along the stack." if mean < 0 else ".")
    )
    return Sourced.inferred(
        size,
        f"{_EXT} stageZCoord (step along Z at t0 c0; unit not stated, µm assumed)",
        unit="µm",
    )


def _time_increment(
    sizes: dict[str, int], sections: _Sections | None
) -> Sourced[float]:
    """The median step of the sections' time stamps along T (the header has none)."""
    if sizes.get("T", 1) < 2:
        return Sourced.missing("dv: no time series", Reason.NOT_APPLICABLE, unit="s")
    if sections is None:
        return Sourced.missing(f"{_EXT} timeStampSeconds", unit="s")
    steps = np.diff(sections.along("T", _TIME))
    step = float(statistics.median(steps)) if len(steps) else 0.0
    if step <= 0:
        return Sourced.missing(f"{_EXT} timeStampSeconds", unit="s")
    return Sourced.inferred(
        step,
        f"{_EXT} timeStampSeconds (median step along T at c0 z0)",
        unit="s",
    )


def _stage(sections: _Sections | None, notes: list[str]) -> dict[str, Sourced[float]]:
    """Stage position of the first section; a note when the stage moves between
    sections (a DV file can hold several positions along T or Z).
    """
    looked_for = f"{_EXT} stageX/Y/ZCoord"
    missing: dict[str, Sourced[float]] = {
        f"stage_{a}_um": Sourced.missing(looked_for, unit="µm") for a in "xyz"
    }
    if sections is None:
        return missing
    row = sections.row()
    if row is None or not np.any(row[[_STAGE_X, _STAGE_Y, _STAGE_Z]]):
        return missing
    xy = {tuple(r) for r in sections.floats[:, [_STAGE_X, _STAGE_Y]].tolist()}
    if len(xy) > 1:
        notes.append(
            f"the stage moves between the sections of this DV file ({len(xy)} XY "
            "positions): it may hold several positions or tiles, read here as planes "
            "of one image; the stage position is that of the first section."
        )
    return {
        f"stage_{a}_um": Sourced.inferred(
            float(row[column]),
            f"{_EXT} stage{a.upper()}Coord of section t0 c0 z0 (unit not stated, µm "
            "assumed)",
            unit="µm",
        )
        for a, column in (("x", _STAGE_X), ("y", _STAGE_Y), ("z", _STAGE_Z))
    }


def _panels_note(raw: bytes, order: str, hdr: Any, notes: list[str]) -> None:
    """New-type headers (image type 100) count panels (positions): mrc reads them as
    part of Z.
    """
    if hdr.img_type != 100 or len(raw) < 884:
        return
    (panels,) = struct.unpack_from(order + "i", raw, 880)
    if panels > 1:
        notes.append(
            f"the DV header counts {panels} panels (positions); they are read as part "
            "of the Z axis, not as separate scenes."
        )


def _objective(lens_num: int, notes: list[str]) -> Objective:
    from mrc.lenses import D as LENSES

    lens = LENSES.get(lens_num)
    where = f"dv:hdr.lens_num {lens_num} (mrc.lenses table)"
    if not lens:
        if lens_num:
            notes.append(
                f"lens ID {lens_num} is not in mrc's lens table; objective unknown."
            )
        return Objective(model=Sourced.missing(where))
    return Objective(
        model=Sourced.inferred(lens["name"], where),
        manufacturer=Sourced.inferred(
            lens.get("manufacturer") or lens["name"].split()[0], where
        ),
        magnification=Sourced.inferred(float(lens["magnification"]), where),
        na=Sourced.inferred(float(lens["lensNA"]), where),
        immersion=Sourced.inferred(
            _IMMERSION.get(lens.get("immersion", ""), "Other"), where
        )
        if lens.get("immersion")
        else Sourced.missing(where),
        correction=Sourced.inferred(lens["correction"], where)
        if lens.get("correction")
        else Sourced.missing(where),
    )


def _channels(
    hdr: Any, n_channels: int, sections: _Sections | None, notes: list[str]
) -> tuple[ChannelMetadata, ...]:
    """Per channel: the extended header's stated wavelengths and exposure (first
    section of the channel), else the header's wave as an inferred emission.
    """
    waves = [hdr.wave1, hdr.wave2, hdr.wave3, hdr.wave4, hdr.wave5]
    out = []
    for c in range(n_channels):
        wave = waves[c] if c < len(waves) else 0
        row = sections.row(c=c) if sections is not None else None
        where = f"{_EXT} (section t0 c{c} z0)"
        emission = _emission(c, wave, row, where, notes)
        out.append(
            ChannelMetadata(
                index=c,
                name=Sourced.missing("not stated in the DV header"),
                excitation_wavelength_nm=_stated(row, _EXCITATION, "exWavelen", where)
                if row is not None
                else Sourced.missing(f"{_EXT} exWavelen", unit="nm"),
                emission_wavelength_nm=emission,
                exposure_s=number(
                    row[_EXPOSURE] if row is not None and row[_EXPOSURE] else None,
                    f"{where} expTime",
                    "s",
                ),
                acquisition_mode=Sourced.missing("not stated in the DV header"),
            )
        )
    return tuple(out)


def _stated(row: np.ndarray, column: int, name: str, where: str) -> Sourced[float]:
    value = float(row[column])
    return wavelength_nm(value if value else None, "nm", f"{where} {name}")


def _emission(
    c: int, wave: int, row: np.ndarray | None, where: str, notes: list[str]
) -> Sourced[float]:
    """The extended header's emission wavelength; else the header's wave, inferred."""
    if row is not None and row[_EMISSION]:
        stated = _stated(row, _EMISSION, "emWavelen", where)
        if stated.present and wave and abs(float(stated.value or 0) - wave) >= 1:
            notes.append(
                f"channel {c + 1}: the extended header's emission {stated.value:g} nm "
                f"differs from the header's wave{c + 1} {wave} nm; the stated emission "
                "is used."
            )
        return stated
    if not wave:
        return Sourced.missing(f"dv:hdr.wave{c + 1}", unit="nm")
    return Sourced.inferred(
        float(wave),
        f"dv:hdr.wave{c + 1} (taken as emission: softWoRx names channels by "
        "emission filter)",
        unit="nm",
    )


def _pixels(path: Path, sizes: dict[str, int], axes: str, dtype: Any) -> da.Array:
    """One lazy read per plane; the file is opened read-only per read, then closed.

    Planes come in the machine's byte order: a big-endian file (SGI, older Macs) keeps
    its values, not a ``>u2`` dtype that numeric kernels and writers would mishandle.
    """
    import mrc

    lead = [sizes.get(a, 1) for a in "TCZ"]
    plane = (sizes["Y"], sizes["X"])
    native = np.dtype(dtype).newbyteorder("=")

    def read(t: int, c: int, z: int) -> np.ndarray:
        where = {"T": t, "C": c, "Z": z}
        with mrc.DVFile(str(path)) as f:
            key = tuple(where[a] for a in axes if a in where)
            return np.array(f.data[key], dtype=native)

    return delayed_planes(read, lead, plane, native, path)


class DvReader(FormatReader):
    """DeltaVision files."""

    def scene_names(self, path: Path) -> list[str]:
        """See :meth:`FormatReader.scene_names`."""
        return scene_names(path)

    def open_scene(self, path: Path, scene: int | str | None) -> SceneData:
        """See :meth:`FormatReader.open_scene`."""
        return open_scene(path, scene)
