"""Shared fixtures: the real files in ../shared/data, a private config dir per test."""

from __future__ import annotations

import json
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
