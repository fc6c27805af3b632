"""DeltaVision (.dv, .r3d): header with mrc, pixels via bioio-dv.

The header stores per-channel wavelengths (``wave1..5``) without saying excitation or
emission; softWoRx names channels by their emission filter, so they are kept as
*inferred* emission wavelengths. The objective is a lens ID looked up in mrc's table of
Applied Precision lens IDs (``mrc.lenses``), also inferred.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.formats._common import (
    SceneData,
    delayed_planes,
    length_um,
    lib_version,
    resolve_scene,
)
from napari_fairly.core.metadata import ChannelMetadata, Objective
from napari_fairly.core.model import Sourced

if TYPE_CHECKING:
    import dask.array as da

_IMMERSION = {
    "Oil": "Oil",
    "Water": "Water",
    "Air": "Air",
    "Glycerol": "Glycerol",
    "Silicone": "Other",
}


def scene_names(path: Path) -> list[str]:
    """DV files hold one image."""
    return ["Image:0"]


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read a DeltaVision file."""
    import mrc
    from mrc.lenses import D as LENSES

    names = scene_names(path)
    index = resolve_scene(names, scene, path)
    f = mrc.DVFile(str(path))
    try:
        hdr = f.hdr
        sizes = dict(f.sizes)
        voxel = f.voxel_size
        header = f.metadata()["header"] if callable(f.metadata) else {}
        waves = [hdr.wave1, hdr.wave2, hdr.wave3, hdr.wave4, hdr.wave5][
            : sizes.get("C", 1)
        ]
        lens_num = int(hdr.lens_num)
        axes, dtype = str(f.axes), f.dtype
    finally:
        f.close()
    data = _pixels(path, sizes, axes, dtype)
    notes: list[str] = []
    fields: dict[str, Any] = {}
    for axis, value in zip("xyz", voxel, strict=False):
        fields[f"pixel_size_{axis}_um"] = length_um(value, "µm", f"dv:hdr.d{axis}")
    fields["time_increment_s"] = Sourced.missing(
        "not stated in the DV header", unit="s"
    )
    lens = LENSES.get(lens_num)
    where = f"dv:hdr.lens_num {lens_num} (mrc.lenses table)"
    if lens:
        fields["objective"] = Objective(
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
    else:
        fields["objective"] = Objective(model=Sourced.missing(where))
        if lens_num:
            notes.append(
                f"lens ID {lens_num} is not in mrc's lens table; objective unknown."
            )
    channels = []
    for i, wave in enumerate(waves):
        w_where = (
            f"dv:hdr.wave{i + 1} (taken as emission: softWoRx names channels "
            "by emission filter)"
        )
        channels.append(
            ChannelMetadata(
                index=i,
                name=Sourced.missing("not stated in the DV header"),
                emission_wavelength_nm=Sourced.inferred(float(wave), w_where, unit="nm")
                if wave
                else Sourced.missing(f"dv:hdr.wave{i + 1}", unit="nm"),
                acquisition_mode=Sourced.missing("not stated in the DV header"),
            )
        )
    fields["channels"] = tuple(channels)
    fields["instrument_manufacturer"] = Sourced.inferred(
        "Applied Precision (GE) DeltaVision", "dv file format"
    )
    return SceneData(
        data=data,
        scene_names=tuple(names),
        fields=fields,
        reader=f"{lib_version('mrc')} (bioio-dv reads from a closed file when lazy)",
        notes=notes,
        vendor_metadata=header,
        extras={"scene_index": index},
    )


def _pixels(path: Path, sizes: dict[str, int], axes: str, dtype: Any) -> da.Array:
    """One lazy read per plane; the file is opened read-only per read, then closed."""
    import mrc

    lead = [sizes.get(a, 1) for a in "TCZ"]
    plane = (sizes["Y"], sizes["X"])

    def read(t: int, c: int, z: int) -> np.ndarray:
        where = {"T": t, "C": c, "Z": z}
        with mrc.DVFile(str(path)) as f:
            key = tuple(where[a] for a in axes if a in where)
            return np.array(f.data[key])

    return delayed_planes(read, lead, plane, dtype, path)
