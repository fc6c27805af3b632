"""Read-back checks: before the rename (SPEC 8) and later with ``fairly verify DIR``.

The OME-Zarr is reopened through zarr's own reader, an independent path from the
writer, and level-0 planes are hashed again and compared with the hashes taken while
the source was read: a sample spread over T, C and Z by default (the save hashes only
those), every plane when the save was asked to verify them all. Its OME model
(``OME/METADATA.ome.xml``) is checked against the OME schema and the image's sizes,
and its label images against the NGFF labels layout and the image's levels (and, at
the save, against the labels given, pixel for pixel).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.export.safety import HASH_BLOCK_BYTES

if TYPE_CHECKING:
    import zarr

    from napari_fairly.core.export.labels import WrittenLabels

OME_XML = ("OME", "METADATA.ome.xml")


@dataclass
class VerifyReport:
    """What was checked and every problem found; ``ok`` only when nothing is wrong."""

    folder: Path
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    planes_checked: int = 0
    strict_json: bool = True  # datasets of sidecar schema < 1.2.0 may hold NaN

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.problems

    def summary(self) -> str:
        """One line for the operator."""
        if self.ok:
            return (
                f"{self.folder}: OK ({self.files_checked} files, "
                f"{self.planes_checked} plane(s) checked)."
            )
        return f"{self.folder}: {len(self.problems)} problem(s): " + "; ".join(
            self.problems[:5]
        )


def file_sha256(path: Path) -> str:
    """sha256 of one output file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def parse_sha256sum(text: str) -> dict[str, str]:
    """``sha256sum`` lines (``<hash>  <path>``) to path → hash."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, _, path = line.partition("  ")
        out[path.lstrip("*")] = digest.strip()
    return out


def plane_key(t: int, c: int, z: int) -> str:
    """Key of a plane in the sidecar's ``plane_sha256`` map."""
    return f"{t},{c},{z}"


def spread_planes(
    shape_tczyx: tuple[int, ...], count: int | None
) -> list[tuple[int, int, int]]:
    """``count`` level-0 planes (t, c, z) spread evenly in file order, first and last
    included; every plane when ``count`` is None or covers them all."""
    size_t, size_c, size_z = (int(n) for n in shape_tczyx[:3])
    keys = [
        (t, c, z) for t in range(size_t) for c in range(size_c) for z in range(size_z)
    ]
    if count is None or len(keys) <= count:
        return keys
    picks = np.unique(np.linspace(0, len(keys) - 1, count).round().astype(int))
    return [keys[i] for i in picks]


def recorded_planes(
    plane_sha256: Mapping[str, str], shape_tczyx: tuple[int, ...]
) -> tuple[list[tuple[int, int, int]], list[str]]:
    """The planes a sidecar's ``plane_sha256`` names, and what is wrong with it."""
    keys: list[tuple[int, int, int]] = []
    problems: list[str] = []
    for text in plane_sha256:
        try:
            key = tuple(int(part) for part in text.split(","))
        except ValueError:
            key = ()
        if len(key) != 3 or not all(
            0 <= k < int(n) for k, n in zip(key, shape_tczyx[:3], strict=True)
        ):
            problems.append(f"plane_sha256 names a plane outside the image: '{text}'")
            continue
        keys.append((key[0], key[1], key[2]))
    if not plane_sha256:
        problems.append("the sidecar records no plane hash to compare")
    return sorted(keys), problems


def _open_image(
    zarr_path: Path, ngff_version: str
) -> tuple[zarr.Group, list[str], list[dict[str, Any]]] | str:
    """The root group, its axes and its levels; else what is wrong."""
    import zarr

    try:
        group = zarr.open_group(
            store=str(zarr_path),
            mode="r",
            zarr_format=2 if ngff_version == "0.4" else 3,
        )
        attrs: dict[str, Any] = dict(group.attrs)
    except Exception as err:  # any reader failure is a verification failure, reported
        return f"the OME-Zarr cannot be opened ({type(err).__name__}: {err})"
    meta = attrs.get("ome", attrs) if ngff_version == "0.5" else attrs
    multiscales = meta.get("multiscales") or []
    if not multiscales:
        return "the OME-Zarr has no multiscales metadata"
    axes = [a["name"] for a in multiscales[0].get("axes", [])]
    datasets = multiscales[0].get("datasets", [])
    if not datasets:
        return "the OME-Zarr lists no resolution levels"
    return group, axes, datasets


def _level0_problems(
    group: zarr.Group,
    axes: list[str],
    datasets: list[dict[str, Any]],
    expected: _Expected,
) -> list[str]:
    """Level 0's shape, dtype and scale against the source's; missing levels."""
    problems: list[str] = []
    array = _array(group, datasets[0]["path"])
    expected_shape = tuple(
        n for a, n in zip("tczyx", expected.shape_tczyx, strict=True) if a in axes
    )
    if tuple(array.shape) != expected_shape:
        problems.append(
            f"level 0 shape {tuple(array.shape)} != source {expected_shape}"
        )
    if np.dtype(array.dtype) != np.dtype(expected.dtype):
        problems.append(
            f"level 0 dtype {array.dtype} != source {np.dtype(expected.dtype)}"
        )
    if expected.scale0 is not None:
        written = datasets[0]["coordinateTransformations"][0]["scale"]
        if not np.allclose(written, expected.scale0, rtol=0, atol=0):
            problems.append(f"level 0 scale {written} != expected {expected.scale0}")
    for level, dataset in enumerate(datasets):
        if dataset["path"] not in group:
            problems.append(f"resolution level {level} is missing")
    return problems


def _array(group: zarr.Group, path: str) -> zarr.Array[Any]:
    """The array at ``path``; a group there is reported as a problem by the caller."""
    import zarr

    found = group[path]
    if not isinstance(found, zarr.Array):
        raise TypeError(f"'{path}' is a group, not an array")
    return found


@dataclass(frozen=True)
class _Expected:
    """What the image should be, from the save (or the sidecar)."""

    shape_tczyx: tuple[int, ...]
    dtype: str
    plane_sha256: Mapping[str, str]
    scale0: list[float] | None


class _PlaneCheck:
    """Decodes a level-0 plane and compares its sha256 with the recorded one."""

    def __init__(
        self, array: zarr.Array[Any], axes: list[str], hashes: Mapping[str, str]
    ) -> None:
        self.array = array
        self.axes = [a for a in axes if a in ("t", "c", "z")]
        self.hashes = hashes
        self.size_y = int(array.shape[-2])
        self.band_rows = int(array.chunks[-2])

    def __call__(self, key: tuple[int, int, int]) -> str | None:
        """None when the plane decodes to the recorded bytes, else the problem."""
        where = f"plane t={key[0]} c={key[1]} z={key[2]}"
        pos = dict(zip("tcz", key, strict=True))
        lead = tuple(pos[a] for a in self.axes)
        # one row of chunks at a time, hashed in order: the same bytes as the whole
        # plane, with half the memory in flight for 2×2-chunk planes
        digest = hashlib.sha256()
        try:
            for y0 in range(0, self.size_y, self.band_rows):
                index: tuple[int | slice, ...] = (*lead, slice(y0, y0 + self.band_rows))
                band = np.ascontiguousarray(self.array[index])
                band = band.astype(band.dtype.newbyteorder("<"), copy=False)
                digest.update(band.data.cast("B"))
        except Exception as err:  # a corrupt chunk fails in the codec: report it
            return f"{where} cannot be read ({err})"
        expected = self.hashes.get(plane_key(*key))
        if expected is None:
            return f"{where} has no recorded hash"
        if digest.hexdigest() != expected:
            return f"{where} differs from the source"
        return None


def check_zarr(
    zarr_path: Path,
    *,
    ngff_version: str,
    shape_tczyx: tuple[int, ...],
    dtype: str,
    plane_sha256: Mapping[str, str],
    scale0: list[float] | None = None,
    workers: int | None = None,
    planes: Sequence[tuple[int, int, int]] | None = None,
) -> tuple[list[str], int]:
    """Reopen the OME-Zarr with zarr; compare metadata and level-0 plane hashes.

    ``planes`` are the (t, c, z) planes decoded and compared with ``plane_sha256``;
    None compares every plane. Returns the problems and the number of planes checked.
    """
    opened = _open_image(zarr_path, ngff_version)
    if isinstance(opened, str):
        return [opened], 0
    group, axes, datasets = opened
    expected = _Expected(tuple(shape_tczyx), dtype, plane_sha256, scale0)
    try:
        problems = _level0_problems(group, axes, datasets, expected)
    except Exception as err:  # missing, or metadata that no longer parses
        return [f"level 0 cannot be opened ({type(err).__name__}: {err})"], 0
    if problems:
        return problems, 0
    check = _PlaneCheck(_array(group, datasets[0]["path"]), axes, plane_sha256)
    keys = list(planes) if planes is not None else spread_planes(shape_tczyx, None)
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        problems = [problem for problem in pool.map(check, keys) if problem]
    return problems, len(keys)


def check_ome_xml(
    zarr_path: Path, shape_tczyx: Sequence[int], required: bool = True
) -> list[str]:
    """``OME/METADATA.ome.xml``: valid OME-XML, one Image, the image's sizes.

    ``required`` False (``fairly verify`` of a dataset saved before it was written
    for every source): a missing file is not a problem.
    """
    from ome_types import from_xml

    path = zarr_path.joinpath(*OME_XML)
    if not path.is_file():
        return ["OME/METADATA.ome.xml is missing"] if required else []
    try:
        ome = from_xml(path.read_bytes(), validate=True)
    except Exception as err:  # lxml, xmlschema and pydantic raise their own types
        first = (str(err).strip().splitlines() or [""])[0][:200]
        return [f"OME/METADATA.ome.xml is not valid OME-XML ({first})"]
    if len(ome.images) != 1:
        return [f"OME/METADATA.ome.xml describes {len(ome.images)} images, not 1"]
    pixels = ome.images[0].pixels
    stated = (pixels.size_t, pixels.size_c, pixels.size_z, pixels.size_y, pixels.size_x)
    if tuple(stated) != tuple(int(n) for n in shape_tczyx):
        return [
            f"OME/METADATA.ome.xml sizes TCZYX {stated} != image {tuple(shape_tczyx)}"
        ]
    return []


def _labels_group(zarr_path: Path, ngff_version: str) -> tuple[Any, list[str]] | str:
    """The ``labels`` group and the label image names it lists; else the problem."""
    import zarr

    try:
        root = zarr.open_group(
            store=str(zarr_path),
            mode="r",
            zarr_format=2 if ngff_version == "0.4" else 3,
        )
        group = root["labels"]
        attrs: dict[str, Any] = dict(group.attrs)
    except Exception as err:  # any reader failure is a verification failure
        return f"the labels group cannot be opened ({type(err).__name__}: {err})"
    meta: dict[str, Any] = attrs.get("ome", attrs) if ngff_version == "0.5" else attrs
    names = meta.get("labels")
    if not isinstance(names, list) or not names:
        return "the labels group lists no label image"
    return group, [str(n) for n in names]


def _label_problems(
    group: zarr.Group, name: str, ngff_version: str, levels: int
) -> list[str]:
    """One label image: image-label metadata pointing back, the image's levels."""
    import zarr

    try:
        image = group[name]
        attrs: dict[str, Any] = dict(image.attrs)
    except Exception as err:  # a listed label image that does not open
        return [f"label image '{name}' cannot be opened ({type(err).__name__})"]
    if not isinstance(image, zarr.Group):
        return [f"label image '{name}' is an array, not a multiscale image"]
    meta: dict[str, Any] = attrs.get("ome", attrs) if ngff_version == "0.5" else attrs
    problems = []
    source: dict[str, Any] = (meta.get("image-label") or {}).get("source") or {}
    if source.get("image") != "../../":
        problems.append(f"label image '{name}' does not point back at its image")
    multiscales: list[dict[str, Any]] = meta.get("multiscales") or [{}]
    datasets: list[dict[str, Any]] = multiscales[0].get("datasets") or []
    if len(datasets) != levels:
        problems.append(
            f"label image '{name}' has {len(datasets)} levels, the image {levels}"
        )
    for dataset in datasets:
        path = str(dataset.get("path"))
        if path not in image:
            problems.append(f"label image '{name}' level {path} is missing")
    return problems


def labels_problems(
    zarr_path: Path, ngff_version: str, levels: int, required: bool = False
) -> list[str]:
    """The NGFF labels of the image: layout and levels (no labels: none, unless
    ``required``)."""
    if not (zarr_path / "labels").is_dir():
        return ["the labels group is missing"] if required else []
    opened = _labels_group(zarr_path, ngff_version)
    if isinstance(opened, str):
        return [opened]
    group, names = opened
    problems: list[str] = []
    for name in names:
        problems += _label_problems(group, name, ngff_version, levels)
    return problems


def check_labels(
    zarr_path: Path, ngff_version: str, written: WrittenLabels
) -> list[str]:
    """The label image just written: layout, levels, and level 0 decoded to the
    labels given (sha256 of the bytes)."""
    import zarr

    problems = labels_problems(zarr_path, ngff_version, written.levels, required=True)
    if problems:
        return problems
    try:
        root = zarr.open_group(
            store=str(zarr_path / written.path),
            mode="r",
            zarr_format=2 if ngff_version == "0.4" else 3,
        )
        level0 = np.ascontiguousarray(_array(root, "0")[...])
    except Exception as err:  # a corrupt chunk fails in the codec: report it
        return [f"label image '{written.name}' cannot be read ({err})"]
    level0 = level0.astype(level0.dtype.newbyteorder("<"), copy=False)
    if tuple(level0.shape) != written.shape:
        return [f"label image '{written.name}' shape {level0.shape} != {written.shape}"]
    if hashlib.sha256(level0.data.cast("B")).hexdigest() != written.sha256:
        return [f"label image '{written.name}' differs from the labels given"]
    return []


def _xml_problem(path: Path) -> str | None:
    """Why ``path`` is not well-formed XML (entities and network refused), or None."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        etree.parse(str(path), parser)
    except (etree.XMLSyntaxError, OSError) as err:
        return f"{path.name} is not well-formed XML ({err})"
    return None


def check_documents(folder: Path, name: str, strict: bool = True) -> list[str]:
    """Parse the sidecar, the DataCite record (JSON, and XML when there is one),
    the CSVs and the RO-Crate.

    ``strict``: the JSON must be RFC 8259 JSON (no NaN, no Infinity), as every save
    since sidecar schema 1.2.0 writes it; older datasets are read as Python did.
    """
    from napari_fairly.core import strict_json
    from napari_fairly.core.export.tables import MEASUREMENT_COLUMNS, read_csv

    problems: list[str] = []
    parse = strict_json.loads if strict else json.loads
    for document in (f"{name}.json", f"{name}_datacite.json", "ro-crate-metadata.json"):
        path = folder / document
        if not path.is_file():
            problems.append(f"{document} is missing")
            continue
        try:
            parse(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            problems.append(f"{document} is not valid JSON ({err})")
    xml = folder / f"{name}_datacite.xml"
    if xml.is_file():
        problems += [p for p in (_xml_problem(xml),) if p]
    measurements = folder / f"{name}_measurements.csv"
    if measurements.is_file():
        try:
            read_csv(measurements, MEASUREMENT_COLUMNS)
        except (ValueError, TypeError) as err:
            problems.append(
                f"{measurements.name} does not load with its declared types ({err})"
            )
    else:
        problems.append(f"{measurements.name} is missing")
    crate = folder / "ro-crate-metadata.json"
    if crate.is_file():
        try:
            from rocrate.rocrate import ROCrate

            loaded = ROCrate(str(folder))
            if loaded.root_dataset is None:
                problems.append("the RO-Crate has no root dataset")
        except Exception as err:  # the rocrate library raises many types
            problems.append(f"the RO-Crate does not load ({type(err).__name__}: {err})")
    return problems


def _checksum_problems(folder: Path, checksums: Path, report: VerifyReport) -> None:
    """Every file listed in ``checksums`` is there and unchanged; nothing unlisted."""
    listed = parse_sha256sum(checksums.read_text(encoding="utf-8"))
    for relative, expected in sorted(listed.items()):
        path = folder / relative
        if not path.is_file():
            report.problems.append(f"{relative} is listed but missing")
            continue
        if file_sha256(path) != expected:
            report.problems.append(f"{relative} has changed (checksum differs)")
        report.files_checked += 1
    present = {
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
    } - {checksums.name}
    for extra in sorted(present - set(listed)):
        report.problems.append(f"{extra} is not in {checksums.name}")


def _schema_at_least(version: str, minimum: tuple[int, int]) -> bool:
    """True when ``version`` (``"1.2.0"``) is ``minimum`` (major, minor) or later."""
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        return True
    return (major, minor) >= minimum


def _image_problems(folder: Path, sidecar_path: Path, report: VerifyReport) -> bool:
    """The OME-Zarr the sidecar lists, against the plane hashes it records.

    False when the sidecar cannot be read or lists no image: nothing more to check.
    """
    from napari_fairly.core.export.sidecar import SidecarError, read_sidecar

    try:
        sidecar = read_sidecar(sidecar_path)
    except OSError as err:
        report.problems.append(f"{sidecar_path.name} cannot be read ({err})")
        return False
    except SidecarError as err:
        report.problems.append(str(err))
        return False
    image = sidecar.image
    if image is None:
        report.problems.append("the sidecar lists no OME-Zarr image")
        return False
    report.strict_json = _schema_at_least(sidecar.schema_version, (1, 2))
    shape = tuple(image.shape_tczyx)
    # every plane (schema 1.0.0, --verify-all-planes), or the save's sample
    planes, problems = recorded_planes(image.plane_sha256, shape)
    report.problems.extend(problems)
    problems, checked = check_zarr(
        folder / image.path,
        ngff_version=image.ngff_version,
        shape_tczyx=shape,
        dtype=image.dtype,
        plane_sha256=image.plane_sha256,
        scale0=image.scale_level0,
        planes=planes,
    )
    report.problems.extend(problems)
    report.planes_checked = checked
    zarr_path = folder / image.path
    # datasets saved before every source had one may lack it (the checksums tell
    # whether a file that was saved has gone)
    report.problems.extend(check_ome_xml(zarr_path, shape, required=False))
    report.problems.extend(
        labels_problems(zarr_path, image.ngff_version, len(image.levels))
    )
    return True


def verify_dataset(folder: Path | str) -> VerifyReport:
    """Check a saved dataset: every checksum, the OME-Zarr pixels, the documents."""
    folder = Path(folder)
    report = VerifyReport(folder=folder)
    if not folder.is_dir():
        report.problems.append("not a folder")
        return report
    name = folder.name
    checksums = folder / f"{name}.sha256"
    if not checksums.is_file():
        report.problems.append(
            f"{checksums.name} is missing: not a napari-fairly dataset?"
        )
        return report
    _checksum_problems(folder, checksums, report)
    if _image_problems(folder, folder / f"{name}.json", report):
        report.problems.extend(check_documents(folder, name, report.strict_json))
    return report
