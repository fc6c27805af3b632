"""``fairly inspect``: human summary, JSON, and one clear line for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA
from napari_fairly.cli import main


def test_summary_flags_missing_values(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", str(DATA / "nd2/example-multichannel.nd2")])
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0
    # damage in the pixels is not seen here: it says so, and where it is seen
    assert (
        captured.err
        == "note: pixels not read; 'fairly qc FILE' reads and checks them.\n"
    )
    assert "T1 C4 Z1 Y256 X256  uint16" in out
    assert "objective.na" in out and "0.75" in out
    # a single plane has no z-step: not applicable, which is not missing
    assert "n/a      pixel_size_z_um" in out
    assert "MISSING  pixel_size_z_um" not in out
    assert "a single plane: there is no z-step" in out  # why it does not apply
    assert "24 of 75 values missing or invalid (11 not applicable)." in out
    assert "laser line" in out  # the 405 nm conflict is reported


def test_scene_option(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["inspect", str(DATA / "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"), "--scene", "3"]
    )
    out = capsys.readouterr().out
    assert code == 0
    # scenes are numbered from 1 wherever a person reads or types them
    assert "Scene    3 of 3 (TR2)" in out
    assert "1: TR1, 2: P1, 3: TR2" in out
    assert "Y237 X352" in out


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", "--json", str(DATA / "dv/toxo.dv")])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload["shape"] == {"T": 1, "C": 2, "Z": 17, "Y": 128, "X": 128}
    assert payload["objective"]["na"]["value"] == pytest.approx(1.35)
    assert payload["objective"]["na"]["status"] == "inferred"
    assert payload["pixel_size_z_um"]["value"] == pytest.approx(0.3, rel=1e-6)
    assert payload["channels"][0]["name"]["status"] == "missing"
    assert payload["scene_names"] == ["Image:0"]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda d: d / "missing.czi", "no such file"),
        (lambda d: d, "is a folder"),
        (lambda d: _write(d / "empty.nd2", b""), "empty"),
        (
            lambda d: _write(
                d / "cut.nd2", (DATA / "nd2/cluster.nd2").read_bytes()[:50000]
            ),
            "cannot be read",
        ),
        (
            lambda d: _write(d / "x.czi", (DATA / "tiff/stuck.tif").read_bytes()),
            "not a valid Zeiss CZI",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(
    make: object, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    code = main(["inspect", str(path)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"fairly inspect: {path}")
    assert words in lines[0]


def test_scene_out_of_range_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", str(DATA / "czi/WellD6-7_S2.czi"), "--scene", "7"])
    err = capsys.readouterr().err
    assert code == 2
    assert "scene 7 does not exist; the file has 2" in err


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_installed_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("fairly")
    ok = subprocess.run(
        [
            str(script),
            "inspect",
            str(DATA / "lif/testdata_2channel_xz.lif"),
            "--scene",
            "xzy",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "T1 C2 Z128 Y23 X128  uint8" in ok.stdout
    # a CZI whose ZEN terms are outside the OME enums: no warning noise on stderr
    quiet = subprocess.run(
        [str(script), "inspect", str(DATA / "czi/LLS7_small.czi")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.splitlines() == [  # our note only, no library's warning
        "note: pixels not read; 'fairly qc FILE' reads and checks them."
    ]
    assert "Lattice Lightsheet" in quiet.stdout
    bad = subprocess.run(
        [str(script), "inspect", str(tmp_path / "nope.lif")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
