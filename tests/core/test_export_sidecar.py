"""The sidecar model: what the save writes, what ``fairly verify`` reads back.

Schema 1.0.0 sidecars (no ``qc_acceptance``, no ``source.scene_number``, every plane
hashed without ``plane_sha256_scope``) are still read and verified.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import DATA, naming_form, save_request
from napari_fairly.core.export import (
    SidecarError,
    read_sidecar,
    save_steps,
    verify_dataset,
)
from napari_fairly.core.export.sidecar import SCHEMA_VERSION, ImageOutput, Sidecar
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import open_acquisition

RAW = DATA / "imagej-tiff/test_still_stack.tif"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dataset whose every plane is hashed, as schema 1.0.0 saves did."""
    acq = open_acquisition(RAW)
    out = tmp_path_factory.mktemp("sidecar")
    request = save_request(
        (acq,), naming_form(acq, "Stack"), out, verify_all_planes=True
    )
    return drive(save_steps(request)).datasets[0].folder


def _copy(folder: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(folder, tmp_path / folder.name))


def _rewrite_sidecar(folder: Path, change: dict) -> Path:
    """Apply ``change`` (key → value, None deletes) and update the checksums file."""
    path = folder / f"{folder.name}.json"
    side = json.loads(path.read_text())
    for key, value in change.items():
        target, _, leaf = key.rpartition(".")
        holder = side
        for part in target.split(".") if target else []:
            holder = holder[int(part)] if part.isdigit() else holder[part]
        if value is None:
            del holder[leaf]
        else:
            holder[leaf] = value
    path.write_text(json.dumps(side, indent=2))
    sums = folder / f"{folder.name}.sha256"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    lines = [
        f"{digest}  {path.name}" if line.endswith(f"  {path.name}") else line
        for line in sums.read_text().splitlines()
    ]
    sums.write_text("\n".join(lines) + "\n")
    return path


def test_the_model_holds_every_key_the_save_writes(saved: Path) -> None:
    path = saved / f"{saved.name}.json"
    side = read_sidecar(path)
    assert side.schema_version == SCHEMA_VERSION == "1.3.0"
    assert side.language == "en"  # the language its texts for people are in
    assert side.to_json() == json.loads(path.read_text())
    # no local path, no OS login: the template did not ask for them
    assert side.source.path is None and side.source.location is None
    assert side.operator.os_user is None
    assert side.source.file_name == RAW.name
    image = side.image
    assert isinstance(image, ImageOutput)
    assert image.plane_sha256_scope == "all"
    assert side.source.scene_number == side.source.scene + 1 == 1


def test_a_schema_1_0_0_sidecar_is_read_and_verified(
    saved: Path, tmp_path: Path
) -> None:
    folder = _copy(saved, tmp_path)
    path = _rewrite_sidecar(
        folder,
        {
            "schema_version": "1.0.0",
            "qc_acceptance": None,
            "source.scene_number": None,
            "outputs.0.plane_sha256_scope": None,
        },
    )
    text = path.read_text()
    assert '"qc_acceptance"' not in text and '"scene_number"' not in text
    side = read_sidecar(path)
    assert side.schema_version == "1.0.0"
    assert side.qc_acceptance is None and side.source.scene_number is None
    assert side.image is not None and side.image.plane_sha256_scope is None
    report = verify_dataset(folder)
    assert report.ok, report.problems
    assert report.planes_checked == len(side.image.plane_sha256) > 1


def test_a_newer_major_schema_is_refused_with_the_reason(
    saved: Path, tmp_path: Path
) -> None:
    folder = _copy(saved, tmp_path)
    path = _rewrite_sidecar(folder, {"schema_version": "2.0.0"})
    with pytest.raises(SidecarError, match=r"schema 2\.0\.0.*reads 1\.x"):
        read_sidecar(path)
    report = verify_dataset(folder)
    assert not report.ok
    assert any("schema 2.0.0" in p for p in report.problems)


def test_a_sidecar_missing_a_block_names_it(saved: Path, tmp_path: Path) -> None:
    folder = _copy(saved, tmp_path)
    _rewrite_sidecar(folder, {"source.sha256": None})
    report = verify_dataset(folder)
    assert report.problems == [
        f"{folder.name}.json is not a sidecar (1 problem(s), first: "
        "source.sha256: Field required)"
    ]


def test_an_older_sidecar_dumps_without_inventing_values(saved: Path) -> None:
    """Reading a 1.0.0 sidecar never fills 1.1.0 fields with guesses."""
    data = json.loads((saved / f"{saved.name}.json").read_text())
    del data["qc_acceptance"], data["source"]["scene_number"]
    data["schema_version"] = "1.0.0"
    side = Sidecar.model_validate(data)
    assert side.model_dump(mode="json")["source"]["scene_number"] is None


def test_a_schema_1_1_0_sidecar_with_path_login_and_nan_is_verified(
    saved: Path, tmp_path: Path
) -> None:
    """Older saves wrote the full path, the OS login and bare NaN: still verified."""
    folder = _copy(saved, tmp_path)
    path = _rewrite_sidecar(
        folder,
        {
            "schema_version": "1.1.0",
            "source.path": str(RAW),
            "operator.os_user": "root",
        },
    )
    side = json.loads(path.read_text())
    side["qc"]["legacy_value"] = float("nan")  # json.dumps writes a bare NaN
    path.write_text(json.dumps(side, indent=2))
    assert "NaN" in path.read_text()
    _rewrite_sidecar(folder, {})  # checksums follow the rewritten file
    read = read_sidecar(path)
    assert read.source.path == str(RAW) and read.operator.os_user == "root"
    report = verify_dataset(folder)
    assert report.ok, report.problems
    assert not report.strict_json


def test_a_new_dataset_with_a_bare_nan_fails_verify(
    saved: Path, tmp_path: Path
) -> None:
    """From schema 1.2.0 on, the JSON must be strict: a NaN is reported."""
    folder = _copy(saved, tmp_path)
    side = json.loads((folder / f"{folder.name}.json").read_text())
    side["qc"]["legacy_value"] = float("nan")
    (folder / f"{folder.name}.json").write_text(json.dumps(side, indent=2))
    _rewrite_sidecar(folder, {})
    report = verify_dataset(folder)
    assert any("is not valid JSON (NaN is not JSON" in p for p in report.problems)


def test_a_french_session_saves_french_texts_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, saved: Path
) -> None:
    """The same file saved from a French session: texts for people in French, the
    sidecar records it; keys, codes and values are those of the English save."""
    monkeypatch.setenv("FAIRLY_LANG", "fr")
    acq = open_acquisition(RAW)
    request = save_request(
        (acq,), naming_form(acq, "Stack"), tmp_path, verify_all_planes=True
    )
    folder = drive(save_steps(request)).datasets[0].folder
    french = json.loads((folder / f"{folder.name}.json").read_text())
    english = json.loads((saved / f"{saved.name}.json").read_text())
    assert (french["language"], english["language"]) == ("fr", "en")
    assert (french["qc"]["language"], english["qc"]["language"]) == ("fr", "en")
    assert french["storage_reminder"].startswith("3-2-1 : ce dossier est une copie.")
    assert english["storage_reminder"].startswith("3-2-1: this folder is one copy.")

    def rows(side: dict) -> list[tuple]:
        return [
            (r["check"], r["channel"], r["z"], r["verdict"], r["severity"], r["value"])
            for r in side["qc"]["rows"]
        ]

    assert rows(french) == rows(english)
    assert set(french) == set(english)
    messages = {(r["check"], r["z"]): r["message"] for r in french["qc"]["rows"]}
    assert messages[("bit_depth", None)] == (
        "contrôle impossible : SignificantBits manquant (à indiquer dans le formulaire)"
    )
    assert verify_dataset(folder).ok
