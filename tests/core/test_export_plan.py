"""One plan for a save: the files the Save panel lists are the files the save writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from conftest import DATA, naming_form, sessions
from napari_fairly.core.export import (
    IMAGE_PARTS,
    OutputRole,
    SaveRequest,
    plan_dataset,
    planned_outputs,
    save_steps,
)
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import open_acquisition
from napari_fairly.core.settings import FacilityTemplate, TemplateOptions

RAW = DATA / "dv/toxo.dv"
NAME = "2024-01-15_TNT_Toxo_ALebon_Controle_RAW_v01"


def _request(out: Path, **options: object) -> SaveRequest:
    acq = open_acquisition(RAW)
    template = FacilityTemplate(
        facility="Test facility",
        options=TemplateOptions(destination_layout="{project}"),
    )
    found = sessions((acq,), naming_form(acq, "Toxo"), template=template)
    return SaveRequest(found, out, accept_qc_failures_by="test", **options)  # type: ignore[arg-type]


def test_planned_outputs_are_exactly_what_the_save_writes(tmp_path: Path) -> None:
    labels = np.zeros(open_acquisition(RAW).data.shape[-2:], np.uint16)
    labels[5:9, 5:9] = 1
    request = _request(tmp_path, labels=labels, copy_raw=True, ngff_version="0.5")
    planned = planned_outputs(request)
    assert [o.role for o in planned] == list(OutputRole)  # every role, write order
    assert planned[0].path == f"TNT/{NAME}/{NAME}.ome.zarr"
    assert "OME-NGFF 0.5" in planned[0].description
    assert all(o.description for o in planned)

    (dataset,) = drive(save_steps(request)).datasets
    top = {
        p.relative_to(tmp_path).as_posix()
        for p in dataset.folder.rglob("*")
        if p.is_file() and ".ome.zarr/" not in p.as_posix()
    }
    documents = {
        o.path
        for o in planned
        if o.role is not OutputRole.IMAGE and o.role not in IMAGE_PARTS
    }
    assert documents == top
    assert (tmp_path / planned[0].path).is_dir()
    # the parts of the OME-Zarr the plan names are where it says
    by_role = {o.role: tmp_path / o.path for o in planned}
    assert by_role[OutputRole.OME_METADATA].is_file()
    assert by_role[OutputRole.LABELS].name == "labels"  # no name, no file: default
    assert (by_role[OutputRole.LABELS] / "zarr.json").is_file()
    # the sidecar lists the outputs written before it, with the planned roles
    side = json.loads(dataset.sidecar_path.read_text())
    assert [o["role"] for o in side["outputs"]] == [
        "image",
        "zarr_manifest",
        "measurements",
        "objects",
        "raw_copy",
        "datacite",
        "datacite_xml",
    ]
    listed = [o for o in planned if o.role not in IMAGE_PARTS]
    assert [o["path"] for o in side["outputs"]] == [
        o.path.removeprefix(f"TNT/{NAME}/") for o in listed[:7]
    ]


def test_the_plan_names_the_next_free_version_before_the_save(tmp_path: Path) -> None:
    request = _request(tmp_path)
    first = plan_dataset(request, request.sessions[0])
    assert (first.name, first.bumped) == (NAME, False)
    assert first.folder == tmp_path / "TNT" / NAME
    assert [o.role for o in first.outputs] == [
        OutputRole.IMAGE,
        OutputRole.OME_METADATA,
        OutputRole.ZARR_MANIFEST,
        OutputRole.MEASUREMENTS,
        OutputRole.DATACITE,
        OutputRole.DATACITE_XML,
        OutputRole.SIDECAR,
        OutputRole.REPORT,
        OutputRole.FILE_LIST,
        OutputRole.RO_CRATE,
        OutputRole.CHECKSUMS,
    ]
    (tmp_path / "TNT" / NAME).mkdir(parents=True)  # v01 taken meanwhile
    second = plan_dataset(request, request.sessions[0])
    v02 = NAME.replace("_v01", "_v02")
    assert (second.name, second.requested_name, second.bumped) == (v02, NAME, True)
    assert second.path(OutputRole.SIDECAR) == f"{v02}.json"
    assert not any(p.name.startswith(".") for p in (tmp_path / "TNT").iterdir())


def test_a_study_layout_files_the_dataset_under_the_study_title(tmp_path: Path) -> None:
    acq = open_acquisition(RAW)
    template = FacilityTemplate(
        facility="Test facility",
        options=TemplateOptions(destination_layout="{project}/{study}"),
    )
    form = naming_form(acq, "Toxo", **{"study.title": "Étude des nanotubes / 2024"})
    found = sessions((acq,), form, template=template)
    request = SaveRequest(found, tmp_path, accept_qc_failures_by="test")
    planned = planned_outputs(request)
    assert planned[0].path == f"TNT/Etude-des-nanotubes-2024/{NAME}/{NAME}.ome.zarr"
