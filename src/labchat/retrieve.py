"""Find the chunks that answer a question: dense (FAISS) and lexical (BM25) rankings, fused."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import Stemmer

from labchat.chunking import Chunk
from labchat.embed import Embedder
from labchat.index import Index

_WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*|[\u3400-\u4dbf\u4e00-\u9fff]+")
STOPWORDS = frozenset(
    "a an and are as at be been by can could did do does for from has have how i in is it its "
    "many much of on or that the their there these this to up was were what when where which who "
    "whom whose why will with would me tell about any some into than then them they we you your "
    # prepositions and light verbs: a question's "run before", "take", "called" says nothing of its topic
    "before after inside off over under run take call called get make use".split())
RRF_K = 60
"""Reciprocal-rank-fusion constant from Cormack et al. (2009); it damps the weight of the top ranks."""


_STEMMER = Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Stemmed words without stopwords, compounds (`dots.llm1`) also as parts, CJK as character pairs.

    Character pairs let a Chinese question (小红书发布了什么模型) meet the Chinese names in the corpus
    although neither the embedder nor a whitespace tokenizer reads Chinese.
    """
    words: list[str] = []
    tokens: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word[0] >= "\u3400":
            tokens += [word[i:i + 2] for i in range(len(word) - 1)] or [word]
        elif word not in STOPWORDS:
            parts = re.split(r"[.\-]", word)
            words += [word, *(p for p in parts if p not in STOPWORDS)] if len(parts) > 1 else [word]
    return _STEMMER.stemWords(words) + tokens


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk and its fused score (higher is better)."""

    chunk: Chunk
    score: float


class Retriever:
    """Holds the FAISS index and a BM25 index over the same chunk texts (heading path included)."""

    def __init__(self, index: Index, embedder: Embedder) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import
        self.chunks = index.chunks
        self.vectors = index.vectors
        self.embedder = embedder
        self.bm25 = bm25s.BM25()
        self.bm25.index([tokenize(c.search_text) or ["\x00"] for c in self.chunks], show_progress=False)
        self.vocab = set(self.bm25.vocab_dict)

    def dense(self, question: str) -> np.ndarray:
        """Cosine similarity of the question to every chunk."""
        query = self.embedder.encode([question])
        scores, ids = self.vectors.search(query, len(self.chunks))
        out = np.zeros(len(self.chunks), dtype=np.float32)
        out[ids[0]] = scores[0]
        return out

    def lexical(self, question: str) -> np.ndarray:
        tokens = [t for t in tokenize(question) if t in self.vocab]
        if not tokens:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)

    def search(self, question: str, k: int = 8) -> list[Hit]:
        """Reciprocal rank fusion of both rankings: robust to their different score scales."""
        if not self.chunks:
            return []
        fused = np.zeros(len(self.chunks))
        for scores in (self.dense(question), self.lexical(question)):
            ranks = np.empty(len(scores), dtype=np.int64)
            ranks[np.argsort(-scores, kind="stable")] = np.arange(len(scores))
            fused += np.where(scores > 0, 1.0 / (RRF_K + 1 + ranks), 0.0)
        order = np.argsort(-fused, kind="stable")[:k]
        return [Hit(self.chunks[i], float(fused[i])) for i in order if fused[i] > 0]
