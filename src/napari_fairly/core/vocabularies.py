"""Controlled vocabularies shipped offline, and identifier checks (SPEC 2.3, 2.4).

Each vocabulary is a JSON file in ``resources/vocabularies`` with its source and
version; no network is needed at run time. Look-ups accept an id, a label or a
synonym, case-insensitively; an unknown term raises an error that names close
matches, so a typo is caught at the form, not in the repository.

Ontology ids are stored as OBO CURIEs (``FBbi:00000243``, ``NCBITaxon:5811``), the
form repositories expect; the other spellings people paste (``FBbi_00000243``,
``obo:FBbi_00000243``, the ``http://purl.obolibrary.org/obo/`` IRI) are read too
(:func:`normalize_curie`).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from napari_fairly.core.errors import InvalidFormValueError
from napari_fairly.core.i18n import N_, _
from napari_fairly.core.resources import resource_path

VOCABULARIES = ("fbbi", "ncbi_taxonomy", "fluorophores", "licences", "immersion")

ORCID_PATTERN = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")
ORCID_URI = "https://orcid.org/"
DOI_PATTERN = re.compile(r"10\.\d{4,9}/\S+")
NCBI_TAXON_PATTERN = re.compile(r"NCBITaxon:([1-9]\d*)")
FBBI_PATTERN = re.compile(r"FBbi:\d{8}")
OBO_PURL = "http://purl.obolibrary.org/obo/"
# OBO ids as people paste them: IRI, obo: prefix, CURIE or underscore form
_OBO_ID = re.compile(
    r"(?:https?://purl\.obolibrary\.org/obo/|obo:)?"
    r"(?P<prefix>FBbi|NCBITaxon)[:_](?P<local>\d+)",
    re.IGNORECASE,
)
_OBO_PREFIXES = {"fbbi": "FBbi", "ncbitaxon": "NCBITaxon"}
ROR_URI = "https://ror.org/"
ROR_PATTERN = re.compile(r"0[0-9a-hjkmnp-tv-z]{6}\d{2}")
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


@dataclass(frozen=True)
class VocabularyTerm:
    """One term: its id (``NCBITaxon:10090``), label (``Mus musculus``) and extras."""

    id: str
    label: str
    synonyms: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def display(self) -> str:
        """``Mus musculus (NCBITaxon:10090)``, as shown in completers."""
        return self.label if self.label == self.id else f"{self.label} ({self.id})"


@dataclass(frozen=True)
class Vocabulary:
    """A named list of terms with its source and version."""

    key: str
    name: str
    source: str
    version: str
    terms: tuple[VocabularyTerm, ...]
    default: str | None = None

    def find(self, text: str) -> VocabularyTerm | None:
        """The term whose id, label, synonym or display text is ``text`` (any case).

        An ontology id may be given in any spelling :func:`normalize_curie` reads.
        """
        wanted = normalize_curie(text).casefold()
        if not wanted:
            return None
        for term in self.terms:
            names = (term.id, term.label, term.display, *term.synonyms)
            if any(wanted == n.casefold() for n in names):
                return term
        return None

    def complete(self, prefix: str) -> list[VocabularyTerm]:
        """Terms whose label, id, synonym or one of its words starts with ``prefix``."""
        wanted = prefix.strip().casefold()
        out = []
        for term in self.terms:
            names = (term.label, term.id, *term.synonyms)
            words = [w for n in names for w in re.split(r"[\s:_-]+", n)]
            if any(n.casefold().startswith(wanted) for n in (*names, *words)):
                out.append(term)
        return out

    def resolve(self, text: str, what: str) -> VocabularyTerm:
        """Like ``find``, but an unknown term raises with the closest matches."""
        term = self.find(text)
        if term is not None:
            return term
        names = [t.label for t in self.terms] + [t.id for t in self.terms]
        close = difflib.get_close_matches(text.strip(), names, n=3, cutoff=0.6)
        hint = (
            _("Did you mean {terms}? ").format(terms=", ".join(close)) if close else ""
        )
        raise InvalidFormValueError(
            _(
                "{what}: unknown term '{text}' (not in the {list} list, {version})."
            ).format(what=_(what), text=text, list=self.name, version=self.version),
            fix=hint
            + _("Choose one of: {choices}.").format(
                choices=", ".join(t.label for t in self.terms)
            ),
        )


@cache
def vocabulary(key: str) -> Vocabulary:
    """Load one shipped vocabulary (``fbbi``, ``ncbi_taxonomy``, ``fluorophores``…)."""
    if key not in VOCABULARIES:
        raise KeyError(f"no vocabulary {key!r}; known: {VOCABULARIES}")
    path = resource_path("vocabularies", f"{key}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    terms = tuple(
        VocabularyTerm(
            id=t["id"],
            label=t["label"],
            synonyms=tuple(t.get("synonyms", ())),
            extra={k: v for k, v in t.items() if k not in ("id", "label", "synonyms")},
        )
        for t in data["terms"]
    )
    return Vocabulary(
        key=key,
        name=data["name"],
        source=data["source"],
        version=data["version"],
        terms=terms,
        default=data.get("default"),
    )


# ------------------------------------------------------------------- specific look-ups


def normalize_curie(text: str) -> str:
    """``FBbi:00000243`` for ``FBbi_00000243``, ``obo:FBbi_00000243`` or the OBO
    IRI (same for ``NCBITaxon``); any other text comes back stripped, unchanged."""
    cleaned = text.strip()
    match = _OBO_ID.fullmatch(cleaned)
    if match is None:
        return cleaned
    prefix = _OBO_PREFIXES[match["prefix"].casefold()]
    return f"{prefix}:{match['local']}"


def curie_iri(curie: str) -> str:
    """The OBO PURL of a CURIE (``http://purl.obolibrary.org/obo/FBbi_00000243``)."""
    prefix, _, local = normalize_curie(curie).partition(":")
    return f"{OBO_PURL}{prefix}_{local}"


def fbbi_for_acquisition_mode(mode: str | None) -> VocabularyTerm | None:
    """The FBbi imaging method for an OME ``Channel@AcquisitionMode``, if known."""
    if not mode:
        return None
    wanted = mode.strip().casefold()
    for term in vocabulary("fbbi").terms:
        if wanted in (
            m.casefold() for m in term.extra.get("ome_acquisition_modes", ())
        ):
            return term
    return None


def resolve_organism(text: str) -> VocabularyTerm:
    """An organism from a label, synonym, taxon id (CURIE, IRI) or bare number.

    Ids outside the shortlist are accepted as typed (the label is then unknown); a
    name outside it raises, naming close matches (the form keeps it, with a warning).
    """
    vocab = vocabulary("ncbi_taxonomy")
    cleaned = normalize_curie(text)
    if cleaned.isdigit():
        cleaned = f"NCBITaxon:{int(cleaned)}"
    term = vocab.find(cleaned)
    if term is not None:
        return term
    if NCBI_TAXON_PATTERN.fullmatch(cleaned):
        return VocabularyTerm(id=cleaned, label="")
    return vocab.resolve(text, N_("organism"))


def resolve_imaging_method(text: str) -> VocabularyTerm:
    """An FBbi imaging method from an id, a label or an OME acquisition mode."""
    term = fbbi_for_acquisition_mode(text) or vocabulary("fbbi").find(text)
    if term is not None:
        return term
    cleaned = normalize_curie(text)
    if FBBI_PATTERN.fullmatch(cleaned):
        return VocabularyTerm(id=cleaned, label="")
    return vocabulary("fbbi").resolve(text, N_("imaging method"))


def find_fluorophore(name: str | None) -> VocabularyTerm | None:
    """The fluorophore named ``name`` (``Alexa Fluor 488``, ``AF488``, ``GFP``)."""
    if not name:
        return None
    return vocabulary("fluorophores").find(name)


def licence(spdx_id: str) -> VocabularyTerm | None:
    """The licence with this SPDX id (exact id or label, any case)."""
    return vocabulary("licences").find(spdx_id)


def refractive_index(immersion: str | None) -> float | None:
    """Refractive index of an immersion medium (OME ``Objective@Immersion``)."""
    if not immersion:
        return None
    term = vocabulary("immersion").find(immersion)
    if term is None:
        return None
    value = term.extra.get("refractive_index")
    return float(value) if value is not None else None


# ------------------------------------------------------------------- identifiers


def orcid_check_digit(digits15: str) -> str:
    """ISO 7064 MOD 11-2 check character over the first 15 digits of an ORCID iD."""
    total = 0
    for ch in digits15:
        total = (total + int(ch)) * 2
    remainder = (12 - total % 11) % 11
    return "X" if remainder == 10 else str(remainder)


def orcid_problem(text: str) -> str | None:
    """Why ``text`` is not a well-formed ORCID iD (None when it is).

    Accepts the bare iD or the ``https://orcid.org/`` URI. A correct check digit does
    not prove the iD exists; offline, only the form is checked.
    """
    bare = text.strip().removeprefix(ORCID_URI).removeprefix("http://orcid.org/")
    if not ORCID_PATTERN.fullmatch(bare):
        return _("ORCID '{text}' must look like 0000-0002-1825-0097").format(text=text)
    digits = bare.replace("-", "")
    expected = orcid_check_digit(digits[:15])
    if digits[15] != expected:
        return _(
            "ORCID '{text}' has a wrong check digit (expected {expected}; typo?)"
        ).format(text=text, expected=expected)
    return None


def orcid_uri(text: str) -> str:
    """The canonical URI form ``https://orcid.org/0000-…`` of a valid ORCID iD."""
    problem = orcid_problem(text)
    if problem:
        raise InvalidFormValueError(problem + ".", fix="Copy the iD from orcid.org.")
    bare = text.strip().removeprefix(ORCID_URI).removeprefix("http://orcid.org/")
    return ORCID_URI + bare


def _ror_bare(text: str) -> str:
    """The 9-character ROR id of ``text`` (bare or ``https://ror.org/…``)."""
    cleaned = text.strip()
    for prefix in (ROR_URI, "http://ror.org/", "ror.org/"):
        cleaned = cleaned.removeprefix(prefix)
    return cleaned.lower()


def ror_problem(text: str) -> str | None:
    """Why ``text`` is not a well-formed ROR id (None when it is).

    A ROR id is ``0``, six Crockford base-32 characters and two check digits
    (ISO 7064 MOD 97-10 over the base-32 number); offline, only the form is checked.
    """
    bare = _ror_bare(text)
    if not ROR_PATTERN.fullmatch(bare):
        return _("ROR id '{text}' must look like https://ror.org/02feahw73").format(
            text=text
        )
    number = 0
    for char in bare[1:7]:
        number = number * 32 + _CROCKFORD.index(char)
    expected = f"{98 - (number * 100) % 97:02d}"
    if bare[7:] != expected:
        return _(
            "ROR id '{text}' has wrong check digits (expected {expected}; typo?)"
        ).format(text=text, expected=expected)
    return None


def ror_uri(text: str) -> str:
    """``https://ror.org/0…`` for a valid ROR id; raises for another text."""
    problem = ror_problem(text)
    if problem:
        raise InvalidFormValueError(problem + ".", fix=_("Copy the id from ror.org."))
    return ROR_URI + _ror_bare(text)


def is_doi(text: str) -> bool:
    """True for a DOI (``10.1038/s41592-021-01166-8``), bare or as a doi.org URL."""
    bare = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", text.strip(), flags=re.I)
    return bool(DOI_PATTERN.fullmatch(bare))
