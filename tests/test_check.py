"""The checker's rules: what a generated sentence must satisfy before anyone sees it."""

from __future__ import annotations

import pytest

from labchat import check
from labchat.evidence import Passage

YI = Passage(1, "labs.md", "01.AI (Yi) > Founding Story and History",
             "- Nov 2023: Released Yi-34B open-source model", 1.7)
DOTS = Passage(1, "labs.md", "Rednote/Xiaohongshu (dots.llm1) > Technical Innovations and Architecture",
               "- 1.46M GPU hours pre-training (vs 6.12M for Qwen2.5-72B)", 1.4)
FUNDING = Passage(1, "labs.md", "Baichuan AI > Funding", "July 2024: Raised $691M Series B funding", 0.9)
FOUNDER = Passage(2, "labs.md", "Baichuan AI > Founding",
                  "Founded on April 10, 2023 by Wang Xiaochuan, former CEO of Sogou", 0.8)
BOTH = [FUNDING, FOUNDER]


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


def test_a_sentence_citing_the_passages_that_hold_its_facts_is_kept_as_written() -> None:
    assert check.verified("Baichuan raised $691M [1].", BOTH, "How much did Baichuan raise?") == \
        "Baichuan raised $691M [1]."
    # Two passages, each cited for its own fact: a capable model's combined answer survives.
    two = "Wang Xiaochuan founded Baichuan, which raised $691M [1][2]."
    assert check.verified(two, BOTH, "Who founded Baichuan and what did it raise?") == two


def test_an_invented_number_or_name_rejects_the_sentence() -> None:
    question = "How much did Baichuan raise?"
    assert check.verified("Baichuan raised $900M [1].", BOTH, question) is None
    assert check.verified("Baichuan raised $691M from Zorblax Capital [1].", BOTH, question) is None
    assert check.verified("The Zeta lab was founded by a Chinese AI research team in 2017.", BOTH,
                          "Who founded the Zeta lab?") is None


def test_a_citation_pointing_at_a_passage_without_the_fact_is_replaced() -> None:
    fixed = check.verified("Baichuan raised $691M [2].", BOTH, "How much did Baichuan raise?")
    assert fixed == "Baichuan raised $691M [1]."
    uncited = check.verified("It was founded by Wang Xiaochuan.", BOTH, "Who founded Baichuan?")
    assert uncited == "It was founded by Wang Xiaochuan [2]."


def test_a_number_must_stand_alone_in_its_passage() -> None:
    """The 2.5 of "Qwen2.5" does not support "2.5M"."""
    seed = Passage(2, "labs.md", "Lab > Funding", "Raised 2.5M in its seed round", 0.9)
    assert check.verified("They raised 2.5M [1].", [DOTS, seed], "How much?") == "They raised 2.5M [2]."
    assert check.verified("Pre-training took 2.5M GPU hours.", [DOTS], "How long?") is None


def test_sentences_without_facts_questions_and_headings_are_not_shown() -> None:
    assert check.verified("It is a strong company.", BOTH, "Tell me about Baichuan") is None
    assert check.verified("How much did Baichuan raise in 2024?", BOTH, "Baichuan?") is None


def test_streamed_text_splits_into_complete_sentences_and_the_rest() -> None:
    done, rest = check.split_sentences("Baichuan raised $691M [1]. It was founded by Wang")
    assert done == ["Baichuan raised $691M [1]."] and rest == "It was founded by Wang"
    assert check.split_sentences("No end yet") == ([], "No end yet")
