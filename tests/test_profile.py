"""What a corpus is about comes from its labchat.yaml, or from nothing: no model is loaded here."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from labchat.profile import CorpusProfile, derive_examples, load_profile
from labchat.prompt import SYSTEM, build_messages
from labchat.settings import PROJECT_DIR
from labchat.translate import to_english

HEADINGS = ["Handbook", "Handbook > Leave", "Handbook > Leave > Parental leave", "Handbook > Expenses",
            "Handbook > Travel", "Security > Passwords"]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "team-docs"
    folder.mkdir()
    (folder / "handbook.md").write_text("# Handbook\n\n## Leave\n\nTwenty days a year.\n", encoding="utf-8")
    return folder


def _neutral() -> CorpusProfile:
    return CorpusProfile(
        title="labchat \u2014 team-docs",
        description="Answers from the documents in team-docs/, with the passages they rest on.",
        examples=derive_examples(HEADINGS))


def test_without_a_settings_file_the_profile_is_neutral(corpus: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    profile = load_profile(corpus, HEADINGS)
    assert profile == _neutral()
    assert profile.examples == ("What do the documents say about Handbook: Leave?",
                                "What do the documents say about Handbook: Expenses?",
                                "What do the documents say about Security: Passwords?")
    assert not caplog.records


def test_examples_come_from_headings_or_are_none() -> None:
    assert derive_examples(["Intro", "Intro", "1234", "Setup"]) == (
        "What do the documents say about Intro?", "What do the documents say about Setup?")
    assert derive_examples([]) == ()


def test_the_settings_file_sets_title_examples_and_glossary(corpus: Path) -> None:
    (corpus / "labchat.yaml").write_text(
        "topic: the team handbook\nexamples:\n  - How many days of leave?\n  - 年假有多少天\uff1f\n"
        "glossary:\n  年假: annual leave\n", encoding="utf-8")
    profile = load_profile(corpus, HEADINGS)
    assert profile.title == "labchat \u2014 the team handbook"
    assert profile.description == _neutral().description
    assert profile.examples == ("How many days of leave?", "年假有多少天\uff1f")
    assert profile.glossary == {"年假": "annual leave"}
    assert to_english(profile.examples[1], {}, profile.glossary) == "annual leave how many ?"


@pytest.mark.parametrize("text", [
    "title: [unclosed\n",                   # not YAML
    "- a list\n- not settings\n",           # not a mapping
    "examples: Who founded it?\n",          # a string where a list belongs
    "glossary:\n  年假: 20\n",              # a number where a name belongs
    "exmaples:\n  - A typo?\n",             # an unknown key
])
def test_a_broken_settings_file_is_ignored_with_one_warning(corpus: Path, text: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    (corpus / "labchat.yaml").write_text(text, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="labchat.profile"):
        profile = load_profile(corpus, HEADINGS)
    assert profile == _neutral()
    assert len(caplog.records) == 1
    assert "labchat.yaml" in caplog.records[0].getMessage()


def test_the_shipped_corpus_says_what_it_is_about_in_its_settings_file(
        caplog: pytest.LogCaptureFixture) -> None:
    profile = load_profile(PROJECT_DIR / "corpus", [])
    assert not caplog.records
    assert profile.topic and len(profile.examples) >= 3
    assert profile.glossary["腾讯"] == "Tencent"


def test_a_passed_glossary_translates_names_the_corpus_never_pairs() -> None:
    question, glossary = "艾克米是谁创立的\uff1f", {"艾克米": "Acme"}
    assert to_english(question, {}) == "who founded ?"  # question words only: the name is dropped
    assert to_english(question, {}, glossary) == "Acme who founded ?"
    assert to_english(question, {"艾克米": "Acme Holdings"}, glossary) == "Acme who founded ?"
    assert to_english("Who founded it?", {}, glossary) == "Who founded it?"


def test_everyday_chinese_question_words_and_funding_rounds_are_carried_into_english() -> None:
    backer = "艾克米背后是哪家对冲基金\uff1f"
    assert to_english(backer, {"艾克米": "Acme"}) == "Acme behind which company hedge fund ?"
    assert to_english("那A轮呢\uff1f", {}) == "Series A ?"  # a lettered round


def test_the_system_prompt_names_a_topic_only_when_given_one() -> None:
    assert build_messages("q", [])[0]["content"] == SYSTEM
    assert SYSTEM.startswith("You answer questions using only the numbered passages from the documents.")
    named = build_messages("q", [], topic="the team handbook")[0]["content"]
    assert named.startswith("You answer questions about the team handbook using only the numbered passages")
