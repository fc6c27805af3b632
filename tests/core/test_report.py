"""The dataset report: written by every save, self-contained, opened in Chromium.

Saves of real files (a DV multi-channel z-stack, an ND2 time-lapse, an RGB CZI, a
multi-channel ND2) and of the demo (OME-TIFF). Each report must show every image
(decoded by headless Chromium: Debian's ``chromium`` package), load nothing from
outside, show what the OME-Zarr holds, and come out byte for byte the same when
made again from the dataset alone.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from PIL import Image

from conftest import DATA, naming_form, save_request
from napari_fairly.core.demo import write_demo_acquisition
from napari_fairly.core.export import save_steps, verify_dataset
from napari_fairly.core.export.plan import report_name
from napari_fairly.core.export.verify import parse_sha256sum
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import open_acquisition
from napari_fairly.core.report import regenerate, report_html
from napari_fairly.core.report.images import HISTOGRAM_BINS

CHROMIUM = Path("/usr/bin/chromium")
SOURCES = {
    "dv-zstack": DATA / "dv" / "toxo.dv",
    "nd2-timelapse": DATA / "nd2" / "example-timelapse.nd2",
    "czi-rgb": DATA / "czi" / "RGB-8bit.czi",
    "nd2-multichannel": DATA / "nd2" / "example-multichannel.nd2",
}


@dataclass(frozen=True)
class Saved:
    folder: Path
    report: Path
    channels: int


def _save(path: Path, destination: Path, language: str) -> Saved:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAIRLY_LANG", language)
        acq = open_acquisition(path)
        try:
            form = naming_form(acq, "Cells")
            request = save_request([acq], form, destination)
            result = drive(save_steps(request), lambda _p: None, lambda _n: None)
        finally:
            acq.close()
    folder = result.datasets[0].folder
    sidecar = json.loads((folder / f"{folder.name}.json").read_text("utf-8"))
    channels = sidecar["outputs"][0]["shape_tczyx"][1]
    return Saved(folder, folder / report_name(folder.name), channels)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Saved]:
    """One English save per source, and the (small) demo saved in French."""
    out = {
        key: _save(path, tmp_path_factory.mktemp(key), "en")
        for key, path in SOURCES.items()
    }
    raw = tmp_path_factory.mktemp("demo-raw")
    demo = write_demo_acquisition(raw, size_z=6, size_yx=300)
    out["demo-fr"] = _save(demo, tmp_path_factory.mktemp("demo"), "fr")
    return out


class _Resources(HTMLParser):
    """Every image, link and script of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.references: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images.append(values)
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            if values.get(name):
                self.references.append(str(values[name]))


def _resources(text: str) -> _Resources:
    parser = _Resources()
    parser.feed(text)
    return parser


def _png(uri: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(uri[len(prefix) :])))


def _level(folder: Path) -> tuple[Any, dict[str, Any]]:
    """The pyramid level the report shows, read here with zarr on its own."""
    zarr_path = next(folder.glob("*.ome.zarr"))
    group = zarr.open_group(str(zarr_path), mode="r", zarr_format=2)
    attrs = dict(group.attrs)
    datasets = attrs["multiscales"][0]["datasets"]
    arrays = [group[d["path"]] for d in datasets]
    chosen = max(
        (i for i, a in enumerate(arrays) if max(a.shape[-2:]) >= 256), default=0
    )
    return arrays[chosen], attrs


# ----------------------------------------------------------------------- tests


@pytest.mark.parametrize("key", [*SOURCES, "demo-fr"])
def test_every_save_writes_a_report_listed_with_the_dataset(
    saved: dict[str, Saved], key: str
) -> None:
    dataset = saved[key]
    assert dataset.report.is_file()
    name = dataset.folder.name
    listed = parse_sha256sum((dataset.folder / f"{name}.sha256").read_text("utf-8"))
    assert (
        listed[dataset.report.name]
        == hashlib.sha256(dataset.report.read_bytes()).hexdigest()
    )
    # the BioImage Archive profile lists files in file_list.tsv, not as crate entities
    rows = (dataset.folder / "file_list.tsv").read_text("utf-8").splitlines()
    header = rows[0].split("\t")
    row = next(r.split("\t") for r in rows[1:] if r.startswith(dataset.report.name))
    assert "text/html" in row
    assert len(row) == len(header)
    assert verify_dataset(dataset.folder).ok


@pytest.mark.parametrize("key", [*SOURCES, "demo-fr"])
def test_the_report_is_self_contained_and_shows_every_channel(
    saved: dict[str, Saved], key: str
) -> None:
    dataset = saved[key]
    text = dataset.report.read_text("utf-8")
    found = _resources(text)
    assert found.scripts == 0
    assert all(r.startswith("data:image/png;base64,") for r in found.references)
    level, _attrs = _level(dataset.folder)
    height, width = level.shape[-2:]
    expected = dataset.channels + (1 if dataset.channels > 1 else 0)
    assert len(found.images) == expected
    for image in found.images:
        assert _png(str(image["src"])).size == (width, height)
    assert text.count("<svg ") == dataset.channels  # one histogram per channel
    assert str(DATA) not in text  # no local path leaks


def test_thumbnails_are_the_projection_of_the_saved_pixels(
    saved: dict[str, Saved],
) -> None:
    """toxo.dv: level 0, 17 planes: max over z, mapped with the saved window."""
    dataset = saved["dv-zstack"]
    level, attrs = _level(dataset.folder)
    found = _resources(dataset.report.read_text("utf-8"))
    channel_images = found.images[1:]  # after the composite
    for c, image in enumerate(channel_images):
        window = attrs["omero"]["channels"][c]["window"]
        projection = np.asarray(level[c]).max(axis=0).astype(np.float64)
        span = window["end"] - window["start"]
        expected = np.rint(np.clip((projection - window["start"]) * 255 / span, 0, 255))
        shown = _png(str(image["src"]))
        assert shown.mode == "P"
        assert np.array_equal(np.asarray(shown), expected.astype(np.uint8))


def test_histograms_count_every_pixel_read(saved: dict[str, Saved]) -> None:
    from napari_fairly.core.report.images import image_views

    dataset = saved["dv-zstack"]
    level, _attrs = _level(dataset.folder)
    views = image_views(next(dataset.folder.glob("*.ome.zarr")), "0.4", [65535.0] * 2)
    for c, view in enumerate(views.channels):
        assert len(view.counts) == HISTOGRAM_BINS
        assert sum(view.counts) == level.shape[1] * level.shape[2] * level.shape[3]
        reference, _edges = np.histogram(
            np.asarray(level[c]), bins=HISTOGRAM_BINS, range=(0, 65535)
        )
        assert list(view.counts) == reference.tolist()


def test_the_rgb_composite_is_its_three_channels(saved: dict[str, Saved]) -> None:
    dataset = saved["czi-rgb"]
    text = dataset.report.read_text("utf-8")
    assert "One channel was recorded: channel 1 (RGB) (excitation" in text
    images = _resources(text).images
    composite = np.asarray(_png(str(images[0]["src"])).convert("RGB"))
    for c, colour in enumerate(("red", "green", "blue")):
        indices = np.asarray(_png(str(images[c + 1]["src"])))
        assert np.array_equal(composite[..., c], indices), colour


def test_the_time_lapse_shows_its_first_time_point(saved: dict[str, Saved]) -> None:
    text = saved["nd2-timelapse"].report.read_text("utf-8")
    assert "over 1 z-plane(s) of pyramid level 0 (64 × 64 px), time point 1 of 53" in (
        text
    )


def test_the_report_speaks_the_language_of_the_save(saved: dict[str, Saved]) -> None:
    french = saved["demo-fr"].report.read_text("utf-8")
    assert '<html lang="fr">' in french
    for heading in ("Contrôles qualité", "Matériels et méthodes", "Sommes de contrôle"):
        assert f"<h2>{heading}</h2>" in french
    assert "(63×, ON 1,4, immersion huile)." in french
    # the other language's paragraph is there, folded
    assert "<summary>English version</summary>" in french
    assert "(63×, NA 1.4, oil immersion)." in french
    english = saved["dv-zstack"].report.read_text("utf-8")
    assert '<html lang="en">' in english and "<h2>Quality checks</h2>" in english
    assert "<summary>Version française</summary>" in english


@pytest.mark.parametrize("key", ["dv-zstack", "demo-fr"])
def test_a_regenerated_report_is_identical(
    saved: dict[str, Saved], key: str, tmp_path: Path
) -> None:
    dataset = saved[key]
    copy = tmp_path / dataset.folder.name
    shutil.copytree(dataset.folder, copy)
    original = (copy / dataset.report.name).read_bytes()
    (copy / dataset.report.name).unlink()
    made = regenerate(copy)  # the current language is English: fr is found
    assert made.matches
    assert made.text.encode("utf-8") == original
    assert report_html(copy) == report_html(copy)  # and again: deterministic


# ----------------------------------------------------------- headless Chromium

PROBE = (
    "<script>window.addEventListener('load',()=>{const o=document.createElement"
    "('pre');o.id='probe';o.textContent=JSON.stringify({images:[...document.images]"
    ".map(i=>[i.complete,i.naturalWidth,i.naturalHeight]),svgs:[...document."
    "querySelectorAll('svg')].map(s=>s.getBoundingClientRect().width),resources:"
    "performance.getEntriesByType('resource').map(e=>e.name)});document.body."
    "appendChild(o);});</script>"
)


def _rendered(page: Path, profile: Path) -> dict[str, Any]:
    """What Chromium decoded: every image's size, every histogram's, any fetch."""
    probed = page.with_name(page.stem + "-probe.html")
    probed.write_text(
        page.read_text("utf-8").replace("</body>", PROBE + "</body>"), "utf-8"
    )
    run = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    match = re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.S)
    assert match is not None, run.stderr[-2000:]
    result: dict[str, Any] = json.loads(match.group(1).replace("&quot;", '"'))
    return result


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.fail(
            "headless Chromium is needed to open the report: install Debian's "
            "chromium package (make system-deps does)"
        )
    return CHROMIUM


@pytest.mark.parametrize("key", [*SOURCES, "demo-fr"])
def test_chromium_shows_every_image_and_fetches_nothing(
    saved: dict[str, Saved], key: str, chromium: Path, tmp_path: Path
) -> None:
    dataset = saved[key]
    page = tmp_path / dataset.report.name
    shutil.copyfile(dataset.report, page)
    rendered = _rendered(page, tmp_path / "profile")
    level, _attrs = _level(dataset.folder)
    height, width = level.shape[-2:]
    expected = dataset.channels + (1 if dataset.channels > 1 else 0)
    assert rendered["images"] == [[True, width, height]] * expected
    assert len(rendered["svgs"]) == dataset.channels
    assert all(w > 0 for w in rendered["svgs"])
    assert rendered["resources"] == []


def test_the_chromium_probe_sees_a_broken_image(
    saved: dict[str, Saved], chromium: Path, tmp_path: Path
) -> None:
    """The check above can fail: a corrupt inline PNG decodes to nothing."""
    text = saved["dv-zstack"].report.read_text("utf-8")
    broken = re.sub(r"base64,([A-Za-z0-9+/]{40})", r"base64,AAAA\1", text, count=1)
    page = tmp_path / "broken.html"
    page.write_text(broken, "utf-8")
    images = _rendered(page, tmp_path / "profile")["images"]
    assert images[0][1] == 0 and all(w > 0 for _ok, w, _h in images[1:])


@pytest.mark.parametrize(
    ("dtype", "bin_range"),
    [
        ("uint16", (0.0, 65535.0)),
        ("uint16", (100.0, 4095.0)),  # 12-bit ceiling: values above go to the last bin
        ("int16", (-50.0, 1000.5)),
        ("uint8", (3.0, 250.0)),
        (">u2", (0.0, 4095.0)),  # another writer's big-endian chunks: the float path
        ("float32", (0.0, 1.0)),
    ],
)
def test_histogram_counts_equal_the_float_formula(
    dtype: str, bin_range: tuple[float, float]
) -> None:
    from napari_fairly.core.report.images import _bin_counts, _Binner

    rng = np.random.default_rng(7)
    kind = np.dtype(dtype)
    if kind.kind == "f":
        planes = rng.normal(0.5, 0.4, (3, 64, 80)).astype(kind)
    else:
        info = np.iinfo(kind)
        planes = rng.integers(info.min, info.max, (3, 64, 80), endpoint=True)
        planes = planes.astype(kind)
    binner = _Binner(kind, bin_range)
    binner.add(planes[:2])
    binner.add(planes[2:])
    expected = sum(_bin_counts(plane, *bin_range) for plane in planes)
    counts = binner.result()
    assert counts.dtype == np.int64
    assert counts.tolist() == expected.tolist()
    assert counts.sum() == planes.size
    assert counts[0] > 0 and counts[-1] > 0  # values below and above the range
