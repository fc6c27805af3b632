"""``PlaneArray``: lazy TCZYX pixels whose whole planes are read from the file.

Apart from :mod:`._common` so that opening a file imports dask only when its pixels
are asked for as a dask array.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np
from dask.highlevelgraph import HighLevelGraph
from dask.tokenize import tokenize

if TYPE_CHECKING:
    from dask.typing import Key

_WHOLE = slice(None)


class PlaneArray(da.Array):
    """A TCZYX dask array whose single-plane selections compute straight from the file.

    Everything is dask's: the graph, slicing, every operation and ``dask.compute``.
    The one difference: a selection of exactly one whole plane (integers on T, C and Z,
    all of Y and X, as a viewer asks for the plane it shows) computes with
    ``read_plane(t, c, z)`` in the calling thread instead of through the scheduler. The
    values are the same, read by the same checked function the graph calls, and the
    array is as fresh: nothing else holds it (dask copies a one-chunk result because
    its graph or cache may keep the chunk; here nothing keeps it). Other selections,
    ``compute(**options)`` and pickles are plain dask arrays.
    """

    __slots__ = ()

    _read_plane: Callable[[int, int, int], np.ndarray] | None = None
    # (t, c, z) of this array: an int once selected, None while still an axis
    _fixed: tuple[int | None, int | None, int | None] = (None, None, None)

    @classmethod
    def wrap(
        cls,
        arr: da.Array,
        read_plane: Callable[[int, int, int], np.ndarray],
        fixed: tuple[int | None, int | None, int | None] = (None, None, None),
    ) -> PlaneArray:
        """``arr`` (TCZYX, minus the axes ``fixed`` selects) with the direct read."""
        out = cls(arr.dask, arr.name, arr.chunks, meta=arr._meta)
        out.__dict__["_read_plane"] = read_plane
        out.__dict__["_fixed"] = fixed
        return out

    def _selected(self, index: Any) -> tuple[int | None, int | None, int | None] | None:
        """(t, c, z) after ``self[index]``; None unless it selects whole planes."""
        if not isinstance(index, tuple):
            index = (index,)
        if index and index[-1] is Ellipsis:
            index = index[:-1]
        if len(index) > self.ndim or any(i is Ellipsis for i in index):
            return None
        index += (_WHOLE,) * (self.ndim - len(index))
        lead, yx = index[:-2], index[-2:]
        if any(not (isinstance(i, slice) and i == _WHOLE) for i in yx):
            return None
        fixed = list(self._fixed)
        free = [k for k, f in enumerate(fixed) if f is None]
        for k, i, n in zip(free, lead, self.shape[: len(free)], strict=True):
            if isinstance(i, slice) and i == _WHOLE:
                continue
            if isinstance(i, bool | np.bool_) or not isinstance(i, int | np.integer):
                return None
            fixed[k] = range(n)[int(i)]
        return fixed[0], fixed[1], fixed[2]

    def __getitem__(self, index: Any) -> da.Array:
        read = self._read_plane
        fixed = self._selected(index) if read is not None else None
        if read is not None and fixed is not None and None not in fixed:
            plane = self._one_block(fixed)
            if plane is not None:
                return PlaneArray.wrap(plane, read, fixed)
        # dask's errors, graph and name (dask's Array methods are unannotated)
        out: da.Array = super().__getitem__(index)  # type: ignore[no-untyped-call]
        if read is None or fixed is None or not isinstance(out, da.Array):
            return out
        return PlaneArray.wrap(out, read, fixed)

    def _one_block(self, fixed: tuple[int | None, ...]) -> da.Array | None:
        """Plane ``fixed`` as one getitem task on its block: the graph dask's slicing
        builds for a whole plane, without its general machinery (~0.4 ms on a first
        slice). None unless every plane is one block of this array.
        """
        lead = [f for f, own in zip(fixed, self._fixed, strict=True) if own is None]
        chunks, n = self.chunks, len(lead)
        per_plane = all(len(chunks[k]) == self.shape[k] for k in range(n))
        if not per_plane or any(len(c) != 1 for c in chunks[n:]):
            return None
        name = "getitem-" + tokenize(self.name, tuple(lead))
        block = (self.name, *lead, *(0,) * (self.ndim - n))
        layer: dict[Key, Any] = {(name, 0, 0): (operator.getitem, block, (0,) * n)}
        # an Array is a DaskCollection; dask's protocol types __dask_scheduler__ as a
        # staticmethod, its Array as the function, so mypy sees them differ
        graph = HighLevelGraph.from_collections(
            name,
            layer,
            dependencies=[self],  # type: ignore[list-item]
        )
        meta = np.empty((0, 0), self.dtype)
        return da.Array(graph, name, chunks[n:], meta=meta)  # type: ignore[no-untyped-call]

    def _plane(self) -> np.ndarray | None:
        t, c, z = self._fixed
        if self._read_plane is None or t is None or c is None or z is None:
            return None
        return self._read_plane(t, c, z)

    def compute(self, **kwargs: Any) -> Any:
        """The plane read directly when this is one whole plane, else dask's compute."""
        plane = None if kwargs else self._plane()
        if plane is None:
            return super().compute(**kwargs)  # type: ignore[no-untyped-call]
        return plane

    def __array__(
        self, dtype: Any = None, copy: bool | None = None, **kwargs: Any
    ) -> np.ndarray:
        plane = None if kwargs or copy is False else self._plane()
        if plane is None:
            full: np.ndarray = super().__array__(dtype, copy, **kwargs)  # type: ignore[no-untyped-call]
            return full
        return np.asarray(plane, dtype=dtype)
