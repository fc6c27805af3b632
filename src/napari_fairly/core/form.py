"""The FAIR form: REMBI metadata and the naming components, prefilled and checked.

Fields are addressed by dotted paths (``study.title``, ``naming.project``,
``biosample.organism``). Values are held leniently (mostly strings) so that a wrong
entry can be kept, shown and explained; :func:`form_issues` says what is wrong.

Provenance: ``FairForm.sources`` maps a field path to where its value came from, as
``"<kind>"`` or ``"<kind>:<detail>"`` with kind one of ``file`` (the acquisition
metadata; detail = the metadata's own source, e.g. ``file:ome:Objective@LensNA``),
``template`` (detail = template file), ``profile`` (detail = operator), ``operator``
(typed), ``default`` (a built-in default such as RAW, v01, CC-BY-4.0) and
``derived`` (computed from other fields, e.g. the study component name). A field
without an entry is empty.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from pydantic import Field, ValidationError, field_validator

from napari_fairly.core import strict_json
from napari_fairly.core.corrections import (
    Corrections,
    effective_metadata,
    is_correction,
)
from napari_fairly.core.csvcell import safe_cell, text_of_cell
from napari_fairly.core.errors import (
    FormFileError,
    FormNotReadyError,
    InvalidFormValueError,
    TemplateError,
)
from napari_fairly.core.i18n import N_, _
from napari_fairly.core.micrometa import Hardware, hardware_form_values
from napari_fairly.core.model import FrozenModel, Status
from napari_fairly.core.naming import (
    COMPONENTS,
    MAX_FILENAME_CHARS,
    InvalidNameError,
    NameIssue,
    NameParts,
    build_name,
    check_component,
)
from napari_fairly.core.resources import resource_path
from napari_fairly.core.settings import FacilityTemplate, OperatorProfile
from napari_fairly.core.textcheck import field_text_problem, first_undecodable, strings
from napari_fairly.core.vocabularies import (
    FBBI_PATTERN,
    NCBI_TAXON_PATTERN,
    fbbi_for_acquisition_mode,
    find_fluorophore,
    is_doi,
    licence,
    normalize_curie,
    orcid_problem,
    resolve_imaging_method,
    resolve_organism,
    ror_problem,
    vocabulary,
)

if TYPE_CHECKING:
    from napari_fairly.core.metadata import AcquisitionMetadata

FORM_SCHEMA_VERSION = "1.2.0"  # 1.2.0: study.publisher_ror
DEFAULT_LICENCE = "CC-BY-4.0"


# --------------------------------------------------------------------------- model


class Author(FrozenModel):
    """A study author; ORCID as typed (checked by ``form_issues``, stored as URI)."""

    name: str = ""
    orcid: str = ""
    affiliation: str = ""
    ror: str = ""  # affiliation ROR id, optional
    role: str = ""


class Term(FrozenModel):
    """A vocabulary term: ``id`` (``NCBITaxon:10090``), ``label`` (``Mus musculus``).

    Ontology ids are kept as CURIEs: ``FBbi_00000243`` or the OBO IRI (older forms,
    pasted text) become ``FBbi:00000243``.
    """

    id: str = ""
    label: str = ""

    @field_validator("id")
    @classmethod
    def _curie(cls, value: str) -> str:
        return normalize_curie(value)


class Study(FrozenModel):
    """REMBI Study. The project acronym is ``naming.project`` (one value, not two)."""

    title: str = ""
    description: str = ""
    authors: tuple[Author, ...] = ()
    licence: str = ""  # SPDX id
    keywords: tuple[str, ...] = ()
    funding: str = ""
    related_publication_doi: str = ""
    publisher: str = ""  # facility / institution (DataCite publisher)
    publisher_ror: str = ""  # its ROR id, optional (DataCite publisherIdentifier)
    language: str = ""  # language of the free text: "fr" or "en"


class StudyComponent(FrozenModel):
    """REMBI Study component: images that share one protocol."""

    name: str = ""
    description: str = ""
    imaging_method: Term = Term()  # FBbi


class Biosample(FrozenModel):
    """REMBI Biosample."""

    organism: Term = Term()  # NCBI Taxonomy
    biological_entity: str = ""
    intrinsic_variables: str = ""  # genotype, cell line
    extrinsic_variables: str = ""  # treatment, dose
    experimental_variables: str = ""


class SpecimenChannel(FrozenModel):
    """What one channel shows (REMBI Specimen: signal/contrast and channel content)."""

    name: str = ""
    contrast_method: str = ""  # fluorescence, brightfield, phase, DIC, other
    fluorophore: str = ""
    target: str = ""


class Specimen(FrozenModel):
    """REMBI Specimen."""

    preparation_protocol: str = ""  # fixation, mounting medium and its RI
    channels: tuple[SpecimenChannel, ...] = ()


class AcquisitionChannel(FrozenModel):
    """How one channel was acquired (as read from the file, overridable)."""

    name: str = ""
    acquisition_mode: str = ""  # OME AcquisitionMode
    excitation_wavelength_nm: float | None = None
    emission_wavelength_nm: float | None = None
    exposure_s: float | None = None


class ImageAcquisition(FrozenModel):
    """REMBI Image acquisition."""

    instrument: str = ""
    instrument_manufacturer: str = ""
    objective: str = ""  # model text, e.g. "Plan Apo λ 20x"
    objective_magnification: float | None = None
    objective_na: float | None = None
    immersion: str = ""
    pixel_size_x_um: float | None = None
    pixel_size_y_um: float | None = None
    pixel_size_z_um: float | None = None
    acquisition_datetime: str = ""  # ISO 8601
    channels: tuple[AcquisitionChannel, ...] = ()


class ImageData(FrozenModel):
    """REMBI Image data; the data type is ``naming.datatype``."""

    source_file: str = ""
    format: str = ""
    dims: str = ""
    shape: dict[str, int] = Field(default_factory=dict)
    dtype: str = ""
    size_bytes: int | None = None
    scene_index: int | None = None
    sha256: str = ""  # filled when saving


class AnalysedData(FrozenModel):
    """REMBI Analysed data (QC tables and other derived results)."""

    analysis_type: str = ""
    method: str = ""
    software: str = ""
    software_version: str = ""


class Naming(FrozenModel):
    """The seven name components as typed, so a wrong one can be held and reported."""

    date: str = ""
    project: str = ""
    sample: str = ""
    creator: str = ""
    condition: str = ""
    datatype: str = ""
    version: str = ""


class FormRules(FrozenModel):
    """Constraints a facility template puts on the form (kept with the form)."""

    template: str = ""  # template file name, for provenance
    allowed_projects: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    extra_datatypes: tuple[str, ...] = ()
    extra_required: tuple[str, ...] = ()
    fixed_fields: tuple[str, ...] = ()
    ngff_version: str = "0.4"


class FairForm(FrozenModel):
    """REMBI modules + naming components + where each value came from.

    ``sources`` maps a dotted field path to its provenance (see module docstring).
    """

    schema_version: str = FORM_SCHEMA_VERSION
    naming: Naming = Naming()
    study: Study = Study()
    study_component: StudyComponent = StudyComponent()
    biosample: Biosample = Biosample()
    specimen: Specimen = Specimen()
    image_acquisition: ImageAcquisition = ImageAcquisition()
    image_data: ImageData = ImageData()
    analysed_data: AnalysedData | None = None
    operator: str = ""
    sources: dict[str, str] = Field(default_factory=dict)
    rules: FormRules = FormRules()
    # the operator's corrections of acquisition values (core.corrections); the
    # image_acquisition values above show the file's values overlaid by them
    corrections: Corrections = Corrections()
    # the instrument's hardware (objectives, light sources, filters, detectors) as
    # the facility template's Micro-Meta App file describes it, when the form's
    # instrument is one of the template's
    hardware: Hardware | None = None

    def name_parts(self) -> NameParts:
        """The naming components as :class:`NameParts`.

        Raises
        ------
        InvalidNameError
            Naming every bad component, with its fix.
        """
        values = self.naming.model_dump()
        issues: list[NameIssue] = []
        for component in COMPONENTS:
            issues.extend(
                i
                for i in check_component(
                    component,
                    values[component],
                    today=dt.date.max,
                    datatypes=self.rules.extra_datatypes,
                )
                if i.severity == "error"
            )
        if issues:
            raise InvalidNameError(issues)
        version = values["version"]
        return NameParts(
            date=dt.date.fromisoformat(values["date"]),
            project=values["project"],
            sample=values["sample"],
            creator=values["creator"],
            condition=values["condition"],
            datatype=values["datatype"],
            version=int(version[1:]),
            version_width=len(version) - 1,
        )

    def name(self) -> str:
        """The dataset name built from the naming components (raises if invalid)."""
        return build_name(self.name_parts(), datatypes=self.rules.extra_datatypes)


MODULES = (
    "naming",
    "study",
    "study_component",
    "biosample",
    "specimen",
    "image_acquisition",
    "image_data",
    "analysed_data",
)
_MODULE_MODELS: dict[str, type[FrozenModel]] = {
    "naming": Naming,
    "study": Study,
    "study_component": StudyComponent,
    "biosample": Biosample,
    "specimen": Specimen,
    "image_acquisition": ImageAcquisition,
    "image_data": ImageData,
    "analysed_data": AnalysedData,
}
FIELD_PATHS: tuple[str, ...] = (
    *(f"{m}.{f}" for m in MODULES for f in _MODULE_MODELS[m].model_fields),
    "operator",
)

REQUIRED: tuple[str, ...] = (
    *(f"naming.{c}" for c in COMPONENTS),
    "study.title",
    "study.authors",
    "study.licence",
    "study.publisher",
    "study_component.name",
    "study_component.imaging_method",
    "biosample.organism",
    "biosample.biological_entity",
    "image_acquisition.instrument",
    "image_acquisition.acquisition_datetime",
)
RECOMMENDED: tuple[str, ...] = (
    "study.description",
    "study.keywords",
    "study.funding",
    "study.related_publication_doi",
    "study_component.description",
    "biosample.intrinsic_variables",
    "biosample.extrinsic_variables",
    "biosample.experimental_variables",
    "specimen.preparation_protocol",
    "specimen.channels",
    "image_acquisition.objective",
    "image_acquisition.objective_na",
    "image_acquisition.pixel_size_x_um",
)
# remembered per operator; never the fixed fields of a template
PROFILE_FIELDS: tuple[str, ...] = (
    "study.title",
    "study.description",
    "study.authors",
    "study.keywords",
    "study.funding",
    "naming.project",
    "naming.creator",
    "biosample.organism",
    "biosample.biological_entity",
    "biosample.intrinsic_variables",
    "specimen.preparation_protocol",
)
# free-text fields whose value reaches a file or folder name
FILE_NAME_FIELDS: tuple[str, ...] = (
    *(f"naming.{c}" for c in COMPONENTS),
    "study_component.name",
    "operator",
)

LABELS: dict[str, str] = {
    "naming.date": N_("Acquisition date"),
    "naming.project": N_("Project acronym"),
    "naming.sample": N_("Sample / experiment"),
    "naming.creator": N_("Creator (initials + family name)"),
    "naming.condition": N_("Condition"),
    "naming.datatype": N_("Data type"),
    "naming.version": N_("Version"),
    "study.title": N_("Study title"),
    "study.description": N_("Study description"),
    "study.authors": N_("Authors"),
    "study.licence": N_("Licence"),
    "study.keywords": N_("Keywords"),
    "study.funding": N_("Funding"),
    "study.related_publication_doi": N_("Related publication (DOI)"),
    "study.publisher": N_("Publisher (facility / institution)"),
    "study.publisher_ror": N_("Publisher ROR id"),
    "study.language": N_("Language of the free text"),
    "study_component.name": N_("Study component name"),
    "study_component.description": N_("Study component description"),
    "study_component.imaging_method": N_("Imaging method (FBbi)"),
    "biosample.organism": N_("Organism (NCBI Taxonomy)"),
    "biosample.biological_entity": N_("Biological entity"),
    "biosample.intrinsic_variables": N_("Intrinsic variables (genotype, line)"),
    "biosample.extrinsic_variables": N_("Extrinsic variables (treatment, dose)"),
    "biosample.experimental_variables": N_("Experimental variables"),
    "specimen.preparation_protocol": N_("Preparation protocol"),
    "specimen.channels": N_("Channel content"),
    "image_acquisition.instrument": N_("Instrument"),
    "image_acquisition.acquisition_datetime": N_("Acquisition date-time"),
    "image_acquisition.objective": N_("Objective"),
    "image_acquisition.objective_na": N_("Objective NA"),
    "image_acquisition.pixel_size_x_um": N_("Pixel size X (µm)"),
    "image_acquisition.pixel_size_y_um": N_("Pixel size Y (µm)"),
    "image_acquisition.pixel_size_z_um": N_("Z step (µm)"),
    "image_acquisition.objective_magnification": N_("Objective magnification"),
    "image_acquisition.immersion": N_("Immersion medium"),
    "image_acquisition.instrument_manufacturer": N_("Instrument manufacturer"),
    "operator": N_("Operator"),
}


def field_label(path: str) -> str:
    """Human label of a field path, in the current language."""
    label = LABELS.get(path)
    if label is None:
        return path.split(".")[-1].replace("_", " ").capitalize()
    return _(label)


def field_kind(path: str) -> Literal["required", "recommended", "optional"]:
    """Whether a field must be filled to save, should be, or may be."""
    if path in REQUIRED:
        return "required"
    return "recommended" if path in RECOMMENDED else "optional"


# --------------------------------------------------------------------------- access


def _split(path: str) -> tuple[str, str | None]:
    if path not in FIELD_PATHS:
        raise InvalidFormValueError(
            f"unknown form field '{path}'.",
            fix="Use a dotted path such as study.title or naming.project "
            f"(known: {', '.join(FIELD_PATHS)}).",
        )
    module, _sep, name = path.partition(".")
    return module, (name or None)


def get_field(form: FairForm, path: str) -> Any:
    """The value at a dotted field path."""
    module, name = _split(path)
    holder = getattr(form, module)
    if name is None:
        return holder
    return getattr(holder, name) if holder is not None else None


def _annotation(path: str) -> Any:
    module, name = _split(path)
    if name is None:
        return FairForm.model_fields[module].annotation
    return _MODULE_MODELS[module].model_fields[name].annotation


def _is_empty(value: Any) -> bool:
    if value is None or value == "" or value == () or value == [] or value == {}:
        return True
    if isinstance(value, Term):
        return not value.id and not value.label
    return False


def _term(path: str, value: Any) -> Term:
    if isinstance(value, Term):
        return value
    if isinstance(value, Mapping):
        return Term.model_validate(dict(value))
    text = str(value).strip()
    if not text:
        return Term()
    resolve = (
        resolve_organism if path == "biosample.organism" else resolve_imaging_method
    )
    try:
        found = resolve(text)
    except InvalidFormValueError:
        # kept as typed, form_issues explains: a mistyped id stays an id (an
        # error), a name outside the offline list stays a name (not verified)
        if _ID_LIKE.match(text):
            return Term(id=text)
        return Term(label=text)
    return Term(id=found.id, label=found.label)


_ID_LIKE = re.compile(r"(https?://|obo:|ncbitaxon[:_]|fbbi[:_])", re.IGNORECASE)


def _authors(value: Any) -> tuple[Author, ...]:
    if isinstance(value, str):
        out = []
        for chunk in re.split(r"\s*;\s*", value.strip()):
            if not chunk:
                continue
            fields = [f.strip() for f in chunk.split("|")]
            keys = ("name", "orcid", "affiliation", "ror", "role")
            out.append(Author(**dict(zip(keys, fields, strict=False))))
        return tuple(out)
    return tuple(
        a if isinstance(a, Author) else Author.model_validate(dict(a)) for a in value
    )


def coerce_value(path: str, value: Any) -> Any:
    """Convert typed text (CLI ``--set``, a widget) to the field's type.

    Organisms and imaging methods are looked up in the vocabularies; an unknown term
    is kept as a label so the form can show the problem. Lists are typed comma- (or
    semicolon-) separated; authors as ``Name|ORCID|affiliation; Name2|…``.

    Raises
    ------
    InvalidFormValueError
        When the value cannot have the field's type (``abc`` for a number).
    """
    if is_correction(path):
        return value  # checked and converted by core.corrections
    annotation = _annotation(path)
    if path in ("biosample.organism", "study_component.imaging_method"):
        return _term(path, value)
    if path == "study.authors":
        return _authors(value)
    if isinstance(value, str):
        text = value.strip()
        if annotation in (float | None, int | None):
            if not text:
                return None
            number_type = float if annotation == float | None else int
            try:
                return number_type(text.replace(",", "."))
            except ValueError as err:
                raise InvalidFormValueError(
                    f"{field_label(path)}: '{value}' is not a number.",
                    fix="Type a number such as 0.75, or leave it empty.",
                ) from err
        if get_origin(annotation) is tuple and get_args(annotation)[0] is str:
            return tuple(p.strip() for p in re.split(r"[;,]", text) if p.strip())
        if annotation is str:
            return text
    return value


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    module, name = _split(path)
    if name is None:
        data[module] = value
        return
    if data.get(module) is None:
        data[module] = {}
    data[module][name] = value


def _dump(value: Any) -> Any:
    if isinstance(value, FrozenModel):
        return value.model_dump()
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    return value


def _equal(a: Any, b: Any) -> bool:
    return bool(_dump(a) == _dump(b))


def set_field(
    form: FairForm, path: str, value: Any, source: str = "operator"
) -> FairForm:
    """A copy of ``form`` with ``path`` set to ``value`` (coerced) and its source.

    Raises
    ------
    InvalidFormValueError
        Unknown field, a value of the wrong type, or a field fixed by the template.
    """
    return set_fields(form, {path: value}, source=source)


def set_fields(
    form: FairForm, values: Mapping[str, Any], source: str = "operator"
) -> FairForm:
    """Like :func:`set_field` for several fields at once (validated once).

    Acquisition values (``image_acquisition.pixel_size_z_um``,
    ``image_acquisition.channels.2.name``…) are the operator's corrections
    (:mod:`~napari_fairly.core.corrections`): checked, kept in ``form.corrections``,
    and shown in the image-acquisition fields.
    """
    corrected = {p: v for p, v in values.items() if is_correction(p)}
    data = form.model_dump()
    sources = dict(form.sources)
    for path, raw in values.items():
        if path in corrected:
            continue
        value = coerce_value(path, raw)
        if _fixed_unchanged(form, path, value):
            continue  # same value: keep the template as its source
        _set_path(data, path, _dump(value))
        if _is_empty(value):
            sources.pop(path, None)
        else:
            sources[path] = source
    if corrected:
        _apply_corrections(form, corrected, source, data, sources)
    data["sources"] = sources
    return _validate(data)


def _fixed_unchanged(form: FairForm, path: str, value: Any) -> bool:
    """True when ``path`` is fixed by the template to ``value``; raises otherwise."""
    if path not in form.rules.fixed_fields:
        return False
    if not _equal(value, get_field(form, path)):
        raise InvalidFormValueError(
            f"{field_label(path)} is fixed by the facility template "
            f"({form.rules.template}) and cannot be changed.",
            fix="Ask the facility staff to change the template, or keep its value.",
        )
    return True


# corrections shown as they are in an image-acquisition field of the same path
MIRRORED: tuple[str, ...] = (
    "image_acquisition.pixel_size_x_um",
    "image_acquisition.pixel_size_y_um",
    "image_acquisition.pixel_size_z_um",
    "image_acquisition.objective_na",
    "image_acquisition.objective_magnification",
    "image_acquisition.immersion",
)


def _apply_corrections(
    form: FairForm,
    values: Mapping[str, Any],
    source: str,
    data: dict[str, Any],
    sources: dict[str, str],
) -> None:
    """Record corrections in ``data`` (and show the mirrored ones in their field)."""
    for path in values:
        if path in form.rules.fixed_fields:
            _fixed_unchanged(form, path, coerce_value(path, values[path]))
    corrections = form.corrections.with_values(values, source)
    data["corrections"] = corrections.model_dump()
    for path in values:
        if path not in MIRRORED:
            continue
        item = corrections.get(path)
        if item is not None:
            _set_path(data, path, item.value)
            sources[path] = item.source


def sync_acquisition(form: FairForm, metadata: AcquisitionMetadata) -> FairForm:
    """The form with its image-acquisition values taken from the effective metadata.

    Effective = the file's ``metadata`` overlaid by ``form.corrections``: the values
    the checks and the save use. Fields the operator types that are not acquisition
    values (instrument, acquisition date-time) are left as they are.
    """
    effective = effective_metadata(metadata, form.corrections)
    found = _file_values(effective)
    data = form.model_dump()
    sources = dict(form.sources)
    for path in (*MIRRORED, "image_acquisition.channels"):
        if path in found:
            value, source = found[path]
            _set_path(data, path, _dump(value))
            sources[path] = source
        else:
            _set_path(data, path, _dump(_empty_of(path)))
            sources.pop(path, None)
    data["sources"] = sources
    return _validate(data)


def _empty_of(path: str) -> Any:
    module, name = _split(path)
    default = _MODULE_MODELS[module].model_fields[name or ""].default
    return default


def _validate(data: Mapping[str, Any]) -> FairForm:
    try:
        return FairForm.model_validate(data)
    except ValidationError as err:
        errors = err.errors()
        fields = [(".".join(str(p) for p in e["loc"]), str(e["msg"])) for e in errors]
        problems = "; ".join(f"{where}: {msg}" for where, msg in fields[:5])
        fix = "Correct these fields; numbers use '.' as decimal separator."
        if any(e["type"] == "extra_forbidden" for e in errors):  # not our fields
            raise InvalidFormValueError(
                f"form values rejected ({problems}).", fix=fix
            ) from err
        raise FormNotReadyError(
            f"form values rejected ({problems}).", problems=fields, fix=fix
        ) from err


# --------------------------------------------------------------------------- issues


@dataclass(frozen=True)
class FormIssue:
    """One problem with the form: which field, how bad, what is wrong, what to do."""

    field: str
    severity: Literal["error", "warning"]
    message: str
    fix: str = ""
    code: str = "invalid"  # "required", "recommended" (empty field), "invalid", "check"


def _naming_issues(form: FairForm) -> list[FormIssue]:
    out: list[FormIssue] = []
    values = form.naming.model_dump()
    for component in COMPONENTS:
        if not values[component]:
            continue  # reported as required
        for issue in check_component(
            component, values[component], datatypes=form.rules.extra_datatypes
        ):
            fix = (
                _("Use '{suggestion}'.").format(suggestion=issue.suggestion)
                if issue.suggestion
                else ""
            )
            out.append(
                FormIssue(f"naming.{component}", issue.severity, issue.message, fix)
            )
    if not out and all(values.values()):
        name = "_".join(values[c] for c in COMPONENTS)
        longest = name + "_measurements.csv"
        if len(longest) >= MAX_FILENAME_CHARS:
            out.append(
                FormIssue(
                    "naming",
                    "error",
                    _(
                        "the file names would reach {n} characters "
                        "(must be under {limit})."
                    ).format(n=len(longest), limit=MAX_FILENAME_CHARS),
                    _("Shorten the sample or condition."),
                )
            )
    projects = form.rules.allowed_projects
    if values["project"] and projects and values["project"] not in projects:
        out.append(
            FormIssue(
                "naming.project",
                "error",
                _("project '{project}' is not one of the facility's projects.").format(
                    project=values["project"]
                ),
                _("Choose one of: {choices}.").format(choices=", ".join(projects)),
            )
        )
    return out


def _study_issues(form: FairForm) -> list[FormIssue]:
    out: list[FormIssue] = []
    for i, author in enumerate(form.study.authors):
        where = f"study.authors[{i}]"
        if not author.name.strip():
            out.append(
                FormIssue(
                    where + ".name", "error", _("an author has no name."), _("Add it.")
                )
            )
        if author.orcid:
            problem = orcid_problem(author.orcid)
            if problem:
                out.append(
                    FormIssue(
                        where + ".orcid",
                        "error",
                        problem + ".",
                        _("Copy it from orcid.org."),
                    )
                )
    if form.study.licence and licence(form.study.licence) is None:
        ids = ", ".join(t.id for t in vocabulary("licences").terms)
        out.append(
            FormIssue(
                "study.licence",
                "error",
                _("licence '{licence}' is not a known SPDX id.").format(
                    licence=form.study.licence
                ),
                _("Choose one of: {choices}.").format(choices=ids),
            )
        )
    doi = form.study.related_publication_doi
    if doi and not is_doi(doi):
        out.append(
            FormIssue(
                "study.related_publication_doi",
                "error",
                _("'{doi}' is not a DOI.").format(doi=doi),
                _("Type it as 10.1234/abcd (prefix 10.)."),
            )
        )
    ror = form.study.publisher_ror
    if ror and ror_problem(ror):
        out.append(
            FormIssue(
                "study.publisher_ror",
                "error",
                f"{ror_problem(ror)}.",
                _("Copy it from ror.org, or clear it."),
            )
        )
    if form.study.language and form.study.language not in ("fr", "en"):
        out.append(
            FormIssue(
                "study.language", "warning", _("language should be 'fr' or 'en'.")
            )
        )
    return out


def _organism_issues(organism: Term) -> list[FormIssue]:
    """A taxon id is checked; a name outside the offline list is kept, unverified."""
    if _is_empty(organism) or NCBI_TAXON_PATTERN.fullmatch(organism.id):
        return []
    if organism.id:
        return [
            FormIssue(
                "biosample.organism",
                "error",
                _("'{id}' is not an NCBI Taxonomy id.").format(id=organism.id),
                _("Type it as NCBITaxon:<number>, or type the organism's name."),
            )
        ]
    try:
        resolve_organism(organism.label)
    except InvalidFormValueError:
        names = [t.label for t in vocabulary("ncbi_taxonomy").terms]
        close = difflib.get_close_matches(organism.label, names, n=3, cutoff=0.6)
        hint = (
            _("Did you mean {names}? ").format(names=", ".join(close)) if close else ""
        )
        return [
            FormIssue(
                "biosample.organism",
                "warning",
                _(
                    "organism '{name}' is not in the offline NCBI Taxonomy list: "
                    "kept as typed, not verified."
                ).format(name=organism.label),
                hint
                + _(
                    "Check the spelling; type its NCBITaxon id (e.g. NCBITaxon:5811) "
                    "if you know it."
                ),
            )
        ]
    return [
        FormIssue(
            "biosample.organism",
            "error",
            _("organism '{name}' has no NCBI Taxonomy id.").format(name=organism.label),
            _("Pick it from the list or type NCBITaxon:<id>."),
        )
    ]


def _term_issues(form: FairForm) -> list[FormIssue]:
    out = _organism_issues(form.biosample.organism)
    method = form.study_component.imaging_method
    if not _is_empty(method):
        if not FBBI_PATTERN.fullmatch(method.id):
            try:
                resolve_imaging_method(method.label or method.id)
                problem, fix = (
                    _("imaging method '{name}' has no FBbi id.").format(
                        name=method.label
                    ),
                    _("Pick it from the list."),
                )
            except InvalidFormValueError as err:
                problem, fix = err.problem, err.fix
            out.append(
                FormIssue("study_component.imaging_method", "error", problem, fix)
            )
        elif vocabulary("fbbi").find(method.id) is None:
            out.append(
                FormIssue(
                    "study_component.imaging_method",
                    "warning",
                    _("{id} is not in the offline FBbi list; check it exists.").format(
                        id=method.id
                    ),
                    _("See https://www.ebi.ac.uk/ols4/ontologies/fbbi."),
                )
            )
    for i, channel in enumerate(form.specimen.channels):
        if channel.fluorophore and find_fluorophore(channel.fluorophore) is None:
            out.append(
                FormIssue(
                    f"specimen.channels[{i}].fluorophore",
                    "warning",
                    _(
                        "fluorophore '{name}' is not in the list; "
                        "its peak wavelengths are unknown."
                    ).format(name=channel.fluorophore),
                    _("Check the spelling (e.g. Alexa Fluor 488, EGFP)."),
                )
            )
    return out


def _date_issues(form: FairForm) -> list[FormIssue]:
    text = form.image_acquisition.acquisition_datetime
    if not text:
        return []
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return [
            FormIssue(
                "image_acquisition.acquisition_datetime",
                "error",
                _("'{text}' is not an ISO 8601 date-time.").format(text=text),
                _("Type it as 2023-01-15T14:02:11+01:00."),
            )
        ]
    out: list[FormIssue] = []
    if when.tzinfo is None:
        out.append(
            FormIssue(
                "image_acquisition.acquisition_datetime",
                "warning",
                _("acquisition time has no UTC offset (local time of the PC)."),
                _("Add the offset (+01:00) if you know it."),
            )
        )
    if form.naming.date and form.naming.date != when.date().isoformat():
        out.append(
            FormIssue(
                "naming.date",
                "warning",
                _(
                    "name date {name_date} differs from the acquisition date {date}."
                ).format(name_date=form.naming.date, date=when.date().isoformat()),
                _("The name carries the acquisition date, not the save date."),
            )
        )
    return out


def text_issues(form: FairForm) -> list[FormIssue]:
    """Text no field may hold: control characters, direction overrides, pages of it
    (:mod:`~napari_fairly.core.textcheck`)."""
    out = []
    data = form.model_dump(mode="json", exclude={"sources"})
    for where, text in strings(data):
        problem = field_text_problem(text)
        if problem is not None:
            out.append(
                FormIssue(
                    where,
                    "error",
                    f"{problem[:1].upper()}{problem[1:]}.",
                    _("Type it again without it; paste plain text."),
                )
            )
    return out


def _path_issues(form: FairForm) -> list[FormIssue]:
    out = []
    for path in FILE_NAME_FIELDS:
        if path.startswith("naming."):
            continue  # check_component explains separators per component
        value = str(get_field(form, path) or "")
        if any(s in value for s in ("/", "\\", "..")) or "\x00" in value:
            out.append(
                FormIssue(
                    path,
                    "error",
                    _(
                        "{field} '{value}' contains a path separator or '..'; "
                        "it becomes part of a file name."
                    ).format(field=field_label(path), value=value),
                    _("Use letters, digits and hyphens only."),
                )
            )
    return out


def form_issues(form: FairForm) -> list[FormIssue]:
    """Every problem with the form: missing required fields and invalid values are
    errors (they block a save); empty recommended fields are warnings."""
    out: list[FormIssue] = []
    for path in (*REQUIRED, *form.rules.extra_required):
        if path in FIELD_PATHS and _is_empty(get_field(form, path)):
            out.append(
                FormIssue(
                    path,
                    "error",
                    _("{field} is required.").format(field=field_label(path)),
                    _("Fill it in."),
                    code="required",
                )
            )
    for path in RECOMMENDED:
        if path not in form.rules.extra_required and _is_empty(get_field(form, path)):
            out.append(
                FormIssue(
                    path,
                    "warning",
                    _("{field} is recommended.").format(field=field_label(path)),
                    _("Fill it in if you can."),
                    code="recommended",
                )
            )
    out += [
        FormIssue(name, "error", problem, _("Correct it or clear it."))
        for name, problem in form.corrections.problems()
    ]
    out += _naming_issues(form)
    out += text_issues(form)
    out += _path_issues(form)
    out += _study_issues(form)
    out += _term_issues(form)
    out += _date_issues(form)
    instrument = form.image_acquisition.instrument
    if (
        form.rules.instruments
        and instrument
        and instrument not in form.rules.instruments
    ):
        out.append(
            FormIssue(
                "image_acquisition.instrument",
                "warning",
                _("instrument '{name}' is not in the facility's list.").format(
                    name=instrument
                ),
                _("Facility instruments: {names}.").format(
                    names=", ".join(form.rules.instruments)
                ),
            )
        )
    return [
        i if i.severity == "error" or i.code != "invalid" else replace(i, code="check")
        for i in out
    ]


def missing_required(form: FairForm) -> list[str]:
    """Paths of required fields (built-in and template) that are empty."""
    paths = (*REQUIRED, *form.rules.extra_required)
    return [p for p in paths if p in FIELD_PATHS and _is_empty(get_field(form, p))]


# --------------------------------------------------------------------------- prefill


def _source_of(sourced: Any) -> str:
    """The form's source text for a metadata value: ``file:…``, or the correction's."""
    if sourced.status is Status.OPERATOR:
        return str(sourced.source or "operator")
    return f"file:{sourced.source}" if sourced.source else "file"


def _file_values(metadata: AcquisitionMetadata) -> dict[str, tuple[Any, str]]:
    """Form values stated by the acquisition metadata, each with its source."""
    out: dict[str, tuple[Any, str]] = {}

    def put(path: str, sourced: Any, transform: Any = None) -> None:
        if sourced.value is None:
            return
        value = transform(sourced.value) if transform else sourced.value
        if not _is_empty(value):
            out[path] = (value, _source_of(sourced))

    date = metadata.acquisition_date
    if date.value:
        match = re.match(r"\d{4}-\d{2}-\d{2}", date.value)
        if match:
            put("naming.date", date, lambda _v: match.group(0))
        put("image_acquisition.acquisition_datetime", date)
    put("image_acquisition.instrument", metadata.microscope)
    put("image_acquisition.instrument_manufacturer", metadata.instrument_manufacturer)
    objective = metadata.objective
    put("image_acquisition.objective", objective.model)
    put("image_acquisition.objective_magnification", objective.magnification)
    put("image_acquisition.objective_na", objective.na)
    put("image_acquisition.immersion", objective.immersion)
    put("image_acquisition.pixel_size_x_um", metadata.pixel_size_x_um)
    put("image_acquisition.pixel_size_y_um", metadata.pixel_size_y_um)
    put("image_acquisition.pixel_size_z_um", metadata.pixel_size_z_um)
    if metadata.experimenter.value:
        put(
            "study.authors",
            metadata.experimenter,
            lambda v: (Author(name=str(v)),),
        )
    channels = metadata.channels
    if channels:
        out["image_acquisition.channels"] = (
            tuple(
                AcquisitionChannel(
                    name=c.name.value or "",
                    acquisition_mode=c.acquisition_mode.value or "",
                    excitation_wavelength_nm=c.excitation_wavelength_nm.value,
                    emission_wavelength_nm=c.emission_wavelength_nm.value,
                    exposure_s=c.exposure_s.value,
                )
                for c in channels
            ),
            _channels_source(channels),
        )
        out["specimen.channels"] = (
            tuple(
                SpecimenChannel(
                    name=c.name.value or "",
                    contrast_method=(c.contrast_method.value or "").lower(),
                    fluorophore=c.fluorophore.value or "",
                )
                for c in channels
            ),
            "file:channels",
        )
        for c in channels:
            term = fbbi_for_acquisition_mode(c.acquisition_mode.value)
            if term is not None:
                out["study_component.imaging_method"] = (
                    Term(id=term.id, label=term.label),
                    f"file:{c.acquisition_mode.source} (AcquisitionMode "
                    f"{c.acquisition_mode.value})",
                )
                break
    # the file's name, not where it is: a saved form must not tell local paths
    out["image_data.source_file"] = (_file_name(metadata.source_path), "file")
    out["image_data.format"] = (metadata.format, "file")
    out["image_data.dims"] = (metadata.dims, "file")
    if metadata.shape:
        out["image_data.shape"] = (dict(metadata.shape), "file")
    if metadata.dtype:
        out["image_data.dtype"] = (metadata.dtype, "file")
    out["image_data.size_bytes"] = (metadata.size_bytes, "file")
    out["image_data.scene_index"] = (metadata.scene_index, "file")
    return out


def _file_name(path: str) -> str:
    """The last part of a Windows or POSIX path."""
    return Path(path.replace("\\", "/")).name if path else ""


def _channels_source(channels: Any) -> str:
    """``operator`` when any channel value was corrected, else ``file:channels``."""
    corrected = any(
        getattr(c, f).status is Status.OPERATOR
        for c in channels
        for f in (
            "name",
            "acquisition_mode",
            "excitation_wavelength_nm",
            "emission_wavelength_nm",
            "exposure_s",
        )
    )
    return "operator" if corrected else "file:channels"


def _template_checked(template: FacilityTemplate) -> None:
    for kind, paths in (
        ("fixed", template.fixed),
        ("defaults", template.defaults),
        ("required", template.required),
    ):
        unknown = [p for p in paths if p not in FIELD_PATHS and not is_correction(p)]
        if unknown:
            raise TemplateError(
                f"'{kind}' names unknown form fields: {', '.join(unknown)}.",
                fix=f"Use dotted field paths such as study.publisher (known: "
                f"{', '.join(FIELD_PATHS)}).",
                path=template.source_path or None,
            )


def _layered_values(
    metadata: AcquisitionMetadata | None,
    template: FacilityTemplate | None,
    profile: OperatorProfile | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """File values, then template defaults, then the profile, then built-ins."""
    layers: list[tuple[str, dict[str, Any]]] = []
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    file_values = _file_values(metadata) if metadata is not None else {}
    for path, (value, source) in file_values.items():
        values[path], sources[path] = value, source
    if template is not None:
        layers.append((f"template:{template.label}", _template_defaults(template)))
    if profile is not None:
        remembered = {k: v for k, v in profile.last.items() if k in PROFILE_FIELDS}
        layers.append((f"profile:{profile.operator}", remembered))
    for source, layer in layers:
        for path, raw in layer.items():
            if path in values:
                continue
            value = coerce_value(path, raw)
            if not _is_empty(value):
                values[path], sources[path] = value, source
    defaults = {
        "naming.datatype": "RAW",
        "naming.version": "v01",
        "study.licence": DEFAULT_LICENCE,
    }
    for path, value in defaults.items():
        if path not in values:
            values[path], sources[path] = value, "default"
    return values, sources


def _template_defaults(template: FacilityTemplate) -> dict[str, Any]:
    """The template's defaults; its publisher (else its facility) and ROR id too.

    The publisher is a default, not fixed: a dataset deposited in a repository may
    name the repository as its publisher (unless the template fixes it).
    """
    defaults = {"study.publisher": template.publisher or template.facility}
    if template.publisher_ror:
        defaults["study.publisher_ror"] = template.publisher_ror
    return {**defaults, **template.defaults}


def _template_rules(
    template: FacilityTemplate | None,
) -> tuple[FormRules, dict[str, Any]]:
    """The rules a template puts on the form, and the values it fixes."""
    if template is None:
        return FormRules(), {}
    fixed = {p: coerce_value(p, v) for p, v in template.fixed.items()}
    if template.licence:
        fixed["study.licence"] = template.licence
    rules = FormRules(
        template=template.label,
        allowed_projects=template.projects,
        instruments=tuple(i.name for i in template.instruments),
        extra_datatypes=template.datatypes,
        extra_required=template.required,
        fixed_fields=tuple(fixed),
        ngff_version=template.options.ngff_version,
    )
    return rules, fixed


def _apply_typed(
    typed: Mapping[str, Any],
    fixed: Mapping[str, Any],
    rules: FormRules,
    values: dict[str, Any],
    sources: dict[str, str],
) -> None:
    """What the operator typed, over everything but the template's fixed values."""
    for path, raw in typed.items():
        value = coerce_value(path, raw)
        if path in fixed and not _equal(value, fixed[path]):
            raise InvalidFormValueError(
                f"{field_label(path)} is fixed by the facility template "
                f"{rules.template}: '{_dump(fixed[path])}', not '{raw}'.",
                fix="Leave it as the template says or ask the facility to change it.",
            )
        if _is_empty(value):
            values.pop(path, None)
            sources.pop(path, None)
        else:
            values[path], sources[path] = value, "operator"


def _derived(values: dict[str, Any], sources: dict[str, str]) -> None:
    """Values computed from other fields, only where nothing else gave one."""
    sample = values.get("naming.sample", "")
    condition = values.get("naming.condition", "")
    if "study_component.name" not in values and (sample or condition):
        values["study_component.name"] = " ".join(p for p in (sample, condition) if p)
        sources["study_component.name"] = "derived:naming.sample+naming.condition"
    if "biosample.extrinsic_variables" not in values and condition:
        values["biosample.extrinsic_variables"] = condition
        sources["biosample.extrinsic_variables"] = "derived:naming.condition"


def _instrument_hardware(
    template: FacilityTemplate | None,
    values: dict[str, Any],
    sources: dict[str, str],
) -> Hardware | None:
    """The template's hardware of the form's instrument; fills what it states and
    nothing else gave (the file's and the operator's values win)."""
    name = values.get("image_acquisition.instrument")
    instrument = next(
        (i for i in (template.instruments if template else ()) if i.name == name),
        None,
    )
    if template is None or instrument is None:
        return None
    origin = f"template:{template.label}"
    hardware = instrument.hardware
    found = hardware_form_values(hardware, values, origin) if hardware else {}
    maker = "image_acquisition.instrument_manufacturer"
    if instrument.manufacturer and maker not in values and maker not in found:
        found[maker] = (instrument.manufacturer, origin)
    for path, (value, source) in found.items():
        try:
            values[path] = coerce_value(path, value)
        except InvalidFormValueError:
            continue  # a value the form does not take stays in the hardware only
        sources[path] = source
    return hardware


def _split_corrections(
    values: dict[str, Any], sources: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Take the acquisition values the file did not give out of ``values``.

    They are corrections (typed, or set by the template), grouped by their source.
    """
    corrected: dict[str, dict[str, Any]] = {}
    for path in [p for p in values if is_correction(p)]:
        source = sources.get(path, "")
        if source.startswith("file"):
            continue  # shown from the metadata by sync_acquisition
        corrected.setdefault(source, {})[path] = values.pop(path)
        sources.pop(path, None)
    return corrected


def prefill_form(
    metadata: AcquisitionMetadata | None = None,
    template: FacilityTemplate | None = None,
    profile: OperatorProfile | None = None,
    typed: Mapping[str, Any] | None = None,
) -> FairForm:
    """A form filled from what is already known, each value with its source.

    For each field the first non-empty value wins among: the acquisition metadata,
    the template's defaults, the operator's last entries (SPEC 2.1); then what the
    operator typed overrides it. Fields the template fixes take the template's
    value whatever the file says. Acquisition values typed or set by the template
    are corrections (``form.corrections``), and the image-acquisition fields show
    the file's values overlaid by them.

    Raises
    ------
    InvalidFormValueError
        When ``typed`` tries to change a field the template fixes, or has a value
        of the wrong type or out of range.
    TemplateError
        When the template names fields the form does not have.
    """
    if template is not None:
        _template_checked(template)
    values, sources = _layered_values(metadata, template, profile)
    rules, fixed = _template_rules(template)
    for path, value in fixed.items():
        values[path], sources[path] = value, f"template:{rules.template}"
    _apply_typed(typed or {}, fixed, rules, values, sources)
    _derived(values, sources)
    hardware = _instrument_hardware(template, values, sources)
    corrected = _split_corrections(values, sources)
    data: dict[str, Any] = {"sources": sources, "rules": rules.model_dump()}
    if hardware is not None:
        data["hardware"] = hardware.model_dump()
    for path, value in values.items():
        _set_path(data, path, _dump(value))
    corrections = Corrections()
    for source, changes in corrected.items():
        corrections = corrections.with_values(changes, source)
    data["corrections"] = corrections.model_dump()
    form = _validate(data)
    return sync_acquisition(form, metadata) if metadata is not None else form


def profile_from_form(form: FairForm, operator: str | None = None) -> OperatorProfile:
    """The operator's last entries to remember: profile fields only, never fixed."""
    last: dict[str, Any] = {}
    dumped = form.model_dump(mode="json")
    for path in PROFILE_FIELDS:
        if path in form.rules.fixed_fields:
            continue
        module, _sep, name = path.partition(".")
        value = dumped[module][name]
        if not _is_empty(value):
            last[path] = value
    return OperatorProfile(operator=operator or form.operator, last=last)


# --------------------------------------------------------------------- JSON and CSV


def form_to_json(form: FairForm) -> str:
    """The form as JSON text (UTF-8, indented); :func:`form_from_json` reads it back."""
    return strict_json.dumps(form.model_dump(mode="json")) + "\n"


# a form is a few kilobytes; a file far larger is not one (and is not read whole);
# below this, a too long value is named by its field (a verdict, not a bad file)
MAX_FORM_BYTES = 16 * 2**20


def form_file_text(path: Path) -> str:
    """The text of the form file ``path``: a regular file, small, UTF-8.

    A FIFO is never opened (the read would wait for a writer forever), a huge file
    never read whole; FormFileError names the file.
    """
    fix = _("Give the JSON written by 'fairly form' or the FAIR form panel.")
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise FormFileError(
                _("the form is not a file (a folder, a pipe or a device)."),
                fix=fix,
                path=path,
            )
        if status.st_size > MAX_FORM_BYTES:
            raise FormFileError(
                _(
                    "the form file has {size:,} bytes: a form has a few thousand."
                ).format(size=status.st_size),
                fix=fix,
                path=path,
            )
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        if isinstance(err, FormFileError):
            raise
        why = getattr(err, "strerror", None) or _("not UTF-8 text")
        raise FormFileError(
            _("the form cannot be read ({why}).").format(why=why), fix=fix, path=path
        ) from None


def load_form_file(path: Path | str) -> FairForm:
    """The form saved in ``path`` (JSON, or CSV by its suffix), read safely.

    Raises
    ------
    FormFileError
        Naming the file, when it is not a form.
    FormNotReadyError
        When its values do not fit their fields (a verdict on the form).
    """
    path = Path(path)
    text = form_file_text(path)
    try:
        if path.suffix.lower() == ".csv":
            return form_from_csv(text)
        return form_from_json(text)
    except FormNotReadyError as err:  # a form, with values that do not fit
        raise FormNotReadyError(
            err.problem, problems=err.problems, fix=err.fix, path=path
        ) from None
    except (FormFileError, InvalidFormValueError) as err:
        raise FormFileError(err.problem, fix=err.fix, path=path) from None


def form_from_json(text: str | bytes) -> FairForm:
    """Read a form saved by :func:`form_to_json` (older versions too).

    Forms of schema 1.0 kept typed acquisition values in ``image_acquisition``
    with the source ``operator``: they become corrections.

    Raises
    ------
    FormFileError
        When the text is not JSON, not an object, or not a form of ours.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise FormFileError(
            f"the form file is not valid JSON ({str(err)[:120]}).",
            fix="Choose a form saved by napari-fairly (fairly form, or Save as JSON).",
        ) from None
    if not isinstance(data, dict):
        raise FormFileError(
            "the form file must hold a JSON object.", fix="Choose a saved form."
        )
    found = first_undecodable(data)
    if found is not None:
        raise FormFileError(
            f"the form file holds text that is not valid Unicode in {found[0]} "
            f"({found[1]}).",
            fix="Write the form again (fairly form, or the FAIR form panel).",
        )
    try:
        return _validate(_migrated(data))
    except FormNotReadyError as err:  # our form, with values of the wrong type
        raise FormNotReadyError(
            "the form has values that do not fit their fields.",
            problems=err.problems,
            fix="Correct them (fairly form FILE --set FIELD=VALUE, or the FAIR form "
            "panel).",
        ) from None
    except InvalidFormValueError as err:
        raise FormFileError(
            f"the file is not a napari-fairly form: {err.problem}",
            fix="Choose a form saved by napari-fairly (fairly form, or Save as JSON).",
        ) from None


def _migrated(data: dict[str, Any]) -> dict[str, Any]:
    """A 1.0 form's typed acquisition values moved into ``corrections``."""
    if "corrections" in data or not isinstance(data.get("sources"), dict):
        return data
    acquisition = data.get("image_acquisition")
    if not isinstance(acquisition, dict):
        return data
    typed = {
        path: acquisition.get(path.partition(".")[2])
        for path in MIRRORED
        if data["sources"].get(path) == "operator"
    }
    typed = {k: v for k, v in typed.items() if v not in (None, "")}
    out = dict(data, schema_version=FORM_SCHEMA_VERSION)
    try:
        out["corrections"] = Corrections().with_values(typed).model_dump()
    except InvalidFormValueError:
        out["corrections"] = Corrections().model_dump()  # form_issues reports them
    return out


def form_source_problem(
    form: FairForm, metadata: AcquisitionMetadata, any_scene: bool = False
) -> str | None:
    """Why ``form`` was made for another acquisition than ``metadata``'s, or None.

    The form records the file it was made from (name, size, scene, and its sha256
    once known); a form that records nothing is taken as made for this one. The
    sha256, when recorded, is compared by the save with the hash it takes anyway.
    """
    data = form.image_data
    name = Path(data.source_file.replace("\\", "/")).name if data.source_file else ""
    problems = []
    if name and name != Path(metadata.source_path).name:
        problems.append(f"file {name!r}")
    if data.size_bytes is not None and data.size_bytes != metadata.size_bytes:
        problems.append(f"a file of {data.size_bytes:,} bytes")
    if (
        not any_scene
        and data.scene_index is not None
        and data.scene_index != metadata.scene_index
    ):
        problems.append(f"scene {data.scene_index + 1}")
    if not problems:
        return None
    return (
        f"the form was made for {', '.join(problems)}, not for "
        f"{Path(metadata.source_path).name} scene {metadata.scene_index + 1}"
    )


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _flatten(prefix: str, value: Any, out: list[tuple[str, Any]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, item, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(f"{prefix}[{i}]", item, out)
    elif value is not None and value != "":
        out.append((prefix, value))


def _field_of(row_path: str) -> str:
    """Field path of a CSV row path: ``study.authors[0].name`` → ``study.authors``."""
    head = re.split(r"\[", row_path, maxsplit=1)[0]
    parts = head.split(".")
    return ".".join(parts[:2]) if parts[0] in MODULES else parts[0]


def form_to_csv_rows(form: FairForm) -> list[tuple[str, str, str]]:
    """One ``(field, value, source)`` row per filled leaf value, in form order."""
    data = form.model_dump(mode="json")
    data.pop("sources")
    flat: list[tuple[str, Any]] = []
    _flatten("", data, flat)
    rows = []
    for path, value in flat:
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        rows.append((path, text, form.sources.get(_field_of(path), "")))
    return rows


def form_to_csv(form: FairForm) -> str:
    """The form as CSV text (RFC 4180, header ``field,value,source``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("field", "value", "source"))
    for path, value, source in form_to_csv_rows(form):  # no cell runs as a formula
        writer.writerow((path, safe_cell(value), safe_cell(source)))
    return buffer.getvalue()


def form_from_csv(text: str) -> FairForm:
    """Read a form written by :func:`form_to_csv`.

    Raises
    ------
    InvalidFormValueError
        When the header or a field path is wrong, or a value has the wrong type.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != ["field", "value", "source"]:
        raise InvalidFormValueError(
            f"the CSV header is {header}, not field,value,source.",
            fix="Choose a form exported by napari-fairly (Save as CSV).",
        )
    data: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != 3:
            raise InvalidFormValueError(
                f"CSV line {line} has {len(row)} cells instead of 3.",
                fix="Quote values that contain commas.",
            )
        path, value, source = row[0], text_of_cell(row[1]), text_of_cell(row[2])
        tokens = _TOKEN.findall(path)
        if (
            not tokens
            or "".join(f".{k}" if k else f"[{i}]" for k, i in tokens).lstrip(".")
            != path
        ):
            raise InvalidFormValueError(
                f"CSV line {line}: '{path}' is not a field path.",
                fix="Keep the first column as exported.",
            )
        _put_token_path(data, tokens, value)
        if source:
            sources[_field_of(path)] = source
    data["sources"] = sources
    return _validate(_lists_from_indices(data))


def _put_token_path(
    data: dict[Any, Any], tokens: list[tuple[str, str]], value: str
) -> None:
    keys: list[str | int] = [k if k else int(i) for k, i in tokens]
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})  # list indices become int keys, fixed later
    node[keys[-1]] = value


def _lists_from_indices(value: Any) -> Any:
    """Turn ``{0: …, 1: …}`` dicts built from ``[i]`` paths into lists."""
    if isinstance(value, dict):
        converted = {k: _lists_from_indices(v) for k, v in value.items()}
        if converted and all(isinstance(k, int) for k in converted):
            return [converted[k] for k in sorted(converted)]
        return converted
    return value


# --------------------------------------------------------------------- exports


def _orcid_uri(text: str) -> str:
    if not text or orcid_problem(text):
        return ""
    return "https://orcid.org/" + text.strip().rsplit("/", 1)[-1]


def rembi_dict(form: FairForm) -> dict[str, Any]:
    """The REMBI modules as plain JSON-ready data (sidecar ``rembi`` block)."""
    data = form.model_dump(mode="json")
    study = data["study"]
    study["project_acronym"] = form.naming.project
    study["authors"] = [
        {**a, "orcid": _orcid_uri(a["orcid"]) or a["orcid"]} for a in study["authors"]
    ]
    biosample = data["biosample"]
    organism = biosample.pop("organism")
    biosample["organism"] = {"id": organism["id"], "name": organism["label"]}
    image_data = data["image_data"]
    image_data["datatype"] = form.naming.datatype
    out = {m: data[m] for m in MODULES if m != "naming" and data[m] is not None}
    out["image_acquisition"]["imaging_method"] = data["study_component"][
        "imaging_method"
    ]
    return out


# --------------------------------------------------------------------- JSON Schema

SCHEMA_PATH = ("schema", "fair-form.schema.json")


def form_json_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of a saved form, so other tools can validate one."""
    schema = FairForm.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://napari-fairly/schema/fair-form.schema.json",
        "title": "napari-fairly FAIR form",
        "description": (
            f"REMBI modules and naming components (form schema {FORM_SCHEMA_VERSION}). "
            "Generated from napari_fairly.core.form.FairForm."
        ),
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def write_json_schema(path: Path | None = None) -> Path:
    """Regenerate ``resources/schema/fair-form.schema.json`` from the model."""
    target = path or resource_path(*SCHEMA_PATH)
    target.write_text(
        json.dumps(form_json_schema(), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return target


def iter_field_paths(modules: Iterable[str] = MODULES) -> list[str]:
    """Field paths of the given modules, in form order."""
    return [p for p in FIELD_PATHS if p.split(".")[0] in modules]
