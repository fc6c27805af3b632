"""Batch plans: sources, the manifest, file names, and every problem listed at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batch_helpers import UNDATED, VALUES, corrupt_czi, write_ome_tiff
from conftest import DATA
from napari_fairly.core.batch import (
    BatchPlanError,
    item_form,
    plan_batch,
    read_manifest,
)
from napari_fairly.core.batch.plan import find_sources
from napari_fairly.core.reading import open_acquisition
from napari_fairly.core.settings import load_template

# the batch keys sources by their real path (../shared may be a symlink)
TOXO = (DATA / "dv/toxo.dv").resolve()
WELLS = (DATA / "czi/WellD6-7_S2.czi").resolve()


def test_folder_is_walked_for_acquisitions_only(tmp_path: Path) -> None:
    src = tmp_path / "src"
    a = write_ome_tiff(src / "a.ome.tif", 1)
    b = write_ome_tiff(src / "day2" / "b.tif", 2)
    (src / "notes.txt").write_text("not an image")
    (src / ".hidden.tif").write_bytes(a.read_bytes())
    zarr = src / "plate.ome.zarr"
    (zarr / "0").mkdir(parents=True)
    (zarr / "0" / "x.tif").write_bytes(b"inside a zarr: not its own acquisition")
    sources, problems = find_sources([src], tmp_path / "out")
    assert sources == sorted([a, b, zarr]) and problems == []

    _found, problems = find_sources([src / "missing.czi", src], src / "out")
    assert any("no such file" in p for p in problems)
    assert any("output folder is inside it" in p for p in problems)


def test_values_layer_set_then_file_name_then_manifest(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_ome_tiff(src / "Cells_Controle.ome.tif", 1)
    write_ome_tiff(src / "Cells_Drug.ome.tif", 2)
    manifest = tmp_path / "m.csv"
    # semicolons, as French spreadsheets write CSV; a BOM, as Excel adds
    manifest.write_text(
        "\ufefffile;condition;naming.date\nCells_Drug.ome.tif;Nocodazole;2024-02-01\n",
        encoding="utf-8",
    )
    plan = plan_batch(
        [src],
        tmp_path / "out",
        manifest=manifest,
        name_pattern=r"(?P<sample>[^_]+)_(?P<condition>[^_.]+)",
        values={**VALUES, **UNDATED, "naming.condition": "Ignored"},
    )
    assert plan.problems == ()
    names = {item.source.name: item.name for item in plan.items}
    assert names == {
        "Cells_Controle.ome.tif": "2024-01-15_TNT_Cells_ALebon_Controle_RAW_v01",
        "Cells_Drug.ome.tif": "2024-02-01_TNT_Cells_ALebon_Nocodazole_RAW_v01",
    }
    drug = next(i for i in plan.items if i.source.name == "Cells_Drug.ome.tif")
    with open_acquisition(drug.source, drug.scene) as acquisition:
        form, _parameters = item_form(acquisition, drug, None)
    # where each value came from is recorded in the form (and so in the sidecar)
    assert form.sources["naming.condition"] == "operator:manifest m.csv line 2"
    assert form.sources["naming.sample"] == "operator:file name"
    assert form.sources["naming.project"] == "operator:command line"


def test_file_already_named_by_the_convention_gives_its_components(
    tmp_path: Path,
) -> None:
    name = "2023-05-02_NUC-2_Embryo-3_MDupont_Heat_RAW_v02"
    write_ome_tiff(tmp_path / "src" / f"{name}.ome.tif", 1)
    values = {**VALUES, **UNDATED}
    del values["naming.project"], values["naming.creator"]
    plan = plan_batch([tmp_path / "src"], tmp_path / "out", values=values)
    assert plan.problems == ()
    assert [item.name for item in plan.items] == [name]


def test_every_problem_is_listed_before_anything_runs(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_ome_tiff(src / "a.ome.tif", 1)
    write_ome_tiff(src / "b.ome.tif", 2)
    corrupt_czi(src / "broken.czi")
    manifest = tmp_path / "m.json"
    manifest.write_text(
        json.dumps(
            [
                {"file": "a.ome.tif", "condition": "Ctl", "colour": "red"},
                {"file": "a.ome.tif", "condition": "Again"},
                {"file": "ghost.czi", "condition": "Ctl"},
                {"file": "b.ome.tif", "scene": "0", "condition": "Ctl"},
                {"file": "b.ome.tif", "na": "abc"},
            ]
        )
    )
    plan = plan_batch(
        [src], tmp_path / "out", manifest=manifest, values={"naming.sample": "S"}
    )
    text = "\n".join(plan.problems)
    assert "unknown column(s): colour" in text
    assert "line 2: 'a.ome.tif' is already on line 1" in text
    assert "line 3: 'ghost.czi' is not among the files of the batch" in text
    assert "line 4: scene '0' is not a number from 1" in text
    assert "image_acquisition.objective_na" in text  # na=abc, for b.ome.tif
    # the missing required fields, each once, with the files that lack them
    creator = [p for p in plan.problems if p.startswith("naming.creator")]
    assert len(creator) == 1 and "a.ome.tif scene 1" in creator[0]
    # an unreadable file is not a problem of the plan: it is an item that will fail
    broken = [i for i in plan.items if i.source.name == "broken.czi"]
    assert len(broken) == 1 and "cannot be read" in broken[0].unreadable
    with pytest.raises(BatchPlanError) as raised:
        plan.check()
    assert len(raised.value.problems) == len(plan.problems) >= 6
    assert str(raised.value).count("\n  - ") == len(plan.problems)


def test_two_files_with_one_name_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_ome_tiff(src / "one.ome.tif", 1)
    write_ome_tiff(src / "two.ome.tif", 2)
    values = {**VALUES, **UNDATED, "sample": "Cells", "condition": "Ctl"}
    plan = plan_batch([src], tmp_path / "out", values=values)
    assert len(plan.problems) == 1
    assert (
        "would both be saved as 2024-01-15_TNT_Cells_ALebon_Ctl_RAW_v01"
        in (plan.problems[0])
    )


def test_scenes_are_items_and_the_template_layout_is_planned(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        "facility: Test facility\n"
        "projects: [TNT]\n"
        "options:\n  destination_layout: '{project}/{date}'\n"
        "batch:\n  accept_qc_failures_by: Facility QC policy\n"
    )
    loaded = load_template(template)
    assert loaded.batch.accept_qc_failures_by == "Facility QC policy"
    values = {**VALUES, "sample": "Wells", "condition": "Ctl"}
    plan = plan_batch([WELLS, TOXO], tmp_path / "out", template=loaded, values=values)
    # toxo.dv states no date nor instrument: the plan says so for that file only
    assert [p.split(" [")[1] for p in plan.problems] == ["toxo.dv scene 1]"] * 3
    wells = [i for i in plan.items if i.source == WELLS]
    assert [i.scene_number for i in wells] == [1, 2]
    assert [plan.folders[i.key] for i in wells] == [
        f"TNT/2023-01-06/2023-01-06_TNT_Wells-s{n:02d}_ALebon_Ctl_RAW_v01"
        for n in (1, 2)
    ]


def test_manifest_problems_are_collected_not_raised(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("condition,study.title\nCtl,T\n")
    assert read_manifest(manifest).problems == [
        "the manifest has no 'file' column naming each acquisition file."
    ]
    bad = tmp_path / "m.json"
    bad.write_text("{not json")
    with pytest.raises(Exception, match="not valid JSON"):
        read_manifest(bad)


def test_a_symlink_loop_is_an_item_that_fails_not_a_crash(tmp_path: Path) -> None:
    """Path.resolve raises on a loop: in a folder it is an unreadable item (with a
    manifest row naming it), given alone it is a path problem of the plan."""
    import os

    src = tmp_path / "src"
    write_ome_tiff(src / "good.ome.tif", 1)
    loop = src / "loop.czi"
    os.symlink(loop, loop)
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,sample\nsrc/loop.czi,Loop\nsrc/good.ome.tif,Good\n")
    values = {**VALUES, **UNDATED, "condition": "Ctl"}
    plan = plan_batch([src], tmp_path / "out", manifest=manifest, values=values)
    assert plan.problems == ()
    [looped] = [i for i in plan.items if i.source.name == "loop.czi"]
    assert looped.unreadable
    assert "Loop" in looped.values.values()  # its manifest row matched
    alone = plan_batch([loop], tmp_path / "out", values=values)
    assert alone.bad_sources == (f"{loop}: no such file or folder.",)
