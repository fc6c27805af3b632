"""What a dataset report is made of, read back from the saved dataset only.

The save writes the report right after the sidecar, from the files it has just
written; ``fairly report DIR`` reads the same files later. Both go through
:func:`load_dataset`, so the report depends on nothing but the dataset itself and a
regenerated report is byte for byte the one the save wrote (its sha256 matches).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.export.sidecar import (
    FileOutput,
    ImageOutput,
    Sidecar,
    SidecarError,
    read_sidecar,
)
from napari_fairly.core.export.verify import file_sha256
from napari_fairly.core.form import FairForm
from napari_fairly.core.i18n import _
from napari_fairly.core.metadata import AcquisitionMetadata


@dataclass(frozen=True)
class DatasetFacts:
    """One saved dataset as its report shows it."""

    folder: Path
    name: str
    sidecar: Sidecar
    metadata: AcquisitionMetadata  # the effective values the save wrote
    form: FairForm | None
    image: ImageOutput
    checksums: tuple[tuple[str, str], ...]  # (relative path, sha256), by path

    @property
    def zarr_path(self) -> Path:
        """The OME-Zarr folder."""
        return self.folder / self.image.path

    def qc_records(self, key: str) -> list[dict[str, Any]]:
        """The objects of the sidecar's ``qc[key]`` list (rows, nyquist…)."""
        value = self.sidecar.qc.get(key)
        items = value if isinstance(value, list) else []
        return [dict(item) for item in items if isinstance(item, dict)]


def _unreadable(folder: Path, problem: str) -> UnreadableFileError:
    return UnreadableFileError(
        problem,
        fix=_(
            "Give the dataset folder that fairly save printed "
            "(<out>/<name>, with <name>.json and <name>.ome.zarr)."
        ),
        path=folder,
    )


def _checksums(
    folder: Path, sidecar: Sidecar, sidecar_name: str
) -> list[tuple[str, str]]:
    """The files the sidecar lists with their recorded sha256, and the sidecar's."""
    rows = [(o.path, o.sha256) for o in sidecar.outputs if isinstance(o, FileOutput)]
    rows.append((sidecar_name, file_sha256(folder / sidecar_name)))
    return sorted(rows)


def load_dataset(folder: Path | str, name: str | None = None) -> DatasetFacts:
    """The facts of the dataset in ``folder`` (named ``name``, default the folder's).

    Raises
    ------
    UnreadableFileError
        When the folder holds no readable sidecar or no OME-Zarr image.
    """
    folder = Path(folder)
    name = name or folder.name
    sidecar_path = folder / f"{name}.json"
    try:
        sidecar = read_sidecar(sidecar_path)
    except OSError as err:
        raise _unreadable(
            folder,
            _("the sidecar {file} cannot be read ({error}).").format(
                file=sidecar_path.name, error=err.strerror or err
            ),
        ) from err
    except SidecarError as err:
        raise _unreadable(folder, f"{err}.") from err
    image = sidecar.image
    if image is None or not (folder / image.path).is_dir():
        raise _unreadable(folder, _("the dataset has no OME-Zarr image to show."))
    try:
        metadata = AcquisitionMetadata.model_validate(sidecar.acquisition)
    except ValidationError as err:
        raise _unreadable(
            folder,
            _(
                "the sidecar's acquisition block cannot be read ({count} problems)."
            ).format(count=err.error_count()),
        ) from None
    try:
        form = FairForm.model_validate(sidecar.form) if sidecar.form else None
    except ValidationError:
        form = None  # a form of another version: the report goes without it
    return DatasetFacts(
        folder=folder,
        name=name,
        sidecar=sidecar,
        metadata=metadata,
        form=form,
        image=image,
        checksums=tuple(_checksums(folder, sidecar, sidecar_path.name)),
    )
