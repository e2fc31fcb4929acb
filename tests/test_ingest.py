"""Reading the corpus (decoding, mojibake repair, front matter, odd files) and cutting it into chunks."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from labchat import ingest
from labchat.chunking import Chunk, chunk_file, chunk_lines, sections
from labchat.embed import Embedder
from labchat.evidence import sentences, stated
from labchat.index import build_index, load_index, staleness
from labchat.ingest import LargeFile, Skipped, SourceFile, read_file
from labchat.settings import PROJECT_DIR, Settings

CORPUS = PROJECT_DIR / "corpus"
LABS = "chinese-llm-labs.md"
HUBS = "china-ai-hubs.md"
REPAIRED = ["百川智能", "智谱清言", "零一万物", "商汤科技", "小红书", "Step函数",
            "✅", "❌", "—", "¥0.58", "🇨🇳"]
DEBRIS = ["\u201aÄ", "Ê", "√", "Ã"]
"""What UTF-8 read as Mac Roman leaves behind; `\u201a` is the low quote (not a comma) of the first."""


def _read(name: str) -> SourceFile:
    source = read_file(CORPUS / name, CORPUS)
    assert isinstance(source, SourceFile), f"{name} was skipped"
    return source


def _corpus_chunks(settings: Settings) -> list[Chunk]:
    return [c for name in (LABS, HUBS) for c in chunk_file(_read(name), settings.chunk_chars)]


# --- reading -------------------------------------------------------------------------------------------


def test_raw_labs_file_really_is_mojibake() -> None:
    """Guards the next test: the file on disk holds the debris, so the repair is what removes it."""
    raw = (CORPUS / LABS).read_text(encoding="utf-8")
    assert "百川智能" not in raw
    assert any(debris in raw for debris in DEBRIS)


@pytest.mark.parametrize("word", REPAIRED)
def test_labs_file_mojibake_is_repaired(word: str) -> None:
    assert word in _read(LABS).text


@pytest.mark.parametrize("debris", DEBRIS)
def test_labs_file_has_no_mojibake_debris(debris: str) -> None:
    text = _read(LABS).text
    assert debris not in text, text[max(text.find(debris) - 40, 0):text.find(debris) + 40]


def test_front_matter_becomes_metadata_not_text() -> None:
    source = _read(HUBS)
    assert source.metadata["title"] == "China's Leading AI Hubs and Models"
    assert not source.text.startswith("---")
    for front_matter in ("title:", "layout: post", "x-ai/grok-4-fast", "China's Leading AI Hubs and Models"):
        assert front_matter not in source.text
    assert source.text.startswith("In Hangzhou, DeepSeek AI")


def test_source_paths_are_relative_and_digests_are_sha256() -> None:
    import hashlib

    source = _read(LABS)
    assert source.path == LABS
    assert source.digest == hashlib.sha256((CORPUS / LABS).read_bytes()).hexdigest()


GOOD = "# Zorblax Lab\n\nZorblax Lab trained the Quillfeather model on 512 abacus cores in Chengdu.\n"
UTF16 = "# Hexapod AI\n\nHexapod AI (六足智能) charges ¥0.58 per million tokens for its Beetle-3 model ✅.\n"
ODD_FILES: dict[str, bytes] = {
    "logo.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)),
    "nuls.txt": b"looks like text\x00\x00\x00but holds NUL bytes\x00",
    "latin1.md": "Café résumé naïve, written as Latin-1".encode("latin-1"),
}


@pytest.fixture
def odd_corpus(tmp_path: Path) -> Settings:
    """A corpus of one ordinary file, three unreadable ones, an empty one and a UTF-16 one."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text(GOOD, encoding="utf-8")
    for name, data in ODD_FILES.items():
        (corpus / name).write_bytes(data)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "utf16.md").write_bytes(UTF16.encode("utf-16"))
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index")


@pytest.mark.parametrize("name", sorted(ODD_FILES))
def test_unreadable_file_is_skipped_with_a_warning_naming_it(
        name: str, odd_corpus: Settings, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        source = read_file(odd_corpus.corpus_dir / name, odd_corpus.corpus_dir)
    assert isinstance(source, Skipped) and source.reason == "not UTF-8 or UTF-16 text"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(name in message for message in warnings), warnings


def test_empty_file_adds_nothing(odd_corpus: Settings) -> None:
    empty = read_file(odd_corpus.corpus_dir / "empty.md", odd_corpus.corpus_dir)
    assert empty == Skipped("empty.md", "empty")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_bom_is_read(encoding: str, tmp_path: Path) -> None:
    data = UTF16.encode(encoding)
    if encoding == "utf-16-be":
        data = "\ufeff".encode(encoding) + data
    (tmp_path / "doc.md").write_bytes(data)
    source = read_file(tmp_path / "doc.md", tmp_path)
    assert isinstance(source, SourceFile)
    assert source.text == UTF16


def test_odd_files_do_not_stop_build_index(
        odd_corpus: Settings, embedder: Embedder, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        report = build_index(odd_corpus, embedder)
    assert report.files == 2
    index = load_index(odd_corpus, embedder.dim)
    assert {c.path for c in index.chunks} == {"good.md", "utf16.md"}
    assert any("六足智能" in c.text for c in index.chunks)
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert all(name in warned for name in ODD_FILES)
    # Skipped files are remembered: the index does not look out of date (and rebuild) on every start.
    assert staleness(odd_corpus) is None
    assert build_index(odd_corpus, embedder).embedded == 0


# --- chunking ------------------------------------------------------------------------------------------


def test_chunks_carry_path_and_heading_path(settings: Settings) -> None:
    chunks = chunk_file(_read(LABS), settings.chunk_chars)
    assert {c.path for c in chunks} == {LABS}
    funding = [c for c in chunks if c.section == "Baichuan AI > Funding and Investment"]
    assert any("$691M" in c.text for c in funding), [c.section for c in chunks if "$691M" in c.text]
    assert all(c.section for c in chunks)
    assert all(c.section in c.search_text for c in chunks)


def _table_runs(text: str) -> list[list[str]]:
    """Consecutive lines of a chunk that are table rows."""
    runs: list[list[str]] = []
    previous = False
    for line in text.split("\n"):
        row = line.lstrip().startswith("|")
        if row and previous:
            runs[-1].append(line)
        elif row:
            runs.append([line])
        previous = row
    return runs


def _is_separator(line: str) -> bool:
    return set(line.strip()) <= set("|-: ") and "-" in line


def _content_lines(text: str) -> list[str]:
    """A chunk's lines, without a leading table header (which is repeated, not content)."""
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) > 2 and lines[0].startswith("|") and _is_separator(lines[1]):
        lines = lines[2:]
    return lines


def _assert_well_cut(chunks: list[Chunk], max_chars: int) -> None:
    for chunk in chunks:
        for line in chunk.text.split("\n"):
            if line.lstrip().startswith("|"):
                assert line.rstrip().endswith("|"), f"table row cut in {chunk.section!r}: {line!r}"
        for run in _table_runs(chunk.text):
            assert len(run) >= 2 and _is_separator(run[1]), f"table piece without its header: {run[:2]}"
        if len(chunk.text) > max_chars:
            assert len(_content_lines(chunk.text)) == 1, f"{len(chunk.text)} chars: {chunk.text[:120]!r}"


def test_corpus_chunks_keep_tables_whole_and_fit_the_limit(settings: Settings) -> None:
    chunks = _corpus_chunks(settings)
    assert len(chunks) > 100
    assert any(_table_runs(c.text) for c in chunks)
    _assert_well_cut(chunks, settings.chunk_chars)


TABLE_HEADER = "| Model | Parameters | Context | Released |\n|---|---|---|---|"


def _doc(body: str) -> SourceFile:
    return SourceFile(path="doc.md", text=body, digest="0")


def test_long_table_is_split_between_rows_with_its_header_repeated(settings: Settings) -> None:
    rows = [f"| Beetle-{i:02d} | {i * 7}B | {2 ** (i % 8)}K | 20{10 + i % 15} |" for i in range(40)]
    chunks = chunk_file(_doc("# Hexapod AI\n\n## Models\n\n" + TABLE_HEADER + "\n" + "\n".join(rows) + "\n"),
                        settings.chunk_chars)
    assert len(chunks) > 2
    _assert_well_cut(chunks, settings.chunk_chars)
    for chunk in chunks:
        assert chunk.text.startswith(TABLE_HEADER + "\n"), chunk.text[:80]
        assert chunk.section == "Hexapod AI > Models"
    cut_rows = [line for c in chunks for line in c.text.split("\n")[2:]]
    assert cut_rows == rows


def test_long_prose_and_lists_are_split_between_sentences_and_items(settings: Settings) -> None:
    sentences = [f"Hexapod AI released model number {i} with {i * 3} billion parameters." for i in range(30)]
    items = [f"- Item {i}: a list entry about Beetle-{i} and its benchmark scores" for i in range(30)]
    body = "# Hexapod AI\n\n" + " ".join(sentences) + "\n\n" + "\n".join(items) + "\n"
    chunks = chunk_file(_doc(body), settings.chunk_chars)
    assert all(len(c.text) <= settings.chunk_chars for c in chunks), [len(c.text) for c in chunks]
    text = " ".join(c.text for c in chunks)
    assert all(s in text for s in sentences)
    assert all(item in text for item in items)


def test_a_list_item_wrapped_over_lines_is_cut_between_its_sentences(settings: Settings) -> None:
    """Hard-wrapped docs: an item's lines are not cut apart, so no chunk starts mid-sentence ("on the file
    name, ..."), and each sentence is a candidate whole."""
    said = ["The third element can be used to name the media type of the file being uploaded.",
            "If it is not given, Hexapod guesses the media type from the file name, and files of unknown "
            "kinds are sent as octet streams.",
            "If the file name is set to None, Hexapod sends no content type header at all for the file."]
    wrapped = textwrap.fill(" ".join(said), 72).replace("\n", "\n  ")
    body = f"# Uploads\n\nA tuple has up to three elements:\n\n- The first is the file name.\n- {wrapped}\n"
    chunks = chunk_file(_doc(body), settings.chunk_chars)
    found = [text for chunk in chunks for text, _ in sentences(chunk)]
    assert all(any(s in text for text in found) for s in said), found


def test_each_item_of_a_list_is_a_candidate_with_the_clause_that_introduces_it(settings: Settings) -> None:
    """A long paragraph ending "... including:" fills a chunk; its items land in the next one with its last
    clause, so "what did gaming give Hexapod" finds the gaming item, not the paragraph naming everything."""
    intro = ("Hexapod announced Beetle at its summit in Lisbon in 2031, after years of quiet robotics work. "
             "As a firm with deep expertise in mapping, gaming, logistics and retail, Hexapod possessed "
             "unique assets for model development including:")
    items = ["Access to millions of warehouse robots", "3D modeling skills from gaming",
             "Route data from logistics", "Shopper feedback from retail"]
    body = "# Hexapod\n\n" + intro + "\n" + "\n".join(f"- {item}" for item in items) + "\n"
    chunks = chunk_file(_doc(body), settings.chunk_chars)
    found = [text for chunk in chunks for text, _ in sentences(chunk)]
    lead = "Hexapod possessed unique assets for model development including:"
    assert [f"{lead} {item}" for item in items] == [s for s in found if s.endswith(tuple(items))]
    assert "As a firm with deep expertise in mapping, gaming, logistics and retail" in found
    assert not any(s.endswith(lead) for s in found)  # the paragraph's own copy of it is gone


def test_a_short_item_is_one_candidate_a_long_items_later_sentences_keep_what_it_defines() -> None:
    """API docs: "`max_hops` - The most hops. **Default:** *30*." is one fact, what it is with its default,
    so one candidate. A long item is cut into its sentences, and "Defaults to 30." is max_hops's, so
    that sentence says so, under the list's label too."""
    label = "The following arguments are supported:"
    short = f"{label}\n\n* `max_hops` - The most hops a request takes. **Default:** *30*."
    found = [s for s, _ in sentences(Chunk("api.md", "Limits", short))]
    assert found == [f"{label} max_hops - The most hops a request takes. Default: *30*."]
    why = "Keep it low, because every hop costs a round-trip to a server that may be far away"
    long = ("The following arguments are supported:\n\n"
            f"* `max_hops` - The most hops a request takes. {why}, and {why}. Defaults to 30.")
    found = [s for s, _ in sentences(Chunk("api.md", "Limits", long))]
    assert found == ["The following arguments are supported: max_hops - The most hops a request takes.",
                     f"The following arguments are supported: max_hops - {why}, and {why}.",
                     "The following arguments are supported: max_hops - Defaults to 30."]


def test_a_sentence_that_points_back_is_one_candidate_with_the_sentence_it_points_to() -> None:
    text = ("There are four kinds of timeout. These are **connect**,\n**read**, **write** and **pool** "
            "timeouts.\n\nThis is the end of it. Hexapod raised money.")
    found = [s for s, _ in sentences(Chunk("x.md", "Timeouts", text))]
    assert found == ["There are four kinds of timeout. These are connect, read, write and pool timeouts.",
                     "This is the end of it.", "Hexapod raised money."]


def test_lines_ending_in_a_markdown_hard_break_stay_apart_in_a_split_block(settings: Settings) -> None:
    """A list of links, one per line with two trailing spaces, is as many candidates: "which outlet ran
    the piece" quotes that piece's link, not every link of the list."""
    links = [f"[Piece number {i} about Hexapod robots](https://outlet{i}.example/{'a' * 40})"
             for i in range(12)]
    body = "# Sources\n\n" + "  \n".join(links) + "\n"
    found = [text for chunk in chunk_file(_doc(body), settings.chunk_chars) for text, _ in sentences(chunk)]
    assert found == links


def test_a_pro_or_con_mark_is_searched_as_its_meaning_a_table_cell_mark_is_not() -> None:
    chunk = Chunk("x.md", "Labs", "- \u2705 Fast robots\n- \u274c Small team\n| Beetle-2 | \u2705 |")
    assert chunk.search_text.split("\n")[1:] == [
        "- \u2705 (strength) Fast robots", "- \u274c (weakness) Small team",
        "| Beetle-2 | \u2705 |"]
    assert stated("Hexapod AI: \u274c Small team") == "Hexapod AI: \u274c (weakness) Small team"


def test_a_table_row_states_only_its_filled_cells() -> None:
    row = "Release Date | Model | Parameters | Open Weights: 2031 | Beetle-4 | - | no"
    assert stated(row) == "Release Date 2031 Model Beetle-4 Open Weights no"
    assert stated("Plain text: with a colon | and a bar") == "Plain text: with a colon | and a bar"


def test_only_an_unsplittable_line_may_exceed_the_limit(settings: Settings) -> None:
    line = "Hexapod-" + "x" * 500
    body = f"# Hexapod AI\n\nShort intro.\n\n{line}\n\nShort outro.\n"
    chunks = chunk_file(_doc(body), settings.chunk_chars)
    long = [c for c in chunks if len(c.text) > settings.chunk_chars]
    assert [c.text for c in long] == [line]
    _assert_well_cut(chunks, settings.chunk_chars)


ODD_MARKDOWN = ("Preamble before any heading.\n\n# Title\n\ntext\n\n## A\n\n```\n# not a heading\n```\n\n"
                "###  B > C\n\nx > y\n\n## \n\nan empty heading\n\n#### D\nd\n#NoSpace\n# E\ne\n")


@pytest.mark.parametrize("text", [(CORPUS / LABS).read_text(encoding="utf-8"), ODD_MARKDOWN],
                         ids=["labs", "odd"])
def test_sections_are_llama_index_markdown_parsers(text: str) -> None:
    """labchat splits headings itself (importing llama-index took 2-7 s of a one-file update); the sections
    and their heading paths are those of llama-index's MarkdownNodeParser."""
    from llama_index.core import Document
    from llama_index.core.node_parser import MarkdownNodeParser

    nodes = MarkdownNodeParser(header_path_separator=" > ").get_nodes_from_documents([Document(text=text)])
    theirs = [([h for h in n.metadata["header_path"].split(" > ") if h.strip()], n.get_content())
              for n in nodes]
    assert list(sections(text.split("\n"))) == theirs


def test_a_large_file_read_as_a_stream_has_the_chunks_it_has_read_whole(tmp_path: Path) -> None:
    """Above PIECE_BYTES a text file is read line by line, never whole: same hash, title and chunks (this
    one has front matter, mojibake and a lone # title)."""
    text = (CORPUS / LABS).read_text(encoding="utf-8")
    (tmp_path / "big.md").write_text("---\nauthor: someone\n---\n" + text, encoding="utf-8")
    whole = read_file(tmp_path / "big.md", tmp_path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ingest, "PIECE_BYTES", 20_000)
        streamed = read_file(tmp_path / "big.md", tmp_path)
    assert isinstance(whole, SourceFile) and isinstance(streamed, LargeFile)
    assert streamed.digest == whole.digest and streamed.metadata == whole.metadata
    title = streamed.metadata["title"]
    assert "Chinese LLM Foundation Models" in title and streamed.metadata["author"] == "someone"
    assert list(chunk_lines("big.md", streamed.lines(), 300, title)) == chunk_file(whole, 300)


def test_html_tags_in_markdown_are_layout_but_placeholders_and_code_stay(settings: Settings) -> None:
    """A README's centred badges are no answer to anything; "--port <int>" and a template in a code block
    are the docs' own words."""
    body = ('# Beetle\n\n<p align="center">\n<a href="https://ci.example/beetle"><img src="https://ci.example/'
            'badge.svg" alt="Test Suite"></a>\n</p>\n\n<!-- badges end -->\n'
            "* `--port <int>` - Bind to this port. Beetle runs on <b>Python 3.12</b>.\n\n"
            "```html\n<p>Hello</p>\n```\n")
    text = "\n".join(chunk.text for chunk in chunk_file(_doc(body), settings.chunk_chars))
    assert "<p" not in text.split("```")[0] and "<img" not in text and "<!--" not in text
    assert "* `--port <int>` - Bind to this port. Beetle runs on Python 3.12." in text
    assert "```html\n<p>Hello</p>\n```" in text


def test_site_generator_directives_and_call_out_marks_are_layout_but_titles_stay(settings: Settings) -> None:
    """Hugo's "{{% note %}}", MkDocs' "!!! tip", pymdownx's "/// warning | Title", Docusaurus' ":::" and an
    included example "{* app.py *}" are how a site is built, not what the page says: a quote must not hold
    them. A call-out's own title, and a template in a code block, stay."""
    body = ('# Beetle\n\n{{% note %}}\nBeetle installs into its own environment.\n{{% /note %}}\n\n'
            'See the [setup page]({{< relref "setup" >}}).\n\n!!! tip "Faster installs"\n'
            "    Pass --jobs to install in parallel.\n\n/// warning | Old versions\nBeetle 1 is gone.\n"
            "///\n\n:::info\nBeetle logs to stderr.\n:::\n\n{* docs_src/app.py hl[3] *}\n\n"
            "```jinja\n{% load beetle %}\n```\n")
    text = "\n".join(chunk.text for chunk in chunk_file(_doc(body), settings.chunk_chars))
    for mark in ("{{", "!!!", "///", ":::", "{*", "tip", "warning", "info"):
        assert mark not in text.split("```")[0], (mark, text)
    for words in ("Beetle installs into its own environment.", "Faster installs", "Old versions",
                  "Pass --jobs to install in parallel.", "Beetle logs to stderr.", "{% load beetle %}"):
        assert words in text, (words, text)
