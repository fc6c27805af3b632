"""Shared by the batch and watch tests: form values, synthetic acquisitions."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from conftest import DATA

# every required field a file cannot state, as a batch's --set values (strings)
VALUES = {
    "naming.project": "TNT",
    "naming.creator": "ALebon",
    "study.title": "Test acquisitions",
    "study.publisher": "Test facility",
    "study.authors": "A. Lebon|0000-0002-1825-0097",
    "biosample.organism": "Homo sapiens",
    "biosample.biological_entity": "cultured cells",
    "study_component.imaging_method": "fluorescence microscopy",
}
# what a plain TIFF or a DV file does not say
UNDATED = {
    "naming.date": "2024-01-15",
    "image_acquisition.acquisition_datetime": "2024-01-15T10:00:00+01:00",
    "image_acquisition.instrument": "Test microscope",
}
REAL_FILES = (
    DATA / "dv/toxo.dv",
    DATA / "nd2/example-zstack.nd2",
    DATA / "czi/WellD6-7_S2.czi",  # two scenes
)


def set_args(values: dict[str, str]) -> list[str]:
    """``--set key=value`` for each value."""
    out: list[str] = []
    for key, value in values.items():
        out += ["--set", f"{key}={value}"]
    return out


def ome_tiff_bytes(seed: int, planes: int = 4, size: int = 64) -> bytes:
    """A small noisy 16-bit OME-TIFF z-stack (0.1 µm pixels, 0.3 µm steps)."""
    import tifffile

    rng = np.random.default_rng(seed)
    data = rng.integers(100, 3000, (planes, size, size), dtype=np.uint16)
    buffer = io.BytesIO()
    tifffile.imwrite(
        buffer,
        data,
        ome=True,
        metadata={
            "axes": "ZYX",
            "PhysicalSizeX": 0.1,
            "PhysicalSizeY": 0.1,
            "PhysicalSizeZ": 0.3,
        },
    )
    return buffer.getvalue()


def write_ome_tiff(path: Path, seed: int, planes: int = 4, size: int = 64) -> Path:
    """Write :func:`ome_tiff_bytes` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ome_tiff_bytes(seed, planes, size))
    return path


def corrupt_czi(path: Path) -> Path:
    """A file named .czi whose content is not a CZI past its magic bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"ZISRAWFILE" + bytes(range(256)) * 8)
    return path


def dataset_folders(destination: Path) -> list[Path]:
    """Published dataset folders anywhere under ``destination``."""
    return sorted(
        {p.parent for p in destination.rglob("*.sha256") if p.stem == p.parent.name}
    )


def partial_folders(destination: Path) -> list[Path]:
    """Temporary save folders anywhere under ``destination``."""
    return sorted(p for p in destination.rglob(".*.partial-*") if p.is_dir())
