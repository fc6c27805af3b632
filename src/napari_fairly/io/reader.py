"""npe2 reader: raw acquisitions as one lazy image layer per channel, with a Session.

``get_reader`` claims only what the core can open (suffix and first bytes agree, or an
OME-Zarr folder) and never raises, so napari can offer another plugin. Once claimed, a
broken file raises UnreadableFileError with a message naming the file and what to do.

Each opened scene gets one :class:`~napari_fairly.core.session.Session`, the owner of
its form, corrections, checks and decisions; every layer of the scene holds a
reference to it in ``layer.metadata["fairly_session"]`` (and its channel index in
``"fairly_channel"``), so the dock widgets find it whichever way the file was opened
(the Open acquisition panel, File › Open, drag and drop, the demo).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_fairly.core.errors import FairlyError, UnreadableFileError

if TYPE_CHECKING:
    from napari_fairly.core.reading import Acquisition
    from napari_fairly.core.session import Session

LayerData = tuple[Any, dict[str, Any], str]
ReaderFunction = Callable[[Any], list[LayerData]]

SESSION_KEY = "fairly_session"
CHANNEL_KEY = "fairly_channel"


def can_read(path: Path) -> bool:
    """Cheap check (suffix, first bytes, zarr metadata); never raises, no pixels."""
    from napari_fairly.core.reading import detect_format, is_supported_suffix

    try:
        if path.is_dir():
            return detect_format(path) == "ome-zarr"
        if not is_supported_suffix(path):
            return False
        return detect_format(path) in {"czi", "nd2", "lif", "dv", "tiff"}
    except (UnreadableFileError, OSError, ValueError):
        return False


def get_reader(path: str | list[str]) -> ReaderFunction | None:
    """npe2 ``get_reader``: a reader function when every path is ours, else None."""
    paths = [path] if isinstance(path, str) else list(path)
    if not paths:
        return None
    try:
        ok = all(can_read(Path(p)) for p in paths)
    except Exception:  # a reader hook must never raise
        return None
    return read_layers if ok else None


def start_session(acq: Acquisition, previous: Session | None = None) -> Session:
    """A new Session for a scene just opened.

    Nothing of the acquisition before is carried over (sample, condition, date,
    corrections, accepted checks); from ``previous`` come only what belongs to the
    operator: the profile fields of its form (creator, project, authors…, shown as
    coming from the profile), its facility template and its message language.
    Without ``previous`` the facility template in use is looked up; a broken one is
    reported as a warning and the form starts without it (the file still opens).
    """
    from napari_fairly.core.form import profile_from_form
    from napari_fairly.core.session import Session
    from napari_fairly.core.settings import find_template

    if previous is not None:
        return Session(
            acq,
            template=previous.template,
            profile=profile_from_form(previous.form),
            language=previous.language,
        )
    try:
        return Session(acq, template=find_template())
    except FairlyError as err:  # the template cannot be read or used with the form
        warnings.warn(f"facility template not used: {err}", stacklevel=2)
    return Session(acq)


def acquisition_layers(session: Session) -> list[LayerData]:
    """One ``(data, add_image kwargs, "image")`` tuple per channel of a session's scene.

    Layer metadata holds the session (a reference) and the channel index, nothing
    else: the acquisition, its form and its checks are read from the session.
    """
    from napari_fairly.core.display import channel_layer_specs

    layers: list[LayerData] = []
    for c, spec in enumerate(channel_layer_specs(session.acquisition)):
        data = spec.pop("data")
        spec["metadata"] = {SESSION_KEY: session, CHANNEL_KEY: c}
        layers.append((data, spec, "image"))
    return layers


def read_layers(path: str | list[str]) -> list[LayerData]:
    """Open each path (first scene), one Session each; one image layer per channel."""
    from napari_fairly.core.reading import open_acquisition

    paths = [path] if isinstance(path, str) else list(path)
    layers: list[LayerData] = []
    for p in paths:
        layers += acquisition_layers(start_session(open_acquisition(p)))
    return layers
