"""The QC report: typed rows, JSON, and a tidy table with traceability columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from napari_fairly.core.i18n import current_language
from napari_fairly.core.model import FrozenModel
from napari_fairly.core.qc.nyquist import NyquistChannel
from napari_fairly.core.qc.overrides import QcInputs
from napari_fairly.core.qc.results import CheckResult, Severity, SnrResult

if TYPE_CHECKING:
    import pandas as pd

    from napari_fairly.core.qc.stats import PixelStatistics

REPORT_SCHEMA_VERSION = "1.0.0"
TABLE_COLUMNS = (
    "source_file",
    "source_sha256",
    "scene",
    "check",
    "channel",
    "channel_name",
    "z",
    "t",
    "value",
    "unit",
    "threshold",
    "verdict",
    "severity",
    "message",
    "advice",
)


class QcReport(FrozenModel):
    """All QC results for one scene of one file.

    ``rows`` is the table (check × channel × plane); ``nyquist`` and ``snr`` keep the
    detailed results; ``stats`` is the :class:`PixelStatistics` the checks used (not in
    the JSON: histograms are large; the save writes their summaries to its CSV).
    """

    schema_version: str = REPORT_SCHEMA_VERSION
    source_path: str
    scene: int
    scene_name: str | None = None
    source_sha256: str | None = None
    # the language of ``message`` and ``advice`` (verdicts are codes)
    language: str = Field(default_factory=current_language)
    rows: tuple[CheckResult, ...]
    nyquist: tuple[NyquistChannel, ...] = ()
    snr: tuple[SnrResult, ...] = ()
    inputs: QcInputs = QcInputs()
    thresholds: dict[str, float] = Field(default_factory=dict)
    stats: Any = Field(default=None, exclude=True, repr=False)  # PixelStatistics

    @property
    def worst_severity(self) -> Severity:
        """Worst severity over all rows (not_checked ranks between info and warning)."""
        if not self.rows:
            return Severity.OK
        return max((r.severity for r in self.rows), key=lambda s: s.rank)

    @property
    def failed(self) -> bool:
        """True when any check is an error: the QC fails (the save is still allowed)."""
        return any(r.severity is Severity.ERROR for r in self.rows)

    @property
    def pixel_statistics(self) -> PixelStatistics | None:
        """The statistics the checks used, typed."""
        return self.stats  # type: ignore[no-any-return]

    def summary_rows(self) -> list[CheckResult]:
        """Rows about whole channels or the acquisition (no per-plane detail)."""
        keep_planes = {"snr", "cnr", "snr_poisson"}
        return [r for r in self.rows if r.z is None or r.check in keep_planes]

    def to_dict(self, include_plane_rows: bool = True) -> dict[str, Any]:
        """JSON-ready dict (for the sidecar's ``qc`` block).

        ``include_plane_rows=False`` keeps only :meth:`summary_rows` (the per-plane
        rows are in the tidy table), for a compact sidecar on long stacks.
        """
        data = self.model_dump(mode="json")
        if not include_plane_rows:
            data["rows"] = [r.model_dump(mode="json") for r in self.summary_rows()]
        data["worst_severity"] = self.worst_severity.value
        data["failed"] = self.failed
        if self.pixel_statistics is not None:
            data["saturation"] = [
                {
                    "channel": ch.c,
                    "ceiling": ch.ceiling.value,
                    "ceiling_source": ch.ceiling.source,
                    "bits": ch.ceiling.bits,
                    "max_frac_ceiling": max(
                        (
                            p.frac_ceiling or 0.0
                            for p in self.pixel_statistics.channel_planes(ch.c)
                        ),
                        default=0.0,
                    ),
                    "frac_ceiling": ch.frac_ceiling,
                    "frac_zero": ch.frac_zero,
                    "p0_1_adu": ch.p0_1_adu,
                    "p99_9_adu": ch.p99_9_adu,
                    "min_adu": ch.min_adu,
                    "max_adu": ch.max_adu,
                }
                for ch in self.pixel_statistics.channels
            ]
        return data

    def to_json(self, indent: int | None = 2, include_plane_rows: bool = True) -> str:
        """The report as strict JSON (UTF-8 text, non-ASCII kept): a number that
        could not be computed is ``null``, with why under ``null_reasons``."""
        from napari_fairly.core import strict_json

        return strict_json.dumps(self.to_dict(include_plane_rows), indent=indent)

    def sha256(self) -> str:
        """SHA-256 of the source (from the report, else computed now, streamed)."""
        if self.source_sha256:
            return self.source_sha256
        from napari_fairly.core.checksums import sha256_tree

        return sha256_tree(self.source_path)

    def to_dataframe(self) -> pd.DataFrame:
        """Tidy table: one row per check × channel × plane, traceability first."""
        from pathlib import Path

        import pandas as pd

        sha = self.sha256()
        name = Path(self.source_path).name
        records = []
        for r in self.rows:
            records.append(
                {
                    "source_file": name,
                    "source_sha256": sha,
                    "scene": self.scene,
                    "check": r.check,
                    "channel": r.channel,
                    "channel_name": r.channel_name,
                    "z": r.z,
                    "t": r.t,
                    "value": r.value,
                    "unit": r.unit,
                    "threshold": r.threshold,
                    "verdict": r.verdict,
                    "severity": r.severity.value,
                    "message": r.message,
                    "advice": r.advice,
                }
            )
        frame = pd.DataFrame.from_records(records, columns=list(TABLE_COLUMNS))
        for column in ("channel", "z", "t"):
            frame[column] = frame[column].astype("Int64")
        return frame
