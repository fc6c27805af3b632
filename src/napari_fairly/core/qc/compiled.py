"""The compiled (numba) kernels of :mod:`napari_fairly.core.qc._kernels`, loaded once.

Every kernel has a numpy or scipy fallback that gives the same values; callers take
``compiled_kernel(name)`` and use the fallback on None: numba not installed, or
``FAIRLY_NO_NUMBA`` set (to compare both paths, or where numba misbehaves).
"""

from __future__ import annotations

import os
import threading
from typing import Any

_LOCK = threading.Lock()
_LOADED: dict[str, Any] = {}  # name → kernel, or None for the fallback
_MISSING = object()


def compiled_kernel(name: str) -> Any:
    """The compiled kernel ``name``, or None when the fallback must be used."""
    found = _LOADED.get(name, _MISSING)
    if found is not _MISSING:
        return found
    with _LOCK:
        if name not in _LOADED:
            _LOADED[name] = _load(name)
        return _LOADED[name]


def _load(name: str) -> Any:
    if os.environ.get("FAIRLY_NO_NUMBA"):
        return None
    try:
        from napari_fairly.core.qc import _kernels
    except ImportError:  # numba is optional at run time
        return None
    return getattr(_kernels, name)
