"""French and English for every text a person reads: one translation function.

Standard gettext: messages are written in English in the code and wrapped in
:func:`_` (or :func:`ngettext`); ``locale/<lang>/LC_MESSAGES/napari_fairly.po`` holds
the translations, compiled to ``.mo`` files shipped in the package (Babel extracts
and compiles them: ``python -m napari_fairly.core.i18n --update``).

Texts defined at import time (tables of labels, advice) are marked with :func:`N_`
and translated where they are shown, so a language chosen later still applies.

The language: ``FAIRLY_LANG`` when set, else the one the plugin was told to use
(:func:`set_language`), else napari's own language setting when the napari in use has
one (:func:`set_host_language`), else the system locale (``LANGUAGE``, ``LC_ALL``,
``LC_MESSAGES``, ``LANG``); English when none of them names a language we have. What
is saved for machines (JSON keys, codes, CSV columns) never changes with the language;
a record written in one language says which (:func:`texts_in`).
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

DOMAIN = "napari_fairly"
LANGUAGES = ("en", "fr")
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"

_chosen: str | None = None
_host: str | None = None  # the host application's (napari's) language setting
# the language of texts being written for a record (a QC run, a save), in this context
_writing: ContextVar[str | None] = ContextVar("fairly_writing_language", default=None)


def _language_of(value: str | None) -> str | None:
    """``"fr"`` for ``"fr_FR.UTF-8"``, ``"fr:en"``…; None for anything else."""
    for part in (value or "").split(":"):
        code = part.strip().split(".")[0].split("_")[0].split("-")[0].lower()
        if code in LANGUAGES:
            return code
        if code and code not in ("c", "posix"):
            return None
    return None


def current_language() -> str:
    """The language texts are shown in now: ``"en"`` or ``"fr"``."""
    writing = _writing.get()
    if writing:
        return writing
    explicit = _language_of(os.environ.get("FAIRLY_LANG"))
    if explicit:
        return explicit
    if _chosen:
        return _chosen
    if _host:
        return _host
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return _language_of(value) or "en"
    return "en"


def set_language(language: str | None) -> None:
    """Use ``language`` (``"fr"``, ``"en"``, or None to follow the system).

    ``FAIRLY_LANG``, when set, still wins: it is how a person overrides everything.
    """
    global _chosen
    _chosen = _language_of(language) if language else None


def set_host_language(language: str | None) -> None:
    """The language the host application (napari) is set to; below the plugin's own
    choice and ``FAIRLY_LANG``, above the system locale. None: no such setting."""
    global _host
    _host = _language_of(language) if language else None


@contextmanager
def texts_in(language: str | None) -> Iterator[str]:
    """Write the texts of this block (this thread) in ``language``; yields it.

    For records whose language is chosen once and saved with them (a QC report, a
    dataset's sidecar): every ``_()`` inside the block answers in that language,
    whatever the panels show. ``None`` keeps the current language.
    """
    chosen = _language_of(language) or current_language()
    token = _writing.set(chosen)
    try:
        yield chosen
    finally:
        _writing.reset(token)


def decimal(text: str) -> str:
    """A number already written with a point, with the current language's mark."""
    return text.replace(".", ",") if current_language() == "fr" else text


@cache
def _translations(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    )


def translator(language: str | None = None) -> gettext.NullTranslations:
    """The catalogue of ``language`` (default: :func:`current_language`)."""
    return _translations(language or current_language())


def _(message: str) -> str:
    """``message`` in the current language (itself when untranslated)."""
    return translator().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language."""
    return translator().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now."""
    return message


def gettext_in(language: str, message: str) -> str:
    """``message`` in ``language``, whatever the current language (saved texts)."""
    return translator(language).gettext(message)
