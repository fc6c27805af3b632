"""Nikon ND2: metadata with the ``nd2`` library, pixels via bioio-nd2.

Worked around here (see the data README): an uncalibrated Z (``axesCalibrated`` false)
reads as 1.0 µm in nd2 and bioio: it is missing; bioio gives no time increment; nd2
reports an excitation of 405 nm for every channel of some files while the description
text lists the lasers actually on, which win when they name one line.

Each XY position (nd2's ``P`` axis, the XYPosLoop) is a scene, with the stage position
recorded with its first frame (else the loop's point). A negative Z loop step gives its
magnitude as the z-step; the direction is kept in a note.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.formats import _bioio
from napari_fairly.core.formats._common import (
    PIXEL_SIZE,
    SceneData,
    SceneFields,
    fnum,
    length_um,
    lib_version,
    number,
    resolve_scene,
    seconds,
    stage_position,
    text,
    wavelength_nm,
    whole_number,
)
from napari_fairly.core.formats.base import FormatReader
from napari_fairly.core.metadata import (
    ChannelMetadata,
    Detector,
    Objective,
    named_stack_axis,
)
from napari_fairly.core.model import Reason, Sourced

if TYPE_CHECKING:
    from nd2 import ND2File
    from nd2.structures import Channel, Metadata

_MODES = (  # nd2 modality flag → OME AcquisitionMode, first match wins
    ("laserScanConfocal", "LaserScanningConfocalMicroscopy"),
    ("spinningDiskConfocal", "SpinningDiskConfocal"),
    ("sweptFieldConfocalPinhole", "SweptFieldConfocal"),
    ("sweptFieldConfocalSlit", "SlitScanConfocal"),
    ("multiPhoton", "MultiPhotonMicroscopy"),
    ("SIM", "StructuredIllumination"),
    ("TIRF", "TotalInternalReflection"),
    ("brightfield", "BrightField"),
    ("fluorescence", "WideField"),
)
MAX_OME_FRAMES = 2000  # above this, building OME-XML at open costs seconds
_UNITS = {"s": "s", "ms": "ms", "us": "µs", "µs": "µs", "min": "min"}


def scene_names(path: Path) -> list[str]:
    """One scene per XY position (``position i``)."""
    import nd2

    with nd2.ND2File(str(path)) as f:
        return [f"position {p}" for p in range(f.sizes.get("P", 1))]


def _blocks(description: str) -> list[str]:
    """The description split into its ``Plane #n:`` sections (one per channel)."""
    parts = re.split(r"^\s*Plane #\d+:\s*$", description, flags=re.MULTILINE)
    return parts[1:]


def _parse_date(value: str | None) -> tuple[str | None, str]:
    """ISO 8601 (local time, no zone) from ND2's ``4/17/2025  4:39:00 PM`` style text.

    US (month first, AM/PM) and European (day first, 24 h) orders both occur; with
    AM/PM the month comes first, without it the day does, unless that is impossible.
    """
    if not value:
        return None, ""
    raw = " ".join(value.split())
    formats = (
        ["%m/%d/%Y %I:%M:%S %p", "%d/%m/%Y %I:%M:%S %p"]
        if re.search(r"[AP]M$", raw, re.IGNORECASE)
        else [
            "%d/%m/%Y %H:%M:%S",
            "%m/%d/%Y %H:%M:%S",
            "%d.%m.%Y %H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
        ]
    )
    for fmt in formats:
        try:
            return dt.datetime.strptime(raw, fmt).isoformat(), fmt
        except ValueError:
            continue
    return None, ""


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read one XY position of an ND2 file."""
    import nd2

    notes: list[str] = []
    with nd2.ND2File(str(path)) as f:
        sizes = dict(f.sizes)
        names = [f"position {p}" for p in range(sizes.get("P", 1))]
        index = resolve_scene(names, scene, path)
        ome_xml = _ome_xml(f, notes)
        fields = _fields(f, path, index, len(names), notes)
        vendor = {
            "text_info": dict(f.text_info or {}),
            "metadata": _plain(f.metadata),
            "experiment": [_plain(e) for e in (f.experiment or [])],
            "attributes": _plain(f.attributes),
            "sizes": sizes,
        }
    image = _bioio.open_image(path, "bioio_nd2")
    data = _bioio.scene_pixels(image, index, path)
    return SceneData(
        data=data,
        scene_names=tuple(names),
        fields=fields,
        reader=f"{_bioio.plugin_version('bioio_nd2')} (pixels) + {lib_version('nd2')}",
        notes=notes,
        ome_xml=ome_xml,
        vendor_metadata=vendor,
        scene_index=index,
    )


def _ome_xml(f: ND2File, notes: list[str]) -> str | None:
    """nd2's OME-XML view of the file; None (and a note) when it is too long to build
    or nd2 cannot build it."""
    frames = int(f.attributes.sequenceCount or 0)
    if frames > MAX_OME_FRAMES:  # nd2 reads every frame's metadata to build it
        notes.append(
            f"OME-XML not built: {frames} frames would take long to list; the "
            "vendor metadata is kept."
        )
        return None
    try:
        return str(f.ome_metadata().to_xml())
    except Exception as err:  # nd2's OME export is a view, not the source
        notes.append(f"nd2 could not build OME-XML ({type(err).__name__}).")
        return None


def _fields(
    f: ND2File, path: Path, index: int, count: int, notes: list[str]
) -> SceneFields:
    """The values of XY position ``index`` (of ``count``)."""
    sizes = dict(f.sizes)
    meta = f.metadata
    experiment = list(f.experiment or [])
    loops = {type(e).__name__: e for e in experiment}
    text_info = f.text_info or {}
    description = text_info.get("description", "")
    camera = re.search(r"Camera Name:\s*([^\r\n]+)", description)
    return {
        "significant_bits": whole_number(
            f.attributes.bitsPerComponentSignificant,
            "nd2:attributes.bitsPerComponentSignificant",
        ),
        **_pixel_sizes(meta, f.voxel_size(), loops, notes),
        "stack_axis": _stack_axis(sizes, loops),
        "position": stage_position(
            _stage_position(f, experiment, index),
            "position",
            f"{path.name} XY positions",
            index,
            count,
        ),
        "time_increment_s": _time_increment(
            loops, _frame_times(f, sizes), sizes, notes
        ),
        "acquisition_date": _acquisition_date(text_info.get("date")),
        "microscope": text(
            _described(description, "Microscope"),
            "nd2:text_info.description 'Microscope:'",
        ),
        "instrument_manufacturer": Sourced.inferred(
            "Nikon", "nd2 file format (Nikon NIS-Elements)"
        ),
        "objective": _objective(meta),
        "channels": _channels(
            meta, description, camera.group(1).strip() if camera else None, notes
        ),
    }


def _described(description: str, label: str) -> str | None:
    """The rest of the description's line ``<label>: …`` (as written), or None."""
    match = re.search(label + r":\s*([^\r\n]+)", description)
    return match.group(1) if match else None


def _acquisition_date(raw: str | None) -> Sourced[str]:
    iso, _fmt = _parse_date(raw)
    if not iso:
        return Sourced.missing("nd2:text_info.date")
    return Sourced.found(iso, "nd2:text_info.date (local time, no zone)", raw=raw)


def _pixel_sizes(
    meta: Metadata,
    voxel: tuple[float, float, float],
    loops: dict[str, Any],
    notes: list[str],
) -> SceneFields:
    """X and Y where calibrated (an uncalibrated axis reads as 1.0), and the z-step."""
    volume = meta.channels[0].volume if meta and meta.channels else None
    calibrated = tuple(volume.axesCalibrated) if volume else (False, False, False)
    fields: SceneFields = {}
    for k, axis in enumerate("xy"):
        where = f"nd2:metadata.channels[0].volume.axesCalibration[{k}]"
        fields[PIXEL_SIZE[axis]] = (
            length_um(voxel[k], "µm", where)
            if calibrated[k]
            else Sourced.missing(where + " (axis not calibrated)", unit="µm")
        )
    fields["pixel_size_z_um"] = _z_step(voxel[2], calibrated[2], loops, notes)
    return fields


def _objective(meta: Metadata) -> Objective:
    """The objective as the first channel's microscope states it (no immersion)."""
    mic = meta.channels[0].microscope if meta and meta.channels else None
    base = "nd2:metadata.channels[0].microscope"
    return Objective(
        model=text(mic.objectiveName if mic else None, base + ".objectiveName"),
        magnification=number(
            mic.objectiveMagnification if mic else None,
            base + ".objectiveMagnification",
        ),
        na=number(
            mic.objectiveNumericalAperture if mic else None,
            base + ".objectiveNumericalAperture",
        ),
        immersion=Sourced.missing("not stated in ND2 files"),
        refractive_index=number(
            mic.immersionRefractiveIndex if mic else None,
            base + ".immersionRefractiveIndex",
        ),
    )


def _z_step(
    value: float, calibrated: bool, loops: dict[str, Any], notes: list[str]
) -> Sourced[float]:
    """The Z calibration, else the Z loop's step; an uncalibrated Z of 1.0 is nd2's
    default, not a step. A negative step gives its magnitude, the direction a note.
    """
    loop = loops.get("ZStackLoop")
    step = fnum(loop.parameters.stepUm) if loop is not None else None
    if loop is not None and step is not None and step < 0:
        notes.append(
            f"the Z loop's step is negative ({step:g} µm): z decreases from one plane "
            f"to the next; the z-step is its magnitude, {-step:g} µm."
        )
    if loop is not None and not loop.parameters.bottomToTop:
        notes.append("the Z stack was acquired top to bottom (ZStackLoop.bottomToTop).")
    where = "nd2:metadata.channels[0].volume.axesCalibration[2]"
    if calibrated:
        return length_um(value, "µm", where)
    if loop is not None:
        found = length_um(
            abs(step) if step else step, "µm", "nd2:experiment.ZStackLoop.stepUm"
        )
        return found.replace(raw=f"{step:g}") if step and step < 0 else found
    if value:
        notes.append(
            f"Z step {value} µm in the file is a default (axis not calibrated): "
            "treated as missing."
        )
    return Sourced.missing(where + " (axis not calibrated)", unit="µm")


def _stack_axis(sizes: dict[str, int], loops: dict[str, Any]) -> Sourced[str]:
    """Z and T of an ND2 file are its experiment loops: named by the file."""
    named = [k for k in ("TimeLoop", "NETimeLoop", "ZStackLoop") if k in loops]
    return named_stack_axis(sizes, f"nd2:experiment ({', '.join(named) or 'loops'})")


def _first_frame(experiment: list[Any], position: int) -> int:
    """Sequence index of the first frame of XY position ``position``."""
    counts = [int(loop.count) for loop in experiment]
    coords = [position if loop.type == "XYPosLoop" else 0 for loop in experiment]
    if not counts or any(c >= n for c, n in zip(coords, counts, strict=True)):
        return 0
    return int(np.ravel_multi_index(coords, counts))


def _stage_position(
    f: Any, experiment: list[Any], position: int
) -> dict[str, Sourced[float]]:
    """Stage position of an XY position: recorded with its first frame, else the
    point of the XY loop (its Z only when the loop sets Z).
    """
    frame = _first_frame(experiment, position)
    try:
        recorded = f.frame_metadata(frame).channels[0].position.stagePositionUm
    except Exception:  # legacy files and damaged frame metadata have none
        recorded = None
    loop = next((e for e in experiment if e.type == "XYPosLoop"), None)
    points = loop.parameters.points if loop is not None else []
    point = points[position].stagePositionUm if position < len(points) else None
    points_set_z = bool(loop is not None and loop.parameters.isSettingZ)
    out: dict[str, Sourced[float]] = {}
    for axis in "xyz":
        key = f"stage_{axis}_um"
        if recorded is not None and fnum(getattr(recorded, axis, None)) is not None:
            where = f"nd2:frame_metadata({frame}).channels[0].position.stagePositionUm"
            out[key] = number(
                getattr(recorded, axis), f"{where}.{axis}", "µm", positive=False
            )
        elif point is not None and (axis != "z" or points_set_z):
            where = f"nd2:experiment.XYPosLoop.parameters.points[{position}]"
            out[key] = number(
                getattr(point, axis),
                f"{where}.stagePositionUm.{axis}",
                "µm",
                positive=False,
            )
        else:
            out[key] = Sourced.missing("nd2:frame_metadata position", unit="µm")
    return out


def _plain(obj: Any) -> Any:
    """A dataclass tree as plain dicts and lists (for the vendor-metadata view)."""
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    return obj


def _frame_times(f: Any, sizes: dict[str, int]) -> list[float]:
    """Relative times (ms) of the first frames along T, from the frame clock."""
    n_t = sizes.get("T", 1)
    if n_t < 2:
        return []
    per_t = 1
    for (
        axis,
        n,
    ) in sizes.items():  # frames (not channels, not Y/X) inside one time point
        if axis not in ("T", "C", "Y", "X", "S") and list(sizes).index(axis) > list(
            sizes
        ).index("T"):
            per_t *= n
    times = []
    for t in range(min(n_t, 20)):
        times.append(f.frame_metadata(t * per_t).channels[0].time.relativeTimeMs)
    return times


def _time_increment(
    loops: dict[str, Any],
    frame_times: list[float],
    sizes: dict[str, int],
    notes: list[str],
) -> Sourced[float]:
    loop = loops.get("TimeLoop") or loops.get("NETimeLoop")
    period = getattr(loop.parameters, "periodMs", None) if loop is not None else None
    if period:
        return seconds(period, "ms", "nd2:experiment.TimeLoop.parameters.periodMs")
    diff = (
        getattr(getattr(loop, "parameters", None), "periodDiff", None) if loop else None
    )
    if diff is not None and diff.avg:
        return seconds(
            diff.avg, "ms", "nd2:experiment.TimeLoop.parameters.periodDiff.avg"
        )
    if len(frame_times) > 1:
        steps = [b - a for a, b in itertools.pairwise(frame_times)]
        step_ms = statistics.median(steps)
        if step_ms > 0:
            notes.append(
                "time increment measured from the frame clock (median of "
                f"{len(steps)} steps); the file sets no interval."
            )
            return Sourced.inferred(
                step_ms / 1000.0,
                "nd2:frame_metadata(i).channels[0].time.relativeTimeMs (median step)",
                unit="s",
            )
    if sizes.get("T", 1) > 1:
        return Sourced.missing("nd2:experiment.TimeLoop.parameters.periodMs", unit="s")
    return Sourced.missing("nd2:experiment.TimeLoop", Reason.NOT_APPLICABLE, unit="s")


def _channels(
    meta: Metadata, description: str, camera: str | None, notes: list[str]
) -> tuple[ChannelMetadata, ...]:
    """Each channel: nd2's metadata, and the description's ``Plane #n:`` section."""
    channels = (meta.channels or []) if meta else []
    blocks = _blocks(description)
    if not blocks and len(channels) == 1:
        blocks = [description]  # one channel: no "Plane #1:" section, all is its own
    sections = len(blocks) > 1 or "Plane #" in description
    return tuple(
        _channel(
            i,
            ch,
            blocks[i] if i < len(blocks) else "",
            f"nd2:text_info.description 'Plane #{i + 1}'"
            if sections
            else "nd2:text_info.description",
            camera,
            notes,
        )
        for i, ch in enumerate(channels)
    )


def _channel(
    i: int,
    ch: Channel,
    block: str,
    block_where: str,
    camera: str | None,
    notes: list[str],
) -> ChannelMetadata:
    base = f"nd2:metadata.channels[{i}]"
    lines = [
        float(x) for x in re.findall(r"ExW:\s*(\d+(?:\.\d+)?)[^\r\n]*?\bOn\b", block)
    ]
    flags = list(ch.microscope.modalityFlags or []) if ch.microscope else []
    modality = base + ".microscope.modalityFlags"
    pinhole = ch.microscope.pinholeDiameterUm if ch.microscope else None
    color = ch.channel.color
    binning = re.search(r"Binning:\s*(\d+x\d+)", block)
    return ChannelMetadata(
        index=i,
        name=text(ch.channel.name, base + ".channel.name"),
        fluorophore=Sourced.missing("not stated in ND2 files"),
        excitation_wavelength_nm=_excitation(
            ch.channel.excitationLambdaNm,
            lines,
            base,
            block_where,
            ch.channel.name,
            notes,
        ),
        emission_wavelength_nm=wavelength_nm(
            ch.channel.emissionLambdaNm, "nm", base + ".channel.emissionLambdaNm"
        ),
        exposure_s=_exposure(block, block_where + " 'Exposure:'"),
        acquisition_mode=text(
            next((mode for flag, mode in _MODES if flag in flags), None), modality
        ),
        illumination=text(
            "Epifluorescence" if "fluorescence" in flags else None, modality
        ),
        contrast_method=text(_contrast(flags), modality),
        pinhole_um=length_um(pinhole, "µm", base + ".microscope.pinholeDiameterUm"),
        color_rgb=text(
            f"{color.r:02X}{color.g:02X}{color.b:02X}" if color else None,
            base + ".channel.color",
        ),
        detector=Detector(
            model=text(camera, "nd2:text_info.description 'Camera Name:'"),
            binning=text(
                binning.group(1) if binning else None, block_where + " 'Binning:'"
            ),
        ),
    )


def _exposure(block: str, where: str) -> Sourced[float]:
    """``Exposure: 100 ms`` in the channel's section of the description."""
    found = re.search(r"Exposure:\s*([\d.]+)\s*(ms|s|us|µs|min)\b", block)
    if not found:
        return Sourced.missing(where, unit="s")
    return seconds(found.group(1), _UNITS[found.group(2)], where)


def _contrast(flags: Sequence[str]) -> str | None:
    """OME ContrastMethod from nd2's modality flags."""
    if "fluorescence" in flags:
        return "Fluorescence"
    return "Brightfield" if "brightfield" in flags else None


def _excitation(
    stated: float | None,
    lines: list[float],
    base: str,
    block_where: str,
    name: str,
    notes: list[str],
) -> Sourced[float]:
    """The channel's excitation: the laser line that was on wins over nd2's value."""
    where = base + ".channel.excitationLambdaNm"
    value = fnum(stated)
    if not lines or (
        value is not None
        and any(abs(value - ln) < 1 for ln in lines)
        and len(lines) == 1
    ):
        return wavelength_nm(value, "nm", where)
    if len(lines) == 1:
        if value is not None and abs(value - lines[0]) >= 1:
            notes.append(
                f"channel {name!r}: the file's excitation {value:g} nm disagrees "
                f"with the only laser line on ({lines[0]:g} nm, description text); "
                "the laser line is used."
            )
        return Sourced.found(lines[0], block_where + " 'ExW: … On'", unit="nm")
    listed = ", ".join(f"{ln:g}" for ln in lines)
    if value is not None and not any(abs(value - ln) < 1 for ln in lines):
        notes.append(
            f"channel {name!r}: the file's excitation {value:g} nm is none of "
            f"the laser lines on ({listed} nm); excitation left as not trusted."
        )
        return Sourced.invalid(
            f"{value:g}", where, "conflicts with the laser lines on", unit="nm"
        )
    if value is None:
        notes.append(
            f"channel {name!r}: several laser lines on ({listed} nm); "
            "excitation not stated."
        )
    return wavelength_nm(value, "nm", where)


class Nd2Reader(FormatReader):
    """Nikon ND2 files."""

    def scene_names(self, path: Path) -> list[str]:
        """See :meth:`FormatReader.scene_names`."""
        return scene_names(path)

    def open_scene(self, path: Path, scene: int | str | None) -> SceneData:
        """See :meth:`FormatReader.open_scene`."""
        return open_scene(path, scene)
