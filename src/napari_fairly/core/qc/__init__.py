"""Quality checks at the microscope: Nyquist sampling, SNR, saturation, consistency.

One streaming pass over the pixels (:func:`pixel_statistics_steps`, or the save's
:class:`PlaneStatsAccumulator`) gives every pixel statistic; :func:`run_qc_steps`
turns statistics and metadata into a :class:`QcReport`.

This module is the package's public face: other packages import from here only.
Inside, imports run one way: a module imports only modules of the layers above it.

1. ``results`` (shared types, thresholds), ``compiled`` (numba kernels);
2. ``stats`` (the pixel pass), ``nyquist`` (sampling formulas);
3. ``snr`` (the estimator, on planes the pass kept), ``overrides`` (the inputs);
4. ``saturation``, ``consistency``, ``report``;
5. ``runner`` (every check, one report).
"""

from napari_fairly.core.qc.compiled import compiled_kernel
from napari_fairly.core.qc.consistency import check_consistency
from napari_fairly.core.qc.nyquist import (
    MODALITIES,
    NyquistAxis,
    NyquistChannel,
    check_channel_sampling,
    normalise_modality,
    nyquist_sampling_nm,
    oversampling_factor,
    pinhole_airy_units,
    pinhole_tolerance,
    refractive_index_for,
    sampling_verdict,
)
from napari_fairly.core.qc.overrides import (
    PARAMETER_KEYS,
    QcInputs,
    QcParameters,
    parse_parameters,
    resolve_inputs,
)
from napari_fairly.core.qc.report import QcReport
from napari_fairly.core.qc.results import (
    DEFAULT_THRESHOLDS,
    CheckResult,
    Severity,
    SnrResult,
    format_value,
    resolve_thresholds,
)
from napari_fairly.core.qc.runner import (
    EarlySnr,
    SnrSettings,
    channel_names,
    run_qc,
    run_qc_steps,
    saturated_pixels,
    saturation_overlay,
)
from napari_fairly.core.qc.saturation import check_saturation
from napari_fairly.core.qc.snr import (
    SnrPlaneCache,
    estimate_snr,
    select_snr_planes,
    smooth,
)
from napari_fairly.core.qc.stats import (
    Ceiling,
    ChannelStats,
    PixelStatistics,
    PlaneKey,
    PlaneStats,
    PlaneStatsAccumulator,
    exact_histogram,
    infer_ceiling,
    pixel_statistics_steps,
    tczyx_shape,
    tczyx_view,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MODALITIES",
    "PARAMETER_KEYS",
    "Ceiling",
    "ChannelStats",
    "CheckResult",
    "EarlySnr",
    "NyquistAxis",
    "NyquistChannel",
    "PixelStatistics",
    "PlaneKey",
    "PlaneStats",
    "PlaneStatsAccumulator",
    "QcInputs",
    "QcParameters",
    "QcReport",
    "Severity",
    "SnrPlaneCache",
    "SnrResult",
    "SnrSettings",
    "channel_names",
    "check_channel_sampling",
    "check_consistency",
    "check_saturation",
    "compiled_kernel",
    "estimate_snr",
    "exact_histogram",
    "format_value",
    "infer_ceiling",
    "normalise_modality",
    "nyquist_sampling_nm",
    "oversampling_factor",
    "parse_parameters",
    "pinhole_airy_units",
    "pinhole_tolerance",
    "pixel_statistics_steps",
    "refractive_index_for",
    "resolve_inputs",
    "resolve_thresholds",
    "run_qc",
    "run_qc_steps",
    "sampling_verdict",
    "saturated_pixels",
    "saturation_overlay",
    "select_snr_planes",
    "smooth",
    "tczyx_shape",
    "tczyx_view",
]
