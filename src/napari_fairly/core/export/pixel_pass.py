"""The save's one pass over the pixels: the OME-Zarr, the QC statistics and the hashes.

Each plane is read once (SPEC 7): the writer compresses it while the statistics
accumulator and the SNR plane cache see the same plane, and the planes the read-back
compares are hashed as they pass. SNR of a channel is measured as soon as the pass
has read all of it (see ``EarlySnr``), while the next channels are written. The
OME-Zarr is written with its OME model (``OME/METADATA.ome.xml``, :mod:`.ome_xml`),
sharded at NGFF 0.5; its labels follow the pass (:mod:`.labels`).
"""

from __future__ import annotations

from collections.abc import Generator
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from napari_fairly.core.export import tables
from napari_fairly.core.export.plan import OutputRole
from napari_fairly.core.export.verify import plane_key, spread_planes
from napari_fairly.core.export.zarr_writer import (
    ChannelDisplay,
    PlaneSink,
    WrittenZarr,
    ZarrSpec,
    emission_colour,
    write_ome_companion,
    write_ome_zarr_steps,
)
from napari_fairly.core.i18n import _
from napari_fairly.core.progress import Note, NoteKind, Progress

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from napari_fairly.core.export.plan import DatasetPlan
    from napari_fairly.core.export.request import SaveRequest
    from napari_fairly.core.export.safety import RawFileWatch
    from napari_fairly.core.qc import (
        EarlySnr,
        PixelStatistics,
        PlaneStatsAccumulator,
        QcReport,
        SnrPlaneCache,
    )
    from napari_fairly.core.reading import Acquisition
    from napari_fairly.core.session import Session

R = TypeVar("R")
PlaneIndex = tuple[int, int, int]  # (t, c, z)
# level-0 planes hashed while read, then decoded and hashed again before the rename
VERIFY_SAMPLE_PLANES = 32


@dataclass(frozen=True)
class PixelPass:
    """What the pass wrote and measured."""

    written: WrittenZarr
    plane_hashes: dict[str, str]  # "t,c,z" → sha256 of the planes hashed while read
    verified_planes: list[PlaneIndex]  # the planes the read-back compares
    total: int  # level-0 planes
    ome_xml: bool = False  # OME/METADATA.ome.xml written


class QcFeed:
    """The quality checks' side of the pass: statistics and SNR planes as they pass.

    Nothing is taken when the session's report already holds its statistics. With
    no report at all, SNR of each channel starts as soon as the channel is read.
    ``close()`` stops the SNR measurements not started.
    """

    def __init__(
        self, session: Session, shape: tuple[int, ...], dtype: np.dtype[Any]
    ) -> None:
        self.report: QcReport | None = session.report
        self.stats: PixelStatistics | None = getattr(self.report, "stats", None)
        self._size_c = shape[1]
        self.accumulator: PlaneStatsAccumulator | None = None
        self.cache: SnrPlaneCache | None = None
        self.early_snr: EarlySnr | None = None
        if self.stats is not None:
            return
        from napari_fairly.core.qc import PlaneStatsAccumulator, SnrPlaneCache

        bits = session.acquisition.metadata.significant_bits.value
        self.accumulator = PlaneStatsAccumulator(dtype, shape, bits)
        # the planes SNR will measure are kept as they pass: QC reads nothing again
        self.cache = SnrPlaneCache(shape, dtype.itemsize)
        self._add, self._keep = self.accumulator.add_plane, self.cache
        if self.report is None:  # measured while the next channels are written
            self.early_snr = _early_snr(session, self.cache, self.accumulator)

    @property
    def plane_sink(self) -> PlaneSink | None:
        """What the writer hands every plane to; None when nothing is measured."""
        return self._sink if self.accumulator is not None else None

    def _sink(self, t: int, c: int, z: int, plane: NDArray[Any]) -> None:
        """Statistics of the plane, then the SNR cache keeps it if SNR may need it."""
        self._keep(self._add(t, c, z, plane), plane)

    @property
    def reads_no_plane_again(self) -> bool:
        """True when the checks read no plane from the file after the pass."""
        return self.report is not None or (
            self.cache is not None and self.cache.enabled
        )

    def windows(self) -> list[tuple[float, float]] | None:
        """Display windows from the QC statistics (0.1/99.9 percentiles per channel)."""
        if self.stats is None and self.accumulator is not None:
            self.stats = self.accumulator.result()
        channels = getattr(self.stats, "channels", None)
        if not channels or len(channels) != self._size_c:
            return None
        return [(float(ch.p0_1_adu), float(ch.p99_9_adu)) for ch in channels]

    def kept_planes(self) -> dict[PlaneIndex, NDArray[Any]] | None:
        """The planes kept for SNR, by (t, c, z)."""
        return self.cache.planes() if self.cache is not None else None

    def release_planes(self) -> None:
        """Drop the planes kept for SNR, once the checks have measured it."""
        if self.cache is not None:
            self.cache.clear()

    def close(self) -> None:
        """Drop the SNR measurements not started; wait for the running one."""
        if self.early_snr is not None:
            self.early_snr.close()


def _early_snr(
    session: Session, cache: SnrPlaneCache, accumulator: PlaneStatsAccumulator
) -> EarlySnr:
    """SNR measured during the write, channel by channel (see ``EarlySnr``)."""
    from napari_fairly.core.qc import (
        EarlySnr,
        SnrSettings,
        resolve_inputs,
        resolve_thresholds,
    )

    settings = SnrSettings.build(
        accumulator.shape_tczyx,
        resolve_inputs(session.acquisition.metadata, session.parameters),
        resolve_thresholds(session.thresholds),
    )
    return EarlySnr(cache, accumulator, settings, session.language)


def channel_displays(
    acq: Acquisition, dtype: np.dtype[Any]
) -> tuple[ChannelDisplay, ...]:
    """Label, colour and window range per written channel (SPEC 7.2)."""
    size_c = tables.acq_tcz(acq)[1]
    names = tables.channel_names(acq, size_c)
    low, high = _value_range(acq, dtype)
    if acq.dims.endswith("S"):
        rgb = ("FF0000", "00FF00", "0000FF", "FFFFFF")
        samples = acq.shape[5]
        return tuple(
            ChannelDisplay(names[c], rgb[c % samples], low, high) for c in range(size_c)
        )
    channels = acq.metadata.channels
    displays = []
    for c in range(size_c):
        colour = "FFFFFF"
        if c < len(channels):
            stated = channels[c].color_rgb.value
            colour = (
                str(stated).upper()
                if stated
                else emission_colour(channels[c].emission_wavelength_nm.value)
            )
        displays.append(ChannelDisplay(names[c], colour, low, high))
    return tuple(displays)


def _value_range(
    acq: Acquisition, dtype: np.dtype[Any]
) -> tuple[float | None, float | None]:
    """The range of values the data type holds (significant bits); None for floats."""
    if not np.issubdtype(dtype, np.integer):
        return None, None
    info = np.iinfo(dtype)
    bits = acq.metadata.significant_bits.value
    high = float(info.max)
    if bits and bits < 8 * dtype.itemsize and info.min == 0:
        high = float(2**bits - 1)
    return float(info.min), high


def _scale(acq: Acquisition) -> tuple[float | None, ...]:
    meta = acq.metadata
    return (
        meta.time_increment_s.value,
        None,
        meta.pixel_size_z_um.value,
        meta.pixel_size_y_um.value,
        meta.pixel_size_x_um.value,
    )


def no_ome_model(name: str, pixels: Any) -> Note | None:
    """A note when the pixels' type has no OME name (64-bit integers, 16-bit
    floats): the image is then saved without its OME model. None otherwise."""
    from napari_fairly.core.export.ome_xml import OME_PIXEL_TYPES

    dtype = np.dtype(pixels.dtype)
    if dtype.name in OME_PIXEL_TYPES:
        return None
    text = _(
        "{name}: OME/METADATA.ome.xml not written: OME has no pixel type for "
        "{dtype} data"
    ).format(name=name, dtype=dtype.name)
    return Note(NoteKind.NO_OME_MODEL, text)


def _ome_model_meanwhile(
    session: Session, name: str, pixels: Any, side: Executor
) -> Future[str]:
    """The image's OME model (:mod:`.ome_xml`) as XML, built on the save's side
    thread while the pass compresses the planes.

    ome-types takes ~1 s to import and the model's validation some more: done after
    the pass, the save waited for it on one core. The model describes the session
    as the save started.
    """
    from napari_fairly.core.export.ome_xml import dataset_ome_xml

    shape = tuple(int(n) for n in pixels.shape)
    names = tuple(tables.channel_names(session.acquisition, shape[1]))
    dtype = np.dtype(pixels.dtype)
    return side.submit(dataset_ome_xml, session, name, shape, dtype, names)


def relabelled(
    job: Generator[Progress, None, R], total: int, step: str
) -> Generator[Progress, None, R]:
    """``job``'s progress as ``done`` of ``total``, named ``step``; closed on cancel."""
    try:
        while True:
            try:
                report = next(job)
            except StopIteration as stop:
                result: R = stop.value
                return result
            yield Progress(report.done, total, step)
    finally:
        job.close()


def pixel_pass_steps(
    request: SaveRequest,
    session: Session,
    plan: DatasetPlan,
    partial: Path,
    feed: QcFeed,
    raw: RawFileWatch,
    label: str,
    with_ome_model: bool,
    side: Executor,
) -> Generator[Progress, None, PixelPass]:
    """Write ``session``'s pixels into ``partial``, feeding ``feed`` the same planes,
    then the image's OME model (unless ``with_ome_model`` is False: see
    :func:`no_ome_model`). ``side``: the thread the OME model and the zarr metadata
    are made on meanwhile.

    When nothing reads the raw file after the pass (no labels, no raw copy, and the
    checks keep their planes), its second hash starts with the last plane read.
    """
    acq = session.acquisition
    pixels = tables.written_pixels(acq)  # RGB samples become channels
    shape = tuple(int(n) for n in pixels.shape)
    dtype = np.dtype(pixels.dtype)
    spec = ZarrSpec(
        name=plan.name,
        ngff_version=request.ngff_version,
        scale_tczyx=_scale(acq),
        channels=channel_displays(acq, dtype),
        fsync=False,  # the whole dataset folder is flushed once, before the rename
    )
    reads_last = not request.reads_raw_later and feed.reads_no_plane_again
    # the planes the read-back compares are the ones hashed while reading
    verified = spread_planes(
        shape, None if request.verify_all_planes else VERIFY_SAMPLE_PLANES
    )
    writer = write_ome_zarr_steps(
        pixels,
        partial / plan.path(OutputRole.IMAGE),
        spec,
        plane_sink=feed.plane_sink,
        workers=request.workers,
        windows=feed.windows,
        # one TIFF page per plane: each writer task reads its plane from the file
        read_plane=acq.read_plane
        if acq.plane_reader is not None and acq.dims == "TCZYX"
        else None,
        source_read=raw.start_rehash if reads_last else None,
        hash_planes=set(verified),
        side=side,
    )
    total = shape[0] * shape[1] * shape[2]
    model = None
    if with_ome_model:
        model = _ome_model_meanwhile(session, plan.name, pixels, side)
    try:
        written = yield from relabelled(writer, total, f"{label}: writing OME-Zarr")
    except BaseException:
        if model is not None:
            model.cancel()  # not needed any more, if not started
        raise
    finally:
        if model is not None:
            wait([model])  # a failed or cancelled pass leaves no thread behind
    if model is not None:
        yield Progress(total, total, _("{scene}: OME metadata").format(scene=label))
        # raises OmeModelError when no valid model can be built (a bug: the save stops)
        write_ome_companion(written.path, model.result())
    hashes = {plane_key(*k): v for k, v in sorted(written.plane_sha256.items())}
    return PixelPass(written, hashes, verified, total, with_ome_model)
