"""The index on disk: build and load, incremental `labchat index`, staleness, refusal of unusable indexes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from labchat.chunking import chunk_file
from labchat.embed import Embedder
from labchat.errors import LabchatError
from labchat.index import build_index, load_index, staleness
from labchat.ingest import SourceFile, read_file
from labchat.retrieve import Retriever
from labchat.settings import Settings

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
    assert len(index.chunks) == index.vectors.ntotal == report.chunks
    assert {c.path for c in index.chunks} == {LABS, HUBS}
    manifest = index.manifest
    assert manifest["embedder"] == "all-MiniLM-L6-v2" == embedder.name
    assert manifest["dim"] == 384 == embedder.dim
    assert manifest["chunking"]["chunk_chars"] == settings.chunk_chars
    assert manifest["files"] == {
        name: hashlib.sha256((settings.corpus_dir / name).read_bytes()).hexdigest() for name in (LABS, HUBS)}
    # The vectors are the chunks' embeddings, in the chunks' order (unit vectors: inner product 1 with self).
    sample = [0, len(index.chunks) // 2, len(index.chunks) - 1]
    fresh = embedder.encode([index.chunks[i].search_text for i in sample])
    stored = np.stack([index.vectors.reconstruct(i) for i in sample])
    assert np.allclose(np.sum(fresh * stored, axis=1), 1.0, atol=1e-4)


def test_second_build_with_nothing_changed_embeds_nothing(
        indexed_settings: Settings, embedder: Embedder) -> None:
    before = load_index(indexed_settings, embedder.dim)
    report = build_index(indexed_settings, embedder)
    assert report.embedded == 0
    assert report.chunks == len(before.chunks)
    after = load_index(indexed_settings, embedder.dim)
    assert after.chunks == before.chunks
    assert np.array_equal(after.vectors.reconstruct_n(0, after.vectors.ntotal),
                          before.vectors.reconstruct_n(0, before.vectors.ntotal))


def test_update_embeds_only_added_and_edited_files(indexed_settings: Settings, embedder: Embedder) -> None:
    settings = indexed_settings
    corpus = settings.corpus_dir
    (corpus / "notes.md").write_text("# Notes\n\nA short file that is deleted later.\n", encoding="utf-8")
    assert build_index(settings, embedder).embedded == _chunk_count(settings, "notes.md")
    before = load_index(settings, embedder.dim)
    labs_before = [i for i, c in enumerate(before.chunks) if c.path == LABS]

    (corpus / "sub").mkdir()
    (corpus / "sub" / "zorblax.md").write_text(f"# Zorblax Institute\n\n{NEW_SENTENCE}\n", encoding="utf-8")
    with (corpus / HUBS).open("a", encoding="utf-8") as hubs:
        hubs.write(f"\n{EDIT_SENTENCE}\n")
    (corpus / "notes.md").unlink()
    report = build_index(settings, embedder)

    changed = _chunk_count(settings, "sub/zorblax.md") + _chunk_count(settings, HUBS)
    assert report.embedded == changed
    assert report.files == 3
    assert report.chunks == changed + _chunk_count(settings, LABS)
    index = load_index(settings, embedder.dim)
    assert {c.path for c in index.chunks} == {LABS, HUBS, "sub/zorblax.md"}
    assert set(index.manifest["files"]) == {LABS, HUBS, "sub/zorblax.md"}
    # The unchanged file's chunks and vectors were reused as they were.
    labs_after = [i for i, c in enumerate(index.chunks) if c.path == LABS]
    assert [index.chunks[i] for i in labs_after] == [before.chunks[i] for i in labs_before]
    assert np.array_equal(np.stack([index.vectors.reconstruct(i) for i in labs_after]),
                          np.stack([before.vectors.reconstruct(i) for i in labs_before]))
    # New and edited text can be found, by meaning alone (dense) and by the fused search.
    retriever = Retriever(index, embedder)
    for sentence, path in ((NEW_SENTENCE, "sub/zorblax.md"), (EDIT_SENTENCE, HUBS)):
        best = index.chunks[int(np.argmax(retriever.dense(sentence)))]
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
    assert len(index.chunks) == index.vectors.ntotal == report.chunks
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


DAMAGES = ["truncate-vectors", "truncate-chunks", "delete-vectors", "garble-manifest"]


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_index_asks_for_a_rebuild(
        damage: str, indexed_settings: Settings, embedder: Embedder) -> None:
    (data_dir,) = indexed_settings.index_dir.glob("data-*")
    if damage == "truncate-vectors":
        blob = (data_dir / "vectors.faiss").read_bytes()
        (data_dir / "vectors.faiss").write_bytes(blob[: len(blob) // 2])
    elif damage == "truncate-chunks":
        blob = (data_dir / "chunks.jsonl").read_bytes()
        (data_dir / "chunks.jsonl").write_bytes(blob[: len(blob) // 3])
    elif damage == "delete-vectors":
        (data_dir / "vectors.faiss").unlink()
    else:
        _manifest_path(indexed_settings).write_text('{"format": 1, "embedder": ', encoding="utf-8")
    with pytest.raises(LabchatError, match="labchat index"):
        load_index(indexed_settings, embedder.dim)
    _assert_rebuilt_whole(indexed_settings, embedder)


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


def test_damaged_onnx_cache_is_exported_again(tmp_path: Path, embedder: Embedder) -> None:
    """A cut-short export (disk full, killed process) must not break every later start."""
    from labchat.embed import embedder_path, onnx_file

    settings = Settings(cache_dir=tmp_path / "cache")
    cached = onnx_file(settings.embedder, Path(embedder_path(settings.embedder)), settings.cache_dir)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"\x08\x07 not a model")
    texts = ["Who founded Zhipu AI?", "Zhipu AI was founded by Tang Jie."]
    np.testing.assert_allclose(Embedder(settings).encode(texts), embedder.encode(texts), atol=1e-6)
    assert cached.stat().st_size > 1_000_000


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
