"""The save gate and the exit-code table on the command line (one test per code)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zarr

from conftest import DATA, naming_form
from napari_fairly.cli import main
from napari_fairly.commands import EXIT_CODES
from napari_fairly.core import demo
from napari_fairly.core.form import form_to_json
from napari_fairly.core.reading import open_acquisition

TOXO = DATA / "dv/toxo.dv"
STUCK = DATA / "tiff/stuck.tif"
WELLS = DATA / "czi/WellD6-7_S2.czi"
COMPLETE = [
    "--set=naming.project=TNT",
    "--set=naming.sample=Probes",
    "--set=naming.creator=ALebon",
    "--set=naming.condition=Controle",
    "--set=naming.date=2024-01-15",
    "--set=study.title=Probes",
    "--set=study.publisher=Test imaging facility",
    "--set=study.authors=A. Lebon|0000-0002-1825-0097",
    "--set=biosample.organism=NCBITaxon:9606",
    "--set=biosample.biological_entity=cultured cells",
    "--set=study_component.imaging_method=fluorescence microscopy",
    "--set=image_acquisition.instrument=Test microscope",
    "--set=image_acquisition.acquisition_datetime=2024-01-15T10:00:00+01:00",
]


def _form_file(raw: Path, path: Path, sample: str = "Toxo", **typed: str) -> Path:
    path.write_text(form_to_json(naming_form(open_acquisition(raw), sample, **typed)))
    return path


def _nothing_in(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


def test_help_prints_the_exit_code_table(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "exit codes:" in out
    for code, meaning in EXIT_CODES:
        assert f"{code} {' '.join(meaning.split()[:4])}" in out


def test_form_corrections_reach_the_saved_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = tmp_path / "form.json"
    corrections = [
        "--set=image_acquisition.pixel_size_x_um=0.1",
        "--set=image_acquisition.pixel_size_y_um=0.1",
        "--set=pz=0.25",  # a short name of fairly qc works here too
    ]
    code = main(["form", str(STUCK), *COMPLETE, *corrections, "--out", str(form)])
    assert code == 0, capsys.readouterr().err
    data = json.loads(form.read_text())
    assert data["image_data"]["sha256"]  # the form records the file it is for
    assert set(data["corrections"]["values"]) == {
        "image_acquisition.pixel_size_x_um",
        "image_acquisition.pixel_size_y_um",
        "image_acquisition.pixel_size_z_um",
    }
    out = tmp_path / "out"
    assert main(["save", str(STUCK), "--form", str(form), "--out", str(out)]) == 0
    (folder,) = list(out.iterdir())
    image = zarr.open_group(str(folder / f"{folder.name}.ome.zarr"), mode="r")
    ms = image.attrs["multiscales"][0]
    assert [a.get("unit") for a in ms["axes"]] == ["micrometer"] * 3
    scale = ms["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert scale == pytest.approx([0.25, 0.1, 0.1])
    side = json.loads((folder / f"{folder.name}.json").read_text())
    assert side["acquisition"]["pixel_size_z_um"]["status"] == "operator"


def test_incomplete_form_exit_1_names_the_form_and_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = tmp_path / "form.json"
    assert main(["form", str(TOXO), "--out", str(form)]) == 1
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["save", str(TOXO), "--form", str(form), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert str(form) in err and "study.title" in err and "biosample.organism" in err
    assert _nothing_in(out)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("study.licence", "../../etc/passwd"),
        ("study.title", ""),
        ("study_component.imaging_method", "telepathy"),
        ("study.authors", "A. Lebon|0000-0000-0000-0000"),
    ],
)
def test_hostile_form_value_exit_1_nothing_written(
    field: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = _form_file(TOXO, tmp_path / "form.json", **{field: value})
    out = tmp_path / "out"
    assert main(["save", str(TOXO), "--form", str(form), "--out", str(out)]) == 1
    assert field in capsys.readouterr().err
    assert _nothing_in(out)


def test_form_for_another_file_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = _form_file(TOXO, tmp_path / "form.json")
    out = tmp_path / "out"
    assert main(["save", str(STUCK), "--form", str(form), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "toxo.dv" in err and str(form) in err
    assert _nothing_in(out)


@pytest.mark.parametrize(
    "content", [b"not json at all", b'{"study": {"colour": "red"}}', b"\xff\xfe\xfa"]
)
def test_a_file_that_is_not_a_form_exit_2(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = tmp_path / "form.json"
    form.write_bytes(content)
    out = tmp_path / "out"
    assert main(["save", str(TOXO), "--form", str(form), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(form) in err and "Traceback" not in err
    assert _nothing_in(out)


def test_failed_check_exit_3_unless_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = demo.write_demo_acquisition(tmp_path / "demo.ome.tif", size_z=8, size_yx=96)
    form = _form_file(raw, tmp_path / "form.json", "Demo")
    out = tmp_path / "out"
    assert main(["save", str(raw), "--form", str(form), "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "nyquist_z" in err and "nothing was written" in err
    assert _nothing_in(out)
    args = ["save", str(raw), "--form", str(form), "--out", str(out)]
    assert main([*args, "--accept-qc-failures", "--operator", "A. Lebon"]) == 0
    (folder,) = list(out.iterdir())
    err = " ".join(capsys.readouterr().err.split())
    assert f"note: {folder.name}: failed quality checks accepted by A. Lebon" in err
    side = json.loads((folder / f"{folder.name}.json").read_text())
    assert side["qc"]["failed"] is True
    accepted = side["qc_acceptance"]
    assert accepted["by"] == "A. Lebon" and accepted["at"]
    assert "nyquist_z (channel 1)" in accepted["checks"]


def test_scene_numbers_agree_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(WELLS), "--scene", "2"]) == 0
    assert "Scene    2 of 2 (D7)" in capsys.readouterr().out
    acq = open_acquisition(WELLS, 1)
    form = tmp_path / "form.json"
    form.write_text(form_to_json(naming_form(acq, "Wells")))
    out = tmp_path / "out"
    args = ["save", str(WELLS), "--form", str(form), "--out", str(out)]
    assert main([*args, "--scene", "2"]) == 0
    (folder,) = list(out.iterdir())
    assert folder.name.split("_")[2] == "Wells-s02"
    side = json.loads((folder / f"{folder.name}.json").read_text())
    assert side["source"]["scene_number"] == 2 and side["source"]["scene"] == 1
    assert side["source"]["scene_name"] == "D7"
    assert main([*args, "--scene", "0"]) == 1
    assert "numbered from 1" in capsys.readouterr().err


def test_every_command_uses_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing.czi")
    # 0: done
    assert main(["inspect", str(TOXO)]) == 0
    assert (
        main(["name", "--check", "2023-01-15_TNT_Algae_ALebon_Controle_RAW_v01"]) == 0
    )
    # 1: a verdict says no
    assert main(["name", "--check", "2023-01-15_TNT_Algae"]) == 1
    assert main(["qc", str(TOXO), "--set", "na=-1"]) == 1
    # 2: bad input
    for command in (["inspect", missing], ["qc", missing], ["form", missing]):
        assert main([*command, *(["--out", "-"] if command[0] == "form" else [])]) == 2
    assert main(["verify", str(tmp_path / "nothing")]) == 2
    assert main(["verify", str(TOXO)]) == 2
    # 3: a quality check failed
    raw = demo.write_demo_acquisition(tmp_path / "demo.ome.tif", size_z=8, size_yx=96)
    assert main(["qc", str(raw)]) == 3
    capsys.readouterr()
