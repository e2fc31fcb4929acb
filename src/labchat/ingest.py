"""Read the corpus: find its files, decode text and repair mojibake, lift front matter into metadata, and
have PDF, Word, PowerPoint and HTML files converted to markdown (`convert`). A text file larger than
PIECE_BYTES is read as a stream of lines (`LargeFile`), so that no file is too large to index."""

from __future__ import annotations

import codecs
import hashlib
import itertools
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ftfy
import yaml

from labchat.convert import (
    DOCUMENT_SUFFIXES,
    HTML_SUFFIXES,
    ConversionError,
    Converted,
    convert,
    convert_html,
)
from labchat.errors import LabchatError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
SUFFIXES = (*TEXT_SUFFIXES, *HTML_SUFFIXES, *DOCUMENT_SUFFIXES)
"""Only these are read; anything else in the corpus folder is left alone."""
PIECE_BYTES = 4_000_000
"""A text file larger than this is not held whole: it is read as a stream of lines, twice (to hash it and
find its title, then to cut it into chunks)."""
MAX_DOCUMENT_BYTES = 50_000_000
"""Larger PDF, Office and HTML files are skipped: they are converted whole, by libraries that hold them in
memory several times over (and a PDF's or a deck's bytes are mostly pictures and fonts)."""
_BLOCK = 1 << 20


@dataclass(frozen=True)
class SourceFile:
    """One corpus file as text, with the hash the index uses to tell whether it changed."""

    path: str
    """Path relative to the corpus folder, with forward slashes."""
    text: str
    digest: str
    metadata: dict[str, str] = field(default_factory=dict)
    pages: tuple[tuple[int, str], ...] = ()
    """(page number, text) of each page with text, for a PDF or a slide deck (`text` is them joined);
    empty for a file without pages."""


@dataclass(frozen=True)
class Skipped:
    """A corpus file that adds nothing to the index, and why: the warning and the manifest say it."""

    path: str
    reason: str


def list_files(corpus_dir: Path) -> list[Path]:
    """The corpus's text files in a stable order; links that lead outside the corpus are skipped."""
    if not corpus_dir.is_dir():
        raise LabchatError(f"corpus folder {corpus_dir} does not exist: create it or pass --corpus DIR")
    root = corpus_dir.resolve()
    files = []
    for path in sorted(corpus_dir.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            log.warning("skipped %s: it links outside the corpus folder", path)
            continue
        files.append(path)
    return files


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    """The hash of a file's bytes, read a block at a time; "" for a file that cannot be read."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return ""


@dataclass(frozen=True)
class LargeFile:
    """A text file too large to hold whole: its lines are read again, decoded and repaired, when it is cut
    into chunks (`lines`)."""

    path: str
    file: Path
    digest: str
    metadata: dict[str, str]

    def lines(self, seen: Callable[[bytes], object] | None = None) -> Iterator[str]:
        """The lines of its text after the front matter; each block of bytes read is handed to `seen`."""
        return _body(_lines(self.file, seen))[1]


def read_file(path: Path, corpus_dir: Path) -> SourceFile | LargeFile | Skipped:
    """Decode and repair a text file, or convert a document to markdown; Skipped, with a warning naming
    the file and the reason, when it cannot be read (an empty file is skipped without one)."""
    rel = path.relative_to(corpus_dir).as_posix()
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        if suffix in TEXT_SUFFIXES and size > PIECE_BYTES:
            return _large(path, rel)
        if suffix not in TEXT_SUFFIXES and size > MAX_DOCUMENT_BYTES:
            return _skip(path, rel, f"larger than {MAX_DOCUMENT_BYTES // 1_000_000} MB; split it into "
                         "smaller files")
        data = path.read_bytes()
    except OSError as err:
        return _skip(path, rel, err.strerror or str(err))
    try:
        if suffix in DOCUMENT_SUFFIXES:
            return _converted(rel, data, convert(data, suffix))
        text = decode(data)
        if text is None:
            return _skip(path, rel, NOT_TEXT)
        if suffix in HTML_SUFFIXES:
            return _converted(rel, data, convert_html(text))
    except ConversionError as err:
        return _skip(path, rel, str(err))
    metadata, body = split_front_matter(repair_mojibake(text))
    return _source(rel, data, body, metadata)


NOT_TEXT = "not UTF-8 or UTF-16 text"


def _large(path: Path, rel: str) -> LargeFile | Skipped:
    """Read a large text file once as a stream: its hash, whether it is text at all, its front matter and
    the lone `# Title` (`_lone_title`) that the chunks' sections are named without."""
    hasher = hashlib.sha256()
    titles: list[str] = []
    empty = True
    try:
        metadata, body = _body(_lines(path, hasher.update))
        for line in body:
            empty = empty and not line.strip()
            if len(titles) < 2 and (match := _TITLE.match(line)):
                titles.append(match.group(1).strip())
    except UnicodeDecodeError:
        return _skip(path, rel, NOT_TEXT)
    except OSError as err:
        return _skip(path, rel, err.strerror or str(err))
    if empty:
        return Skipped(rel, "empty")
    if "title" not in metadata and len(titles) == 1:
        metadata["title"] = titles[0]
    return LargeFile(rel, path, hasher.hexdigest(), metadata)


def _lines(path: Path, seen: Callable[[bytes], object] | None = None) -> Iterator[str]:
    """The file's lines (without their "\n"), decoded as `decode` would and repaired, a block at a time
    (each block also handed to `seen`); UnicodeDecodeError for bytes that are not text, NUL included."""
    with open(path, "rb") as handle:
        first = handle.read(_BLOCK)
        utf16 = first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8-sig")()
        rest = ""
        block = first
        while block:
            if seen:
                seen(block)
            text = rest + decoder.decode(block)
            if "\x00" in text:
                raise UnicodeDecodeError("utf-8", block, 0, 1, "NUL character")
            *complete, rest = text.split("\n")
            yield from map(_repair_line, complete)
            if len(rest) > 4 * _BLOCK:  # a line of megabytes (text without line breaks) is cut at a space
                cut = rest.rfind(" ", 0, 4 * _BLOCK) + 1 or 4 * _BLOCK
                yield _repair_line(rest[:cut])
                rest = rest[cut:]
            block = handle.read(_BLOCK)
        yield _repair_line(rest + decoder.decode(b"", final=True))


def _body(lines: Iterator[str]) -> tuple[dict[str, str], Iterator[str]]:
    """Front matter (as `split_front_matter` reads it, within the first lines) and the lines after it."""
    head = list(itertools.islice(lines, _FRONT_MATTER_LINES))
    metadata, body = split_front_matter("\n".join(head))
    kept = body.split("\n") if body or not head else []
    return metadata, itertools.chain(kept, lines)


_FRONT_MATTER_LINES = 200
_TITLE = re.compile(r"^# (.+)$")


def _skip(path: Path, rel: str, reason: str) -> Skipped:
    log.warning("skipped %s: %s", path, reason)
    return Skipped(rel, reason)


def _converted(rel: str, data: bytes, document: Converted) -> SourceFile | Skipped:
    """A converted document as a source; its pages kept apart so that no chunk spans two."""
    metadata = {"title": document.title} if document.title else {}
    pages = tuple((n, text) for n, text in document.pages if n is not None)
    return _source(rel, data, "\n\n".join(text for _, text in document.pages), metadata, pages)


def _source(rel: str, data: bytes, body: str, metadata: dict[str, str],
            pages: tuple[tuple[int, str], ...] = ()) -> SourceFile | Skipped:
    if not body.strip():
        return Skipped(rel, "empty")
    if "title" not in metadata and (title := _lone_title(body)):
        metadata["title"] = title
    return SourceFile(path=rel, text=body, digest=digest(data), metadata=metadata, pages=pages)


def _lone_title(text: str) -> str | None:
    """A document's only `# Heading` is its title."""
    titles = re.findall(r"^# (.+)$", text, re.MULTILINE)
    return titles[0].strip() if len(titles) == 1 else None


def decode(data: bytes) -> str | None:
    """UTF-8 (with or without BOM) or BOM-marked UTF-16; None for binary or undecodable bytes."""
    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was once decoded as Mac Roman, line by line, then let ftfy fix the rest.

    Hand-written because ftfy does not try Mac Roman for every line: on this corpus it leaves
    `❌` and `函数` broken. A line is re-decoded only when its characters all map back to Mac Roman
    bytes that form valid UTF-8, which ordinary text (accented or Chinese) never does.
    """
    return "\n".join(map(_repair_line, text.split("\n")))


def _repair_line(line: str) -> str:
    return ftfy.fix_encoding(_undo_mac_roman(line))


def _undo_mac_roman(line: str) -> str:
    if line.isascii():
        return line
    try:
        return line.encode("mac_roman").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return line


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """YAML front matter (between leading `---` lines) becomes metadata such as a title."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0:
        return {}, text
    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError:
        return {}, text
    if not isinstance(meta, dict):
        return {}, text
    body = text[end + 4:].lstrip("\n")
    return {str(k): str(v) for k, v in meta.items()}, body
