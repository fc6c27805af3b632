"""OME/METADATA.ome.xml of saved datasets: valid OME-XML stating the effective values.

Every source format is saved (CZI, ND2, LIF, DV, OME-TIFF, plain and ImageJ TIFF) and
the OME model is read back with ome-types, validated against the OME schema, and
compared with the session's effective metadata (the file's values overlaid by the
operator's corrections), the written channel names and the form's instrument; then
with the per-plane values the raw files keep (DV extended header, LIF time stamps).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ome_types import OME, from_xml
from ome_types import model as om

from conftest import DATA, naming_form, sessions
from napari_fairly.core.export import SaveRequest, save_steps, verify_dataset
from napari_fairly.core.export.ome_xml import NAMESPACE
from napari_fairly.core.export.tables import channel_names, pixels_tczyx
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import open_acquisition
from napari_fairly.core.session import Session

SOURCES = {
    "czi": ("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi", 0),
    "nd2": ("nd2/cluster.nd2", 0),
    "lif": ("lif/PR2729_frameOrderCombinedScanTypes.lif", 1),  # a tile of a scan
    "dv": ("dv/toxo.dv", 0),
    "ome-tiff": ("ome-tiff/multi-channel.ome.tif", 0),
    "imagej-tiff": ("imagej-tiff/test_still_stack.tif", 0),
    "tiff": ("tiff/stuck.tif", 0),
}
# the operator's corrections, to show the OME model states the effective values
CORRECTIONS: dict[str, dict[str, Any]] = {
    "czi": {
        "image_acquisition.pixel_size_z_um": 0.5,
        "image_acquisition.objective_na": 1.1,
    },
    "dv": {"image_acquisition.channels.2.name": "DAPI"},  # counted from 1
    "tiff": {
        "image_acquisition.pixel_size_x_um": 0.16,
        "image_acquisition.pixel_size_y_um": 0.16,
        "image_acquisition.immersion": "Silicone",
    },
}


def _save(session: Session, out: Path, **options: Any) -> Path:
    """Save ``session`` (failed checks accepted); its OME-Zarr folder."""
    request = SaveRequest((session,), out, accept_qc_failures_by="test", **options)
    (dataset,) = drive(save_steps(request)).datasets
    assert verify_dataset(dataset.folder).ok
    return dataset.zarr_path


def _ome(zarr_path: Path) -> OME:
    """The saved OME model, validated against the OME 2016-06 schema."""
    return from_xml(
        (zarr_path / "OME" / "METADATA.ome.xml").read_bytes(), validate=True
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Session, Path]]:
    """Each source saved once, with its corrections (module scope: shared)."""
    out = tmp_path_factory.mktemp("ome-xml")
    found = {}
    for key, (rel, scene) in SOURCES.items():
        acq = open_acquisition(DATA / rel, scene)
        (session,) = sessions((acq,), naming_form(acq, "Cells"))
        if key in CORRECTIONS:
            session.set_fields(CORRECTIONS[key])
        found[key] = (session, _save(session, out / key))
    return found


def _close(value: float | None, expected: float | None) -> bool:
    if expected is None:
        return value is None
    return value is not None and value == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("key", list(SOURCES))
def test_ome_model_states_the_effective_pixels_and_channels(
    saved: dict[str, tuple[Session, Path]], key: str
) -> None:
    session, zarr_path = saved[key]
    ome = _ome(zarr_path)
    assert len(ome.images) == 1  # the saved scene only
    image = ome.images[0]
    pixels = image.pixels
    acq = session.acquisition
    meta = acq.metadata
    shape = tuple(int(n) for n in pixels_tczyx(acq).shape)
    sizes = (pixels.size_t, pixels.size_c, pixels.size_z, pixels.size_y, pixels.size_x)
    assert sizes == shape
    assert pixels.dimension_order is om.Pixels_DimensionOrder.XYZCT
    assert (
        pixels.type.value
        == {"uint8": "uint8", "uint16": "uint16", "int8": "int8"}[
            np.dtype(acq.data.dtype).name
        ]
    )
    assert pixels.metadata_only is not None and not pixels.tiff_data_blocks
    for axis in "xyz":
        stated = getattr(meta, f"pixel_size_{axis}_um").value
        assert _close(getattr(pixels, f"physical_size_{axis}"), stated), axis
        if stated is not None:
            assert getattr(pixels, f"physical_size_{axis}_unit").value == "µm"
    assert _close(pixels.time_increment, meta.time_increment_s.value)
    # channel names as written in the NGFF omero block
    assert [c.name for c in pixels.channels] == channel_names(acq, shape[1])
    for channel, stated in zip(pixels.channels, meta.channels, strict=False):
        assert _close(channel.emission_wavelength, stated.emission_wavelength_nm.value)
        assert _close(
            channel.excitation_wavelength, stated.excitation_wavelength_nm.value
        )
        assert channel.fluor == stated.fluorophore.value or (
            stated.fluorophore.value is None
        )
    # one Plane per plane, in T, C, Z order
    planes = [(p.the_t, p.the_c, p.the_z) for p in pixels.planes]
    assert planes == [
        (t, c, z)
        for t in range(shape[0])
        for c in range(shape[1])
        for z in range(shape[2])
    ]
    assert image.name == zarr_path.name.removesuffix(".ome.zarr")


@pytest.mark.parametrize("key", list(SOURCES))
def test_ome_model_states_the_instrument_and_date(
    saved: dict[str, tuple[Session, Path]], key: str
) -> None:
    session, zarr_path = saved[key]
    ome = _ome(zarr_path)
    image = ome.images[0]
    form = session.form.image_acquisition
    meta = session.acquisition.metadata
    assert image.instrument_ref is not None
    (instrument,) = [i for i in ome.instruments if i.id == image.instrument_ref.id]
    microscope = instrument.microscope
    assert microscope is not None
    label = microscope.model + (
        f" ({microscope.type.value})" if microscope.type is not None else ""
    )
    # the form's instrument, prefilled from the file or typed by the operator
    assert form.instrument in (label, f"{microscope.manufacturer} {label}")
    if form.instrument_manufacturer:
        assert microscope.manufacturer == form.instrument_manufacturer
    objective_stated = meta.objective.na.value or meta.objective.model.value
    if objective_stated:
        settings = image.objective_settings
        assert settings is not None
        (objective,) = [o for o in instrument.objectives if o.id == settings.id]
        assert _close(objective.lens_na, meta.objective.na.value)
        assert _close(
            objective.nominal_magnification, meta.objective.magnification.value
        )
        if meta.objective.model.value:
            assert objective.model == form.objective == meta.objective.model.value
        immersion = meta.objective.immersion.value
        if immersion in {i.value for i in om.Objective_Immersion}:
            assert objective.immersion.value == immersion
        assert _close(settings.refractive_index, meta.objective.refractive_index.value)
    detectors = {d.id: d for i in ome.instruments for d in i.detectors}
    for channel, stated in zip(image.pixels.channels, meta.channels, strict=False):
        if stated.detector.model.value:
            assert channel.detector_settings is not None
            found = detectors[channel.detector_settings.id]
            assert found.model == stated.detector.model.value
    stated_date = dt.datetime.fromisoformat(form.acquisition_datetime)
    assert image.acquisition_date is not None
    if stated_date.tzinfo is None:
        assert image.acquisition_date.replace(tzinfo=None) == stated_date
    else:
        assert image.acquisition_date == stated_date


def test_corrections_are_stated_with_what_the_file_said(
    saved: dict[str, tuple[Session, Path]],
) -> None:
    _session, zarr_path = saved["czi"]
    ome = _ome(zarr_path)
    image = ome.images[0]
    assert image.pixels.physical_size_z == 0.5  # the file says 0.32
    (objective,) = [
        o
        for i in ome.instruments
        for o in i.objectives
        if o.id == image.objective_settings.id
    ]
    assert objective.lens_na == 1.1  # the file says 1.2
    notes = _provenance(ome)
    assert notes["pixel_size_z_um"].startswith("operator")
    assert "the file said 0.32" in notes["pixel_size_z_um"]
    assert "the file said 1.2" in notes["objective.na"]
    # DV: a channel renamed by the operator; OME-TIFF: nothing corrected
    dv_ome = _ome(saved["dv"][1])
    assert [c.name for c in dv_ome.images[0].pixels.channels] == ["Channel 0", "DAPI"]
    assert _provenance(dv_ome)["channels[1].name"] == (
        "operator (operator); the file did not say"
    )


def test_a_value_without_an_ome_term_is_other_and_says_so(
    saved: dict[str, tuple[Session, Path]],
) -> None:
    session, zarr_path = saved["tiff"]
    ome = _ome(zarr_path)
    image = ome.images[0]
    (objective,) = ome.instruments[0].objectives
    assert objective.immersion is om.Objective_Immersion.OTHER
    # the refractive index follows the corrected immersion
    index = session.acquisition.metadata.objective.refractive_index
    assert index.value == pytest.approx(1.4)
    assert image.objective_settings.refractive_index == index.value
    notes = _provenance(ome)
    assert notes["objective.immersion"].startswith("Silicone (no OME term")
    # the stack of an unnamed TIFF is placed on Z: an inferred placement, not stated
    assert image.pixels.size_z == 5


def _provenance(ome: OME) -> dict[str, str]:
    annotations = ome.structured_annotations
    assert annotations is not None
    (found,) = [a for a in annotations.map_annotations if a.namespace == NAMESPACE]
    assert found.id in {ref.id for ref in ome.images[0].annotation_refs}
    return {m.k: m.value for m in found.value.ms}


def test_the_source_ome_model_is_kept_where_nothing_overrides_it(
    saved: dict[str, tuple[Session, Path]],
) -> None:
    """ND2: nd2's own OME view (plane times, stage, exposures) travels whole."""
    session, zarr_path = saved["nd2"]
    saved_planes = _ome(zarr_path).images[0].pixels.planes
    source = session.source.ome
    assert source is not None
    by_key = {(p.the_t, p.the_c, p.the_z): p for p in source.images[0].pixels.planes}
    assert len(saved_planes) == len(by_key) == 60
    for plane in saved_planes:
        original = by_key[(plane.the_t, plane.the_c, plane.the_z)]
        assert plane.delta_t == original.delta_t
        assert plane.exposure_time == original.exposure_time
        assert plane.position_z == original.position_z
    # nd2's unstructured metadata annotation is kept
    annotations = _ome(zarr_path).structured_annotations
    assert annotations is not None
    assert any(
        a.namespace == "https://github.com/tlambert03/nd2"
        for a in annotations.map_annotations
    )


def test_the_saved_ome_zarr_reads_back_its_values(
    saved: dict[str, tuple[Session, Path]],
) -> None:
    """Our own OME-Zarr reader takes the objective and channels from the companion."""
    for key in ("czi", "nd2", "dv", "lif"):
        session, zarr_path = saved[key]
        meta = session.acquisition.metadata
        again = open_acquisition(zarr_path).metadata
        assert again.objective.na.value == pytest.approx(meta.objective.na.value)
        assert again.pixel_size_z_um.value == pytest.approx(meta.pixel_size_z_um.value)
        assert [c.name.value for c in again.channels] == channel_names(
            session.acquisition, len(meta.channels)
        )
        assert again.objective.na.source.startswith("ome:")


def test_lif_tile_planes_carry_the_time_stamps_of_their_frames(
    saved: dict[str, tuple[Session, Path]],
) -> None:
    import liffile

    session, zarr_path = saved["lif"]
    with liffile.LifFile(session.source.path) as lif:
        (image,) = [i for i in lif.images if i.path == "TileScan_001"]
        stamps = image.timestamps.reshape(image.shape[:-2])  # T, M, Z, C
    tile = session.acquisition.metadata.position.index
    assert tile == 1
    planes = _ome(zarr_path).images[0].pixels.planes
    assert len(planes) == 2 * 2 * 3
    for plane in planes:
        stamp = stamps[plane.the_t, tile, plane.the_z, plane.the_c]
        expected = (stamp - stamps.flat[0]) / np.timedelta64(1, "ms") / 1000
        assert plane.delta_t == pytest.approx(expected)
    (first_of_t1,) = [p for p in planes if (p.the_t, p.the_c, p.the_z) == (1, 0, 0)]
    # about one time increment after the first frame (of tile 0)
    increment = session.acquisition.metadata.time_increment_s.value
    assert first_of_t1.delta_t == pytest.approx(increment, abs=0.01)
    position = session.acquisition.metadata.position
    assert {(p.position_x, p.position_y) for p in planes} == {
        (position.stage_x_um.value, position.stage_y_um.value)
    }
    assert all(p.position_z is None for p in planes)  # a stack: no Z per plane known


def test_dv_extended_header_gives_each_plane_its_time_stage_and_exposure(
    tmp_path: Path,
) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_reading_dv_nd2 import NC, NT, NZ, PIXELS, _dv, _sections

    path = tmp_path / "cells.dv"
    _dv(path, PIXELS, 0.2, _sections())
    acq = open_acquisition(path)
    (session,) = sessions((acq,), naming_form(acq, "Cells"))
    ome = _ome(_save(session, tmp_path / "out"))
    planes = {(p.the_t, p.the_c, p.the_z): p for p in ome.images[0].pixels.planes}
    assert len(planes) == NT * NC * NZ
    for (t, c, z), plane in planes.items():
        assert plane.delta_t == pytest.approx(0.75 + 2.5 * t)
        assert plane.position_x == pytest.approx(1250.5)
        assert plane.position_y == pytest.approx(-310.25)
        assert plane.position_z == pytest.approx(4100.0 - 0.2 * z)
        assert plane.exposure_time == pytest.approx([0.05, 0.2][c])
    channels = ome.images[0].pixels.channels
    assert [c.excitation_wavelength for c in channels] == [488.0, 561.0]
    # the stage unit is not stated by DV: the model says so
    assert _provenance(ome)["position.stage_x_um"].startswith("inferred")


def test_the_operators_stack_axis_moves_planes_to_t(tmp_path: Path) -> None:
    acq = open_acquisition(DATA / "tiff/stuck.tif")
    (session,) = sessions((acq,), naming_form(acq, "Cells"))
    session.set_fields(
        {
            "image_acquisition.stack_axis": "T",
            "image_acquisition.time_increment_s": 2.0,
        }
    )
    pixels = _ome(_save(session, tmp_path)).images[0].pixels
    assert (pixels.size_t, pixels.size_z) == (5, 1)
    assert pixels.time_increment == 2.0
    assert [(p.the_t, p.the_z) for p in pixels.planes] == [(t, 0) for t in range(5)]


def test_rgb_samples_are_three_channels_and_other_scenes_are_left_out(
    tmp_path: Path,
) -> None:
    rgb = open_acquisition(DATA / "czi/RGB-8bit.czi")
    (session,) = sessions((rgb,), naming_form(rgb, "Cells"))
    pixels = _ome(_save(session, tmp_path / "rgb")).images[0].pixels
    assert [c.samples_per_pixel for c in pixels.channels] == [1, 1, 1]
    assert [c.name for c in pixels.channels] == ["R", "G", "B"]
    assert (pixels.size_c, pixels.size_y, pixels.size_x) == (3, 624, 924)

    scene = open_acquisition(DATA / "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi", 2)
    assert len(scene.ome.images) == 3
    (session,) = sessions((scene,), naming_form(scene, "Cells"))
    ome = _ome(_save(session, tmp_path / "scene"))
    (image,) = ome.images
    assert (image.pixels.size_x, image.pixels.size_y) == (352, 237)
    assert image.id == "Image:0"


def test_a_saved_dataset_saved_again_keeps_its_ome_model(
    saved: dict[str, tuple[Session, Path]], tmp_path: Path
) -> None:
    """An OME-Zarr source: its companion OME model is the start, notes not doubled."""
    _session, zarr_path = saved["czi"]
    again = open_acquisition(zarr_path)
    (resaved,) = sessions((again,), naming_form(again, "Cells"))
    ome = _ome(_save(resaved, tmp_path))
    first = _ome(zarr_path)
    assert ome.instruments[0].detectors == first.instruments[0].detectors
    assert ome.images[0].pixels.physical_size_z == 0.5
    annotations = ome.structured_annotations
    assert annotations is not None
    assert [a.namespace for a in annotations.map_annotations].count(NAMESPACE) == 1
    refs = [r.id for r in ome.images[0].annotation_refs]
    assert len(refs) == len(set(refs))
    # what the first save noted about the raw file is still said
    assert "the file said 0.32" in _provenance(ome)["pixel_size_z_um"]


def test_the_microscopes_hardware_file_adds_its_components_once(
    tmp_path: Path,
) -> None:
    """A form with the instrument's Micro-Meta App hardware: its light sources,
    filters, dichroic and camera are in the OME Instrument, once, and said so."""
    from micrometa_synth import write_microscope

    from napari_fairly.core.export.ome_hardware import add_hardware
    from napari_fairly.core.micrometa import load_microscope

    acq = open_acquisition(DATA / "dv/toxo.dv")
    hardware = load_microscope(write_microscope(tmp_path / "scope.json"))
    form = naming_form(acq, "Cells").model_copy(update={"hardware": hardware})
    (session,) = sessions((acq,), form)
    ome = _ome(_save(session, tmp_path / "out"))
    (instrument,) = ome.instruments
    assert [(s.manufacturer, s.model, s.wavelength) for s in instrument.lasers] == [
        ("Coherent", "OBIS 488 LX", 488.0)
    ]
    assert [(s.manufacturer, s.model) for s in instrument.light_emitting_diodes] == [
        ("CoolLED", "pE-300")
    ]
    filters = [
        (f.manufacturer, f.model, f.transmittance_range) for f in instrument.filters
    ]
    assert [(m, n, r.cut_in, r.cut_out) for m, n, r in filters if r is not None] == [
        ("Chroma", "ET525/50m", 500.0, 550.0),
        ("Chroma", "ET460/50m", 435.0, 485.0),
    ]
    assert [d.model for d in instrument.dichroics] == ["T495lpxr"]
    (camera,) = [d for d in instrument.detectors if d.model == "C14440-20UP"]
    assert camera.manufacturer == "Hamamatsu"
    assert camera.type is om.Detector_Type.CMOS
    # the provenance annotation names the file they come from
    (notes,) = [
        a
        for a in ome.structured_annotations.map_annotations
        if a.namespace == NAMESPACE
    ]
    said = {m.k: m.value for m in notes.value.ms}
    assert "scope.json" in said["instrument.hardware"]
    assert "OBIS 488 LX" in said["instrument.hardware"]
    # what the instrument already has is not added again (a dataset saved again)
    assert add_hardware(hardware, instrument) == []
    assert len(instrument.lasers) == 1


def test_hardware_ome_cannot_state_is_left_out_not_guessed() -> None:
    """A multi-band filter has no single range; a camera the file already names
    is not added twice; a detector kind OME lacks gets no type."""
    from napari_fairly.core.export.ome_hardware import add_hardware
    from napari_fairly.core.micrometa import (
        Band,
        Hardware,
        HardwareDetector,
        OpticalFilter,
    )

    quad = OpticalFilter(
        schema_id="EmissionFilter.json",
        name="Quad",
        bands=(
            Band(cut_in_nm=420, cut_out_nm=460),
            Band(cut_in_nm=500, cut_out_nm=550),
        ),
    )
    camera = HardwareDetector(
        schema_id="sCMOS.json", manufacturer="Hamamatsu", model="C14440-20UP"
    )
    other = HardwareDetector(schema_id="GenericDetector.json", name="Spectral unit")
    hardware = Hardware(filters=(quad,), detectors=(camera, other))
    instrument = om.Instrument(
        id="Instrument:0",
        detectors=[
            om.Detector(
                id="Detector:0:0", manufacturer="Hamamatsu", model="C14440-20UP"
            )
        ],
    )
    assert add_hardware(hardware, instrument) == ["Quad", "Spectral unit"]
    (written,) = instrument.filters
    assert written.type is om.Filter_Type.MULTI_PASS
    assert written.transmittance_range is None
    assert [(d.id, d.model, d.type) for d in instrument.detectors] == [
        ("Detector:0:0", "C14440-20UP", None),
        ("Detector:hardware:0", "Spectral unit", None),
    ]
