"""The Documents list and a source opened at its passage: drawn from the index, escaped, the words found."""

from __future__ import annotations

import re
from collections import Counter
from types import SimpleNamespace
from typing import cast

import pytest

from labchat.chunking import Chunk
from labchat.evidence import Passage, sentences
from labchat.index import Index
from labchat.web.docview import documents_html, find_passage, passage_html

TABLE = "| Round | Amount |\n|---|---|\n| Series A | $50M |\n| Series B | **$691M** |"
LIST = "Step-2 strengths:\n- Creativity: Strong\n- Reasoning: `very` strong"
PROSE = "Baichuan was founded in 2023\nby Wang Xiaochuan, formerly of\nSogou."


def locate(passage: str, text: str) -> tuple[int, int] | None:
    """Where `find_passage` marks the passage in a document of one chunk, `text`."""
    here, span = find_passage([Chunk("a.md", "Lab", text)], Passage(1, "a.md", "Lab", passage, 0.5))
    return span if here is not None else None


@pytest.mark.parametrize("text", [TABLE, LIST, PROSE])
def test_every_sentence_the_evidence_picker_makes_is_found_in_its_chunk(text: str) -> None:
    """Passages are a chunk's sentences with markup dropped, lines joined, a header or label in front."""
    for sentence, _ in sentences(Chunk("a.md", "Lab", text)):
        span = locate(sentence, text)
        assert span is not None, sentence
        marked = text[span[0]:span[1]]
        assert all(word in marked for word in re.findall(r"[^\W_]+", sentence.split(": ")[-1])), sentence


def test_a_table_row_is_marked_without_the_rows_between_it_and_its_header() -> None:
    start, end = locate("Round | Amount: Series B | $691M", TABLE)
    assert TABLE[start:end] == "Series B | **$691M"


def _index(chunks: list[Chunk], files: dict[str, str], **manifest: dict) -> Index:
    """What docview reads of an index: its chunks, and its manifest with each file's segments as the store
    writes them (one per file here)."""
    segments = {path: [{"chunks": n}] for path, n in Counter(c.path for c in chunks).items()}
    listing = {"files": files, "segments": segments, "chunks": len(chunks), **manifest}
    store = SimpleNamespace(file_chunks=lambda path: [c for c in chunks if c.path == path])
    return cast(Index, SimpleNamespace(manifest=listing, store=store))


def test_a_passage_opens_in_its_document_marked_and_escaped() -> None:
    chunks = [Chunk("evil.md", "Intro", "Nothing here."),
              Chunk("evil.md", "Intro > Money", "Raised $5M. <script>alert(1)</script> Done."),
              Chunk("other.md", "Other", "Raised $5M elsewhere.")]
    index = _index(chunks, {"evil.md": "1", "other.md": "2"})
    page = passage_html(index, Passage(2, "evil.md", "Intro > Money", "Raised $5M.", 0.9))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<div class="lc-chunk lc-here"><mark>Raised $5M</mark>. &lt;script&gt;' in page
    assert "elsewhere" not in page  # only the passage's own document
    assert "Intro \u203a Money" in page


def test_a_document_no_longer_indexed_is_not_shown() -> None:
    index = _index([Chunk("kept.md", "S", "Kept.")], {"kept.md": "1"})
    page = passage_html(index, Passage(1, "gone.md", "S", "Gone.", 0.5))
    assert 'data-state="missing"' in page and "no longer in the index" in page


def test_the_documents_list_counts_chunks_and_says_why_files_were_skipped() -> None:
    chunks = [Chunk("a<b>.md", "S", "x"), Chunk("a<b>.md", "S", "y"), Chunk("c.md", "S", "z")]
    index = _index(chunks, {"a<b>.md": "1", "c.md": "2"},
                   skipped={"bad.md": {"digest": "3", "reason": "not UTF-8 or UTF-16 text"}},
                   indexed_at={"c.md": "2026-01-02T03:04:05+00:00"})
    page = documents_html(index, "corpus")
    assert "2 documents in <code>corpus/</code>, 3 chunks." in page
    assert '<td>a&lt;b&gt;.md</td><td class="lc-n">2</td><td class="lc-when">\u2014</td>' in page
    assert '<td>c.md</td><td class="lc-n">1</td><td class="lc-when">2026-01-0' in page
    assert "<td>bad.md</td><td>not UTF-8 or UTF-16 text</td>" in page


def test_a_passage_is_marked_under_its_own_label_not_where_its_last_word_first_appears() -> None:
    chunks = [Chunk("a.md", "Lab", "- Step-2 levels:\n  - Mathematics: Strong performance\n  - Logic: Fair"),
              Chunk("a.md", "Lab", "- Step-2 levels:\n  - Creativity: Strong")]
    passage = Passage(1, "a.md", "Lab", "Step-2 levels: Creativity: Strong", 0.5)
    here, (start, end) = find_passage(chunks, passage)
    assert here == 1 and "Creativity: Strong" in chunks[1].text[start:end]
