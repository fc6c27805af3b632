"""Tidy CSV tables of a save (SPEC 7.4): one observation per row, units in column names.

Traceability columns come first so every row leads back to the raw file and its
sha256. Missing values are empty cells, never 0 or NaN written as text.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.csvcell import safe_cell, text_of_cell

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from napari_fairly.core.qc import PixelStatistics, PlaneStats, QcReport
    from napari_fairly.core.reading import Acquisition


@dataclass(frozen=True)
class Column:
    """One CSV column: its name, UCUM unit, pandas dtype and what it means."""

    name: str
    ucum: str
    dtype: str  # "string", "Int64", "float64", "boolean"
    description: str

    def as_dict(self) -> dict[str, str]:
        """The entry of the sidecar's ``csv_columns``."""
        return {
            "name": self.name,
            "unit": self.ucum,
            "dtype": self.dtype,
            "description": self.description,
        }


TRACE = (
    Column("name", "", "string", "dataset name (the 7-component name)"),
    Column("source_file", "", "string", "raw file name"),
    Column("source_sha256", "", "string", "sha256 of the raw file"),
    Column("scene", "1", "Int64", "scene index in the raw file, 0-based"),
)

MEASUREMENT_COLUMNS: tuple[Column, ...] = (
    *TRACE,
    Column("channel", "1", "Int64", "channel index, 0-based"),
    Column("channel_name", "", "string", "channel name"),
    Column("z", "1", "Int64", "plane index along Z, 0-based"),
    Column("t", "1", "Int64", "time point index, 0-based"),
    Column("pixel_count", "1", "Int64", "pixels in the plane"),
    Column("min_adu", "{ADU}", "float64", "minimum intensity"),
    Column("max_adu", "{ADU}", "float64", "maximum intensity"),
    Column("mean_adu", "{ADU}", "float64", "mean intensity"),
    Column("median_adu", "{ADU}", "float64", "median intensity"),
    Column("p0_1_adu", "{ADU}", "float64", "0.1 percentile of intensity"),
    Column("p99_9_adu", "{ADU}", "float64", "99.9 percentile of intensity"),
    Column("snr", "1", "float64", "signal-to-noise ratio (SPEC 5.1), where computed"),
    Column("cnr", "1", "float64", "contrast-to-noise ratio (SPEC 5.1), where computed"),
    Column("snr_valid", "", "boolean", "SNR passed the validity gate"),
    Column(
        "frac_ceiling", "1", "float64", "fraction of pixels at the saturation ceiling"
    ),
    Column("frac_zero", "1", "float64", "fraction of pixels equal to 0"),
    Column("ceiling_adu", "{ADU}", "float64", "saturation ceiling of the channel"),
    Column("pixel_size_x_um", "um", "float64", "pixel size along X"),
    Column("pixel_size_y_um", "um", "float64", "pixel size along Y"),
    Column("pixel_size_z_um", "um", "float64", "Z step"),
    Column("nyquist_xy_nm", "nm", "float64", "largest lateral pixel size at Nyquist"),
    Column("nyquist_z_nm", "nm", "float64", "largest Z step at Nyquist"),
    Column("ratio_xy", "1", "float64", "pixel size / Nyquist pixel size"),
    Column("ratio_z", "1", "float64", "Z step / Nyquist Z step"),
)


def object_columns(channel_names: Sequence[str]) -> tuple[Column, ...]:
    """Columns of ``<name>_objects.csv``: one row per object, physical units."""
    cols = [
        *TRACE,
        Column("t", "1", "Int64", "time point index of the labels, 0-based"),
        Column("label", "1", "Int64", "label value of the object"),
        Column("pixel_count", "1", "Int64", "pixels (voxels) in the object"),
        Column("area_um2", "um2", "float64", "area of a 2D object"),
        Column("volume_um3", "um3", "float64", "volume of a 3D object"),
        Column("centroid_z_um", "um", "float64", "centroid along Z"),
        Column("centroid_y_um", "um", "float64", "centroid along Y"),
        Column("centroid_x_um", "um", "float64", "centroid along X"),
    ]
    for c, channel in enumerate(channel_names):
        cols.append(
            Column(
                f"mean_intensity_c{c}_adu",
                "{ADU}",
                "float64",
                f"mean intensity, {channel}",
            )
        )
        cols.append(
            Column(
                f"max_intensity_c{c}_adu",
                "{ADU}",
                "float64",
                f"max intensity, {channel}",
            )
        )
    return tuple(cols)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return "" if not math.isfinite(float(value)) else repr(float(value))
    if isinstance(value, str):  # from people or files: never a formula
        return safe_cell(value)
    return str(value)


def render_csv(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> str:
    """RFC 4180 text: comma, ``.`` decimal, header, LF line ends, empty = missing."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow([_cell(row.get(c.name)) for c in columns])
    return buffer.getvalue()


def read_csv(path: Path, columns: Sequence[Column]) -> Any:
    """Load a table we wrote, with pandas and the declared dtypes (text as written)."""
    import pandas as pd

    dtypes = {c.name: c.dtype for c in columns}
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    for column in columns:
        if column.dtype == "string" and column.name in frame:
            frame[column.name] = frame[column.name].map(
                lambda v: text_of_cell(v) if isinstance(v, str) else v
            )
    return frame


def measurement_rows(
    name: str,
    acq: Acquisition,
    source_sha256: str,
    stats: PixelStatistics | None,
    qc_report: QcReport | None,
    plane_mean: NDArray[np.float64] | None = None,
    plane_min: NDArray[np.float64] | None = None,
    plane_max: NDArray[np.float64] | None = None,
) -> list[dict[str, Any]]:
    """One row per (channel, plane), from the QC statistics (else the writer's own)."""
    meta = acq.metadata
    size_t, size_c, size_z = (int(n) for n in acq_tcz(acq))
    names = channel_names(acq, size_c)
    nyquist = _nyquist_by_channel(qc_report)
    snr_by_plane: dict[tuple[int, int, int], Any] = {}
    if stats is not None:
        snr_by_plane.update(getattr(stats, "snr", {}) or {})
    for result in getattr(qc_report, "snr", None) or ():
        snr_by_plane[(result.t, result.c, result.z)] = result
    rows: list[dict[str, Any]] = []
    for c in range(size_c):
        channel_stats = (
            stats.channels[c] if stats is not None and c < len(stats.channels) else None
        )
        ceiling = channel_stats.ceiling.value if channel_stats is not None else None
        for t in range(size_t):
            for z in range(size_z):
                row: dict[str, Any] = {
                    "name": name,
                    "source_file": acq.path.name,
                    "source_sha256": source_sha256,
                    "scene": acq.scene_index,
                    "channel": c,
                    "channel_name": names[c],
                    "z": z,
                    "t": t,
                    "pixel_size_x_um": meta.pixel_size_x_um.value,
                    "pixel_size_y_um": meta.pixel_size_y_um.value,
                    "pixel_size_z_um": meta.pixel_size_z_um.value,
                    "ceiling_adu": ceiling,
                    **nyquist.get(c, {}),
                }
                plane = stats.planes.get((t, c, z)) if stats is not None else None
                if plane is not None:
                    row.update(_plane_stats(plane))
                elif plane_mean is not None:
                    row.update(
                        pixel_count=int(acq.shape[3] * acq.shape[4]),
                        mean_adu=float(plane_mean[t, c, z]),
                        min_adu=_at(plane_min, t, c, z),
                        max_adu=_at(plane_max, t, c, z),
                    )
                snr = snr_by_plane.get((t, c, z))
                if snr is not None:
                    row.update(snr=snr.snr, cnr=snr.cnr, snr_valid=snr.valid)
                rows.append(row)
    return rows


def _plane_stats(plane: PlaneStats) -> dict[str, Any]:
    """The intensity columns of one plane, from the QC statistics."""
    return {
        "pixel_count": plane.pixel_count,
        "min_adu": plane.min_adu,
        "max_adu": plane.max_adu,
        "mean_adu": plane.mean_adu,
        "median_adu": plane.median_adu,
        "p0_1_adu": plane.p0_1_adu,
        "p99_9_adu": plane.p99_9_adu,
        "frac_ceiling": plane.frac_ceiling,
        "frac_zero": plane.frac_zero,
    }


def _at(values: NDArray[np.float64] | None, t: int, c: int, z: int) -> float | None:
    return None if values is None else float(values[t, c, z])


def _nyquist_by_channel(qc_report: QcReport | None) -> dict[int, dict[str, Any]]:
    """Per channel: Nyquist pixel size and ratio for xy and z, from the QC report."""
    out: dict[int, dict[str, Any]] = {}
    results: list[Any] = []
    for entry in getattr(qc_report, "nyquist", None) or ():
        results.extend(getattr(entry, "axes", None) or (entry,))
    for item in results:
        channel = getattr(item, "channel", None)
        axis = getattr(item, "axis", None)
        if channel is None or axis not in ("x", "y", "xy", "z"):
            continue
        key = "z" if axis == "z" else "xy"
        entry = out.setdefault(int(channel), {})
        ideal = getattr(item, "nyquist_nm", None)
        if ideal is None:
            ideal = getattr(item, "ideal_nm", None)
        entry.setdefault(f"nyquist_{key}_nm", ideal)
        entry.setdefault(f"ratio_{key}", getattr(item, "ratio", None))
    return out


def acq_tcz(acq: Acquisition) -> tuple[int, int, int]:
    """T, C, Z sizes as written (RGB samples become channels)."""
    from napari_fairly.core.qc import tczyx_shape

    size_t, size_c, size_z = tczyx_shape(acq)[:3]
    return size_t, size_c, size_z


def channel_names(acq: Acquisition, size_c: int) -> list[str]:
    """Channel names as written: OME name, else fluorophore, else ``Channel <i>``."""
    names: list[str] = []
    channels = acq.metadata.channels
    if acq.dims.endswith("S"):
        samples = acq.shape[5]
        rgb = ("R", "G", "B", "A")
        for c in range(acq.shape[1]):
            base = (
                channels[c].name.value
                if c < len(channels) and channels[c].name.value
                else ""
            )
            for s in range(samples):
                names.append(f"{base} {rgb[s]}".strip())
        return names
    for c in range(size_c):
        meta = channels[c] if c < len(channels) else None
        label = None
        if meta is not None:
            label = meta.name.value or meta.fluorophore.value
        names.append(str(label) if label else f"Channel {c}")
    return names


def object_rows(
    name: str,
    acq: Acquisition,
    source_sha256: str,
    labels: NDArray[Any],
) -> tuple[tuple[Column, ...], list[dict[str, Any]]]:
    """Per-object measurements with scikit-image regionprops, in physical units.

    ``labels`` is Y×X, Z×Y×X (time point 0) or T×Z×Y×X matching the image. Intensities
    are read one channel stack at a time.
    """
    size_c = acq_tcz(acq)[1]
    lab = labels_tzyx(labels, acq)
    meta = acq.metadata
    px = meta.pixel_size_x_um.value
    py = meta.pixel_size_y_um.value
    pz = meta.pixel_size_z_um.value
    columns = object_columns(channel_names(acq, size_c))
    pixels = pixels_tczyx(acq)
    rows: list[dict[str, Any]] = []
    for t in range(lab.shape[0]):
        lab_t = lab[t].astype(np.int64, copy=False)
        is_3d = lab_t.shape[0] > 1
        per_channel = []
        for c in range(size_c):
            stack = np.asarray(
                pixels[t, c, : lab_t.shape[0]].compute(scheduler="synchronous")
            )
            per_channel.append(
                {p.label: p for p in _regions(lab_t, stack.astype(np.float64))}
            )
        for prop in _regions(lab_t):
            row: dict[str, Any] = {
                "name": name,
                "source_file": acq.path.name,
                "source_sha256": source_sha256,
                "scene": acq.scene_index,
                "t": t,
                **_geometry(prop, is_3d, (pz, py, px)),
            }
            for c in range(size_c):
                region = per_channel[c][prop.label]
                row[f"mean_intensity_c{c}_adu"] = float(region.intensity_mean)
                row[f"max_intensity_c{c}_adu"] = float(region.intensity_max)
            rows.append(row)
    return columns, rows


def labels_tzyx(labels: NDArray[Any], acq: Acquisition) -> NDArray[Any]:
    """``labels`` as T×Z×Y×X; refused unless they match the image's Y×X (and Z).

    Raises
    ------
    InvalidFormValueError
        When the shapes do not match.
    """
    size_t, _size_c, size_z = acq_tcz(acq)
    size_y, size_x = int(acq.shape[3]), int(acq.shape[4])
    lab = np.asarray(labels)
    if lab.ndim == 2:
        lab = lab[np.newaxis, np.newaxis]
    elif lab.ndim == 3:
        lab = lab[np.newaxis]
    if (
        lab.shape[1:] not in ((size_z, size_y, size_x), (1, size_y, size_x))
        or lab.shape[0] > size_t
    ):
        from napari_fairly.core.errors import InvalidFormValueError

        raise InvalidFormValueError(
            f"the labels have shape {labels.shape}, the image is Z×Y×X = "
            f"{size_z}×{size_y}×{size_x}.",
            fix="Give labels with the image's Y×X (and Z) size.",
        )
    return lab


def _geometry(
    prop: Any, is_3d: bool, size_zyx_um: tuple[float | None, ...]
) -> dict[str, Any]:
    """Label, size and centroid of one object, in µm where the pixel size is known."""
    pz, py, px = size_zyx_um
    cz, cy, cx = prop.centroid
    count = int(prop.area)
    row: dict[str, Any] = {
        "label": int(prop.label),
        "pixel_count": count,
        "centroid_z_um": cz * pz if (is_3d and pz) else None,
        "centroid_y_um": cy * py if py else None,
        "centroid_x_um": cx * px if px else None,
    }
    if is_3d:
        row["volume_um3"] = count * px * py * pz if (px and py and pz) else None
    else:
        row["area_um2"] = count * px * py if (px and py) else None
    return row


def _regions(labels: NDArray[np.int64], intensity: NDArray[Any] | None = None) -> Any:
    """scikit-image's regionprops (untyped) of ``labels``, with ``intensity``."""
    from skimage.measure import regionprops

    return regionprops(labels, intensity_image=intensity)  # type: ignore[no-untyped-call]  # scikit-image has no type hints


def written_pixels(acq: Acquisition) -> Any:
    """What a save writes: :func:`pixels_tczyx`, or, when the writer reads each plane
    straight from the file (``Acquisition.read_plane``), the reader's own lazy pixels,
    whose shape and type need no dask graph."""
    if acq.plane_reader is not None and acq.dims == "TCZYX":
        return acq.pixels
    return pixels_tczyx(acq)


def pixels_tczyx(acq: Acquisition) -> Any:
    """The acquisition's pixels with RGB samples folded into channels (lazy), as the
    checks see them."""
    from napari_fairly.core.qc import tczyx_view

    return tczyx_view(acq)


def load_labels(path: Path) -> NDArray[Any]:
    """Read a label image (TIFF or NumPy .npy) given with ``--labels``."""
    if path.suffix.lower() == ".npy":
        labels: NDArray[Any] = np.load(path, allow_pickle=False)
        return labels
    import tifffile

    return np.asarray(tifffile.imread(path))
