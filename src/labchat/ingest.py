"""Read the corpus: find its text files, decode them, repair mojibake, and lift front matter into metadata."""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import ftfy
import yaml

from labchat.errors import LabchatError

log = logging.getLogger(__name__)

SUFFIXES = (".md", ".markdown", ".txt")
"""Only these are read; anything else in the corpus folder is left alone."""
MAX_FILE_BYTES = 5_000_000
"""Larger files are skipped: embedding 5 MB of text takes minutes on a laptop CPU, 50 MB most of an hour."""


@dataclass(frozen=True)
class SourceFile:
    """One corpus file as text, with the hash the index uses to tell whether it changed."""

    path: str
    """Path relative to the corpus folder, with forward slashes."""
    text: str
    digest: str
    metadata: dict[str, str] = field(default_factory=dict)


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


def read_file(path: Path, corpus_dir: Path) -> SourceFile | None:
    """Decode and repair one file; None, with a warning naming it, when it is not text or is empty."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            log.warning("skipped %s: larger than %d MB; split it into smaller files", path,
                        MAX_FILE_BYTES // 1_000_000)
            return None
        data = path.read_bytes()
    except OSError as err:
        log.warning("skipped %s: %s", path, err.strerror or err)
        return None
    text = decode(data)
    if text is None:
        log.warning("skipped %s: not UTF-8 or UTF-16 text", path)
        return None
    metadata, body = split_front_matter(repair_mojibake(text))
    if not body.strip():
        return None
    if "title" not in metadata and (title := _lone_title(body)):
        metadata["title"] = title
    rel = path.relative_to(corpus_dir).as_posix()
    return SourceFile(path=rel, text=body, digest=digest(data), metadata=metadata)


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
