"""``fairly inspect PATH [--scene N] [--json]``: what a raw file says it is."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from napari_fairly.commands import add_scene_argument, scene_index
from napari_fairly.core import strict_json
from napari_fairly.core.display import summary_text
from napari_fairly.core.i18n import _
from napari_fairly.core.reading import open_acquisition


def register(subparsers: Any) -> None:
    """Add the ``inspect`` subcommand."""
    parser = subparsers.add_parser(
        "inspect",
        help=_("show the acquisition metadata of a raw file, missing values flagged"),
        description=_(
            "Open a raw acquisition read-only and show every metadata value with its "
            "source, or why it is missing."
        ),
    )
    parser.add_argument(
        "path", help=_("raw file (CZI, ND2, LIF, DV, TIFF) or .ome.zarr folder")
    )
    add_scene_argument(parser, _("default: the first"))
    parser.add_argument(
        "--json", action="store_true", help=_("print the metadata model as JSON")
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the summary (or JSON); a FairlyError becomes exit 2 in the CLI."""
    acq = open_acquisition(args.path, scene_index(args.scene))
    if args.json:
        payload = acq.metadata.model_dump(mode="json")
        payload["scene_names"] = list(acq.scene_names)
        print(strict_json.dumps(payload))
    else:
        print(summary_text(acq.metadata, acq.scene_names))
        print(pixels_not_read(), file=sys.stderr)
    return 0


def pixels_not_read() -> str:
    """What a command that reads the metadata only says: damage in the pixels is
    not seen here (``qc`` and ``save`` read every plane)."""
    from napari_fairly.core.i18n import _

    return _("note: pixels not read; 'fairly qc FILE' reads and checks them.")
