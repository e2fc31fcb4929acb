"""Turn PDF, Word, PowerPoint and HTML files into markdown text, page by page where a file has pages.

Word, PowerPoint and HTML go through markitdown's converters (mammoth, python-pptx, BeautifulSoup with
markdownify), which keep headings, lists and tables as markdown, so they are chunked like any markdown file.
Each converter is called for its own suffix rather than through `MarkItDown.convert`, whose content
sniffing turned a damaged .pptx into "converted" garbage text instead of failing.

PDFs are read with pypdfium2 (PDFium, the engine of Chrome's PDF viewer), one page at a time, because
markitdown returns one text for a whole PDF and a page number must travel with every chunk. Measured on
the two real PDFs on this machine (the shared-mime-info spec, 17 pages; the libtasn1 manual, 36):
markitdown 0.1.9 ran words together ("EachapplicationprovidesonlyasingleXMLsourcefile") and made tables out
of prose whenever one page looked like a form, in 1.5-2.0 s; pdfminer.six alone spaced words well but put
lines out of reading order; pypdf and pypdfium2 both gave every line whole and in order, pypdf in 0.16-0.36 s,
pypdfium2 in 0.03-0.04 s. pypdfium2 also opens PDFs encrypted only against editing without a crypto package.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

DOCUMENT_SUFFIXES = (".pdf", ".docx", ".pptx")
"""Binary documents: converted from their bytes."""
HTML_SUFFIXES = (".html", ".htm")
"""Web pages: decoded as text like markdown, then converted."""

_PDFIUM_TEXT = str.maketrans({"\r": None, "\x02": None})
"""PDFium ends lines with \\r\\n, and writes \\x02 where a word was hyphenated across two lines (the line
break already dropped): both removed, the word is whole again ("manip\\x02ulation" -> "manipulation")."""
_SLIDE = re.compile(r"^<!-- Slide number: (\d+) -->$", re.MULTILINE)
"""markitdown's line before each slide of a deck: a slide is a page, as when a deck is printed."""


class ConversionError(Exception):
    """A document that yields no text; the message says why in a few words, after the file's name."""


@dataclass(frozen=True)
class Converted:
    """A document as markdown: (page number, text) for each page with text, or (None, text) for one
    without pages; and the title its metadata gives, if any."""

    pages: list[tuple[int | None, str]]
    title: str = ""


def convert(data: bytes, suffix: str) -> Converted:
    """A PDF, .docx or .pptx file's bytes as markdown; ConversionError when there is nothing to read."""
    if suffix == ".pdf":
        return _pdf(data)
    from markitdown import StreamInfo
    from markitdown.converters import DocxConverter, PptxConverter

    converter = DocxConverter() if suffix == ".docx" else PptxConverter()
    try:
        result = converter.convert(io.BytesIO(data), StreamInfo(extension=suffix))
    except Exception as err:  # the converters raise whatever their parsers raise (BadZipFile, KeyError, ...)
        reason = f"{type(err).__name__}: {err}".splitlines()[0]
        raise ConversionError(f"not a readable {suffix} file ({reason})") from err
    return Converted(_slides(result.markdown) if suffix == ".pptx" else [(None, result.markdown)],
                     result.title or "")


def convert_html(text: str) -> Converted:
    """A web page's main text as markdown; scripts and styles dropped, its <title> kept as the title."""
    from markitdown.converters import HtmlConverter

    result = HtmlConverter().convert_string(text)
    return Converted([(None, result.markdown)], result.title or "")


def _slides(markdown: str) -> list[tuple[int | None, str]]:
    """A deck's markdown cut at markitdown's slide markers into (slide number, text)."""
    parts = _SLIDE.split(markdown)
    if len(parts) == 1:
        return [(None, markdown)]
    return [(int(number), text) for number, text in zip(parts[1::2], parts[2::2], strict=True)]


def _pdf(data: bytes) -> Converted:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        if "password" in str(err).lower():
            raise ConversionError("encrypted: it needs a password to open; save a copy without one") from err
        raise ConversionError(f"damaged or not a PDF ({err})") from err
    with pdf:
        pages = [(n, pdf[n - 1].get_textpage().get_text_bounded().translate(_PDFIUM_TEXT))
                 for n in range(1, len(pdf) + 1)]
        title = pdf.get_metadata_dict().get("Title", "")
    pages = [(n, text) for n, text in pages if text.strip()]
    if not pages:
        raise ConversionError("no text layer, only pictures (a scan?): run OCR on it first")
    return Converted(pages, title.strip())
