"""The index as a folder, labchat's default store (`LocalStore`, `LocalWriter`):
  manifest.json          what is indexed (see `index.py`) and which segments hold it
  segments/<name>.npz    one per file (or per piece of a large file), named by the hash of its path, its
                         content and the index settings, never changed once written: its chunks, their
                         vectors and text keys, its BM25 postings and its word counts (`lexicon`)
  tables/<name>.npz      the corpus's word counts summed; the segments changed since are listed in the
                         manifest with their sign, and summed in when there are more than MAX_CHANGES
A change writes the changed files' segments, then replaces manifest.json in one `os.replace`: a process
killed at any moment leaves the previous index whole. Segments no manifest names (the new one or the one
before, which a reader may still be opening) are deleted after the swap. Each segment is a zip whose
members carry a CRC-32, so a damaged or cut-short file is refused when it is read, never half used.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import io
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from labchat.chunking import Chunk
from labchat.errors import LabchatError
from labchat.lexicon import LISTS, TOKEN, Lexicon, Table, key
from labchat.postings import Postings, bm25
from labchat.settings import Settings
from labchat.store import Scores, Store
from labchat.store.contents import Contents, text_key

MANIFEST = "manifest.json"
REBUILD = "run `labchat index` to rebuild it"
MAX_CHANGES = 32
"""Changed segments whose word counts are added at look-up time before they are summed into the table: a
look-up costs one search per change, a summing rewrites the table (a few MB at 100 copies of the corpus)."""


def where(settings: Settings) -> str:
    return str(settings.index_dir)


def read_indexed(settings: Settings) -> dict | None:
    return read_manifest(settings.index_dir)


def build_id(settings: Settings) -> str | None:
    manifest = read_manifest(settings.index_dir)
    return manifest and manifest.get("build")


def open_store(settings: Settings, manifest: dict, previous: Store | None = None) -> LocalStore:
    return LocalStore(settings.index_dir, manifest, previous if isinstance(previous, LocalStore) else None)


@contextmanager
def open_writer(settings: Settings, key: dict) -> Iterator[LocalWriter]:
    """One build at a time per index folder (a lock file); a second one stops with a message instead of
    waiting."""
    index_dir = settings.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise LabchatError(
                f"another `labchat index` is building {index_dir}: wait for it to finish") from err
        try:
            previous = read_manifest(index_dir)
        except LabchatError:
            previous = None  # a garbled manifest: everything is indexed anew
        yield LocalWriter(index_dir, key, previous)


def read_manifest(index_dir: Path) -> dict | None:
    try:
        return json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise LabchatError(f"the index in {index_dir} is damaged ({MANIFEST}): {REBUILD}") from err


def _segment_file(index_dir: Path, name: str) -> Path:
    return index_dir / "segments" / f"{name}.npz"


def _load(path: Path, members: Sequence[str]) -> dict[str, np.ndarray]:
    """Some members of a segment or table; a missing or cut-short file, or one whose member fails its CRC-32
    check, is refused with the one line that says what to do."""
    index_dir = path.parent.parent
    try:
        with np.load(path) as archive:
            return {member: archive[member] for member in members}
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as err:
        if not path.exists():
            raise LabchatError(f"the index in {index_dir} is incomplete ({path.name} is missing): "
                               f"{REBUILD}") from err
        # A file altered in place keeps its size, so `labchat index` would keep it: it must go first.
        raise LabchatError(f"the index in {index_dir} is damaged ({path.name}): delete "
                           f"{path.relative_to(index_dir)} and run `labchat index`") from err


def _whole(file: Path, size: int) -> bool:
    """Whether an index file is there at the size it was written (a cheap check, without reading it)."""
    try:
        return file.stat().st_size == size
    except OSError:
        return False


def _words_files(index_dir: Path, words: dict) -> list[tuple[Path, int]]:
    """The word table's file and the changed segments' files, with their sizes."""
    files = [(_table_file(index_dir, words["table"]), words["bytes"])] if words["table"] else []
    return files + [(_segment_file(index_dir, name), size) for name, _, size in words["changes"]]


def _words_whole(index_dir: Path, words: dict) -> bool:
    return all(_whole(file, size) for file, size in _words_files(index_dir, words))


def damaged(settings: Settings, manifest: dict) -> list[str]:
    """The index files a manifest names that are missing or not the size they were written."""
    index_dir = settings.index_dir
    files = [(_segment_file(index_dir, e["name"]), e["bytes"]) for _, e in _entries(manifest)]
    files += _words_files(index_dir, manifest["words"])
    return sorted({f.name for f, size in files if not _whole(f, size)})


def _entries(manifest: dict) -> list[tuple[str, dict]]:
    """(file, segment entry) of every segment, in the corpus's order."""
    return [(path, entry) for path, entries in manifest["segments"].items() for entry in entries]


@dataclass(frozen=True)
class _Segment:
    offset: int
    """The corpus-wide id of its first chunk."""
    postings: Postings
    chunks: bytes
    """Its chunks as JSON lines, parsed when one of them is asked for."""
    lists: dict[str, bytes]
    """Its word lists (`lexicon.LISTS`) as JSON, parsed when first needed."""
    name: str


class LocalStore:
    """An index folder opened for searching. Vectors and postings are read into memory (their CRC checked),
    chunks are parsed from JSON when a search returns them, and the word lists when first needed.

    Given the store it replaces (`previous`, a running server's), it takes over the segments both hold,
    since segments never change, and reads only the new ones: a refresh costs what changed, not the corpus.
    """

    def __init__(self, index_dir: Path, manifest: dict, previous: LocalStore | None = None) -> None:
        import faiss  # here, not at the top: `labchat --help` and `index` need not load it

        self.manifest = manifest
        entries = _entries(manifest)
        self.size = sum(entry["chunks"] for _, entry in entries)
        self.dense = faiss.IndexFlatIP(manifest["dim"])
        self.segments: list[_Segment] = []
        known = previous.by_name() if previous is not None else {}
        offset = 0
        for _, entry in entries:
            if entry["name"] in known:
                old, vectors = known[entry["name"]]
                segment = _Segment(offset, old.postings, old.chunks, old.lists, entry["name"])
            else:
                segment, vectors = self._read(index_dir, manifest["dim"], entry, offset)
            self.dense.add(vectors)
            self.segments.append(segment)
            offset += entry["chunks"]
        # The vectors stay where FAISS keeps them (one copy in memory): row i is chunk i's.
        self.vectors = faiss.rev_swig_ptr(self.dense.get_xb(), self.size * manifest["dim"]).reshape(
            self.size, manifest["dim"]) if self.size else np.zeros((0, manifest["dim"]), dtype=np.float32)
        self.offsets = np.array([s.offset for s in self.segments], dtype=np.int64)
        self.mean_length = manifest["length"] / max(self.size, 1)
        self.lexicon = Lexicon(_tables(index_dir, manifest["words"]), self.size, self._lists)
        self._parsed = functools.lru_cache(maxsize=256)(self._parse)

    @staticmethod
    def _read(index_dir: Path, dim: int, entry: dict, offset: int) -> tuple[_Segment, np.ndarray]:
        file = _segment_file(index_dir, entry["name"])
        data = _load(file, ("vectors", "chunks", *LISTS, *_POSTINGS))
        if data["vectors"].shape != (entry["chunks"], dim):
            raise LabchatError(f"the index in {index_dir} is damaged ({file.name}): {REBUILD}")
        return _Segment(offset, Postings(**{f: data[f] for f in _POSTINGS}), data["chunks"].tobytes(),
                        {k: data[k].tobytes() for k in LISTS}, entry["name"]), data["vectors"]

    def by_name(self) -> dict[str, tuple[_Segment, np.ndarray]]:
        """Each segment, and its vectors, by its file's name."""
        ends = [*self.offsets[1:].tolist(), self.size]
        return {s.name: (s, self.vectors[s.offset:end]) for s, end in zip(self.segments, ends, strict=True)}

    def __len__(self) -> int:
        return self.size

    def indexed(self) -> dict:
        return self.manifest

    def chunks(self, ids: Iterable[int]) -> list[Chunk]:
        out = []
        for i in ids:
            segment = int(np.searchsorted(self.offsets, i, side="right")) - 1
            out.append(self._parsed(segment)[int(i) - self.segments[segment].offset])
        return out

    def file_chunks(self, path: str) -> list[Chunk]:
        """Only that file's segments are parsed."""
        first = 0
        for listed_path, listed in self.manifest["segments"].items():
            count = sum(entry["chunks"] for entry in listed)
            if listed_path == path:
                return self.chunks(range(first, first + count))
            first += count
        return []

    def _parse(self, segment: int) -> list[Chunk]:
        return [Chunk(**json.loads(line)) for line in self.segments[segment].chunks.split(b"\n") if line]

    def search_dense(self, vector: np.ndarray, k: int, among: np.ndarray) -> Scores:
        """The k best chunks by FAISS's flat inner-product index, the chunks `among` by their vectors, and
        the lowest score as FAISS's best for the opposite vector (what the fusion scales by): two scans,
        where asking FAISS for every chunk sorted took 0.42 s at 240,000 chunks."""
        if not self.size:
            return Scores(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0.0)
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        _, best = self.dense.search(query, min(k, self.size))
        lowest, _ = self.dense.search(-query, 1)
        ids = np.union1d(best[0][best[0] >= 0], among).astype(np.int64)
        return Scores(ids, self.vectors[ids] @ query[0], float(-lowest[0, 0]))

    def search_lexical(self, tokens: Sequence[str]) -> Scores:
        scores = np.zeros(self.size, dtype=np.float32)
        bm25([key(TOKEN, t) for t in tokens], [self.lexicon.count(TOKEN, t)[0] for t in tokens], self.size,
             self.mean_length, ((s.offset, s.postings) for s in self.segments), scores)
        ids = np.flatnonzero(scores)
        return Scores(ids, scores[ids], float(scores.min()) if self.size else 0.0)

    def _lists(self, kind: str) -> Iterator:
        for segment in self.segments:
            yield json.loads(segment.lists[kind])


_POSTINGS = ("terms", "starts", "rows", "freqs", "lengths")


def _tables(index_dir: Path, words: dict) -> list[tuple[Table, int]]:
    """The corpus's word table and the signed tables of the segments changed since it was summed."""
    tables = [(_table(index_dir, words["table"]), 1)] if words["table"] else []
    return tables + [(_segment_table(index_dir, name), sign) for name, sign, _ in words["changes"]]


def _table_file(index_dir: Path, name: str) -> Path:
    return index_dir / "tables" / f"{name}.npz"


def _table(index_dir: Path, name: str) -> Table:
    data = _load(_table_file(index_dir, name), ("keys", "counts"))
    return Table(data["keys"], data["counts"])


def _segment_table(index_dir: Path, name: str) -> Table:
    data = _load(_segment_file(index_dir, name), ("table_keys", "table_counts"))
    return Table(data["table_keys"], data["table_counts"])


class LocalWriter:
    """Changes to an index folder: segments are written as files are put, the manifest at `commit`."""

    def __init__(self, index_dir: Path, settings_key: dict, previous: dict | None) -> None:
        """`previous` is the index being changed: its segments are reused if it was built with the same
        `settings_key` (format, embedder, dimension, chunking), else everything is indexed anew."""
        self.index_dir = index_dir
        self.settings_key = settings_key
        same = previous is not None and all(previous.get(k) == v for k, v in settings_key.items())
        self.previous = previous if same else None
        base = self.previous or {}
        self.files: dict[str, str] = dict(base.get("files", {}))
        self.skipped: dict[str, dict[str, str]] = dict(base.get("skipped", {}))
        self.stat: dict[str, list[int]] = dict(base.get("stat", {}))
        self.segments: dict[str, list[dict]] = dict(base.get("segments", {}))
        self.indexed_at: dict[str, str] = dict(base.get("indexed_at", {}))
        (index_dir / "segments").mkdir(parents=True, exist_ok=True)
        self._known_keys = functools.lru_cache(maxsize=1)(self._keys_of)
        self._old_vectors = functools.lru_cache(maxsize=2)(self._vectors_of)

    def indexed(self) -> dict:
        return self.previous or {"files": {}, "skipped": {}, "stat": {}, "segments": {}}

    def intact(self, path: str) -> bool:
        """Whether the file's segments are all there, at the size they were written: one that is not is
        indexed again instead of being kept. (Reading every segment's CRC here would make a one-file
        change cost the whole corpus; a segment altered in place is refused at load, with what to do.)"""
        return all(_whole(_segment_file(self.index_dir, e["name"]), e["bytes"])
                   for e in self.segments.get(path, []))

    def put(self, path: str, digest: str, stat: tuple[int, int] | None,
            parts: Iterable[tuple[list[Chunk], np.ndarray]]) -> None:
        entries = []
        for number, (chunks, vectors) in enumerate(parts):
            name = hashlib.sha256(json.dumps([path, digest, number, self.settings_key]).encode()).hexdigest()
            length, size = self._write_segment(name[:32], chunks, vectors)
            entries.append({"name": name[:32], "chunks": len(chunks), "length": length, "bytes": size})
        self.skipped.pop(path, None)
        self.files[path] = digest
        self.segments[path] = entries
        self.indexed_at[path] = datetime.now(UTC).isoformat(timespec="seconds")
        self._stat(path, stat)

    def remove(self, path: str) -> None:
        for table in (self.files, self.skipped, self.stat, self.segments, self.indexed_at):
            table.pop(path, None)

    def skip(self, path: str, digest: str, stat: tuple[int, int] | None, reason: str) -> None:
        self.remove(path)
        self.skipped[path] = {"digest": digest, "reason": reason}
        self._stat(path, stat)

    def keep(self, path: str, stat: tuple[int, int] | None) -> None:
        self._stat(path, stat)

    def _stat(self, path: str, stat: tuple[int, int] | None) -> None:
        if stat is None:
            self.stat.pop(path, None)
        else:
            self.stat[path] = list(stat)

    def known_vectors(self, path: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        """Looked up by the hash of the search text in the file's previous segments; a segment that cannot
        be read just means its chunks are embedded again. A large file asks part by part: the keys of all
        its old parts are read once, the vectors of an old part when one of its texts is asked for."""
        where = self._known_keys(path)
        found: list[np.ndarray | None] = []
        for text in texts:
            name, row = where.get(text_key(text), (None, 0))
            vectors = self._old_vectors(name) if name else None
            found.append(None if vectors is None else vectors[row])
        return found

    def _keys_of(self, path: str) -> dict[int, tuple[str, int]]:
        where: dict[int, tuple[str, int]] = {}
        for entry in (self.previous or {}).get("segments", {}).get(path, []):
            with suppress(LabchatError):
                keys = _load(_segment_file(self.index_dir, entry["name"]), ("text_keys",))["text_keys"]
                where.update((k, (entry["name"], row)) for row, k in enumerate(keys.tolist()))
        return where

    def _vectors_of(self, name: str) -> np.ndarray | None:
        try:
            return _load(_segment_file(self.index_dir, name), ("vectors",))["vectors"]
        except LabchatError:
            return None

    def _write_segment(self, name: str, chunks: list[Chunk], vectors: np.ndarray) -> tuple[int, int]:
        """Write one segment durably under its final name; returns its chunks' length in tokens and its
        size in bytes."""
        contents = Contents.of(chunks)
        postings, words = contents.postings, contents.words
        lines = "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in chunks)
        arrays = {
            "vectors": np.asarray(vectors, dtype=np.float32).reshape(len(chunks), self.settings_key["dim"]),
            "chunks": np.frombuffer(lines.encode(), dtype=np.uint8),
            **{kind: _json_bytes(getattr(words, kind)) for kind in LISTS},
            "text_keys": np.array([text_key(c.search_text) for c in chunks], dtype=np.uint64),
            "table_keys": words.table.keys, "table_counts": words.table.counts,
            **vars(postings),
        }
        return contents.length, _save(_segment_file(self.index_dir, name), arrays)

    def commit(self) -> dict:
        order = sorted(self.files.keys() | self.skipped.keys(), key=lambda p: p.split("/"))
        segments = {p: self.segments[p] for p in order if p in self.segments}
        entries = [entry for listed in segments.values() for entry in listed]
        manifest = {**self.settings_key,
                    "files": {p: self.files[p] for p in order if p in self.files},
                    "skipped": {p: self.skipped[p] for p in order if p in self.skipped},
                    "stat": {p: self.stat[p] for p in order if p in self.stat},
                    "segments": segments, "words": self._words(segments),
                    "indexed_at": {p: self.indexed_at[p] for p in order if p in self.indexed_at},
                    "chunks": sum(e["chunks"] for e in entries), "length": sum(e["length"] for e in entries),
                    "build": uuid.uuid4().hex[:12]}
        staging = self.index_dir / f".{MANIFEST}.tmp"
        _write_durably(staging, json.dumps(manifest, indent=1, ensure_ascii=False).encode())
        staging.replace(self.index_dir / MANIFEST)
        self._collect_garbage([manifest, self.previous or {}])
        return manifest

    def _words(self, segments: dict[str, list[dict]]) -> dict:
        """The word table and the changes since it was summed: the new segments counted in, the dropped ones
        counted out; summed into a new table once there are more than MAX_CHANGES. If the table or a
        changed segment is missing or cut short, the current segments are counted anew."""
        words = (self.previous or {}).get("words", {"table": None, "bytes": 0, "changes": []})
        before = {e["name"]: e["bytes"] for _, e in _entries(self.previous)} if self.previous else {}
        if not _words_whole(self.index_dir, words):
            words, before = {"table": None, "bytes": 0, "changes": []}, {}
        after = {e["name"]: e["bytes"] for listed in segments.values() for e in listed}
        changes = [*words["changes"], *([n, 1, after[n]] for n in sorted(after.keys() - before.keys())),
                   *([n, -1, before[n]] for n in sorted(before.keys() - after.keys()))]
        if len(changes) <= MAX_CHANGES:
            return {**words, "changes": changes}
        total = Table.total(_tables(self.index_dir, {**words, "changes": changes}))
        name = hashlib.sha256(total.keys.tobytes() + total.counts.tobytes()).hexdigest()[:32]
        (self.index_dir / "tables").mkdir(exist_ok=True)
        size = _save(_table_file(self.index_dir, name), {"keys": total.keys, "counts": total.counts})
        return {"table": name, "bytes": size, "changes": []}

    def _collect_garbage(self, manifests: list[dict]) -> None:
        """Delete what neither the new manifest nor the one before it names (a reader that read the one
        before may still be opening its segments), and what an older format or a killed build left."""
        names = {e["name"] for m in manifests if m for _, e in _entries(m)}
        names |= {name for m in manifests if m for name, _, _ in m["words"]["changes"]}
        tables = {m["words"]["table"] for m in manifests if m}
        for folder, kept in (("segments", names), ("tables", tables)):
            for file in (self.index_dir / folder).glob("*"):
                if file.name.removesuffix(".npz") not in kept:
                    file.unlink(missing_ok=True)
        for old in self.index_dir.glob("*data-*"):  # labchat's first index format: one folder per build
            shutil.rmtree(old, ignore_errors=True)


def _json_bytes(value: object) -> np.ndarray:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode(), dtype=np.uint8)


def _save(target: Path, arrays: dict[str, np.ndarray]) -> int:
    """An .npz written durably beside its final name, then moved there in one step; returns its size."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    staging = target.with_name(f".{target.name}.tmp")
    _write_durably(staging, buffer.getvalue())
    staging.replace(target)
    return len(buffer.getvalue())


def _write_durably(path: Path, blob: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(blob)
        handle.flush()
        os.fsync(handle.fileno())
