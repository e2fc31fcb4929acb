"""The index on disk: build and load, incremental `labchat index`, staleness, refusal of unusable indexes."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest

from labchat import index as index_module
from labchat.chunking import chunk_file
from labchat.embed import INT8_RECIPE, MIN_COSINE, Embedder
from labchat.errors import LabchatError
from labchat.index import build_index, load_index, staleness
from labchat.ingest import SourceFile, list_files, read_file
from labchat.lexicon import Lexicon, Table
from labchat.retrieve import Retriever
from labchat.settings import PROJECT_DIR, Settings
from labchat.store import local as store_module

LABS = "chinese-llm-labs.md"
HUBS = "china-ai-hubs.md"
NEW_SENTENCE = "The Zorblax Institute in Chengdu trained its Quillfeather model on 4,096 abacus cores."
EDIT_SENTENCE = "Hexapod Robotics of Wuhan opened a submarine research station beneath the Yangtze."


def _chunk_count(settings: Settings, name: str) -> int:
    source = read_file(settings.corpus_dir / name, settings.corpus_dir)
    assert isinstance(source, SourceFile)
    return len(chunk_file(source, settings.chunk_chars))


def _manifest_path(settings: Settings) -> Path:
    return settings.index_dir / "manifest.json"


def test_build_and_load_round_trip(settings: Settings, embedder: Embedder) -> None:
    report = build_index(settings, embedder)
    assert report.files == 2
    assert report.chunks == report.embedded == _chunk_count(settings, LABS) + _chunk_count(settings, HUBS)
    assert "2 files" in report.summary() and f"{report.chunks} chunks" in report.summary()

    index = load_index(settings, embedder.dim)
    assert len(index.chunks) == len(index.store.vectors) == report.chunks
    assert {c.path for c in index.chunks} == {LABS, HUBS}
    manifest = index.manifest
    assert manifest["embedder"] == "all-MiniLM-L6-v2" == embedder.name
    assert manifest["dim"] == 384 == embedder.dim
    assert manifest["chunking"]["chunk_chars"] == settings.chunk_chars
    assert manifest["files"] == {
        name: hashlib.sha256((settings.corpus_dir / name).read_bytes()).hexdigest() for name in (LABS, HUBS)}
    # The vectors are the chunks' embeddings by the int8 model, in the chunks' order.
    assert manifest["vectors"] == embedder.chunk_vectors == INT8_RECIPE
    sample = [0, len(index.chunks) // 2, len(index.chunks) - 1]
    fresh = embedder.encode_chunks([index.chunks[i].search_text for i in sample])
    np.testing.assert_allclose(index.store.vectors[sample], fresh, atol=1e-5)


def test_second_build_with_nothing_changed_embeds_nothing(
        indexed_settings: Settings, embedder: Embedder) -> None:
    before = load_index(indexed_settings, embedder.dim)
    report = build_index(indexed_settings, embedder)
    assert report.embedded == 0
    assert report.chunks == len(before.chunks)
    after = load_index(indexed_settings, embedder.dim)
    assert after.chunks == before.chunks
    assert np.array_equal(after.store.vectors, before.store.vectors)


def test_update_embeds_only_added_and_edited_files(indexed_settings: Settings, embedder: Embedder) -> None:
    settings = indexed_settings
    corpus = settings.corpus_dir
    (corpus / "notes.md").write_text("# Notes\n\nA short file that is deleted later.\n", encoding="utf-8")
    assert build_index(settings, embedder).embedded == _chunk_count(settings, "notes.md")
    before = load_index(settings, embedder.dim)
    labs_before = [i for i, c in enumerate(before.chunks) if c.path == LABS]
    hubs_before = {c.search_text for c in before.chunks if c.path == HUBS}

    (corpus / "sub").mkdir()
    (corpus / "sub" / "zorblax.md").write_text(f"# Zorblax Institute\n\n{NEW_SENTENCE}\n", encoding="utf-8")
    with (corpus / HUBS).open("a", encoding="utf-8") as hubs:
        hubs.write(f"\n{EDIT_SENTENCE}\n")
    (corpus / "notes.md").unlink()
    report = build_index(settings, embedder)

    index = load_index(settings, embedder.dim)
    # Of the edited file, only the chunks whose text is new were embedded: here the one with the sentence.
    edited = [c for c in index.chunks if c.path == HUBS and c.search_text not in hubs_before]
    assert len(edited) == 1 and EDIT_SENTENCE in edited[0].text
    assert report.embedded == _chunk_count(settings, "sub/zorblax.md") + len(edited)
    assert report.files == 3
    assert report.chunks == sum(_chunk_count(settings, name) for name in ("sub/zorblax.md", HUBS, LABS))
    assert {c.path for c in index.chunks} == {LABS, HUBS, "sub/zorblax.md"}
    assert set(index.manifest["files"]) == {LABS, HUBS, "sub/zorblax.md"}
    # The unchanged file's chunks and vectors were reused as they were.
    labs_after = [i for i, c in enumerate(index.chunks) if c.path == LABS]
    assert [index.chunks[i] for i in labs_after] == [before.chunks[i] for i in labs_before]
    assert np.array_equal(index.store.vectors[labs_after], before.store.vectors[labs_before])
    # New and edited text can be found, by meaning alone (dense) and by the fused search.
    retriever = Retriever(index.store, embedder)
    for sentence, path in ((NEW_SENTENCE, "sub/zorblax.md"), (EDIT_SENTENCE, HUBS)):
        best = index.chunks[int(np.argmax(index.store.vectors @ embedder.encode([sentence])[0]))]
        assert best.path == path and sentence in best.text
        assert sentence in retriever.search(sentence, k=1)[0].chunk.text
    assert staleness(settings) is None


def test_staleness(indexed_settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    settings = indexed_settings
    missing_dir = tmp_path / "no-index-here"
    missing = staleness(settings.with_(index_dir=missing_dir))
    assert missing is not None and str(missing_dir) in missing
    assert staleness(settings) is None

    with (settings.corpus_dir / HUBS).open("a", encoding="utf-8") as hubs:
        hubs.write(f"\n{EDIT_SENTENCE}\n")
    changed = staleness(settings)
    assert changed is not None and "changed" in changed and HUBS in changed

    build_index(settings, embedder)
    assert staleness(settings) is None
    (settings.corpus_dir / "new.md").write_text(f"# New\n\n{NEW_SENTENCE}\n", encoding="utf-8")
    added = staleness(settings)
    assert added is not None and "new.md" in added

    (settings.corpus_dir / "new.md").unlink()
    assert staleness(settings) is None
    (settings.corpus_dir / LABS).unlink()
    deleted = staleness(settings)
    assert deleted is not None and LABS in deleted


def _assert_rebuilt_whole(settings: Settings, embedder: Embedder) -> None:
    """`labchat index` replaces an unusable index instead of reusing any of its vectors.

    The big file is removed first so the rebuild is quick; the small one is unchanged, so a build that
    trusted the old index would embed nothing.
    """
    (settings.corpus_dir / LABS).unlink()
    report = build_index(settings, embedder)
    assert report.embedded == report.chunks == _chunk_count(settings, HUBS) > 0
    index = load_index(settings, embedder.dim)
    assert len(index.chunks) == len(index.store.vectors) == report.chunks
    assert index.manifest["embedder"] == embedder.name and index.manifest["dim"] == embedder.dim


def _forge_manifest(settings: Settings, **changes: object) -> None:
    manifest = json.loads(_manifest_path(settings).read_text(encoding="utf-8"))
    manifest.update(changes)
    _manifest_path(settings).write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("forged", [{"embedder": "paraphrase-multilingual-MiniLM-L12-v2"}, {"dim": 768}],
                         ids=["other-embedder", "other-dimension"])
def test_index_of_another_embedder_is_refused(
        forged: dict[str, object], indexed_settings: Settings, embedder: Embedder) -> None:
    _forge_manifest(indexed_settings, **forged)
    with pytest.raises(LabchatError, match="labchat index") as caught:
        load_index(indexed_settings, embedder.dim)
    assert str(next(iter(forged.values()))) in str(caught.value)
    _assert_rebuilt_whole(indexed_settings, embedder)


def test_garbled_manifest_asks_for_a_rebuild(indexed_settings: Settings, embedder: Embedder) -> None:
    _manifest_path(indexed_settings).write_text('{"format": 2, "embedder": ', encoding="utf-8")
    with pytest.raises(LabchatError, match="labchat index"):
        load_index(indexed_settings, embedder.dim)
    _assert_rebuilt_whole(indexed_settings, embedder)


def _segment(settings: Settings, name: str) -> Path:
    manifest = json.loads(_manifest_path(settings).read_text(encoding="utf-8"))
    (entry,) = manifest["segments"][name]
    return settings.index_dir / "segments" / f"{entry['name']}.npz"


@pytest.mark.parametrize("damage", ["truncate", "delete", "garble-chunks", "garble-vectors"])
def test_damaged_segment_is_refused_and_its_file_indexed_again(
        damage: str, indexed_settings: Settings, embedder: Embedder) -> None:
    """A cut-short or missing segment file is seen without reading it (its size is in the manifest): the
    index is stale, and `labchat index` indexes that file again, keeping the others. One altered in place
    fails its CRC-32 at load, and the message says to delete it first."""
    settings = indexed_settings
    before = load_index(settings, embedder.dim)
    segment = _segment(settings, HUBS)
    blob = bytearray(segment.read_bytes())
    if damage == "truncate":
        segment.write_bytes(blob[: len(blob) // 2])
    elif damage == "delete":
        segment.unlink()
    else:  # one byte of the chunks' text, or of the vectors (the first member), changed in place
        at = blob.find(b"Hangzhou") if damage == "garble-chunks" else 200
        blob[at] ^= 0x20
        segment.write_bytes(blob)
    with pytest.raises(LabchatError, match="labchat index") as caught:
        load_index(settings, embedder.dim)
    if damage.startswith("garble"):
        assert staleness(settings) is None  # same size: only reading it tells
        assert f"delete segments/{segment.name}" in str(caught.value)
        segment.unlink()
    stale = staleness(settings)
    assert stale is not None and "damaged" in stale and segment.name in stale
    report = build_index(settings, embedder)
    assert report.embedded == _chunk_count(settings, HUBS)
    after = load_index(settings, embedder.dim)
    assert after.chunks == before.chunks
    np.testing.assert_allclose(after.store.vectors, before.store.vectors, atol=1e-5)
    assert staleness(settings) is None


def test_unchanged_files_are_not_read_again(indexed_settings: Settings,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose size and modification time are those indexed is not hashed again; one whose time
    changed is hashed, and is current if its bytes are the same."""
    hashed: list[str] = []
    real = index_module.file_digest
    monkeypatch.setattr(index_module, "file_digest", lambda path: hashed.append(path.name) or real(path))
    assert staleness(indexed_settings) is None
    assert hashed == []
    os.utime(indexed_settings.corpus_dir / HUBS)
    assert staleness(indexed_settings) is None
    assert hashed == [HUBS]


def test_missing_index_asks_to_build_it(settings: Settings) -> None:
    with pytest.raises(LabchatError, match="labchat index"):
        load_index(settings, 384)


def test_fast_embedding_path_matches_sentence_transformers(embedder: Embedder) -> None:
    """labchat runs MiniLM without sentence-transformers (start-up time); the vectors must not differ."""
    from sentence_transformers import SentenceTransformer

    from labchat.embed import embedder_path

    # More texts than one batch, of very different lengths: order and padding must not leak into vectors.
    texts = ["How much did Baichuan raise in its Series B round?", "百川智能 | Series B | $691M", "x" * 3000,
             *(f"Lab {i}: " + "a model trained on many tokens. " * i for i in range(10))]
    reference = SentenceTransformer(embedder_path(embedder.name), device="cpu").encode(
        texts, normalize_embeddings=True)
    assert embedder.session is not None, "the default embedder should run under onnxruntime"
    np.testing.assert_allclose(embedder.encode(texts), reference, atol=1e-5)


@pytest.mark.parametrize("corpus", [PROJECT_DIR / "corpus", PROJECT_DIR / "tests" / "data" / "otherdocs"],
                         ids=["labs", "httpx-docs"])
def test_int8_vectors_stay_within_cosine_099_of_float32(corpus: Path, embedder: Embedder) -> None:
    """Indexing runs the int8 copy of the embedder (see embed._quantize): every chunk's vector of
    two corpora, ours and one it was not tuned on, points where the float32 model's does."""
    texts = [c.search_text for path in list_files(corpus) if isinstance(source := read_file(path, corpus),
                                                                         SourceFile)
             for c in chunk_file(source, 300)]
    cosines = np.sum(embedder.encode_chunks(texts) * embedder.encode(texts), axis=1)
    assert len(texts) > 200 and cosines.min() >= MIN_COSINE, texts[int(np.argmin(cosines))]


def test_damaged_onnx_cache_is_exported_again(tmp_path: Path, embedder: Embedder,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    """A cut-short export (disk full, killed process) must not break every later start; exporting says
    one line and shows no other library's progress bar."""
    from labchat.embed import embedder_path, onnx_file

    settings = Settings(cache_dir=tmp_path / "cache")
    cached = onnx_file(settings.embedder, Path(embedder_path(settings.embedder)), settings.cache_dir)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"\x08\x07 not a model")
    texts = ["Who founded Zhipu AI?", "Zhipu AI was founded by Tang Jie."]
    np.testing.assert_allclose(Embedder(settings).encode(texts), embedder.encode(texts), atol=1e-6)
    assert cached.stat().st_size > 1_000_000
    assert "Loading weights" not in capfd.readouterr().err


def test_making_the_int8_copy_logs_no_advice(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """onnxruntime advises pre-processing on the root logger while the copy is made, which `labchat index`
    printed on its first run: nothing a user can act on."""
    with caplog.at_level(logging.DEBUG):
        assert Embedder(Settings(cache_dir=tmp_path / "cache")).chunk_vectors == INT8_RECIPE
    assert "making the int8 embedder" in caplog.text and "pre-processing" not in caplog.text


def test_the_manifest_says_when_each_file_was_embedded_and_why_one_was_skipped(
        indexed_settings: Settings, embedder: Embedder) -> None:
    """What the Documents tab shows: a file keeps the time it was embedded until it changes; a file that
    cannot be read is listed with the reason ingestion gave."""
    first = load_index(indexed_settings, embedder.dim).manifest["indexed_at"]
    assert set(first) == {LABS, HUBS}
    hubs = indexed_settings.corpus_dir / HUBS
    hubs.write_text(hubs.read_text(encoding="utf-8") + f"\n{EDIT_SENTENCE}\n", encoding="utf-8")
    (indexed_settings.corpus_dir / "binary.md").write_bytes(b"\x00\x01\x02\xff")
    (indexed_settings.corpus_dir / "empty.md").write_text("  \n")
    build_index(indexed_settings, embedder)
    manifest = load_index(indexed_settings, embedder.dim).manifest
    assert manifest["indexed_at"][LABS] == first[LABS]
    assert manifest["indexed_at"][HUBS] >= first[HUBS] and set(manifest["indexed_at"]) == {LABS, HUBS}
    assert {path: entry["reason"] for path, entry in manifest["skipped"].items()} == {
        "binary.md": "not UTF-8 or UTF-16 text", "empty.md": "empty"}


@pytest.mark.parametrize("max_changes", [0, 32], ids=["summed-each-time", "changes-kept-apart"])
def test_word_counts_after_edits_are_those_of_the_corpus(
        max_changes: int, indexed_settings: Settings, embedder: Embedder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The corpus's word table is a sum of per-file tables, updated by adding and taking out files'
    counts: after files are added, edited and removed, it holds what counting every chunk gives."""
    monkeypatch.setattr(store_module, "MAX_CHANGES", max_changes)
    settings = indexed_settings
    (settings.corpus_dir / "zorblax.md").write_text(
        f"# Zorblax\n\nZorblax Institute (佐布拉克斯研究所): {NEW_SENTENCE}\n", encoding="utf-8")
    build_index(settings, embedder)
    assert load_index(settings, embedder.dim).store.lexicon.aliases["佐布拉克斯研究所"] == "Zorblax Institute"
    with (settings.corpus_dir / HUBS).open("a", encoding="utf-8") as hubs:
        hubs.write(f"\n{EDIT_SENTENCE}\n")
    (settings.corpus_dir / "zorblax.md").unlink()
    (settings.corpus_dir / "notes.md").write_text("# Notes\n\nThe Zorblax team.\n", encoding="utf-8")
    build_index(settings, embedder)
    index = load_index(settings, embedder.dim)
    assert bool(index.manifest["words"]["changes"]) == (max_changes > 0)
    stored, counted = index.store.lexicon, Lexicon.of(index.chunks)
    summed, expected = Table.total(stored.tables), Table.total(counted.tables)
    assert np.array_equal(summed.keys, expected.keys) and np.array_equal(summed.counts, expected.counts)
    assert stored.chunks == counted.chunks
    assert stored.spellings == counted.spellings and list(stored.spellings) == list(counted.spellings)
    assert stored.aliases == counted.aliases and "佐布拉克斯研究所" not in stored.aliases
    assert list(stored.titles()) == list(dict.fromkeys(c.section for c in index.chunks))


def test_a_missing_word_table_is_summed_again(indexed_settings: Settings, embedder: Embedder,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "MAX_CHANGES", 0)
    settings = indexed_settings
    build_index(settings, embedder)  # sums the session index's changes into a table
    table = json.loads(_manifest_path(settings).read_text(encoding="utf-8"))["words"]["table"]
    (settings.index_dir / "tables" / f"{table}.npz").unlink()
    stale = staleness(settings)
    assert stale is not None and "damaged" in stale
    assert build_index(settings, embedder).embedded == 0
    index = load_index(settings, embedder.dim)
    summed, counted = Table.total(index.store.lexicon.tables), Table.total(Lexicon.of(index.chunks).tables)
    assert np.array_equal(summed.keys, counted.keys) and np.array_equal(summed.counts, counted.counts)


def test_a_store_opened_over_the_one_it_replaces_reads_only_new_segments(
        indexed_settings: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """A running server's refresh: the same store as one loaded afresh, from the changed file's segment
    alone."""
    before = load_index(indexed_settings, embedder.dim)
    hubs = indexed_settings.corpus_dir / HUBS
    hubs.write_text(hubs.read_text(encoding="utf-8") + f"\n\n{EDIT_SENTENCE}\n", encoding="utf-8")
    build_index(indexed_settings, embedder)
    fresh = load_index(indexed_settings, embedder.dim)
    read = []
    original = store_module.LocalStore._read
    monkeypatch.setattr(store_module.LocalStore, "_read",
                        staticmethod(lambda *args: read.append(args[2]["name"]) or original(*args)))
    refreshed = load_index(indexed_settings, embedder.dim, previous=before)
    assert read == [e["name"] for e in fresh.manifest["segments"][HUBS]]
    assert refreshed.chunks == fresh.chunks
    assert np.array_equal(refreshed.store.vectors, fresh.store.vectors)
    question = "Which company opened a submarine research station?"
    hits = [Retriever(index.store, embedder).search(question, 5) for index in (fresh, refreshed)]
    assert hits[0] == hits[1] and EDIT_SENTENCE in hits[0][0].chunk.text
