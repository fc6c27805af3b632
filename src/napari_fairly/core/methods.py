"""A "Materials and methods" paragraph written from what the dataset records.

After the MethodsJ2 idea (Ryan et al. 2021, doi:10.1038/s41592-021-01290-5): the
acquisition metadata (effective values: the file's, corrected by the operator), the
form (instrument, imaging method) and the instrument's hardware description (its
Micro-Meta App file, through the facility template) give the sentences a methods
section needs: instrument, objective, wavelengths, exposure, light sources, filters,
detector, sampling, date, software and versions.

A value nobody recorded is never invented: it shows as a visible gap such as
``[objective NA: not recorded]``, for the author to fill. A value napari-fairly
inferred (not stated by the file) carries a dagger, and a closing sentence names
them. English and French come from the same sentences (the translation catalogues),
so both can be printed side by side.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from napari_fairly.core.i18n import N_, gettext_in, translator
from napari_fairly.core.model import Sourced, Status

if TYPE_CHECKING:
    from napari_fairly.core.form import FairForm
    from napari_fairly.core.metadata import AcquisitionMetadata, ChannelMetadata
    from napari_fairly.core.micrometa import Hardware, LightSource

INFERRED_MARK = "†"
LIGHT_MATCH_NM = 10.0  # a laser line or LED peak within this of the excitation
TRANSMITTED = ("brightfield", "bright-field", "dic", "phase", "transmitted")

# imaging methods (FBbi labels) and immersion media, as a methods section says them
METHOD_WORDS = {
    "fluorescence microscopy": N_("fluorescence microscopy"),
    "confocal microscopy": N_("confocal microscopy"),
    "spinning disk confocal microscopy": N_("spinning disk confocal microscopy"),
    "bright-field microscopy": N_("bright-field microscopy"),
    "light sheet fluorescence microscopy": N_("light sheet fluorescence microscopy"),
}
IMMERSION_WORDS = {
    "Oil": N_("oil"),
    "Water": N_("water"),
    "WaterDipping": N_("water-dipping"),
    "Glycerol": N_("glycerol"),
    "Silicone": N_("silicone"),
    "Air": N_("air"),
    "Multi": N_("multi-immersion"),
}


def format_number(value: float, language: str) -> str:
    """4 significant digits, numbers from 1000 rounded to units (65535, 55366),
    the language's decimal mark (0,13 in French)."""
    if abs(value) >= 1000 and abs(value) < 1e12:
        text = str(round(value))  # 55366, not 5.537e+04
    elif float(value).is_integer():
        text = str(int(value))
    else:
        text = f"{value:.4g}"
    return text.replace(".", ",") if language == "fr" else text


@dataclass(frozen=True)
class Piece:
    """A run of text; ``gap`` when it stands for a value nobody recorded."""

    text: str
    gap: bool = False


@dataclass
class _Writer:
    """Builds the paragraph in one language, remembering what was inferred."""

    language: str
    inferred: list[str] = field(default_factory=list)

    def t(self, message: str) -> str:
        return gettext_in(self.language, message)

    def gap(self, what: str) -> list[Piece]:
        text = gettext_in(self.language, "[{what}: not recorded]")
        return [Piece(text.format(what=self.t(what)), gap=True)]

    def number(self, value: float) -> str:
        return format_number(value, self.language)

    def value(
        self, sourced: Sourced[Any], what: str, shown: str | None = None
    ) -> list[Piece]:
        """The value (a dagger when inferred), else the gap naming ``what``."""
        if sourced.value is None:
            return self.gap(what)
        text = shown if shown is not None else self._shown(sourced.value)
        if sourced.status is Status.INFERRED:
            self.inferred.append(self.t(what))
            text += INFERRED_MARK
        return [Piece(text)]

    def _shown(self, value: Any) -> str:
        return self.number(value) if isinstance(value, float) else str(value)

    def text(self, value: str | None, what: str) -> list[Piece]:
        return [Piece(value)] if value else self.gap(what)

    def sentence(self, template: str, **parts: list[Piece] | str) -> list[Piece]:
        """``template`` (translated) with each ``{name}`` replaced by its pieces."""
        out: list[Piece] = []
        for literal, name, _spec, _conv in string.Formatter().parse(self.t(template)):
            if literal:
                out.append(Piece(literal))
            if name is not None:
                part = parts[name]
                out += [Piece(part)] if isinstance(part, str) else part
        out.append(Piece(" "))
        return out


def _joined(writer: _Writer, items: Sequence[list[Piece]]) -> list[Piece]:
    """Pieces joined with commas (``et``/``and`` before the last)."""
    out: list[Piece] = []
    for i, item in enumerate(items):
        if i:
            last = i == len(items) - 1
            out.append(Piece(writer.t(N_(" and ")) if last else ", "))
        out += item
    return out


def _sourced(value: Any, source: str) -> Sourced[Any]:
    """A form value as a Sourced one (the form states it; empty: missing)."""
    if value in (None, ""):
        return Sourced()
    return Sourced(value=value, status=Status.OPERATOR, source=source)


def _form_or_file(
    form: FairForm | None, path: str, from_file: Sourced[Any]
) -> Sourced[Any]:
    """The form's value of ``path``; the file's own (with its status: inferred or
    stated) when the form took it from the file or has none."""
    if form is None:
        return from_file
    source = form.sources.get(path, "")
    module, _, name = path.partition(".")
    value = getattr(getattr(form, module), name)
    if source.startswith("file") or value in (None, ""):
        return from_file if from_file.value is not None else _sourced(value, source)
    return _sourced(value, source)


# ------------------------------------------------------------------- sentences


def _instrument(
    writer: _Writer, metadata: AcquisitionMetadata, form: FairForm | None
) -> list[Piece]:
    method = form.study_component.imaging_method.label if form is not None else ""
    instrument = _form_or_file(
        form, "image_acquisition.instrument", metadata.microscope
    )
    maker = _form_or_file(
        form,
        "image_acquisition.instrument_manufacturer",
        metadata.instrument_manufacturer,
    )
    return writer.sentence(
        N_("Images were acquired by {method} with the {instrument} ({manufacturer})."),
        method=(
            writer.text(writer.t(METHOD_WORDS.get(method, method)), N_("method"))
            if method
            else writer.gap(N_("method"))
        ),
        instrument=writer.value(instrument, N_("instrument")),
        manufacturer=writer.value(maker, N_("instrument manufacturer")),
    )


def _objective(
    writer: _Writer, metadata: AcquisitionMetadata, form: FairForm | None
) -> list[Piece]:
    objective = metadata.objective
    model_value = _form_or_file(form, "image_acquisition.objective", objective.model)
    immersion = objective.immersion
    shown = writer.t(IMMERSION_WORDS.get(str(immersion.value), str(immersion.value)))
    return writer.sentence(
        N_(
            "Objective: {objective} ({magnification}×, NA {na}, {immersion} immersion)."
        ),
        objective=writer.value(model_value, N_("objective model")),
        magnification=writer.value(objective.magnification, N_("magnification")),
        na=writer.value(objective.na, N_("objective NA")),
        immersion=writer.value(immersion, N_("immersion medium"), shown),
    )


def _exposure(writer: _Writer, exposure: Sourced[float]) -> list[Piece]:
    value = exposure.value
    if value is None:
        return writer.value(exposure, N_("exposure"))
    shown = (
        f"{writer.number(value * 1000)} ms"
        if value < 1
        else f"{writer.number(value)} s"
    )
    return writer.value(exposure, N_("exposure"), shown)


def _nm(writer: _Writer, value: Sourced[float], what: str) -> list[Piece]:
    if value.value is None:
        return writer.value(value, what)
    return writer.value(value, what, f"{writer.number(value.value)} nm")


def _is_transmitted(channel: ChannelMetadata) -> bool:
    words = f"{channel.contrast_method.value or ''} {channel.illumination.value or ''}"
    return any(w in words.lower() for w in TRANSMITTED)


def _channel(
    writer: _Writer, channel: ChannelMetadata, rgb: bool = False
) -> list[Piece]:
    name = channel.name.value or channel.fluorophore.value
    fluor = channel.fluorophore.value
    label = (
        f"{name} ({fluor})"
        if fluor and name and fluor != name
        else name or writer.t(N_("channel {n}")).format(n=channel.index + 1)
    )
    if rgb:
        label += " (RGB)"
    if _is_transmitted(channel):
        return writer.sentence(
            N_("{channel} (transmitted light, exposure {exposure})"),
            channel=label,
            exposure=_exposure(writer, channel.exposure_s),
        )[:-1]
    return writer.sentence(
        N_("{channel} (excitation {ex}, emission {em}, exposure {exposure})"),
        channel=label,
        ex=_nm(writer, channel.excitation_wavelength_nm, N_("excitation wavelength")),
        em=_nm(writer, channel.emission_wavelength_nm, N_("emission wavelength")),
        exposure=_exposure(writer, channel.exposure_s),
    )[:-1]


def _channels(writer: _Writer, metadata: AcquisitionMetadata) -> list[Piece]:
    channels = metadata.channels
    if not channels:
        return []
    template = translator(writer.language).ngettext(
        "One channel was recorded: {channels}.",
        "{n} channels were recorded: {channels}.",
        len(channels),
    )
    rgb = metadata.shape.get("S", 1) > 1  # colour samples of one channel
    listed = _joined(writer, [_channel(writer, c, rgb) for c in channels])
    out: list[Piece] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out += [Piece(literal)] if literal else []
        if name == "n":
            out.append(Piece(str(len(channels))))
        elif name == "channels":
            out += listed
    return [*out, Piece(" ")]


def _light_sources(
    writer: _Writer, metadata: AcquisitionMetadata, hardware: Hardware | None
) -> list[list[Piece]]:
    """The instrument's light sources the channels used: a laser line or LED peak
    within 10 nm of a channel's excitation, or the only light source there is."""
    if hardware is None or not hardware.light_sources:
        return []
    sources = hardware.light_sources
    if len(sources) == 1:
        return [[Piece(_hardware_label(writer, sources[0]))]]
    used = []
    for channel in metadata.channels:
        ex = channel.excitation_wavelength_nm.value
        for source in sources:
            close = ex is not None and any(
                abs(w - ex) <= LIGHT_MATCH_NM for w in source.wavelengths_nm
            )
            if close and source not in used:
                used.append(source)
    return [[Piece(_hardware_label(writer, s))] for s in used]


def _filters(
    metadata: AcquisitionMetadata, hardware: Hardware | None
) -> list[list[Piece]]:
    """Emission filters (or filter sets) whose band holds a channel's emission."""
    if hardware is None:
        return []
    emission = [
        f for f in hardware.filters if f.kind in ("emission filter", "filter set")
    ]
    if len(emission) == 1:
        return [[Piece(emission[0].label)]]
    used = []
    for channel in metadata.channels:
        em = channel.emission_wavelength_nm.value
        for item in emission:
            inside = em is not None and any(
                b.cut_in_nm <= em <= b.cut_out_nm for b in item.bands
            )
            if inside and item not in used:
                used.append(item)
    return [[Piece(f.label)] for f in used]


def _detectors(
    writer: _Writer, metadata: AcquisitionMetadata, hardware: Hardware | None
) -> list[list[Piece]]:
    """The file's detectors (model, type), else the instrument's only detector."""
    named = []
    for channel in metadata.channels:
        detector = channel.detector
        parts = [str(v) for v in (detector.model.value, detector.type.value) if v]
        text = " ".join(parts)
        if text and text not in named:
            named.append(text)
    if not named and hardware is not None and len(hardware.detectors) == 1:
        only = hardware.detectors[0]
        named.append(f"{only.label} ({writer.t(only.kind)})")
    return [[Piece(n)] for n in named]


def _hardware_label(writer: _Writer, source: LightSource) -> str:
    lines = "/".join(writer.number(w) for w in source.wavelengths_nm)
    kind = writer.t(source.kind)
    described = (
        writer.t(N_("{wavelengths} nm {kind}")).format(wavelengths=lines, kind=kind)
        if lines
        else kind
    )
    return f"{described} ({source.label})"


def _light_path(
    writer: _Writer, metadata: AcquisitionMetadata, hardware: Hardware | None
) -> list[Piece]:
    light = _light_sources(writer, metadata, hardware)
    filters = _filters(metadata, hardware)
    detectors = _detectors(writer, metadata, hardware)
    return writer.sentence(
        N_("Illumination: {light}; emission filters: {filters}; detector: {detector}."),
        light=_joined(writer, light) if light else writer.gap(N_("light source")),
        filters=_joined(writer, filters) if filters else writer.gap(N_("filters")),
        detector=(
            _joined(writer, detectors) if detectors else writer.gap(N_("detector"))
        ),
    )


def _sampling(writer: _Writer, metadata: AcquisitionMetadata) -> list[Piece]:
    shape = metadata.shape
    px, py = metadata.pixel_size_x_um, metadata.pixel_size_y_um
    out = writer.sentence(
        N_("Images are {x} × {y} pixels of {px} × {py} µm."),
        x=str(shape.get("X", "?")),
        y=str(shape.get("Y", "?")),
        px=writer.value(px, N_("pixel size")),
        py=writer.value(py, N_("pixel size")),
    )
    if shape.get("Z", 1) > 1:
        dz = metadata.pixel_size_z_um
        out += writer.sentence(
            N_("Z-stacks have {n} planes {dz} µm apart."),
            n=str(shape["Z"]),
            dz=writer.value(dz, N_("z-step")),
        )
    if shape.get("T", 1) > 1:
        dt = metadata.time_increment_s
        out += writer.sentence(
            N_("Time-lapses have {n} time points {dt} s apart."),
            n=str(shape["T"]),
            dt=writer.value(dt, N_("time interval")),
        )
    bits = metadata.significant_bits
    out += writer.sentence(
        N_("Pixel values are {dtype}; significant bits: {bits}."),
        dtype=metadata.dtype or "?",
        bits=writer.value(bits, N_("significant bits")),
    )
    return out


def _date(
    writer: _Writer, metadata: AcquisitionMetadata, form: FairForm | None
) -> list[Piece]:
    date = metadata.acquisition_date
    if date.value is None and form is not None:
        date = _sourced(form.image_acquisition.acquisition_datetime, "form")
    shown = str(date.value)[:10] if date.value is not None else None
    return writer.sentence(
        N_("The acquisition is dated {date}."),
        date=writer.value(date, N_("acquisition date"), shown),
    )


def _software(
    writer: _Writer,
    metadata: AcquisitionMetadata,
    software: Mapping[str, str],
    ngff_version: str | None,
) -> list[Piece]:
    def version(package: str) -> list[Piece]:
        return writer.text(software.get(package, ""), package)

    return writer.sentence(
        N_(
            "The raw file ({format}, read with {reader}) was converted without loss "
            "to OME-Zarr (OME-NGFF {ngff}) with napari-fairly {version} (Python "
            "{python}, bioio {bioio}, zarr {zarr}), which also checked the sampling "
            "(Nyquist), the signal-to-noise ratio and the saturation."
        ),
        format=metadata.format,
        reader=metadata.reader.split(" (")[0],
        ngff=writer.text(ngff_version, N_("OME-NGFF version")),
        version=version("napari-fairly"),
        python=version("python"),
        bioio=version("bioio"),
        zarr=version("zarr"),
    )


def _inferred_note(writer: _Writer) -> list[Piece]:
    if not writer.inferred:
        return []
    unique = list(dict.fromkeys(writer.inferred))
    return writer.sentence(
        N_("{mark} Inferred by napari-fairly, not stated in the file: {values}."),
        mark=INFERRED_MARK,
        values=", ".join(unique),
    )


# --------------------------------------------------------------------- the text


def methods_pieces(
    metadata: AcquisitionMetadata,
    form: FairForm | None,
    software: Mapping[str, str],
    language: str,
    ngff_version: str | None = None,
) -> list[Piece]:
    """The paragraph in ``language`` (``"en"``, ``"fr"``), gaps marked as such."""
    writer = _Writer(language)
    hardware = form.hardware if form is not None else None
    pieces = [
        *_instrument(writer, metadata, form),
        *_objective(writer, metadata, form),
        *_channels(writer, metadata),
        *_light_path(writer, metadata, hardware),
        *_sampling(writer, metadata),
        *_date(writer, metadata, form),
        *_software(writer, metadata, software, ngff_version),
    ]
    pieces += _inferred_note(writer)
    return _merged(pieces)


def _merged(pieces: Iterable[Piece]) -> list[Piece]:
    """Adjacent text runs joined; the trailing space dropped."""
    out: list[Piece] = []
    for piece in pieces:
        if out and not piece.gap and not out[-1].gap:
            out[-1] = Piece(out[-1].text + piece.text)
        else:
            out.append(piece)
    if out and not out[-1].gap:
        out[-1] = Piece(out[-1].text.rstrip())
    return out


def methods_text(
    metadata: AcquisitionMetadata,
    form: FairForm | None,
    software: Mapping[str, str],
    language: str,
    ngff_version: str | None = None,
) -> str:
    """The paragraph as plain text, gaps in square brackets."""
    pieces = methods_pieces(metadata, form, software, language, ngff_version)
    return "".join(p.text for p in pieces)
