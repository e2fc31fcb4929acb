"""Pick the few sentences that answer a question out of the retrieved chunks.

A 135M model answers well from two or three short sentences and badly from a page, so the passages put in
front of it are single sentences (a table row keeps its header), ranked by how many of the question's
rare words they hold and how close they are in meaning.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from labchat.chunking import Chunk
from labchat.embed import Embedder
from labchat.retrieve import Hit, tokenize

_SENTENCE_END = re.compile(r"(?<=[.!?;\u3002\uff01\uff1f])\s+(?=[A-Z0-9*\"\u3400-\u9fff])")
_MARKUP = re.compile(r"\*\*|__|`|\[(?P<label>[^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class Passage:
    """A sentence (or table row) from a chunk, numbered as it is shown to the model and the user."""

    n: int
    path: str
    section: str
    text: str
    score: float


def sentences(chunk: Chunk) -> list[str]:
    """List items, table rows (prefixed with the table's header) and prose sentences of a chunk."""
    out: list[str] = []
    header = ""
    for line in chunk.text.split("\n"):
        line = _MARKUP.sub(lambda m: m.group("label") or "", line).strip()
        if not line or set(line) <= set("|-: "):
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not header:
                header = " | ".join(cells)
                continue
            out.append(f"{header}: {' | '.join(cells)}")
        else:
            header = ""
            out += [s.strip() for s in _SENTENCE_END.split(line) if len(s.strip()) > 2]
    return out


class EvidencePicker:
    """Scores sentences by IDF-weighted overlap with the question plus embedding similarity."""

    def __init__(self, chunks: list[Chunk], embedder: Embedder) -> None:
        self.embedder = embedder
        df = Counter(t for c in chunks for t in set(tokenize(c.search_text)))
        self.idf = {t: math.log(1 + len(chunks) / n) for t, n in df.items()}
        self.unknown_idf = math.log(1 + len(chunks))

    def weight(self, token: str) -> float:
        return self.idf.get(token, self.unknown_idf)

    def overlap(self, question_tokens: set[str], text: str) -> float:
        """Share of the question's IDF weight that `text` contains."""
        total = sum(self.weight(t) for t in question_tokens)
        found = question_tokens & set(tokenize(text))
        return sum(self.weight(t) for t in found) / total if total else 0.0

    def pick(self, question: str, hits: list[Hit], limit: int, max_chars: int) -> list[Passage]:
        candidates = [(hit, s) for hit in hits for s in sentences(hit.chunk)]
        if not candidates:
            return []
        q_tokens = set(tokenize(question))
        texts = [f"{hit.chunk.section}: {s}" for hit, s in candidates]
        vectors = self.embedder.encode([question, *texts])
        dense = vectors[1:] @ vectors[0]
        scores = np.array([
            self.overlap(q_tokens, s) + 0.5 * self.overlap(q_tokens, hit.chunk.section) + float(d)
            for (hit, s), d in zip(candidates, dense, strict=True)])
        passages: list[Passage] = []
        used = 0
        for i in np.argsort(-scores, kind="stable"):
            hit, text = candidates[i]
            if used + len(text) > max_chars or any(p.text == text for p in passages):
                continue
            passages.append(Passage(len(passages) + 1, hit.chunk.path, hit.chunk.section, text,
                                    round(float(scores[i]), 3)))
            used += len(text)
            if len(passages) == limit:
                break
        return passages
