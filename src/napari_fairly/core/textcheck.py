"""Text typed or read into a form: what is refused, and why.

Two kinds of bad text, two answers (the README's exit codes):

- text that cannot be decoded: bytes that are not UTF-8 reach Python as lone
  surrogates (``\\udce9`` for a Latin-1 ``é`` typed in a terminal, ``"\\ud800"`` in
  a JSON file). They cannot be written to any document: the input is bad (exit 2),
  refused where it is read, naming where it is;
- decoded text a form field must not hold: control characters (NUL, escape…),
  bidirectional overrides that make a name read otherwise than it is, and text
  longer than :data:`MAX_FIELD_CHARS`. The form says which field (a verdict, exit 1).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from napari_fairly.core.i18n import _

MAX_FIELD_CHARS = 10_000
# explicit embeddings, overrides and isolates: they reorder what is shown
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
ALLOWED_CONTROLS = frozenset("\t\n\r")


def undecodable(text: str) -> str | None:
    """The first byte or code unit that was not text (``0xE9``, ``U+D800``), or None."""
    for char in text:
        point = ord(char)
        if 0xDC80 <= point <= 0xDCFF:  # a byte surrogateescape kept: not UTF-8
            return f"0x{point - 0xDC00:02X}"
        if 0xD800 <= point <= 0xDFFF:
            return f"U+{point:04X}"
    return None


def field_text_problem(text: str) -> str | None:
    """Why a form field may not hold ``text`` (decodable text only), or None."""
    if len(text) > MAX_FIELD_CHARS:
        return _(
            "it has {n:,} characters, more than the {limit:,} a field holds"
        ).format(n=len(text), limit=MAX_FIELD_CHARS)
    for char in text:
        if char in BIDI_CONTROLS:
            return _(
                "it holds the invisible direction control U+{point:04X}, which makes "
                "it read otherwise than it is"
            ).format(point=ord(char))
        if char not in ALLOWED_CONTROLS and unicodedata.category(char) == "Cc":
            return _("it holds the control character U+{point:04X}").format(
                point=ord(char)
            )
    return None


def strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string inside ``value`` (dicts, lists), with its dotted path."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from strings(item, f"{where}[{i}]")


def first_undecodable(value: Any) -> tuple[str, str] | None:
    """``(path, what)`` of the first string in ``value`` that is not decodable text."""
    for where, text in strings(value):
        found = undecodable(text)
        if found is not None:
            return where, found
    return None
