"""Hybrid retrieval: the fused ranking keeps what either retriever alone gets right."""

from __future__ import annotations

import numpy as np
import pytest

from labchat.evaluate import _norm
from labchat.pipeline import Pipeline
from labchat.retrieve import DENSE_WEIGHT, tokenize
from labchat.store import Scores

# Dense retrieval misses the evidence chunk at rank 1 for these; BM25 gets it (names, model ids, numbers).
LEXICAL_ONLY = {
    "Which hybrid architecture does Hunyuan T1 use?": "Hunyuan T1 uses hybrid Transformer-Mamba MoE",
    "Which of Baidu's data assets can ERNIE draw on?": "knowledge graphs, search logs, and content corpus",
    "How many total and active parameters does dots.llm1 have?": "142B total parameters with 14B actively",
    "Which cloud services did Jiang Daxin oversee?": "Oversaw Azure cognitive services",
}
# BM25 misses these at rank 1 (the question's words are not the passage's); the embedder gets them.
DENSE_ONLY = {
    "When was Yi-34B released?": "Released Yi-34B open-source model",
    "Who started SenseTime?": "Xu Li",
}


def _rank(pipeline: Pipeline, scores: Scores, evidence: str) -> int:
    """The evidence chunk's place among all chunks by these scores (chunks without one score 0, last)."""
    store = pipeline.finder.retriever.store
    every = np.zeros(len(store), dtype=np.float32)
    every[scores.ids] = scores.values
    order = np.argsort(-every, kind="stable")
    return next(i for i, c in enumerate(store.chunks(order)) if _norm(evidence) in _norm(c.text))


def _dense(pipeline: Pipeline, question: str) -> Scores:
    store = pipeline.finder.retriever.store
    return store.search_dense(pipeline.embedder.encode([question])[0], len(store), np.zeros(0, dtype=int))


def _lexical(pipeline: Pipeline, question: str) -> Scores:
    return pipeline.finder.retriever.store.search_lexical(tokenize(question))


def _fused_rank(pipeline: Pipeline, question: str, evidence: str) -> int:
    hits = pipeline.finder.retriever.search(question, k=len(pipeline.finder.retriever.store))
    return next(i for i, h in enumerate(hits) if _norm(evidence) in _norm(h.chunk.text))


@pytest.mark.parametrize("question", LEXICAL_ONLY)
def test_fusion_ranks_first_what_only_bm25_ranks_first(pipeline: Pipeline, question: str) -> None:
    evidence = LEXICAL_ONLY[question]
    assert _rank(pipeline, _dense(pipeline, question), evidence) > 0
    assert _rank(pipeline, _lexical(pipeline, question), evidence) == 0
    assert _fused_rank(pipeline, question, evidence) == 0


@pytest.mark.parametrize("question", DENSE_ONLY)
def test_fusion_keeps_what_only_the_embedder_finds_in_context(pipeline: Pipeline, question: str) -> None:
    """Lexical weight dominates (names matter most), so these rank 2nd-3rd: still among the chunks read."""
    evidence = DENSE_ONLY[question]
    assert _rank(pipeline, _dense(pipeline, question), evidence) == 0
    assert _rank(pipeline, _lexical(pipeline, question), evidence) > 0
    assert _fused_rank(pipeline, question, evidence) < pipeline.settings.top_chunks
    assert any(_norm(evidence) in _norm(p.text) for p in pipeline.finder.find(question).passages)


QUESTIONS = [*LEXICAL_ONLY, *DENSE_ONLY, "Who founded 01.AI, and how much did it raise?", "tencnet hq",
             "Which models have open weights?", "the the the", "百川智能是谁创立的"]


def test_bm25_scores_are_bm25s_scores(pipeline: Pipeline) -> None:
    """BM25 is computed from per-file postings (an edit changes one file's); every chunk's score is the
    one bm25s, which labchat used to call, gives over the same tokens."""
    import bm25s

    store = pipeline.finder.retriever.store
    chunks = store.chunks(range(len(store)))
    reference = bm25s.BM25()
    reference.index([tokenize(c.search_text) or ["\x00"] for c in chunks], show_progress=False)
    for question in QUESTIONS:
        tokens = [t for t in tokenize(question) if t in reference.vocab_dict]
        expected = reference.get_scores(tokens) if tokens else np.zeros(len(chunks), dtype=np.float32)
        found = _lexical(pipeline, question)
        scores = np.zeros(len(chunks), dtype=np.float32)
        scores[found.ids] = found.values
        np.testing.assert_array_equal(scores, expected)


def test_fusing_the_candidates_ranks_as_fusing_every_chunk(pipeline: Pipeline) -> None:
    """Only chunks holding a word of the question and the k best by meaning are fused; the ranking is the
    one every chunk's fused score gives."""
    retriever = pipeline.finder.retriever
    k = pipeline.settings.top_chunks
    for question in QUESTIONS:
        dense, lexical = _dense(pipeline, question), _lexical(pipeline, question)
        scores = {}
        for name, found in (("dense", dense), ("lexical", lexical)):
            every = np.zeros(len(retriever.store), dtype=np.float32)
            every[found.ids] = found.values
            low, high = float(every.min()), float(every.max())
            scores[name] = (every - low) / (high - low) if high > low else (every > 0).astype(np.float32)
        fused = DENSE_WEIGHT * scores["dense"] + (1 - DENSE_WEIGHT) * scores["lexical"]
        expected = [int(i) for i in np.argsort(-fused, kind="stable")[:k] if fused[i] > 0]
        hits = retriever.search(question, k)
        assert [h.chunk for h in hits] == retriever.store.chunks(expected)
        np.testing.assert_allclose([h.score for h in hits], fused[expected], rtol=1e-6)


def test_an_irregular_verb_form_meets_its_base_and_an_ambiguous_one_stays() -> None:
    """"Who leads it?" finds "Led by ..." by its words too; "found" stays the stem of "founded", not of
    "find"."""
    assert tokenize("Who leads it?") == tokenize("Led by") == ["lead"]
    assert tokenize("They built it") == tokenize("builds")
    assert tokenize("found") == tokenize("founded") != tokenize("find")


def test_a_name_with_its_number_run_on_meets_the_name_alone() -> None:
    """"Which Qwen model ...?" meets "Qwen3" and "Qwen2.5-Max" as "Step" meets "Step-2"; two letters ("v2",
    "K2") name nothing alone, nor does what follows a dot ("llm1" of "dots.llm1" is no "LLM"); a plain word
    stays one token."""
    assert set(tokenize("Qwen")) <= set(tokenize("Qwen3")) & set(tokenize("Qwen2.5-Max"))
    assert set(tokenize("HTTP")) <= set(tokenize("HTTP2"))
    assert tokenize("v2 K2") == ["v2", "k2"]
    assert "llm" not in tokenize("dots.llm1")
    assert tokenize("Qwen") == ["qwen"]
