"""Answers from the real model: grounded and cited, abstaining when the documents do not cover a question."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import questionsets

from labchat import check
from labchat.evaluate import _norm
from labchat.evidence import Passage
from labchat.pipeline import Answer, Pipeline
from labchat.prompt import build_messages

BAICHUAN = "How much did Baichuan raise in its Series B round?"


def _shown(answer: Answer) -> str:
    return answer.text + "\n" + "\n".join(f"[{p.n}] {p.section}: {p.text}" for p in answer.passages)


@dataclass
class Run:
    """One question streamed through `Pipeline.ask`: what each update showed, and the final answer."""

    updates: list[tuple[str, bool]]
    answer: Answer


def _run(pipeline: Pipeline, question: str, history: list[tuple[str, str]] | None = None) -> Run:
    updates: list[tuple[str, bool]] = []
    answer = None
    for answer in pipeline.ask(question, history or []):
        updates.append((answer.text, answer.done))
    assert answer is not None
    return Run(updates, answer)


@pytest.fixture(scope="module")
def baichuan(pipeline: Pipeline) -> Run:
    return _run(pipeline, BAICHUAN)


def test_answer_holds_the_fact_and_cites_the_passage_holding_it(baichuan: Run) -> None:
    answer = baichuan.answer
    assert not answer.abstained
    assert "691" in answer.text, _shown(answer)
    cited = check.citations(answer.text)
    assert cited, f"no [n] citation in {answer.text!r}"
    for n in cited:
        assert 1 <= n <= len(answer.passages), f"[{n}] points at no passage: {_shown(answer)}"
        assert "691" in answer.passages[n - 1].text, f"[{n}] does not hold 691: {_shown(answer)}"


def test_answer_streams_and_reports_timings(baichuan: Run) -> None:
    updates = baichuan.updates
    assert len(updates) > 1
    assert [done for _, done in updates] == [False] * (len(updates) - 1) + [True]
    streamed = [text for text, _ in updates[:-1]]
    assert streamed[0] and all(b.startswith(a) for a, b in itertools.pairwise(streamed))
    timings = baichuan.answer.timings
    assert set(timings) >= {"retrieve_s", "first_token_s", "total_s"}
    assert 0 < timings["retrieve_s"] <= timings["first_token_s"] <= timings["total_s"]


OWN = questionsets.read("questions.jsonl") + questionsets.read("chinese.jsonl")
UNANSWERABLE = [q for q in OWN if not q.get("answerable", True)]


@pytest.mark.parametrize("question", [q["question"] for q in UNANSWERABLE],
                         ids=[q["id"] for q in UNANSWERABLE])
def test_unanswerable_question_abstains_and_still_shows_passages(question: str, pipeline: Pipeline) -> None:
    run = _run(pipeline, question)
    answer = run.answer
    assert answer.abstained, f"answered instead of abstaining: {_shown(answer)}"
    assert answer.text and not check.citations(answer.text)
    assert answer.passages, "the closest passages should still be shown"
    assert answer.done and {"retrieve_s", "first_token_s", "total_s"} <= set(answer.timings)


ANSWERABLE = [
    {"id": "d03", "question": "What context length does Hunyuan-Large support?", "answers": [["256K"]]},
    {"id": "d07", "question": "Who founded 01.AI?", "answers": [["Kai-Fu Lee"]]},
    {"id": "d10", "question": "In which city is StepFun headquartered?", "answers": [["Shanghai"]]},
    {"id": "d11", "question": "How many GPUs does SenseTime's SenseCore infrastructure have?",
     "answers": [["27,000", "27000"]]},
    *questionsets.answerable("chinese.jsonl"),
]


@pytest.mark.parametrize("item", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_answerable_question_is_answered(item: dict, pipeline: Pipeline) -> None:
    answer = _run(pipeline, item["question"]).answer
    assert not answer.abstained, f"abstained on an answerable question: {_shown(answer)}"
    if "evidence" in item:
        evidence = _norm(item["evidence"])
        assert any(evidence in _norm(p.text) for p in answer.passages), f"no {evidence!r}: {_shown(answer)}"
    text = _norm(answer.text)
    for group in item["answers"]:
        assert any(_norm(a) in text for a in group), f"none of {group} in: {_shown(answer)}"


def test_follow_up_question_searches_with_the_conversation(pipeline: Pipeline) -> None:
    history = [(BAICHUAN, "Baichuan raised $691M in its Series B round [1].")]
    answer = _run(pipeline, "And who founded it?", history).answer
    sections = [p.section for p in answer.passages]
    assert sections and "Baichuan" in sections[0], sections
    assert sum("Baichuan" in s for s in sections) > len(sections) / 2, sections


# --- the checker, on the real passages -----------------------------------------------------------------


@pytest.fixture(scope="module")
def baichuan_passages(pipeline: Pipeline) -> list[Passage]:
    passages = pipeline.passages(BAICHUAN)
    assert any("691" in p.text for p in passages)
    return passages


def test_checker_reports_an_invented_number(baichuan_passages: list[Passage]) -> None:
    assert check.unsupported("Baichuan raised $900M [1]", baichuan_passages, BAICHUAN) == {"900"}
    assert check.unsupported("Baichuan raised $691M [1]", baichuan_passages, BAICHUAN) == set()


def test_checker_reports_an_invented_name(baichuan_passages: list[Passage]) -> None:
    answer = "Baichuan raised $691M from Zorblax Capital [1]"
    invented = check.unsupported(answer, baichuan_passages, BAICHUAN)
    assert invented == {"Zorblax", "Capital"}


def test_cite_fixes_a_citation_that_points_at_the_wrong_passage(baichuan_passages: list[Passage]) -> None:
    wrong = next(p for p in baichuan_passages if "691" not in p.text)
    right = next(p for p in baichuan_passages if "691" in p.text)
    fixed = check.cite(f"Baichuan raised $691M [{wrong.n}].", baichuan_passages)
    cited = check.citations(fixed)
    assert "691" in fixed and cited and wrong.n not in cited, fixed
    assert all("691" in baichuan_passages[n - 1].text for n in cited), fixed
    # A right citation is kept.
    assert check.citations(check.cite(f"Baichuan raised $691M [{right.n}].", baichuan_passages)) == [right.n]


# --- prompt assembly (no model) ------------------------------------------------------------------------


def _passage(n: int, text: str) -> Passage:
    return Passage(n=n, path="labs.md", section=f"Lab {n} > Funding", text=text, score=1.0)


def test_prompt_numbers_every_passage_in_order() -> None:
    passages = [_passage(n, f"Lab {n} raised ${n * 100}M in {2020 + n}.") for n in range(1, 5)]
    messages = build_messages("How much did Lab 3 raise?", passages)
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert "How much did Lab 3 raise?" in user
    positions = [user.index(f"[{p.n}] {p.section}: {p.text}") for p in passages]
    assert positions == sorted(positions)
    assert "[5]" not in user and "[0]" not in user
    assert "[1]" in messages[0]["content"], "the system prompt should show how to cite"


class RecordingGenerator:
    """Stands in for the model in the prompt test only: records what it is sent, answers from passage 1."""

    def __init__(self) -> None:
        self.sent: list[list[dict[str, str]]] = []

    def stream(self, messages: list[dict[str, str]], one_line: bool = True) -> Iterator[str]:
        self.sent.append(messages)
        yield "Baichuan raised $691M "
        yield "in its Series B round [1]."


def test_pipeline_sends_the_model_the_passages_it_shows(
        pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = RecordingGenerator()
    monkeypatch.setattr(pipeline, "generator", fake)
    answer = _run(pipeline, BAICHUAN).answer
    assert len(fake.sent) == 1
    assert fake.sent[0] == build_messages(BAICHUAN, answer.passages)
    user = fake.sent[0][-1]["content"]
    assert all(f"[{p.n}] {p.section}: {p.text}" in user for p in answer.passages)
    assert [p.n for p in answer.passages] == list(range(1, len(answer.passages) + 1))


class LineBreakGenerator:
    """Stands in for the model's habit of answering some prompts with a bare line break."""

    def stream(self, messages: list[dict[str, str]], one_line: bool = True) -> Iterator[str]:
        yield "\n"


def test_a_bare_line_break_from_the_model_is_never_shown(
        pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing blank streams to the user; the checked answer (the quoted best passage) comes instead."""
    monkeypatch.setattr(pipeline, "generator", LineBreakGenerator())
    updates = [(a.text, a.done) for a in pipeline.ask(BAICHUAN)]
    assert all(text.strip() for text, _ in updates), updates
    assert len(updates) == 1 and updates[0][1]
    assert "691" in updates[0][0]


def test_a_quoted_list_item_is_quoted_without_its_bullet(
        pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """The best passage for Baichuan's Series B is a list item ("- July 2024: Raised $691M ...")."""
    monkeypatch.setattr(pipeline, "generator", LineBreakGenerator())
    answer = _run(pipeline, BAICHUAN).answer
    assert answer.repaired and answer.passages[0].text.startswith("- ")
    assert answer.text.startswith("\u201cJuly 2024: Raised $691M"), answer.text
