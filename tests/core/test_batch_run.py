"""Batches run on Dask (threads of this process here): gate, policy, resume, report."""

from __future__ import annotations

import json
import os
from pathlib import Path

from batch_helpers import (
    UNDATED,
    VALUES,
    dataset_folders,
    partial_folders,
    write_ome_tiff,
)
from conftest import DATA
from napari_fairly.core.batch import (
    STATE_FILE,
    ItemResult,
    ItemStatus,
    read_report,
    run_batch,
)
from napari_fairly.core.batch.state import BatchState, read_records
from napari_fairly.core.export import read_sidecar, verify_dataset
from napari_fairly.core.settings import load_template

# its axial sampling fails the checks; the batch keys sources by their real path
ZSTACK = (DATA / "nd2/example-zstack.nd2").resolve()
ZSTACK_NAME = "2025-03-07_TNT_Stack_ALebon_Ctl_RAW_v01"


def _values(**more: str) -> dict[str, str]:
    return {**VALUES, "sample": "Stack", "condition": "Ctl", **more}


def test_failed_checks_are_saved_only_under_the_batch_policy(tmp_path: Path) -> None:
    out = tmp_path / "out"
    refused = run_batch([ZSTACK], out, values=_values(), processes=False)
    [result] = refused.results
    assert result.status is ItemStatus.FAILED
    assert result.error_kind == "qc_not_accepted"
    assert "nyquist" in result.qc_failed_checks and result.qc_verdict == "failed"
    assert dataset_folders(out) == [] and partial_folders(out) == []

    template = tmp_path / "t.yaml"
    template.write_text(
        "facility: Test facility\nbatch:\n  accept_qc_failures_by: Facility QC\n"
    )
    accepted = run_batch(
        [ZSTACK],
        out,
        template=load_template(template),
        values=_values(),
        processes=False,
    )
    [result] = accepted.results
    assert result.status is ItemStatus.SAVED, result.error
    assert (result.qc_verdict, result.accepted_by) == ("failed_accepted", "Facility QC")
    folder = Path(result.folder)
    assert folder.name == ZSTACK_NAME
    sidecar = read_sidecar(folder / f"{ZSTACK_NAME}.json")
    assert sidecar.qc_acceptance is not None
    assert sidecar.qc_acceptance.by == "Facility QC"
    assert sidecar.qc_acceptance.checks == result.qc_failed_checks.split("; ")
    rows = read_report(out / "batch_report.csv")
    assert [r["status"] for r in rows] == ["saved"]
    assert float(rows[0]["compression_ratio"]) > 1.0
    assert int(rows[0]["image_bytes"]) == 128 * 128 * 11 * 2
    assert rows[0]["worker"].startswith("inproc://")


def _state_lines(out: Path) -> list[dict[str, object]]:
    return read_records(out / STATE_FILE)


def test_rerun_skips_verified_items_and_redoes_a_changed_one(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    for n in range(3):
        write_ome_tiff(src / f"Cells{n}_Ctl.ome.tif", n)
    options = {
        "values": {**VALUES, **UNDATED},
        "name_pattern": r"(?P<sample>[^_]+)_(?P<condition>[^_.]+)",
        "accept_qc_failures_by": "tester",
        "processes": False,
    }
    first = run_batch([src], out, **options)  # type: ignore[arg-type]
    assert [r.status for r in first.results] == [ItemStatus.SAVED] * 3
    folders = dataset_folders(out)
    assert len(folders) == 3

    # one dataset is damaged afterwards: it no longer verifies
    damaged = folders[1]
    csv = next(damaged.glob("*_measurements.csv"))
    csv.write_text(csv.read_text() + "\n")
    again = run_batch([src], out, **options)  # type: ignore[arg-type]
    statuses = {Path(r.source).name: r.status for r in again.results}
    assert statuses == {
        "Cells0_Ctl.ome.tif": ItemStatus.ALREADY_SAVED,
        "Cells1_Ctl.ome.tif": ItemStatus.SAVED,
        "Cells2_Ctl.ome.tif": ItemStatus.ALREADY_SAVED,
    }

    # a skipped item's row keeps the checks its sidecar recorded
    def checks(result: ItemResult) -> tuple[str, str, str, str]:
        return (
            result.qc_verdict,
            result.qc_warnings,
            result.qc_failed_checks,
            result.accepted_by,
        )

    before = {r.key: checks(r) for r in first.results}
    skipped = [r for r in again.results if r.status is ItemStatus.ALREADY_SAVED]
    assert [checks(r) for r in skipped] == [before[r.key] for r in skipped]
    assert all(r.qc_verdict for r in skipped)
    redone = next(r for r in again.results if r.status is ItemStatus.SAVED)
    assert redone.name.endswith("_v02") and "missing or changed" in redone.note
    assert verify_dataset(redone.folder).ok
    assert len(dataset_folders(out)) == 4  # the damaged one is left for a person

    # a raw file rewritten at the same path is a new acquisition: saved again
    write_ome_tiff(src / "Cells2_Ctl.ome.tif", 99)
    third = run_batch([src], out, **options)  # type: ignore[arg-type]
    assert [r.status for r in third.results].count(ItemStatus.SAVED) == 1
    assert len(_state_lines(out)) == 3 * 3 * 2  # submitted + finished, every run


def test_published_before_the_state_line_is_not_saved_twice(tmp_path: Path) -> None:
    """A run killed between publishing a dataset and writing its state line, or in
    the middle of a save: the next run adopts the published dataset (verified) and
    removes the temporary folder, then saves the rest once."""
    src, out = tmp_path / "src", tmp_path / "out"
    for n in range(2):
        write_ome_tiff(src / f"Cells{n}_Ctl.ome.tif", n)
    options = {
        "values": {**VALUES, **UNDATED},
        "name_pattern": r"(?P<sample>[^_]+)_(?P<condition>[^_.]+)",
        "accept_qc_failures_by": "tester",
        "processes": False,
    }
    first = run_batch([src], out, **options)  # type: ignore[arg-type]
    published = {r.key: r.folder for r in first.results}
    # what a killed run leaves: "submitted" lines only, one dataset half-written
    lines = (out / STATE_FILE).read_text().splitlines()
    submitted = [line for line in lines if '"event": "submitted"' in line]
    (out / STATE_FILE).write_text("\n".join(submitted) + '\n{"torn')
    unfinished = Path(published[first.results[1].key])
    partial = unfinished.with_name(f".{unfinished.name}.partial-0123abcd")
    os.rename(unfinished, partial)

    again = run_batch([src], out, **options)  # type: ignore[arg-type]
    by_key = {r.key: r for r in again.results}
    adopted = by_key[first.results[0].key]
    assert adopted.status is ItemStatus.ALREADY_SAVED
    assert adopted.folder == published[adopted.key]
    redone = by_key[first.results[1].key]
    assert redone.status is ItemStatus.SAVED
    assert redone.folder == str(unfinished)  # same name: the partial was its own
    assert partial.name in redone.note
    assert partial_folders(out) == []
    assert sorted(map(str, dataset_folders(out))) == sorted(published.values())
    assert again.leftovers == []


def test_one_batch_per_destination(tmp_path: Path) -> None:
    import pytest

    from napari_fairly.core.errors import OutputError

    with BatchState(tmp_path), pytest.raises(OutputError, match="another batch"):
        BatchState(tmp_path).__enter__()
    with BatchState(tmp_path) as state:  # released when the first one ends
        assert state.path.is_file()


def test_state_lines_are_json_with_the_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_batch(
        [ZSTACK], out, values=_values(), accept_qc_failures_by="me", processes=False
    )
    first, last = _state_lines(out)
    assert (first["event"], last["event"]) == ("submitted", "finished")
    assert first["key"] == last["key"] == f"{ZSTACK}#1"
    assert last["status"] == "saved" and last["accepted_by"] == "me"
    assert json.loads(json.dumps(last)) == last
