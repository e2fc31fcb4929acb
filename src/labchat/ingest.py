"""Read the corpus: find its files, decode text and repair mojibake, lift front matter into metadata, and
have PDF, Word, PowerPoint and HTML files converted to markdown (`convert`)."""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
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
MAX_FILE_BYTES = 5_000_000
"""Larger text files are skipped: embedding 5 MB of text takes minutes on a laptop CPU, 50 MB an hour."""
MAX_DOCUMENT_BYTES = 50_000_000
"""The same for PDF and Office files, whose bytes are mostly pictures and fonts rather than text."""


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


def read_file(path: Path, corpus_dir: Path) -> SourceFile | Skipped:
    """Decode and repair a text file, or convert a document to markdown; Skipped, with a warning naming
    the file and the reason, when it cannot be read (an empty file is skipped without one)."""
    rel = path.relative_to(corpus_dir).as_posix()
    suffix = path.suffix.lower()
    limit = MAX_DOCUMENT_BYTES if suffix in DOCUMENT_SUFFIXES else MAX_FILE_BYTES
    try:
        if path.stat().st_size > limit:
            return _skip(path, rel, f"larger than {limit // 1_000_000} MB; split it into smaller files")
        data = path.read_bytes()
    except OSError as err:
        return _skip(path, rel, err.strerror or str(err))
    try:
        if suffix in DOCUMENT_SUFFIXES:
            return _converted(rel, data, convert(data, suffix))
        text = decode(data)
        if text is None:
            return _skip(path, rel, "not UTF-8 or UTF-16 text")
        if suffix in HTML_SUFFIXES:
            return _converted(rel, data, convert_html(text))
    except ConversionError as err:
        return _skip(path, rel, str(err))
    metadata, body = split_front_matter(repair_mojibake(text))
    return _source(rel, data, body, metadata)


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
    return "\n".join(ftfy.fix_encoding(_undo_mac_roman(line)) for line in text.split("\n"))


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
