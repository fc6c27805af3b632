"""How an acquisition is shown: layer settings per channel, a metadata summary.

Qt-free so the npe2 reader, the Open widget and ``fairly inspect`` share one answer.
Colours follow SPEC 7.2 (emission bands); contrast limits come from a few sampled
planes, never a full pass over the data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.i18n import N_, _, current_language
from napari_fairly.core.metadata import (
    AcquisitionMetadata,
    ChannelMetadata,
    summary_rows,
)
from napari_fairly.core.model import Status

if TYPE_CHECKING:
    from napari_fairly.core.reading import Acquisition

# SPEC 7.2 emission bands (upper bound exclusive, nm) → napari colormap names
COLOR_BANDS: tuple[tuple[float, str], ...] = (
    (470.0, "blue"),
    (500.0, "cyan"),
    (560.0, "green"),
    (590.0, "yellow"),
    (640.0, "red"),
    (float("inf"), "magenta"),
)
SAMPLE_PIXELS = 1_000_000  # per sampled plane, after striding


def colormap_for(channel: ChannelMetadata) -> str:
    """napari colormap from the emission wavelength (SPEC 7.2); grey when unknown."""
    emission = channel.emission_wavelength_nm.value
    if emission is None:
        return "gray"
    return next(name for bound, name in COLOR_BANDS if emission < bound)


def channel_label(channel: ChannelMetadata) -> str:
    """Name, else fluorophore, else emission wavelength, else ``channel n`` (from 1)."""
    if channel.name.value:
        return channel.name.value
    if channel.fluorophore.value:
        return channel.fluorophore.value
    if channel.emission_wavelength_nm.value is not None:
        return f"{channel.emission_wavelength_nm.value:g} nm"
    return f"channel {channel.index + 1}"  # numbered from 1, as the panels do


def _sample_indices(n: int, k: int) -> list[int]:
    """Up to ``k`` indices evenly inside ``range(n)``; k=1 gives the middle one.

    The first and last planes of a stack are often out of focus or empty, so the
    samples are interior points.
    """
    if n <= k:
        return list(range(n))
    points = np.linspace(0, n - 1, k + 2).round().astype(int)[1:-1]
    return sorted({int(p) for p in points})


def sampled_contrast_limits(
    acq: Acquisition,
    channel: int,
    planes: int = 3,
    percentiles: tuple[float, float] = (0.1, 99.9),
) -> tuple[float, float]:
    """Contrast limits of one channel from up to ``planes`` sampled planes.

    Reads the middle time point's z planes spread inside the stack (at most
    ``planes``), strided to about a million pixels each: a 100 GB stack costs a few
    plane reads, never a full pass. Where the reader reads whole planes anyway (one
    TIFF page each) they come from ``read_plane``, without dask's scheduler; chunked
    planes are strided chunk by chunk through dask, in bounded memory.
    """
    data = acq.data
    n_t, n_z = data.shape[0], data.shape[2]
    t_mid = _sample_indices(n_t, 1)[0]
    picks = [(t_mid, z) for z in _sample_indices(n_z, planes)]
    ny, nx = data.shape[3], data.shape[4]
    step = max(1, int(np.ceil(np.sqrt(ny * nx / SAMPLE_PIXELS))))
    values = [
        np.asarray(
            acq.read_plane(t, channel, z)[::step, ::step]
            if acq.plane_reader is not None
            else data[t, channel, z, ::step, ::step].compute()
        ).ravel()
        for t, z in picks
    ]
    sample = np.concatenate(values).astype(np.float64)
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return (0.0, 1.0)
    low, high = (float(v) for v in np.percentile(sample, percentiles))
    if high <= low:
        high = low + 1.0
    return (low, high)


def channel_layer_specs(
    acq: Acquisition, sample_planes: int = 3
) -> list[dict[str, Any]]:
    """One dict per channel: ``data`` plus keyword arguments for ``viewer.add_image``.

    Keys: data (lazy; T and Z dropped when of size 1), name, scale (µm, only when the X
    and Y pixel sizes are known; an unknown Z or T step counts as 1), axis_labels,
    colormap (or rgb=True), contrast_limits, blending, metadata
    (``fairly_acquisition`` = the Acquisition, ``fairly_channel`` = index).
    """
    md = acq.metadata
    rgb = acq.dims.endswith("S")
    keep = [a for a in "TZ" if md.shape.get(a, 1) > 1] + ["Y", "X"]
    index = tuple(0 if a in "TZ" and a not in keep else slice(None) for a in "TZYX")
    sizes = {
        "T": md.time_increment_s.value,
        "Z": md.pixel_size_z_um.value,
        "Y": md.pixel_size_y_um.value,
        "X": md.pixel_size_x_um.value,
    }
    known_xy = sizes["X"] is not None and sizes["Y"] is not None
    specs = []
    for c in range(acq.shape[1]):
        channel = md.channels[c] if c < len(md.channels) else ChannelMetadata(index=c)
        data = acq.data[:, c]  # TZYX(S)
        data = data[index + ((slice(None),) if rgb else ())]
        spec: dict[str, Any] = {
            "data": data,
            "name": channel_label(channel),
            "axis_labels": tuple(a.lower() for a in keep),
            "blending": "additive",
            "metadata": {"fairly_acquisition": acq, "fairly_channel": c},
        }
        if known_xy:
            spec["scale"] = tuple(
                float(size) if a != "T" and (size := sizes[a]) is not None else 1.0
                for a in keep
            )
        if rgb:
            spec["rgb"] = True
        else:
            spec["colormap"] = colormap_for(channel)
            spec["contrast_limits"] = sampled_contrast_limits(acq, c, sample_planes)
        specs.append(spec)
    return specs


def _grouped(n: int) -> str:
    """``11,797,734`` (``11 797 734`` in French, narrow no-break spaces)."""
    text = f"{n:,}"
    return text.replace(",", "\u202f") if current_language() == "fr" else text


def size_text(md: AcquisitionMetadata) -> str:
    """``"11,797,734 bytes"``; for a folder, which is not summed on open, what its
    level-0 pixels take uncompressed."""
    if md.size_bytes is not None:
        return _("{size} bytes").format(size=_grouped(md.size_bytes))
    if md.shape and md.dtype:
        n = int(np.prod(list(md.shape.values()), dtype=np.int64))
        return _(
            "folder, not summed when opening; level 0: {size} bytes uncompressed"
        ).format(size=_grouped(n * np.dtype(md.dtype).itemsize))
    return _("folder, not summed when opening")


def summary_text(md: AcquisitionMetadata, scene_names: tuple[str, ...] = ()) -> str:
    """Human-readable summary for ``fairly inspect``: the metadata widget's rows.

    One line per value with its source; missing or invalid ones are flagged, with the
    reason and a hint on why they matter.
    """
    shape = " ".join(f"{a}{n}" for a, n in md.shape.items())
    scene = f" ({md.scene_name})" if md.scene_name else ""
    lines = [
        _head(N_("File"), str(md.source_path)),
        _head(
            N_("Size"),
            _("{size}   format {format}   reader {reader}").format(
                size=size_text(md), format=md.format, reader=md.reader
            ),
        ),
        _head(
            N_("Scene"),
            _("{number} of {count}").format(
                number=md.scene_index + 1, count=md.scene_count
            )
            + scene,
        ),
    ]
    if len(scene_names) > 1:
        listed = ", ".join(f"{i}: {n}" for i, n in enumerate(scene_names, start=1))
        lines.append(_head(N_("Scenes"), listed))
    lines += [
        _head(
            N_("Pixels"),
            _("{shape}  {dtype}  (dims {dims})").format(
                shape=shape, dtype=md.dtype, dims=md.dims
            ),
        ),
        "",
    ]
    rows = summary_rows(md)
    width = max((len(r.field) for r in rows), default=10)
    flags = {
        Status.MISSING: "MISSING ",
        Status.INVALID: "INVALID ",
        Status.INFERRED: "inferred",
        Status.OPERATOR: "operator",
    }
    for row in rows:
        flag = flags.get(row.status, "        ") if row.applies else "n/a     "
        known = row.status not in (Status.MISSING, Status.INVALID)
        value = f"{row.value} {row.unit}" if row.unit and known else row.value
        where = row.source or "not in file"
        if row.reason and row.status is not Status.PRESENT:
            where += f"  [{row.reason}]"
        lines.append(f"{flag} {row.field:<{width}}  {value:<24} {where}")
        hint = row.hint or row.not_applicable
        if hint:
            lines.append(f"{'':9}{'':<{width}}  -> {hint}")
    skipped = sum(1 for r in rows if not r.applies)
    lines += [
        "",
        _(
            "{missing} of {total} values missing or invalid ({skipped} not applicable)."
        ).format(
            missing=len(md.missing_fields()), total=len(rows) - skipped, skipped=skipped
        ),
    ]
    lines += [_("Note: {note}").format(note=note) for note in md.notes]
    return "\n".join(lines)


def _head(title: str, text: str) -> str:
    """A heading line of ``fairly inspect``: the title (an ``N_()`` text) padded."""
    return f"{_(title):<8} {text}"
