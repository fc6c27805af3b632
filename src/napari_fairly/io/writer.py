"""npe2 writer: File › Save Layers… writes the FAIR dataset of the layers' acquisition.

The same save as the Save dataset panel, through the same state owner: the image
layers napari-fairly opened hold their scene's :class:`~napari_fairly.core.session.
Session` (``layer.metadata["fairly_session"]``, set by the reader), with the form, the
corrections, the checks and the operator's acceptance as the panels left them. The
save gate applies as it does there: without a complete form, or with failed checks
the operator did not accept (the Save panel's tick box), nothing is written and the
error says what is missing.

- The chosen path is the destination folder: the dataset is written inside it, in
  the facility template's sub-folders, named by the form (the naming convention),
  never by the name typed in the dialog. The template's NGFF version is used.
- The whole acquisition is saved, every channel, whichever of its layers are
  selected; several acquisitions give one dataset each.
- A Labels layer selected with them is saved as the NGFF label image of the image
  (named after the layer) and measured in the objects table.

Nothing here imports napari: npe2 hands the layers over as data tuples.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.errors import FairlyError
from napari_fairly.core.i18n import _
from napari_fairly.io.reader import SESSION_KEY

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from napari_fairly.core.export import SaveRequest
    from napari_fairly.core.session import Session

LayerData = tuple[Any, dict[str, Any], str]


class SaveRefusedError(FairlyError):
    """The layers cannot be saved as they are; nothing was written.

    Not a ValueError: napari would take one for "this writer does not apply" and
    show its own message instead of this one.
    """


def _session_of(meta: dict[str, Any]) -> Session | None:
    from napari_fairly.core.session import Session

    found = (meta.get("metadata") or {}).get(SESSION_KEY)
    return found if isinstance(found, Session) else None


def layer_sessions(layers: list[LayerData]) -> list[Session]:
    """The acquisitions of the image layers, in layer order, each once.

    Raises
    ------
    SaveRefusedError
        When no image layer, or an image layer napari-fairly did not open, is
        among ``layers``.
    """
    sessions: list[Session] = []
    for _data, meta, kind in layers:
        if kind != "image":
            continue
        session = _session_of(meta)
        if session is None:
            name = meta.get("name") or _("an image layer")
            raise SaveRefusedError(
                _(
                    "layer '{name}' was not opened with napari-fairly: it has no "
                    "acquisition, form or checks to save; nothing was written."
                ).format(name=name),
                fix=_(
                    "Select only the layers of acquisitions opened with napari-fairly "
                    "(File › Open, or the Open acquisition panel)."
                ),
            )
        if all(session is not s for s in sessions):
            sessions.append(session)
    if not sessions:
        raise SaveRefusedError(
            _("no image layer is selected: there is no acquisition to save."),
            fix=_("Select the image layers of the acquisition to save."),
        )
    return sessions


def layer_labels(layers: list[LayerData]) -> tuple[NDArray[Any] | None, str | None]:
    """The selected Labels layer's label image (level 0) and name, if any."""
    for data, meta, kind in layers:
        if kind == "labels":
            level0 = data[0] if isinstance(data, list | tuple) else data
            return np.asarray(level0), str(meta.get("name") or "") or None
    return None, None


def save_request(path: str, layers: list[LayerData]) -> SaveRequest:
    """The save the selected ``layers`` ask for, into the folder ``path``.

    Raises
    ------
    SaveRefusedError
        Layers without an acquisition, labels for several acquisitions, a path that
        is a file.
    FormNotReadyError
        When a form is not complete (listed field by field).
    """
    from napari_fairly.core.export import SaveRequest

    sessions = layer_sessions(layers)
    labels, labels_name = layer_labels(layers)
    if labels is not None and len(sessions) > 1:
        raise SaveRefusedError(
            _(
                "a Labels layer was selected with the layers of {n} acquisitions: "
                "it can belong to only one; nothing was written."
            ).format(n=len(sessions)),
            fix=_("Select the layers of one acquisition with its Labels layer."),
        )
    destination = Path(path)
    if destination.is_file():
        raise SaveRefusedError(
            _("a FAIR dataset is a folder, and this path is a file."),
            fix=_("Choose a folder to save the dataset into."),
            path=destination,
        )
    for session in sessions:
        session.check_form_ready()
    return SaveRequest(
        sessions=tuple(sessions),
        destination=destination,
        ngff_version="0.5" if sessions[0].form.rules.ngff_version == "0.5" else "0.4",
        labels=labels,
        labels_name=labels_name,
    )


def write_dataset(path: str, layer_data: list[LayerData]) -> list[str]:
    """npe2 multi-layer writer: save the layers' acquisitions as FAIR datasets.

    Returns the dataset folders written. Errors that napari would take for "this
    writer does not apply" (ValueError) are raised as :class:`SaveRefusedError`, so
    the operator sees what is missing.
    """
    from napari_fairly.core.export import save_steps
    from napari_fairly.core.progress import drive

    try:
        request = save_request(path, layer_data)
        result = drive(save_steps(request))
    except SaveRefusedError:
        raise
    except FairlyError as err:
        if not isinstance(err, ValueError):
            raise
        raise SaveRefusedError(str(err)) from err
    return [str(dataset.folder) for dataset in result.datasets]
