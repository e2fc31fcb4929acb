"""Adding and removing corpus files from the browser: which names are allowed, and writes that are atomic.

A name comes from whoever uploads, so it is checked before it touches the disk: a plain file name with an
accepted suffix, never a path (`../../x.md`, `/etc/x.md`), a hidden file or a control character, and
never written through a link or over a folder. An upload is copied to a temporary file in the corpus
folder, then renamed over its target in one `os.replace`: the watcher (`live`) and a build never read
half of it. A removal takes only a file the index lists.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Collection
from pathlib import Path, PurePosixPath

from labchat.errors import LabchatError
from labchat.ingest import SUFFIXES
from labchat.settings import Settings

UPLOAD_SUFFIXES = SUFFIXES
"""What an upload may be: exactly what ingestion reads (text, and documents it converts to markdown)."""
PARTIAL = ".partial"
"""Suffix of an upload still being written: not an indexed type, and the watcher ignores it."""
_MAX_NAME_BYTES = 255
"""The longest file name Linux and macOS file systems take."""


def check_name(name: str) -> str:
    """`name` if it may be written into the corpus folder as it is; LabchatError saying why not."""
    if not name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise LabchatError(f"refused {name!r}: a file name cannot be empty or hold control characters")
    if "/" in name or "\\" in name:
        raise LabchatError(f"refused {name!r}: give a file name, not a path")
    if name.startswith("."):
        raise LabchatError(f"refused {name!r}: hidden files are not accepted; rename it without the "
                           "leading dot")
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        raise LabchatError(f"refused {name!r}: only {', '.join(UPLOAD_SUFFIXES)} files are accepted")
    if len(name.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES:
        raise LabchatError(f"refused {name[:40]!r}…: the name is too long; shorten it")
    return name


def max_bytes(settings: Settings) -> int:
    """The upload limit in bytes, a megabyte being 2**20 bytes as Gradio counts it at the door."""
    return settings.upload_mb * 2**20


def add(settings: Settings, name: str, source: Path) -> bool:
    """Copy the uploaded file `source` into the corpus folder as `name`; True if it replaced a file."""
    _check_writable(settings)
    check_name(name)
    if source.stat().st_size > max_bytes(settings):
        raise LabchatError(f"refused {name!r}: larger than {settings.upload_mb} MB; split it into smaller "
                           "files")
    corpus = settings.corpus_dir.resolve()
    target = corpus / name
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise LabchatError(f"refused {name!r}: a link or folder of that name is in the corpus; rename the "
                           "upload")
    replaced = target.exists()
    partial = corpus / f".{uuid.uuid4().hex}{PARTIAL}"
    try:
        with open(source, "rb") as upload, open(partial, "xb") as copy:  # "x": never through a planted link
            shutil.copyfileobj(upload, copy)
            copy.flush()
            os.fsync(copy.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return replaced


def remove(settings: Settings, rel: str, known: Collection[str]) -> None:
    """Delete the corpus file `rel` (relative, forward slashes), which must be one of `known` (the files
    the index lists); a link is removed, never what it points to."""
    _check_writable(settings)
    parts = PurePosixPath(rel).parts
    if rel not in known or not parts or parts[0] == "/" or ".." in parts:
        raise LabchatError(f"{rel!r} is not a document of this corpus: choose one from the list")
    path = settings.corpus_dir / rel
    if not path.parent.resolve().is_relative_to(settings.corpus_dir.resolve()):
        raise LabchatError(f"{rel!r} lies outside the corpus folder: remove it there by hand")
    path.unlink(missing_ok=True)  # already gone: the next update drops it from the index all the same


def _check_writable(settings: Settings) -> None:
    if settings.read_only:
        raise LabchatError("the documents are read-only on this server: it was started with --read-only")
