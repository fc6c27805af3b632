"""CSV cells a spreadsheet will not run: formula injection neutralised.

Spreadsheets run a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK(…)``, ``+cmd|' /C calc'!A0``), and some also after a tab or a carriage
return. Text in our CSVs comes from people (the form) and from files (file names,
channel names), so every text cell that begins so gets a leading ``'``, the mark
spreadsheets read as "this is text" (OWASP's advice). A plain number (``-1.5``,
``+3e-2``) is left alone: a spreadsheet reads it as the number it is. A cell that
begins with ``'`` gets one more, so :func:`text_of_cell` gives back exactly what
was written.
"""

from __future__ import annotations

import re

FORMULA_STARTS = frozenset("=+-@\t\r")
ESCAPE = "'"
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def safe_cell(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs as a formula."""
    if not text:
        return text
    if text[0] == ESCAPE or (
        text[0] in FORMULA_STARTS and _NUMBER.fullmatch(text) is None
    ):
        return ESCAPE + text
    return text


def text_of_cell(cell: str) -> str:
    """The text :func:`safe_cell` was given for ``cell``."""
    return cell[1:] if cell.startswith(ESCAPE) else cell
