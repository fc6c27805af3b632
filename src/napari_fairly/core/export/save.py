"""Save scenes as FAIR datasets: OME-Zarr, sidecar, CSVs, RO-Crate (SPEC 7, 8).

A save is a sequence of typed steps, per scene:

1. the plan (:mod:`.plan`): name, folder and files, the refusals, storage notes;
   the labels checked against the image before anything is written;
2. the pixel pass (:mod:`.pixel_pass`): the OME-Zarr, QC statistics and plane hashes
   from one read of the pixels, then the image's OME model (:mod:`.ome_xml`,
   ``OME/METADATA.ome.xml``);
3. the checks: the QC report on those statistics, and the operator's acceptance of
   failed checks (else the save stops, nothing written);
4. the labels (:mod:`.labels`), as NGFF labels inside the OME-Zarr;
5. the documents (:mod:`.documents`), built from one :class:`DatasetRecord`;
6. the read-back check, through readers independent of the writer.

Every dataset is written into ``<dest>/.<name>.partial-<uuid>/`` and verified there;
only when every scene is are they renamed to ``<dest>/<name>/`` (published).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.errors import FairlyError, OutputError
from napari_fairly.core.export import sidecar, tables
from napari_fairly.core.export.documents import write_documents_steps
from napari_fairly.core.export.labels import (
    WrittenLabels,
    prepared_labels,
    write_labels,
)
from napari_fairly.core.export.leftovers import (
    SaveLock,
    claim_partial,
    is_running,
    mark_failed,
)
from napari_fairly.core.export.pixel_pass import (
    VERIFY_SAMPLE_PLANES as VERIFY_SAMPLE_PLANES,
)
from napari_fairly.core.export.pixel_pass import (
    PixelPass,
    QcFeed,
    no_ome_model,
    pixel_pass_steps,
)
from napari_fairly.core.export.plan import (
    DatasetPlan,
    OutputRole,
    labels_name,
    plan_dataset,
    storage_notes,
)
from napari_fairly.core.export.record import DatasetRecord, Disclosure, Provenance
from napari_fairly.core.export.request import SavedDataset, SaveRequest, SaveResult
from napari_fairly.core.export.safety import (
    RawFileWatch,
    check_destination_outside_source,
    explain_os_error,
    find_partials,
    flush_tree,
    probe_destination,
    publish,
)
from napari_fairly.core.export.verify import (
    check_documents,
    check_labels,
    check_ome_xml,
    check_zarr,
)
from napari_fairly.core.i18n import _, texts_in
from napari_fairly.core.memory import return_free_memory
from napari_fairly.core.progress import Note, NoteKind, Progress

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from napari_fairly.core.form import FairForm
    from napari_fairly.core.qc import PixelStatistics, QcReport
    from napari_fairly.core.session import Acceptance, Session

SaveEvents = Generator[Progress | Note, None, SaveResult]


class ReadBackError(OutputError):
    """The dataset failed its read-back check; its temporary folder is kept."""


@dataclass(frozen=True)
class _Extras:
    """What a dataset holds besides the pixels, made before anything is written."""

    ome_model: bool  # OME/METADATA.ome.xml written (OME names the pixel type)
    labels: NDArray[Any] | None  # T×Z×Y×X, checked against the image
    labels_name: str


@dataclass
class _Prepared:
    """A dataset written and verified in its temporary folder, not yet published."""

    partial: Path
    final: Path
    dataset: SavedDataset
    label: str  # how progress names this scene
    planes: int  # its number of level-0 planes
    acceptance: Acceptance | None  # failed checks accepted for it
    lock: SaveLock | None = None  # held until it is published or removed


class _Flusher:
    """Flushes folders to disk in the background while the save goes on."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._pool = ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="fairly-flush"
        )
        self._pending: list[Future[None]] = []

    def __enter__(self) -> _Flusher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def flush(self, folder: Path) -> None:
        """Start flushing ``folder`` (when the save flushes at all)."""
        if self.enabled:
            self._pending.append(self._pool.submit(flush_tree, folder))

    def wait(self) -> None:
        """Wait for every flush started; raises what one raised."""
        for pending in self._pending:
            pending.result()


def preload() -> None:
    """Import what a save uses and load its compiled kernels, ahead of the first save.

    Otherwise the first save of a session spends ~0.8 s (here) importing zarr, numba,
    scikit-image, the DataCite and RO-Crate libraries and loading the kernels from
    numba's cache. The Save widget calls it in a background thread when it opens (a
    save itself imports the documents' modules while its pixel pass runs); safe to call
    several times and from any thread.
    """
    from napari_fairly.core.qc import smooth

    # writer and read-back, the crate check, the SNR estimator; not ome-types
    # (~40 MB): a save imports it on its side thread, only when it saves
    _import_all(("zarr", *DOCUMENT_MODULES))
    warm_kernels(np.dtype(np.uint16))  # statistics and pyramid of 16-bit planes
    smooth(np.zeros((2, 2), np.float32))  # the SNR estimator's


def warm_kernels(dtype: np.dtype[Any]) -> None:
    """Load the pass's compiled kernels for ``dtype`` planes from numba's cache.

    ~0.5 s holding the GIL: the compression threads wait for them (statistics and
    pyramid of every plane), so this runs first on the save's side thread, before the
    imports that can wait.
    """
    from napari_fairly.core.export.zarr_writer import downsample_plane
    from napari_fairly.core.qc import PlaneStatsAccumulator

    planes = np.zeros((1, 1, 1, 4, 4), dtype)
    PlaneStatsAccumulator(dtype, planes.shape).add_plane(0, 0, 0, planes[0, 0, 0])
    downsample_plane(planes[0, 0, 0])


def _quietly(job: Callable[..., object]) -> Callable[..., None]:
    """``job`` whose failure is left for the save to meet where it uses the result:
    side work (warming, importing) must not fail a save by itself."""

    def run(*args: Any) -> None:
        with contextlib.suppress(Exception):
            job(*args)

    return run


@contextlib.contextmanager
def _side_thread() -> Iterator[ThreadPoolExecutor]:
    """One thread for a save's side work, run in the order it is submitted; what has
    not started when the save ends (a failure, a cancel) is dropped."""
    side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fairly-side")
    try:
        yield side
    finally:
        side.shutdown(wait=False, cancel_futures=True)


def _import_all(modules: tuple[str, ...]) -> None:
    import importlib

    for module in modules:
        importlib.import_module(module)


def save_steps(request: SaveRequest) -> SaveEvents:
    """Save every session of ``request``; yields progress and notes, returns what was
    written.

    The save gate comes first: every form must be complete, valid and made for its
    acquisition. Each dataset is then written and verified in its temporary folder;
    only when every one of them is (and no failed check is left unaccepted) are they
    published, so a refused save leaves nothing behind. A cancel (``close()``)
    removes the temporary folders of this save, and only those.

    Raises
    ------
    FormNotReadyError
        A form is incomplete, invalid or made for another acquisition.
    QcNotAcceptedError
        A check failed and nobody accepted it; nothing was written.
    OutputError
        Destination inside the source, name taken with ``on_exists="refuse"``, disk
        full, read-only folder, or a failed read-back check (:class:`ReadBackError`:
        the temporary folder is then kept for inspection).
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
            ready = yield from _prepare_steps(request, session, result, prepared)
            prepared.append(ready)
        while prepared:
            ready = prepared[0]
            result.datasets.append(_publish(ready))
            prepared.pop(0)
            if ready.lock is not None:
                ready.lock.release()
            if ready.acceptance is not None:
                yield _accepted_note(ready.dataset, ready.acceptance)
            yield Progress(ready.planes, ready.planes, f"{ready.label}: saved")
    finally:
        for ready in prepared:  # written and verified, but the save did not finish
            shutil.rmtree(ready.partial, ignore_errors=True)
            if ready.lock is not None:
                ready.lock.release()
    return result


def _publish(ready: _Prepared) -> SavedDataset:
    final = publish(ready.partial, ready.final)
    dataset = ready.dataset
    zarr_rel = dataset.zarr_path.relative_to(ready.partial)
    sidecar_rel = dataset.sidecar_path.relative_to(ready.partial)
    dataset.folder = final
    dataset.zarr_path = final / zarr_rel
    dataset.sidecar_path = final / sidecar_rel
    return dataset


def _accepted_note(dataset: SavedDataset, acceptance: Acceptance) -> Note:
    checks = ", ".join(acceptance.checks)
    return Note(
        NoteKind.ACCEPTED_FAILURES,
        f"{dataset.name}: failed quality checks accepted by {acceptance.by} "
        f"({checks}); recorded in its sidecar",
        dataset.sidecar_path,
    )


def _leftover_notes(
    parent: Path, result: SaveResult, prepared: list[_Prepared]
) -> Generator[Note, None, None]:
    """Temporary folders of other saves in ``parent``: reported once, never touched.

    A running save's folder (its lock is held) is said to be one, not an
    interrupted save; an interrupted one keeps its version until removed.
    """
    ours = {ready.partial for ready in prepared}
    for leftover in find_partials(parent):
        if leftover in result.leftovers or leftover in ours:
            continue
        result.leftovers.append(leftover)
        if is_running(leftover):
            text = _("another save is writing here, left alone: {name}")
        else:
            text = _(
                "found an interrupted save, left untouched: {name} (fairly verify "
                "--cleanup {folder} removes it)"
            )
        yield Note(
            NoteKind.LEFTOVER_PARTIAL,
            text.format(name=leftover.name, folder=parent),
            leftover,
        )


def _refuse_taken_name(plan: DatasetPlan, request: SaveRequest) -> None:
    """With ``on_exists="refuse"``, a taken name stops the save."""
    from napari_fairly.core.naming import parse_name

    if plan.bumped and request.on_exists == "refuse":
        raise OutputError(
            f"'{plan.requested_name}' already exists in the output folder; "
            "nothing was written.",
            fix=f"Save as the next version ({parse_name(plan.name).version_text}) "
            "or choose another output folder.",
            path=plan.parent,
        )


def _prepare_steps(
    request: SaveRequest,
    session: Session,
    result: SaveResult,
    prepared: list[_Prepared],
) -> Generator[Progress | Note, None, _Prepared]:
    """Plan, write and verify one scene's dataset in its temporary folder."""
    acq = session.acquisition  # the effective values: corrections applied
    label = (
        f"scene {acq.scene_index + 1}" if len(request.sessions) > 1 else acq.path.name
    )
    started = sidecar.now_iso()
    plan = plan_dataset(request, session)
    check_destination_outside_source(plan.parent, acq.path)
    yield from _leftover_notes(plan.parent, result, prepared)
    _refuse_taken_name(plan, request)
    pixels = tables.written_pixels(acq)  # RGB samples become channels
    uncompressed = int(np.prod(pixels.shape)) * pixels.dtype.itemsize
    raw_size = acq.path.stat().st_size if acq.path.is_file() else 0
    probe_destination(plan.parent, uncompressed + (raw_size if request.copy_raw else 0))
    with texts_in(session.language):  # saved in the sidecar, in its language
        notes = storage_notes(plan, acq.path, pixels.shape)
    yield from notes
    extras = yield from _extras_steps(request, session, plan, pixels)
    provenance = Provenance(sidecar.software_versions(), sidecar.os_user(), started)
    # the raw file is fingerprinted in the background while the pixels are written
    with RawFileWatch(acq.path) as raw:
        # the name is claimed with the folder: a running save of the same name
        # makes this one pick the next version (its documents say the name it gets)
        plan, partial, lock = claim_partial(
            lambda: _planned(request, session),
            lambda chosen: (chosen.parent, chosen.name),
        )
        keep = False
        try:
            ready = yield from _write_steps(
                request, session, plan, partial, raw, label, provenance, notes, extras
            )
            ready.lock = lock
            keep = True  # verified: published (or removed) by save_steps
            return ready
        except ReadBackError as err:
            keep = True  # kept for inspection, marked as such; no save runs in it
            mark_failed(partial, [err.problem])
            lock.release()
            raise
        except OSError as err:
            if isinstance(err, FairlyError):
                raise
            raise explain_os_error(err, plan.parent) from err
        finally:
            if not keep:
                # our own unfinished folder (cancelled, failed): remove it, no other
                shutil.rmtree(partial, ignore_errors=True)
                lock.release()


def _planned(request: SaveRequest, session: Session) -> DatasetPlan:
    """The dataset's plan as the destination is now (a taken name refused if asked)."""
    plan = plan_dataset(request, session)
    _refuse_taken_name(plan, request)
    return plan


def _extras_steps(
    request: SaveRequest,
    session: Session,
    plan: DatasetPlan,
    pixels: Any,
) -> Generator[Note, None, _Extras]:
    """The labels, checked against the image; a note when OME cannot describe the
    pixels' type.

    Raises
    ------
    InvalidFormValueError
        Labels that are not integers or do not match the image.
    """
    labels = prepared_labels(request, session.acquisition)
    note = no_ome_model(plan.name, pixels)
    if note is not None:
        yield note
    return _Extras(note is None, labels, labels_name(request))


def _write_steps(
    request: SaveRequest,
    session: Session,
    plan: DatasetPlan,
    partial: Path,
    raw: RawFileWatch,
    label: str,
    provenance: Provenance,
    notes: list[Note],
    extras: _Extras,
) -> Generator[Progress, None, _Prepared]:
    """Pixel pass, checks, labels, documents and read-back of one dataset, in
    ``partial``."""
    acq = session.acquisition
    pixels = tables.written_pixels(acq)
    shape = tuple(int(n) for n in pixels.shape)
    # the pass's side work, in this order on one thread: the kernels the compression
    # threads wait for, then imports and documents needed only after the pass
    with (
        _side_thread() as side,
        _Flusher(request.fsync) as flusher,
        closing(QcFeed(session, shape, np.dtype(pixels.dtype))) as feed,
    ):
        side.submit(_quietly(warm_kernels), np.dtype(pixels.dtype))
        side.submit(_quietly(_import_all), DOCUMENT_MODULES)
        passed = yield from pixel_pass_steps(
            request, session, plan, partial, feed, raw, label, extras.ome_model, side
        )
        # the image is complete: its sampled planes are decoded and compared while
        # the checks and documents are made (labels, written later, are read after)
        planes = None
        if extras.labels is None:
            planes = side.submit(_check_planes, request, passed, partial, plan)
        # the read-back loads the measurements as their users do; pandas (~30 MB)
        # is imported now too
        side.submit(_quietly(_import_all), ("pandas",))
        # most of the bytes are flushed now, the rest (documents) before the rename
        flusher.flush(partial / plan.path(OutputRole.IMAGE))
        return_free_memory()  # the pass's planes, freed in its threads' arenas
        report = yield from _checks_steps(session, feed, passed, label)
        feed.release_planes()  # the documents and the read-back need their memory
        return_free_memory()
        acceptance = _decide(session, report, request)
        written_labels = None
        if extras.labels is not None:
            yield Progress(
                passed.total, passed.total, _("{scene}: labels").format(scene=label)
            )
            written_labels = write_labels(
                partial / plan.path(OutputRole.IMAGE),
                extras.labels,
                extras.labels_name,
                passed.written,
            )
        if not request.reads_raw_later:
            # the last read of the raw file is done (labels and --copy-raw read it
            # later): hash it again while the documents are written and checked
            raw.start_rehash()
        source = raw.before()
        _check_form_hash(session.form, source.sha256, acq.path)
        record = DatasetRecord(
            plan=plan,
            acquisition=acq,
            form=session.form,
            source=source,
            pixels=passed,
            stats=feed.stats if feed.stats is not None else _stats_of(report),
            qc_report=report,
            acceptance=acceptance,
            ngff_version=request.ngff_version,
            labels=extras.labels,
            storage_notes=tuple(note.text for note in notes),
            provenance=provenance,
            disclosure=_disclosure(request),
        )
        try:
            hashes = yield from write_documents_steps(record, partial, label)
        except Exception:
            # the report reads the image back: when it fails on a plane the check
            # found damaged, that is what the operator must hear
            found = None
            if planes is not None and planes.exception() is None:
                found = planes.result()
            if found:
                raise _read_back_failed(found, partial, plan.parent) from None
            raise
        # read back through an independent path (the raw file is hashed again meanwhile)
        yield Progress(passed.total, passed.total, f"{label}: verifying")
        raw.start_rehash()  # --labels or --copy-raw read the file until now
        flusher.flush(partial)  # every file is written: flushed while the checks run
        _read_back(request, record, partial, raw, written_labels, planes)
        flusher.wait()  # durable before it is published
        yield Progress(passed.total, passed.total, f"{label}: verified")
    checksums = plan.path(OutputRole.CHECKSUMS)
    return _Prepared(
        partial=partial,
        final=plan.folder,
        dataset=SavedDataset(
            folder=partial,
            name=plan.name,
            zarr_path=partial / plan.path(OutputRole.IMAGE),
            sidecar_path=partial / plan.path(OutputRole.SIDECAR),
            scene_index=acq.scene_index,
            requested_name=plan.requested_name,
            qc_report=report,
            files=sorted([*hashes, checksums]),
        ),
        label=label,
        planes=passed.total,
        acceptance=acceptance,
    )


# what the checks and documents import after the pixel pass: ~1 s of a command's
# start-up, done on the save's side thread while the pass compresses
DOCUMENT_MODULES = (
    "datacite.schema45",
    "rocrate.rocrate",
    "scipy.ndimage",
    "skimage.filters",
)


def _stats_of(report: QcReport | None) -> PixelStatistics | None:
    """The pixel statistics a report was computed from, if it kept them."""
    stats: PixelStatistics | None = getattr(report, "stats", None)
    return stats


def _checks_steps(
    session: Session, feed: QcFeed, passed: PixelPass, label: str
) -> Generator[Progress, None, QcReport | None]:
    """The session's report, or the checks run now on the pass's statistics."""
    if feed.report is not None:
        return feed.report
    from napari_fairly.core.qc import run_qc_steps

    yield Progress(passed.total, passed.total, f"{label}: quality checks")
    key = session.inputs_key()
    report = yield from run_qc_steps(
        session.acquisition,
        session.parameters,
        session.thresholds,
        stats=feed.stats,
        language=session.language,
        snr_planes=feed.kept_planes(),
        early_snr=feed.early_snr,
    )
    session.set_report(report, key)
    return report


def _decide(
    session: Session, report: QcReport | None, request: SaveRequest
) -> Acceptance | None:
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


def _disclosure(request: SaveRequest) -> Disclosure:
    """What the facility template lets the sidecar tell beyond the source's name."""
    template = request.template
    if template is None:
        return Disclosure()
    options = template.options
    return Disclosure(options.record_source_location, options.record_os_user)


def _check_form_hash(form: FairForm, source_sha: str, path: Path) -> None:
    """A form that records its file's sha256 is refused for another file."""
    from napari_fairly.core.errors import FormNotReadyError

    recorded = form.image_data.sha256
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


def _check_planes(
    request: SaveRequest, passed: PixelPass, partial: Path, plan: DatasetPlan
) -> list[str]:
    """The image reopened with zarr: its metadata, and the sampled planes decoded and
    compared with the hashes taken while they were read (the problems found)."""
    written = passed.written
    problems, _planes = check_zarr(
        partial / plan.path(OutputRole.IMAGE),
        ngff_version=request.ngff_version,
        shape_tczyx=written.shape_tczyx,
        dtype=written.dtype,
        plane_sha256=passed.plane_hashes,
        scale0=written.scales[0],
        # a sample takes less time than the raw file's hash beside it: one thread
        # does, and keeps memory low
        workers=request.workers if request.verify_all_planes else 1,
        planes=passed.verified_planes,
    )
    return problems


def _read_back(
    request: SaveRequest,
    record: DatasetRecord,
    partial: Path,
    raw: RawFileWatch,
    labels: WrittenLabels | None,
    planes_checked: Future[list[str]] | None = None,
) -> None:
    """Decode the sampled planes (unless ``planes_checked`` is doing it on the side
    thread: the documents are parsed meanwhile) and parse every document; the raw
    file unchanged.

    Raises
    ------
    ReadBackError
        With the first problems found; the temporary folder is kept.
    """
    written = record.pixels.written
    zarr_path = partial / record.plan.path(OutputRole.IMAGE)
    others = check_ome_xml(
        zarr_path, written.shape_tczyx, required=record.pixels.ome_xml
    )
    if labels is not None:
        others += check_labels(zarr_path, request.ngff_version, labels)
    others += check_documents(partial, record.name)
    problems = (
        planes_checked.result()
        if planes_checked is not None
        else _check_planes(request, record.pixels, partial, record.plan)
    )
    problems += others
    if raw.changed():
        problems.append("the raw file changed or vanished during the save")
    if problems:
        raise _read_back_failed(problems, partial, record.plan.parent)


def _read_back_failed(
    problems: list[str], partial: Path, parent: Path
) -> ReadBackError:
    """The error of a failed read-back: its first problems; the folder is kept."""
    return ReadBackError(
        "the saved dataset failed its read-back check: "
        + "; ".join(problems[:3])
        + ".",
        fix="Nothing was published; the temporary folder "
        f"'{partial.name}' is kept for inspection.",
        path=parent,
    )
