"""What the operator reads for hostile inputs (issue 17): the exact kind of message.

The corpus (``tests/corpus``) checks every case for an exit code and one line; these
tests pin what some of those lines say, where an earlier message misled.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import DATA
from napari_fairly.cli import main
from napari_fairly.core.reading import open_acquisition

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
import corpus_cases

RAW = DATA / corpus_cases.RAW


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    ("build", "says"),
    [
        (corpus_cases.fifo, "is not a regular file but a pipe"),
        (corpus_cases.symlink_loop, "is a symbolic link that leads back to itself"),
        (corpus_cases.long_component, "the path is too long"),
        (corpus_cases.ome_lie("c5", SizeC="5"), "contradicts itself: its OME-XML"),
        (corpus_cases.ome_bomb_size_z, "states 3,000,000,000 planes"),
        (corpus_cases.big_tiled(100_000, 1024), "larger than the 1.0 GiB read"),
    ],
    ids=["fifo", "symlink-loop", "name-over-255", "size-c-5", "size-z-1e9", "tiff-1e5"],
)
def test_refused_file_says_what_is_wrong(
    build: object, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = build(tmp_path)  # type: ignore[operator]
    assert main(["qc", str(path)]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"fairly qc: {path.parent}") and says in line


def test_implausible_pixel_size_is_invalid_not_valid(tmp_path: Path) -> None:
    path = corpus_cases.ome_physical_size("1e9")(tmp_path)
    with open_acquisition(path) as acq:
        size = acq.metadata.pixel_size_x_um
        notes = list(acq.metadata.notes)
    assert size.status == "invalid" and size.value is None
    assert size.raw == "1e+09 µm"
    assert any("outside what a microscope samples" in note for note in notes)


def test_bad_form_on_save_names_the_file_and_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = corpus_cases.form_file("f.json", corpus_cases._title("a\x00b"))(tmp_path)
    args = ["save", str(RAW), "--form", str(form), "--out", str(tmp_path / "out")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"fairly save: {form}: the form holds text no field may hold." in err
    assert "study.title: It holds the control character U+0000." in err
    assert not (tmp_path / "out").exists()


def test_latin1_set_value_leaves_no_form_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "form.json"
    values = corpus_cases.set_args(*corpus_cases.FORM_VALUES, "study.title=caf\udce9")
    assert main(["form", str(RAW), *values, "--out", str(out)]) == 2
    assert "is not UTF-8 text (byte 0xE9)" in _one_line(capsys)
    assert list(tmp_path.iterdir()) == []  # nothing that blocks the next run


def test_deep_json_form_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = tmp_path / "f.json"
    form.write_bytes(b'{"study": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert main(["qc", str(RAW), "--form", str(form)]) == 2
    assert _one_line(capsys).startswith(f"fairly qc: {form}: ")


def test_verify_on_a_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(RAW)]) == 2
    assert "is not a folder" in _one_line(capsys)


def test_full_stdout_is_one_line(tmp_path: Path) -> None:
    import subprocess

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "napari_fairly.cli", "inspect", "--json", str(RAW)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "fairly inspect: cannot write the output (No space left on device)."
    ]
    json.dumps(done.stderr)  # plain text


def test_a_newline_or_override_in_a_file_name_stays_one_readable_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "line\nbreak\u202egpj.czi"
    path.write_bytes(b"not a czi at all" * 10)
    assert main(["inspect", str(path)]) == 2
    line = _one_line(capsys)
    assert "line\\nbreak\\u202egpj.czi: " in line and "\u202e" not in line
