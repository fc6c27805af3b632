"""File naming convention (SPEC 1): build, parse, validate and fix dataset names.

A *name* is the stem shared by every output of one save::

    2023-01-15_TNT_MicroAlgue_ALebon_Controle_RAW_v01

(date, project, sample, creator, condition, datatype, version); a *file name* is the
name, an optional ``_role`` suffix and an extension. ``_`` never occurs inside a
component, so the validator can split on it and say which component breaks which rule
and how to fix it, even when the name as a whole does not match.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path
from typing import Literal

from napari_fairly.core.errors import InvalidFormValueError, shown_path
from napari_fairly.core.i18n import current_language

COMPONENTS = (
    "date",
    "project",
    "sample",
    "creator",
    "condition",
    "datatype",
    "version",
)
ROLES = ("measurements", "objects", "datacite", "report")
DATATYPES = ("RAW", "PROC", "DECON", "MIP", "STITCH", "REG", "SEG", "MEAS")
DATATYPE_SYNONYMS = {
    "BRUT": "RAW",
    "TRAITE": "PROC",
    "DECONV": "DECON",
    "PROJ": "MIP",
    "SEGM": "SEG",
}

MAX_FILENAME_CHARS = 128  # error at >= 128 (guide 3.1.3, made blocking)
MAX_PATH_CHARS = 250  # warning at >= 250: Windows MAX_PATH is 260
EARLIEST_PLAUSIBLE_DATE = dt.date(1990, 1, 1)
DEEPEST_ZARR_SUFFIX = ".ome.zarr/0/0/0/0/0/0"  # a level-0 chunk of a TCZYX array

PATTERNS: dict[str, re.Pattern[str]] = {
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "project": re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*"),
    "sample": re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"),
    "creator": re.compile(r"[A-Z]{1,3}[A-Z][a-z][A-Za-z]*(?:-[A-Z][A-Za-z]*)*"),
    "condition": re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"),
    "datatype": re.compile(r"[A-Z][A-Z0-9]*"),
    "version": re.compile(r"v(?:0[1-9]|[1-9][0-9]{1,2})"),
}
LENGTHS: dict[str, tuple[int, int]] = {
    "project": (2, 16),
    "sample": (1, 32),
    "creator": (3, 24),
    "condition": (1, 32),
}
_EXT = re.compile(r"(?:\.[A-Za-z0-9]+){1,2}$")
_SAFE_CHARS = re.compile(r"[A-Za-z0-9._-]*")

Severity = Literal["error", "warning"]
Lang = Literal["fr", "en"]


def default_lang() -> Lang:
    """The language texts are shown in (``core.i18n``: FAIRLY_LANG, the plugin's
    setting, the system locale)."""
    return "fr" if current_language() == "fr" else "en"


@dataclass(frozen=True)
class NameParts:
    """The components of a file name; ``build_name`` and ``parse_name`` are inverses."""

    date: dt.date
    project: str
    sample: str
    creator: str
    condition: str
    datatype: str
    version: int
    version_width: int = 2  # "v01" → 2, "v100" → 3
    role: str | None = None
    ext: str = ""  # ".csv", ".ome.zarr", or ""

    @property
    def version_text(self) -> str:
        """``v`` and the zero-padded version number (``v01``)."""
        return f"v{self.version:0{self.version_width}d}"

    @property
    def stem(self) -> str:
        """The 7-component name, without role or extension."""
        return "_".join(
            (
                self.date.isoformat(),
                self.project,
                self.sample,
                self.creator,
                self.condition,
                self.datatype,
                self.version_text,
            )
        )


@dataclass(frozen=True)
class NameIssue:
    """One problem with a name: which component, which rule, how bad, and a fix."""

    component: str
    code: str
    severity: Severity
    message: str
    suggestion: str | None = None


class InvalidNameError(InvalidFormValueError):
    """A file name breaks the naming convention; ``issues`` says where and why."""

    def __init__(self, issues: Sequence[NameIssue], *, name: str = "") -> None:
        self.issues = list(issues)
        errors = [i for i in self.issues if i.severity == "error"] or self.issues
        problem = "; ".join(i.message for i in errors)
        fixes = [f"{i.component}: {i.suggestion}" for i in errors if i.suggestion]
        fix = (
            "Use " + ", ".join(fixes) + "."
            if fixes
            else "Correct the name as the message says."
        )
        where = f"name '{name}': " if name else ""
        super().__init__(where + problem, fix=fix)


# --------------------------------------------------------------------------- messages

_LABELS = {
    "fr": {
        "name": "nom",
        "date": "date",
        "project": "projet",
        "sample": "échantillon",
        "creator": "créateur",
        "condition": "condition",
        "datatype": "type de données",
        "version": "version",
        "role": "rôle",
        "ext": "extension",
    },
    "en": {c: c for c in (*COMPONENTS, "name", "role")} | {"ext": "extension"},
}

_TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "non_ascii": "caractère accentué ou non ASCII « {bad} » interdit",
        "whitespace": "espace interdit",
        "separator": "séparateur de chemin ou caractère « {bad} » interdit",
        "pattern": "ne respecte pas la forme attendue ({rule})",
        "empty_component": "composant vide",
        "length": "{n} caractères (attendu : {lo} à {hi})",
        "not_a_calendar_date": "« {value} » n'est pas une date du calendrier",
        "date_future": "date dans le futur (horloge du PC ?)",
        "date_old": "date antérieure à 1990 (faute de frappe ?)",
        "not_in_vocabulary": "« {value} » n'est pas dans la liste ({allowed})",
        "extension_case": "extension en majuscules",
        "too_long": "nom de fichier de {n} caractères (maximum {max} exclu)",
        "path_too_long": (
            "chemin le plus profond de {n} caractères (≥ {max} : copie impossible "
            "sous Windows sans chemins longs) ; nom de fichier : {m} caractères"
        ),
        "component_count": "{n} composants au lieu de 7 (date_projet_échantillon_"
        "créateur_condition_type_version){hint}",
        "missing_hint": " ; il manque sans doute : {missing}",
        "role_hint": " ; « {extra} » n'est pas un rôle connu ({roles})",
        "version_exhausted": "plus de version libre après v999",
        "proposed": "proposé « {fix} »",
    },
    "en": {
        "non_ascii": "accented or non-ASCII character '{bad}' not allowed",
        "whitespace": "spaces not allowed",
        "separator": "path separator or character '{bad}' not allowed",
        "pattern": "does not have the expected form ({rule})",
        "empty_component": "empty component",
        "length": "{n} characters (expected {lo} to {hi})",
        "not_a_calendar_date": "'{value}' is not a calendar date",
        "date_future": "date in the future (PC clock unset?)",
        "date_old": "date before 1990 (typo?)",
        "not_in_vocabulary": "'{value}' is not in the list ({allowed})",
        "extension_case": "upper-case extension",
        "too_long": "file name of {n} characters (must be under {max})",
        "path_too_long": (
            "deepest path of {n} characters (≥ {max}: Windows tools without long-path "
            "support cannot copy it); file name: {m} characters"
        ),
        "component_count": "{n} components instead of 7 (date_project_sample_creator_"
        "condition_datatype_version){hint}",
        "missing_hint": "; probably missing: {missing}",
        "role_hint": "; '{extra}' is not a known role ({roles})",
        "version_exhausted": "no free version after v999",
        "proposed": "suggested '{fix}'",
    },
}

_RULES = {
    "fr": {
        "date": "AAAA-MM-JJ",
        "project": "acronyme en MAJUSCULES, chiffres, tirets internes",
        "sample": "lettres, chiffres, tirets internes simples",
        "creator": "initiales puis nom de famille, ex. ALebon",
        "condition": "lettres, chiffres, tirets internes simples",
        "datatype": "MAJUSCULES",
        "version": "v01 à v999",
    },
    "en": {
        "date": "YYYY-MM-DD",
        "project": "UPPER-CASE acronym, digits, inner hyphens",
        "sample": "letters, digits, single inner hyphens",
        "creator": "initials then family name, e.g. ALebon",
        "condition": "letters, digits, single inner hyphens",
        "datatype": "UPPER CASE",
        "version": "v01 to v999",
    },
}


def _issue(
    lang: Lang,
    component: str,
    code: str,
    value: str,
    *,
    severity: Severity = "error",
    text: str | None = None,
    suggestion: str | None = None,
    **fmt: object,
) -> NameIssue:
    # a tab, an escape sequence or a direction override shown, not obeyed
    value = shown_path(value)
    fmt = {k: shown_path(v) if isinstance(v, str) else v for k, v in fmt.items()}
    body = _TEXTS[lang][text or code].format(value=value, **fmt)
    label = _LABELS[lang][component]
    head = f"{label} « {value} »" if lang == "fr" else f"{label} '{value}'"
    if component == "name":
        head = _LABELS[lang]["name"]
    message = f"{head} : {body}" if lang == "fr" else f"{head}: {body}"
    if suggestion is not None:
        message += " → " + _TEXTS[lang]["proposed"].format(fix=suggestion)
    return NameIssue(component, code, severity, message, suggestion)


# ---------------------------------------------------------------- transliteration

_TABLE = {
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "Æ": "AE",
    "ß": "ss",
    "ø": "o",
    "Ø": "O",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "µ": "u",
    "μ": "u",
    "°": "deg",
    "'": "",
    "’": "",
    "‘": "",
}
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def _ascii_words(text: str) -> str:
    """SPEC 1.3 steps 1–3: table, NFKD without combining marks, other runs → ``-``."""
    text = "".join(_TABLE.get(ch, ch) for ch in text)
    text = "".join(
        ch
        for ch in unicodedata.normalize("NFKD", text)
        if not unicodedata.combining(ch)
    )
    return _NOT_ALNUM.sub("-", text).strip("-")


def _fix_date(text: str) -> str:
    text = text.strip()
    patterns = (
        (r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", (1, 2, 3)),
        (
            r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})",
            (3, 2, 1),
        ),  # DD/MM/YYYY (French order)
        (r"(\d{4})(\d{2})(\d{2})", (1, 2, 3)),
    )
    for pattern, (y, m, d) in patterns:
        match = re.fullmatch(pattern, text)
        if match:
            try:
                day = dt.date(int(match[y]), int(match[m]), int(match[d]))
            except ValueError:
                return _ascii_words(text)
            return day.isoformat()
    return _ascii_words(text)


def _capitalise_parts(text: str) -> str:
    return "-".join(p[:1].upper() + p[1:] for p in text.split("-") if p)


def creator_from_person(given_names: str, family_name: str) -> str:
    """Creator from a person record: ``Jean-Pierre``, ``Dupont`` → ``JPDupont``.

    Initials of the given names (at most 3) and the transliterated family name, each
    hyphen-separated part starting upper case (``de la Tour`` → ``De-La-Tour``).
    """
    initials = "".join(p[0] for p in _ascii_words(given_names).split("-") if p)[
        :3
    ].upper()
    family = _capitalise_parts(_ascii_words(family_name))
    return initials + family


def _fix_creator(text: str) -> str:
    words = [w for w in re.split(r"\s+", text.strip()) if w]
    if len(words) >= 2:
        return creator_from_person(" ".join(words[:-1]), words[-1])
    word = _ascii_words(text)
    if PATTERNS["creator"].fullmatch(word) or len(word) < 2:
        return word
    # one token in the wrong case ("alebon"): assume one initial; the operator confirms
    first, *rest = word.split("-")
    head = first[:2].upper() + first[2:].lower() if len(first) > 2 else first.upper()
    return "-".join([head, *(_capitalise_parts(r) for r in rest)])


def _fix_version(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    number = max(int(digits), 1) if digits else 1
    return f"v{number:02d}" if number < 1000 else "v999"


_TERMINAL_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # ANSI CSI: colours…


def _without_terminal_codes(text: str) -> str:
    """``text`` without terminal escape sequences and invisible control characters
    (pasted from a coloured terminal): they are no part of any fix. Whitespace stays,
    the words around it are joined with ``-``."""
    text = _TERMINAL_SEQUENCE.sub("", text)
    return "".join(
        ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf")
    )


def transliterate(text: str, component: str) -> str:
    """Suggest an allowed spelling of ``text`` for ``component`` (SPEC 1.3).

    Never applied silently: the result is offered to the operator as a fix.
    ``component`` is one of the seven name components, ``role``, ``ext``, or any
    other string for plain free text.
    """
    text = _without_terminal_codes(text)
    if component == "date":
        return _fix_date(text)
    if component == "version":
        return _fix_version(text)
    if component == "creator":
        return _fix_creator(text)
    if component == "ext":
        return "".join("." + _ascii_words(p).lower() for p in text.split(".") if p)
    words = _ascii_words(text)
    if component == "project":
        return words.upper()
    if component == "datatype":
        upper = words.upper().replace("-", "")
        return DATATYPE_SYNONYMS.get(upper, upper)
    if component == "role":
        return words.lower().replace("-", "")
    return words


# --------------------------------------------------------------------- validation


def _check_chars(lang: Lang, component: str, value: str) -> NameIssue | None:
    """Characters that can never appear, with the transliterated fix."""
    fix = transliterate(value, component) or None
    bad = next((ch for ch in value if ord(ch) > 127), None)
    if bad is not None:
        return _issue(lang, component, "non_ascii", value, bad=bad, suggestion=fix)
    if any(ch.isspace() for ch in value):
        return _issue(lang, component, "whitespace", value, suggestion=fix)
    bad = next((ch for ch in value if ch in "/\\:"), None)
    if bad is not None:
        return _issue(
            lang, component, "pattern", value, text="separator", bad=bad, suggestion=fix
        )
    return None


def check_component(
    component: str,
    value: str,
    *,
    lang: Lang | None = None,
    today: dt.date | None = None,
    datatypes: Iterable[str] = (),
) -> list[NameIssue]:
    """Problems with one component's value (empty list when it is valid).

    ``datatypes`` adds terms (from a facility template) to the RAW/PROC/… list.
    """
    lang = lang or default_lang()
    if value == "":
        return [_issue(lang, component, "empty_component", value)]
    char_issue = _check_chars(lang, component, value)
    if char_issue is not None:
        return [char_issue]
    fix = transliterate(value, component)
    suggestion = (
        fix if fix and fix != value and _matches(component, fix, datatypes) else None
    )
    if component == "date":
        return _check_date(lang, value, today, suggestion)
    if component == "datatype":
        allowed = (*DATATYPES, *datatypes)
        if value in allowed:
            return []
        if PATTERNS["datatype"].fullmatch(value):
            synonym = DATATYPE_SYNONYMS.get(value)
            return [
                _issue(
                    lang,
                    component,
                    "not_in_vocabulary",
                    value,
                    allowed=", ".join(allowed),
                    suggestion=synonym,
                )
            ]
    pattern = PATTERNS[component]
    if not pattern.fullmatch(value):
        rule = _RULES[lang][component]
        return [
            _issue(lang, component, "pattern", value, rule=rule, suggestion=suggestion)
        ]
    if component in LENGTHS:
        lo, hi = LENGTHS[component]
        if not lo <= len(value) <= hi:
            return [
                _issue(lang, component, "length", value, n=len(value), lo=lo, hi=hi)
            ]
    return []


def _matches(component: str, value: str, datatypes: Iterable[str] = ()) -> bool:
    if component == "datatype":
        return value in (*DATATYPES, *datatypes)
    if component == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return bool(PATTERNS["date"].fullmatch(value))
    pattern = PATTERNS.get(component)
    return bool(pattern and pattern.fullmatch(value))


def _check_date(
    lang: Lang, value: str, today: dt.date | None, suggestion: str | None
) -> list[NameIssue]:
    if not PATTERNS["date"].fullmatch(value):
        rule = _RULES[lang]["date"]
        return [
            _issue(lang, "date", "pattern", value, rule=rule, suggestion=suggestion)
        ]
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return [_issue(lang, "date", "not_a_calendar_date", value)]
    today = today or dt.date.today()
    if day > today:
        return [
            _issue(
                lang,
                "date",
                "date_implausible",
                value,
                severity="warning",
                text="date_future",
            )
        ]
    if day < EARLIEST_PLAUSIBLE_DATE:
        return [
            _issue(
                lang,
                "date",
                "date_implausible",
                value,
                severity="warning",
                text="date_old",
            )
        ]
    return []


def _split_ext(filename: str) -> tuple[str, str]:
    match = _EXT.search(filename)
    if match is None:
        return filename, ""
    return filename[: match.start()], match.group(0)


def _guess_missing(middle: list[str]) -> list[str]:
    """For a name with too few components, which of the middle four seem absent."""
    slots = ("project", "sample", "creator", "condition")
    n_missing = len(slots) - len(middle)
    if n_missing <= 0:
        return []
    for kept in combinations(range(len(slots)), len(middle)):  # omit later slots first
        if all(
            PATTERNS[slots[k]].fullmatch(v) for k, v in zip(kept, middle, strict=True)
        ):
            return [s for i, s in enumerate(slots) if i not in kept]
    return []


def validate_name(
    filename: str,
    *,
    dest_dir: Path | None = None,
    today: dt.date | None = None,
    lang: Lang | None = None,
    datatypes: Iterable[str] = (),
) -> list[NameIssue]:
    """Every problem with ``filename`` (name [+ role] [+ extension]), per component.

    Errors block a save; warnings need confirmation. With ``dest_dir``, also warns when
    the deepest file of a save (a zarr chunk) would reach a path of 250 characters.
    Never raises, whatever the input.
    """
    lang = lang or default_lang()
    issues: list[NameIssue] = []
    if len(filename) >= MAX_FILENAME_CHARS:
        issues.append(
            _issue(
                lang,
                "name",
                "too_long",
                filename,
                n=len(filename),
                max=MAX_FILENAME_CHARS,
            )
        )
    stem, ext = _split_ext(filename)
    if ext and ext != ext.lower():
        issues.append(
            _issue(
                lang,
                "ext",
                "extension_case",
                ext,
                severity="warning",
                suggestion=ext.lower(),
            )
        )
    parts = stem.split("_")
    role: str | None = None
    if len(parts) == len(COMPONENTS) + 1 and parts[-1] in ROLES:
        role = parts.pop()
    if len(parts) != len(COMPONENTS):
        hint = ""
        if len(parts) < len(COMPONENTS) and len(parts) >= 3:
            missing = _guess_missing(parts[1:-2])
            if missing:
                labels = ", ".join(_LABELS[lang][m] for m in missing)
                hint = _TEXTS[lang]["missing_hint"].format(missing=labels)
        elif len(parts) == len(COMPONENTS) + 1:
            hint = _TEXTS[lang]["role_hint"].format(
                extra=parts[-1], roles=", ".join(ROLES)
            )
        issues.append(
            _issue(lang, "name", "component_count", stem, n=len(parts), hint=hint)
        )
        return issues
    for component, value in zip(COMPONENTS, parts, strict=True):
        issues.extend(
            check_component(
                component, value, lang=lang, today=today, datatypes=datatypes
            )
        )
    if role is not None and role not in ROLES:  # pragma: no cover - filtered above
        issues.append(_issue(lang, "role", "pattern", role, rule=", ".join(ROLES)))
    if dest_dir is not None:
        name = "_".join(parts)
        deepest = Path(dest_dir) / name / (name + DEEPEST_ZARR_SUFFIX)
        n = len(str(deepest))
        if n >= MAX_PATH_CHARS:
            issues.append(
                _issue(
                    lang,
                    "name",
                    "path_too_long",
                    filename,
                    severity="warning",
                    n=n,
                    max=MAX_PATH_CHARS,
                    m=len(filename),
                )
            )
    return issues


def is_valid_name(filename: str, **kwargs: object) -> bool:
    """True when ``validate_name`` finds no error (warnings allowed)."""
    issues = validate_name(filename, **kwargs)  # type: ignore[arg-type]
    return not any(i.severity == "error" for i in issues)


# ---------------------------------------------------------------- build and parse


def build_name(parts: NameParts, *, datatypes: Iterable[str] = ()) -> str:
    """The file name for ``parts``: 7 components, ``_role`` if any, and the extension.

    Raises
    ------
    InvalidNameError
        When a component breaks the convention, so nothing invalid ever reaches disk.
    """
    filename = parts.stem + (f"_{parts.role}" if parts.role else "") + parts.ext
    issues = [
        i
        for i in validate_name(filename, today=dt.date.max, datatypes=datatypes)
        if i.severity == "error"
    ]
    if parts.role is not None and parts.role not in ROLES:
        issues.append(
            NameIssue("role", "pattern", "error", f"role '{parts.role}' not in {ROLES}")
        )
    if parts.ext and not _EXT.fullmatch(parts.ext):
        issues.append(
            NameIssue("ext", "pattern", "error", f"extension '{parts.ext}' not allowed")
        )
    if issues:
        raise InvalidNameError(issues, name=filename)
    return filename


def parse_name(filename: str, *, datatypes: Iterable[str] = ()) -> NameParts:
    """The components of a valid file name (the inverse of ``build_name``).

    Raises
    ------
    InvalidNameError
        With every error found, when ``filename`` is not a valid name.
    """
    issues = validate_name(filename, today=dt.date.max, datatypes=datatypes)
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise InvalidNameError(errors, name=filename)
    stem, ext = _split_ext(filename)
    values = stem.split("_")
    role = values.pop() if len(values) == len(COMPONENTS) + 1 else None
    date, project, sample, creator, condition, datatype, version = values
    return NameParts(
        date=dt.date.fromisoformat(date),
        project=project,
        sample=sample,
        creator=creator,
        condition=condition,
        datatype=datatype,
        version=int(version[1:]),
        version_width=len(version) - 1,
        role=role,
        ext=ext,
    )


def with_scene_suffix(parts: NameParts, scene_index: int) -> NameParts:
    """Parts for one scene of a multi-scene file: ``-s01`` (1-based) added to sample."""
    return replace(parts, sample=f"{parts.sample}-s{scene_index + 1:02d}")


def is_safe_filename(text: str) -> bool:
    """True when ``text`` names an entry inside its folder (no ``/``, no ``..``)."""
    return (
        bool(text)
        and text not in (".", "..")
        and bool(_SAFE_CHARS.fullmatch(text))
        and not text.startswith(".")
    )


# ------------------------------------------------------------------------ version bump


def next_free_version(name: str, dest_dir: Path) -> str:
    """``name`` if its version is free in ``dest_dir``, else the next one (SPEC 1.5).

    Siblings (same components except the version) count as folders ``<name>/``, files
    ``<name>*`` and unfinished saves ``.<name>.partial-*``. The zero-padded width is
    kept (``v09`` → ``v10``, ``v99`` → ``v100``).

    Raises
    ------
    InvalidNameError
        When ``name`` is not a valid name, or past ``v999`` (``version_exhausted``).
    """
    parts = parse_name(name)
    prefix = parts.stem[: -len(parts.version_text)] + "v"
    taken: set[int] = set()
    sibling = re.compile(re.escape(prefix) + r"(\d{2,3})(?=$|[_.])")
    try:
        entries = [p.name for p in Path(dest_dir).iterdir()]
    except FileNotFoundError:
        entries = []
    for entry in entries:
        candidate = entry
        if candidate.startswith("."):
            match = re.fullmatch(r"\.(.+)\.partial-.*", candidate)
            if match is None:
                continue
            candidate = match.group(1)
        match = sibling.match(candidate)
        if match:
            taken.add(int(match.group(1)))
    if parts.version not in taken:
        return parts.stem + (f"_{parts.role}" if parts.role else "") + parts.ext
    new_version = max(taken) + 1
    if new_version > 999:
        lang = default_lang()
        raise InvalidNameError(
            [_issue(lang, "version", "version_exhausted", parts.version_text)],
            name=name,
        )
    width = max(parts.version_width, len(str(new_version)))
    bumped = replace(parts, version=new_version, version_width=width)
    return bumped.stem + (f"_{bumped.role}" if bumped.role else "") + bumped.ext
