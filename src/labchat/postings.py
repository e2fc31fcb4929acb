"""BM25 over postings kept file by file: each file's term frequencies are stored with it, the corpus's
document frequencies and mean chunk length are sums over files, so an edited file changes only its own.

Hand-written rather than `bm25s`: bm25s bakes every word's IDF into the matrix it stores, so one changed
file would change every stored score and the whole index would be rebuilt. The scores are bm25s's own, to
the bit: its defaults (Lucene's IDF, k1 = 1.5, b = 0.75), an IDF held in float32, a chunk without any token
counted as one token long, and float32 sums in the order of the query's tokens (repeats count again).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from labchat.lexicon import TOKEN, key

K1 = 1.5
B = 0.75


@dataclass(frozen=True)
class Postings:
    """Which chunks of a file hold each token, how often, and how long each chunk is (in tokens)."""

    terms: np.ndarray
    """Token keys (`lexicon.key(TOKEN, token)`), sorted."""
    starts: np.ndarray
    """Term i's chunks are rows[starts[i]:starts[i + 1]]."""
    rows: np.ndarray
    freqs: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, tokens: Sequence[Sequence[str]]) -> Postings:
        """The postings of a file whose chunks have these search tokens."""
        hashed = {t: key(TOKEN, t) for chunk in tokens for t in chunk}
        counted = [(hashed[t], row, n) for row, chunk in enumerate(tokens) for t, n in Counter(chunk).items()]
        terms = np.array([term for term, _, _ in counted], dtype=np.uint64)
        rows = np.array([row for _, row, _ in counted], dtype=np.int32)
        order = np.lexsort((rows, terms))
        unique = np.unique(terms)
        return cls(terms=unique, starts=np.append(np.searchsorted(terms[order], unique), len(terms)),
                   rows=rows[order], freqs=np.array([n for _, _, n in counted], dtype=np.float32)[order],
                   lengths=np.array([max(len(chunk), 1) for chunk in tokens], dtype=np.int32))

    def find(self, terms: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """(rows, frequencies) of the chunks holding each term (empty for a term no chunk holds)."""
        at = np.searchsorted(self.terms, terms)
        found = (at < len(self.terms)) & (self.terms[at.clip(max=len(self.terms) - 1)] == terms
                                          if len(self.terms) else False)
        return [(self.rows[self.starts[i]:self.starts[i + 1]], self.freqs[self.starts[i]:self.starts[i + 1]])
                if hit else (self.rows[:0], self.freqs[:0]) for i, hit in zip(at, found, strict=True)]


def idf(df: int, chunks: int) -> np.float32:
    return np.float32(math.log(1 + (chunks - df + 0.5) / (df + 0.5)))


def weights(terms: Sequence[int], dfs: Sequence[int], chunks: int) -> list[tuple[int, np.float32]]:
    """(term, IDF) of the query `terms` in order, repeats included (`dfs` their document frequencies); a
    term no chunk holds adds nothing and is left out. Every store weighs a query so."""
    return [(t, idf(df, chunks)) for t, df in zip(terms, dfs, strict=True) if df]


def bm25(terms: Sequence[int], dfs: Sequence[int], chunks: int, mean_length: float,
         files: Iterable[tuple[int, Postings]], out: np.ndarray) -> None:
    """Add the BM25 score of the query `terms` (in order, repeats included; `dfs` their document
    frequencies) to `out` for the chunks of every file, given as (its first row in `out`, its postings)."""
    query = weights(terms, dfs, chunks)
    if not query:
        return
    wanted = np.array([t for t, _ in query], dtype=np.uint64)
    for offset, postings in files:
        for (_, weight), (rows, freqs) in zip(query, postings.find(wanted), strict=True):
            if len(rows):
                tf = freqs.astype(np.float64)
                norm = K1 * ((1 - B) + B * postings.lengths[rows] / mean_length) + tf
                out[offset + rows] += (weight * (tf / norm)).astype(np.float32)
