"""Shared fixtures: the real files in ../shared/data, a private config dir per test."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"

if not (DATA / "expected.json").is_file():
    raise pytest.UsageError(
        f"Test data not found at {DATA}. Clone the shared folder beside the repository "
        "(../shared/data, as in CI) and run the tests again."
    )

EXPECTED: dict[str, Any] = json.loads(
    (DATA / "expected.json").read_text(encoding="utf-8")
)
DATA_FILES: list[Path] = [DATA / rel for rel in sorted(EXPECTED["files"])]


@pytest.fixture(params=DATA_FILES, ids=lambda p: p.relative_to(DATA).as_posix())
def data_file(request: pytest.FixtureRequest) -> Path:
    """Every real acquisition in ../shared/data, in place (never copied)."""
    path: Path = request.param
    return path


@pytest.fixture
def expected() -> dict[str, Any]:
    """Reference values read with low-level readers, keyed by path relative to DATA."""
    return EXPECTED["files"]


@pytest.fixture(autouse=True)
def _private_config_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test gets its own config dir, so profiles and templates never leak."""
    config = tmp_path_factory.mktemp("fairly-config")
    monkeypatch.setenv("FAIRLY_CONFIG_DIR", str(config))
    monkeypatch.delenv("FAIRLY_TEMPLATE", raising=False)
    return config


@pytest.fixture(autouse=True)
def _english_unless_asked(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Texts in English whatever the machine's locale; a test asks for French."""
    from napari_fairly.core import i18n

    monkeypatch.setenv("FAIRLY_LANG", "en")
    yield
    i18n.set_language(None)
    i18n.set_host_language(None)


@pytest.fixture
def local_disk(tmp_path: Path) -> Iterator[Path]:
    """A small real ext4 filesystem (loop-mounted image): O_DIRECT and a real ENOSPC.

    Skipped where mounting is not allowed (not root, no mkfs.ext4, no loop device).
    """
    import shutil
    import subprocess

    if shutil.which("mkfs.ext4") is None or os.geteuid() != 0:
        pytest.skip("needs mkfs.ext4 and root to loop-mount an ext4 image")
    image, mount_point = tmp_path / "disk.img", tmp_path / "disk"
    with open(image, "wb") as handle:
        handle.truncate(24 * 2**20)
    mount_point.mkdir()
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True)
    mounted = made.returncode == 0 and (
        subprocess.run(
            ["mount", "-o", "loop", str(image), str(mount_point)], capture_output=True
        ).returncode
        == 0
    )
    if not mounted:
        pytest.skip("loop-mounting an ext4 image is not allowed here")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


COMPLETE = {
    "naming.project": "TNT",
    "naming.creator": "ALebon",
    "naming.condition": "Controle",
    "study.title": "Test acquisitions",
    "study.publisher": "Test imaging facility",
    "study.authors": [{"name": "A. Lebon", "orcid": "0000-0002-1825-0097"}],
    "biosample.organism": {"id": "NCBITaxon:9606", "label": "Homo sapiens"},
    "biosample.biological_entity": "cultured cells",
}


def naming_form(acq: Any, sample: str, **typed: Any) -> Any:
    """A complete, valid form for ``acq`` (date 2024-01-15 when the file has none).

    Every required field is filled: the save gate refuses anything less. Fields the
    file does not state (instrument, imaging method, date) get test values.
    """
    from napari_fairly.core.form import prefill_form

    md = acq.metadata
    values: dict[str, Any] = {**COMPLETE, "naming.sample": sample}
    if not md.acquisition_date.value:
        values["naming.date"] = "2024-01-15"
        values["image_acquisition.acquisition_datetime"] = "2024-01-15T10:00:00+01:00"
    if not md.microscope.value:
        values["image_acquisition.instrument"] = "Test microscope"
    form = prefill_form(md, None, None, {**values, **typed})
    if not form.study_component.imaging_method.id:
        form = prefill_form(
            md,
            None,
            None,
            {
                **values,
                "study_component.imaging_method": "fluorescence microscopy",
                **typed,
            },
        )
    return form


def sessions(acqs: Any, form: Any = None, **kw: Any) -> tuple[Any, ...]:
    """One Session per acquisition, sharing ``form`` (a complete one by default)."""
    from napari_fairly.core.session import Session

    acqs = tuple(acqs)
    form = form if form is not None else naming_form(acqs[0], "Cells")
    return tuple(Session(a, form, any_scene=len(acqs) > 1, **kw) for a in acqs)


def save_request(acqs: Any, form: Any, destination: Any, **options: Any) -> Any:
    """A save of ``acqs`` with ``form``; failed checks accepted unless told not to."""
    from napari_fairly.core.export import SaveRequest

    options.setdefault("accept_qc_failures_by", "test")
    return SaveRequest(sessions(acqs, form), destination, **options)


class Listings:
    """Directory listings (``os.scandir``, ``os.listdir``) of paths inside ``folder``.

    ``Path.iterdir``, ``Path.glob``/``rglob`` and ``os.walk`` all go through these two.
    """

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = str(folder)
        self.paths: list[str] = []
        for name in ("scandir", "listdir"):
            monkeypatch.setattr(os, name, self._counting(getattr(os, name)))

    def _counting(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def listing(path: Any = ".", *args: Any, **kwargs: Any) -> Any:
            where = os.fsdecode(os.fspath(path))
            if where.startswith(self.folder):
                self.paths.append(where)
            return original(path, *args, **kwargs)

        return listing


@pytest.fixture
def count_listings(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], Listings]:
    """``count_listings(folder)`` starts counting the listings inside ``folder``."""

    def start(folder: Path) -> Listings:
        return Listings(folder, monkeypatch)

    return start
