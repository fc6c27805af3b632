"""What a save will write, known before it starts (SPEC 7.1).

:func:`plan_dataset` names one scene's dataset and lists its files; the save writes
exactly those, in that order, and the Save panel shows the same list
(:func:`planned_outputs`) before the operator presses Save.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, NamedTuple

from napari_fairly.core.i18n import _
from napari_fairly.core.progress import Note, NoteKind

if TYPE_CHECKING:
    from napari_fairly.core.export.request import SaveRequest
    from napari_fairly.core.form import FairForm
    from napari_fairly.core.naming import NameParts
    from napari_fairly.core.reading import Acquisition
    from napari_fairly.core.session import Session
    from napari_fairly.core.settings import FacilityTemplate

PATH_WARNING_CHARS = 250  # SPEC 1.2 convention


class OutputRole(enum.StrEnum):
    """What a file of the dataset is; the sidecar's ``outputs[].role``."""

    IMAGE = "image"
    OME_METADATA = "ome_metadata"  # inside the OME-Zarr: OME/METADATA.ome.xml
    LABELS = "labels"  # inside the OME-Zarr: labels/<label name>
    ZARR_MANIFEST = "zarr_manifest"
    MEASUREMENTS = "measurements"
    OBJECTS = "objects"
    RAW_COPY = "raw_copy"
    DATACITE = "datacite"
    DATACITE_XML = "datacite_xml"
    SIDECAR = "sidecar"
    REPORT = "report"
    FILE_LIST = "file_list"
    RO_CRATE = "ro_crate"
    CHECKSUMS = "checksums"


# the outputs the sidecar lists (it cannot list itself nor what is written after it)
SIDECAR_OUTPUTS = frozenset(
    {
        OutputRole.IMAGE,
        OutputRole.ZARR_MANIFEST,
        OutputRole.MEASUREMENTS,
        OutputRole.OBJECTS,
        OutputRole.RAW_COPY,
        OutputRole.DATACITE,
        OutputRole.DATACITE_XML,
    }
)


# parts of the OME-Zarr, written with it: listed for the operator, hashed in the
# OME-Zarr's manifest (not documents of their own)
IMAGE_PARTS = frozenset({OutputRole.OME_METADATA, OutputRole.LABELS})
DEFAULT_LABELS_NAME = "labels"


def labels_name(request: SaveRequest) -> str:
    """The NGFF label image's name: the one asked for, else the labels file's stem,
    else ``labels``; letters, digits, ``.``, ``_`` and ``-`` only (a path part)."""
    name = request.labels_name or ""
    if not name and isinstance(request.labels, str | Path):
        name = Path(request.labels).name.split(".")[0]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return name or DEFAULT_LABELS_NAME


class PlannedOutput(NamedTuple):
    """One file (or the OME-Zarr folder) a save writes."""

    role: OutputRole
    path: str  # POSIX, relative to the dataset folder (planned_outputs: destination)
    description: str


@dataclass(frozen=True)
class DatasetPlan:
    """One scene's dataset: its name, where it goes and its files, in writing order."""

    requested_name: str
    name: str  # the next free version when the requested one exists
    parent: Path  # the destination and the template's layout sub-folders
    outputs: tuple[PlannedOutput, ...]

    @property
    def folder(self) -> Path:
        """The dataset folder once published."""
        return self.parent / self.name

    @property
    def bumped(self) -> bool:
        """True when the requested version exists and the next one is used."""
        return self.name != self.requested_name

    def path(self, role: OutputRole) -> str:
        """Relative path of the output of ``role``; KeyError when not planned."""
        for output in self.outputs:
            if output.role is role:
                return output.path
        raise KeyError(role)

    def has(self, role: OutputRole) -> bool:
        """True when an output of ``role`` is planned."""
        return any(output.role is role for output in self.outputs)


def dataset_name(form: FairForm, acq: Acquisition) -> tuple[NameParts, str]:
    """Name parts and name of one scene's dataset (``-sNN`` for multi-scene files)."""
    from napari_fairly.core.naming import build_name, with_scene_suffix

    parts = form.name_parts()
    if acq.metadata.scene_count > 1:
        parts = with_scene_suffix(parts, acq.scene_index)
    parts = replace(parts, role=None, ext="")
    return parts, build_name(parts)


def destination_folder(
    base: Path, template: FacilityTemplate | None, parts: NameParts, form: FairForm
) -> Path:
    """``base`` plus the template's layout sub-folders (``{project}``…), checked."""
    layout = template.options.destination_layout if template is not None else ""
    if not layout:
        return base
    from napari_fairly.core.settings import destination_subdir

    # {study}: the study's title, as a folder name (the acronym is {project})
    return base.joinpath(*destination_subdir(layout, parts, form.study.title).parts)


def raw_copy_path(name: str, source: Path) -> str:
    """``raw/<name><ext>``: the raw file's extension, ``.ome.tif(f)`` kept whole."""
    suffix = (
        "".join(source.suffixes[-2:])
        if source.name.lower().endswith((".ome.tif", ".ome.tiff"))
        else source.suffix
    )
    return f"raw/{name}{suffix.lower()}"


def report_name(name: str) -> str:
    """``<name>_report.html``: the dataset report (SPEC 7, role ``report``)."""
    return f"{name}_report.html"


def _report_description() -> str:
    from napari_fairly.core.i18n import _

    return _("dataset report: images, checks, methods (HTML, opens offline)")


def _outputs(
    request: SaveRequest, name: str, source: Path
) -> tuple[PlannedOutput, ...]:
    """The dataset's files in the order they are written (SPEC 7.3)."""
    role = OutputRole
    zarr_name = f"{name}.ome.zarr"
    outputs = [
        PlannedOutput(role.IMAGE, zarr_name, _image_description(request)),
        PlannedOutput(
            role.OME_METADATA,
            f"{zarr_name}/OME/METADATA.ome.xml",
            _("OME-XML: instrument, channels, planes (bioformats2raw convention)"),
        ),
    ]
    if request.labels is not None:
        outputs.append(
            PlannedOutput(
                role.LABELS,
                f"{zarr_name}/labels/{labels_name(request)}",
                _("label image (NGFF labels of the image)"),
            )
        )
    outputs += [
        PlannedOutput(
            role.ZARR_MANIFEST,
            f"{zarr_name}.sha256",
            _("sha256 of every file of the OME-Zarr"),
        ),
        PlannedOutput(
            role.MEASUREMENTS, f"{name}_measurements.csv", _("intensities per plane")
        ),
    ]
    if request.labels is not None:
        outputs.append(
            PlannedOutput(role.OBJECTS, f"{name}_objects.csv", _("one row per object"))
        )
    if request.copy_raw:
        outputs.append(
            PlannedOutput(
                role.RAW_COPY, raw_copy_path(name, source), _("copy of the raw file")
            )
        )
    outputs += [
        PlannedOutput(
            role.DATACITE, f"{name}_datacite.json", _("DataCite record (schema 4.5)")
        ),
        PlannedOutput(
            role.DATACITE_XML,
            f"{name}_datacite.xml",
            _("DataCite record as XML, for DOI registration"),
        ),
        PlannedOutput(
            role.SIDECAR, f"{name}.json", _("sidecar: metadata, checks, provenance")
        ),
        PlannedOutput(role.REPORT, report_name(name), _report_description()),
        PlannedOutput(
            role.FILE_LIST, "file_list.tsv", _("file list (BioImage Archive)")
        ),
        PlannedOutput(role.RO_CRATE, "ro-crate-metadata.json", _("RO-Crate metadata")),
        PlannedOutput(role.CHECKSUMS, f"{name}.sha256", _("sha256 of every file")),
    ]
    return tuple(outputs)


def _image_description(request: SaveRequest) -> str:
    if request.ngff_version == "0.5":
        return _("OME-Zarr image (OME-NGFF 0.5, sharded: one file per shard)")
    return _("OME-Zarr image (OME-NGFF {version})").format(version=request.ngff_version)


def plan_dataset(request: SaveRequest, session: Session) -> DatasetPlan:
    """Name, folder and files of ``session``'s dataset, as the save would write it now.

    Reads the destination folder only (taken versions, interrupted saves); writes
    nothing.

    Raises
    ------
    InvalidNameError
        When the form's naming fields do not make a valid name.
    """
    from napari_fairly.core.naming import next_free_version

    acq = session.acquisition
    parts, requested = dataset_name(session.form, acq)
    parent = destination_folder(
        Path(request.destination), request.template, parts, session.form
    )
    name = next_free_version(requested, parent) if parent.is_dir() else requested
    return DatasetPlan(requested, name, parent, _outputs(request, name, acq.path))


def planned_outputs(request: SaveRequest) -> list[PlannedOutput]:
    """Every output of ``request`` (all sessions), paths relative to its destination.

    What the Save panel lists before a save; the save writes the same files.
    """
    out: list[PlannedOutput] = []
    for session in request.sessions:
        plan = plan_dataset(request, session)
        folder = PurePosixPath(plan.folder.relative_to(request.destination).as_posix())
        out += [o._replace(path=str(folder / o.path)) for o in plan.outputs]
    return out


def storage_notes(
    plan: DatasetPlan, source: Path, shape: tuple[int, ...]
) -> list[Note]:
    """Warnings that do not stop a save: long paths, output on the raw data's disk.

    The deepest chunk path should stay under 250 characters so Windows tools without
    long-path support can copy the dataset (SPEC 1.2); a copy on the same disk as the
    raw data is not a backup (SPEC 8, 3-2-1 rule).
    """
    notes = []
    axes = [str(n - 1) for n in shape[:3] if n > 1] + ["0", "0"]
    deepest = plan.folder / plan.path(OutputRole.IMAGE) / "0" / "c" / "/".join(axes)
    length = len(str(deepest.resolve()))
    if length >= PATH_WARNING_CHARS:
        text = _(
            "the deepest file path is {length} characters (>= {limit}): Windows "
            "tools without long-path support may fail to copy it"
        ).format(length=length, limit=PATH_WARNING_CHARS)
        notes.append(Note(NoteKind.LONG_PATH, text, deepest))
    try:
        same_disk = plan.parent.stat().st_dev == source.stat().st_dev
    except OSError:
        same_disk = False
    if same_disk:
        text = _(
            "the dataset is on the same disk as the raw data: it is not a backup "
            "(3-2-1 rule: 3 copies, 2 media, 1 off-site)"
        )
        notes.append(Note(NoteKind.SAME_DISK, text, plan.parent))
    return notes
