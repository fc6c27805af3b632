"""The dataset report as one self-contained HTML page (images inlined).

Every text is in the report's language (the catalogues), every value comes from the
dataset (sidecar, OME-Zarr), and nothing depends on when or where the page is made:
the same dataset gives the same bytes. No script, no external resource: the page
opens offline in any browser and prints well.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from napari_fairly.core.i18n import LANGUAGES, N_, gettext_in, texts_in
from napari_fairly.core.methods import Piece, format_number, methods_pieces
from napari_fairly.core.model import Sourced, Status
from napari_fairly.core.report.images import ChannelView, ImageViews
from napari_fairly.core.report.inputs import DatasetFacts

# the checks' codes as people name them
CHECK_LABELS = {
    "nyquist_x": N_("Nyquist sampling, X"),
    "nyquist_y": N_("Nyquist sampling, Y"),
    "nyquist_z": N_("Nyquist sampling, Z"),
    "oversampling": N_("Oversampling"),
    "snr": N_("Signal-to-noise ratio"),
    "cnr": N_("Contrast-to-noise ratio"),
    "snr_poisson": N_("Photon-limited SNR"),
    "saturation": N_("Saturation"),
    "zero_clipping": N_("Clipping at zero"),
    "pileup": N_("Pile-up"),
    "dynamic_range": N_("Dynamic range used"),
    "na_vs_immersion": N_("NA and immersion"),
    "immersion_vs_ri": N_("Immersion and mounting medium"),
    "stokes_shift": N_("Stokes shift"),
    "pixel_size_magnification": N_("Pixel size and magnification"),
    "camera_sampling": N_("Camera sampling"),
    "uncalibrated_pixels": N_("Calibrated pixels"),
    "z_step": N_("Z-step"),
    "acquisition_date": N_("Acquisition date"),
    "channel_count": N_("Channel count"),
    "bit_depth": N_("Bit depth"),
}
SEVERITY_WORDS = {
    "ok": N_("pass"),
    "info": N_("info"),
    "not_checked": N_("not checked"),
    "warning": N_("warning"),
    "error": N_("fail"),
}
SEVERITY_RANK = {"ok": 0, "info": 1, "not_checked": 2, "warning": 3, "error": 4}
STATUS_WORDS = {
    "present": N_("from the file"),
    "inferred": N_("inferred"),
    "operator": N_("operator"),
    "missing": N_("not recorded"),
    "invalid": N_("invalid in the file"),
}
OTHER_LANGUAGE_TITLE = {"en": "English version", "fr": "Version française"}

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 margin:0 auto;max-width:1100px;padding:1.5rem;color:#1d1d1f;background:#fff}
h1{font-size:1.45rem;margin:.2rem 0 .6rem;word-break:break-all}
h2{font-size:1.15rem;margin:2rem 0 .6rem;border-bottom:1px solid #ddd;
 padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:left;
 vertical-align:top}
th{background:#f4f4f6}
td.hash,code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem}
td.hash{word-break:break-all}td:first-child code{white-space:nowrap}
.facts td:first-child{width:14rem;color:#555}
.light{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;
 margin-right:.35rem;vertical-align:-.05rem;border:1px solid #0003}
.ok{background:#2e9d43}.info{background:#3b7dd8}.not_checked{background:#9a9a9a}
.warning{background:#f0a202}.error{background:#d1302f}
.images{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0;max-width:260px}
figure img{width:256px;height:auto;image-rendering:pixelated;background:#000;
 display:block}
figcaption{font-size:.8rem;color:#444;margin-top:.25rem}
.histograms{display:flex;flex-wrap:wrap;gap:1rem}
.histograms figure{max-width:340px}
svg{display:block;background:#fafafa;border:1px solid #ddd}
.methods{background:#f7f7fa;padding:.8rem 1rem;border-left:4px solid #6b6bd6}
mark.gap{background:#ffe08a;padding:0 .15rem}
.missing{color:#a33}
footer{margin-top:2.5rem;font-size:.8rem;color:#666}
@media print{body{max-width:none}h2{break-after:avoid}figure{break-inside:avoid}}
"""


def esc(value: Any) -> str:
    """Text made safe for HTML (quotes too, for attributes)."""
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class _Page:
    """Writes one report in one language."""

    facts: DatasetFacts
    views: ImageViews
    language: str

    def t(self, message: str) -> str:
        return gettext_in(self.language, message)

    def number(self, value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        if isinstance(value, float) and not math.isfinite(value):
            return "—"
        return format_number(value, self.language)

    def light(self, severity: str) -> str:
        word = self.t(SEVERITY_WORDS.get(severity, severity))
        css = severity if severity in SEVERITY_WORDS else "not_checked"
        return f'<span class="light {css}" aria-hidden="true"></span>{esc(word)}'


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """A table; cells are HTML already (escape text before)."""
    cls = f' class="{css}"' if css else ""
    header = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table{cls}><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _section(title: str, *parts: str) -> str:
    """A titled section; ``title`` is text, ``parts`` are HTML."""
    return f"<section><h2>{esc(title)}</h2>{''.join(parts)}</section>"


def _png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


# ------------------------------------------------------------------- sections


def _header(page: _Page) -> str:
    facts, _ = page.facts, page.t
    sidecar = facts.sidecar
    qc = sidecar.qc
    worst = str(qc.get("worst_severity", "not_checked"))
    accepted = sidecar.qc_acceptance
    acceptance = (
        esc(
            _("failed checks accepted by {who} on {when}: {checks}").format(
                who=accepted.by, when=accepted.at, checks=", ".join(accepted.checks)
            )
        )
        if accepted is not None
        else ""
    )
    source = sidecar.source
    rows = [
        (_("Saved"), esc(sidecar.timestamps.saved)),
        (_("Raw file"), esc(source.file_name)),
        (_("Raw file sha256"), f"<code>{esc(source.sha256)}</code>"),
        (_("Scene"), esc(f"{source.scene + 1} / {source.scene_count}")),
        (_("Format and reader"), esc(f"{source.format}, {source.reader}")),
        (_("Operator"), esc(sidecar.operator.name) or "—"),
        (
            _("Quality checks"),
            page.light(worst) + (f" — {acceptance}" if acceptance else ""),
        ),
    ]
    table = _table(
        (_("Dataset"), esc(facts.name)), [(esc(k), v) for k, v in rows], "facts"
    )
    title = esc(_("Dataset report"))
    return f"<header><p>{title}</p><h1>{esc(facts.name)}</h1>{table}</header>"


def _figure(uri: str, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="{uri}" alt="{esc(alt)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _images(page: _Page) -> str:
    views, _ = page.views, page.t
    how = _(
        "Maximum-intensity projection over {planes} z-plane(s) of pyramid level "
        "{level} ({width} × {height} px), time point 1 of {times}, with the "
        "display window the OME-Zarr records."
    ).format(
        planes=views.size_z,
        level=views.level,
        width=views.size_yx[1],
        height=views.size_yx[0],
        times=views.size_t,
    )
    figures = []
    if views.composite is not None:
        figures.append(
            _figure(_png_uri(views.composite), _("Composite"), esc(_("Composite")))
        )
    for view in views.channels:
        caption = esc(
            _("Channel {n}: {label} (window {start}–{end})").format(
                n=view.index + 1,
                label=view.label,
                start=page.number(view.window[0]),
                end=page.number(view.window[1]),
            )
        )
        figures.append(_figure(_png_uri(view.png), view.label, caption))
    return _section(
        _("Images"),
        f"<p>{esc(how)}</p>",
        f'<div class="images">{"".join(figures)}</div>',
    )


def _saturation(page: _Page, channel: int) -> Mapping[str, Any]:
    for entry in page.facts.qc_records("saturation"):
        if entry.get("channel") == channel:
            return entry
    return {}


def _histogram_svg(page: _Page, view: ChannelView, p999: Any) -> str:
    """Counts on a log scale, the ceiling at the right edge, p99.9 dashed."""
    width, height = 320, 110
    peak = math.log10(1 + max(view.counts)) or 1.0
    step = width / len(view.counts)
    bars = "".join(
        f"M{i * step:.2f} {height}V{height - height * math.log10(1 + n) / peak:.2f}"
        f"h{step:.2f}V{height}Z"
        for i, n in enumerate(view.counts)
        if n
    )
    colour = view.colour if view.colour.upper() != "FFFFFF" else "555555"
    marks = [
        f'<line x1="{width - 1}" y1="0" x2="{width - 1}" y2="{height}" '
        'stroke="#d1302f" stroke-width="2"/>'
    ]
    if isinstance(p999, int | float) and view.high > view.low:
        x = (float(p999) - view.low) / (view.high - view.low) * width
        marks.append(
            f'<line x1="{x:.2f}" y1="0" x2="{x:.2f}" y2="{height}" '
            'stroke="#333" stroke-dasharray="3 3"/>'
        )
    title = esc(page.t(N_("Histogram of channel {n}")).format(n=view.index + 1))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<path d="{bars}" fill="#{esc(colour)}"/>{"".join(marks)}</svg>'
    )


def _histograms(page: _Page) -> str:
    _ = page.t
    figures = []
    for view in page.views.channels:
        saturation = _saturation(page, view.index)
        fraction = saturation.get("frac_ceiling")
        caption = _(
            "Channel {n}: {low} to the saturation ceiling {ceiling} (red line, "
            "source: {source}); dashed: 99.9th percentile {p999}; at the ceiling "
            "(all pixels, full resolution): {fraction} %."
        ).format(
            n=view.index + 1,
            low=page.number(view.low),
            ceiling=page.number(view.high),
            source=saturation.get("ceiling_source", "—"),
            p999=page.number(saturation.get("p99_9_adu")),
            fraction=page.number(
                100 * fraction if isinstance(fraction, int | float) else None
            ),
        )
        svg = _histogram_svg(page, view, saturation.get("p99_9_adu"))
        figures.append(f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>")
    note = _(
        "Pixel values of the planes shown above, counted in {bins} bins on a "
        "logarithmic scale."
    ).format(bins=len(page.views.channels[0].counts) if page.views.channels else 0)
    return _section(
        _("Histograms"),
        f"<p>{esc(note)}</p>",
        f'<div class="histograms">{"".join(figures)}</div>',
    )


def _qc_rows(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Rows about whole channels; per-plane checks with no such row (SNR) as their
    worst plane."""
    summary = [r for r in rows if r.get("z") is None]
    covered = {(r.get("check"), r.get("channel")) for r in summary}
    worst: dict[tuple[Any, Any], Mapping[str, Any]] = {}
    for row in rows:
        key = (row.get("check"), row.get("channel"))
        if row.get("z") is None or key in covered:
            continue
        rank = SEVERITY_RANK.get(str(row.get("severity")), 0)
        if key not in worst or rank > SEVERITY_RANK.get(
            str(worst[key].get("severity")), 0
        ):
            worst[key] = row
    return summary + list(worst.values())


def _quality(page: _Page) -> str:
    _ = page.t
    rows = page.facts.qc_records("rows")
    cells = []
    for row in _qc_rows(rows):
        check = str(row.get("check"))
        channel = row.get("channel")
        plane = f" (z = {row['z']})" if row.get("z") is not None else ""
        cells.append(
            (
                esc(_(CHECK_LABELS.get(check, check))),
                esc("—" if channel is None else int(channel) + 1) + esc(plane),
                esc(page.number(row.get("value")))
                + (
                    f" {esc(row['unit'])}" if row.get("unit") not in (None, "1") else ""
                ),
                esc(page.number(row.get("threshold"))),
                page.light(str(row.get("severity"))),
                esc(row.get("message", "")),
            )
        )
    head = [
        _("Check"),
        _("Channel"),
        _("Value"),
        _("Threshold or ideal"),
        _("Verdict"),
        _("Finding"),
    ]
    body = (
        _table([esc(h) for h in head], cells)
        if cells
        else "<p>" + esc(_("The quality checks did not run.")) + "</p>"
    )
    return _section(_("Quality checks"), body)


def _nyquist(page: _Page) -> str:
    _ = page.t
    cells = []
    for channel in page.facts.qc_records("nyquist"):
        axes = channel.get("axes")
        for axis in axes if isinstance(axes, list) else []:
            cells.append(
                (
                    esc(int(channel.get("channel", 0)) + 1),
                    esc(channel.get("modality") or "—"),
                    esc(str(axis.get("axis", "")).upper()),
                    esc(page.number(axis.get("actual_nm"))),
                    esc(page.number(axis.get("nyquist_nm"))),
                    esc(page.number(axis.get("ratio"))),
                    page.light(str(axis.get("severity"))),
                    esc(axis.get("message", "")),
                )
            )
    head = [
        _("Channel"),
        _("Modality"),
        _("Axis"),
        _("Actual (nm)"),
        _("Ideal, Nyquist (nm)"),
        _("Actual / ideal"),
        _("Verdict"),
        _("Finding"),
    ]
    intro = _(
        "The largest pixel size (or z-step) that keeps all the detail the optics "
        "transmit, against the one used."
    )
    body = _table([esc(h) for h in head], cells) if cells else ""
    return _section(_("Sampling (Nyquist)"), f"<p>{esc(intro)}</p>", body)


def _pieces_html(pieces: Sequence[Piece]) -> str:
    return "".join(
        f'<mark class="gap">{esc(p.text)}</mark>' if p.gap else esc(p.text)
        for p in pieces
    )


def _methods(page: _Page) -> str:
    facts, _ = page.facts, page.t
    sidecar = facts.sidecar

    def paragraph(language: str) -> str:
        pieces = methods_pieces(
            facts.metadata,
            facts.form,
            sidecar.software,
            language,
            facts.image.ngff_version,
        )
        return f'<p class="methods" lang="{language}">{_pieces_html(pieces)}</p>'

    others = "".join(
        f"<details><summary>{esc(OTHER_LANGUAGE_TITLE[lang])}</summary>"
        f"{paragraph(lang)}</details>"
        for lang in LANGUAGES
        if lang != page.language
    )
    intro = _(
        "Written from the recorded metadata; highlighted brackets are values "
        "nobody recorded: fill them in, never guess them."
    )
    return _section(
        _("Materials and methods"),
        f"<p>{esc(intro)}</p>",
        paragraph(page.language),
        others,
    )


def _sourced_text(page: _Page, item: Sourced[Any]) -> str:
    if item.status in (Status.MISSING, Status.INVALID):
        raw = f" ({item.raw})" if item.raw else ""
        return f'<span class="missing">{esc(page.t(N_("not recorded")) + raw)}</span>'
    unit = f" {item.unit}" if item.unit else ""
    return esc(page.number(item.value) + unit)


def _metadata(page: _Page) -> str:
    _ = page.t
    metadata = page.facts.metadata
    shape = " × ".join(f"{k} {v}" for k, v in metadata.shape.items())
    cells = [
        (esc(_("Dimensions")), esc(shape), "", ""),
        (esc(_("Pixel type")), esc(metadata.dtype), "", ""),
    ]
    for field, item in metadata.sourced_fields().items():
        if item.status is Status.MISSING and item.reason == "not_applicable":
            continue
        status = item.status.value
        cells.append(
            (
                f"<code>{esc(field)}</code>",
                _sourced_text(page, item),
                esc(_(STATUS_WORDS.get(status, status))),
                esc(item.source),
            )
        )
    head = [_("Field"), _("Value"), _("Status"), _("Source")]
    return _section(_("Acquisition metadata"), _table([esc(h) for h in head], cells))


def _form(page: _Page) -> str:
    from napari_fairly.core.form import MODULES, field_label, form_to_csv_rows

    _ = page.t
    form = page.facts.form
    if form is None:
        return ""
    cells = []
    for path, value, source in form_to_csv_rows(form):
        head = path.split("[")[0].split(".")
        if head[0] not in (*MODULES, "operator"):
            continue
        shown = PurePath(value).name if path == "image_data.source_file" else value
        label = _(field_label(".".join(head[:2])))
        cells.append((esc(label), f"<code>{esc(path)}</code>", esc(shown), esc(source)))
    head_row = [_("Field"), _("Path"), _("Value"), _("Source")]
    return _section(_("FAIR form"), _table([esc(h) for h in head_row], cells))


def _hardware(page: _Page) -> str:
    _ = page.t
    form = page.facts.form
    hardware = form.hardware if form is not None else None
    if hardware is None:
        return ""
    cells = []
    parts: list[tuple[str, Sequence[Any]]] = [
        (N_("Objective"), hardware.objectives),
        (N_("Light source"), hardware.light_sources),
        (N_("Filter"), hardware.filters),
        (N_("Detector"), hardware.detectors),
    ]
    for kind, items in parts:
        for item in items:
            cells.append(
                (
                    esc(_(kind)),
                    esc(item.label),
                    esc(_hardware_details(page, item)),
                    esc(item.source),
                )
            )
    intro = _(
        "{name} ({manufacturer} {model}), from the Micro-Meta App file {file} "
        "(sha256 {sha256})."
    ).format(
        name=hardware.name,
        manufacturer=hardware.manufacturer,
        model=hardware.model,
        file=hardware.file_name,
        sha256=hardware.sha256,
    )
    head = [_("Component"), _("Name"), _("Details"), _("Source")]
    return _section(
        _("Instrument hardware"),
        f"<p>{esc(intro)}</p>",
        _table([esc(h) for h in head], cells),
    )


def _hardware_details(page: _Page, item: Any) -> str:
    bits: list[str] = []
    if getattr(item, "magnification", None) is not None:
        bits.append(f"{page.number(item.magnification)}×")
    if getattr(item, "na", None) is not None:
        bits.append(page.t(N_("NA")) + " " + page.number(item.na))
    for name in ("immersion", "correction", "kind"):
        value = getattr(item, name, "")
        if value:
            bits.append(page.t(value))
    wavelengths = getattr(item, "wavelengths_nm", ())
    if wavelengths:
        bits.append("/".join(page.number(w) for w in wavelengths) + " nm")
    for band in getattr(item, "bands", ()):
        bits.append(f"{page.number(band.cut_in_nm)}–{page.number(band.cut_out_nm)} nm")
    return ", ".join(bits)


def _checksums(page: _Page) -> str:
    _ = page.t
    cells = [(f"<code>{esc(p)}</code>", esc(h)) for p, h in page.facts.checksums]
    image = page.facts.image
    intro = _(
        "sha256 of the files written before this report. The OME-Zarr's {files} "
        "files are listed in {manifest}; every file of the dataset, this report "
        "included, is in {checksums}."
    ).format(
        files=image.files,
        manifest=f"{image.path}.sha256",
        checksums=f"{page.facts.name}.sha256",
    )
    body = "".join(f'<tr><td>{p}</td><td class="hash">{h}</td></tr>' for p, h in cells)
    file_word = esc(_("File"))
    return _section(
        _("Checksums"),
        f"<p>{esc(intro)}</p>",
        f"<table><thead><tr><th>{file_word}</th><th>sha256</th></tr></thead>"
        f"<tbody>{body}</tbody></table>",
    )


def _footer(page: _Page) -> str:
    version = page.facts.sidecar.software.get("napari-fairly", "?")
    text = page.t(
        N_(
            "Written by napari-fairly {version} from this dataset's sidecar and "
            "OME-Zarr; `fairly report {folder}` writes it again, identical. 3-2-1: "
            "this folder is one copy; keep 3 copies on 2 different media, 1 "
            "off-site."
        )
    ).format(version=version, folder=page.facts.name)
    return f"<footer><p>{esc(text)}</p></footer>"


def render(facts: DatasetFacts, views: ImageViews, language: str) -> str:
    """The whole page in ``language`` (plain words and labels too: every ``_()``
    answers in it while the page is written)."""
    with texts_in(language):
        return _render(facts, views, language)


def _render(facts: DatasetFacts, views: ImageViews, language: str) -> str:
    page = _Page(facts, views, language)
    title = esc(page.t(N_("Dataset report")) + " — " + facts.name)
    sections = [
        _header(page),
        _images(page),
        _histograms(page),
        _quality(page),
        _nyquist(page),
        _methods(page),
        _hardware(page),
        _metadata(page),
        _form(page),
        _checksums(page),
        _footer(page),
    ]
    return (
        f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(s for s in sections if s)
        + "\n</body>\n</html>\n"
    )
