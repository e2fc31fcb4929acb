"""Retrieval: the sentence that answers a question is among the passages put in front of the model.

Chinese questions are translated inside `Pipeline.ask` before the search, so their passages are checked
in test_answer.py, on what `ask` shows.
"""

from __future__ import annotations

import pytest
import questionsets

from labchat.evaluate import _norm
from labchat.evidence import Passage
from labchat.pipeline import Pipeline

CONTEXT_BUDGET = 2400

def _answerable(name: str) -> list[tuple[str, str, str]]:
    return [(q["id"], q["question"], q["evidence"]) for q in questionsets.answerable(name)]


def _holds(evidence: str, passages: list[Passage]) -> bool:
    """The official scorer's test: evidence inside a passage, ignoring case, markup and spacing."""
    return any(_norm(evidence) in _norm(p.text) for p in passages)


def _check_passages(pipeline: Pipeline, question: str, evidence: str) -> None:
    passages = pipeline.finder.find(question).passages
    shown = "\n".join(f"[{p.n}] {p.section}: {p.text}" for p in passages)
    assert _holds(evidence, passages), f"evidence {evidence!r} not in:\n{shown}"
    assert [p.n for p in passages] == list(range(1, len(passages) + 1))
    assert len(passages) <= pipeline.settings.max_passages
    assert sum(len(p.text) for p in passages) <= min(pipeline.settings.context_chars, CONTEXT_BUDGET)


OWN = _answerable("questions.jsonl")


@pytest.mark.parametrize(("qid", "question", "evidence"), OWN, ids=[q[0] for q in OWN])
def test_own_question_evidence_is_in_the_passages(
        qid: str, question: str, evidence: str, pipeline: Pipeline) -> None:
    _check_passages(pipeline, question, evidence)


@pytest.mark.parametrize("budget", [250, 400])
def test_the_sentence_beside_the_best_stays_within_the_context_budget(budget: int,
                                                                     pipeline: Pipeline) -> None:
    """The neighbour quoted beside the best passage takes the place of later ones that no longer fit: the
    passages never exceed `context_chars`, whatever the budget."""
    over = []
    for _, question, _ in OWN[:20]:
        analysed, hits = pipeline.finder.search(question)
        picked = pipeline.finder.picker.pick(analysed, hits, pipeline.settings.max_passages, budget)
        passages = picked.passages
        if sum(len(p.text) for p in passages) > budget:
            over.append((question, [len(p.text) for p in passages]))
    assert not over, over


def test_passages_come_from_the_retrieved_chunks(pipeline: Pipeline) -> None:
    question = OWN[0][1]
    analysed, hits = pipeline.finder.search(question)
    assert 0 < len(hits) <= pipeline.settings.top_chunks
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    evidence = pipeline.finder.picker.pick(analysed, hits, pipeline.settings.max_passages,
                                           pipeline.settings.context_chars)
    passages = evidence.passages
    assert passages == pipeline.finder.find(question).passages
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    for p in passages:
        assert any(p.path == h.chunk.path and p.section == h.chunk.section for h in hits)
