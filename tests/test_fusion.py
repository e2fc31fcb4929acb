"""Hybrid retrieval: the fused ranking keeps what either retriever alone gets right."""

from __future__ import annotations

import numpy as np
import pytest

from labchat.evaluate import _norm
from labchat.pipeline import Pipeline

# Dense retrieval misses the evidence chunk at rank 1 for these; BM25 gets it (names, model ids, numbers).
LEXICAL_ONLY = {
    "Which hybrid architecture does Hunyuan T1 use?": "Hunyuan T1 uses hybrid Transformer-Mamba MoE",
    "Which of Baidu's data assets can ERNIE draw on?": "knowledge graphs, search logs, and content corpus",
    "How many total and active parameters does dots.llm1 have?": "142B total parameters with 14B actively",
    "Which company builds the Pangu models?": "Huawei (Shenzhen): Pangu",
}
# BM25 misses these at rank 1 (the question's words are not the passage's); the embedder gets them.
DENSE_ONLY = {
    "When was Yi-34B released?": "Released Yi-34B open-source model",
    "Who started SenseTime?": "Xu Li",
}


def _rank(pipeline: Pipeline, scores: np.ndarray, evidence: str) -> int:
    order = np.argsort(-scores, kind="stable")
    chunks = pipeline.finder.retriever.chunks
    return next(i for i, c in enumerate(order) if _norm(evidence) in _norm(chunks[c].text))


def _fused_rank(pipeline: Pipeline, question: str, evidence: str) -> int:
    hits = pipeline.finder.retriever.search(question, k=len(pipeline.finder.retriever.chunks))
    return next(i for i, h in enumerate(hits) if _norm(evidence) in _norm(h.chunk.text))


@pytest.mark.parametrize("question", LEXICAL_ONLY)
def test_fusion_ranks_first_what_only_bm25_ranks_first(pipeline: Pipeline, question: str) -> None:
    evidence = LEXICAL_ONLY[question]
    assert _rank(pipeline, pipeline.finder.retriever.dense(question), evidence) > 0
    assert _rank(pipeline, pipeline.finder.retriever.lexical(question), evidence) == 0
    assert _fused_rank(pipeline, question, evidence) == 0


@pytest.mark.parametrize("question", DENSE_ONLY)
def test_fusion_keeps_what_only_the_embedder_finds_in_context(pipeline: Pipeline, question: str) -> None:
    """Lexical weight dominates (names matter most), so these rank 2nd-3rd: still among the chunks read."""
    evidence = DENSE_ONLY[question]
    assert _rank(pipeline, pipeline.finder.retriever.dense(question), evidence) == 0
    assert _rank(pipeline, pipeline.finder.retriever.lexical(question), evidence) > 0
    assert _fused_rank(pipeline, question, evidence) < pipeline.settings.top_chunks
    assert any(_norm(evidence) in _norm(p.text) for p in pipeline.finder.find(question).passages)
