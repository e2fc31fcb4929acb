"""What a file's chunks add to an index, the same for every store: BM25 postings and word counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from labchat.chunking import Chunk
from labchat.lexicon import FileWords, count_words, key
from labchat.postings import Postings
from labchat.retrieve import tokenize


@dataclass(frozen=True)
class Contents:
    postings: Postings
    words: FileWords

    @classmethod
    def of(cls, chunks: Sequence[Chunk]) -> Contents:
        tokens = [tokenize(c.search_text) for c in chunks]
        return cls(Postings.of(tokens), count_words(chunks, tokens))

    @property
    def length(self) -> int:
        """The chunks' search tokens in all (BM25's mean length is summed from these)."""
        return int(self.postings.lengths.sum())


def text_key(text: str) -> int:
    """What a chunk's vector is found by when its file changes: its search text's key."""
    return key("", text)
