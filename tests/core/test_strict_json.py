"""Strict JSON (RFC 8259): non-finite numbers become null with their reason."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from napari_fairly.core import strict_json


def test_non_finite_numbers_become_null_with_a_reason() -> None:
    value = {
        "snr": math.nan,
        "ratio": math.inf,
        "scale": [1.0, -math.inf, 2.0],
        "nested": {"a": [[math.nan]], "ok": 1.5},
        "text": "NaN",
    }
    data = strict_json.loads(strict_json.dumps(value))
    assert data["snr"] is None and data["ratio"] is None
    assert data["scale"] == [1.0, None, 2.0]
    assert data["null_reasons"] == {
        "snr": strict_json.REASON_NAN,
        "ratio": strict_json.REASON_INFINITE,
        "scale[1]": strict_json.REASON_INFINITE,
    }
    assert data["nested"] == {
        "a": [[None]],
        "ok": 1.5,
        "null_reasons": {"a[0][0]": strict_json.REASON_NAN},
    }
    assert data["text"] == "NaN"  # a string is not a number


def test_the_strict_reader_refuses_what_python_would_accept() -> None:
    for text in ('{"a": NaN}', "[Infinity]", '{"b": -Infinity}'):
        json.loads(text)  # Python's own reader takes them
        with pytest.raises(ValueError, match="not JSON"):
            strict_json.loads(text)


def test_a_finite_value_is_written_as_python_would() -> None:
    value = {"é": [1, 2.5, None, True, "x"], "n": {"m": -0.0}}
    assert strict_json.dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


@given(
    st.recursive(
        st.floats() | st.integers() | st.text() | st.none() | st.booleans(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=30,
    )
)
def test_any_value_gives_strict_json(value: object) -> None:
    strict_json.loads(strict_json.dumps(value))
