"""Batches and the watched folder: many acquisitions saved without an operator.

A batch is planned (:func:`plan_batch`: files, scenes, form values from the template,
the manifest and the file names, every problem listed before anything runs), then
run on Dask's distributed scheduler (:func:`run_batch_steps`: a LocalCluster sized to
this machine, or a cluster's scheduler), one task per scene, each saved through the
same gate as the Save panel. A state file in the destination makes a batch
resumable; ``batch_report.csv`` says what became of each item.
:class:`FolderWatch` saves the files that appear in a folder, once each is complete.
"""

from napari_fairly.core.batch.cluster import BatchCluster, ClusterError, local_size
from napari_fairly.core.batch.items import BatchItem, item_form, item_session
from napari_fairly.core.batch.manifest import Manifest, read_manifest
from napari_fairly.core.batch.plan import (
    BatchPlan,
    BatchPlanError,
    BatchSourcesError,
    find_sources,
    plan_batch,
    plan_batch_steps,
)
from napari_fairly.core.batch.report import (
    REPORT_FILE,
    ItemResult,
    ItemStatus,
    read_report,
    summary_text,
)
from napari_fairly.core.batch.run import (
    BatchEvent,
    BatchResult,
    BatchStarted,
    run_batch,
    run_batch_steps,
)
from napari_fairly.core.batch.state import STATE_FILE, BatchState, last_records
from napari_fairly.core.batch.task import BatchSettings, batch_settings, run_item

__all__ = [
    "REPORT_FILE",
    "STATE_FILE",
    "BatchCluster",
    "BatchEvent",
    "BatchItem",
    "BatchPlan",
    "BatchPlanError",
    "BatchResult",
    "BatchSettings",
    "BatchSourcesError",
    "BatchStarted",
    "BatchState",
    "ClusterError",
    "ItemResult",
    "ItemStatus",
    "Manifest",
    "batch_settings",
    "find_sources",
    "item_form",
    "item_session",
    "last_records",
    "local_size",
    "plan_batch",
    "plan_batch_steps",
    "read_manifest",
    "read_report",
    "run_batch",
    "run_batch_steps",
    "run_item",
    "summary_text",
]
