"""Reading a question (no model): its answer type, subject and attribute, its parts, casual typing mended
against the corpus's own words; and the fitted models as the code expects them."""

from __future__ import annotations

import numpy as np
import pytest

from labchat.chunking import Chunk
from labchat.compare import value
from labchat.embed import Embedder
from labchat.evidence import QUESTION_FEATURES, SENTENCE_FEATURES, sentences, unknown_names, unwritten_code
from labchat.fitted import FittedModels
from labchat.lexicon import Lexicon
from labchat.pipeline import Pipeline
from labchat.question import Vocabulary, analyse, asks_for_many, asks_now, options, parts, unpaid, volatile
from labchat.retrieve import tokenize
from labchat.spans import (
    counts_asked,
    done_by,
    enumerates,
    has_span,
    maker,
    named_by_heading,
    other_version,
    short_answer,
    variants,
    versions,
    written_as_code,
)

CHUNKS = [
    Chunk("notes.md", "Hexapod AI > Funding", "Hexapod AI raised $40M in its Series A round in March 2031."),
    Chunk("notes.md", "Hexapod AI > People", "Hexapod AI: the lab Hexapod was founded by Ada Quill (CEO)."),
    Chunk("notes.md", "Hexapod AI > Models", "Its Beetle-2 handles a context length of 128K tokens."),
    Chunk("notes.md", "Hexapod AI > History", "It began as an academic spinoff."),
    Chunk("notes.md", "Hexapod AI > Models", "- Released: the open-source deep-dive notes\n- Holdings: none"),
    Chunk("notes.md", "Hexapod AI > Models", "Beetle-2 pays attention to documents, without verification."),
]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.of(CHUNKS)


@pytest.mark.parametrize(("question", "answer_type"), [
    ("When did Hexapod AI raise its Series A?", "date"),
    ("In which year did Hexapod AI raise its Series A?", "date"),
    ("Which errors make Beetle-2 retry when retries is set?", "other"),
    ("Hexapod AI raised money, but when did it raise its Series A?", "date"),
    ("How much did Hexapod AI raise?", "number"),
    ("What does Hexapod AI's Beetle-2 cost to run?", "number"),  # a price
    ("What does Hexapod AI rely on for cost-effective robots?", "other"),
    ("What context length does Beetle-2 handle?", "number"),
    ("What was Hexapod AI's revenue in 2031?", "number"),  # a quantity named, not asked "how much"
    ("What is the market cap of Hexapod AI?", "number"),
    ("whats the valuation of hexapod ai", "number"),  # "what's", typed casually
    ("Who's behind Hexapod AI?", "person"),
    ("What is the revenue model of Hexapod AI?", "other"),
    ("What does the sales team of Hexapod AI do?", "other"),
    ("Who founded Hexapod AI?", "person"),
    ("Where is Hexapod AI based?", "place"),
    ("Where is Hexapod AI's head office?", "place"),
    ("In which city does Hexapod AI build robots?", "place"),
    ("Where was Beetle-2 announced?", "place"),  # where an event took place
    ("Where was that?", "place"),
    ("Where do the certificates Beetle-2 trusts come from?", "other"),  # a source, not a place
    ("Why did Hexapod AI raise money?", "reason"),
    ("Why does Beetle-2 cap the number of files it reads?", "reason"),  # a cause, though "number of"
    ("Beetle-2's parameter count?", "number"),  # a bare phrase naming an amount asks it
    ("hexapod headcount", "number"),
    ("Which was released first, Beetle-2 or Zeta-7?", "compare"),
    ("What does Beetle-2 do?", "other"),
    ("Which option sets the output file?", "code"),  # a name in code: an option, a parameter, a class
    ("whats the param to hide the input", "code"),
    ("When generating docs, which option sets the output file?", "code"),  # the clause sets the scene
    ("When a model has extra='allow', in which attribute are the extra fields stored?", "code"),
    ("Which environment variable sets the number of workers?", "code"),  # a variable, though "number of"
    ("env var to bypass the proxy for some hosts", "code"),  # a bare phrase naming code asks it
    ("cmd to delete all venvs of my proj", "code"),
    ("The function of the router?", "other"),  # what it is for, not a function's name
    ("Which news site published the Hexapod AI profile?", "site"),
    ("Where can I read its technical report?", "site"),  # a link is where one reads it
    ("What is that lab's name? Who founded Hexapod AI?", "other"),  # a follow-up's query: the first asks
])
def test_the_answer_type_comes_from_how_the_question_asks(question: str, answer_type: str,
                                                          vocabulary: Vocabulary) -> None:
    assert analyse(question, vocabulary).answer_type == answer_type


def test_a_polite_opening_is_not_what_is_asked(vocabulary: Vocabulary) -> None:
    question = analyse("Do you know who founded Hexapod AI?", vocabulary)
    assert question.answer_type == "person" and question.attribute == {"found"}
    assert analyse("Could you tell me how much Hexapod AI raised?", vocabulary).attribute == {"rais"}


def test_a_title_in_capitals_is_what_is_asked_not_whom_it_is_about(vocabulary: Vocabulary) -> None:
    question = analyse("Who is the CEO of Hexapod AI?", vocabulary)
    assert "ceo" in question.attribute and "ceo" not in question.subject
    assert "hexapod" in question.subject


def test_names_are_what_the_corpus_capitalises_in_running_text(vocabulary: Vocabulary) -> None:
    question = analyse("Who holds the licence of Beetle-2 at Hexapod?", vocabulary)
    assert {"beetle-2", "hexapod"} <= question.subject
    # a letter is no name a passage must repeat, though the corpus capitalises it ("a C extension")
    built = Chunk("notes.md", "Build", "Beetle-2 builds a C extension when C compilers are there.")
    subject = analyse("Does Beetle-2 ship a C extension?", Vocabulary.of([*CHUNKS, built])).subject
    assert "beetle-2" in subject and "c" not in subject
    # "Holdings" opens a list item, "holds" is never written capitalised mid-sentence: not a name
    assert "hold" in question.attribute and "licenc" in question.attribute


@pytest.mark.parametrize(("question", "code"), [
    ("what replaced @validator in v2", {"valid"}),
    ("Which value does `retry_budget` take by default?", {"retry_budget"}),
    ("What does --dry-run skip when Beetle-2 builds?", {"--dry-run"}),
    ("Which file does beetle.conf hold?", {"beetle.conf"}),
    ("How many retries does spawn() make?", {"spawn"}),
])
def test_code_written_in_a_question_is_its_subject_though_the_corpus_writes_it_in_lower_case(
        vocabulary: Vocabulary, question: str, code: set[str]) -> None:
    """A passage that answers "what replaced @validator" must name the decorator: it is what is asked of."""
    asked = analyse(question, vocabulary)
    assert set(tokenize(" ".join(code))) <= asked.subject
    assert not asked.subject & asked.attribute


def test_what_a_question_sets_aside_is_no_attribute_but_names_set_aside_stay_its_subject(
        vocabulary: Vocabulary) -> None:
    """"Besides academic spinoffs, ..." already knows the spinoff: it is marked, not looked for."""
    question = analyse("Besides academic spinoffs, what did Hexapod AI begin as?", vocabulary)
    assert question.aside == {"academ", "spinoff"} and not question.aside & question.attribute
    question = analyse("Apart from Hexapod, which labs raised money?", vocabulary)
    assert not question.aside and "hexapod" in question.subject


def test_a_two_part_question_is_split_and_a_comparison_has_two_sides() -> None:
    assert parts("Who founded Hexapod AI, and how much did it raise?") == [
        "Who founded Hexapod AI", "how much did it raise?"]
    assert parts("Who founded Hexapod AI and Zeta?") == ["Who founded Hexapod AI and Zeta?"]
    assert options("Which came out first, Beetle-2 or the Zeta-7?") == ["Beetle-2", "Zeta-7"]
    assert options("Is it open or closed?") == []
    assert options("Basic or Digest: which scheme costs a round-trip?") == ["Basic", "Digest"]
    assert options("How do I turn it on or off: which flag?") == []
    for asked in ("Between Beetle-2 and Zeta-7, which came out first?",
                  "Of Beetle-2 and Zeta-7, which is older?", "Beetle-2 vs Zeta-7: which came out first?",
                  "Which came out first \u2014 Beetle-2 or Zeta-7?"):
        assert options(asked) == ["Beetle-2", "Zeta-7"], asked
    assert options("Between 2031 and 2032, which labs raised money?") == []
    assert options("Did Beetle 2.0 come out earlier than Zeta-7?") == ["Beetle 2.0", "Zeta-7"]
    assert options("Does Beetle-2 have more experts than Zeta-7?") == ["Beetle-2", "Zeta-7"]
    assert options("Is the default timeout longer than five seconds?") == []  # no two names


@pytest.mark.parametrize(("asked", "many"), [
    ("What are Hexapod AI's strengths?", True), ("Which weaknesses does Hexapod AI have?", True),
    ("Which two labs raised money?", True), ("What is Hexapod AI's strength?", False),
    ("Which lab raised money?", False), ("Which keys can pin a source to a revision?", True),
    ("Into which kinds are plugin events grouped?", True), ("Which tech companies joined that round?", True),
    ("Which dependency lockers come built into Zorp?", True), ("Which setting adds a canonical link?", False),
    ("Which class do I import to test it?", False), ("What status does the client get?", False),
    ("Which of them was founded first?", False)])
def test_a_question_in_the_plural_asks_for_a_list(asked: str, many: bool, vocabulary: Vocabulary) -> None:
    assert asks_for_many(analyse(asked, vocabulary)) is many


@pytest.mark.parametrize(("said", "listed"), [
    ("Built-in lockers are uv and pip, matching the installer.", True),
    ("Pin to a revision with one of rev, tag, or branch (mutually exclusive):", True),
    ("There are three kinds of events: Global Events, Page Events and Template Events.", True),
    ("The value can be one of the three: warn, info, ignore", True),
    ("Backed by Alibaba and Tencent.", True),
    ("In 2031, the company and its partners raised money.", False),
    ("It is fast and reliable.", False),
    ("Lockers are registered with zorp_register_locker (see Registration below).", False)])
def test_things_in_a_row_are_a_list_two_only_if_both_are_names_or_code(said: str, listed: bool) -> None:
    assert enumerates(said, frozenset({"uv", "pip"})) is listed


def test_a_comparison_weighs_amounts_in_words_and_plain_defaults_but_not_years() -> None:
    assert value("2031: Beetle-2 ships as a trillion-parameter model", by_date=False) == (1e12,)
    assert value("Zeta-7: 389B total, 52B activated", by_date=False) == (389e9,)
    assert value("max_hops (Default 30), since 2031", by_date=False) == (30.0,)
    # the amount of what is asked, when the passage says which is which
    assert value("Features Zeta-7 (456B, 4M token context)", False, frozenset({"context"})) == (4e6,)


@pytest.mark.parametrize(("typed", "meant"), [
    ("hexpod beetle-2 context lenght", "hexapod beetle-2 context length"),
    ("who foundd hexapod", "who founded hexapod"),
    ("is beetle-2 a spin off", "is beetle-2 a spinoff"),
    ("the deepdive notes", "the deep-dive notes"),
    ("how many ppl work there", "how many people work there"),
    ("what did hexapod do b4 its series a", "what did hexapod do before its series a"),
    ("what happened in 2032", "what happened in 2032"),  # a number is never 'corrected' to another
    ("which school did they attend", "which school did they attend"),  # a word, not a slip for "attention"
    ("turn off verfication", "turn off verification"),  # the words are close, though not their stems
    ("who serves there", "who serves there"),  # "series" is one letter off, but "serves" is a word
])
def test_casual_typing_is_mended_with_the_corpus_words(typed: str, meant: str,
                                                       vocabulary: Vocabulary) -> None:
    assert vocabulary.correct(typed).lower() == meant


@pytest.mark.parametrize("typed", ["a lint environment that neither inherits settings nor installs",
                                   "which one needs the newest python", "where do I mount the app"])
def test_an_english_word_the_corpus_lacks_is_no_slip(typed: str, embedder: Embedder) -> None:
    """"neither" is one letter from the manual's "either", "newest" from "fewest", "mount" from "amount": the
    words the embedder's vocabulary holds whole are spelt right, though the corpus never writes them."""
    manual = [Chunk("env.md", "Environments", "Pick either the fewest or the default amount of envs.")]
    assert Vocabulary(Lexicon.of(manual)).correct(typed) != typed  # the corpus's words alone: a slip
    assert Vocabulary(Lexicon.of(manual), lambda: embedder.words).correct(typed) == typed
    assert Vocabulary(Lexicon.of(manual), lambda: embedder.words).correct("how many defualt envs") == \
        "how many default envs"


def test_the_search_keeps_an_english_word_the_corpus_lacks(pipeline: Pipeline) -> None:
    """The labs notes write "appeals" but never "appears": the question is searched as asked."""
    assert "appears" in pipeline.finder.query("Which company appears in both groups?")


def test_shorthand_is_spelled_out_unless_the_corpus_writes_it() -> None:
    api = Vocabulary.of([Chunk("api.md", "Requests", "Pass params=... to add query parameters.")])
    assert api.correct("how are params encoded") == "how are params encoded"
    assert api.correct("how is it rated on maths") == "how is it rated on mathematics"
    assert api.correct("who is the ceo") == "who is the CEO"
    assert api.correct("install the deps w/o my pkg") == "install the dependencies without my package"


def test_two_word_shorthand_and_slips_of_short_words_are_spelled_out() -> None:
    """"env var" is spelled out though the manual writes "env" (a command) and "var" alone, and "wich", under
    the five letters the fuzzy match needs, is "which"."""
    cli = Vocabulary.of([Chunk("cli.md", "env", "Run `tool env show`; a var is set by the VAR option.")])
    assert cli.correct("env var to pick wich env w/ the -e flag") == \
        "environment variable to pick which env with the -e flag"
    assert cli.correct("which env vars are read") == "which environment variables are read"


@pytest.mark.parametrize(("question", "volatile"), [
    ("What is Hexapod AI's share price today?", True),
    ("What was its revenue last year?", True),
    ("What did Hexapod AI raise in March 2031?", False),
    ("Which year did Hexapod AI raise its Series A?", False),
])
def test_a_question_about_what_changes_after_writing_is_volatile(question: str, volatile: bool,
                                                                 vocabulary: Vocabulary) -> None:
    assert analyse(question, vocabulary).volatile == volatile


def test_the_place_asked_for_meets_each_items_place_in_its_list(vocabulary: Vocabulary) -> None:
    """"The fourth scenario" is the item numbered 4, or the fourth bullet counted under its label."""
    assert analyse("What is the fourth likely scenario?", vocabulary).ordinal == 4
    assert analyse("What is the likely scenario?", vocabulary).ordinal == 0
    listed = Chunk("notes.md", "Outlook", "**Strengths:**\n- Compute\n- Users\n  - many\n- Money\n\n"
                                           "Scenarios:\n4. **Reasoning**: grows\n5. **Pricing**: falls")
    assert sentences(listed) == [("Strengths: Compute", 1), ("Strengths: Users", 2), ("Strengths: many", 1),
                                 ("Strengths: Money", 3), ("Scenarios: Reasoning: grows", 4),
                                 ("Scenarios: Pricing: falls", 5)]


def test_a_long_sentence_introducing_a_list_lends_its_last_clause_to_the_items() -> None:
    intro = Chunk("notes.md", "History", "Known for robots, drones, and boats, Hexapod AI built assets for "
                                         "its lab including:\n- Sensor data from drones\n- Boat hulls")
    assert [text for text, _ in sentences(intro)][1:] == [
        "Hexapod AI built assets for its lab including: Sensor data from drones",
        "Hexapod AI built assets for its lab including: Boat hulls"]


@pytest.mark.parametrize(("asked", "sentence", "other"), [
    ("What context does Step-2 have?", "Step-1 variants: 8K and 32K context lengths", True),
    ("What context does Step-2 have?", "Step-2-16k: 16K context variant", False),
    ("How do I enable HTTP/3?", "It supports HTTP/1.1 and HTTP/2.", True),
    ("What does ERNIE 5.0 bring?", "Jun 2024: ERNIE 4.0 Turbo launched", True),
    ("What does ERNIE 5.0 bring?", "ERNIE 5.0 and ERNIE 4.5 launched", False),
    ("What happened in 3 years?", "It grew in 2 years", False),
    ("Who founded Baichuan in 2023?", "Baichuan was founded in 2024", False),
    ("How large is Beetle-Audio?", "Beetle Series: Beetle-1V: Multimodal (100B+ parameters)", True),
    ("How large is Beetle-Audio?", "Beetle-Audio: speech generation", False),
    ("Which Hexapod-backed labs exist?", "Hexapod-owned Zeta builds robots", False),
    ("How large is Beetle 3.0 Titan?", "Mar 2033: Hexapod Beetle Bot reached 10B", True),
    ("How large is Beetle 3.0 Titan?", "Dec 2031: Beetle 3.0 Titan launched", False),
    ("How large is Beetle Bot?", "Dec 2031: Beetle Pro launched", False),  # no version asked: a plain name
])
def test_a_sentence_about_another_version_of_the_name_asked_about_is_marked(asked: str, sentence: str,
                                                                              other: bool) -> None:
    """Another version's fact is not the answer (a near-miss), but a variant of the version asked about
    is that version, and a number of years or a year is no version; a named variant ("Beetle-Audio") is a
    version too."""
    assert other_version(variants(asked), sentence) is other


def test_code_the_retrieved_text_never_writes_is_an_option_the_documents_lack() -> None:
    """"exclude_paths" is not "exclude" and "paths" apart; "Depends()" is not the word "depends"."""
    written = "## GZipMiddleware\nThe following arguments are supported: `minimum_size`. It depends on size."
    assert unwritten_code("How do I use GZipMiddleware's exclude_paths option?", written)
    assert not unwritten_code("What does GZipMiddleware's minimum_size option do?", written)
    assert unwritten_code("How do I use Depends() in an endpoint?", written)
    assert not unwritten_code("How do I use Depends() in an endpoint?", written + " Call Depends(get_db).")
    assert not unwritten_code("What does GZipMiddleware do?", written)  # a name, not code: weighed, not gated


def test_a_name_in_most_chunks_of_a_corpus_is_its_topic_but_not_in_a_short_note() -> None:
    """Zorp, in 20 of 40 chunks, is what the manual is about; Quill, in 2, is not; and in a note of four
    chunks, a name in two of them is one thing among few."""
    said = ["Quill sets", "Zorp reads", "Quill sets", "Zorp reads", *["It has", "Zorp reads"] * 18]
    manual = [Chunk("zorp.md", "Settings", f"{who} option {n}.") for n, who in enumerate(said)]
    assert Vocabulary.of(manual).is_topic("zorp") and not Vocabulary.of(manual).is_topic("quill")
    assert not Vocabulary.of(manual[:4]).is_topic("zorp")


def test_a_name_the_documents_never_write_is_unknown_but_a_plain_word_is_not_counted(
        vocabulary: Vocabulary) -> None:
    """"Who is the CTO of Hexapod AI?" types one name the notes lack of three; "chef" is no name."""
    assert unknown_names("Who is the CTO of Hexapod AI?", vocabulary) == pytest.approx(1 / 3)
    assert unknown_names("What context length does Beetle-2 handle?", vocabulary, CHUNKS[2].text) == 0
    assert unknown_names("Who is the chef of Hexapod?", vocabulary) == 0


def test_an_identifier_or_version_counts_as_unknown_unless_the_retrieved_text_writes_it(
        vocabulary: Vocabulary) -> None:
    """"max_redirects" is unknown to chunks that say "max" and "redirects" apart, known where written."""
    asked = "What is the default of max_redirects in client.Limits?"
    written = "the client follows redirects up to a max count. client.limits(...)"
    assert unknown_names(asked, vocabulary, written) == pytest.approx(1 / 2)
    assert unknown_names(asked, vocabulary, written + " max_redirects=20") == 0
    # so is an option: "--reload" is not "reload" in a release note
    assert unknown_names("What does the --reload option do?", vocabulary, "Enable dirty reload.") == 1
    assert unknown_names("What does the --reload option do?", vocabulary, "* --reload: restart on edits") == 0
    # a version asked about is unknown unless the retrieved text writes it, however spaced
    assert unknown_names("What changed in Beetle 3.0?", vocabulary, "Its Beetle-2 handles 128K.") == 1
    assert unknown_names("What changed in Beetle 3.0?", vocabulary, "Beetle-3.0 shipped in 2032.") == 0


def test_a_web_address_or_a_reference_holds_no_amount_but_a_path_may_date_the_page() -> None:
    link = "[Open issues](https://github.com/encode/httpx/issues?q=is%3Aissue+label)"
    assert not has_span(link, "number", "How many stars does it have?")
    # nor is a paper's or an issue's number ("arXiv:2412.15270", "#42") the size asked for
    assert not has_span("Technical Report: arXiv:2412.15270, see #42", "number", "How big is Beetle-4?")
    # nor a version written apart from its name ("Beetle 4.0 launched"), though a size is ("Beetle 72B")
    assert not has_span("Jun 2032: Beetle 4.0 Turbo launched", "number", "What size is Beetle Turbo?")
    assert has_span("Beetle 72B launched", "number", "What size is Beetle Turbo?")
    piece = "[Tencent bets on WeChat](https://www.cnbc.com/2025/05/15/tencent.html)"
    assert short_answer("date", "In which year was it published?", frozenset({"publish"}), piece,
                        str.istitle) == "2025"


def test_a_person_shown_as_the_answer_is_every_word_a_name() -> None:
    """"Deep Learning Research Labs" has a person's shape; the corpus writes "learning" in lower case."""
    names = {"deep", "wang", "xiaochuan", "kai-fu", "lee"}.__contains__
    said = "Led by Deep Learning Research Labs, advised by Wang Xiaochuan"
    assert short_answer("person", "Who leads it?", frozenset({"lead"}), said, lambda w: names(w.lower())) \
        == "Wang Xiaochuan"
    assert short_answer("person", "Who founded it?", frozenset({"found"}), "Founded by Kai-Fu Lee.",
                        lambda w: names(w.lower())) == "Kai-Fu Lee"
    # one-word names after "by" are who did it, ahead of a person named further off
    backed = "Backed by Alibaba and Tencent, and known for an endorsement by a fan, Jensen Huang."
    assert short_answer("person", "Who backs it?", frozenset({"back"}), backed, str.istitle) == \
        "Alibaba and Tencent"
    # all who did it, after a name qualifying them; not the first of them alone
    founded = "Founded by Quill professors Ada Lovell and Omar Finch in 2031."
    assert short_answer("person", "Who founded it?", frozenset({"found"}), founded, str.istitle) == \
        "Ada Lovell and Omar Finch"
    # and not the name opening the next clause ("..., Zeta grew"), which qualifies no one
    founded = "Founded in 2031 by Ada Lovell, Omar Finch, and Li Wei, Zeta grew fast."
    assert short_answer("person", "Who founded it?", frozenset({"found"}), founded, str.istitle) == \
        "Ada Lovell, Omar Finch, and Li Wei"


def test_a_model_or_a_month_is_no_person() -> None:
    """A table row naming a model and a release month holds no one to answer "who"."""
    row = "Release Date Dec 2031 Model Beetle4-Finance Key Features finance domain"
    assert not has_span(row, "person", "Who is its finance chief?", lambda w: w in {"Dec", "Beetle4-Finance"})
    assert has_span("Led by Ada Quill", "person", "Who leads it?", lambda w: w in {"Ada", "Quill"})


def test_a_count_of_the_thing_asked_for_is_the_amount() -> None:
    """"How many foundation models": the count before "foundation models", not "trillion" nearby."""
    said = "The lab released 11 foundation models in its first year, including a trillion-parameter model"
    assert short_answer("number", "How many foundation models did it release?",
                        frozenset({"foundat", "model", "releas"}), said, str.istitle) == "11"
    # a word between the count and its unit, and another count of part of it nearer the question's words
    said = "Beetle-2 has 128 specialized expert modules with 6 activated + 2 always-on experts per token"
    assert short_answer("number", "How many expert modules does Beetle-2 have?",
                        frozenset(tokenize("expert modules have")), said, str.istitle) == "128"


@pytest.mark.parametrize(("said", "place"), [
    ("Headquartered in Xuhui, Shanghai, the lab builds robots.", "Xuhui, Shanghai"),
    ("In Hangzhou, Hexapod AI is a standout.", "Hangzhou"),  # not "Hangzhou, Hexapod AI"
    ("Hexapod AI (Shenzhen): strong in long context", "Shenzhen"),
    ("Founded by Kai-Fu Lee in March 2031 with backers (Microsoft, Google veterans)", None),
    ("Led by experts in Chinese NLP and search, with experience at Microsoft, Google and Apple", None)])
def test_a_place_is_a_name_where_something_is(said: str, place: str | None) -> None:
    """A month after "in", a person, or names listed in brackets are no place."""
    assert short_answer("place", "Where is it based?", frozenset({"base"}), said, str.istitle) == place


def test_a_site_asked_for_is_where_the_link_points() -> None:
    link = "[Hexapod AI's profile](https://www.example-news.com/tech/hexapod-ai-profile/)"
    assert short_answer("site", "Which site ran the Hexapod AI profile?", frozenset({"run", "site"}), link,
                        str.istitle) == "example-news.com"
    assert short_answer("site", "Which site ran it?", frozenset({"run", "site"}), "Hexapod AI's profile",
                        str.istitle) is None


@pytest.mark.parametrize(("said", "asked", "code"), [
    ("You can hide it with hide_input=True, as the prompt does.", "What parameter hides the input?",
     "hide_input"),
    ("* --output <file>: An output file to write docs to", "Which option sets the file?", "--output"),
    ("Import CliRunner and call runner.invoke() with the app.", "Which class runs the app in a test?",
     "CliRunner"),  # a class, not a call
    ("Set TYPER_USE_RICH to 0 before typer.run() starts.", "Which environment variable turns Rich off?",
     "TYPER_USE_RICH"),
    ("Make it case-insensitive with the case_sensitive parameter: {* docs_src/enum_types/main.py *}",
     "What parameter makes the choice accept any case?", "case_sensitive"),  # a path's pieces are no name
    ("Testing the app is easy with pytest, e.g. in a file named after it.",
     "Which class runs the app in a test?", None),
    # one of names listed as alternatives is no answer the passage gives: it does not say which of them
    ("Move the data by setting the ZETA_DATA_DIR or ZETA_HOME environment variables.",
     "Which environment variable puts Zeta somewhere else?", None),
    ("See [ZETA_PROXY, ZETA_ALL_PROXY](env.md) and [ZETA_NO_PROXY](env.md) for more.",
     "Which environment variable skips the proxy?", None),
    # but a setting named before the list of its values is the answer
    ("nav_location: One of bottom, top, both, or none.", "Which setting puts the nav on top?",
     "nav_location")])
def test_a_name_in_code_is_the_answer_of_the_shape_asked(said: str, asked: str, code: str | None) -> None:
    """Asked for an option, a parameter, a class or an environment variable, the answer is a name written as
    code; a class is capitalised inside (CliRunner), an environment variable in capitals with underscores."""
    attribute = frozenset(tokenize(asked)) - {"which", "what"}
    assert short_answer("code", asked, attribute, said, str.istitle) == code


@pytest.mark.parametrize(("said", "asked", "attribute", "amount", "no_amount"), [
    # at the start of a line too, and whole
    ("Major Growth: Hundreds of millions users", "How many users?", "user", "Hundreds of millions",
     "Major Growth: many users"),
    # in small number words, but "one" is no amount
    ("The default timeout for network inactivity is five seconds.", "How long does it wait?", "wait",
     "five seconds", "It is one of the best."),
    # a power of two is no year, a year is no amount
    ("--backlog <int> - Default: *2048*.", "What is the default backlog size?", "backlog", "2048",
     "Founded in 2031."),
    # a factor is an amount with its "-fold"
    ("MoE: 17-fold improvement in inference throughput", "How much did throughput improve?", "improv",
     "17-fold", "It improved throughput a lot.")])
def test_an_amount_in_words_is_an_amount(said: str, asked: str, attribute: str, amount: str,
                                         no_amount: str) -> None:
    assert has_span(said, "number", asked)
    assert short_answer("number", asked, frozenset({attribute}), said, str.istitle) == amount
    assert not has_span(no_amount, "number", asked)


def test_a_count_is_no_ratio() -> None:
    """"How many parameters?" is not answered by "a 17-fold improvement" or "40%" (seen in the web chat for
    a model whose size the documents never give); "how many times faster" is."""
    ratios = "Its knowledge graph brought a 17-fold improvement and 40% lower cost, 3x faster."
    assert not has_span(ratios, "number", "How many parameters does Beetle-2 have?")
    assert short_answer("number", "How many parameters does it have?", frozenset({"paramet"}),
                        f"{ratios} It has 260B parameters.", str.istitle) == "260B"
    assert has_span(ratios, "number", "How many times faster is it?")
    assert has_span(ratios, "number", "How much did throughput improve?")


def test_a_why_question_is_answered_by_a_cause_a_how_question_by_a_clause() -> None:
    restated = "Unlike the old client, it does not follow redirects by default."
    cause = "We differ here because redirects can hide needless network calls."
    assert not has_span(restated, "reason", "Why doesn't it follow redirects?")
    assert has_span(cause, "reason", "Why doesn't it follow redirects?")
    assert has_span("它默认不跟随重定向,因为这会隐藏网络调用。", "reason", "为什么它不跟随重定向?")
    assert has_span(restated, "reason", "How does it handle redirects?")


def test_the_pieces_of_a_code_name_are_not_names() -> None:
    """"TOO_LONG" in a code sample does not make "long" a name, so "How long ...?" keeps its question word."""
    code = Chunk("api.md", "Limits", "Stop when the size is over TOO_LONG or over MAX_LONG, says the note.")
    assert not Vocabulary.of([code]).is_name("long", 0.8)


def test_the_fitted_models_match_the_features_the_code_computes() -> None:
    """Changing a feature without running scripts/fit.py again fails here, not silently in answers."""
    models = FittedModels.load()
    assert models.sentence_model.features == SENTENCE_FEATURES
    assert models.answerable_model.features == QUESTION_FEATURES
    assert 0 < models.threshold < 1
    weights = dict(zip(SENTENCE_FEATURES, models.sentence_model.coef, strict=True))
    assert all(w >= 0 for name, w in weights.items() if name.startswith(("subject_", "attribute_")))
    rows = np.zeros((2, len(QUESTION_FEATURES)))
    assert ((models.answerable(rows) > 0) & (models.answerable(rows) < 1)).all()


def test_a_name_a_chunk_writes_as_code_is_code_though_plain_in_shape() -> None:
    """`slim` is a setting where the chunk writes it between backticks; a flag is written with a dash."""
    said = "You can fix this issue by setting the slim setting to false in your serverless.yml file:"
    asked = "Which setting should I set to false?"
    attribute = frozenset(tokenize(asked))
    assert short_answer("code", asked, attribute, said, str.istitle, frozenset({"slim"})) == "slim"
    assert short_answer("code", asked, attribute, said, str.istitle) == "serverless.yml"  # by shape alone
    flags = "Call export_schema() or pass --schema-file to the CLI"
    assert short_answer("code", "Which flag exports the schema?", frozenset({"export", "schema"}), flags,
                        str.istitle) == "--schema-file"
    # the shape asked is that of the first thing named: a variable, not the flag it stands in for
    chosen = "Select it with the -e/--env option or by setting the ZORP_ENV environment variable."
    asked = "environment variable to pick the env instead of the -e flag"
    assert has_span(chosen, "code", asked)
    assert short_answer("code", asked, frozenset(tokenize(asked)), chosen, str.istitle) == "ZORP_ENV"


def test_a_command_of_two_or_three_words_in_backticks_is_code() -> None:
    """`env prune` names a command as `slim` names a setting; code with operators is no name."""
    written = written_as_code("Use [`env prune`](cli.md) or `hatch env remove`, not `x = 1`; set `slim`.")
    assert written == {"env prune", "hatch env remove", "slim"}
    said = "You can remove all of a project's environments by using the env prune command."
    asked = "Which command deletes all of a project's environments at once?"
    assert short_answer("code", asked, frozenset(tokenize(asked)), said, str.istitle, written) == "env prune"


def test_an_amount_counts_what_is_asked_when_the_words_after_it_say_so(vocabulary: Vocabulary) -> None:
    """"How many entities?" is counted by "150M entities", not by "17-fold improvement"."""
    question = analyse("How many entities are in the knowledge graph of Beetle-2?", vocabulary)
    assert counts_asked("Its graph holds 150M entities and relations.", question.text, question.attribute)
    assert not counts_asked("A 17-fold improvement in throughput.", question.text, question.attribute)


def test_a_word_before_a_version_number_is_no_name_unless_it_names() -> None:
    """"ERNIE 4.5 over 3.0" names one version: "over 3.0" is no name."""
    assert versions("How much did inference improve in ERNIE 4.5 over 3.0?") == {("ernie", "4.5")}


def test_a_price_is_money_and_today_is_nothing_a_document_knows(vocabulary: Vocabulary) -> None:
    question = analyse("How much does a Beetle-2 subscription cost per month?", vocabulary)
    assert unpaid(question, "Getting started with Beetle-2 takes three simple steps")
    assert not unpaid(question, "Beetle-2 costs $20 per month")
    assert not unpaid(analyse("How many steps does it take?", vocabulary), "three simple steps")
    # money asked for is an amount of money: "unicorn status within 8 months" is no income
    assert unpaid(analyse("How much money does Hexapod AI make a year?", vocabulary), "a unicorn in 8 months")
    assert asks_now("What is Hexapod AI's share price today?")
    assert not asks_now("What did Hexapod AI raise in its Series A?")


def test_a_role_is_answered_by_who_did_what_it_names() -> None:
    """"founders" asks who founded it: a name after "Founded ... by" answers, not for a CTO."""
    said = "Founded in March 2031 by Ada Quill and Bo Lin, Hexapod AI grew fast."
    assert done_by(said, "Who were the founders of Hexapod AI?", str.istitle, frozenset(tokenize("founders")))
    assert not done_by(said, "Who is the CTO of Hexapod AI?", str.istitle, frozenset(tokenize("CTO")))
    assert set(tokenize("co-founders")) & set(tokenize("founded"))


def test_a_list_number_is_no_part_of_the_item_and_code_keeps_its_underscores() -> None:
    chunk = Chunk("notes.md", "Hexapod AI > Milestones",
                  "1. **Funding**: raised $40M\n2. **Fast Unicorn**: valued at $1B within 8 months\n\n"
                  "Extra fields are stored in the `__pydantic_extra__` dictionary, **always**.")
    said = [text for text, _ in sentences(chunk)]
    assert "Fast Unicorn: valued at $1B within 8 months" in said
    assert "Extra fields are stored in the __pydantic_extra__ dictionary, always." in said


def test_the_latest_is_what_the_documents_call_the_latest_but_last_year_is_unknown(
        vocabulary: Vocabulary) -> None:
    """"Its latest model" is answered where the documents write "Latest model: ..."; the time of asking is
    never known."""
    latest = analyse("What is Hexapod AI's latest model?", vocabulary)
    assert not volatile(latest, "Hexapod AI > Models Latest model: Beetle-2 (13B)")
    assert volatile(latest, "Hexapod AI > Models Beetle-2 handles 128K tokens")
    assert volatile(analyse("What was Hexapod AI's revenue last year?", vocabulary), "Revenue last year: $4M")


def test_a_slip_is_mended_to_the_word_the_corpus_uses_most() -> None:
    """"hunyaun" is one edit from "Hunyuan" (three chunks) and from "Hunyun" (a slip in one chunk)."""
    chunks = [Chunk("notes.md", "Tencent", f"Hunyuan model {i} was released.") for i in range(3)]
    vocabulary = Vocabulary.of([*chunks, Chunk("notes.md", "Tencent", "Hunyun is fast.")])
    assert vocabulary.correct("hunyaun speed").lower() == "hunyuan speed"


def test_the_maker_asked_for_is_the_organisation_whose_part_the_passage_is_in() -> None:
    section = "Hexapod AI (Beetle) > Quick Summary"
    def capitalised(word: str) -> bool:
        return word[0].isupper()
    assert maker("Which company makes the Beetle robot?", section, capitalised) == "Hexapod AI"
    assert maker("Does Hexapod AI make the Beetle robot?", section, capitalised) is None  # not asked for
    assert maker("Which company makes Hexapod AI's robot?", section, capitalised) is None  # named already
    assert maker("Which company makes the Beetle robot?", "getting started > Install", capitalised) is None
    assert maker("Who is behind the Beetle robot?", section, capitalised) == "Hexapod AI"
    assert maker("Who's behind the Beetle robot?", section, capitalised) == "Hexapod AI"
    assert maker("Who stands behind the Beetle robot?", section, capitalised) == "Hexapod AI"


def test_the_thing_asked_for_is_the_name_from_code_that_heads_the_passage() -> None:
    # "Adds signed cookie-based HTTP sessions." names nothing; its heading is the middleware asked for
    asked = "Which built-in middleware gives me signed cookie-based sessions?"
    assert named_by_heading(asked, "Middleware > SessionMiddleware") == "SessionMiddleware"
    assert named_by_heading("Which function shows a progress bar?", "Bars > `typer.progressbar`") == \
        "typer.progressbar"
    assert named_by_heading(asked, "Middleware > Using middleware") is None  # no name from code
    assert named_by_heading(asked, "Labs > DeepSeek") is None  # a name, but not of the kind asked for
    assert named_by_heading("What does SessionMiddleware add?", "Middleware > SessionMiddleware") is None
    assert named_by_heading("Does any middleware give sessions?", "Middleware > SessionMiddleware") is None


def test_a_sentence_with_a_bar_and_no_colon_is_read_as_a_sentence() -> None:
    """A passage may write a bar in prose ("json | yaml"): only a table row has a header to cut off."""
    asked = "How many formats does Zeta write?"
    said = "Zeta writes 3 formats, chosen with --format json | yaml | toml."
    assert short_answer("number", asked, frozenset(tokenize(asked)), said, str.istitle) == "3"


def test_a_local_address_is_no_site() -> None:
    """"http://localhost:8030" names no site: the short answer is the first address that does, or none."""
    asked = "Which website is the proxy located at?"
    local = 'Pass the proxy URL, httpx.Client(proxy="http://localhost:8030").'
    assert short_answer("site", asked, frozenset(tokenize(asked)), local, str.istitle) is None
    both = f"{local} Its docs are at https://www.python-httpx.org/advanced/."
    assert short_answer("site", asked, frozenset(tokenize(asked)), both, str.istitle) == "python-httpx.org"
