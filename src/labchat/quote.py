"""Passage words as an answer shows them: quoted, cut to fit, a table row as "Column: cell"."""

from __future__ import annotations

from labchat.chunking import LIST_MARKER
from labchat.evidence import Passage, row_cells

MAX_ANSWER_CHARS = 400
"""An answer is a line or two; the passages beside it hold the rest."""
LEAD = "From the documents:"


def quote(passage: Passage, limit: int) -> str:
    """The passage's words in quotes, at most `limit` characters, cut at a word boundary; a table row as
    "Column: cell; ..." (its empty cells left out), which reads shorter than the header and the row. Only
    cells with nothing in them are left out: "TBD" or "unknown" state no value (`evidence.stated` drops them),
    but they still tell the reader something."""
    marker = LIST_MARKER.match(passage.text)
    text = passage.text[marker.end():] if marker else passage.text
    if cells := row_cells(text):
        text = "; ".join(f"{h}: {c}" for h, c in cells if c.strip() not in ("", "-"))
    if len(text) > limit - 2:
        text = text[:limit - 3].rsplit(" ", 1)[0] + "\u2026"
    return f"\u201c{text}\u201d"
