"""Save real files and check the dataset with independent readers (SPEC 7)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from conftest import DATA, EXPECTED, naming_form, save_request, sessions
from napari_fairly.core.checksums import sha256_file
from napari_fairly.core.export import SaveRequest, save_steps, verify_dataset
from napari_fairly.core.export.save import VERIFY_SAMPLE_PLANES
from napari_fairly.core.export.tables import MEASUREMENT_COLUMNS, read_csv
from napari_fairly.core.form import FairForm
from napari_fairly.core.progress import Note, NoteKind, Progress, drive
from napari_fairly.core.reading import Acquisition, open_acquisition

TYPED = {
    "naming.project": "TNT",
    "naming.sample": "Cells",
    "naming.creator": "ALebon",
    "naming.condition": "Controle",
    "study.title": "Save test",
    "study.authors": [{"name": "A. Lebon", "orcid": "0000-0002-1825-0097"}],
    "biosample.organism": {"id": "NCBITaxon:9606", "label": "Homo sapiens"},
    "biosample.biological_entity": "cultured cells",
}
FILES = {
    "multichannel": "nd2/example-multichannel.nd2",
    "zstack": "dv/toxo.dv",
    "timelapse": "nd2/example-timelapse.nd2",
    "multiscene": "czi/WellD6-7_S2.czi",
}


def make_form(acq: Acquisition, **typed: Any) -> FairForm:
    """A complete form for ``acq``; the date comes from the file when it states one."""
    return naming_form(acq, "Cells", **{**TYPED, **typed})


def open_scenes(rel: str) -> tuple[Acquisition, ...]:
    first = open_acquisition(DATA / rel, 0)
    count = first.metadata.scene_count
    return (first, *(open_acquisition(DATA / rel, i) for i in range(1, count)))


def reopen(acq: Acquisition) -> Acquisition:
    """The same scene opened again."""
    return open_acquisition(acq.path, acq.scene_index)


@pytest.fixture(scope="module", params=["0.4", "0.5"])
def saved(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """Every test file saved once per NGFF version (module scope: shared)."""
    version = request.param
    out = tmp_path_factory.mktemp(f"save-{version}")
    results = {}
    for key, rel in FILES.items():
        acqs = open_scenes(rel)
        steps: list[Progress] = []
        result = drive(
            save_steps(
                save_request(acqs, make_form(acqs[0]), out / key, ngff_version=version)
            ),
            steps.append,
        )
        results[key] = (acqs, result, steps)
    return {"version": version, "out": out, "results": results}


def _image_attrs(zarr_path: Path, version: str) -> dict:
    group = zarr.open_group(
        str(zarr_path), mode="r", zarr_format=2 if version == "0.4" else 3
    )
    attrs = dict(group.attrs)
    return attrs["ome"] if version == "0.5" else attrs


@pytest.mark.parametrize("key", list(FILES))
def test_saved_zarr_validates_and_round_trips(saved: dict, key: str) -> None:
    from bioio import BioImage
    from bioio_ome_zarr import Reader

    version = saved["version"]
    acqs, result, steps = saved["results"][key]
    assert len(result.datasets) == len(acqs)
    assert steps and steps[-1].step.endswith("saved")
    for acq, dataset in zip(acqs, result.datasets, strict=True):
        zarr_path = dataset.zarr_path
        assert zarr_path.parent.name == dataset.name
        group = zarr.open_group(str(zarr_path), mode="r")
        if version == "0.4":
            from ome_zarr_models.v04 import Image

            assert (zarr_path / ".zattrs").is_file() and not (
                zarr_path / "zarr.json"
            ).exists()
        else:
            from ome_zarr_models.v05 import Image

            assert (zarr_path / "zarr.json").is_file()
        Image.from_zarr(group)  # raises on any NGFF violation

        meta = acq.metadata
        # pixels from a fresh open, independent of the handles the save used
        source = np.asarray(reopen(acq).data.compute())
        image = BioImage(zarr_path, reader=Reader)
        np.testing.assert_array_equal(np.asarray(image.get_image_data("TCZYX")), source)
        assert image.dims.shape == source.shape
        channels = [c.name.value or f"Channel {c.index}" for c in meta.channels]
        assert list(image.channel_names) == channels
        sizes = image.physical_pixel_sizes
        assert pytest.approx(meta.pixel_size_x_um.value) == sizes.X
        assert pytest.approx(meta.pixel_size_y_um.value) == sizes.Y
        if source.shape[2] > 1:
            assert pytest.approx(meta.pixel_size_z_um.value) == sizes.Z

        attrs = _image_attrs(zarr_path, version)
        axes = attrs["multiscales"][0]["axes"]
        assert {a["name"]: a.get("unit") for a in axes if a["type"] == "space"}.get(
            "x"
        ) == "micrometer"
        if source.shape[0] > 1:
            time_axis = next(a for a in axes if a["name"] == "t")
            assert time_axis["type"] == "time"
            if meta.time_increment_s.value is not None:
                assert time_axis["unit"] == "second"
        omero = attrs["omero"]["channels"]
        for channel, entry in zip(meta.channels, omero, strict=True):
            expected_colour = channel.color_rgb.value
            if expected_colour is None:
                from napari_fairly.core.export.zarr_writer import emission_colour

                expected_colour = emission_colour(channel.emission_wavelength_nm.value)
            assert entry["color"] == expected_colour.upper()
            # contrast window from the QC pass: channel 0.1 / 99.9 percentiles
            channel_stats = dataset.qc_report.stats.channels[channel.index]
            assert entry["window"]["start"] == channel_stats.p0_1_adu
            assert entry["window"]["end"] == channel_stats.p99_9_adu
            assert entry["window"]["min"] <= entry["window"]["start"]
            assert (
                entry["window"]["start"]
                <= entry["window"]["end"]
                <= entry["window"]["max"]
            )


def test_napari_ome_zarr_reader_opens_the_dataset(saved: dict) -> None:
    from napari_ome_zarr import napari_get_reader

    acqs, result, _ = saved["results"]["multichannel"]
    acq, dataset = acqs[0], result.datasets[0]
    reader = napari_get_reader(str(dataset.zarr_path))
    assert reader is not None
    layers = reader(str(dataset.zarr_path))
    data, kwargs = layers[0][0], layers[0][1]
    np.testing.assert_array_equal(
        np.asarray(data[0]), np.asarray(reopen(acq).data[0, :, 0].compute())
    )
    names = [n.split(": ", 1)[1] for n in kwargs["name"]]
    assert names == ["Mono", "DAPI", "FITC BP", "TRITC BP"]
    assert kwargs["scale"] == pytest.approx([acq.metadata.pixel_size_y_um.value] * 2)
    colours = [tuple(np.round(c.colors[-1][:3], 3)) for c in kwargs["colormap"]]
    omero = _image_attrs(dataset.zarr_path, saved["version"])["omero"]["channels"]
    for colour, entry in zip(colours, omero, strict=True):
        rgb = tuple(
            round(int(entry["color"][i : i + 2], 16) / 255, 3) for i in (0, 2, 4)
        )
        assert colour == pytest.approx(rgb, abs=1e-3)


def test_multiscene_file_gives_one_dataset_per_scene(saved: dict) -> None:
    acqs, result, _ = saved["results"]["multiscene"]
    assert len(acqs) == 2
    names = [d.name for d in result.datasets]
    samples = [n.split("_")[2] for n in names]
    assert samples == ["Cells-s01", "Cells-s02"]
    for acq, dataset in zip(acqs, result.datasets, strict=True):
        side = json.loads(dataset.sidecar_path.read_text())
        assert side["source"]["scene"] == acq.scene_index
        assert side["name_parts"]["sample"] == f"Cells-s{acq.scene_index + 1:02d}"


@pytest.mark.parametrize("key", list(FILES))
def test_csv_sidecar_checksums_and_crate(saved: dict, key: str) -> None:
    acqs, result, _ = saved["results"][key]
    for acq, dataset in zip(acqs, result.datasets, strict=True):
        folder = dataset.folder
        raw_sha = sha256_file(acq.path)
        assert raw_sha == EXPECTED["files"][FILES[key]]["sha256"]
        name = dataset.name

        table = read_csv(folder / f"{name}_measurements.csv", MEASUREMENT_COLUMNS)
        size_t, size_c, size_z = acq.data.shape[:3]
        assert len(table) == size_t * size_c * size_z
        assert (table["source_sha256"] == raw_sha).all()
        assert (table["name"] == name).all()
        assert str(table["mean_adu"].dtype) == "float64"
        assert str(table["channel"].dtype) == "Int64"
        plane = np.asarray(reopen(acq).data[0, 0, 0].compute())
        first = table[(table.channel == 0) & (table.z == 0) & (table.t == 0)].iloc[0]
        assert first["mean_adu"] == pytest.approx(plane.mean(), rel=1e-9)
        assert first["max_adu"] == plane.max()
        assert first["pixel_size_x_um"] == pytest.approx(
            acq.metadata.pixel_size_x_um.value
        )

        side = json.loads((folder / f"{name}.json").read_text())
        assert side["schema_version"] == "1.3.0"
        assert side["language"] == "en"  # the language of its texts for people
        assert side["source"]["sha256"] == raw_sha
        assert side["acquisition"]["pixel_size_x_um"]["value"] == pytest.approx(
            acq.metadata.pixel_size_x_um.value
        )
        assert side["rembi"]["study"]["title"] == "Save test"
        assert side["form"]["naming"]["project"] == "TNT"
        assert side["form"]["sources"]["naming.project"] == "operator"
        assert side["dublin_core"]
        assert side["datacite"]["resource_type_general"] == "Image"
        assert "napari-fairly" in side["software"]
        assert side["qc"]["rows"]
        columns = {
            c["name"]: c["unit"]
            for c in side["csv_columns"][f"{name}_measurements.csv"]
        }
        assert columns["pixel_size_x_um"] == "um"
        image = side["outputs"][0]
        assert image["ngff_version"] == saved["version"]
        planes = min(size_t * size_c * size_z, VERIFY_SAMPLE_PLANES)
        assert len(image["plane_sha256"]) == planes  # the read-back's sample

        datacite = json.loads((folder / f"{name}_datacite.json").read_text())
        assert datacite["types"]["resourceTypeGeneral"] == "Image"

        # every file listed, verified by the real sha256sum
        listed = (folder / f"{name}.sha256").read_text().splitlines()
        files = {
            p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
        }
        assert {line.split("  ", 1)[1] for line in listed} == files - {f"{name}.sha256"}
        check = subprocess.run(
            ["sha256sum", "-c", "--quiet", f"{name}.sha256"],
            cwd=folder,
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        manifest = subprocess.run(
            ["sha256sum", "-c", "--quiet", f"{name}.ome.zarr.sha256"], cwd=folder
        )
        assert manifest.returncode == 0

        from rocrate.rocrate import ROCrate

        crate = ROCrate(str(folder))
        assert crate.root_dataset["name"] == "Save test"
        ids = {e.id for e in crate.get_entities()}
        # the rocrate library ends every Dataset id with "/" ("#dataset" → "#dataset/")
        assert {"file_list.tsv", "#dataset/", "#biosample", f"{name}.ome.zarr/"} <= ids
        file_list_entity = crate.dereference("file_list.tsv")
        assert file_list_entity["sha256"] == sha256_file(folder / "file_list.tsv")
        # the other files are in the file list, with their sha256
        rows = [
            line.split("\t")
            for line in (folder / "file_list.tsv").read_text().splitlines()
        ]
        assert rows[0][:6] == [
            "file_path",
            "dataset",
            "type",
            "size_in_bytes",
            "sha256",
            "encoding_format",
        ]
        by_path = {row[0]: row for row in rows[1:]}
        assert by_path[f"{name}.json"][4] == sha256_file(folder / f"{name}.json")

        report = verify_dataset(folder)
        assert report.ok, report.problems
        assert report.planes_checked == planes


def test_labels_give_object_measurements_in_physical_units(tmp_path: Path) -> None:
    acq = open_acquisition(DATA / FILES["multichannel"])
    labels = np.zeros(acq.data.shape[-2:], np.uint16)
    labels[10:20, 30:50] = 1  # 200 px
    labels[100:105, 100:105] = 7  # 25 px
    dataset = drive(
        save_steps(save_request((acq,), make_form(acq), tmp_path, labels=labels))
    ).datasets[0]
    import pandas as pd

    objects = pd.read_csv(dataset.folder / f"{dataset.name}_objects.csv")
    assert list(objects["label"]) == [1, 7]
    px = acq.metadata.pixel_size_x_um.value
    assert objects["area_um2"].tolist() == pytest.approx([200 * px * px, 25 * px * px])
    assert objects["centroid_x_um"].iloc[0] == pytest.approx(39.5 * px)
    plane = np.asarray(acq.data[0, 2, 0].compute()).astype(float)
    assert objects["mean_intensity_c2_adu"].iloc[0] == pytest.approx(
        plane[10:20, 30:50].mean()
    )
    assert objects["max_intensity_c2_adu"].iloc[1] == plane[100:105, 100:105].max()
    assert (objects["source_sha256"] == sha256_file(acq.path)).all()
    assert verify_dataset(dataset.folder).ok


def test_copy_raw_is_byte_identical(tmp_path: Path) -> None:
    acq = open_acquisition(DATA / "dv/toxo.dv")
    dataset = drive(
        save_steps(save_request((acq,), make_form(acq), tmp_path, copy_raw=True))
    ).datasets[0]
    copy = dataset.folder / "raw" / f"{dataset.name}.dv"
    assert copy.read_bytes() == acq.path.read_bytes()
    assert verify_dataset(dataset.folder).ok


def test_rgb_samples_become_three_channels(tmp_path: Path) -> None:
    acq = open_acquisition(DATA / "czi/RGB-8bit.czi")
    assert acq.dims == "TCZYXS"
    dataset = drive(
        save_steps(save_request((acq,), make_form(acq), tmp_path))
    ).datasets[0]
    group = zarr.open_group(str(dataset.zarr_path), mode="r")
    source = np.asarray(acq.data[0, 0, 0].compute())  # Y, X, S
    level0 = group["0"]
    assert level0.shape == (3, *source.shape[:2])
    for s in range(3):
        np.testing.assert_array_equal(level0[s], source[..., s])
    channels = group.attrs["omero"]["channels"]
    assert [c["color"] for c in channels] == ["FF0000", "00FF00", "0000FF"]
    assert [c["window"]["max"] for c in channels] == [255, 255, 255]
    assert verify_dataset(dataset.folder).ok


def test_template_layout_creates_sub_folders_and_sets_thresholds(
    tmp_path: Path,
) -> None:
    from napari_fairly.core.settings import FacilityTemplate, TemplateOptions

    template = FacilityTemplate(
        facility="Test facility",
        options=TemplateOptions(destination_layout="{project}/{year}"),
    )
    acq = open_acquisition(DATA / "dv/toxo.dv")
    (session,) = sessions((acq,), make_form(acq), template=template)
    result = drive(save_steps(SaveRequest((session,), tmp_path)))
    dataset = result.datasets[0]
    assert dataset.folder.parent == tmp_path / "TNT" / "2024"
    assert verify_dataset(dataset.folder).ok


def test_session_report_is_reused_not_recomputed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from napari_fairly.core import qc

    acq = open_acquisition(DATA / "dv/toxo.dv")
    (session,) = sessions((acq,), make_form(acq))
    report = drive(session.run_qc_steps())
    assert session.qc_runs == 1

    def forbidden(*_args: object, **_kw: object) -> None:
        raise AssertionError("statistics or checks computed a second time")

    monkeypatch.setattr(qc, "PlaneStatsAccumulator", forbidden)
    monkeypatch.setattr(qc, "run_qc_steps", forbidden)
    dataset = drive(save_steps(SaveRequest((session,), tmp_path))).datasets[0]
    assert dataset.qc_report is report and session.qc_runs == 1
    side = json.loads(dataset.sidecar_path.read_text())
    # the report as saved: the source named by its file name, not its path
    assert side["qc"] == {
        **json.loads(report.to_json()),
        "source_path": session.acquisition.path.name,
    }
    table = read_csv(
        dataset.folder / f"{dataset.name}_measurements.csv", MEASUREMENT_COLUMNS
    )
    plane = report.stats.plane(0, 1, 5)
    row = table[(table.channel == 1) & (table.z == 5)].iloc[0]
    assert row["median_adu"] == plane.median_adu
    assert row["p99_9_adu"] == pytest.approx(plane.p99_9_adu)


def test_failed_checks_stop_the_save_unless_accepted(tmp_path: Path) -> None:
    from napari_fairly.core.errors import QcNotAcceptedError

    acq = open_acquisition(DATA / "nd2/example-zstack.nd2")  # z-step 8x undersampled
    (session,) = sessions((acq,), make_form(acq))
    with pytest.raises(QcNotAcceptedError, match="nyquist_z") as caught:
        drive(save_steps(SaveRequest((session,), tmp_path / "out")))
    assert "nyquist_z (channel 1)" in caught.value.failed
    # nothing written: no dataset, no temporary folder left
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    report = session.report
    assert report is not None and report.failed and session.qc_runs == 1
    accepted = session.accept_failures("A. Lebon")
    notes: list[Note] = []
    result = drive(
        save_steps(SaveRequest((session,), tmp_path / "out")), None, notes.append
    )
    assert result.datasets[0].qc_report is report and session.qc_runs == 1
    (note,) = [n for n in notes if n.kind is NoteKind.ACCEPTED_FAILURES]
    assert note.path == result.datasets[0].sidecar_path  # the published one
    assert "A. Lebon" in note.text and "nyquist_z (channel 1)" in note.text
    side = json.loads(result.datasets[0].sidecar_path.read_text())
    assert side["qc_acceptance"]["by"] == "A. Lebon"
    assert side["qc_acceptance"]["checks"] == list(accepted.checks)
    assert "nyquist_z (channel 1)" in side["qc_acceptance"]["checks"]
    assert verify_dataset(result.datasets[0].folder).ok


def test_a_refused_scene_leaves_no_other_scene_behind(tmp_path: Path) -> None:
    """Every scene is verified before any is published: one refusal, nothing kept."""
    from napari_fairly.core.errors import QcNotAcceptedError

    acqs = open_scenes("czi/WellD6-7_S2.czi")
    both = sessions(acqs, make_form(acqs[0]))
    # scene 2 only: pixels corrected to 5 µm, far coarser than Nyquist at NA 0.35
    both[1].set_fields(
        {
            "image_acquisition.pixel_size_x_um": "5",
            "image_acquisition.pixel_size_y_um": "5",
        }
    )
    steps: list[Progress] = []
    with pytest.raises(QcNotAcceptedError, match="nyquist_x"):
        drive(save_steps(SaveRequest(both, tmp_path / "out")), steps.append)
    assert any(s.step.endswith("scene 1: verified") for s in steps)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert both[0].report is not None and not both[0].report.failed


def test_preload_loads_what_a_save_imports() -> None:
    """The Save widget warms these in the background (no GUI: test_architecture)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from napari_fairly.core.export import preload\n"
        "from napari_fairly.core.qc import compiled\n"
        "preload(); preload()\n"
        "wanted = ['zarr', 'rocrate.rocrate', 'skimage.filters', 'scipy.ndimage']\n"
        "kernels = ['add_histogram', 'smooth_nearest', 'mean_2x2']\n"
        "print(all(m in sys.modules for m in wanted),\n"
        "      all(compiled._LOADED.get(k) is not None for k in kernels))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert run.stdout.split() == ["True", "True"]
