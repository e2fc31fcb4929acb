"""Cut a document into chunks that follow its markdown structure: heading sections, then whole blocks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from labchat.ingest import SourceFile

PATH_SEPARATOR = " > "
LIST_MARKER = re.compile(r"\s*(?:[-*+\u2022]|\d{1,2}[.)])\s+")
"""A list item's bullet or number (with the indent before it): markup, not words."""
MAX_LEAD = 80
"""Longest label repeated whole above the items of its list (see `lead`)."""
_NUMBERING = re.compile(r"^\d+\.\s+")
_OPENS_ITEM = r"(^|: |^\s*[-*+]\s+)"
_MARKS = ((re.compile(_OPENS_ITEM + r"([\u2705\u2714\u2611]\ufe0f?)(?=\s+\w)", re.MULTILINE),
           "strength"),
          (re.compile(_OPENS_ITEM + r"([\u274c\u2716\u2717\u2718]\ufe0f?)(?=\s+\w)", re.MULTILINE),
           "weakness"))
"""A check or a cross opening an item ("- ❌ Limited enterprise relationships") marks a pro or a con: what
"What weakness ...?" asks for, though the words are not written. A mark in a table cell is a yes or a no."""
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+")


@dataclass(frozen=True)
class Chunk:
    """A piece of one file, small enough to embed, that knows where in the file it sits."""

    path: str
    section: str
    """Heading path, e.g. `Baichuan AI > Funding and Investment`."""
    text: str
    page: int | None = None
    """The page of a PDF (or slide of a deck) the text is on; None for a file without pages."""

    @property
    def search_text(self) -> str:
        """What is embedded and matched: the heading path carries the lab a bare table row is about, and a
        pro's or con's mark is spelled out (`spell_marks`)."""
        text = spell_marks(self.text)
        return f"{self.section}\n{text}" if self.section else text


def spell_marks(text: str) -> str:
    """`text` with the mark opening a pro or a con followed by its meaning: "❌ (weakness)
    Limited enterprise relationships"."""
    for pattern, meaning in _MARKS:
        text = pattern.sub(rf"\1\2 ({meaning})", text)
    return text


def chunk_file(source: SourceFile, max_chars: int) -> list[Chunk]:
    """Split by headings (`sections`), then pack blocks up to `max_chars`; a document with pages is split
    page by page, so that every chunk has one page number."""
    title = source.metadata.get("title", "")
    return [chunk for page, text in source.pages or ((None, source.text),)
            for chunk in chunk_lines(source.path, text.split("\n"), max_chars, title, page)]


def chunk_lines(path: str, lines: Iterable[str], max_chars: int, title: str = "",
                page: int | None = None) -> Iterator[Chunk]:
    """The chunks of a file's markdown lines, as they are read: a large file need not be held whole."""
    title = _clean_heading(title)
    for parents, section_text in sections(without_markup(lines)):
        heading, body = _split_heading(section_text)
        names = [_clean_heading(h) for h in [*parents, *([heading] if heading else [])]]
        section = PATH_SEPARATOR.join(n for n in names if n and n != title) or title
        yield from (Chunk(path, section, piece, page) for piece in pack_blocks(body, max_chars))


_HTML = re.compile(r"<!--.*?-->|</?(?:a|abbr|b|br|center|details|div|em|figcaption|figure|font|h[1-6]|hr|i|"
                   r"iframe|img|li|ol|p|picture|section|small|source|span|strong|sub|summary|sup|table|tbody|"
                   r"td|th|thead|tr|u|ul|video)\b[^>]*>", re.IGNORECASE)
"""HTML tags in markdown (a README's centred logo and badges): layout, not words. Named, since docs write
placeholders the same way ("--port <int>")."""


_SHORTCODE = re.compile(r"\{\{[<%].*?[%>]\}\}|^\s*\{\*.*\*\}\s*$")
"""A site generator's directive: Hugo's shortcodes ("{{% note %}}", "{{< relref "docs" >}}") and an
include of example code ("{* docs_src/app.py hl[3] *}"): the page's machinery, not its words."""
_CALLOUT = re.compile(r"^(\s*)(?:!!!|\?\?\?\+?|///|:::)\s*(?:(?:note|tip|hint|info|warning|danger|caution|"
                      r"important|attention|example|abstract|summary|success|failure|bug|quote|question|check|"
                      r"details|admonition|seealso|todo)\b)?\s*\|?\s*(.*)$")
"""The opening or closing mark of a call-out box (MkDocs "!!! note", pymdownx "/// tip | Title", Docusaurus
":::warning"): its kind is layout; a title after it, or mkdocstrings' "::: pydantic.BaseModel", is text."""


def without_markup(lines: Iterable[str]) -> Iterator[str]:
    """Markdown lines without their HTML tags, site-generator directives and call-out marks, except in code
    blocks, where a template's tags are its text."""
    fenced = False
    for line in lines:
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced:
            yield line
            continue
        text = _SHORTCODE.sub("", _HTML.sub("", line))
        callout = _CALLOUT.match(text)
        yield callout.group(1) + callout.group(2).strip().strip('"') if callout else text


_HEADING = re.compile(r"^(#+)\s(.*)")
MAX_SECTION_CHARS = 1_000_000
"""A section is held whole until it is cut into chunks: a longer one (a large file without headings) is
given out in parts."""


def sections(lines: Iterable[str]) -> Iterator[tuple[list[str], str]]:
    """(the headings above it, its text from its own heading line on) of each section of markdown lines.

    What llama-index's MarkdownNodeParser does, line for line (headings inside ``` fences are text), written
    out because importing llama-index takes 2-7 s here, more than re-indexing an edited file should. A
    section longer than MAX_SECTION_CHARS is given out in parts, each under its heading, cut at a blank line
    (or anywhere, past four times that).
    """
    stack: list[tuple[int, str]] = []  # (level, heading) of the headings open at this line
    current: list[str] = []
    size = 0
    fenced = False
    for line in lines:
        match = None if fenced else _HEADING.match(line)
        if line.lstrip().startswith("```"):
            fenced, match = not fenced, None
        if match or (size > MAX_SECTION_CHARS and not line.strip()) or size > 4 * MAX_SECTION_CHARS:
            if text := "\n".join(current).strip():
                yield _parents(stack), text
            if match:
                level = len(match.group(1))
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, match.group(2)))
            current = [f"{'#' * stack[-1][0]} {stack[-1][1]}"] if stack else []
            size = 0
        else:
            current.append(line)
            size += len(line) + 1
    if text := "\n".join(current).strip():
        yield _parents(stack), text


def _parents(stack: list[tuple[int, str]]) -> list[str]:
    """The headings above the innermost one, as llama-index's " > "-joined path splits back into them."""
    path = PATH_SEPARATOR.join(heading for _, heading in stack[:-1])
    return [h for h in f"{PATH_SEPARATOR}{path}{PATH_SEPARATOR}".split(PATH_SEPARATOR) if h.strip()]


def _split_heading(text: str) -> tuple[str | None, str]:
    first, _, rest = text.partition("\n")
    match = re.match(r"^#+\s+(.*)", first)
    return (match.group(1), rest) if match else (None, text)


def _clean_heading(heading: str) -> str:
    return _NUMBERING.sub("", heading.strip())


def pack_blocks(body: str, max_chars: int) -> list[str]:
    """Greedily join whole blocks (paragraphs, lists, tables) into chunks of at most `max_chars`.

    llama-index's splitters cut by tokens or sentences and can split a table mid-row; here a block
    too long for one chunk is cut only between its lines, and a table keeps its header on every piece.
    """
    pieces: list[str] = []
    for block in _blocks(body):
        pieces += [block] if len(block) <= max_chars else _split_block(block, max_chars)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 2 + len(piece) <= max_chars:
            chunks[-1] += "\n\n" + piece
        else:
            chunks.append(piece)
    return chunks


def _blocks(body: str) -> list[str]:
    """Blank-line separated blocks, a table also ending where non-table lines start. A lone label line
    ("**Likely Scenarios:**") belongs to the block below it: the list it introduces, which repeats it on
    every piece."""
    blocks, current = [], []
    for line in body.split("\n"):
        if line.strip() in ("", "---") or (current and _is_row(line) != _is_row(current[-1])):
            if current and not (len(current) == 1 and _is_label(current[0]) and line.strip() != "---"):
                blocks.append("\n".join(current))
                current = []
            if line.strip() not in ("", "---"):
                current.append(line)
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _is_label(line: str) -> bool:
    return line.rstrip().endswith((":", ":**"))


def _is_row(line: str) -> bool:
    return line.lstrip().startswith("|")


def _split_block(block: str, max_chars: int) -> list[str]:
    """A block cut between lines; a table's header, and the labels a list item sits under ("Step-2: ...
    on multiple dimensions:" above "  - Creativity: Strong"), start every piece again."""
    lines, joiner = block.split("\n"), "\n"
    table: list[str] = []
    if _is_row(lines[0]):
        table, lines = lines[:2], lines[2:]
    elif len(lines) == 1 or _is_prose(lines):
        lines, joiner = _SENTENCE_END.split(" ".join(line.strip() for line in lines)), " "
    else:
        lines = _units(lines, max_chars)
    pieces: list[str] = []
    current: list[str] = []
    header = table
    labels: list[str] = []  # the label lines open above the current line, outermost first
    for line in lines:
        if current and len("\n".join(header) + joiner.join([*current, line])) >= max_chars:
            pieces.append("\n".join([*header, joiner.join(current)]))
            repeated = [_repeated(lab) for lab in labels]
            current, header = [], table + [lab for lab in repeated if len(lab) < max_chars // 3]
            if len("\n".join([*header, line])) > max_chars:  # a long line is a piece of its own
                header = table
        current.append(line)
        if not table and joiner == "\n":
            indent = _indent(line)
            labels = [lab for lab in labels if _indent(lab) < indent] + ([line] if _is_label(line) else [])
    if current:
        pieces.append("\n".join([*header, joiner.join(current)]))
    return pieces


def _units(lines: list[str], max_chars: int) -> list[str]:
    """A list's lines as the units a cut may fall between: an item with the lines it wraps onto, so "...
    guess the MIME type based" and "on the file name ..." stay in one chunk. An item longer than a chunk
    is cut between its sentences (code, between its lines)."""
    items: list[list[str]] = []
    for line in lines:
        if items and not LIST_MARKER.match(line) and not hard_break(items[-1][-1]) \
                and not _is_label(items[-1][-1]) and not line.lstrip().startswith("```"):
            items[-1].append(line)
        else:
            items.append([line])
    units: list[str] = []
    for item in items:
        if len("\n".join(item)) <= max_chars:
            units.append("\n".join(item))
        elif item[0].lstrip().startswith("```"):
            units += item
        else:
            indent = item[0][:len(item[0]) - len(item[0].lstrip())]
            first, *rest = _SENTENCE_END.split(" ".join(line.strip() for line in item))
            units += [indent + first, *rest]
    return units


def lead(line: str) -> str:
    """What a line introducing a list says of each item: the line, or its last clause if it is long ("As a
    company with ..., Tencent possessed unique assets including:" -> "Tencent possessed unique assets
    including:")."""
    text = line.strip()
    return text if len(text) <= MAX_LEAD else _SENTENCE_END.split(text)[-1].rsplit(", ", 1)[-1]


def _repeated(label: str) -> str:
    """A label as the next piece repeats it: whole if short (an item keeps its indent), else its lead."""
    return label if len(label) <= MAX_LEAD or LIST_MARKER.match(label) else lead(label)


def hard_break(line: str) -> bool:
    """Whether a line ends in a markdown hard break (two spaces or a backslash, as in a list of links, one
    per line): the next line is its own, not more of the same sentence."""
    return line.endswith(("  ", "\\"))


def _is_prose(lines: list[str]) -> bool:
    """A hard-wrapped paragraph: no list item, table row or code among its lines, nor a hard break, so they
    join as one."""
    return not any(map(hard_break, lines[:-1])) and not any(_is_row(line) or LIST_MARKER.match(line)
                                  or line.lstrip().startswith(("```", "    ")) for line in lines)


def _indent(line: str) -> int:
    """Depth of a line in a list: its leading spaces, a plain line (a label) above every item."""
    return len(line) - len(line.lstrip()) if LIST_MARKER.match(line) else -1
