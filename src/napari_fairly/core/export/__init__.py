"""Save acquisitions as FAIR datasets: OME-Zarr, sidecar, CSVs, RO-Crate, checksums."""

from napari_fairly.core.export.safety import find_partials
from napari_fairly.core.export.save import (
    SavedDataset,
    SaveRequest,
    SaveResult,
    dataset_name,
    preload,
    save_steps,
)
from napari_fairly.core.export.verify import VerifyReport, verify_dataset
from napari_fairly.core.export.zarr_writer import (
    ChannelDisplay,
    WrittenZarr,
    ZarrSpec,
    write_ome_zarr_steps,
)

__all__ = [
    "ChannelDisplay",
    "SaveRequest",
    "SaveResult",
    "SavedDataset",
    "VerifyReport",
    "WrittenZarr",
    "ZarrSpec",
    "dataset_name",
    "find_partials",
    "preload",
    "save_steps",
    "verify_dataset",
    "write_ome_zarr_steps",
]
