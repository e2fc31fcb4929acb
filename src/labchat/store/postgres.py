"""The index in PostgreSQL with pgvector (`--store postgresql://...`), shared by any number of servers.

Tables (all named labchat_*):
  meta       the settings the index was built with (embedder, dim, chunking) and the id of the last change
  files      one row per file: hash, size and time, when indexed or why skipped, its chunk count and token
             length, its word counts (`lexicon.Table`, as bytes) and its word lists (JSON)
  chunks     one row per chunk: the chunk (JSON), its text key, its vector in a pgvector column with an HNSW
             index (cosine)
  postings   one row per (token, chunk): the BM25 postings, indexed by token; the database sums the scores
  words      the corpus's word counts (`lexicon`): each file's counts added in and taken out as it changes
Each file's change (its chunks, postings, word counts and row) is one transaction, so a reader never sees
half a file; a build id in `meta` changes with it, and a running server that sees it change reloads.
One `labchat index` at a time per database (an advisory lock).

Written with psycopg and the pgvector package rather than llama-index's `PGVectorStore`: that keeps one
table of nodes whose text side is `ts_rank`, while labchat's fusion and fitted models need BM25 (the same
scores as the local store's, so answers do not depend on where the index lives) and the word counts its
question reading uses, changed in the same transaction as the file's chunks.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from labchat.chunking import Chunk
from labchat.errors import LabchatError
from labchat.lexicon import LISTS, TOKEN, Lexicon, Table, key
from labchat.postings import K1, B, weights
from labchat.settings import Settings
from labchat.store import Scores, Store
from labchat.store.contents import Contents, text_key

if TYPE_CHECKING:
    import psycopg  # imported where used: `labchat` without --store never loads it

LOCK = 0x6C616263686174
"""The advisory lock a `labchat index` holds on the database ("labchat" in hex)."""
HNSW_MEMORY = "512MB"
"""Memory PostgreSQL may use to build the HNSW index: its graph fits for about 300,000 chunks of 384
dimensions (x1000 the corpus); a larger one is built more slowly, on disk."""
EF_SEARCH = 100
"""Candidates the HNSW search keeps (pgvector's default is 40): at x100 the corpus, 40 found 92% of
FAISS's exact 10 best by meaning (benchmarks/store.py); more costs a little time per question."""
TABLES = ("labchat_meta", "labchat_files", "labchat_chunks", "labchat_postings", "labchat_words")
SCHEMA = """
create table labchat_meta (key text primary key, value jsonb not null);
create table labchat_files (
    path text primary key, digest text not null, size bigint, mtime bigint, skipped text, indexed_at text,
    chunks integer not null default 0, length bigint not null default 0,
    word_keys bytea, word_counts bytea, lists jsonb);
create sequence labchat_chunk_ids;
create table labchat_chunks (
    id bigint primary key, path text not null, chunk jsonb not null, text_key bigint not null,
    embedding vector({dim}) not null);
create index on labchat_chunks (path);
create table labchat_postings (
    term bigint not null, chunk bigint not null, path text not null, freq real not null, length int not null);
create index on labchat_postings (term) include (chunk, freq, length);
create index on labchat_postings (path);
create table labchat_words (key bigint primary key, seen bigint not null, capitalised bigint not null);
"""


def where(settings: Settings) -> str:
    """The URL without its password."""
    parts = urlsplit(settings.store or "")
    host = parts.netloc.rsplit("@", 1)
    if len(host) == 2 and ":" in host[0]:
        host[0] = host[0].split(":", 1)[0] + ":***"
    return urlunsplit(parts._replace(netloc="@".join(host)))


def _reason(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[-1].strip()


def _connect(settings: Settings) -> psycopg.Connection:
    """An autocommit connection; a database that cannot be reached is one line."""
    import psycopg

    try:
        return psycopg.connect(settings.store, autocommit=True, connect_timeout=10)
    except (psycopg.Error, ValueError) as err:
        raise LabchatError(f"cannot connect to the database {where(settings)}: check that it is running, "
                           f"the URL and the password ({_reason(err)})") from err


@contextmanager
def _said(settings: Settings) -> Iterator[None]:
    """A database error met while reading or writing, as one line (the connection lost, a table dropped
    by an index built with another embedder)."""
    import psycopg

    try:
        yield
    except psycopg.Error as err:
        raise LabchatError(f"the database {where(settings)} failed ({_reason(err)}): check that it is "
                           "running and try again") from err


def _register(settings: Settings, conn: psycopg.Connection) -> None:
    from pgvector.psycopg import register_vector

    try:
        register_vector(conn)
    except Exception as err:  # psycopg's error when the type is missing varies by version
        raise LabchatError(f"the database {where(settings)} has no pgvector: run CREATE EXTENSION vector "
                           "there (or `labchat index --store URL`, which does)") from err


def _exists(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regclass('labchat_meta') is not null").fetchone()[0]


def _signed(keys: Iterable[int]) -> list[int]:
    """64-bit keys as PostgreSQL's signed bigint."""
    return np.asarray(list(keys), dtype=np.uint64).view(np.int64).tolist()


def _manifest(conn: psycopg.Connection) -> dict | None:
    """What is indexed, shaped as the local store's manifest."""
    if not _exists(conn):
        return None
    meta = dict(conn.execute("select key, value from labchat_meta").fetchall())
    rows = conn.execute("select path, digest, size, mtime, skipped, indexed_at, chunks, length "
                        "from labchat_files").fetchall()
    rows.sort(key=lambda row: row[0].split("/"))
    indexed = [row for row in rows if row[4] is None]
    return {**meta.get("settings", {}), "build": meta.get("build"),
            "files": {row[0]: row[1] for row in indexed},
            "skipped": {row[0]: {"digest": row[1], "reason": row[4]} for row in rows if row[4] is not None},
            "stat": {row[0]: [row[2], row[3]] for row in rows if row[2] is not None},
            "indexed_at": {row[0]: row[5] for row in indexed},
            "segments": {row[0]: [{"chunks": row[6]}] for row in indexed},
            "chunks": sum(row[6] for row in indexed), "length": sum(row[7] for row in indexed)}


def read_indexed(settings: Settings) -> dict | None:
    with _connect(settings) as conn, _said(settings):
        return _manifest(conn)


def build_id(settings: Settings) -> str | None:
    with _connect(settings) as conn, _said(settings):
        if not _exists(conn):
            return None
        row = conn.execute("select value from labchat_meta where key = 'build'").fetchone()
        return row and row[0]


def damaged(settings: Settings, manifest: dict) -> list[str]:
    """Nothing: the database keeps its own tables whole."""
    return []


def open_store(settings: Settings, manifest: dict, previous: Store | None = None) -> PostgresStore:
    """A new connection (nothing to take over from `previous`: nothing is loaded)."""
    conn = _connect(settings)
    _register(settings, conn)
    with _said(settings):
        conn.execute(f"set hnsw.ef_search = {EF_SEARCH}")
    return PostgresStore(settings, conn, manifest)


class PostgresStore:
    """The index in a database, opened for searching. Nothing is loaded: each search is a query, so a
    server's start-up and memory do not grow with the corpus. The chunk count, mean length and word lists
    are those of the manifest read at opening; a server reloads when the build id changes (`web.live`)."""

    def __init__(self, settings: Settings, conn: psycopg.Connection, manifest: dict) -> None:
        self.settings = settings
        self.conn = conn
        self.manifest = manifest
        self.size = manifest["chunks"]
        self.mean_length = manifest["length"] / max(self.size, 1)
        self.lexicon = Lexicon([(_WordCounts(self), 1)], self.size, self._lists)

    def query(self, sql: str, params: Sequence) -> list[tuple]:
        with _said(self.settings):
            return self.conn.execute(sql, params).fetchall()

    def __len__(self) -> int:
        return self.size

    def indexed(self) -> dict:
        return self.manifest

    def chunks(self, ids: Iterable[int]) -> list[Chunk]:
        ids = [int(i) for i in ids]
        found = dict(self.query("select id, chunk from labchat_chunks where id = any(%s)", (ids,)))
        if len(found) < len(set(ids)):
            raise LabchatError("the index changed while answering (another `labchat index`): ask again")
        return [Chunk(**found[i]) for i in ids]

    def file_chunks(self, path: str) -> list[Chunk]:
        rows = self.query("select chunk from labchat_chunks where path = %s order by id", (path,))
        return [Chunk(**row[0]) for row in rows]

    def search_dense(self, vector: np.ndarray, k: int, among: np.ndarray) -> Scores:
        """The k best by the HNSW index (approximate, see EF_SEARCH), the lowest as the best for the
        opposite vector; every score is the exact inner product."""
        if not self.size:
            return Scores(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0.0)
        query = np.asarray(vector, dtype=np.float32)
        best = self.query("select id from labchat_chunks order by embedding <=> %s limit %s", (query, k))
        wanted = np.union1d([row[0] for row in best], among).astype(np.int64).tolist()
        rows = self.query("select id, -(embedding <#> %s) from labchat_chunks where id = any(%s) order by id",
                          (query, wanted))
        low = self.query("select -(embedding <#> %s) from labchat_chunks order by embedding <=> %s limit 1",
                         (query, -query))
        return Scores(np.array([r[0] for r in rows], dtype=np.int64),
                      np.array([r[1] for r in rows], dtype=np.float32), float(low[0][0]) if low else 0.0)

    def search_lexical(self, tokens: Sequence[str]) -> Scores:
        """BM25 summed by the database over the postings of the question's tokens (the weights, each token's
        IDF, come from the word counts: the same formula as `postings.bm25`)."""
        query = weights([key(TOKEN, t) for t in tokens], [self.lexicon.count(TOKEN, t)[0] for t in tokens],
                        self.size)
        if not query:
            return Scores(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0.0)
        rows = self.query(
            "select p.chunk, sum(q.weight * p.freq / (p.freq + %s * ((1 - %s) + %s * p.length / %s)))"
            " from unnest(%s::bigint[], %s::float8[]) as q(term, weight)"
            " join labchat_postings p on p.term = q.term group by p.chunk order by p.chunk",
            (K1, B, B, self.mean_length, _signed(t for t, _ in query), [float(w) for _, w in query]))
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        values = np.array([r[1] for r in rows], dtype=np.float32)
        return Scores(ids, values, float(values.min()) if len(ids) == self.size and len(ids) else 0.0)

    def _lists(self, kind: str) -> Iterator:
        rows = self.query("select path, lists -> %s from labchat_files where lists is not null", (kind,))
        for _, parts in sorted(rows, key=lambda row: row[0].split("/")):
            yield from parts


class _WordCounts:
    """The corpus's word counts (`lexicon.Table.get`), looked up in the database."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def get(self, wanted: np.ndarray) -> np.ndarray:
        signed = np.asarray(wanted, dtype=np.uint64).view(np.int64)
        found = {k: (s, c) for k, s, c in self.store.query(
            "select key, seen, capitalised from labchat_words where key = any(%s)", (signed.tolist(),))}
        return np.array([found.get(k, (0, 0)) for k in signed.tolist()], dtype=np.int64).reshape(-1, 2)


@contextmanager
def open_writer(settings: Settings, key: dict) -> Iterator[PostgresWriter]:
    """The lock, then the tables (made, or made anew for an index built with other settings)."""
    conn, reader = _connect(settings), _connect(settings)
    try:
        with _said(settings):
            if not conn.execute("select pg_try_advisory_lock(%s)", (LOCK,)).fetchone()[0]:
                raise LabchatError(f"another `labchat index` is writing to {where(settings)}: wait for it to "
                                   "finish")
            conn.execute("create extension if not exists vector")
            _register(settings, conn)
            _register(settings, reader)
            with conn.transaction():
                row = conn.execute("select value from labchat_meta where key = 'settings'").fetchone() \
                    if _exists(conn) else None
                if row is None or row[0] != key:
                    for table in TABLES:
                        conn.execute(f"drop table if exists {table}")
                    conn.execute("drop sequence if exists labchat_chunk_ids")
                    conn.execute(SCHEMA.format(dim=int(key["dim"])))
                    conn.execute("insert into labchat_meta values ('settings', %s)", (json.dumps(key),))
            yield PostgresWriter(conn, reader)
    finally:
        conn.close()
        reader.close()


class PostgresWriter:
    """Changes to the index in a database, each file's in one transaction."""

    def __init__(self, conn: psycopg.Connection, reader: psycopg.Connection) -> None:
        self.conn = conn
        self.reader = reader
        """A second connection: the vectors of a file's old chunks are read while another file is written."""
        self.previous = _manifest(conn)
        self._known = functools.lru_cache(maxsize=1)(self._vectors_of)

    def indexed(self) -> dict:
        return self.previous

    def intact(self, path: str) -> bool:
        return True

    def put(self, path: str, digest: str, stat: tuple[int, int] | None,
            parts: Iterable[tuple[list[Chunk], np.ndarray]]) -> None:
        self._known(path)  # read before the old chunks go, for a large file's later parts
        tables: list[tuple[Table, int]] = []
        lists: dict[str, list] = {kind: [] for kind in LISTS}
        chunks_in = length = 0
        with self.conn.transaction():
            tables += self._take_out(path)
            for chunks, vectors in parts:
                contents = Contents.of(chunks)
                ids = [r[0] for r in self.conn.execute(
                    "select nextval('labchat_chunk_ids') from generate_series(1, %s)", (len(chunks),))]
                self._copy_chunks(path, ids, chunks, vectors)
                self._copy_postings(path, ids, contents)
                tables.append((contents.words.table, 1))
                for kind in LISTS:
                    lists[kind].append(getattr(contents.words, kind))
                chunks_in += len(chunks)
                length += contents.length
            mine = Table.total((t, 1) for t, sign in tables if sign > 0)
            self._count(Table.total(tables))
            self._row(path, digest, stat, None, chunks_in, length, mine, lists)

    def remove(self, path: str) -> None:
        with self.conn.transaction():
            self._count(Table.total(self._take_out(path)))
            self._touch()

    def skip(self, path: str, digest: str, stat: tuple[int, int] | None, reason: str) -> None:
        with self.conn.transaction():
            self._count(Table.total(self._take_out(path)))
            self._row(path, digest, stat, reason, 0, 0, None, None)

    def keep(self, path: str, stat: tuple[int, int] | None) -> None:
        size, mtime = stat or (None, None)
        self.conn.execute("update labchat_files set size = %s, mtime = %s where path = %s",
                          (size, mtime, path))

    def known_vectors(self, path: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        known = self._known(path)
        return [known.get(text_key(t)) for t in texts]

    def commit(self) -> dict:
        """The HNSW index is made here when missing, after a first build's rows: building it over them at
        once is faster than inserting into it row by row (pgvector's advice); later builds keep it up to
        date as they insert."""
        self.conn.execute(f"set maintenance_work_mem = '{HNSW_MEMORY}'")
        self.conn.execute("create index if not exists labchat_chunks_embedding on labchat_chunks "
                          "using hnsw (embedding vector_cosine_ops)")
        return _manifest(self.conn)

    def _vectors_of(self, path: str) -> dict[int, np.ndarray]:
        rows = self.reader.execute("select text_key, embedding::real[] from labchat_chunks where path = %s",
                                   (path,))
        return {int(np.int64(k).view(np.uint64)): np.array(v, dtype=np.float32) for k, v in rows.fetchall()}

    def _take_out(self, path: str) -> list[tuple[Table, int]]:
        """Delete a file's chunks, postings and row; its word counts, to be taken out of the corpus's."""
        row = self.conn.execute("delete from labchat_files where path = %s returning word_keys, word_counts",
                                (path,)).fetchone()
        self.conn.execute("delete from labchat_chunks where path = %s", (path,))
        self.conn.execute("delete from labchat_postings where path = %s", (path,))
        if row is None or row[0] is None:
            return []
        keys = np.frombuffer(row[0], dtype=np.uint64)
        return [(Table(keys, np.frombuffer(row[1], dtype=np.int32).reshape(len(keys), 2)), -1)]

    def _count(self, change: Table) -> None:
        """Add a change (signed) to the corpus's word counts; a word counted nowhere any more is dropped."""
        if not len(change.keys):
            return
        keys = _signed(change.keys.tolist())
        self.conn.execute(
            "insert into labchat_words select * from unnest(%s::bigint[], %s::bigint[], %s::bigint[]) "
            "on conflict (key) do update set seen = labchat_words.seen + excluded.seen, "
            "capitalised = labchat_words.capitalised + excluded.capitalised",
            (keys, change.counts[:, 0].tolist(), change.counts[:, 1].tolist()))
        self.conn.execute("delete from labchat_words where key = any(%s) and seen = 0 and capitalised = 0",
                          (keys,))

    def _row(self, path: str, digest: str, stat: tuple[int, int] | None, skipped: str | None, chunks: int,
             length: int, words: Table | None, lists: dict | None) -> None:
        size, mtime = stat or (None, None)
        self.conn.execute(
            "insert into labchat_files values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (path, digest, size, mtime, skipped, datetime.now(UTC).isoformat(timespec="seconds"), chunks,
             length, words and words.keys.tobytes(), words and words.counts.tobytes(),
             lists and json.dumps(lists, ensure_ascii=False)))
        self._touch()

    def _touch(self) -> None:
        self.conn.execute("insert into labchat_meta values ('build', %s) on conflict (key) do update "
                          "set value = excluded.value", (json.dumps(uuid.uuid4().hex[:12]),))

    def _copy_chunks(self, path: str, ids: list[int], chunks: list[Chunk], vectors: np.ndarray) -> None:
        from psycopg.types.json import Jsonb

        with self.conn.cursor().copy("copy labchat_chunks (id, path, chunk, text_key, embedding) from stdin "
                                     "with (format binary)") as copy:
            copy.set_types(["bigint", "text", "jsonb", "bigint", "vector"])
            keys = _signed(text_key(c.search_text) for c in chunks)
            for i, chunk, k, vector in zip(ids, chunks, keys, vectors, strict=True):
                copy.write_row((i, path, Jsonb(asdict(chunk)), k,
                                np.asarray(vector, dtype=np.float32)))

    def _copy_postings(self, path: str, ids: list[int], contents: Contents) -> None:
        postings = contents.postings
        terms = np.repeat(postings.terms, np.diff(postings.starts)).view(np.int64).tolist()
        chunk_ids = np.asarray(ids, dtype=np.int64)[postings.rows].tolist()
        lengths = postings.lengths[postings.rows].tolist()
        with self.conn.cursor().copy("copy labchat_postings (term, chunk, path, freq, length) from stdin "
                                     "with (format binary)") as copy:
            copy.set_types(["bigint", "bigint", "text", "float4", "int4"])
            for row in zip(terms, chunk_ids, [path] * len(terms), postings.freqs.tolist(), lengths,
                           strict=True):
                copy.write_row(row)
