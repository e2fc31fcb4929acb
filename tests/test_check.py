"""The checker's rules on the small model's typical failures, each seen on real answers."""

from __future__ import annotations

import pytest

from labchat import check
from labchat.evidence import Passage

YI = Passage(1, "labs.md", "01.AI (Yi) > Founding Story and History",
             "- Nov 2023: Released Yi-34B open-source model", 1.7)
DOTS = Passage(1, "labs.md", "Rednote/Xiaohongshu (dots.llm1) > Technical Innovations and Architecture",
               "- 1.46M GPU hours pre-training (vs 6.12M for Qwen2.5-72B)", 1.4)


@pytest.mark.parametrize(("answer", "question"), [
    ("6.12M.", "How many GPU hours did dots.llm1 pre-training take?"),  # bare fact: maybe the wrong one
    ("What is the valuation of Baichuan AI? [1]", "What valuation did Baichuan reach by 2024?"),  # echo
    ("[1] How many parameters does Kimi K2 have in total?", "How many parameters does Kimi K2 have?"),
    ("SenseTime has a large infrastructure for its models [1].",
     "How many GPUs does SenseTime's SenseCore infrastructure have?"),  # fluent, but no number
    ("01.AI (Yi) > Founding Story and History: Founded by Kai-Fu Lee", "Who founded 01.AI?"),  # headings
])
def test_non_answers_are_rejected(answer: str, question: str) -> None:
    assert not check.answers_question(check.tidy(answer), question)


@pytest.mark.parametrize(("answer", "question"), [
    ("Dots.llm1 pre-training took 1.46M GPU hours [1].",
     "How many GPU hours did dots.llm1 pre-training take?"),
    ("StepFun was founded by Jiang Daxin. [1]", "Who founded StepFun?"),
])
def test_real_answers_pass(answer: str, question: str) -> None:
    assert check.answers_question(check.tidy(answer), question)


def test_filler_and_repeats_are_tidied() -> None:
    assert check.tidy("691M. The answer is 691M.") == "691M."
    assert check.tidy("The answer is: 142B (14B active) [1]") == "142B (14B active) [1]"


def test_a_vaguer_date_than_the_passage_is_caught() -> None:
    assert check.vaguer_date("Yi-34B was released in 2023. [1]", YI)
    assert not check.vaguer_date("Yi-34B was released in Nov 2023. [1]", YI)
    assert not check.vaguer_date("Yi-34B was released in November 2023 [1].", YI)


def test_a_number_from_another_passage_is_unsupported_by_the_best_one() -> None:
    assert check.unsupported("Pre-training took 6.12M GPU hours.", [DOTS]) == set()
    assert check.unsupported("Pre-training took 2.5M GPU hours.", [DOTS]) == {"2.5"}


def test_a_citation_must_hold_the_number_itself_not_a_longer_token_containing_it() -> None:
    seed = Passage(2, "labs.md", "Lab > Funding", "Raised 2.5M in its seed round", 0.9)
    assert check.cite("They raised 2.5M. [1]", [DOTS, seed]) == "They raised 2.5M. [2]"
