"""What a file may make the readers allocate or schedule: sizes checked before use.

A file states its own sizes, and a damaged or hostile one can state anything: a
billion planes in a 7 KB OME-TIFF, 3 x 10⁷ x 10⁷ pixels in a folder of metadata, a
100,000² plane of 2.5 MB of compressed tiles. Nothing is allocated, and no task graph
is built, from a size before it is checked here: against the file where the format
allows (pages, bytes, subblocks, which each reader compares), and against these
limits, which no acquisition this tool is for comes near:

- a plane (Y x X x samples) of at most ``FAIRLY_MAX_PLANE_GIB`` GiB (default 1): the
  viewer, the checks and the save each hold a few whole planes in memory at once;
- at most 65,536 chunks or tiles per plane: reading one plane schedules one task per
  chunk (a 32768² TIFF of 16 x 16 tiles is 4.2 million tasks for one plane);
- at most 2²² (4,194,304) chunks or planes in a scene: the lazy array keeps one entry
  per chunk;
- metadata text of at most 1,024 characters per value (a 10 MiB channel name is not a
  name; it would be copied into every table row and document).

A file beyond a limit is refused with a message saying which size and which limit
(exit 2), never read in part.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.i18n import N_, _

GIB = 2**30
MAX_CHUNKS_PER_PLANE = 2**16
MAX_CHUNKS = 2**22
MAX_TEXT_CHARS = 1024
MAX_NOTE_CHARS = 600
TOO_BIG_FIX = N_(
    "Export the acquisition in smaller pieces (tiles, positions or a crop) from the "
    "vendor's software and open those."
)


def max_plane_bytes() -> int:
    """The largest plane read at once: ``FAIRLY_MAX_PLANE_GIB`` GiB, 1 by default."""
    raw = os.environ.get("FAIRLY_MAX_PLANE_GIB", "")
    try:
        gib = float(raw) if raw.strip() else 1.0
    except ValueError:
        gib = 1.0
    return int(max(gib, 1 / 1024) * GIB)


def _size_text(n_bytes: int) -> str:
    if n_bytes >= GIB:
        return f"{n_bytes / GIB:,.1f} GiB"
    return f"{n_bytes / 2**20:,.1f} MiB"


def check_plane(
    path: Path, plane_shape: Sequence[int], dtype: Any, what: str = "a plane"
) -> None:
    """Refuse a plane (Y, X[, S]) larger than :func:`max_plane_bytes`."""
    shape = [int(n) for n in plane_shape]
    if any(n < 0 for n in shape):
        raise UnreadableFileError(
            _("states a negative size ({shape}): the file contradicts itself.").format(
                shape=" x ".join(str(n) for n in shape)
            ),
            fix=_("Copy the file again from the acquisition PC."),
            path=path,
        )
    n_bytes = math.prod(shape) * np.dtype(dtype).itemsize
    limit = max_plane_bytes()
    if n_bytes > limit:
        raise UnreadableFileError(
            _(
                "{what} of {shape} pixels ({size}) is larger than the {limit} read at "
                "once (FAIRLY_MAX_PLANE_GIB); nothing was read."
            ).format(
                what=what,
                shape=" x ".join(f"{n:,}" for n in shape),
                size=_size_text(n_bytes),
                limit=_size_text(limit),
            ),
            fix=_(TOO_BIG_FIX),
            path=path,
        )


def check_chunks(
    path: Path, n_per_plane: int, n_total: int, what: str | None = None
) -> None:
    """Refuse a plane split into more than 65,536 chunks, or a scene of more than
    2²² chunks, before any task is built for them."""
    if n_per_plane > MAX_CHUNKS_PER_PLANE:
        raise UnreadableFileError(
            _(
                "each plane is stored in {n:,} {what}, more than the {limit:,} read "
                "per plane; nothing was read."
            ).format(
                n=n_per_plane, what=what or _("chunks"), limit=MAX_CHUNKS_PER_PLANE
            ),
            fix=_(TOO_BIG_FIX),
            path=path,
        )
    if n_total > MAX_CHUNKS:
        raise UnreadableFileError(
            _(
                "the image is stored in {n:,} {what}, more than the {limit:,} one "
                "scene may have; nothing was read."
            ).format(n=n_total, what=what or _("chunks"), limit=MAX_CHUNKS),
            fix=_(TOO_BIG_FIX),
            path=path,
        )


def check_array(
    path: Path,
    shape: Sequence[int],
    chunks: Sequence[int | Sequence[int]],
    dtype: Any,
    plane_axes: int = 2,
) -> None:
    """Check an array of ``shape`` in ``chunks`` whose last ``plane_axes`` axes are a
    plane: the plane's size, the chunks per plane and in all.

    ``chunks`` gives each axis' chunk size (an int) or its chunk sizes (a sequence).
    """
    shape = [int(n) for n in shape]
    check_plane(path, shape[len(shape) - plane_axes :], dtype)
    counts = []
    for n, chunk in zip(shape, chunks, strict=True):
        if isinstance(chunk, int | np.integer):
            counts.append(math.ceil(n / int(chunk)) if int(chunk) > 0 and n else 1)
        else:
            counts.append(max(len(chunk), 1))
    per_plane = math.prod(counts[len(counts) - plane_axes :])
    check_chunks(path, per_plane, math.prod(counts))


def bounded(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return text[: limit - 40] + f"… ({len(text):,} characters)"
