"""What a package index, the napari hub and a citation manager read."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")


def _project() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text())
    return dict(data["project"])


def test_licence_file_matches_the_declared_licence() -> None:
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "Neither the name of the copyright holder" in text
    assert _project()["license"] == {"text": "BSD-3-Clause"}


def test_citation_file_is_cff_1_2_and_matches_the_package() -> None:
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    project = _project()
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "type", "abstract"):
        assert cff[key], key
    assert cff["version"] == project["version"]
    assert cff["license"] == project["license"]["text"]
    assert [a["name"] for a in cff["authors"]] == [
        a["name"] for a in project["authors"]
    ]
    dois = {r["doi"] for r in cff["references"]}
    assert "10.1038/s41592-021-01166-8" in dois  # REMBI, the form's model


def test_project_urls_and_hub_metadata() -> None:
    project = _project()
    urls = project["urls"]
    assert {"Homepage", "Documentation", "User Support"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())
    assert "Framework :: napari" in project["classifiers"]
    hub = REPO / ".napari-hub"
    assert (hub / "DESCRIPTION.md").read_text(encoding="utf-8").startswith("# FAIRly")
    config = yaml.safe_load((hub / "config.yml").read_text(encoding="utf-8"))
    assert config["visibility"] == "public" and config["summary"]


def test_the_demo_sample_says_what_it_is() -> None:
    """The demo is a widefield acquisition: its titles must not say confocal (the
    training demo, a confocal stack, says so)."""
    manifest = yaml.safe_load(
        (REPO / "src" / "napari_fairly" / "napari.yaml").read_text(encoding="utf-8")
    )
    samples = {s["key"]: s for s in manifest["contributions"]["sample_data"]}
    assert set(samples) == {"demo", "training"}
    sample = samples["demo"]
    command = next(
        c for c in manifest["contributions"]["commands"] if c["id"] == sample["command"]
    )
    for title in (sample["display_name"], command["title"]):
        assert "widefield" in title and "confocal" not in title.lower()


def test_the_demo_acquisition_is_widefield(tmp_path: Path) -> None:
    from napari_fairly.core.demo import write_demo_acquisition
    from napari_fairly.core.reading import open_acquisition

    acq = open_acquisition(write_demo_acquisition(tmp_path))
    modes = {c.acquisition_mode.value for c in acq.metadata.channels}
    acq.close()
    assert modes == {"WideField"}
