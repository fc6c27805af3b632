"""JSON as RFC 8259 defines it: no ``NaN``, no ``Infinity``.

Python's ``json`` writes ``NaN`` and ``Infinity`` for non-finite floats, which
JavaScript, jq and most repositories' tools refuse. Every JSON napari-fairly writes
or prints goes through :func:`dumps`: a number that is not finite becomes ``null``,
and the object holding it says why under ``null_reasons`` (key → reason; a list
item is named ``key[i]``). :func:`loads` is the strict reader the tests and
``fairly verify`` use.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

NULL_REASONS = "null_reasons"
REASON_NAN = "not a number: the value could not be computed"
REASON_INFINITE = "infinite: beyond any number JSON can hold"


def _reason(number: float) -> str:
    return REASON_NAN if math.isnan(number) else REASON_INFINITE


def _is_bad(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _clean_list(items: Sequence[Any], where: str, reasons: dict[str, str]) -> list[Any]:
    """The items with non-finite numbers as None; reasons keyed ``where[i]``."""
    out: list[Any] = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        if _is_bad(item):
            reasons[here] = _reason(item)
            out.append(None)
        elif isinstance(item, list | tuple):
            out.append(_clean_list(item, here, reasons))
        else:
            out.append(strict_value(item))
    return out


def _clean_mapping(value: Mapping[Any, Any]) -> dict[Any, Any]:
    """The mapping with non-finite numbers as None and a ``null_reasons`` entry."""
    out: dict[Any, Any] = {}
    reasons: dict[str, str] = {}
    for key, item in value.items():
        if _is_bad(item):
            reasons[str(key)] = _reason(item)
            out[key] = None
        elif isinstance(item, list | tuple):
            out[key] = _clean_list(item, str(key), reasons)
        else:
            out[key] = strict_value(item)
    if reasons:
        known = out.get(NULL_REASONS)
        out[NULL_REASONS] = {**(known if isinstance(known, dict) else {}), **reasons}
    return out


def strict_value(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (reasons beside it)."""
    if _is_bad(value):
        return None
    if isinstance(value, Mapping):
        return _clean_mapping(value)
    if isinstance(value, list | tuple):
        return _clean_list(value, "", {})
    return value


def dumps(value: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """Strict JSON text of ``value`` (UTF-8 characters kept, never NaN/Infinity)."""
    return json.dumps(
        strict_value(value),
        indent=indent,
        ensure_ascii=False,
        sort_keys=sort_keys,
        allow_nan=False,
    )


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON (RFC 8259)")


def loads(text: str | bytes) -> Any:
    """Parse JSON strictly: ``NaN``, ``Infinity`` and ``-Infinity`` raise ValueError."""
    return json.loads(text, parse_constant=_refuse)
