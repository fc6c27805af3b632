"""A microscope's hardware, read from a Micro-Meta App file (4DN-BINA-OME / NBO-Q).

Facilities describe each instrument once with Micro-Meta App (Rigano et al. 2021,
doi:10.1038/s41592-021-01315-z): a JSON file with the stand (``MicroscopeStand``)
and a list of ``components``, each named by the schema it follows (``Schema_ID``:
``Objective.json``, ``Laser.json``, ``EmissionFilter.json``, ``CMOS.json``…; the
schemas are WU-BIMAC/MicroMetaApp-React ``schemas/fullSchema.json``). A facility
template points an instrument at such a file (``micro_meta_app_json``); this module
reads the objectives, light sources, filters and detectors from it, each with the
component it came from, so the form and the methods paragraph can use them.

Values the file states are kept as stated; a value it does not state stays empty,
never guessed. A file that is not JSON, not a microscope, or states an impossible
value (an NA of 14) is refused with :class:`MicroscopeFileError`, naming the
component and the property.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from napari_fairly.core.errors import TemplateError
from napari_fairly.core.i18n import N_, _
from napari_fairly.core.model import FrozenModel

# Schema_ID → kind of component we read; the others (stages, lenses…) are skipped
OBJECTIVES = frozenset({"Objective.json"})
LIGHT_SOURCES = {
    "Laser.json": N_("laser"),
    "LightEmittingDiode.json": N_("LED"),
    "Arc.json": N_("arc lamp"),
    "Filament.json": N_("filament lamp"),
    "GenericExcitationSource.json": N_("light source"),
}
FILTERS = {
    "ExcitationFilter.json": N_("excitation filter"),
    "EmissionFilter.json": N_("emission filter"),
    "Dichroic.json": N_("dichroic mirror"),
    "StandardDichroic.json": N_("dichroic mirror"),
    "FilterSet.json": N_("filter set"),
    "AdditionalFilter.json": N_("filter"),
}
DETECTORS = {
    "CCD.json": "CCD",
    "CMOS.json": "CMOS",
    "sCMOS.json": "sCMOS",
    "EMCCD.json": "EMCCD",
    "IntensifiedCCD.json": N_("intensified CCD"),
    "AnalogVideo.json": N_("analog video camera"),
    "PhotoMultiplier.json": "PMT",
    "HybridPhotoDetector.json": N_("hybrid photodetector"),
    "AvalanchePhotoDiode.json": N_("avalanche photodiode"),
    "PhotoDiode.json": N_("photodiode"),
    "GenericDetector.json": N_("detector"),
}
# unit of a wavelength → factor to nm (Micro-Meta App writes the unit beside it)
WAVELENGTH_UNITS = {"nm": 1.0, "µm": 1000.0, "um": 1000.0, "μm": 1000.0, "pm": 1e-3}
IMMERSIONS = {
    "oil": "Oil",
    "water": "Water",
    "waterdipping": "WaterDipping",
    "glycerol": "Glycerol",
    "glycerin": "Glycerol",
    "silicone": "Silicone",
    "air": "Air",
    "dry": "Air",
    "multi": "Multi",
}


class MicroscopeFileError(TemplateError):
    """A Micro-Meta App file that cannot be read or states impossible values."""


class Band(FrozenModel):
    """A transmitted (or reflected) band of a filter: cut-in and cut-out, nm."""

    cut_in_nm: float
    cut_out_nm: float


class Component(FrozenModel):
    """What every hardware component has: its name and where it was read."""

    schema_id: str
    name: str = ""
    manufacturer: str = ""
    model: str = ""
    source: str = ""  # "Micro-Meta App <file>#<component ID>"

    @property
    def label(self) -> str:
        """How a person names it: the name, else manufacturer and model."""
        named = " ".join(p for p in (self.manufacturer, self.model) if p)
        return self.name or named or self.schema_id.removesuffix(".json")


class HardwareObjective(Component):
    """An objective lens: magnification, NA, immersion, correction."""

    magnification: float | None = None
    na: float | None = None
    immersion: str = ""  # OME vocabulary when recognised, else as written
    correction: str = ""


class LightSource(Component):
    """A laser, LED, lamp…; the wavelengths it emits when stated (nm)."""

    kind: str = "light source"
    wavelengths_nm: tuple[float, ...] = ()


class OpticalFilter(Component):
    """An excitation or emission filter, a dichroic, a filter set."""

    kind: str = "filter"
    bands: tuple[Band, ...] = ()


class HardwareDetector(Component):
    """A camera or point detector."""

    kind: str = "detector"


class Hardware(FrozenModel):
    """One microscope as its Micro-Meta App file describes it."""

    name: str = ""
    manufacturer: str = ""
    model: str = ""
    stand: str = ""  # "inverted", "upright" (from the stand's schema), or ""
    objectives: tuple[HardwareObjective, ...] = ()
    light_sources: tuple[LightSource, ...] = ()
    filters: tuple[OpticalFilter, ...] = ()
    detectors: tuple[HardwareDetector, ...] = ()
    file_name: str = ""
    sha256: str = ""


# --------------------------------------------------------------------- reading


def _problem(path: Path, what: str) -> MicroscopeFileError:
    return MicroscopeFileError(
        _("not a Micro-Meta App microscope file: {what}.").format(what=what),
        fix=_(
            "Save the microscope from Micro-Meta App as JSON and point the "
            "template's micro_meta_app_json at that file."
        ),
        path=path,
    )


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, str | int | float) else ""


def _number(
    path: Path, where: str, key: str, value: Any, low: float, high: float
) -> float | None:
    """A number the file states (Micro-Meta App writes them as text), checked."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise _problem(
            path,
            _("{where}: {key} {value!r} is not a number").format(
                where=where, key=key, value=str(value)[:40]
            ),
        )
    if not low < number <= high:
        raise _problem(
            path,
            _("{where}: {key} {value:g} is outside {low:g}–{high:g}").format(
                where=where, key=key, value=number, low=low, high=high
            ),
        )
    return number


def _wavelength(
    path: Path, where: str, data: Mapping[str, Any], key: str, unit_key: str
) -> float | None:
    """A wavelength in nm, converted from the unit written beside it."""
    unit = _text(data.get(unit_key)) or "nm"
    factor = WAVELENGTH_UNITS.get(unit)
    if factor is None:
        raise _problem(
            path,
            _("{where}: {key} has the unit {unit!r} (nm expected)").format(
                where=where, key=unit_key, unit=unit
            ),
        )
    value = _number(path, where, key, data.get(key), 0, 3e6)
    if value is None:
        return None
    return _number(path, where, key, value * factor, 150, 3000)


def _immersion(value: Any) -> str:
    text = _text(value)
    return IMMERSIONS.get(text.lower().replace(" ", "").replace("-", ""), text)


def _numbered(data: Mapping[str, Any], prefix: str) -> list[Mapping[str, Any]]:
    """``Prefix_1``, ``Prefix_2``… sub-objects (LED modules, transmittance ranges)."""
    keys = [k for k in data if re.fullmatch(rf"{prefix}(_\d+)?", k)]
    keys.sort(key=lambda k: int(k.rpartition("_")[2]) if "_" in k else 0)
    return [data[k] for k in keys if isinstance(data[k], Mapping)]


def _common(data: Mapping[str, Any], schema_id: str, file_name: str) -> dict[str, str]:
    return {
        "schema_id": schema_id,
        "name": _text(data.get("Name")),
        "manufacturer": _text(data.get("Manufacturer")),
        "model": _text(data.get("Model")),
        "source": f"Micro-Meta App {file_name}#{_text(data.get('ID')) or schema_id}",
    }


def _objective(
    path: Path, data: Mapping[str, Any], schema_id: str, where: str
) -> HardwareObjective:
    magnification = data.get("NominalMagnification", data.get("Magnification"))
    immersion = data.get(
        "NominalImmersionMedium", data.get("ImmersionType", data.get("Immersion"))
    )
    return HardwareObjective(
        **_common(data, schema_id, path.name),
        magnification=_number(
            path, where, "NominalMagnification", magnification, 0, 250
        ),
        na=_number(path, where, "LensNA", data.get("LensNA"), 0, 1.7),
        immersion=_immersion(immersion),
        correction=_text(data.get("Correction")),
    )


def _light_source(
    path: Path, data: Mapping[str, Any], schema_id: str, where: str
) -> LightSource:
    wavelengths = [_wavelength(path, where, data, "Wavelength", "WavelengthUnit")]
    for module in _numbered(data, "LEDModule"):
        # "PeakWavelenght" is the schema's own spelling
        key = "PeakWavelenght" if "PeakWavelenght" in module else "PeakWavelength"
        wavelengths.append(_wavelength(path, where, module, key, key + "Unit"))
    return LightSource(
        **_common(data, schema_id, path.name),
        kind=LIGHT_SOURCES[schema_id],
        wavelengths_nm=tuple(w for w in wavelengths if w is not None),
    )


def _filter(
    path: Path, data: Mapping[str, Any], schema_id: str, where: str
) -> OpticalFilter:
    bands = []
    for band in _numbered(data, "TransmittanceRange"):
        cut_in = _wavelength(path, where, band, "CutIn", "CutInUnit")
        cut_out = _wavelength(path, where, band, "CutOut", "CutOutUnit")
        if cut_in is not None and cut_out is not None:
            bands.append(Band(cut_in_nm=cut_in, cut_out_nm=cut_out))
    return OpticalFilter(
        **_common(data, schema_id, path.name),
        kind=FILTERS[schema_id],
        bands=tuple(bands),
    )


def _detector(
    path: Path, data: Mapping[str, Any], schema_id: str, where: str
) -> HardwareDetector:
    return HardwareDetector(
        **_common(data, schema_id, path.name), kind=DETECTORS[schema_id]
    )


READERS: dict[str, Callable[[Path, Mapping[str, Any], str, str], Component]] = {
    **dict.fromkeys(OBJECTIVES, _objective),
    **dict.fromkeys(LIGHT_SOURCES, _light_source),
    **dict.fromkeys(FILTERS, _filter),
    **dict.fromkeys(DETECTORS, _detector),
}


def _components(path: Path, items: list[Any]) -> list[Component]:
    out: list[Component] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise _problem(path, _("component {n} is not an object").format(n=number))
        schema_id = _text(item.get("Schema_ID"))
        if not schema_id.endswith(".json"):
            raise _problem(
                path,
                _("component {n} has no Schema_ID (like Objective.json)").format(
                    n=number
                ),
            )
        reader = READERS.get(schema_id)
        if reader is not None:
            where = f"{schema_id} '{_text(item.get('Name')) or number}'"
            out.append(reader(path, item, schema_id, where))
    return out


def _load_json(path: Path) -> tuple[dict[str, Any], bytes]:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise MicroscopeFileError(
            _("cannot read the Micro-Meta App file ({error}).").format(
                error=err.strerror or err
            ),
            fix=_("Check the path of micro_meta_app_json in the facility template."),
            path=path,
        ) from err
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise _problem(
            path, _("not valid JSON ({error})").format(error=str(err)[:80])
        ) from None
    if not isinstance(data, dict):
        raise _problem(path, _("the file holds no JSON object"))
    return data, raw


def load_microscope(path: Path | str) -> Hardware:
    """The hardware a Micro-Meta App microscope file describes.

    Raises
    ------
    MicroscopeFileError
        Unreadable, not JSON, no ``components`` list, a component without a
        ``Schema_ID``, or an impossible value (naming the component and property).
    """
    path = Path(path)
    data, raw = _load_json(path)
    items = data.get("components")
    if not isinstance(items, list):
        raise _problem(path, _("it has no list of components"))
    stand = data.get("MicroscopeStand") or data.get("microscope") or {}
    if not isinstance(stand, Mapping):
        raise _problem(path, _("MicroscopeStand is not an object"))
    name = _text(data.get("Name")) or _text(stand.get("Name"))
    if not name:
        raise _problem(path, _("the microscope has no Name"))
    stand_schema = _text(stand.get("Schema_ID")).lower()
    components = _components(path, items)
    return Hardware(
        name=name,
        manufacturer=_text(stand.get("Manufacturer")),
        model=_text(stand.get("Model")),
        stand=next((s for s in ("inverted", "upright") if s in stand_schema), ""),
        objectives=tuple(c for c in components if isinstance(c, HardwareObjective)),
        light_sources=tuple(c for c in components if isinstance(c, LightSource)),
        filters=tuple(c for c in components if isinstance(c, OpticalFilter)),
        detectors=tuple(c for c in components if isinstance(c, HardwareDetector)),
        file_name=path.name,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


# ------------------------------------------------------------- use in the form


def matching_objective(
    hardware: Hardware, magnification: float | None
) -> HardwareObjective | None:
    """The objective the acquisition used: the one of its magnification, or the
    only one; None when that is ambiguous (never a guess among several)."""
    candidates = list(hardware.objectives)
    if magnification is not None:
        candidates = [o for o in candidates if o.magnification == magnification]
    return candidates[0] if len(candidates) == 1 else None


def hardware_form_values(
    hardware: Hardware,
    known: Mapping[str, Any],
    source: str,
) -> dict[str, tuple[Any, str]]:
    """Form values the hardware states that ``known`` lacks, each with its source.

    ``known`` maps form field paths to the values already there (the file's, the
    operator's); ``source`` is the template's provenance (``template:<file>``).
    """
    out: dict[str, tuple[Any, str]] = {}
    origin = f"{source} (Micro-Meta App {hardware.file_name})"

    def put(path: str, value: Any, where: str) -> None:
        if value not in (None, "") and known.get(path) in (None, "", ()):
            out[path] = (value, where)

    put("image_acquisition.instrument_manufacturer", hardware.manufacturer, origin)
    magnification = known.get("image_acquisition.objective_magnification")
    objective = matching_objective(
        hardware, float(magnification) if magnification is not None else None
    )
    if objective is not None:
        where = f"{source} ({objective.source})"
        put("image_acquisition.objective", objective.label, where)
        put("image_acquisition.objective_magnification", objective.magnification, where)
        put("image_acquisition.objective_na", objective.na, where)
        if objective.immersion in IMMERSIONS.values():
            put("image_acquisition.immersion", objective.immersion, where)
    return out
