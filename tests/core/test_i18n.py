"""The translation catalogues: complete, compiled, and the language chosen right."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo

from napari_fairly.core import i18n

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "catalogues.py"


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("catalogues", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["catalogues"] = module
    spec.loader.exec_module(module)
    return module


def test_every_message_is_translated_into_french() -> None:
    """A message added without its French translation fails here (not fuzzy, not
    empty); run ``scripts/catalogues.py`` and translate it."""
    catalogues = _script()
    source = catalogues.extract()
    french = catalogues.load("fr")
    absent = sorted(str(m.id) for m in source if m.id and m.id not in french)
    assert absent == [], "not in the French catalogue (run scripts/catalogues.py)"
    assert catalogues.missing(french) == []


@pytest.mark.parametrize("language", ["fr", "en"])
def test_shipped_mo_files_are_compiled_from_the_po_files(language: str) -> None:
    catalogues = _script()
    compiled = io.BytesIO()
    write_mo(compiled, catalogues.load(language), use_fuzzy=False)
    shipped = catalogues.po_path(language).with_suffix(".mo").read_bytes()
    assert shipped == compiled.getvalue(), "run scripts/catalogues.py"


@pytest.mark.parametrize(
    ("env", "chosen", "expected"),
    [
        ({}, None, "en"),
        ({"LANG": "fr_FR.UTF-8"}, None, "fr"),
        ({"LANG": "de_DE.UTF-8"}, None, "en"),
        ({"LANGUAGE": "fr:en", "LANG": "en_US.UTF-8"}, None, "fr"),
        ({"LC_ALL": "C"}, None, "en"),
        ({"LANG": "en_US.UTF-8"}, "fr", "fr"),  # the plugin's setting wins the locale
        ({"FAIRLY_LANG": "en", "LANG": "fr_FR.UTF-8"}, "fr", "en"),  # env wins all
    ],
)
def test_language_choice(
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    chosen: str | None,
    expected: str,
) -> None:
    for name in ("FAIRLY_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    i18n.set_language(chosen)
    try:
        assert i18n.current_language() == expected
    finally:
        i18n.set_language(None)
