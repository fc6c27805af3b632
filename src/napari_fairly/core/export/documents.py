"""The dataset's documents: each built by a function of the record, then written.

A builder takes the :class:`~napari_fairly.core.export.record.DatasetRecord` and the
sha256 of every file written before it (relative path → sha256) and returns the
document's text; :func:`write_documents_steps` writes them in the plan's order
(SPEC 7.3: tables, DataCite JSON and XML, sidecar, file list, RO-Crate, checksums),
each a new file, and hands back every file's sha256. Every JSON is strict (RFC 8259).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator, Mapping
from pathlib import Path

from napari_fairly.core.errors import OutputError
from napari_fairly.core.export import datacite, rocrate, tables
from napari_fairly.core.export.describe import OME_ZARR_MEDIA_TYPE
from napari_fairly.core.export.plan import IMAGE_PARTS, OutputRole
from napari_fairly.core.export.record import DatasetRecord, zarr_hashes
from napari_fairly.core.export.safety import copy_verified, write_new_file
from napari_fairly.core.export.sidecar import build_sidecar, now_iso
from napari_fairly.core.export.verify import file_sha256
from napari_fairly.core.export.zarr_writer import json_dumps
from napari_fairly.core.memory import return_free_memory
from napari_fairly.core.progress import Progress

# (record, sha256 of the files written so far, the folder they are written in)
Builder = Callable[[DatasetRecord, Mapping[str, str], Path], str]
ENCODING_FORMATS = {
    ".json": "application/json",
    ".xml": "application/xml",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".sha256": "text/plain",
    ".html": "text/html",
}


def sha256sum_text(hashes: Mapping[str, str]) -> str:
    """``sha256sum`` lines (``<hash>  <path>``), sorted by path."""
    return "".join(f"{h}  {p}\n" for p, h in sorted(hashes.items()))


def zarr_manifest(
    record: DatasetRecord, hashes: Mapping[str, str], folder: Path
) -> str:
    """Every file of the OME-Zarr, ``sha256sum`` format."""
    return sha256sum_text(zarr_hashes(record, hashes))


def measurements_csv(
    record: DatasetRecord, hashes: Mapping[str, str], folder: Path
) -> str:
    """One row per (channel, plane), from the QC statistics (else the writer's own)."""
    written = record.pixels.written
    rows = tables.measurement_rows(
        record.name,
        record.acquisition,
        record.source.sha256,
        record.stats,
        record.qc_report,
        written.plane_mean,
        written.plane_min,
        written.plane_max,
    )
    return tables.render_csv(tables.MEASUREMENT_COLUMNS, rows)


def objects_csv(record: DatasetRecord, hashes: Mapping[str, str], folder: Path) -> str:
    """One row per labelled object, in physical units."""
    labels = record.labels
    if labels is None:
        raise ValueError("objects_csv needs labels")
    if isinstance(labels, str | Path):
        labels = tables.load_labels(Path(labels))
    columns, rows = tables.object_rows(
        record.name, record.acquisition, record.source.sha256, labels
    )
    return tables.render_csv(columns, rows)


def datacite_json(
    record: DatasetRecord, hashes: Mapping[str, str], folder: Path
) -> str:
    """The DataCite record (Metadata Schema 4.5 JSON), no DOI until deposit."""
    return json_dumps(record.form_documents.datacite)


def datacite_xml(record: DatasetRecord, hashes: Mapping[str, str], folder: Path) -> str:
    """The same DataCite record as XML, as DOI registration takes it."""
    return datacite.datacite_xml(record.form_documents.datacite)


def sidecar_json(record: DatasetRecord, hashes: Mapping[str, str], folder: Path) -> str:
    """The sidecar, stamped with the time it is written."""
    return json_dumps(build_sidecar(record, hashes, saved=now_iso()).to_json())


def _listed(record: DatasetRecord, hashes: Mapping[str, str]) -> list[str]:
    """The files written so far outside the OME-Zarr, sorted."""
    inside = zarr_hashes(record, hashes)
    return sorted(p for p in hashes if p not in inside)


def _listed_files(
    record: DatasetRecord, hashes: Mapping[str, str], folder: Path
) -> list[rocrate.ListedFile]:
    """The OME-Zarr folder and every file written so far, with sizes and hashes."""
    zarr = record.plan.path(OutputRole.IMAGE)
    zarr_bytes = sum((folder / p).stat().st_size for p in zarr_hashes(record, hashes))
    raw = (
        record.plan.path(OutputRole.RAW_COPY)
        if record.plan.has(OutputRole.RAW_COPY)
        else None
    )
    files = [
        rocrate.ListedFile(f"{zarr}/", zarr_bytes, "", OME_ZARR_MEDIA_TYPE, image=True)
    ]
    for path in _listed(record, hashes):
        files.append(
            rocrate.ListedFile(
                path,
                (folder / path).stat().st_size,
                hashes[path],
                ENCODING_FORMATS.get(Path(path).suffix, "application/octet-stream"),
                image=path == raw,
            )
        )
    return files


def file_list_tsv(
    record: DatasetRecord, hashes: Mapping[str, str], folder: Path
) -> str:
    """The BioImage Archive file list: the OME-Zarr folder and every other file."""
    return rocrate.file_list_tsv(_listed_files(record, hashes, folder))


def ro_crate_json(
    record: DatasetRecord, hashes: Mapping[str, str], folder: Path
) -> str:
    """The RO-Crate of the BIA submission profile (the file list holds the files)."""
    file_list = record.plan.path(OutputRole.FILE_LIST)
    return json_dumps(rocrate.build_crate(record.described, hashes[file_list]))


def checksums_text(
    record: DatasetRecord, hashes: Mapping[str, str], folder: Path
) -> str:
    """Every file of the dataset but this one, ``sha256sum`` format."""
    return sha256sum_text(hashes)


BUILDERS: dict[OutputRole, Builder] = {
    OutputRole.ZARR_MANIFEST: zarr_manifest,
    OutputRole.MEASUREMENTS: measurements_csv,
    OutputRole.OBJECTS: objects_csv,
    OutputRole.DATACITE: datacite_json,
    OutputRole.DATACITE_XML: datacite_xml,
    OutputRole.SIDECAR: sidecar_json,
    OutputRole.FILE_LIST: file_list_tsv,
    OutputRole.RO_CRATE: ro_crate_json,
    OutputRole.CHECKSUMS: checksums_text,
}


def write_text(path: Path, text: str) -> str:
    """Write a new text file (never over an existing one); return its sha256.

    Not flushed here: the dataset folder is flushed once, before the rename.
    """
    data = text.encode("utf-8")
    write_new_file(path, data, fsync=False)
    return hashlib.sha256(data).hexdigest()


def image_hashes(record: DatasetRecord, partial: Path) -> dict[str, str]:
    """sha256 of every file of the OME-Zarr: the chunks' taken while written, the
    metadata files' read now."""
    zarr_name = record.plan.path(OutputRole.IMAGE)
    root = partial / zarr_name
    hashes = {
        f"{zarr_name}/{k}": v for k, v in record.pixels.written.chunk_sha256.items()
    }
    for path in root.rglob("*"):
        rel = f"{zarr_name}/{path.relative_to(root).as_posix()}"
        if path.is_file() and rel not in hashes:
            hashes[rel] = file_sha256(path)
    return hashes


def _copy_raw(record: DatasetRecord, partial: Path, relative: str) -> str:
    """Copy the raw file byte for byte; the copy's sha256 is checked."""
    source = record.acquisition.path
    if not source.is_file():
        raise OutputError(
            "only single-file sources can be copied with --copy-raw.",
            fix="Copy the source folder by hand.",
            path=source,
        )
    return copy_verified(source, partial / relative, record.source.sha256)


def dataset_report(partial: Path, name: str) -> str:
    """The report, made from the files just written (the sidecar, the OME-Zarr), as
    ``fairly report`` makes it from the published dataset: the same bytes."""
    from napari_fairly.core.report import report_html

    return report_html(partial, name)


def write_documents_steps(
    record: DatasetRecord, partial: Path, label: str
) -> Generator[Progress, None, dict[str, str]]:
    """Write every document of ``record``'s plan into ``partial``, in order.

    Returns the sha256 of every file of the dataset but the checksums file itself.
    """
    total = record.pixels.total
    hashes = image_hashes(record, partial)
    for output in record.plan.outputs:
        role = output.role
        if role is OutputRole.IMAGE or role in IMAGE_PARTS:
            continue  # written with the pixels; in the OME-Zarr's manifest
        if role is OutputRole.MEASUREMENTS:
            yield Progress(total, total, f"{label}: tables")
        if role is OutputRole.RAW_COPY:
            yield Progress(total, total, f"{label}: copying the raw file")
            hashes[output.path] = _copy_raw(record, partial, output.path)
            continue
        if role is OutputRole.REPORT:
            yield Progress(total, total, f"{label}: report")
            return_free_memory()  # the tables' frames, before the report's planes
            hashes[output.path] = write_text(
                partial / output.path, dataset_report(partial, record.name)
            )
            continue
        sha = write_text(partial / output.path, BUILDERS[role](record, hashes, partial))
        if role is not OutputRole.CHECKSUMS:
            hashes[output.path] = sha
    return hashes
