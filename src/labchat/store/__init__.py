"""Where the index lives, behind one small interface: add or replace a file's chunks, remove a file, search
dense, search lexical, report what is indexed (`Store` to search, `StoreWriter` to change).

Two implementations, chosen by `Settings.store`:
  local.py      the index folder (the default): per-file segments and a manifest swapped in one step
  postgres.py   a PostgreSQL database with pgvector (`--store postgresql://...`), shared by many servers
Everything else in labchat (the fusion, the evidence, the answer) is the same over both; tests run one
body over each (tests/test_store.py).

"What is indexed" is a manifest-shaped dict for both (see `index.py`): format, embedder, dim, vectors,
chunking, files, skipped, stat, indexed_at, build, chunks, and `segments` {path: [{"chunks": n}, ...]}.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol

import numpy as np

from labchat.chunking import Chunk
from labchat.lexicon import Lexicon
from labchat.settings import Settings

__all__ = ["Scores", "Store", "StoreWriter", "build_id", "damaged", "index_command", "open_store",
           "open_writer", "read_indexed", "rebuild", "where"]


@dataclass(frozen=True)
class Scores:
    """Some chunks' scores, and the lowest score any chunk of the index has (what scaling to 0..1 needs)."""

    ids: np.ndarray
    """Chunk ids, ascending (the local store numbers chunks 0..len-1 in the corpus's order)."""
    values: np.ndarray
    low: float


class Store(Protocol):
    """An index to search."""

    lexicon: Lexicon

    def __len__(self) -> int: ...

    def indexed(self) -> dict:
        """What is indexed: the manifest (files, skipped files and why, embedder, chunking)."""

    def chunks(self, ids: Iterable[int]) -> list[Chunk]: ...

    def file_chunks(self, path: str) -> list[Chunk]:
        """One file's chunks in their order (the Documents tab shows a passage in its document)."""

    def search_dense(self, vector: np.ndarray, k: int, among: np.ndarray) -> Scores:
        """The k best chunks by cosine, the chunks `among` too, and the lowest score of any chunk (what the
        fusion scales by)."""

    def search_lexical(self, tokens: Sequence[str]) -> Scores:
        """BM25 scores of the chunks holding any of the (search) tokens."""


class StoreWriter(Protocol):
    """Changes to an index. The local folder publishes them all at once in `commit`; a database applies
    each file's change in one transaction."""

    def indexed(self) -> dict:
        """What was indexed when the writer opened (the manifest)."""

    def intact(self, path: str) -> bool:
        """Whether a file's stored chunks can be kept (a damaged segment is indexed again)."""

    def put(self, path: str, digest: str, stat: tuple[int, int] | None,
            parts: Iterable[tuple[list[Chunk], np.ndarray]]) -> None:
        """Add or replace a file: its chunks and their vectors, in parts (a large file in several); `stat`
        is its (size, modification time) if they can be trusted to tell a later change."""

    def remove(self, path: str) -> None: ...

    def skip(self, path: str, digest: str, stat: tuple[int, int] | None, reason: str) -> None:
        """Record a file that adds nothing, and why (it stays in the report of what is indexed)."""

    def keep(self, path: str, stat: tuple[int, int] | None) -> None:
        """A file that did not change (its size or time may have)."""

    def known_vectors(self, path: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        """The vectors already stored for the file's chunks with these search texts (None if new)."""

    def commit(self) -> dict:
        """Publish the changes; returns what is now indexed."""


def _backend(settings: Settings) -> ModuleType:
    if settings.store:
        from labchat.store import postgres

        return postgres
    from labchat.store import local

    return local


def where(settings: Settings) -> str:
    """The index's place as a message names it: the folder, or the database (its password left out)."""
    return _backend(settings).where(settings)


def index_command(settings: Settings) -> str:
    """The command that builds this index, as a message names it."""
    return f"`labchat index{' --store URL' * bool(settings.store)}`"


def rebuild(settings: Settings) -> str:
    """What to run to build the index again."""
    return f"run {index_command(settings)} to rebuild it"


def read_indexed(settings: Settings) -> dict | None:
    """The manifest of what is indexed, or None if nothing is."""
    return _backend(settings).read_indexed(settings)


def build_id(settings: Settings) -> str | None:
    """The id of the index's last change, read cheaply (a server polls it to see other processes' builds)."""
    return _backend(settings).build_id(settings)


def damaged(settings: Settings, manifest: dict) -> list[str]:
    """The parts of the index the manifest names that are missing or cut short."""
    return _backend(settings).damaged(settings, manifest)


def open_store(settings: Settings, manifest: dict, previous: Store | None = None) -> Store:
    """The index, opened for searching (its embedder already checked against the manifest); `previous`,
    the store it replaces in a running server, lends what both hold."""
    return _backend(settings).open_store(settings, manifest, previous)


def open_writer(settings: Settings, key: dict) -> AbstractContextManager[StoreWriter]:
    """A writer for the index built with `key` (format, embedder, dim, vectors, chunking), holding the lock
    that keeps a second `labchat index` out; an index built otherwise is replaced."""
    return _backend(settings).open_writer(settings, key)
