"""The corpus's words, counted file by file, so that the corpus's tables are sums of the files'.

What a question is read against (`question.Vocabulary`) and what BM25 weighs a word by are counts over
chunks: how many chunks hold a token (its IDF), a word, two words side by side; how often a word is
written capitalised. Counted once per file when it is indexed and kept with it, the corpus's tables are
the files' tables added up (`Table.total`): an edited file takes its old counts out and puts its new ones
in, and nothing is recounted at start-up. Keys are 64-bit hashes of (kind, text), so a table of a million
words is a sorted array that is searched, not a dict that must be built before the first question.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from labchat.chunking import Chunk
from labchat.retrieve import tokenize, word_stem
from labchat.translate import find_aliases

TOKEN, WORD, PAIR, RUNNING, ANYWHERE = "t", "w", "p", "r", "a"
"""What a key counts. TOKEN: a stemmed search token, by the chunks holding it (document frequency);
WORD: a lower-cased word of a chunk's search text, by the chunks holding it; PAIR: two such words side by
side; RUNNING: a word of running text (see `running_words`), (times seen, times capitalised);
ANYWHERE: any word of a chunk's text, (times seen, times capitalised)."""

RAW_WORD = re.compile(r"[A-Za-z0-9]+(?:[.\-][A-Za-z0-9]+)*")
_LABEL = re.compile(r"^[\s\-*#>\d.]*(?:\*\*)?[A-Z][\w\-.&/']*(?:\s+[A-Za-z&][\w\-.&/']*){0,5}(?:\*\*)?:")


def key(kind: str, text: str) -> int:
    """The 64-bit key of a (kind, text) pair; two of a million words share one with odds of 1 in 3.7e7."""
    return int.from_bytes(hashlib.blake2b(f"{kind}{text}".encode(), digest_size=8).digest(), "little")


def running_words(text: str) -> Iterator[str]:
    """The words of running text: not those opening a line, sentence, list item or cell, nor the words of a
    "Title Case Label:" or a table's header row, where any word is capitalised, nor the pieces of a code
    name joined by underscores."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith("|") and i + 1 < len(lines) and set(lines[i + 1].strip()) <= set("|-: "):
            continue
        label = _LABEL.match(line)
        for match in RAW_WORD.finditer(line, label.end() if label else 0):
            word = match.group()
            if "_" in line[max(0, match.start() - 1):match.end() + 1]:
                continue  # a piece of a code name ("TOO_LONG"), not the English word "long"
            before = line[max(0, match.start() - 3):match.start()].rstrip(" *_`\"\u201c(")
            if any(ch.isdigit() for ch in word) or (before and before[-1] not in ".:;!?|-\u2022#>"):
                yield word


@dataclass(frozen=True)
class Table:
    """Counts by key: `keys` sorted and unique, `counts` two columns per key (see the kinds above)."""

    keys: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, counts: dict[tuple[str, str], tuple[int, int]]) -> Table:
        hashed = np.fromiter((key(kind, text) for kind, text in counts), dtype=np.uint64, count=len(counts))
        order = np.argsort(hashed)
        values = np.array(list(counts.values()), dtype=np.int32).reshape(len(counts), 2)
        return cls(hashed[order], values[order])

    @classmethod
    def empty(cls) -> Table:
        return cls(np.zeros(0, dtype=np.uint64), np.zeros((0, 2), dtype=np.int32))

    def get(self, wanted: np.ndarray) -> np.ndarray:
        """The counts of each wanted key, zeros for a key the table does not hold."""
        at = np.searchsorted(self.keys, wanted).clip(max=max(len(self.keys) - 1, 0))
        found = self.keys[at] == wanted if len(self.keys) else np.zeros(len(wanted), dtype=bool)
        out = np.zeros((len(wanted), 2), dtype=np.int64)
        out[found] = self.counts[at[found]]
        return out

    @staticmethod
    def total(parts: Iterable[tuple[Table, int]]) -> Table:
        """The sum of tables, each with its sign (+1 a file's counts put in, -1 taken out); keys whose
        counts come to nothing are dropped."""
        parts = list(parts)
        if not parts:
            return Table.empty()
        every = np.concatenate([t.keys for t, _ in parts])
        counts = np.concatenate([t.counts.astype(np.int64) * sign for t, sign in parts])
        unique, inverse = np.unique(every, return_inverse=True)
        summed = np.zeros((len(unique), 2), dtype=np.int64)
        np.add.at(summed, inverse, counts)
        kept = summed.any(axis=1)
        return Table(unique[kept], summed[kept].astype(np.int32))


class Counts(Protocol):
    """Anything counts can be looked up in: a `Table`, or a database's table (`store.postgres`)."""

    def get(self, wanted: np.ndarray) -> np.ndarray: ...


@dataclass
class FileWords:
    """What one file (or one piece of a large file) adds to the corpus's words."""

    table: Table
    spellings: dict[str, str] = field(default_factory=dict)
    """Stem -> the shortest word with that stem (the first in sorted order among as short)."""
    aliases: list[tuple[str, str]] = field(default_factory=list)
    """(Chinese, English) name pairs the text writes side by side, the first for each Chinese name."""
    titles: list[str] = field(default_factory=list)
    """The sections (heading paths) of its chunks, in order, each once."""


def count_words(chunks: Sequence[Chunk], tokens: Sequence[Sequence[str]]) -> FileWords:
    """Count what `question.Vocabulary` reads from chunks; `tokens` are each chunk's search tokens."""
    counts: Counter[tuple[str, str]] = Counter()
    capitals: Counter[tuple[str, str]] = Counter()
    words: set[str] = set()
    for chunk, chunk_tokens in zip(chunks, tokens, strict=True):
        counts.update((TOKEN, t) for t in set(chunk_tokens))
        raw = [w.lower() for w in RAW_WORD.findall(chunk.search_text)]
        words.update(raw)
        counts.update((WORD, w) for w in set(raw))
        counts.update((PAIR, f"{a} {b}") for a, b in set(itertools.pairwise(raw)))
        for kind, found in ((RUNNING, running_words(chunk.text)), (ANYWHERE, RAW_WORD.findall(chunk.text))):
            for word in found:
                counts[kind, word.lower()] += 1
                capitals[kind, word.lower()] += word[0].isupper() or any(ch.isdigit() for ch in word)
    spellings: dict[str, str] = {}
    for word in sorted(words, key=lambda w: (len(w), w)):
        if key := word_stem(word):
            spellings.setdefault(key, word)
    return FileWords(
        table=Table.of({k: (n, capitals[k]) for k, n in counts.items()}),
        spellings=spellings,
        aliases=list(find_aliases(c.text for c in chunks).items()),
        titles=list(dict.fromkeys(c.section for c in chunks)),
    )


LISTS = ("spellings", "aliases", "titles")
"""The word lists of `FileWords`, kept apart so that each is read only when needed."""


class Lexicon:
    """The corpus's words: its tables summed (a base and the signed tables of recent changes), the number of
    chunks, and the files' word lists (`lists(kind)` gives each file's, in corpus order), merged when first
    asked for: they serve a misspelt or a Chinese question, or a corpus without example questions."""

    def __init__(self, tables: Sequence[tuple[Counts, int]], chunks: int,
                 lists: Callable[[str], Iterable]) -> None:
        self.tables = list(tables)
        self.chunks = chunks
        self._lists = lists

    @classmethod
    def of(cls, chunks: Sequence[Chunk]) -> Lexicon:
        """The lexicon of some chunks, counted on the spot (tests, and corpora read without an index)."""
        words = count_words(chunks, [tokenize(c.search_text) for c in chunks])
        return cls([(words.table, 1)], len(chunks), lambda kind: [getattr(words, kind)])

    def count(self, kind: str, text: str) -> tuple[int, int]:
        wanted = np.array([key(kind, text)], dtype=np.uint64)
        total = sum((table.get(wanted)[0] * sign for table, sign in self.tables), np.zeros(2, np.int64))
        return int(total[0]), int(total[1])

    @functools.cached_property
    def spellings(self) -> dict[str, str]:
        """Stem -> spelling over the corpus, in the order of the spellings' (length, word)."""
        best: dict[str, str] = {}
        for spellings in self._lists("spellings"):
            for stem, word in spellings.items():
                if stem not in best or (len(word), word) < (len(best[stem]), best[stem]):
                    best[stem] = word
        return dict(sorted(best.items(), key=lambda item: (len(item[1]), item[1])))

    @functools.cached_property
    def aliases(self) -> dict[str, str]:
        """Chinese -> English name, the corpus's first pairing of each (as `translate.find_aliases`)."""
        merged: dict[str, str] = {}
        for aliases in self._lists("aliases"):
            for chinese, english in aliases:
                merged.setdefault(chinese, english)
        return merged

    def titles(self) -> Iterator[str]:
        """Every section of the corpus in order (repeats across files included)."""
        for titles in self._lists("titles"):
            yield from titles
