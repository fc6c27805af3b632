"""Quality checks at the microscope: Nyquist sampling, SNR, saturation, consistency.

One streaming pass over the pixels (:func:`pixel_statistics_steps`, or the save's
:class:`PlaneStatsAccumulator`) gives every pixel statistic; :func:`run_qc_steps`
turns statistics and metadata into a :class:`QcReport`.
"""

from napari_fairly.core.qc.consistency import check_consistency
from napari_fairly.core.qc.nyquist import (
    NyquistAxis,
    NyquistChannel,
    check_channel_sampling,
    nyquist_sampling_nm,
    oversampling_factor,
    pinhole_airy_units,
    pinhole_tolerance,
    sampling_verdict,
)
from napari_fairly.core.qc.overrides import (
    QcInputs,
    QcParameters,
    parse_settings,
    resolve_inputs,
)
from napari_fairly.core.qc.report import QcReport
from napari_fairly.core.qc.results import (
    DEFAULT_THRESHOLDS,
    CheckResult,
    Severity,
    resolve_thresholds,
)
from napari_fairly.core.qc.runner import (
    channel_names,
    run_qc,
    run_qc_steps,
    saturated_pixels,
    saturation_overlay,
)
from napari_fairly.core.qc.saturation import check_saturation
from napari_fairly.core.qc.snr import SnrResult, estimate_snr, select_snr_planes
from napari_fairly.core.qc.stats import (
    Ceiling,
    ChannelStats,
    PixelStatistics,
    PlaneStats,
    PlaneStatsAccumulator,
    infer_ceiling,
    pixel_statistics_steps,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Ceiling",
    "ChannelStats",
    "CheckResult",
    "NyquistAxis",
    "NyquistChannel",
    "PixelStatistics",
    "PlaneStats",
    "PlaneStatsAccumulator",
    "QcInputs",
    "QcParameters",
    "QcReport",
    "Severity",
    "SnrResult",
    "channel_names",
    "check_channel_sampling",
    "check_consistency",
    "check_saturation",
    "estimate_snr",
    "infer_ceiling",
    "nyquist_sampling_nm",
    "oversampling_factor",
    "parse_settings",
    "pinhole_airy_units",
    "pinhole_tolerance",
    "pixel_statistics_steps",
    "resolve_inputs",
    "resolve_thresholds",
    "run_qc",
    "run_qc_steps",
    "sampling_verdict",
    "saturated_pixels",
    "saturation_overlay",
    "select_snr_planes",
]
