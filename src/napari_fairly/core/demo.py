"""Synthetic but realistic demo acquisitions, written as OME-TIFFs with full OME-XML.

Real files from public projects cannot be bundled (several are GPL, all are
fetched), so the plugin makes its own, each built to teach:

- the demo: a widefield 3-channel z-stack of cells taken with a 63x/1.4 oil
  objective; channel 3 is partly saturated and the z-step (0.5 µm) undersamples the
  axial Nyquist limit (~0.25 µm), while the lateral sampling is adequate;
- the training demo: a confocal 2-channel z-stack taken at 20 nm pixels and 60 nm
  steps (about half the Nyquist distances: oversampled, ten times the data needed)
  with very few photons (under-exposed: poor signal-to-noise ratio, 2 % of the
  detector's range used).

Seeded: the same seed gives the same bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

DEMO_FILE_NAME = "fairly-demo_3ch-zstack.ome.tif"
TRAINING_FILE_NAME = "fairly-training_2ch-confocal.ome.tif"


@dataclass(frozen=True)
class DemoChannel:
    """One fluorescence channel of the demo, with the values written to its OME-XML."""

    name: str
    fluorophore: str
    excitation_wavelength_nm: float
    emission_wavelength_nm: float
    exposure_s: float
    color_rgb: str  # OME Channel@Color as hex RGB
    peak_photons: float  # brightest object, photons per pixel before the camera


DEMO_CHANNELS = (
    DemoChannel("DAPI", "DAPI", 358.0, 461.0, 0.05, "0000FF", 3000.0),
    DemoChannel("EGFP", "EGFP", 488.0, 507.0, 0.2, "00FF00", 1500.0),
    # bright enough that the 12-bit camera clips the densest spots
    DemoChannel("mCherry", "mCherry", 587.0, 610.0, 0.3, "FF0000", 60000.0),
)

# acquisition parameters stated in the OME-XML
PIXEL_SIZE_XY_UM = 0.08  # adequate for 63x/1.4 widefield (Nyquist ≈ 82-109 nm)
Z_STEP_UM = 0.5  # too coarse: axial Nyquist ≈ 0.25-0.33 µm for these emissions
OBJECTIVE_NA = 1.4
OBJECTIVE_MAGNIFICATION = 63.0
IMMERSION_RI = 1.515
SIGNIFICANT_BITS = 12
CAMERA_GAIN_ADU_PER_E = 0.5
CAMERA_OFFSET_ADU = 100.0
READ_NOISE_E = 1.6
ACQUISITION_DATE = datetime(2024, 3, 14, 10, 27, 5, tzinfo=timezone.utc)


def make_demo_pixels(
    *, seed: int = 20240314, size_z: int = 24, size_yx: int = 256
) -> np.ndarray:
    """Simulate the stack (C, Z, Y, X) in ADU: nuclei, cytoplasm and bright vesicles.

    Clean intensities are blurred by an anisotropic Gaussian (a crude widefield PSF),
    then photon (Poisson) noise, read noise, gain, offset and 12-bit clipping apply.
    """
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    zz, yy, xx = np.meshgrid(
        np.arange(size_z), np.arange(size_yx), np.arange(size_yx), indexing="ij"
    )
    nuclei = np.zeros((size_z, size_yx, size_yx), np.float64)
    cytoplasm = np.zeros_like(nuclei)
    vesicles = np.zeros_like(nuclei)
    z_um, yx_um = zz * Z_STEP_UM, None
    del yx_um
    for _ in range(9):
        cz = rng.uniform(0.35, 0.65) * size_z * Z_STEP_UM
        cy, cx = rng.uniform(30, size_yx - 30, 2)
        ry, rx = rng.uniform(14, 22, 2)
        rz = rng.uniform(2.5, 3.5)  # µm
        cell = (
            ((yy - cy) / (ry * 1.9)) ** 2
            + ((xx - cx) / (rx * 1.9)) ** 2
            + ((z_um - cz) / (rz * 1.3)) ** 2
        )
        nucleus = (
            ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 + ((z_um - cz) / rz) ** 2
        )
        nuclei += (nucleus <= 1) * rng.uniform(0.6, 1.0)
        cytoplasm += ((cell <= 1) & (nucleus > 1)) * rng.uniform(0.5, 1.0)
        for _ in range(6):
            vy, vx = cy + rng.normal(0, ry), cx + rng.normal(0, rx)
            vz = cz + rng.normal(0, 1.0)
            spot = ((yy - vy) ** 2 + (xx - vx) ** 2) / 3.0**2 + ((z_um - vz) / 0.8) ** 2
            vesicles += np.exp(-spot) * rng.uniform(0.5, 1.0)
    # PSF: σ ≈ 1.2 px laterally, 0.9 plane axially (0.45 µm at 0.5 µm steps)
    clean = [
        ndimage.gaussian_filter(a, sigma=(0.9, 1.2, 1.2))
        for a in (nuclei, cytoplasm, vesicles)
    ]
    background_photons = 12.0
    out = np.empty((len(DEMO_CHANNELS), size_z, size_yx, size_yx), np.uint16)
    ceiling = 2**SIGNIFICANT_BITS - 1
    for c, (channel, image) in enumerate(zip(DEMO_CHANNELS, clean, strict=True)):
        photons = background_photons + channel.peak_photons * image / max(
            image.max(), 1e-9
        )
        electrons = rng.poisson(photons).astype(np.float64)
        electrons += rng.normal(0.0, READ_NOISE_E, electrons.shape)
        adu = np.round(electrons * CAMERA_GAIN_ADU_PER_E + CAMERA_OFFSET_ADU)
        out[c] = np.clip(adu, 0, ceiling).astype(np.uint16)
    return out


def _ome_pixels(
    shape_czyx: tuple[int, int, int, int],
    channels: list[Any],
    exposures_s: list[float],
    pixel_size_xy_um: float,
    z_step_um: float,
) -> Any:
    """The OME Pixels of a generated one-file z-stack: one Plane per (c, z), in order,
    with its exposure and z position, as both demos state them."""
    from ome_types import model as m

    size_c, size_z, size_y, size_x = shape_czyx
    planes = [
        m.Plane(
            the_c=c,
            the_z=z,
            the_t=0,
            exposure_time=exposures_s[c],
            exposure_time_unit=m.UnitsTime.SECOND,
            position_z=z * z_step_um,
            position_z_unit=m.UnitsLength.MICROMETER,
        )
        for c in range(size_c)
        for z in range(size_z)
    ]
    return m.Pixels(
        id="Pixels:0",
        dimension_order=m.Pixels_DimensionOrder.XYZCT,
        type=m.PixelType.UINT16,
        significant_bits=SIGNIFICANT_BITS,
        size_x=size_x,
        size_y=size_y,
        size_z=size_z,
        size_c=size_c,
        size_t=1,
        physical_size_x=pixel_size_xy_um,
        physical_size_x_unit=m.UnitsLength.MICROMETER,
        physical_size_y=pixel_size_xy_um,
        physical_size_y_unit=m.UnitsLength.MICROMETER,
        physical_size_z=z_step_um,
        physical_size_z_unit=m.UnitsLength.MICROMETER,
        channels=channels,
        planes=planes,
        tiff_data_blocks=[m.TiffData(ifd=0, plane_count=size_c * size_z)],
    )


def demo_ome_xml(shape_czyx: tuple[int, int, int, int], file_name: str) -> str:
    """The complete OME-XML of the demo: instrument, objective, channels, planes."""
    from ome_types import model as m

    detector = m.Detector(
        id="Detector:0",
        manufacturer="Hamamatsu",
        model="ORCA-Flash4.0 V3 (simulated)",
        type=m.Detector_Type.CMOS,
        gain=CAMERA_GAIN_ADU_PER_E,
        offset=CAMERA_OFFSET_ADU,
    )
    objective = m.Objective(
        id="Objective:0",
        manufacturer="Zeiss",
        model="Plan-Apochromat 63x/1.4 Oil DIC M27",
        nominal_magnification=OBJECTIVE_MAGNIFICATION,
        lens_na=OBJECTIVE_NA,
        immersion=m.Objective_Immersion.OIL,
        correction=m.Objective_Correction.PLAN_APO,
        working_distance=0.19,
        working_distance_unit=m.UnitsLength.MILLIMETER,
    )
    light_sources = [
        m.LightEmittingDiode(
            id=f"LightSource:{i}",
            manufacturer="Lumencor",
            model=f"SPECTRA III {ch.excitation_wavelength_nm:.0f} nm",
        )
        for i, ch in enumerate(DEMO_CHANNELS)
    ]
    instrument = m.Instrument(
        id="Instrument:0",
        microscope=m.Microscope(
            manufacturer="Zeiss",
            model="Axio Observer 7 (simulated)",
            type=m.Microscope_Type.INVERTED,
        ),
        objectives=[objective],
        detectors=[detector],
        light_emitting_diodes=light_sources,
    )
    channels = [
        m.Channel(
            id=f"Channel:0:{i}",
            name=ch.name,
            fluor=ch.fluorophore,
            samples_per_pixel=1,
            excitation_wavelength=ch.excitation_wavelength_nm,
            excitation_wavelength_unit=m.UnitsLength.NANOMETER,
            emission_wavelength=ch.emission_wavelength_nm,
            emission_wavelength_unit=m.UnitsLength.NANOMETER,
            acquisition_mode=m.Channel_AcquisitionMode.WIDE_FIELD,
            illumination_type=m.Channel_IlluminationType.EPIFLUORESCENCE,
            contrast_method=m.Channel_ContrastMethod.FLUORESCENCE,
            color=m.Color(f"#{ch.color_rgb}"),
            detector_settings=m.DetectorSettings(
                id=detector.id,
                gain=CAMERA_GAIN_ADU_PER_E,
                offset=CAMERA_OFFSET_ADU,
                binning=m.Binning.ONEBYONE,
            ),
            light_source_settings=m.LightSourceSettings(
                id=f"LightSource:{i}",
                wavelength=ch.excitation_wavelength_nm,
                wavelength_unit=m.UnitsLength.NANOMETER,
            ),
        )
        for i, ch in enumerate(DEMO_CHANNELS)
    ]
    pixels = _ome_pixels(
        shape_czyx,
        channels,
        [ch.exposure_s for ch in DEMO_CHANNELS],
        PIXEL_SIZE_XY_UM,
        Z_STEP_UM,
    )
    experimenter = m.Experimenter(
        id="Experimenter:0",
        first_name="Anne",
        last_name="Lebon",
        email="anne.lebon@example.org",
    )
    image = m.Image(
        id="Image:0",
        name="HeLa fixed, DAPI/EGFP/mCherry (simulated)",
        acquisition_date=ACQUISITION_DATE,
        description="Synthetic demo acquisition generated by napari-fairly (seeded).",
        experimenter_ref=m.ExperimenterRef(id=experimenter.id),
        instrument_ref=m.InstrumentRef(id=instrument.id),
        objective_settings=m.ObjectiveSettings(
            id=objective.id,
            refractive_index=IMMERSION_RI,
            medium=m.ObjectiveSettings_Medium.OIL,
        ),
        pixels=pixels,
    )
    ome = m.OME(
        instruments=[instrument],
        experimenters=[experimenter],
        images=[image],
        creator="napari-fairly demo",
    )
    return ome.to_xml()


def write_demo_acquisition(
    path: Path | str, *, seed: int = 20240314, size_z: int = 24, size_yx: int = 256
) -> Path:
    """Write the demo OME-TIFF at ``path`` (a file or a folder) and return its path.

    Written to a temporary name and renamed, so a half-written demo is never opened.
    """
    import tifffile

    target = Path(path)
    if target.is_dir():
        target = target / DEMO_FILE_NAME
    pixels = make_demo_pixels(seed=seed, size_z=size_z, size_yx=size_yx)
    xml = demo_ome_xml(pixels.shape, target.name)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        tifffile.imwrite(
            partial,
            pixels,
            description=xml.encode("utf-8"),
            metadata=None,
            photometric="minisblack",
            compression=None,
            resolution=(1e4 / PIXEL_SIZE_XY_UM, 1e4 / PIXEL_SIZE_XY_UM),
            resolutionunit="CENTIMETER",
        )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


# --------------------------------------------------------------------------- training

TRAINING_CHANNELS = (
    # name, fluorophore, ex, em, frame time (s), colour, peak photons per pixel
    DemoChannel("AF488", "Alexa Fluor 488", 488.0, 520.0, 0.8, "00FF00", 30.0),
    DemoChannel("AF568", "Alexa Fluor 568", 561.0, 603.0, 0.8, "FF0000", 22.0),
)
TRAINING_PIXEL_SIZE_XY_UM = 0.02  # confocal Nyquist ≈ 44-50 nm: ratio ≈ 0.45
TRAINING_Z_STEP_UM = 0.06  # axial Nyquist ≈ 130-150 nm: ratio ≈ 0.45
TRAINING_PINHOLE_UM = 28.5  # 1 Airy unit at 520 nm behind 63x/1.4
TRAINING_GAIN_ADU_PER_E = 2.0
TRAINING_OFFSET_ADU = 50.0
TRAINING_DATE = datetime(2024, 3, 15, 14, 2, 11, tzinfo=timezone.utc)


def make_training_pixels(
    *, seed: int = 20240315, size_z: int = 20, size_yx: int = 256
) -> np.ndarray:
    """Simulate the training stack (C, Z, Y, X) in ADU: vesicles and a filament.

    Structures of 0.1-0.3 µm blurred by a confocal PSF (σ ≈ 85 nm laterally, 250 nm
    axially: several pixels and planes wide, since the sampling is twice too fine),
    then photon noise at a few photons per pixel, read noise, gain and offset.
    """
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    shape = (size_z, size_yx, size_yx)
    objects = np.zeros((len(TRAINING_CHANNELS), *shape), np.float64)
    for c in range(len(TRAINING_CHANNELS)):
        for _ in range(14):
            z, y, x = (int(rng.integers(3, n - 3)) for n in shape)
            objects[c, z, y - 2 : y + 3, x - 2 : x + 3] += rng.uniform(0.6, 1.0)
    line = np.linspace(20, size_yx - 20, 400).astype(int)
    objects[0, size_z // 2, line, (line * 0.6 + 40).astype(int)] = 1.0
    sigma = (
        0.25 / TRAINING_Z_STEP_UM,
        0.085 / TRAINING_PIXEL_SIZE_XY_UM,
        0.085 / TRAINING_PIXEL_SIZE_XY_UM,
    )
    out = np.empty(objects.shape, np.uint16)
    ceiling = 2**SIGNIFICANT_BITS - 1
    for c, channel in enumerate(TRAINING_CHANNELS):
        blurred = ndimage.gaussian_filter(objects[c], sigma=sigma)
        photons = 0.8 + channel.peak_photons * blurred / max(blurred.max(), 1e-9)
        electrons = rng.poisson(photons).astype(np.float64)
        electrons += rng.normal(0.0, 1.0, electrons.shape)
        adu = np.round(electrons * TRAINING_GAIN_ADU_PER_E + TRAINING_OFFSET_ADU)
        out[c] = np.clip(adu, 0, ceiling).astype(np.uint16)
    return out


def training_ome_xml(shape_czyx: tuple[int, int, int, int]) -> str:
    """The training demo's OME-XML: a confocal, with pinhole and detector stated."""
    from ome_types import model as m

    detector = m.Detector(
        id="Detector:0",
        manufacturer="Leica",
        model="PMT (simulated)",
        type=m.Detector_Type.PMT,
        gain=TRAINING_GAIN_ADU_PER_E,
        offset=TRAINING_OFFSET_ADU,
    )
    objective = m.Objective(
        id="Objective:0",
        manufacturer="Leica",
        model="HC PL APO 63x/1.40 OIL CS2",
        nominal_magnification=OBJECTIVE_MAGNIFICATION,
        lens_na=OBJECTIVE_NA,
        immersion=m.Objective_Immersion.OIL,
        correction=m.Objective_Correction.PLAN_APO,
    )
    lasers = [
        m.Laser(
            id=f"LightSource:{i}",
            manufacturer="Leica",
            model=f"WLL {ch.excitation_wavelength_nm:.0f} nm",
            wavelength=ch.excitation_wavelength_nm,
            wavelength_unit=m.UnitsLength.NANOMETER,
        )
        for i, ch in enumerate(TRAINING_CHANNELS)
    ]
    instrument = m.Instrument(
        id="Instrument:0",
        microscope=m.Microscope(
            manufacturer="Leica",
            model="Stellaris 5 (simulated)",
            type=m.Microscope_Type.INVERTED,
        ),
        objectives=[objective],
        detectors=[detector],
        lasers=lasers,
    )
    channels = [
        m.Channel(
            id=f"Channel:0:{i}",
            name=ch.name,
            fluor=ch.fluorophore,
            samples_per_pixel=1,
            excitation_wavelength=ch.excitation_wavelength_nm,
            excitation_wavelength_unit=m.UnitsLength.NANOMETER,
            emission_wavelength=ch.emission_wavelength_nm,
            emission_wavelength_unit=m.UnitsLength.NANOMETER,
            acquisition_mode=m.Channel_AcquisitionMode.LASER_SCANNING_CONFOCAL_MICROSCOPY,
            illumination_type=m.Channel_IlluminationType.EPIFLUORESCENCE,
            contrast_method=m.Channel_ContrastMethod.FLUORESCENCE,
            pinhole_size=TRAINING_PINHOLE_UM,
            pinhole_size_unit=m.UnitsLength.MICROMETER,
            color=m.Color(f"#{ch.color_rgb}"),
            detector_settings=m.DetectorSettings(
                id=detector.id,
                gain=TRAINING_GAIN_ADU_PER_E,
                offset=TRAINING_OFFSET_ADU,
            ),
            light_source_settings=m.LightSourceSettings(
                id=f"LightSource:{i}",
                wavelength=ch.excitation_wavelength_nm,
                wavelength_unit=m.UnitsLength.NANOMETER,
            ),
        )
        for i, ch in enumerate(TRAINING_CHANNELS)
    ]
    pixels = _ome_pixels(
        shape_czyx,
        channels,
        [ch.exposure_s for ch in TRAINING_CHANNELS],
        TRAINING_PIXEL_SIZE_XY_UM,
        TRAINING_Z_STEP_UM,
    )
    experimenter = m.Experimenter(
        id="Experimenter:0", first_name="Sam", last_name="Trainee"
    )
    image = m.Image(
        id="Image:0",
        name="Vesicles and filament, AF488/AF568 (simulated)",
        acquisition_date=TRAINING_DATE,
        description="Synthetic training acquisition generated by napari-fairly.",
        experimenter_ref=m.ExperimenterRef(id=experimenter.id),
        instrument_ref=m.InstrumentRef(id=instrument.id),
        objective_settings=m.ObjectiveSettings(
            id=objective.id,
            refractive_index=IMMERSION_RI,
            medium=m.ObjectiveSettings_Medium.OIL,
        ),
        pixels=pixels,
    )
    ome = m.OME(
        instruments=[instrument],
        experimenters=[experimenter],
        images=[image],
        creator="napari-fairly training demo",
    )
    return ome.to_xml()


def write_training_acquisition(
    path: Path | str, *, seed: int = 20240315, size_z: int = 20, size_yx: int = 256
) -> Path:
    """Write the training demo OME-TIFF at ``path`` (a file or a folder)."""
    import tifffile

    target = Path(path)
    if target.is_dir():
        target = target / TRAINING_FILE_NAME
    pixels = make_training_pixels(seed=seed, size_z=size_z, size_yx=size_yx)
    xml = training_ome_xml(pixels.shape)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    resolution = 1e4 / TRAINING_PIXEL_SIZE_XY_UM
    try:
        tifffile.imwrite(
            partial,
            pixels,
            description=xml.encode("utf-8"),
            metadata=None,
            photometric="minisblack",
            compression=None,
            resolution=(resolution, resolution),
            resolutionunit="CENTIMETER",
        )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
