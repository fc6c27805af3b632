"""The dataset report ``<name>_report.html``: a dataset that explains itself.

One self-contained page a colleague, a reviewer or a trainee can read at a glance:
thumbnails and a composite, histograms with the saturation ceiling, the quality
checks with traffic lights, Nyquist ideal against actual, the methods paragraph (in
English and French), the instrument's hardware, the metadata with its sources, the
form and the checksums.

The save writes it right after the sidecar (:func:`report_html` on the temporary
folder); ``fairly report DIR`` writes it again from the dataset alone
(:func:`regenerate`). It holds no time but the save's own and no path outside the
dataset, so both give the same bytes and the sha256 the save recorded still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from napari_fairly.core.export.plan import report_name
from napari_fairly.core.i18n import LANGUAGES, current_language
from napari_fairly.core.report.images import image_views
from napari_fairly.core.report.inputs import DatasetFacts, load_dataset
from napari_fairly.core.report.page import render

__all__ = [
    "DatasetFacts",
    "Regenerated",
    "load_dataset",
    "regenerate",
    "report_html",
    "report_name",
]


def _ceilings(facts: DatasetFacts) -> list[float | None]:
    """The saturation ceiling the checks used, per channel (None when unknown)."""
    size_c = facts.image.shape_tczyx[1]
    out: list[float | None] = [None] * size_c
    for entry in facts.qc_records("saturation"):
        channel, ceiling = entry.get("channel"), entry.get("ceiling")
        if not isinstance(ceiling, int | float) or not isinstance(channel, int):
            continue
        if 0 <= channel < size_c:
            out[channel] = float(ceiling)
    return out


def report_html(
    folder: Path, name: str | None = None, language: str | None = None
) -> str:
    """The report of the dataset in ``folder``, in ``language`` (default: the
    current one).

    Raises
    ------
    UnreadableFileError
        When the folder holds no readable sidecar or OME-Zarr.
    """
    facts = load_dataset(folder, name)
    views = image_views(facts.zarr_path, facts.image.ngff_version, _ceilings(facts))
    return render(facts, views, language or current_language())


@dataclass(frozen=True)
class Regenerated:
    """A report made again: its text, language, and whether it is the one saved."""

    text: str
    language: str
    recorded_sha256: str | None  # what <name>.sha256 says, None when it lists none

    @property
    def matches(self) -> bool:
        """True when the text has the sha256 the save recorded."""
        import hashlib

        digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        return digest == self.recorded_sha256


def _recorded(folder: Path, name: str) -> str | None:
    from napari_fairly.core.export.verify import parse_sha256sum

    checksums = folder / f"{name}.sha256"
    if not checksums.is_file():
        return None
    return parse_sha256sum(checksums.read_text(encoding="utf-8")).get(report_name(name))


def regenerate(folder: Path | str, language: str | None = None) -> Regenerated:
    """The dataset's report made again from its files.

    Without ``language`` the report is made in the language it was saved in: the
    one whose text has the sha256 the save recorded (the current language first);
    when none does (a dataset saved before reports, or changed since), in the
    current language.
    """
    folder = Path(folder)
    facts = load_dataset(folder)
    views = image_views(facts.zarr_path, facts.image.ngff_version, _ceilings(facts))
    recorded = _recorded(folder, facts.name)
    first = language or current_language()
    tried = [first] if language else [first, *(x for x in LANGUAGES if x != first)]
    for candidate in tried:
        made = Regenerated(render(facts, views, candidate), candidate, recorded)
        if made.matches:
            return made
    return Regenerated(render(facts, views, first), first, recorded)
