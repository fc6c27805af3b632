"""Save acquisitions as FAIR datasets: OME-Zarr (with its OME model and labels),
sidecar, CSVs, RO-Crate, checksums.

:func:`save_steps` runs a :class:`SaveRequest`; :func:`planned_outputs` lists, before
a save, the files it will write; :func:`verify_dataset` checks a saved dataset.
"""

from napari_fairly.core.export.plan import (
    IMAGE_PARTS,
    DatasetPlan,
    OutputRole,
    PlannedOutput,
    dataset_name,
    plan_dataset,
    planned_outputs,
)
from napari_fairly.core.export.request import SavedDataset, SaveRequest, SaveResult
from napari_fairly.core.export.safety import find_partials
from napari_fairly.core.export.save import ReadBackError, preload, save_steps
from napari_fairly.core.export.sidecar import Sidecar, SidecarError, read_sidecar
from napari_fairly.core.export.verify import VerifyReport, verify_dataset
from napari_fairly.core.export.zarr_writer import (
    ChannelDisplay,
    WrittenZarr,
    ZarrSpec,
    write_ome_zarr_steps,
)

__all__ = [
    "IMAGE_PARTS",
    "ChannelDisplay",
    "DatasetPlan",
    "OutputRole",
    "PlannedOutput",
    "ReadBackError",
    "SaveRequest",
    "SaveResult",
    "SavedDataset",
    "Sidecar",
    "SidecarError",
    "VerifyReport",
    "WrittenZarr",
    "ZarrSpec",
    "dataset_name",
    "find_partials",
    "plan_dataset",
    "planned_outputs",
    "preload",
    "read_sidecar",
    "save_steps",
    "verify_dataset",
    "write_ome_zarr_steps",
]
