"""Save scenes as FAIR datasets: OME-Zarr, sidecar, CSVs, RO-Crate (SPEC 7, 8).

Every dataset is written into ``<dest>/.<name>.partial-<uuid>/``, verified, then
renamed to ``<dest>/<name>/``. The pixels are read once: the same planes feed the
OME-Zarr writer and the QC statistics.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from napari_fairly.core.errors import FairlyError, OutputError
from napari_fairly.core.export import rocrate, sidecar, tables
from napari_fairly.core.export.safety import (
    FileFingerprint,
    check_destination_outside_source,
    copy_verified,
    explain_os_error,
    find_partials,
    flush_tree,
    make_partial,
    probe_destination,
    publish,
    write_new_file,
)
from napari_fairly.core.export.verify import (
    check_documents,
    check_zarr,
    file_sha256,
    plane_key,
    spread_planes,
)
from napari_fairly.core.export.zarr_writer import (
    ChannelDisplay,
    ZarrSpec,
    emission_colour,
    json_dumps,
    write_ome_zarr_steps,
)
from napari_fairly.core.progress import Progress

if TYPE_CHECKING:
    from napari_fairly.core.naming import NameParts
    from napari_fairly.core.reading import Acquisition
    from napari_fairly.core.session import Session

OnExists = Literal["bump", "refuse"]
PATH_WARNING_CHARS = 250  # SPEC 1.2 convention
# level-0 planes hashed while read, then decoded and hashed again before the rename
VERIFY_SAMPLE_PLANES = 32


@dataclass(frozen=True)
class SaveRequest:
    """Everything a save needs; one dataset is written per session (scene).

    Parameters
    ----------
    sessions
        The opened scenes, each with its form, corrections, QC report and the
        operator's decisions (:class:`~napari_fairly.core.session.Session`). A
        report the session already holds is used as it is (no check runs again).
    destination
        Output folder; the template's ``destination_layout`` sub-folders go below it.
    accept_qc_failures_by
        Who accepts, for this save, checks that fail during it (``fairly save
        --accept-qc-failures``; a batch policy): recorded in the sidecar. Without it,
        a failed check the session's operator did not accept stops the save and
        nothing is written.
    """

    sessions: tuple[Session, ...]
    destination: Path
    ngff_version: Literal["0.4", "0.5"] = "0.4"
    on_exists: OnExists = "bump"
    labels: Path | np.ndarray | None = None
    copy_raw: bool = False
    accept_qc_failures_by: str | None = None
    fsync: bool = True
    workers: int | None = None
    verify_all_planes: bool = False  # else a spread sample (VERIFY_SAMPLE_PLANES)

    @property
    def template(self) -> Any:
        """The facility template of the sessions (destination layout, thresholds)."""
        return self.sessions[0].template if self.sessions else None


@dataclass
class SavedDataset:
    """One dataset written and verified."""

    folder: Path
    name: str
    zarr_path: Path
    sidecar_path: Path
    scene_index: int
    requested_name: str
    qc_report: Any = None
    files: list[str] = field(default_factory=list)

    @property
    def bumped(self) -> bool:
        """True when the requested version existed and the next one was used."""
        return self.name != self.requested_name


@dataclass
class SaveResult:
    """What a save produced, and the left-over temporary folders it found."""

    datasets: list[SavedDataset] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)


def dataset_name(form: Any, acq: Acquisition) -> tuple[NameParts, str]:
    """Name parts and name of one scene's dataset (``-sNN`` for multi-scene files)."""
    from napari_fairly.core.naming import build_name, with_scene_suffix

    parts = form.name_parts()
    if acq.metadata.scene_count > 1:
        parts = with_scene_suffix(parts, acq.scene_index)
    from dataclasses import replace

    parts = replace(parts, role=None, ext="")
    return parts, build_name(parts)


def destination_folder(base: Path, template: Any, parts: NameParts, form: Any) -> Path:
    """``base`` plus the template's layout sub-folders (``{project}``…), checked."""
    options = getattr(template, "options", None)
    layout = getattr(options, "destination_layout", "") if options is not None else ""
    if not layout:
        return base
    from napari_fairly.core.settings import destination_subdir

    study = ""
    study_model = getattr(form, "study", None)
    if study_model is not None:
        study = str(getattr(study_model, "acronym", "") or "")
    return base.joinpath(*destination_subdir(layout, parts, study).parts)


def channel_displays(
    acq: Acquisition, dtype: np.dtype[Any]
) -> tuple[ChannelDisplay, ...]:
    """Label, colour and window range per written channel (SPEC 7.2)."""
    size_c = tables.acq_tcz(acq)[1]
    names = tables.channel_names(acq, size_c)
    bits = acq.metadata.significant_bits.value
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        low: float | None = float(info.min)
        high: float | None = float(info.max)
        if bits and bits < 8 * dtype.itemsize and info.min == 0:
            high = float(2**bits - 1)
    else:
        low = high = None
    displays = []
    if acq.dims.endswith("S"):
        rgb = ("FF0000", "00FF00", "0000FF", "FFFFFF")
        samples = acq.data.shape[5]
        for c in range(size_c):
            displays.append(ChannelDisplay(names[c], rgb[c % samples], low, high))
        return tuple(displays)
    for c in range(size_c):
        meta = acq.metadata.channels[c] if c < len(acq.metadata.channels) else None
        colour = "FFFFFF"
        if meta is not None:
            if meta.color_rgb.value:
                colour = str(meta.color_rgb.value).upper()
            else:
                colour = emission_colour(meta.emission_wavelength_nm.value)
        displays.append(ChannelDisplay(names[c], colour, low, high))
    return tuple(displays)


def _scale(acq: Acquisition) -> tuple[float | None, ...]:
    meta = acq.metadata
    return (
        meta.time_increment_s.value,
        None,
        meta.pixel_size_z_um.value,
        meta.pixel_size_y_um.value,
        meta.pixel_size_x_um.value,
    )


def _early_snr(session: Session, cache: Any, accumulator: Any) -> Any:
    """SNR measured during the write, channel by channel (see ``EarlySnr``)."""
    from napari_fairly.core.qc.overrides import resolve_inputs
    from napari_fairly.core.qc.results import resolve_thresholds
    from napari_fairly.core.qc.runner import EarlySnr, SnrSettings

    settings = SnrSettings.build(
        accumulator.shape_tczyx,
        resolve_inputs(session.acquisition.metadata, session.parameters),
        resolve_thresholds(session.thresholds),
    )
    return EarlySnr(cache, accumulator, settings)


def _run_qc(
    session: Session,
    stats: Any,
    snr_planes: dict[tuple[int, int, int], np.ndarray] | None = None,
    early_snr: Any = None,
) -> Generator[Progress, None, Any]:
    """Run the quality checks on statistics already computed (no second read)."""
    from napari_fairly.core.qc import run_qc_steps

    key = session.inputs_key()
    report = yield from run_qc_steps(
        session.acquisition,
        session.parameters,
        session.thresholds,
        stats=stats,
        lang=session.language,
        snr_planes=snr_planes,
        early_snr=early_snr,
    )
    session.set_report(report, key)
    return report


def _decide(session: Session, report: Any, request: SaveRequest) -> Any:
    """The acceptance the save records; raises when a failed check is not accepted."""
    from napari_fairly.core.errors import QcNotAcceptedError
    from napari_fairly.core.session import failed_checks

    if report is None or not report.failed:
        return None
    accepted = session.acceptance
    if accepted is None and request.accept_qc_failures_by is not None:
        accepted = session.accept_failures(request.accept_qc_failures_by)
    if accepted is None:
        failed = list(failed_checks(report))
        raise QcNotAcceptedError(
            f"quality checks failed ({', '.join(failed)}); nothing was written.",
            failed=failed,
            fix="Correct the acquisition values if they are wrong, or accept the "
            "failed checks (the Save panel, or fairly save --accept-qc-failures): "
            "the acceptance is recorded with the dataset.",
            path=session.source.path,
        )
    return accepted


def _check_form_hash(form: Any, source_sha: str, path: Path) -> None:
    """A form that records its file's sha256 is refused for another file."""
    from napari_fairly.core.errors import FormNotReadyError

    recorded = str(getattr(form.image_data, "sha256", "") or "")
    if recorded and recorded != source_sha:
        problem = (
            "the form was made for another file (its sha256 differs from "
            f"{path.name}'s); nothing was written"
        )
        raise FormNotReadyError(
            f"{problem}.",
            problems=[("image_data.sha256", problem)],
            fix="Make the form for this file (fairly form FILE).",
            path=path,
        )


def _form_json(form: Any) -> Any:
    """The whole form with the source of every value (file, template, operator…)."""
    dump = getattr(form, "model_dump", None)
    return dump(mode="json") if dump is not None else None


def _qc_json(report: Any) -> Any:
    if report is None:
        return {"status": "not_run"}
    text = report.to_json()
    return json.loads(text) if isinstance(text, str) else text


def _write_text(path: Path, text: str, fsync: bool) -> str:
    """Write a new text file (never over an existing one); return its sha256."""
    data = text.encode("utf-8")
    write_new_file(
        path, data, fsync=False
    )  # the folder is flushed once before the rename
    del fsync
    import hashlib

    return hashlib.sha256(data).hexdigest()


def preload() -> None:
    """Import what a save uses and load its compiled kernels, ahead of the first save.

    Otherwise the first save of a session spends ~0.8 s (here) importing zarr, numba,
    scikit-image and the RO-Crate library and loading the kernels from numba's cache.
    The Save widget calls it in a background thread when it opens; safe to call
    several times and from any thread.
    """
    import importlib

    # writer and read-back, the crate check, the SNR estimator
    for module in (
        "zarr",
        "rocrate.rocrate",
        "scipy.ndimage",
        "skimage.filters",
        "skimage.morphology",
    ):
        importlib.import_module(module)
    from napari_fairly.core.export.zarr_writer import downsample_plane
    from napari_fairly.core.qc.snr import smooth
    from napari_fairly.core.qc.stats import exact_histogram

    exact_histogram(np.zeros((2, 2), np.uint16), 0, 65536)
    smooth(np.zeros((2, 2), np.float32))
    downsample_plane(np.zeros((4, 4), np.uint16))


def save_steps(request: SaveRequest) -> Generator[Progress, None, SaveResult]:
    """Save every session of ``request``; yields progress, returns what was written.

    The save gate comes first: every form must be complete, valid and made for its
    acquisition. Each dataset is then written and verified in its temporary folder;
    only when every one of them is (and no failed check is left unaccepted) are they
    published, so a refused save leaves nothing behind.

    Raises
    ------
    FormNotReadyError
        A form is incomplete, invalid or made for another acquisition.
    QcNotAcceptedError
        A check failed and nobody accepted it; nothing was written.
    OutputError
        Destination inside the source, name taken with ``on_exists="refuse"``, disk
        full, read-only folder, or a failed read-back check (the temporary folder is
        then kept for inspection).
    """
    result = SaveResult()
    if not request.sessions:
        raise OutputError(
            "nothing to save: no acquisition given.", fix="Open a file first."
        )
    for session in request.sessions:
        session.check_form_ready()
    prepared: list[_Prepared] = []
    try:
        for session in request.sessions:
            ready = yield from _save_one(
                request, session, result, len(request.sessions), prepared
            )
            prepared.append(ready)
        while prepared:
            ready = prepared[0]
            result.datasets.append(_publish(ready))
            prepared.pop(0)
            yield Progress(ready.planes, ready.planes, f"{ready.label}: saved")
    finally:
        for ready in prepared:  # written and verified, but the save did not finish
            shutil.rmtree(ready.partial, ignore_errors=True)
    return result


@dataclass
class _Prepared:
    """A dataset written and verified in its temporary folder, not yet published."""

    partial: Path
    final: Path
    dataset: SavedDataset
    label: str  # how progress names this scene
    planes: int  # its number of level-0 planes


def _publish(ready: _Prepared) -> SavedDataset:
    final = publish(ready.partial, ready.final)
    dataset = ready.dataset
    rel = {
        "zarr_path": dataset.zarr_path.relative_to(ready.partial),
        "sidecar_path": dataset.sidecar_path.relative_to(ready.partial),
    }
    dataset.folder = final
    dataset.zarr_path = final / rel["zarr_path"]
    dataset.sidecar_path = final / rel["sidecar_path"]
    return dataset


def storage_warnings(
    dest: Path, source: Path, name: str, shape: tuple[int, ...]
) -> list[str]:
    """Warnings that do not stop a save: long paths, output on the raw data's disk.

    The deepest chunk path should stay under 250 characters so Windows tools without
    long-path support can copy the dataset (SPEC 1.2); a copy on the same disk as the
    raw data is not a backup (SPEC 8, 3-2-1 rule).
    """
    notes = []
    axes = [str(n - 1) for n in shape[:3] if n > 1] + ["0", "0"]
    deepest = dest / name / f"{name}.ome.zarr" / "0" / "c" / "/".join(axes)
    length = len(str(deepest.resolve()))
    if length >= PATH_WARNING_CHARS:
        notes.append(
            f"the deepest file path is {length} characters (>= {PATH_WARNING_CHARS}): "
            "Windows tools without long-path support may fail to copy it"
        )
    try:
        same_disk = dest.stat().st_dev == source.stat().st_dev
    except OSError:
        same_disk = False
    if same_disk:
        notes.append(
            "the dataset is on the same disk as the raw data: it is not a backup "
            "(3-2-1 rule: 3 copies, 2 media, 1 off-site)"
        )
    return notes


def _fingerprint_into(path: Path, out: dict[str, Any]) -> None:
    """Fingerprint ``path`` into ``out["value"]`` (an error is kept, reported later)."""
    try:
        out["value"] = FileFingerprint.of(path)
    except OSError as err:
        out["value"] = err


def _start_rehash(path: Path, out: dict[str, Any]) -> threading.Thread:
    """Hash the raw file again in the background (SPEC 8: before and after match)."""
    thread = threading.Thread(
        target=_fingerprint_into, args=(path, out), name="fairly-raw-sha256-after"
    )
    thread.start()
    return thread


def _save_one(
    request: SaveRequest,
    session: Session,
    result: SaveResult,
    count: int,
    prepared: list[_Prepared],
) -> Generator[Progress, None, _Prepared]:
    from napari_fairly.core.naming import next_free_version, parse_name

    acq = session.acquisition  # the effective values: corrections applied
    form = session.form
    label = f"scene {acq.scene_index + 1}" if count > 1 else acq.path.name
    started = sidecar.now_iso()
    parts, requested = dataset_name(form, acq)
    dest = destination_folder(Path(request.destination), request.template, parts, form)
    check_destination_outside_source(dest, acq.path)
    ours = {ready.partial for ready in prepared}
    for leftover in find_partials(dest):
        if leftover not in result.leftovers and leftover not in ours:
            result.leftovers.append(leftover)
            yield Progress(
                0, None, f"found an interrupted save, left untouched: {leftover.name}"
            )
    name = next_free_version(requested, dest) if dest.is_dir() else requested
    if name != requested and request.on_exists == "refuse":
        raise OutputError(
            f"'{requested}' already exists in the output folder; nothing was written.",
            fix=f"Save as the next version ({parse_name(name).version_text}) "
            "or choose another output folder.",
            path=dest,
        )
    pixels = tables.pixels_tczyx(acq)  # RGB samples become channels
    dtype = np.dtype(pixels.dtype)
    uncompressed = int(np.prod(pixels.shape)) * dtype.itemsize
    raw_size = acq.path.stat().st_size if acq.path.is_file() else 0
    probe_destination(dest, uncompressed + (raw_size if request.copy_raw else 0))
    storage_notes = storage_warnings(dest, acq.path, name, pixels.shape)
    for note in storage_notes:
        yield Progress(0, None, f"note: {note}")

    # fingerprint the raw file in the background while the pixels are written
    before: dict[str, FileFingerprint | BaseException] = {}
    hasher = threading.Thread(
        target=_fingerprint_into, args=(acq.path, before), name="fairly-raw-sha256"
    )
    hasher.start()

    partial = make_partial(dest, name)
    keep_partial = False
    after: dict[str, FileFingerprint | BaseException] = {}
    rehash: threading.Thread | None = None
    early_snr = None
    # flushes to disk, run while the quality checks, documents and read-back go on
    background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="fairly-verify")
    try:
        zarr_name = f"{name}.ome.zarr"
        report_given = session.report
        stats_given = getattr(report_given, "stats", None)
        accumulator = None
        plane_sink = None
        snr_cache = None
        if stats_given is None:
            from napari_fairly.core.qc import PlaneStatsAccumulator
            from napari_fairly.core.qc.snr import SnrPlaneCache

            shape_tczyx = tuple(int(n) for n in pixels.shape)
            accumulator = PlaneStatsAccumulator(
                dtype, shape_tczyx, acq.metadata.significant_bits.value
            )
            # the planes SNR will measure are kept as they pass: QC reads nothing again
            snr_cache = SnrPlaneCache(shape_tczyx, dtype.itemsize)
            if report_given is None:  # measured while the next channels are written
                early_snr = _early_snr(session, snr_cache, accumulator)
            add_plane, keep = accumulator.add_plane, snr_cache

            def plane_sink(t: int, c: int, z: int, plane: np.ndarray) -> None:
                keep(add_plane(t, c, z, plane), plane)

        spec = ZarrSpec(
            name=name,
            ngff_version=request.ngff_version,
            scale_tczyx=_scale(acq),
            channels=channel_displays(acq, dtype),
            ome_xml=acq.ome_xml,
            fsync=False,  # the whole dataset folder is flushed once, before the rename
        )
        computed: dict[str, Any] = {}

        def stats_windows() -> list[tuple[float, float]] | None:
            """Display windows from the QC statistics (issue 5: from the QC pass)."""
            stats = stats_given
            if stats is None and accumulator is not None:
                stats = accumulator.result()
            computed["stats"] = stats
            channels = getattr(stats, "channels", None)
            if not channels or len(channels) != pixels.shape[1]:
                return None
            return [(float(ch.p0_1_adu), float(ch.p99_9_adu)) for ch in channels]

        # the writer's reads are the last of the raw file when the checks read no
        # plane again (SNR planes kept, or a report given) and neither the labels nor
        # --copy-raw read it later: the second hash then starts with the last read
        started_rehash: list[threading.Thread] = []
        raw_read_later = request.copy_raw or request.labels is not None
        writer_reads_last = not raw_read_later and (
            report_given is not None or (snr_cache is not None and snr_cache.enabled)
        )

        def source_read() -> None:
            started_rehash.append(_start_rehash(acq.path, after))

        # the planes the read-back compares are the ones hashed while reading
        verified_planes = spread_planes(
            tuple(int(n) for n in pixels.shape),
            None if request.verify_all_planes else VERIFY_SAMPLE_PLANES,
        )
        writer = write_ome_zarr_steps(
            pixels,
            partial / zarr_name,
            spec,
            plane_sink=plane_sink,
            workers=request.workers,
            windows=stats_windows,
            # one TIFF page per plane: each writer task reads its plane from the file
            read_plane=acq.read_plane
            if acq.plane_reader is not None and acq.dims == "TCZYX"
            else None,
            source_read=source_read if writer_reads_last else None,
            hash_planes=set(verified_planes),
        )
        total = int(np.prod(pixels.shape[:3]))
        try:
            while True:
                try:
                    step = next(writer)
                except StopIteration as stop:
                    written = stop.value
                    break
                yield Progress(step.done, total, f"{label}: writing OME-Zarr")
        finally:
            rehash = started_rehash[0] if started_rehash else None
        zarr_root = partial / zarr_name
        plane_hashes = {
            plane_key(*k): v for k, v in sorted(written.plane_sha256.items())
        }
        # most of the bytes are flushed now, the rest (documents) before the rename
        zarr_flushed = (
            background.submit(flush_tree, zarr_root) if request.fsync else None
        )
        stats = computed.get("stats")
        qc_report = report_given
        if qc_report is None:
            yield Progress(total, total, f"{label}: quality checks")
            kept = snr_cache.planes() if snr_cache is not None else None
            qc_report = yield from _run_qc(session, stats, kept, early_snr)
            del kept
        acceptance = _decide(session, qc_report, request)
        if rehash is None and not raw_read_later:
            # the last read of the raw file is done (labels and --copy-raw read it
            # later): hash it again while the documents are written and checked
            rehash = _start_rehash(acq.path, after)
        if stats is None and qc_report is not None:
            stats = getattr(qc_report, "stats", None)

        hasher.join()
        fingerprint_before = before["value"]
        if isinstance(fingerprint_before, BaseException):
            raise OutputError(
                f"the raw file could not be read for its checksum "
                f"({fingerprint_before}).",
                fix="Check that the file is still there and readable.",
                path=acq.path,
            )
        source_sha = fingerprint_before.sha256
        _check_form_hash(form, source_sha, acq.path)

        # manifest of the OME-Zarr (every file, sha256sum format)
        zarr_hashes = {f"{zarr_name}/{k}": v for k, v in written.chunk_sha256.items()}
        for path in zarr_root.rglob("*"):
            rel = f"{zarr_name}/{path.relative_to(zarr_root).as_posix()}"
            if path.is_file() and rel not in zarr_hashes:
                zarr_hashes[rel] = file_sha256(path)
        manifest = "".join(f"{h}  {p}\n" for p, h in sorted(zarr_hashes.items()))
        file_hashes: dict[str, str] = dict(zarr_hashes)
        outputs: list[dict[str, Any]] = []
        manifest_name = f"{zarr_name}.sha256"
        file_hashes[manifest_name] = _write_text(
            partial / manifest_name, manifest, request.fsync
        )
        import hashlib

        outputs.append(
            {
                "role": "image",
                "path": zarr_name,
                "ngff_version": request.ngff_version,
                "sha256_manifest": hashlib.sha256(manifest.encode()).hexdigest(),
                "files": len(zarr_hashes),
                "shape_tczyx": list(written.shape_tczyx),
                "dtype": written.dtype,
                "axes": list(written.axes),
                "scale_level0": written.scales[0],
                "levels": [list(s) for s in written.level_shapes],
                "units": written.units,
                "unknown_scale_axes": list(written.unknown_scale_axes),
                "bytes_uncompressed": written.bytes_uncompressed,
                "bytes_written": written.bytes_written,
                # sha256 of level-0 planes (C order, little-endian) taken while the
                # raw file was read: the planes the read-back compared
                "plane_sha256": plane_hashes,
                "plane_sha256_scope": "all"
                if len(plane_hashes) == total
                else f"sample of {len(plane_hashes)} planes spread over T, C, Z",
            }
        )
        outputs.append(
            {
                "role": "zarr_manifest",
                "path": manifest_name,
                "sha256": file_hashes[manifest_name],
            }
        )
        yield Progress(total, total, f"{label}: tables")

        # measurements CSV
        rows = tables.measurement_rows(
            name,
            acq,
            source_sha,
            stats,
            qc_report,
            written.plane_mean,
            written.plane_min,
            written.plane_max,
        )
        measurements = f"{name}_measurements.csv"
        file_hashes[measurements] = _write_text(
            partial / measurements,
            tables.render_csv(tables.MEASUREMENT_COLUMNS, rows),
            request.fsync,
        )
        outputs.append(
            {
                "role": "measurements",
                "path": measurements,
                "sha256": file_hashes[measurements],
            }
        )
        csv_columns: dict[str, list[dict[str, str]]] = {
            measurements: [c.as_dict() for c in tables.MEASUREMENT_COLUMNS]
        }
        if request.labels is not None:
            labels = request.labels
            if isinstance(labels, str | Path):
                labels = tables.load_labels(Path(labels))
            columns, object_rows = tables.object_rows(name, acq, source_sha, labels)
            objects = f"{name}_objects.csv"
            file_hashes[objects] = _write_text(
                partial / objects,
                tables.render_csv(columns, object_rows),
                request.fsync,
            )
            outputs.append(
                {"role": "objects", "path": objects, "sha256": file_hashes[objects]}
            )
            csv_columns[objects] = [c.as_dict() for c in columns]

        if request.copy_raw:
            yield Progress(total, total, f"{label}: copying the raw file")
            if not acq.path.is_file():
                raise OutputError(
                    "only single-file sources can be copied with --copy-raw.",
                    fix="Copy the source folder by hand.",
                    path=acq.path,
                )
            suffix = (
                "".join(acq.path.suffixes[-2:])
                if acq.path.name.lower().endswith((".ome.tif", ".ome.tiff"))
                else acq.path.suffix
            )
            raw_rel = f"raw/{name}{suffix.lower()}"
            file_hashes[raw_rel] = copy_verified(
                acq.path, partial / raw_rel, source_sha
            )
            outputs.append(
                {"role": "raw_copy", "path": raw_rel, "sha256": file_hashes[raw_rel]}
            )

        # DataCite record, then the sidecar, then the RO-Crate (SPEC 7.3 order)
        documents = sidecar.form_documents(form, acq.metadata)
        datacite_name = f"{name}_datacite.json"
        file_hashes[datacite_name] = _write_text(
            partial / datacite_name, json_dumps(documents["datacite"]), request.fsync
        )
        outputs.append(
            {
                "role": "datacite",
                "path": datacite_name,
                "sha256": file_hashes[datacite_name],
            }
        )
        meta = acq.metadata
        side: dict[str, Any] = {
            "schema_version": sidecar.SCHEMA_VERSION,
            "name": name,
            "requested_name": requested,
            "name_parts": sidecar.name_parts_dict(parse_name(name)),
            "rembi": documents["rembi"],
            "form": _form_json(form),
            "dublin_core": documents["dublin_core"],
            "datacite": sidecar.datacite_summary(documents["datacite"]),
            "acquisition": meta.model_dump(mode="json"),
            "qc": _qc_json(qc_report),
            "qc_acceptance": acceptance.model_dump(mode="json")
            if acceptance is not None
            else None,
            "source": {
                "path": str(acq.path),
                "file_name": acq.path.name,
                "size_bytes": fingerprint_before.size_bytes,
                "sha256": source_sha,
                "scene": acq.scene_index,
                "scene_number": acq.scene_index + 1,
                "scene_name": meta.scene_name,
                "scene_count": meta.scene_count,
                "format": meta.format,
                "reader": meta.reader,
            },
            "image_metadata_notes": [
                f"axis {a}: physical size unknown in the source; "
                "scale 1 without unit written"
                for a in written.unknown_scale_axes
            ],
            "storage_notes": storage_notes,
            "outputs": outputs,
            "csv_columns": csv_columns,
            "software": sidecar.software_versions(),
            "operator": {
                "name": str(getattr(form, "operator", "") or ""),
                "os_user": sidecar.os_user(),
            },
            "timestamps": {"save_started": started, "saved": sidecar.now_iso()},
            "storage_reminder": sidecar.STORAGE_REMINDER,
        }
        sidecar_name = f"{name}.json"
        file_hashes[sidecar_name] = _write_text(
            partial / sidecar_name, json_dumps(side), request.fsync
        )
        listed = sorted(p for p in file_hashes if not p.startswith(f"{zarr_name}/"))
        file_list = rocrate.file_list_tsv(name, [f"{zarr_name}/", *listed])
        file_hashes["file_list.tsv"] = _write_text(
            partial / "file_list.tsv", file_list, request.fsync
        )
        crate_files: dict[str, dict[str, Any]] = {}
        formats = {
            ".json": "application/json",
            ".csv": "text/csv",
            ".tsv": "text/tab-separated-values",
            ".sha256": "text/plain",
        }
        for rel in [*listed, "file_list.tsv"]:
            crate_files[rel] = {
                "encodingFormat": formats.get(
                    Path(rel).suffix, "application/octet-stream"
                ),
                "sha256": file_hashes[rel],
            }
        crate = rocrate.build_crate(
            name=name,
            sidecar=side,
            files=crate_files,
            zarr_folder=zarr_name,
            ngff_version=request.ngff_version,
        )
        file_hashes["ro-crate-metadata.json"] = _write_text(
            partial / "ro-crate-metadata.json", json_dumps(crate), request.fsync
        )
        checksum_text = "".join(f"{h}  {p}\n" for p, h in sorted(file_hashes.items()))
        _write_text(partial / f"{name}.sha256", checksum_text, request.fsync)

        # read back through an independent path (the raw file is hashed again meanwhile)
        yield Progress(total, total, f"{label}: verifying")
        if rehash is None:  # --labels or --copy-raw read the file until now
            rehash = _start_rehash(acq.path, after)
        # every file is written: flushed to disk while the checks run
        flushed = background.submit(flush_tree, partial) if request.fsync else None
        try:
            problems, _planes = check_zarr(
                zarr_root,
                ngff_version=request.ngff_version,
                shape_tczyx=written.shape_tczyx,
                dtype=written.dtype,
                plane_sha256=plane_hashes,
                scale0=written.scales[0],
                # a sample takes less time than the raw file's hash beside it: one
                # thread does, and keeps memory low
                workers=request.workers if request.verify_all_planes else 1,
                planes=verified_planes,
            )
            problems += check_documents(partial, name)
        finally:
            rehash.join()
        fingerprint_after = after["value"]
        if isinstance(fingerprint_after, BaseException) or (
            fingerprint_after.sha256,
            fingerprint_after.size_bytes,
            fingerprint_after.mtime_ns,
        ) != (
            fingerprint_before.sha256,
            fingerprint_before.size_bytes,
            fingerprint_before.mtime_ns,
        ):
            problems.append("the raw file changed or vanished during the save")
        if problems:
            keep_partial = True
            raise OutputError(
                "the saved dataset failed its read-back check: "
                + "; ".join(problems[:3])
                + ".",
                fix="Nothing was published; the temporary folder "
                f"'{partial.name}' is kept "
                "for inspection.",
                path=dest,
            )
        for flush in (zarr_flushed, flushed):
            if flush is not None:
                flush.result()  # durable before it is published
        keep_partial = True  # verified: published (or removed) by save_steps
        yield Progress(total, total, f"{label}: verified")
        return _Prepared(
            label=label,
            planes=total,
            partial=partial,
            final=dest / name,
            dataset=SavedDataset(
                folder=partial,
                name=name,
                zarr_path=partial / zarr_name,
                sidecar_path=partial / sidecar_name,
                scene_index=acq.scene_index,
                requested_name=requested,
                qc_report=qc_report,
                files=sorted([*file_hashes, f"{name}.sha256"]),
            ),
        )
    except GeneratorExit:
        raise
    except OSError as err:
        if isinstance(err, FairlyError):
            raise
        raise explain_os_error(err, dest) from err
    finally:
        hasher.join()
        if rehash is not None:
            rehash.join()
        if early_snr is not None:
            early_snr.close()
        background.shutdown(wait=True, cancel_futures=True)
        if not keep_partial:
            # our own unfinished folder (cancelled, failed): remove it, no other
            shutil.rmtree(partial, ignore_errors=True)
