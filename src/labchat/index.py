"""The index on disk: chunks, their FAISS vectors, and a manifest that says what they were built from.

Layout of the index folder:
  manifest.json        embedder, dimension, chunking settings, a hash per corpus file, the data folder;
                       also, per file, when it was last embedded and, for a skipped file, why
  data-<id>/           chunks.jsonl and vectors.faiss of one build
A build writes a new data folder, then replaces manifest.json in one `os.replace`: a build killed at any
moment leaves the previous index whole. The manifest holds each data file's hash, so a truncated or
damaged file is caught at load instead of giving wrong answers.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from labchat.chunking import Chunk, chunk_file
from labchat.embed import Embedder
from labchat.errors import LabchatError
from labchat.ingest import Skipped, digest, list_files, read_file
from labchat.settings import Settings

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
REBUILD = "run `labchat index` to rebuild it"


@dataclass
class Index:
    """A loaded index: chunk i has vector i."""

    manifest: dict
    chunks: list[Chunk]
    vectors: object
    """A `faiss.IndexFlatIP` over unit vectors."""


@dataclass(frozen=True)
class BuildReport:
    files: int
    chunks: int
    embedded: int
    """Chunks whose files changed and were embedded again."""
    seconds: float

    def summary(self) -> str:
        return (f"indexed {self.files} files into {self.chunks} chunks "
                f"({self.embedded} embedded) in {self.seconds:.1f} s")


def corpus_digests(corpus_dir: Path) -> dict[str, str]:
    """Hash of every corpus file, read as bytes: what the manifest is compared with."""
    return {path.relative_to(corpus_dir).as_posix(): _file_digest(path) for path in list_files(corpus_dir)}


def _settings_key(settings: Settings, dim: int) -> dict:
    # "-pages": chunks carry PDF page numbers and `skipped` holds reasons; an older index is rebuilt.
    chunking = {"chunk_chars": settings.chunk_chars, "splitter": "markdown-blocks-leads-labels-prose-pages"}
    return {"format": FORMAT, "embedder": settings.embedder, "dim": dim, "chunking": chunking}


def read_manifest(index_dir: Path) -> dict | None:
    try:
        return json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise LabchatError(f"the index in {index_dir} is damaged ({MANIFEST}): {REBUILD}") from err


def staleness(settings: Settings) -> str | None:
    """Why the index must be rebuilt before use (missing, other chunking, corpus changed), or None.

    An index from another embedder is not stale but foreign: `load_index` refuses it, so a user who
    pointed --index at the wrong folder is told instead of having it overwritten.
    """
    manifest = read_manifest(settings.index_dir)
    if manifest is None:
        return f"no index in {settings.index_dir}"
    if manifest.get("embedder") != settings.embedder:
        return None
    if manifest.get("chunking") != _settings_key(settings, manifest.get("dim", 0))["chunking"]:
        return "the index was built with other chunking settings"
    known = {**manifest.get("files", {}), **{p: s["digest"] for p, s in manifest.get("skipped", {}).items()}}
    current = corpus_digests(settings.corpus_dir)
    changed = sorted(p for p in current.keys() | known.keys() if current.get(p) != known.get(p))
    if changed:
        return f"the corpus changed ({len(changed)} file{'s' * (len(changed) > 1)}: {', '.join(changed[:3])})"
    return None


def current_report(settings: Settings) -> BuildReport | None:
    """The summary of an index that needs no work, found without loading any model; None if it does."""
    start = time.perf_counter()
    manifest = read_manifest(settings.index_dir)
    if (manifest is None or manifest.get("embedder") != settings.embedder or "chunks" not in manifest
            or staleness(settings)):
        return None
    return BuildReport(len(manifest["files"]), manifest["chunks"], 0, time.perf_counter() - start)


def load_index(settings: Settings, dim: int | None = None) -> Index:
    """Load and verify; refuse an index built with another embedder or dimension."""
    import faiss

    manifest = read_manifest(settings.index_dir)
    if manifest is None:
        raise LabchatError(f"no index in {settings.index_dir}: run `labchat index` to build it")
    if manifest.get("format") != FORMAT or manifest.get("embedder") != settings.embedder or (
            dim is not None and manifest.get("dim") != dim):
        raise LabchatError(
            f"the index in {settings.index_dir} was built with embedder {manifest.get('embedder')!r} "
            f"(dimension {manifest.get('dim')}), not {settings.embedder!r}: {REBUILD}")
    data_dir = settings.index_dir / manifest["data"]
    try:
        blobs = {name: (data_dir / name).read_bytes() for name in manifest["checksums"]}
    except (OSError, KeyError) as err:
        raise LabchatError(f"the index in {settings.index_dir} is incomplete: {REBUILD}") from err
    if any(digest(blob) != manifest["checksums"][name] for name, blob in blobs.items()):
        raise LabchatError(f"the index in {settings.index_dir} is damaged: {REBUILD}")
    chunks = [Chunk(**json.loads(line)) for line in blobs["chunks.jsonl"].decode().splitlines()]
    vectors = faiss.deserialize_index(np.frombuffer(blobs["vectors.faiss"], dtype=np.uint8))
    return Index(manifest=manifest, chunks=chunks, vectors=vectors)


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder; a second one stops with a message instead of waiting."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise LabchatError(
                f"another `labchat index` is building {index_dir}: wait for it to finish") from err
        yield


def build_index(settings: Settings, embedder: Embedder, progress: bool = False,
                notify: Callable[[str], None] = log.info) -> BuildReport:
    """Re-embed only files whose hash changed, keep the rest, drop deleted files, then swap atomically."""
    start = time.perf_counter()
    with _build_lock(settings.index_dir):
        previous = _reusable(settings, embedder.dim)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        parts: list[tuple[list[Chunk], np.ndarray | None]] = []
        listing: dict[str, dict] = {"files": {}, "skipped": {}, "indexed_at": {}}
        files, indexed_at = listing["files"], listing["indexed_at"]
        for path in list_files(settings.corpus_dir):
            rel = path.relative_to(settings.corpus_dir).as_posix()
            source = read_file(path, settings.corpus_dir)
            if isinstance(source, Skipped):
                listing["skipped"][rel] = {"digest": _file_digest(path), "reason": source.reason}
            elif previous and previous["files"].get(rel) == source.digest:
                files[rel] = source.digest
                if rel in previous["indexed_at"]:  # an index from before indexed_at was kept has none
                    indexed_at[rel] = previous["indexed_at"][rel]
                parts.append(previous["by_file"][rel])
            else:
                files[rel] = source.digest
                indexed_at[rel] = now
                parts.append((chunk_file(source, settings.chunk_chars), None))
        fresh = [c for chunks, vectors in parts if vectors is None for c in chunks]
        if fresh:
            notify(f"embedding {len(fresh)} chunks from changed files")
        new_vectors = iter(embedder.encode([c.search_text for c in fresh], progress))
        chunks = [c for part_chunks, _ in parts for c in part_chunks]
        matrix = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
        for row, (position, vectors) in enumerate(_rows(parts)):
            matrix[row] = next(new_vectors) if vectors is None else vectors[position]
        _write(settings, embedder.dim, chunks, matrix, listing)
    return BuildReport(len(files), len(chunks), len(fresh), time.perf_counter() - start)


def _rows(parts: list[tuple[list[Chunk], np.ndarray | None]]) -> Iterator[tuple[int, np.ndarray | None]]:
    """(position within its file, that file's old vectors or None) for every chunk, in order."""
    for chunks, vectors in parts:
        for i in range(len(chunks)):
            yield i, vectors


def _file_digest(path: Path) -> str:
    try:
        return digest(path.read_bytes())
    except OSError:
        return ""


def _reusable(settings: Settings, dim: int) -> dict | None:
    """The previous build's chunks and vectors grouped by file, if it is compatible and readable."""
    try:
        old = load_index(settings, dim)
    except LabchatError:
        return None
    if old.manifest.get("chunking", {}) != _settings_key(settings, dim)["chunking"]:
        return None
    matrix = old.vectors.reconstruct_n(0, old.vectors.ntotal)
    by_file: dict[str, tuple[list[Chunk], list[int]]] = {}
    for row, chunk in enumerate(old.chunks):
        group = by_file.setdefault(chunk.path, ([], []))
        group[0].append(chunk)
        group[1].append(row)
    return {"files": old.manifest["files"], "indexed_at": old.manifest.get("indexed_at", {}),
            "by_file": {p: (c, matrix[rows]) for p, (c, rows) in by_file.items()}}


def _write(settings: Settings, dim: int, chunks: list[Chunk], matrix: np.ndarray,
           listing: dict[str, dict]) -> None:
    """`listing`: files with their hashes, skipped files with their hash and the reason, and when each file
    was embedded (ISO 8601, UTC)."""
    import faiss

    vectors = faiss.IndexFlatIP(dim)
    vectors.add(matrix)
    blobs = {
        "chunks.jsonl": "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in chunks).encode(),
        "vectors.faiss": faiss.serialize_index(vectors).tobytes(),
    }
    index_dir = settings.index_dir
    data = f"data-{uuid.uuid4().hex[:12]}"
    staging = index_dir / f".{data}.tmp"
    staging.mkdir()
    for name, blob in blobs.items():
        _write_durably(staging / name, blob)
    staging.rename(index_dir / data)
    manifest = {**_settings_key(settings, dim), "data": data, "chunks": len(chunks), **listing,
                "checksums": {name: digest(blob) for name, blob in blobs.items()}}
    _write_durably(index_dir / f".{MANIFEST}.tmp", json.dumps(manifest, indent=1).encode())
    (index_dir / f".{MANIFEST}.tmp").replace(index_dir / MANIFEST)
    for old in index_dir.glob("*data-*"):
        if old.name != data:
            shutil.rmtree(old, ignore_errors=True)


def _write_durably(path: Path, blob: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(blob)
        handle.flush()
        os.fsync(handle.fileno())
