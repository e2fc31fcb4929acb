"""Keep the index in step with the corpus: which files changed, what they add, what is indexed.

What is indexed is a manifest (`manifest.json` in the index folder, or read from the database: see
`store/`):
  format, embedder, dim, vectors, chunking   what the index was built with (vectors: `embed.INT8_RECIPE`
              or "float32", see `Embedder.encode_chunks`); another embedder's index is refused
  files       {path: content hash} of every file read, in the corpus's order
  skipped     {path: {"digest", "reason"}} of every file that adds nothing, and why
  stat        {path: [size, modification time]} of files whose hash need not be computed again while
              both stay the same (only for files last changed more than RACY_NS before they were read)
  segments    {path: [segment, ...]} where each file's chunks, vectors and counts are (`store.py`)
  indexed_at  {path: ISO 8601 time, UTC} when each file was last embedded (the Documents tab shows it)
  build       an id of this build: a server following the folder (`web.live`) sees a new index by it
  words       the corpus's word table and the segments changed since it was summed
  chunks, length   chunks and search tokens in all
A build embeds only chunks whose text is new (an edited file's unchanged chunks keep their vectors),
writes one segment per changed file and swaps the manifest in one step; see `store.py`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from labchat.chunking import Chunk, chunk_file, chunk_lines
from labchat.embed import Embedder
from labchat.errors import LabchatError
from labchat.ingest import LargeFile, SourceFile, file_digest, list_files, read_file
from labchat.settings import Settings
from labchat.store import (
    Store,
    StoreWriter,
    damaged,
    index_command,
    open_store,
    open_writer,
    read_indexed,
    rebuild,
    where,
)

log = logging.getLogger(__name__)

__all__ = ["BuildReport", "Index", "build_index", "current_report", "load_index", "staleness"]

FORMAT = 12
"""Raised whenever what an index holds changes, chunking and tokens included (5: irregular verb forms share
their base's token; 6: a markdown hard break ends a line in a chunk; 7: the pieces of a code name are not
counted as running words; 8: a list item is cut between its sentences, not its lines; 9: a pro's or con's
mark is spelled out in the searched text; 10: HTML tags are taken out of markdown; 11: "my" and "he" are
stopwords and "founder" shares "found"'s token; 12: "Qwen3" is searched as "qwen" too): an index of another
format is rebuilt, not read."""
RACY_NS = 2_000_000_000
"""A file changed less than this before it was read may change again within the same modification time
(file systems keep it to a second or two): its size and time are not trusted, its hash is computed."""
PART_CHUNKS = 4096
"""Chunks per segment of a large file: what is embedded and written at a time, so memory stays bounded."""


@dataclass
class Index:
    """A loaded index: the manifest and the store that searches it."""

    manifest: dict
    store: Store

    @property
    def chunks(self) -> list[Chunk]:
        """Every chunk, in the corpus's order."""
        return [chunk for path in self.manifest["files"] for chunk in self.store.file_chunks(path)]


@dataclass(frozen=True)
class BuildReport:
    files: int
    chunks: int
    embedded: int
    """Chunks whose text was new and was embedded."""
    seconds: float

    def summary(self) -> str:
        return (f"indexed {self.files} files into {self.chunks} chunks "
                f"({self.embedded} embedded) in {self.seconds:.1f} s")


def _settings_key(settings: Settings, dim: int, vectors: str = "") -> dict:
    """What an index was built with; a build keeps nothing of an index built otherwise."""
    # "-pages": chunks carry PDF page numbers and `skipped` holds reasons; "-callouts": without site
    # generators' directives and call-out marks (`chunking.without_markup`); an older index is rebuilt.
    chunking = {"chunk_chars": settings.chunk_chars,
                "splitter": "markdown-blocks-leads-labels-prose-pages-callouts"}
    return {"format": FORMAT, "embedder": settings.embedder, "dim": dim, "vectors": vectors,
            "chunking": chunking}


def _stat(path: Path, read_at: int) -> tuple[int, int] | None:
    """(size, modification time) of a file, if it is old enough to trust (see RACY_NS)."""
    info = path.stat()
    return (info.st_size, info.st_mtime_ns) if read_at - info.st_mtime_ns > RACY_NS else None


def _changes(settings: Settings, manifest: dict) -> tuple[list[tuple[Path, str]], list[str], list[str]]:
    """(changed or new files, unchanged files, files gone) against the manifest; a file whose size and time
    are those the manifest holds is not read."""
    known = {**manifest.get("files", {}), **{p: s["digest"] for p, s in manifest.get("skipped", {}).items()}}
    stat = manifest.get("stat", {})
    changed, same = [], []
    for path in list_files(settings.corpus_dir):
        rel = path.relative_to(settings.corpus_dir).as_posix()
        try:
            info = path.stat()
        except OSError:
            changed.append((path, rel))
            continue
        if rel in known and (stat.get(rel) == [info.st_size, info.st_mtime_ns]
                             or file_digest(path) == known[rel]):
            same.append(rel)
        else:
            changed.append((path, rel))
    present = {rel for _, rel in changed} | set(same)
    return changed, same, [p for p in known if p not in present]


def staleness(settings: Settings) -> str | None:
    """Why the index must be rebuilt before use (missing, other chunking, corpus changed), or None.

    An index from another embedder is not stale but foreign: `load_index` refuses it, so a user who
    pointed --index at the wrong folder is told instead of having it overwritten.
    """
    manifest = read_indexed(settings)
    if manifest is None:
        return f"no index in {where(settings)}"
    if manifest.get("embedder") != settings.embedder:
        return None
    if manifest.get("chunking") != _settings_key(settings, manifest.get("dim", 0))["chunking"]:
        return "the index was built with other chunking settings"
    if manifest.get("format") != FORMAT:
        return "the index was built by an older labchat"
    changed, _, gone = _changes(settings, manifest)
    names = sorted([rel for _, rel in changed] + gone)
    if names:
        return f"the corpus changed ({len(names)} file{'s' * (len(names) > 1)}: {', '.join(names[:3])})"
    try:
        broken = damaged(settings, manifest)
    except (KeyError, TypeError, ValueError):
        broken = ["manifest.json"]
    if broken:
        return f"the index is damaged ({len(broken)} file{'s' * (len(broken) > 1)}: {', '.join(broken[:3])})"
    return None


def current_report(settings: Settings) -> BuildReport | None:
    """The summary of an index that needs no work, found without loading any model; None if it does."""
    start = time.perf_counter()
    manifest = read_indexed(settings)
    if manifest is None or manifest.get("embedder") != settings.embedder or staleness(settings):
        return None
    return BuildReport(len(manifest["files"]), manifest["chunks"], 0, time.perf_counter() - start)


def load_index(settings: Settings, dim: int | None = None, previous: Index | None = None) -> Index:
    """Open the index for searching; refuse one built with another embedder or dimension, or damaged.
    `previous`, the index a running server replaces, lends the parts both hold."""
    manifest = read_indexed(settings)
    if manifest is None:
        raise LabchatError(f"no index in {where(settings)}: run {index_command(settings)} to build it")
    if manifest.get("format") != FORMAT or manifest.get("embedder") != settings.embedder or (
            dim is not None and manifest.get("dim") != dim):
        raise LabchatError(
            f"the index in {where(settings)} was built with embedder {manifest.get('embedder')!r} "
            f"(dimension {manifest.get('dim')}), not {settings.embedder!r}: {rebuild(settings)}")
    try:
        return Index(manifest, open_store(settings, manifest, previous and previous.store))
    except (KeyError, TypeError, ValueError) as err:
        raise LabchatError(f"the index in {where(settings)} is incomplete: {rebuild(settings)}") from err


def build_index(settings: Settings, embedder: Embedder, progress: bool = False,
                notify: Callable[[str], None] = log.info) -> BuildReport:
    """Index the files that changed (or whose segments are damaged), keep the rest, drop deleted files,
    then swap the manifest in one step. Interrupted (Ctrl-C, a kill), the previous index stays whole."""
    start = time.perf_counter()
    key = _settings_key(settings, embedder.dim, embedder.chunk_vectors)
    with open_writer(settings, key) as writer:
        changed, same, gone = _changes(settings, writer.indexed())
        for rel in gone:
            writer.remove(rel)
        for rel in same:
            if writer.intact(rel):
                writer.keep(rel, _stat(settings.corpus_dir / rel, time.time_ns()))
            else:
                changed.append((settings.corpus_dir / rel, rel))
        if changed:
            notify(f"indexing {len(changed)} changed file{'s' * (len(changed) > 1)}")
        embedding = _Embedding(embedder, writer, settings, progress, sum(_size(p) for p, _ in changed))
        with embedding.bar, ThreadPoolExecutor(max_workers=1) as writing:
            # A file's segment is written while the next file is embedded: the writer's Python work runs
            # while onnxruntime, which lets go of the GIL, computes.
            pending: Future | None = None
            for path, rel in changed:
                read_at = time.time_ns()
                source = read_file(path, settings.corpus_dir)
                stat = _stat_or_none(path, read_at)
                if isinstance(source, LargeFile):  # embedded part by part as it is read, and shown so
                    if pending:
                        pending.result()
                    pending = None
                    writer.put(rel, source.digest, stat, embedding.large_parts(source))
                    continue
                if isinstance(source, SourceFile):
                    job = functools.partial(writer.put, rel, source.digest, stat, [embedding.part(source)])
                else:
                    job = functools.partial(writer.skip, rel, file_digest(path), stat, source.reason)
                if pending:
                    pending.result()
                pending = writing.submit(job)
                embedding.bar.update(_size(path))
            if pending:
                pending.result()
        manifest = writer.commit()
    return BuildReport(len(manifest["files"]), manifest["chunks"], embedding.embedded,
                       time.perf_counter() - start)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _stat_or_none(path: Path, read_at: int) -> tuple[int, int] | None:
    try:
        return _stat(path, read_at)
    except OSError:
        return None


class _Embedding:
    """Vectors for a file's chunks: the ones its previous version already had for the same text are kept,
    each new text is embedded once. Counts what it embeds, and shows progress over the bytes to read."""

    def __init__(self, embedder: Embedder, writer: StoreWriter, settings: Settings, progress: bool,
                 total: int) -> None:
        from tqdm import tqdm

        self.embedder, self.writer, self.settings = embedder, writer, settings
        self.embedded = 0
        self.bar = tqdm(total=total, unit="B", unit_scale=True, desc="indexing", disable=not progress,
                        dynamic_ncols=True)

    def part(self, source: SourceFile) -> tuple[list[Chunk], np.ndarray]:
        """A file read whole: its chunks with their vectors."""
        chunks = chunk_file(source, self.settings.chunk_chars)
        return chunks, self._vectors(source.path, chunks)

    def large_parts(self, source: LargeFile) -> Iterator[tuple[list[Chunk], np.ndarray]]:
        """A large file's chunks with their vectors, PART_CHUNKS at a time, each embedded as it is read."""
        stream = chunk_lines(source.path, source.lines(lambda block: self.bar.update(len(block))),
                             self.settings.chunk_chars, source.metadata.get("title", ""))
        for chunks in iter(lambda: list(islice(stream, PART_CHUNKS)), []):
            yield chunks, self._vectors(source.path, chunks)

    def _vectors(self, path: str, chunks: list[Chunk]) -> np.ndarray:
        texts = [c.search_text for c in chunks]
        known = self.writer.known_vectors(path, texts)
        new = list(dict.fromkeys(t for t, v in zip(texts, known, strict=True) if v is None))
        fresh = dict(zip(new, self.embedder.encode_chunks(new), strict=True)) if new else {}
        self.embedded += sum(v is None for v in known)
        self.bar.set_postfix_str(f"{self.embedded:,} chunks embedded", refresh=False)
        vectors = np.zeros((len(texts), self.embedder.dim), dtype=np.float32)
        for row, (text, vector) in enumerate(zip(texts, known, strict=True)):
            vectors[row] = fresh[text] if vector is None else vector
        return vectors
