"""SHA-256 of raw files, streamed so a 100 GB file never sits in memory (SPEC 8)."""

from __future__ import annotations

import hashlib
from pathlib import Path

BLOCK_BYTES = 8 * 1024 * 1024


def sha256_file(path: Path | str, block: int = BLOCK_BYTES) -> str:
    """Hex SHA-256 of one file, read in ``block``-byte pieces, opened read-only."""
    digest = hashlib.sha256()
    buffer = bytearray(block)  # one buffer for the whole file: no allocation per piece
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            digest.update(view[:size])
    return digest.hexdigest()


def sha256_tree(path: Path | str, block: int = BLOCK_BYTES) -> str:
    """SHA-256 of a file, or of all files under a folder (sorted, concatenated).

    Matches how ``expected.json`` hashes OME-Zarr folders, so a test can check a folder
    source is intact.
    """
    root = Path(path)
    if root.is_file():
        return sha256_file(root, block)
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        with open(file, "rb") as handle:
            while chunk := handle.read(block):
                digest.update(chunk)
    return digest.hexdigest()
