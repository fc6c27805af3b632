"""Where settings live: config dir, facility templates (YAML), operator profiles (JSON).

A *facility template* is written once by the facility staff: it fixes what the
operator must not change (facility, publisher, licence, allowed project acronyms),
sets defaults, adds required fields and chooses options such as the OME-Zarr version.
An *operator profile* remembers the operator's last entries so the form is quick to
fill; it never holds anything secret.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import string
import warnings
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import platformdirs
import yaml
from pydantic import Field, ValidationError, field_validator

from napari_fairly.core import strict_json
from napari_fairly.core.errors import InvalidFormValueError, TemplateError
from napari_fairly.core.micrometa import Hardware, load_microscope
from napari_fairly.core.model import FrozenModel
from napari_fairly.core.naming import NameParts, is_safe_filename, transliterate

CONFIG_ENV = "FAIRLY_CONFIG_DIR"
TEMPLATE_ENV = "FAIRLY_TEMPLATE"
TEMPLATE_FILE = "template.yaml"
PROFILES_DIR = "profiles"
LAYOUT_KEYS = (
    "date",
    "year",
    "project",
    "sample",
    "creator",
    "condition",
    "datatype",
    "version",
    "study",
)
# keys that must never be stored in a profile, whatever a caller passes
_SECRET_HINTS = re.compile(r"pass(word)?|secret|token|api[_-]?key|credential", re.I)


class ProfileWarning(UserWarning):
    """An operator profile could not be read and was set aside."""


def config_dir() -> Path:
    """The user config dir; ``FAIRLY_CONFIG_DIR`` overrides it (read on every call)."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("napari-fairly", appauthor=False))


# ------------------------------------------------------------------------ templates


class Instrument(FrozenModel):
    """A microscope of the facility, as offered in the form.

    ``micro_meta_app_json`` names its Micro-Meta App file (relative to the
    template's folder, or absolute): :func:`load_template` reads it into
    ``hardware`` (objectives, light sources, filters, detectors).
    """

    name: str
    manufacturer: str = ""
    model: str = ""
    type: str = ""  # "widefield", "confocal", "spinning disk", "light sheet"
    micro_meta_app_json: str = ""  # path of a Micro-Meta App hardware description
    hardware: Hardware | None = None


def with_hardware(instrument: Instrument, base: Path) -> Instrument:
    """``instrument`` with its Micro-Meta App file read (``base``: where a relative
    path starts); its manufacturer and model filled from the file when empty.

    Raises
    ------
    MicroscopeFileError
        When the file cannot be read or is not a Micro-Meta App microscope.
    """
    if not instrument.micro_meta_app_json:
        return instrument
    path = Path(instrument.micro_meta_app_json).expanduser()
    hardware = load_microscope(path if path.is_absolute() else base / path)
    return instrument.replace(
        hardware=hardware.model_dump(),
        manufacturer=instrument.manufacturer or hardware.manufacturer,
        model=instrument.model or hardware.model,
    )


class TemplateOptions(FrozenModel):
    """Choices the facility makes for every save."""

    ngff_version: Literal["0.4", "0.5"] = "0.4"
    destination_layout: str = "{project}"
    qc_thresholds: dict[str, float] = Field(default_factory=dict)
    # a published dataset names its source by file name and sha256 only; these
    # put the source's full path and the OS login into the sidecar (SPEC 7.3)
    record_source_location: bool = False
    record_os_user: bool = False

    @field_validator("destination_layout")
    @classmethod
    def _layout_is_relative(cls, value: str) -> str:
        check_layout(value)
        return value


class BatchPolicy(FrozenModel):
    """What batches and the watched folder do where no operator is there to decide.

    ``accept_qc_failures_by`` names who accepts failed checks for unattended saves
    (recorded in each sidecar); empty, such an item is not saved and is reported.
    A watched file is complete when ``sentinel`` exists (``{name}`` is the file's
    name, ``{stem}`` without its extension: ``"{name}.done"``), else when its size
    and modification time have not changed for ``settle_seconds``.
    """

    accept_qc_failures_by: str = ""
    settle_seconds: float = Field(default=30.0, ge=0, le=86400)
    sentinel: str = ""

    @field_validator("sentinel")
    @classmethod
    def _sentinel_is_a_name(cls, value: str) -> str:
        fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        if fields - {"name", "stem"}:
            raise ValueError("sentinel may only use {name} and {stem}")
        if "/" in value or "\\" in value:
            raise ValueError(
                "sentinel is a file name beside the acquisition, not a path"
            )
        return value


class FacilityTemplate(FrozenModel):
    """A facility's fixed values, defaults, extra required fields and options.

    ``fixed``, ``defaults`` and ``required`` use dotted form field paths
    (``study.publisher``, ``biosample.organism``); the form checks they exist.
    """

    schema_version: int = 1
    facility: str
    publisher: str = ""  # institution credited as DataCite publisher; facility if empty
    publisher_ror: str = ""  # the publisher's ROR id (https://ror.org/…), optional
    instruments: tuple[Instrument, ...] = ()
    licence: str = ""  # SPDX id, fixed for every dataset when set
    projects: tuple[str, ...] = ()  # allowed project acronyms; empty = any
    fixed: dict[str, Any] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    required: tuple[str, ...] = ()
    datatypes: tuple[str, ...] = ()  # added to RAW, PROC, DECON…
    options: TemplateOptions = TemplateOptions()
    batch: BatchPolicy = BatchPolicy()  # unattended saves: fairly batch, fairly watch
    source_path: str = ""  # set by load_template: where the template was read

    @field_validator("publisher_ror")
    @classmethod
    def _ror_well_formed(cls, value: str) -> str:
        from napari_fairly.core.vocabularies import ror_problem, ror_uri

        if not value:
            return value
        problem = ror_problem(value)
        if problem:
            raise ValueError(problem)
        return ror_uri(value)

    @field_validator("datatypes")
    @classmethod
    def _datatypes_upper(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for term in value:
            if not re.fullmatch(r"[A-Z][A-Z0-9]*", term):
                raise ValueError(
                    f"datatype '{term}' must be an UPPER-CASE word (like RAW)"
                )
        return value

    @field_validator("projects")
    @classmethod
    def _projects_are_acronyms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for term in value:
            if not re.fullmatch(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*", term):
                raise ValueError(
                    f"project '{term}' must be an UPPER-CASE acronym (like TNT)"
                )
        return value

    @property
    def label(self) -> str:
        """Short name for provenance: the template's file name, else the facility."""
        return Path(self.source_path).name if self.source_path else self.facility


def _node_line(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest YAML node found along ``loc``, for error messages."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            node = node.value[key] if key < len(node.value) else None
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def load_template(path: Path | str) -> FacilityTemplate:
    """Read a facility template (YAML, ``safe_load``) and check it.

    Raises
    ------
    TemplateError
        Naming the file and the line: unreadable file, YAML syntax, unknown key,
        wrong value; or a Micro-Meta App file it names that cannot be read
        (:class:`~napari_fairly.core.micrometa.MicroscopeFileError`).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise TemplateError(
            f"cannot read the facility template ({err.__class__.__name__}: {err}).",
            fix="Check the path set in FAIRLY_TEMPLATE or the config folder.",
            path=path,
        ) from err
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise TemplateError(
            f"{line}YAML syntax error ({problem}).",
            fix="Fix the indentation or quoting on that line (YAML, spaces only).",
            path=path,
        ) from err
    if not isinstance(data, dict):
        raise TemplateError(
            "line 1: the template must be a mapping of keys (facility: …, licence: …).",
            fix="Start from resources/templates/example-facility.yaml.",
            path=path,
        )
    try:
        template = FacilityTemplate.model_validate({**data, "source_path": str(path)})
    except ValidationError as err:
        first = err.errors()[0]
        loc = tuple(first["loc"])
        line_number = _node_line(root, loc)
        where = f"line {line_number}: " if line_number else ""
        key = ".".join(str(p) for p in loc) or "template"
        raise TemplateError(
            f"{where}'{key}': {first['msg']}.",
            fix="Correct that entry (see resources/templates/example-facility.yaml).",
            path=path,
        ) from err
    instruments = tuple(with_hardware(i, path.parent) for i in template.instruments)
    return template.replace(instruments=[i.model_dump() for i in instruments])


def find_template() -> FacilityTemplate | None:
    """The template in use: ``FAIRLY_TEMPLATE``, else ``<config>/template.yaml``."""
    override = os.environ.get(TEMPLATE_ENV)
    if override:
        return load_template(override)
    default = config_dir() / TEMPLATE_FILE
    return load_template(default) if default.is_file() else None


def check_layout(layout: str) -> None:
    """Reject a destination layout that could leave the destination folder."""
    fields = [f for _, f, _, _ in string.Formatter().parse(layout) if f is not None]
    unknown = [f for f in fields if f not in LAYOUT_KEYS]
    if unknown:
        raise ValueError(
            f"destination_layout uses unknown keys {unknown}; "
            f"allowed: {', '.join(LAYOUT_KEYS)}"
        )
    literal = layout.replace("\\", "/")
    if literal.startswith("/") or re.match(r"^[A-Za-z]:", literal):
        raise ValueError(
            "destination_layout must be relative to the destination folder"
        )
    if any(seg == ".." for seg in literal.split("/")):
        raise ValueError("destination_layout must not contain '..'")


STUDY_FOLDER_CHARS = 64  # a study title is a sentence; its folder stays short


def _study_folder(title: str) -> str:
    """The study title as a folder name: ASCII words joined by ``-``, cut at a word
    boundary to :data:`STUDY_FOLDER_CHARS`."""
    words = transliterate(title, "sample") if title.strip() else ""
    if len(words) <= STUDY_FOLDER_CHARS:
        return words
    cut = words[: STUDY_FOLDER_CHARS + 1]
    return (cut.rsplit("-", 1)[0] if "-" in cut else cut[:STUDY_FOLDER_CHARS]).strip(
        "-"
    )


def destination_subdir(layout: str, parts: NameParts, study: str = "") -> PurePosixPath:
    """Sub-folder of the destination for one save, from the template's layout.

    Every segment is a safe folder name, so a save can never land outside the
    destination whatever the form holds.

    Raises
    ------
    InvalidFormValueError
        When the layout is not allowed or a segment comes out empty or unsafe.
    """
    try:
        check_layout(layout)
    except ValueError as err:
        raise InvalidFormValueError(
            str(err) + ".", fix="Correct the facility template."
        ) from err
    values = {
        "date": parts.date.isoformat(),
        "year": f"{parts.date.year:04d}",
        "project": parts.project,
        "sample": parts.sample,
        "creator": parts.creator,
        "condition": parts.condition,
        "datatype": parts.datatype,
        "version": parts.version_text,
        "study": _study_folder(study),
    }
    used = [f for _, f, _, _ in string.Formatter().parse(layout) if f]
    empty = [f for f in used if not values[f]]
    if empty:
        raise InvalidFormValueError(
            f"destination layout '{layout}' needs {', '.join(empty)}, which is empty.",
            fix="Fill the study title of the form, or change the template's layout.",
        )
    text = layout.replace("\\", "/").format(**values)
    segments = [s for s in text.split("/") if s]
    for segment in segments:
        if not is_safe_filename(segment):
            raise InvalidFormValueError(
                f"destination sub-folder '{segment}' (layout '{layout}') is not a "
                "safe name.",
                fix="Fill the fields the layout uses with letters, digits, hyphens.",
            )
    return PurePosixPath(*segments)


# ------------------------------------------------------------------------ profiles


class OperatorProfile(FrozenModel):
    """An operator's last entries, keyed by dotted form field path; never secrets."""

    schema_version: int = 1
    operator: str
    last: dict[str, Any] = Field(default_factory=dict)
    updated: str = ""  # ISO 8601 time of the last save

    @field_validator("last")
    @classmethod
    def _no_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if _SECRET_HINTS.search(key):
                raise ValueError(f"profiles never store secrets; refused key '{key}'")
        return value


def profile_path(operator: str) -> Path:
    """JSON file of one operator's profile (name made safe for a file name)."""
    safe = transliterate(operator, "sample")
    if not safe:
        raise InvalidFormValueError(
            f"operator name '{operator}' gives an empty file name.",
            fix="Type the operator's name with letters.",
        )
    return config_dir() / PROFILES_DIR / f"{safe}.json"


def load_profile(operator: str) -> OperatorProfile:
    """The operator's profile, or a fresh one.

    A corrupt file is renamed ``*.bak`` with a ``ProfileWarning``, never a crash.
    """
    path = profile_path(operator)
    if not path.is_file():
        return OperatorProfile(operator=operator)
    try:
        profile = OperatorProfile.model_validate_json(path.read_bytes())
    except (ValidationError, OSError, ValueError) as err:
        backup = path.with_suffix(".json.bak")
        os.replace(path, backup)
        warnings.warn(
            f"{path}: operator profile unreadable ({err.__class__.__name__}); "
            f"kept as {backup.name}, starting a fresh profile.",
            ProfileWarning,
            stacklevel=2,
        )
        return OperatorProfile(operator=operator)
    if profile.operator != operator:
        return profile.replace(operator=operator)
    return profile


def save_profile(profile: OperatorProfile) -> Path:
    """Write the profile atomically (temporary file, then ``os.replace``)."""
    path = profile_path(profile.operator)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamped = profile.replace(updated=dt.datetime.now(dt.timezone.utc).isoformat())
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(
        strict_json.dumps(stamped.model_dump(mode="json")),
        encoding="utf-8",
    )
    os.replace(tmp, path)
    return path
