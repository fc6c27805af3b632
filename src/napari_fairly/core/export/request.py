"""What a save is asked to do, and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from numpy.typing import NDArray

if TYPE_CHECKING:
    from napari_fairly.core.qc import QcReport
    from napari_fairly.core.session import Session
    from napari_fairly.core.settings import FacilityTemplate

OnExists = Literal["bump", "refuse"]
NgffVersion = Literal["0.4", "0.5"]
Labels = Path | str | NDArray[Any]  # a label image file (TIFF, .npy), or labels


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
    labels
        A label image (a TIFF or ``.npy`` file, or an integer array) of the image:
        saved as the NGFF label image ``labels_name`` inside the OME-Zarr, and
        measured object by object in the objects table.
    accept_qc_failures_by
        Who accepts, for this save, checks that fail during it (``fairly save
        --accept-qc-failures``; a batch policy): recorded in the sidecar. Without it,
        a failed check the session's operator did not accept stops the save and
        nothing is written.
    """

    sessions: tuple[Session, ...]
    destination: Path
    ngff_version: NgffVersion = "0.4"
    on_exists: OnExists = "bump"
    labels: Labels | None = None
    labels_name: str | None = None  # the NGFF label image's name (else from the file)
    copy_raw: bool = False
    accept_qc_failures_by: str | None = None
    fsync: bool = True
    workers: int | None = None
    verify_all_planes: bool = False  # else a spread sample (VERIFY_SAMPLE_PLANES)

    @property
    def template(self) -> FacilityTemplate | None:
        """The facility template of the sessions (destination layout, thresholds)."""
        return self.sessions[0].template if self.sessions else None

    @property
    def reads_raw_later(self) -> bool:
        """True when the raw file is read after the pixel pass (labels, raw copy)."""
        return self.copy_raw or self.labels is not None


@dataclass
class SavedDataset:
    """One dataset written and verified."""

    folder: Path
    name: str
    zarr_path: Path
    sidecar_path: Path
    scene_index: int
    requested_name: str
    qc_report: QcReport | None = None
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
