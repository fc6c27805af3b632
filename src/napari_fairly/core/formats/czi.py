"""Zeiss CZI: pixels and metadata with pylibCZIrw (libCZI), OME view by bioio-czi.

Which library reads what, and why:

- Pixels: pylibCZIrw, ZEISS's own libCZI. One read per plane (T, C, Z; other axes
  such as Airyscan's H at their first index) of the scene's bounding rectangle
  (layer 0, pyramid levels left out): libCZI picks the scene's subblocks, composes
  mosaic tiles in M order, fills what no tile covers with 0 and decodes JPEG XR and
  zstd. Bgr24/Bgr48 planes come back in stored B,G,R order and are
  reversed here to R,G,B. Channels of different pixel types are each read as stored
  and cast here, value for value (libCZI's own Bgr24 → Bgr48 conversion mixes
  bytes). Handles stay open between reads, one per concurrent read.
  Not bioio-czi 3.0: its lazy read of RGB files returns the blue sample for all three
  samples (each sample chunk decodes sample 0), its in-memory read keeps B,G,R, it
  refuses files without scaling (``DAPI_GFP.czi``) and its mosaic plane took ~100 ms
  where libCZI takes under 1 ms. Not aicspylibczi (bioio-czi's backend): its
  ``read_mosaic`` composes the same planes, and pylibCZIrw is needed for the XML
  anyway.
- Metadata: the file's own XML (pylibCZIrw ``raw_metadata``), read with ElementTree:
  bioio-czi reports unset pixel sizes as 0.0, drops time increments it could read
  from the T offsets and invents names ``Channel:4..7`` for channels the metadata
  does not list.
- Time increment: the XML's ``T/Positions/Interval/Increment``, else the median step
  of ``T/Positions/List/Offsets``, else the median step of the ``TimeStamps``
  attachment (content type CZTIMS), read here: neither pylibCZIrw nor aicspylibczi
  nor bioio-czi expose attachments (czifile does, but needs Python 3.12 and
  imagecodecs). The ZISRAW layout read is the one czifile and the CZI specification
  describe; every read is bounded by the sizes the file states.
- OME view: bioio-czi's XSLT conversion of the same XML, image sizes set to the
  pixels' (as bioio-czi does). Only a view: the CZI XML stays the source.
- Attachments (Thumbnail, Label, SlidePreview, Prescan: JPEG or embedded CZI files)
  are never scenes or planes: scenes are the S indices of image subblocks in libCZI's
  statistics, and attachments are not subblocks.
"""

from __future__ import annotations

import itertools
import os
import statistics
import struct
import threading
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.formats._bounds import check_plane
from napari_fairly.core.formats._common import (
    PIXEL_SIZE,
    READ_FIX,
    SceneData,
    SceneFields,
    checked_planes,
    delayed_planes,
    fnum,
    length_um,
    lib_version,
    number,
    resolve_scene,
    seconds,
    text,
    wavelength_nm,
)
from napari_fairly.core.formats.base import FormatReader
from napari_fairly.core.i18n import _
from napari_fairly.core.metadata import ChannelMetadata, Detector, Objective
from napari_fairly.core.model import Reason, Sourced

if TYPE_CHECKING:
    from pylibCZIrw.czi import CziReader

PREFIX = "czi:Metadata/"
# libCZI pixel type → numpy dtype and samples per pixel (stored B,G,R for Bgr*)
_DTYPES = {
    "Gray8": ("uint8", 1),
    "Gray16": ("uint16", 1),
    "Gray32Float": ("float32", 1),
    "Bgr24": ("uint8", 3),
    "Bgr48": ("uint16", 3),
}
# axes libCZI knows besides T, C, Z (and S, M): read at their first index
_OTHER_AXES = {
    "R": "rotation",
    "I": "illumination",
    "H": "phase",
    "V": "view",
    "B": "block",
}


@contextmanager
def _reader(path: Path) -> Iterator[CziReader]:
    from pylibCZIrw import czi as pyczi

    with pyczi.open_czi(str(path)) as czi:
        yield czi


def _layout(czi: CziReader) -> tuple[dict[str, tuple[int, int]], dict[int, Any]]:
    """Bounding box (T, C, Z, other axes, X, Y) and scene rectangles, layer 0 only.

    Pyramid subblocks can reach past the image (rounded tile sizes); the full
    resolution extent is layer 0's. pylibCZIrw before 5 has no ``_no_pyramid``.
    """
    box = getattr(czi, "total_bounding_box_no_pyramid", None) or czi.total_bounding_box
    rects = getattr(czi, "scenes_bounding_rectangle_no_pyramid", None)
    if rects is None:
        rects = czi.scenes_bounding_rectangle
    return dict(box), dict(sorted((rects or {}).items()))


def _parse(xml: str) -> ET.Element:
    """The CZI metadata XML, written by ZEN into the operator's own file."""
    return ET.fromstring(xml)  # noqa: S314  (local raw file, opened read-only)


def _scene_names_from_xml(root: ET.Element, ids: list[int]) -> list[str]:
    """``Scene@Name`` for each scene id (by ``@Index``, else by position)."""
    by_index: dict[int, str | None] = {}
    nodes = root.iterfind("Metadata/Information/Image/Dimensions/S/Scenes/Scene")
    for i, node in enumerate(nodes):
        index = node.get("Index") or ""
        by_index[int(index) if index.isdigit() else i] = node.get("Name")
    return [by_index.get(sid) or f"scene {k}" for k, sid in enumerate(ids)]


def scene_names(path: Path) -> list[str]:
    """Scene names (``Scene@Name`` in the XML, else ``scene i``)."""
    with _reader(path) as czi:
        xml = czi.raw_metadata
        _box, rects = _layout(czi)
    return _scene_names_from_xml(_parse(xml), list(rects) or [0])


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read one scene of a CZI file."""
    pool = _HandlePool(path)
    try:
        return _open_scene(path, scene, pool)
    except Exception:
        pool.close()  # nothing will read through it
        raise


def _open_scene(path: Path, scene: int | str | None, pool: _HandlePool) -> SceneData:
    with pool.handle() as czi:  # stays open for the first plane reads
        xml = czi.raw_metadata
        box, rects = _layout(czi)
        ptypes = {c: t for c, t in czi.pixel_types.items() if t != "Invalid"}
    unknown = sorted(set(ptypes.values()) - set(_DTYPES))
    if unknown:  # Bgr96Float: libCZI cannot compose it ("not implemented yet")
        raise UnreadableFileError(
            f"pixels are stored as {', '.join(unknown)}, which libCZI cannot read.",
            fix="Export it from ZEN as 8- or 16-bit (or OME-TIFF) and open that.",
            path=path,
        )
    root = _parse(xml)
    ids = list(rects) or [0]
    names = _scene_names_from_xml(root, ids)
    index = resolve_scene(names, scene, path)
    notes: list[str] = []
    where = (ids[index], rects[ids[index]]) if rects else None
    planes = _Planes(path, box, where, ptypes, pool)
    check_plane(path, planes.shape, planes.dtype)
    lead = [box.get(a, (0, 1))[1] for a in "TCZ"]
    _check_stored(path, root, box, ids[index] if rects else None)
    notes += planes.notes()
    data = delayed_planes(planes, lead, planes.shape, planes.dtype, path)
    shapes = [(r.w, r.h) for r in rects.values()]
    shapes = shapes or [(planes.shape[1], planes.shape[0])]  # X, Y of the whole box
    ome_xml = _ome_xml(root, lead, shapes, index, notes)
    reader = lib_version("pylibCZIrw")
    if ome_xml is not None:
        reader += f" + {lib_version('bioio-czi')} (OME view)"
    fields = _metadata(root, lead[1], notes)
    fields["time_increment_s"] = _time_increment(root, path, lead[0], notes)
    return SceneData(
        data=data,
        scene_names=tuple(names),
        fields=fields,
        reader=reader,
        notes=notes,
        ome_xml=ome_xml,
        vendor_metadata=xml,
        scene_index=index,
        closers=[pool.close],
        plane_reader=checked_planes(planes, planes.shape, planes.dtype, path),
    )


def _check_stored(
    path: Path, root: ET.Element, box: dict[str, tuple[int, int]], scene: int | None
) -> None:
    """Refuse a CZI whose planes are not all stored, or whose XML states other sizes.

    libCZI composes a plane no subblock covers as background (0): a damaged subblock
    directory would give a plane of zeros where the file declares an image. Every
    (T, C, Z) of the bounding box must have a full-resolution subblock in the scene,
    and the sizes the XML states must be the box's.
    """
    image = root.find("Metadata/Information/Image")
    for axis in "TCZ":
        stated = fnum(_find(image, f"Size{axis}"))
        found = box.get(axis, (0, 1))[1]
        if stated is not None and int(stated) != found:
            raise _contradiction(
                path,
                _(
                    "its metadata states Size{axis}={stated:g} but its subblocks span "
                    "{found} along {axis}"
                ).format(axis=axis, stated=stated, found=found),
            )
    try:
        stored, end, size = _stored_planes(path)
    except (OSError, ValueError, struct.error) as err:
        raise UnreadableFileError(
            _("its subblock directory cannot be read ({why}).").format(why=err),
            fix=READ_FIX,
            path=path,
        ) from err
    if end > size:
        raise UnreadableFileError(
            _(
                "is truncated: its pixel data ends at byte {end:,} but the file has "
                "{size:,} bytes."
            ).format(end=end, size=size),
            fix=_("The copy did not finish: copy it again from the acquisition PC."),
            path=path,
        )
    ranges = [range(lo, lo + n) for lo, n in (box.get(a, (0, 1)) for a in "TCZ")]
    want = scene if scene is not None else next(iter(stored), (0,))[0]
    for t, c, z in itertools.product(*ranges):
        if (want, t, c, z) not in stored:
            raise _contradiction(
                path,
                _(
                    "its subblocks hold no pixels for plane T={t} C={c} Z={z} of the "
                    "{shape} it declares"
                ).format(
                    t=t,
                    c=c,
                    z=z,
                    shape=" x ".join(
                        f"{a}{len(r)}" for a, r in zip("TCZ", ranges, strict=True)
                    ),
                ),
            )


def _contradiction(path: Path, problem: str) -> UnreadableFileError:
    return UnreadableFileError(
        _("contradicts itself: {problem}; nothing was read.").format(problem=problem),
        fix=_(
            "The file is damaged or was written wrong: copy it again, or export it "
            "again from the acquisition software."
        ),
        path=path,
    )


class _HandlePool:
    """Open pylibCZIrw readers of one file, one per concurrent read, kept between reads.

    A read takes an idle handle (or opens one), reads, and gives it back; reads never
    share a handle, so dask's threads decode planes in parallel. ``close()`` closes
    the idle handles; one in use is closed when its read ends. Opening parses the
    subblock directory, which takes milliseconds on large mosaics: reopening for every
    plane would pay it each time.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._idle: list[CziReader] = []
        self._lock = threading.Lock()
        self._generation = 0
        self._keep = (os.cpu_count() or 4) + 1

    @contextmanager
    def handle(self) -> Iterator[CziReader]:
        """An open reader of the file, this caller's alone until the block ends."""
        from pylibCZIrw import czi as pyczi

        with self._lock:
            czi = self._idle.pop() if self._idle else None
            generation = self._generation
        if czi is None:  # what open_czi() does, without closing on return
            czi = pyczi.CziReader(str(self.path))
        try:
            yield czi
        finally:
            with self._lock:
                keep = generation == self._generation and len(self._idle) < self._keep
                if keep:
                    self._idle.append(czi)
            if not keep:
                czi.close()

    def close(self) -> None:
        """Close the idle handles; the next read opens the file again."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for czi in idle:
            czi.close()


class _Planes:
    """Plane (t, c, z) of one scene, read with libCZI; R,G,B samples last for RGB.

    Picklable: a copy in another process opens its own handles.
    """

    def __init__(
        self,
        path: Path,
        box: dict[str, tuple[int, int]],
        scene: tuple[int, Any] | None,
        ptypes: dict[int, str],
        pool: _HandlePool | None = None,
    ) -> None:
        self.path, self.box, self.scene, self.ptypes = path, box, scene, ptypes
        self.pool = pool or _HandlePool(path)
        if scene is not None:
            rect = scene[1]
            self.roi = (rect.x, rect.y, rect.w, rect.h)
        else:
            (x0, x1), (y0, y1) = box["X"], box["Y"]
            self.roi = (x0, y0, x1 - x0, y1 - y0)
        kinds = [_DTYPES[t] for t in ptypes.values()] or [_DTYPES["Gray16"]]
        self.samples = max(s for _d, s in kinds)
        self.dtype = np.result_type(*(np.dtype(d) for d, _s in kinds))
        self.shape: tuple[int, ...] = (self.roi[3], self.roi[2])
        if self.samples > 1:
            self.shape += (self.samples,)
        self.start = {a: box.get(a, (0, 1))[0] for a in "TCZ"}
        self.fixed = {a: box[a][0] for a in _OTHER_AXES if a in box}
        # a channel without subblocks has no pixel type: read as the others (all 0)
        self.fallback = next(
            (t for t, k in _DTYPES.items() if k == (self.dtype.name, self.samples)),
            "Gray16",
        )

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("path", "box", "scene", "ptypes")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def __call__(self, t: int, c: int, z: int) -> np.ndarray:
        start = self.start
        where = {"T": start["T"] + t, "C": start["C"] + c, "Z": start["Z"] + z}
        with self.pool.handle() as czi:
            out = czi.read(
                roi=self.roi,
                plane={**self.fixed, **where},
                scene=None if self.scene is None else self.scene[0],
                pixel_type=self.ptypes.get(where["C"], self.fallback),  # as stored
            )
        return self._as_plane(np.asarray(out))

    def _as_plane(self, out: np.ndarray) -> np.ndarray:
        """(Y, X, 1) → (Y, X); stored B,G,R → R,G,B; the scene's common dtype."""
        if self.samples == 1:
            return np.asarray(out[..., 0], dtype=self.dtype)
        if out.shape[-1] == 1:  # a grey channel among RGB ones: the same value thrice
            out = np.repeat(out, 3, axis=-1)
        return np.ascontiguousarray(out[..., ::-1], dtype=self.dtype)

    def notes(self) -> list[str]:
        """What the planes leave out or change, for the metadata notes."""
        notes = [
            f"the file also has axis {a} ({_OTHER_AXES[a]}) of size {hi - lo}: "
            f"planes are read at its first index ({a}={lo})."
            for a, (lo, hi) in self.box.items()
            if a in _OTHER_AXES and hi - lo > 1
        ]
        stored = sorted(set(self.ptypes.values()))
        if len(stored) > 1:
            notes.append(
                f"channels are stored as {', '.join(stored)}: read as {self.dtype}"
                + (" R,G,B" if self.samples > 1 else "")
                + ", values unchanged"
                + (
                    " (grey channels repeated in R, G and B)."
                    if self.samples > 1 and any(t.startswith("Gray") for t in stored)
                    else "."
                )
            )
        return notes


def _find(el: ET.Element | None, xpath: str) -> str | None:
    return None if el is None else el.findtext(xpath)


def _metadata(root: ET.Element, n_channels: int, notes: list[str]) -> SceneFields:
    img = root.find("Metadata/Information/Image")
    inst = root.find("Metadata/Information/Instrument")
    bits = fnum(_find(img, "ComponentBitCount"))
    fields: SceneFields = {
        "significant_bits": (
            Sourced.found(int(bits), PREFIX + "Information/Image/ComponentBitCount")
            if bits
            else Sourced.missing(PREFIX + "Information/Image/ComponentBitCount")
        ),
        **_pixel_sizes(root),
        "acquisition_date": text(
            _find(img, "AcquisitionDateAndTime"),
            PREFIX + "Information/Image/AcquisitionDateAndTime",
        ),
        **_microscope(inst),
        "objective": _objective(img, inst),
        "channels": _channels(img, inst, n_channels, notes),
    }
    return fields


def _pixel_sizes(root: ET.Element) -> SceneFields:
    """``Scaling/Items/Distance[@Id]/Value``, in metres; 0 means "not set" and stays
    invalid with its text."""
    md = root.find("Metadata")
    stated: dict[str | None, str | None] = {}  # the first Distance of each Id
    for d in md.iterfind("Scaling/Items/Distance") if md is not None else ():
        stated.setdefault(d.get("Id"), d.findtext("Value"))
    fields: SceneFields = {}
    for axis in "XYZ":
        where = f"{PREFIX}Scaling/Items/Distance[@Id='{axis}']/Value"
        raw = stated.get(axis)
        fields[PIXEL_SIZE[axis.lower()]] = (
            Sourced.missing(where, unit="µm")
            if raw is None or fnum(raw) is None
            else length_um(raw.strip(), "m", where)
        )
    return fields


def _microscope(inst: ET.Element | None) -> SceneFields:
    """The microscope's model (else its name) and type, and its manufacturer."""
    mic = inst.find("Microscopes/Microscope") if inst is not None else None
    if mic is None:
        return {}
    where = PREFIX + "Information/Instrument/Microscopes/Microscope"
    kind = mic.findtext("Type")
    model = mic.findtext("Manufacturer/Model") or mic.get("Name")
    label = " ".join(filter(None, [model, f"({kind})" if kind else None]))
    return {
        "microscope": text(label, where),
        "instrument_manufacturer": text(
            mic.findtext("Manufacturer/Manufacturer"),
            where + "/Manufacturer/Manufacturer",
        ),
    }


def _objective(img: ET.Element | None, inst: ET.Element | None) -> Objective:
    if inst is None:
        return Objective()
    objs = inst.findall("Objectives/Objective")
    ref = img.find("ObjectiveSettings/ObjectiveRef") if img is not None else None
    obj = next(
        (o for o in objs if ref is not None and o.get("Id") == ref.get("Id")), None
    )
    if obj is None and objs:
        obj = objs[0]
    if obj is None:
        return Objective()
    base = PREFIX + "Information/Instrument/Objectives/Objective"
    ri_where = PREFIX + "Information/Image/ObjectiveSettings/RefractiveIndex"
    ri = _find(img, "ObjectiveSettings/RefractiveIndex")
    if fnum(ri) is None:
        ri, ri_where = (
            obj.findtext("ImmersionRefractiveIndex"),
            base + "/ImmersionRefractiveIndex",
        )
    return Objective(
        model=text(
            obj.findtext("Manufacturer/Model") or obj.get("Name"),
            base + "/Manufacturer/Model",
        ),
        manufacturer=text(
            obj.findtext("Manufacturer/Manufacturer"),
            base + "/Manufacturer/Manufacturer",
        ),
        magnification=number(
            obj.findtext("NominalMagnification"), base + "/NominalMagnification"
        ),
        na=number(obj.findtext("LensNA"), base + "/LensNA"),
        immersion=text(obj.findtext("Immersion"), base + "/Immersion"),
        refractive_index=number(ri, ri_where),
        correction=text(obj.findtext("Correction"), base + "/Correction"),
    )


def _channels(
    img: ET.Element | None, inst: ET.Element | None, n_channels: int, notes: list[str]
) -> tuple[ChannelMetadata, ...]:
    nodes = img.findall("Dimensions/Channels/Channel") if img is not None else []
    detectors = (
        {d.get("Id"): d for d in inst.iter("Detector")} if inst is not None else {}
    )
    if nodes and len(nodes) < n_channels:
        notes.append(
            f"the file's metadata describes {len(nodes)} channels for {n_channels} "
            f"in the pixels; channels {len(nodes)}..{n_channels - 1} have no name "
            "or wavelengths."
        )
    out = []
    for i in range(n_channels):
        node = nodes[i] if i < len(nodes) else None
        if node is None:
            out.append(ChannelMetadata(index=i))
            continue
        base = f"{PREFIX}Information/Image/Dimensions/Channels/Channel[{i}]"
        exposure_ns = fnum(node.findtext("ExposureTime"))
        out.append(
            ChannelMetadata(
                index=i,
                name=text(node.get("Name"), base + "@Name"),
                fluorophore=text(node.findtext("Fluor"), base + "/Fluor"),
                excitation_wavelength_nm=wavelength_nm(
                    node.findtext("ExcitationWavelength"),
                    "nm",
                    base + "/ExcitationWavelength",
                ),
                emission_wavelength_nm=wavelength_nm(
                    node.findtext("EmissionWavelength"),
                    "nm",
                    base + "/EmissionWavelength",
                ),
                exposure_s=seconds(exposure_ns, "ns", base + "/ExposureTime")
                if exposure_ns
                else Sourced.missing(base + "/ExposureTime", unit="s"),
                acquisition_mode=text(
                    node.findtext("AcquisitionMode"), base + "/AcquisitionMode"
                ),
                illumination=text(
                    node.findtext("IlluminationType"), base + "/IlluminationType"
                ),
                contrast_method=text(
                    node.findtext("ContrastMethod"), base + "/ContrastMethod"
                ),
                pinhole_airy_units=number(
                    node.findtext("PinholeSizeAiry"), base + "/PinholeSizeAiry"
                ),
                color_rgb=text(
                    (node.findtext("Color") or "").lstrip("#")[-6:] or None,
                    base + "/Color",
                ),
                detector=_detector(node, detectors, base),
            )
        )
    return tuple(out)


def _detector(
    node: ET.Element, detectors: dict[str | None, ET.Element], base: str
) -> Detector:
    """The channel's DetectorSettings and the Instrument's Detector they refer to."""
    ref = node.find("DetectorSettings/Detector")
    det = detectors.get(ref.get("Id")) if ref is not None else None
    det_where = PREFIX + "Information/Instrument/Detectors/Detector"
    binning = node.findtext("DetectorSettings/Binning")
    return Detector(
        model=text(
            (det.findtext("Manufacturer/Model") or det.get("Name"))
            if det is not None
            else None,
            det_where + "/Manufacturer/Model",
        ),
        type=text(
            det.findtext("Type") if det is not None else None, det_where + "/Type"
        ),
        gain=number(
            node.findtext("DetectorSettings/Gain"), base + "/DetectorSettings/Gain"
        ),
        offset=number(
            node.findtext("DetectorSettings/Offset"),
            base + "/DetectorSettings/Offset",
            positive=False,
        ),
        binning=text(
            binning.replace(",", "x") if binning else None,
            base + "/DetectorSettings/Binning",
        ),
    )


_XSLT_LOCK = threading.Lock()


def _ome_xml(
    root: ET.Element,
    lead: list[int],
    shapes: list[tuple[int, int]],
    index: int,
    notes: list[str],
) -> str | None:
    """ZEN's XML converted to OME by bioio-czi's XSLT, for the tree's OME view.

    Image sizes are set to the pixels' (the XML may give the acquisition frame), as
    bioio-czi does: every image when there is one per scene, else the first.
    """
    try:
        import bioio_czi
        from bioio_czi.metadata import transform_metadata_with_xslt

        xslt = Path(bioio_czi.__file__).parent / "czi-to-ome-xslt/xslt/czi-to-ome.xsl"
        # the conversion changes the working directory while it runs
        with _XSLT_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ZEN terms outside the OME enums
            ome = transform_metadata_with_xslt(root, xslt)
            images = ome.images if len(ome.images) == len(shapes) else ome.images[:1]
            for k, image in enumerate(images):
                x, y = shapes[k if len(images) > 1 else index]
                pixels = image.pixels
                pixels.size_x, pixels.size_y = x, y
                pixels.size_t, pixels.size_c, pixels.size_z = lead
            return str(ome.to_xml())
    except Exception as err:  # a view only: the CZI XML stays the source
        notes.append(
            f"bioio-czi could not convert the metadata to OME ({_why(err)}); "
            "there is no OME view."
        )
        return None


def _why(err: Exception) -> str:
    """The first problem an error reports (for ome-types: the value it refused)."""
    errors = getattr(err, "errors", None)
    if callable(errors):
        with suppress(Exception):
            first = errors()[0]
            where = ".".join(str(k) for k in first["loc"])
            return f"{where} {first.get('input')!r} is not an OME value"
    return f"{type(err).__name__}: {(str(err).strip().splitlines() or [''])[0][:200]}"


# ---------------------------------------------------------------- attachments
# ZISRAW layout (CZI specification 1.2; czifile): a segment is a 16-byte id, the
# allocated and used sizes (int64), then its data. File header data: the attachment
# directory's position at byte 72. Attachment directory data: the entry count, 252
# bytes reserved, then 128-byte A1 entries. Attachment data: its size (int32), 12
# bytes reserved, a copy of its A1 entry, 112 bytes reserved, then the content.
_SEGMENT = struct.Struct("<16sqq")
_ENTRY = struct.Struct("<2s10xq4x16x8s80s")  # schema, position, content type, name
_MAX_ENTRIES = 1 << 16
_MAX_STAMPS = 1 << 24  # 16 M time points: more is not a time series


def _segment(
    fh: BinaryIO, pos: int, sid: bytes, head: int, size: int
) -> tuple[int, bytes]:
    """Segment ``sid`` at ``pos``: its data size (bounded by the file) and its first
    ``head`` bytes; ValueError if it is not there or too small.
    """
    if not 0 <= pos <= size - _SEGMENT.size - head:
        raise ValueError(f"segment {sid.decode()} at {pos} lies outside the file")
    fh.seek(pos)
    found, allocated, used = _SEGMENT.unpack(fh.read(_SEGMENT.size))
    stated = min(used or allocated, size - pos - _SEGMENT.size)
    if found.rstrip(b"\0") != sid:
        raise ValueError(f"no {sid.decode()} segment at {pos}")
    if head > stated:
        raise ValueError(f"segment {sid.decode()} at {pos} is too small")
    return stated, fh.read(head)


def _attachments(fh: BinaryIO, size: int) -> list[tuple[str, str, int]]:
    """(name, content type, segment position) of each entry of the directory."""
    _stated, header = _segment(fh, 0, b"ZISRAWFILE", 80, size)
    (position,) = struct.unpack_from("<q", header, 72)
    if position <= 0:
        return []
    stated, head = _segment(fh, position, b"ZISRAWATTDIR", 256, size)
    (count,) = struct.unpack_from("<i", head)
    if not 0 <= count <= min(_MAX_ENTRIES, (stated - 256) // _ENTRY.size):
        raise ValueError(f"the attachment directory states {count} entries")
    raw = fh.read(_ENTRY.size * count)
    out = []
    for k in range(count):
        schema, pos, kind, name = _ENTRY.unpack_from(raw, k * _ENTRY.size)
        if schema == b"A1":
            out.append((_cstr(name), _cstr(kind), pos))
    return out


# subblock directory (CZI specification 1.2; czifile): the file header's data holds
# its position at byte 52; its data is the entry count, 124 bytes reserved, then DV
# entries: schema, pixel type, position, part, compression, pyramid type, 5 spare
# bytes, dimension count, then that many 20-byte dimension entries (name, start,
# size, start coordinate, stored size)
_DIR_ENTRY = struct.Struct("<2siqiiB5xi")
_DIM_ENTRY = struct.Struct("<4siifi")
_MAX_SUBBLOCKS = 1 << 24


def _stored_planes(path: Path) -> tuple[set[tuple[int, int, int, int]], int, int]:
    """(S, T, C, Z) of every full-resolution subblock in the directory, where the
    last subblock ends, and the file's size.

    Every read is bounded by the sizes the file states and by the file itself; a
    directory that does not fit raises ValueError.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        _stated, header = _segment(fh, 0, b"ZISRAWFILE", 80, size)
        (position,) = struct.unpack_from("<q", header, 52)
        stated, head = _segment(fh, position, b"ZISRAWDIRECTORY", 128, size)
        (count,) = struct.unpack_from("<i", head)
        if not 0 <= count <= min(_MAX_SUBBLOCKS, (stated - 128) // _DIR_ENTRY.size):
            raise ValueError(f"the subblock directory states {count} entries")
        raw = fh.read(stated - 128)
        stored, last = _directory_entries(raw, count)
        end = 0
        if last >= 0:  # the last subblock's segment: its size, as stated
            fh.seek(last)
            found, _allocated, used = _SEGMENT.unpack(fh.read(_SEGMENT.size))
            if found.rstrip(b"\0") != b"ZISRAWSUBBLOCK":
                raise ValueError(f"no subblock at byte {last:,}")
            end = last + _SEGMENT.size + used
    return stored, end, size


def _directory_entries(
    raw: bytes, count: int
) -> tuple[set[tuple[int, int, int, int]], int]:
    """(S, T, C, Z) of the full-resolution entries, and the last entry's position."""
    stored: set[tuple[int, int, int, int]] = set()
    at, last = 0, -1
    for _k in range(count):
        _schema, _type, position, *_head, dims = _DIR_ENTRY.unpack_from(raw, at)
        last = max(last, position)
        end = at + _DIR_ENTRY.size + _DIM_ENTRY.size * dims
        if dims < 0 or end > len(raw):
            raise ValueError(f"subblock entry {_k} reaches past the directory")
        where = {b"S": 0, b"T": 0, b"C": 0, b"Z": 0}
        full = True
        for d in range(dims):
            name, start, n, _coord, kept = _DIM_ENTRY.unpack_from(
                raw, at + _DIR_ENTRY.size + _DIM_ENTRY.size * d
            )
            name = name.rstrip(b"\0")
            where[name] = start
            full = full and not (name in (b"X", b"Y") and n != kept)
        if full:
            stored.add((where[b"S"], where[b"T"], where[b"C"], where[b"Z"]))
        at = end
    return stored, last


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _time_stamps(path: Path, name: str | None) -> tuple[str, np.ndarray] | None:
    """The CZTIMS attachment (``name`` if the XML names one): its name and stamps.

    Content: its size and the stamp count (int32 each), then float64 stamps. The
    stated size is unreliable (ZEN writes 12 for one stamp); the count is checked
    against the attachment's own size instead.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        found = [
            (n, pos)
            for n, kind, pos in _attachments(fh, size)
            if kind == "CZTIMS" and name in (None, n)
        ]
        if not found:
            return None
        label, pos = found[0]
        stated, body = _segment(fh, pos, b"ZISRAWATTACH", 256 + 8, size)
        (data_size,) = struct.unpack_from("<i", body)
        if not 8 <= data_size <= stated - 256:
            raise ValueError(f"attachment {label!r} states {data_size} bytes")
        (count,) = struct.unpack_from("<i", body, 256 + 4)
        if not 0 <= count <= min(_MAX_STAMPS, (data_size - 8) // 8):
            raise ValueError(f"attachment {label!r} states {count} time stamps")
        stamps = np.frombuffer(fh.read(8 * count), "<f8")
    return label, stamps


# ---------------------------------------------------------------- time increment
_OLE_EPOCH = datetime(1899, 12, 30)  # OLE dates carry no zone


def _stamp_days(stamps: np.ndarray, img: ET.Element | None) -> bool | None:
    """True if the stamps are OLE dates (days), False if seconds, None if unknown.

    ZEN writes seconds since the controller started; czifile notes that some writers
    store OLE Automation dates. A stamp outside 1970..2100 read as a date is seconds;
    otherwise the acquisition date decides (an OLE date lands on it).
    """
    first = float(stamps[0])
    if not 25569.0 <= first <= 73051.0:
        return False
    for where in ("Dimensions/T/StartTime", "AcquisitionDateAndTime"):
        when = _date(_find(img, where))
        if when is not None:
            return abs(_OLE_EPOCH + timedelta(days=first) - when) < timedelta(days=1)
    return None


def _date(value: str | None) -> datetime | None:
    """A real date from the XML (year 1 is ZEN's "no date"), without its zone."""
    if not value:
        return None
    head, _, rest = value.strip().partition(".")
    digits = "".join(itertools.takewhile(str.isdigit, rest))[:6]
    zone = rest[len("".join(itertools.takewhile(str.isdigit, rest))) :]
    try:
        when = datetime.fromisoformat(head + (f".{digits}" if digits else "") + zone)
    except ValueError:
        return None
    return when.replace(tzinfo=None) if when.year > 1 else None


def _time_increment(
    root: ET.Element, path: Path, size_t: int, notes: list[str]
) -> Sourced[float]:
    """The XML's interval or offsets, else the TimeStamps attachment (inferred)."""
    img = root.find("Metadata/Information/Image")
    tpos = img.find("Dimensions/T/Positions") if img is not None else None
    base = PREFIX + "Information/Image/Dimensions/T/Positions/"
    inc = fnum(_find(tpos, "Interval/Increment"))
    offsets = [
        float(v)
        for v in (_find(tpos, "List/Offsets") or "").split()
        if fnum(v) is not None
    ]
    if inc:
        return seconds(inc, "s", base + "Interval/Increment")
    if len(offsets) > 1:
        steps = [b - a for a, b in itertools.pairwise(offsets)]
        return seconds(
            statistics.median(steps), "s", base + "List/Offsets (median step)"
        )
    missing: Sourced[float] = Sourced.missing(base + "Interval/Increment", unit="s")
    if size_t < 2:
        return missing
    name = _find(tpos, "BinaryList/AttachmentName")
    try:
        found = _time_stamps(path, name.strip() if name else None)
    except (OSError, ValueError, struct.error) as err:
        notes.append(f"the TimeStamps attachment cannot be read ({err}).")
        return missing
    if found is None:
        return missing
    return _from_stamps(found[0], found[1], size_t, img, notes) or missing


def _from_stamps(
    name: str,
    stamps: np.ndarray,
    size_t: int,
    img: ET.Element | None,
    notes: list[str],
) -> Sourced[float] | None:
    """Median step of the attachment's stamps, one per time point; None if unusable."""
    where = f"czi:Attachments/{name} (CZTIMS)"
    if len(stamps) != size_t:
        notes.append(
            f"the {name} attachment has {len(stamps)} time stamps for {size_t} time "
            "points: not used for the time increment."
        )
        return None
    step = float(np.median(np.diff(stamps))) if np.isfinite(stamps).all() else None
    if step is None or step <= 0:
        raw = " ".join(f"{v:g}" for v in stamps[:8])
        return Sourced.invalid(raw, where, Reason.INVALID_VALUE.value, unit="s")
    days = _stamp_days(stamps, img)
    if days is None:
        notes.append(
            f"the {name} attachment's time stamps could be seconds or OLE dates and "
            "the file has no acquisition date to tell: no time increment."
        )
        return None
    notes.append(
        f"time increment measured from the {name} attachment (median of "
        f"{len(stamps) - 1} steps{', OLE dates' if days else ''}); the XML states none."
    )
    value = step * 86400.0 if days else step
    return Sourced.inferred(value, where + " (median step)", unit="s")


class CziFormat(FormatReader):
    """Zeiss CZI files."""

    def scene_names(self, path: Path) -> list[str]:
        """See :meth:`FormatReader.scene_names`."""
        return scene_names(path)

    def open_scene(self, path: Path, scene: int | str | None) -> SceneData:
        """See :meth:`FormatReader.open_scene`."""
        return open_scene(path, scene)
