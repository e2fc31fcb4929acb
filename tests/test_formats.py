"""PDF, Word, PowerPoint and HTML files in the corpus: indexed like markdown, a PDF's page in every source,
and a file that cannot be read skipped by name with the reason.

The documents are real files written by tests/data/formats/make.py; every fact in them is invented, so an
answer can only come from them. The `labchat` console script is run as a user runs it.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from test_cli import labchat

from labchat.chunking import chunk_file
from labchat.embed import Embedder
from labchat.evaluate import final
from labchat.index import staleness
from labchat.ingest import Skipped, SourceFile, read_file
from labchat.pipeline import Pipeline
from labchat.settings import Settings
from labchat.store.local import read_manifest
from labchat.web.app import sources_html

FORMATS = Path(__file__).parent / "data" / "formats"
READ = ["cooperative.docx", "kestrel.pptx", "library.html", "permissions.pdf", "report.pdf"]
SKIPPED = {"encrypted.pdf": "encrypted", "scanned.pdf": "no text layer", "corrupt.pdf": "damaged"}
"""Each file that cannot be read, and words its reason must hold."""
DEPTH = "How deep is the northern berth of Lindqvist Harbor?"
"""Answered on page 2 of report.pdf only."""
FACTS = [  # question, words of the answer, the file and page it is on
    (DEPTH, "14.2 metres", "report.pdf", 2),
    ("Who founded the Orchard Cooperative?", "Marta Ilves", "cooperative.docx", None),
    ("When does the Kestrel weather balloon launch?", "12 May 2024", "kestrel.pptx", 2),
    ("How many books does the Tern Valley Library hold?", "42,000", "library.html", None),
    ("When was the Sorrel Bridge repainted?", "2011", "permissions.pdf", 1),  # locked against editing only
]


@pytest.fixture(scope="module")
def formats(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A corpus of the format files, indexed by `labchat index` (its output kept for the first test)."""
    root = tmp_path_factory.mktemp("formats")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in [*READ, *SKIPPED]:
        shutil.copy(FORMATS / name, corpus / name)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    result = labchat("index", "--corpus", corpus, "--index", settings.index_dir)
    (root / "index.out").write_text(result.stdout + result.stderr + f"\nstatus {result.returncode}")
    return settings


@pytest.fixture(scope="module")
def formats_pipeline(formats: Settings, embedder: Embedder) -> Pipeline:
    return Pipeline(formats, embedder=embedder)


def test_labchat_index_reads_the_documents_and_names_each_skipped_one_and_why(formats: Settings) -> None:
    output = (formats.index_dir.parent / "index.out").read_text()
    assert output.endswith("status 0") and "Traceback" not in output, output
    assert f"indexed {len(READ)} files" in output, output
    for name, reason in SKIPPED.items():
        assert any(name in line and reason in line for line in output.splitlines()), (name, output)
    manifest = read_manifest(formats.index_dir)
    assert sorted(manifest["files"]) == READ
    assert sorted(manifest["skipped"]) == sorted(SKIPPED)
    assert all(reason in manifest["skipped"][name]["reason"] for name, reason in SKIPPED.items())
    # The skipped files are remembered: the index is current, not rebuilt at every start.
    assert staleness(formats) is None
    again = labchat("index", "--corpus", formats.corpus_dir, "--index", formats.index_dir)
    assert again.returncode == 0 and "(0 embedded)" in again.stdout, again.stdout + again.stderr


@pytest.mark.parametrize(("question", "words", "path", "page"), FACTS, ids=[f[2] for f in FACTS])
def test_each_format_answers_from_its_own_file_and_page(formats_pipeline: Pipeline, question: str, words: str,
                                                       path: str, page: int | None) -> None:
    answer = final(formats_pipeline.ask(question))
    assert not answer.abstained and words in answer.text, answer.text
    cited = [p for p in answer.passages if p.n in answer.cited]
    assert cited and all((p.path, p.page) == (path, page) for p in cited), cited
    assert cited[0].location == (f"{path}, p. {page}" if page else path)


def test_a_fact_only_in_a_scanned_picture_is_not_answered(formats_pipeline: Pipeline) -> None:
    answer = final(formats_pipeline.ask("What time does the Marrow Street bakery open?"))
    assert answer.abstained, answer.text


def test_the_web_sources_name_the_page(formats_pipeline: Pipeline) -> None:
    page = sources_html(final(formats_pipeline.ask(DEPTH)), turn=1)
    assert "report.pdf, p. 2" in page


def test_labchat_ask_shows_the_page_and_its_json_carries_it(formats: Settings) -> None:
    where = ["--corpus", formats.corpus_dir, "--index", formats.index_dir]
    shown = labchat("ask", DEPTH, *where)
    assert shown.returncode == 0, shown.stderr
    assert "14.2 metres" in shown.stdout
    assert "[1] report.pdf, p. 2 \u2014" in shown.stdout, shown.stdout
    reply = json.loads(labchat("ask", "--json", DEPTH, *where).stdout)
    assert (reply["sources"][0]["path"], reply["sources"][0]["page"]) == ("report.pdf", 2)
    assert {s["page"] for s in reply["sources"] if s["path"] == "library.html"} <= {None}


# --- reading the files ---------------------------------------------------------------------------------


def test_a_pdf_is_chunked_page_by_page_however_large_the_chunks() -> None:
    source = read_file(FORMATS / "report.pdf", FORMATS)
    assert isinstance(source, SourceFile)
    assert source.metadata["title"] == "Lindqvist Harbor Survey"  # from the PDF's metadata
    chunks = chunk_file(source, max_chars=10_000)  # room for all three pages in one chunk
    assert [c.page for c in chunks] == [1, 2, 3]
    assert "14.2 metres" in chunks[1].text and "14.2" not in chunks[0].text + chunks[2].text


def test_converted_markup_keeps_headings_and_drops_scripts() -> None:
    chunks = [c for name in ("cooperative.docx", "library.html", "kestrel.pptx")
              for c in chunk_file(read_file(FORMATS / name, FORMATS), 300)]
    sections = {c.section for c in chunks}
    assert {"Orchard Cooperative", "Orchards", "Reading room", "Launch plan"} <= sections
    assert any("| Antonovka | 340 |" in c.text for c in chunks)  # a Word table stays a table
    text = " ".join(c.text for c in chunks)
    assert "visits" not in text and "font-family" not in text and "Slide number" not in text


@pytest.mark.parametrize("name", ["broken.docx", "broken.pptx", "binary.html"])
def test_a_damaged_document_is_skipped_with_a_warning_naming_it(name: str, tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / name).write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)  # a zip header, then noise
    with caplog.at_level(logging.WARNING):
        skipped = read_file(tmp_path / name, tmp_path)
    assert isinstance(skipped, Skipped) and skipped.path == name
    assert skipped.reason.startswith("not UTF-8" if name.endswith(".html") else "not a readable")
    assert any(name in r.getMessage() and skipped.reason in r.getMessage() for r in caplog.records)


def test_an_index_from_before_pages_is_rebuilt_not_misread(formats: Settings, tmp_path: Path) -> None:
    """Older manifests hold a bare hash per skipped file; their chunking key no longer matches."""
    old = read_manifest(formats.index_dir)
    old["chunking"]["splitter"] = "markdown-blocks-labels-prose"
    old["skipped"] = {name: entry["digest"] for name, entry in old["skipped"].items()}
    index_dir = tmp_path / "old-index"
    index_dir.mkdir()
    (index_dir / "manifest.json").write_text(json.dumps(old))
    assert staleness(Settings(corpus_dir=formats.corpus_dir, index_dir=index_dir)) == \
        "the index was built with other chunking settings"
