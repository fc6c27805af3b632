"""npe2 reader without a viewer: what napari would get for real multi-channel files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import DATA
from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.session import Session
from napari_fairly.io.reader import can_read, get_reader, read_layers, start_session


def test_nd2_multichannel_layers() -> None:
    path = str(DATA / "nd2/example-multichannel.nd2")
    reader = get_reader(path)
    assert reader is not None
    layers = reader(path)
    assert [kw["name"] for _d, kw, _t in layers] == [
        "Mono",
        "DAPI",
        "FITC BP",
        "TRITC BP",
    ]
    assert {t for _d, _kw, t in layers} == {"image"}
    for data, kw, _t in layers:
        assert data.shape == (256, 256)  # T and Z of size 1 dropped
        assert kw["scale"] == pytest.approx(
            (0.323390342594048, 0.323390342594048), rel=1e-9
        )
        assert kw["axis_labels"] == ("y", "x")
        assert kw["blending"] == "additive"
        assert isinstance(kw["metadata"]["fairly_session"], Session)
        assert set(kw["metadata"]) == {"fairly_session", "fairly_channel"}
        low, high = kw["contrast_limits"]
        plane = np.asarray(data)
        assert plane.min() <= low < high <= plane.max()
    # SPEC 7.2 colours from emission: none → gray, 450 → blue, 512 → green, 595 → red
    assert [kw["colormap"] for _d, kw, _t in layers] == ["gray", "blue", "green", "red"]
    assert layers[1][1]["metadata"]["fairly_channel"] == 1
    sessions = {id(kw["metadata"]["fairly_session"]) for _d, kw, _t in layers}
    assert len(sessions) == 1  # one acquisition, one session


def test_dv_z_stack_layers() -> None:
    path = str(DATA / "dv/toxo.dv")
    reader = get_reader(path)
    assert reader is not None
    layers = reader(path)
    assert len(layers) == 2
    # DV names no channels: the (inferred) emission wavelength labels them
    assert [kw["name"] for _d, kw, _t in layers] == ["525 nm", "632 nm"]
    assert [kw["colormap"] for _d, kw, _t in layers] == ["green", "red"]
    for data, kw, _t in layers:
        assert data.shape == (17, 128, 128)
        assert kw["axis_labels"] == ("z", "y", "x")
        assert kw["scale"] == pytest.approx(
            (0.30000001192092896, 0.13262000679969788, 0.13262000679969788)
        )


def test_unknown_pixel_size_gives_no_scale() -> None:
    path = str(DATA / "ome-zarr/blobs_image_v04.ome.zarr")
    reader = get_reader(path)
    assert reader is not None
    layers = reader(path)
    assert len(layers) == 3
    assert all("scale" not in kw for _d, kw, _t in layers)


def test_rgb_layer() -> None:
    path = str(DATA / "czi/RGB-8bit.czi")
    layers = get_reader(path)(path)  # type: ignore[misc]
    assert len(layers) == 1
    data, kw, _t = layers[0]
    assert kw["rgb"] is True
    assert data.shape == (624, 924, 3)
    assert "colormap" not in kw


@pytest.mark.parametrize(
    "rel",
    [
        "czi/DAPI_GFP.czi",
        "lif/testdata_2channel_xz.lif",
        "tiff/stuck.tif",
        "ome-zarr/blobs_image_v05.ome.zarr",
    ],
)
def test_claims_supported_files(rel: str) -> None:
    assert get_reader(str(DATA / rel)) is not None
    assert get_reader([str(DATA / rel)]) is not None


def test_declines_what_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "empty.czi").write_bytes(b"")
    (tmp_path / "fake.nd2").write_bytes(b"hello world, not an nd2 file")
    (tmp_path / "plain").mkdir()
    for name in ("a.png", "empty.czi", "fake.nd2", "plain", "missing.czi"):
        assert get_reader(str(tmp_path / name)) is None
        assert not can_read(tmp_path / name)
    assert get_reader([]) is None
    assert get_reader([str(DATA / "dv/toxo.dv"), str(tmp_path / "a.png")]) is None


def test_claimed_but_broken_raises_unreadable(tmp_path: Path) -> None:
    src = DATA / "nd2/cluster.nd2"
    bad = tmp_path / "cluster.nd2"
    bad.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    reader = get_reader(str(bad))
    assert reader is not None  # the header looks right
    with pytest.raises(UnreadableFileError, match=r"cluster\.nd2"):
        reader(str(bad))


def test_one_session_per_file_and_nothing_carried_over(tmp_path: Path) -> None:
    toxo, zstack = str(DATA / "dv/toxo.dv"), str(DATA / "nd2/example-zstack.nd2")
    layers = read_layers([toxo, zstack])
    first = layers[0][1]["metadata"]["fairly_session"]
    second = layers[-1][1]["metadata"]["fairly_session"]
    assert first is not second
    assert first.source.path.name == "toxo.dv"
    assert second.source.path.name == "example-zstack.nd2"
    assert first.template is None  # no facility template configured


def test_start_session_carries_the_operator_fields_only() -> None:
    from conftest import naming_form
    from napari_fairly.core.reading import open_acquisition

    previous = start_session(open_acquisition(DATA / "dv/toxo.dv"))
    previous.set_form(naming_form(previous.source, "Toxo"))
    previous.set_fields(
        {"image_acquisition.pixel_size_z_um": "0.2", "naming.condition": "Heat"}
    )
    previous.set_language("en")
    session = start_session(open_acquisition(DATA / "nd2/example-zstack.nd2"), previous)
    form = session.form
    assert form.naming.sample == "" and form.naming.condition == ""
    assert form.corrections.values == {}
    assert session.metadata.pixel_size_z_um.value == pytest.approx(6.0)
    assert form.naming.project == "TNT" and form.naming.creator == "ALebon"
    assert form.sources["naming.creator"].startswith("profile")
    assert form.study.title == "Test acquisitions"
    assert session.language == "en"
    assert session.report is None and session.acceptance is None


def test_broken_template_does_not_stop_the_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "template.yaml"
    bad.write_text("facility: A\nfixed:\n  study.colour: red\n", encoding="utf-8")
    monkeypatch.setenv("FAIRLY_TEMPLATE", str(bad))
    path = str(DATA / "dv/toxo.dv")
    with pytest.warns(UserWarning, match="facility template not used"):
        layers = read_layers(path)
    assert layers[0][1]["metadata"]["fairly_session"].template is None
