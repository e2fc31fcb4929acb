"""`conversation.contextualize`: follow-ups made stand-alone from the whole history (pure, no models).

NAMES stands in for a corpus's vocabulary (a phrase is a name when all its words are) and KINDS for the
embedder's sense of which phrases mean alike; the pipeline supplies the real `is_name` and `closest`.
"""

from __future__ import annotations

import pytest

from labchat.conversation import contextualize

NAMES = set("Baichuan Wang Xiaochuan Kai-Fu Lee Zhipu Baidu ERNIE Step-1 Step-2 StepFun SenseTime Alibaba "
            "GPUs CFO Hunyuan Tencent Yi 34B dots.llm1 Qwen DeepSeek Rednote Efficient Operators VL "
            "Max MATH-500 GPQA Tsinghua".split())
ABSTAIN = "The documents do not cover this."
FOUNDED = ("Who founded Baichuan?", "**Wang Xiaochuan**. From the documents: “Founded by him” [1]")
"""A who-question and its answer: the founder is the person, Baichuan the subject."""
KINDS = [{"logic", "creativity", "maths"}, {"tech giants", "well-funded startups", "efficient operators"},
         {"first", "fourth", "fifth"}, {"social data", "gaming business", "cloud"},
         {"those datasets", "What does Baichuan's training data focus on?"}, {"@validator", "root_validator"}]


def closest(phrase: str, candidates: list[str]) -> int:
    """The first candidate of the phrase's kind (a stand-in for the embedder), else the last candidate."""
    kind = next((k for k in KINDS if phrase in k), set())
    return next((i for i, c in enumerate(candidates) if c in kind), len(candidates) - 1)


def resolve(question: str, *turns: tuple[str, str]) -> str:
    return contextualize(question, turns, lambda phrase: set(phrase.split()) <= NAMES,
                         lambda answer: answer.startswith(ABSTAIN), closest)


@pytest.mark.parametrize(("question", "history"), [
    ("Who founded Baichuan?", ()),
    ("Who founded it?", ()),
    ("Who founded Zhipu?", [("How much did Baichuan raise in its Series B round?", "$691M [1]")]),
    ("What does the corpus list as the tech giants' first advantage?", [("Who founded Baichuan?", "x")]),
    ("What is the first likely scenario?", [("Which labs are big?", "Alibaba, Tencent and Baidu [1]")]),
], ids=["no-history", "nothing-to-refer-to", "own-name", "long-without-reference", "ordinal-adjective"])
def test_a_question_that_stands_alone_is_unchanged(question: str, history: list[tuple[str, str]]) -> None:
    assert resolve(question, *history) == question


def test_a_pronoun_takes_the_names_of_the_latest_turn_that_had_any() -> None:
    first = ("Which of Baidu's research labs develop ERNIE?", "The AI and Deep Learning Research Labs [1].")
    second = ("Who leads that work?", "Led by the Senior VP of Research [1].")
    assert resolve("Who leads it?", first) == "Who leads it? Baidu, ERNIE"
    assert resolve("What is its executive's name?", first, second).endswith("Baidu, ERNIE")


def test_a_thing_pointed_at_by_a_noun_of_its_own_takes_the_question_that_spoke_of_it() -> None:
    """"that work" is what the last question asked about, which its names alone do not say; "those
    datasets" what an earlier one did, the closest in meaning."""
    first = ("Which of Baidu's research labs develop ERNIE?", "The AI and Deep Learning Research Labs [1].")
    assert resolve("Who leads that work?", first) == \
        "Who leads that work? Which of Baidu's research labs develop ERNIE? Baidu, ERNIE"
    second = ("Who leads that work?", "Led by the Senior VP of Research [1].")
    assert resolve("What is that executive's name?", first, second) == \
        "What is that executive's name? Who leads that work? Baidu, ERNIE"  # not every question before
    piece = ("Which outlet reported that Tencent bets on WeChat?", "[Tencent bets on WeChat](https://cnbc.com)")
    assert resolve("In which year was that piece published?", piece) == \
        f"In which year was that piece published? {piece[0]} Tencent"
    data = ("What does Baichuan's training data focus on?", "Chinese cultural context [1]")
    status = ("What status did it reach within a year?", "AI Tiger status [1]")
    assert resolve("who curates those datasets", data, status) == \
        f"who curates those datasets? {data[0]} Baichuan"


def test_an_answer_gives_the_subject_when_its_question_named_nothing() -> None:
    asked = ("Which lab raised $691M?", "Baichuan did [1].")
    assert resolve("Who founded it?", asked) == "Who founded it? Baichuan"


def test_the_short_answer_a_which_question_was_given_is_the_subject_though_it_is_no_name() -> None:
    """A manual's answer is often code the corpus writes in lower case: "its" is still that setting."""
    asked = ("Which setting stops the tool from creating environments?",
             "**envs.create**. From the documents: “Create a new environment if none exists.” [1]")
    assert resolve("What's its variable?", asked) == "What's its variable? envs.create"


def test_an_answer_to_a_question_that_asked_for_no_name_gives_no_subject() -> None:
    """Asked how much was raised, the investors the answer names are not what "it" is."""
    asked = ("How much did the lab raise in its Series B?", "$691M, from Tencent and Alibaba [1].")
    assert resolve("Who founded it?", asked) == "Who founded it?"


def test_an_abstention_names_nothing_and_the_thread_goes_on() -> None:
    opening = ("What was Baichuan recognized as in 2024?", "One of China's top AI startups [1].")
    refused = ("Who serves as its finance chief?", f"{ABSTAIN} Tencent, Alibaba and Zhipu")
    assert resolve("Does it release open-source models?", opening, refused).endswith("Baichuan")
    assert resolve("Which exchange lists the second one?", opening, refused) == \
        "Which exchange lists the second one?"


@pytest.mark.parametrize(("question", "expected"), [
    ("它的首席财务官是谁\uff1f", "它的首席财务官是谁\uff1f SenseTime"),
    ("其他公司的估值多少", "其他公司的估值多少"),  # 其他 ("other") holds 其 and 他 but refers to nothing
])
def test_chinese_pronouns(question: str, expected: str) -> None:
    assert resolve(question, ("Who is behind those foundation models?", "SenseTime [1].")) == expected


def test_ellipsis_with_a_new_name_swaps_the_subject_of_the_previous_question() -> None:
    assert resolve("And Zhipu?", ("How much did Baichuan raise?", "$691M.")) == "How much did Zhipu raise?"
    # what described the old name is not said of the new one
    described = ("Who founded Baichuan, the Sogou spin-off?", "Wang Xiaochuan [1]")
    assert resolve("And Zhipu?", described) == "Who founded Zhipu?"
    described = ("Who founded Baichuan, a Beijing lab, in 2023?", "Wang Xiaochuan [1]")
    assert resolve("And Zhipu?", described) == "Who founded Zhipu, in 2023?"
    step1 = ("StepFun的Step-1有哪些上下文长度的版本\uff1f", "8K and 32K [1].")
    assert resolve("那Step-2呢\uff1f", step1) == "StepFun的Step-2有哪些上下文长度的版本\uff1f"


def test_ellipsis_without_a_name_asks_the_previous_question_of_the_new_words() -> None:
    logic = ("How is Step-2 rated on logic?", "Competitive [1].")
    assert resolve("How about creativity?", logic) == "How is Step-2 rated on creativity?"
    assert resolve("What about maths?", logic, ("How about creativity?", "Strong [1].")) == \
        "How is Step-2 rated on maths?"


def test_the_answer_to_a_which_question_is_what_it_then_refers_to() -> None:
    which = ("Which Qwen model handles images?", "From the documents: “Qwen VL Max: sees images” [1]")
    assert resolve("What is it for?", which) == "What is it for? Qwen VL Max"
    assert resolve("Which one in that series is the largest?", which) == "Which one in Qwen is the largest?"
    assert resolve("What is that one for?", which) == "What is Qwen VL Max for?"
    who = ("Who founded Baichuan?", "**Wang Xiaochuan**. From the documents: “Founded by Wang Xiaochuan” [1]")
    assert resolve("When was it founded?", who) == "When was it founded? Baichuan"
    # a question for what something is called names it as much as "which" does
    called = ("What is its multimodal model called?", "From the documents: “Qwen VL Max: sees images” [1]")
    assert resolve("When was that one released?", ("Who builds Qwen?", "Alibaba [1]"), called) == \
        "When was Qwen VL Max released?"


def test_an_ellipsis_that_is_a_whole_question_keeps_its_own_words() -> None:
    assets = ("List the assets Tencent had", "Users, data and cloud [1].")
    assert resolve("And when did it announce Hunyuan?", assets) == "And when did it announce Hunyuan?"
    assert resolve("And Baidu?", assets) == "List the assets Baidu had"


def test_a_possessive_ellipsis_drops_the_owner_it_replaces() -> None:
    social = ("What did WeChat's social data give Tencent for LLM development?", "Understanding [1].")
    assert resolve("And its gaming business?", social) == \
        "What did gaming business give Tencent for LLM development?"
    assert resolve("And the gaming business?", social) == \
        "What did WeChat's gaming business give Tencent for LLM development?"


def test_a_possessive_ellipsis_with_no_owner_to_replace_asks_of_the_subject() -> None:
    """"What about its context?" after a question with no possessive: the context of what was asked about
    first, not the previous question's verb replaced ("What does Step-2 context on Yi?")."""
    scored = ("What does Step-2 score on Yi?", "From the documents: “Yi: 96.2” [1]")
    assert resolve("What about its context?", scored) == "What about its context? Step-2"


def test_a_chinese_possessive_ellipsis_with_no_owner_to_replace_asks_of_the_subject() -> None:
    """那它的最新模型呢 ("And its latest model?") after "How many staff do they have now?" asks for Zhipu's
    latest model, not for "how many" of it: 它的 is "its", and 那...呢 only frame the phrase."""
    founded = ("What year was Zhipu founded?", "From the documents: “Zhipu, founded in 2019” [1]")
    staff = ("How many employees do they have now?", ABSTAIN)
    assert resolve("那它的最新模型呢\uff1f", founded, staff) == "那它的最新模型呢\uff1f Zhipu"
    assert resolve("那其他公司呢\uff1f", founded, staff) != "那其他公司呢\uff1f Zhipu"  # 其他: "other"


def test_a_chain_of_ellipses_keeps_replacing_the_same_phrase() -> None:
    giants = ("What does the landscape list as the tech giants' first advantage?", "Compute [1].")
    startups = ("And for the well-funded startups?", "Agility [1].")
    assert resolve("And the efficient operators?", giants, startups) == \
        "What does the landscape list as the efficient operators' first advantage?"
    first = ("What is the first likely scenario in the outlook?", "Growth [1].")
    assert resolve("And the fourth?", first) == "What is the fourth likely scenario in the outlook?"
    # a name from code, marked as code, takes the place of the one the previous question wrote, sigil and all
    root = ("Is @root_validator still supported in V2?", "No [1].")
    assert resolve("And for `@validator`?", root) == "Is @validator still supported in V2?"


@pytest.mark.parametrize("question", ["And what is its code there?", "And how did it start out in life?"])
def test_an_ellipsis_that_is_a_whole_question_takes_the_subject(question: str) -> None:
    assert resolve(question, ("Which exchange lists Tencent?", "HKEX [1].")) == f"{question} Tencent"


@pytest.mark.parametrize(("question", "item"), [
    ("Which exchange lists the second one?", "Tencent"),
    ("What weakness is attributed to the first of those?", "Alibaba"),
    ("And the last one?", "Baidu"),
    ("第二个的总部在哪里\uff1f", "Tencent"),
])
def test_a_place_in_the_latest_list_is_its_item(question: str, item: str) -> None:
    """The list is the latest an answer gave, even with a turn between."""
    listed = ("Which tech giants integrate models?", "“Tech giants (Alibaba, Tencent, Baidu) integrate” [1]")
    resolved = resolve(question, listed, ("How big are they?", "Very big [1]."))
    assert item in resolved and not ({"Alibaba", "Tencent", "Baidu"} - {item}) & set(resolved.split())


def test_a_bracket_inside_a_list_is_an_aside_not_the_list() -> None:
    """"SenseTime (Shenzhen, multimodal AI) and Rednote": the first one is SenseTime; a list held by the
    brackets alone ("Tech giants (Alibaba, Tencent, Baidu)") is still that list."""
    listed = ("Which other players does it mention?", "“Others include SenseTime (Shenzhen, multimodal AI) "
                                                       "and Rednote, but they trail.” [1]")
    resolved = resolve("When was the first one founded?", listed)
    assert "SenseTime" in resolved and "Shenzhen" not in resolved


def test_list_items_are_cut_where_the_list_begins_and_ends() -> None:
    sizes = ("In which sizes do the Yi Chat models come?", "“Yi Chat Models | 6B, 34B, 9B” [1]")
    assert resolve("Which Yi model with the second of those sizes handles images?", sizes) == \
        "Which Yi model with 34B handles images?"
    row = ("In which sizes do the Yi Chat models come?",
           "“Model: Yi Chat Models; Parameters: 6B, 34B, 9B; Open Weights: yes” [1]")
    assert resolve("Which Yi model with the second of those sizes handles images?", row) == \
        "Which Yi model with 34B handles images?"
    founders = ("Who founded them?", "They were founded by Kai-Fu Lee and Wang Xiaochuan.")
    assert resolve("When was the second one born?", founders) == "When was Wang Xiaochuan born?"
    assert resolve("Who founded the first one?", founders) == "Who founded Kai-Fu Lee?"
    operators = ("Which companies are efficient operators?", "“Efficient Operators (DeepSeek, Rednote):” [1]")
    assert resolve("What weakness is attributed to the first one?", operators) == \
        "What weakness is attributed to DeepSeek?"


def test_a_switch_of_topic_and_back() -> None:
    turns = [("What does dots.llm1's fine-grained routing enable?", "Extreme efficiency [1]."),
             ("How is ERNIE perceived relative to Qwen and DeepSeek?", "As lagging [1].")]
    back = "Back to dots.llm1: what does it encourage other companies toward?"
    assert resolve(back, *turns) == back
    routing = resolve("And its routing?", *turns, (back, "Efficiency [1]."))
    assert "dots.llm1" in routing and "routing" in routing and "ERNIE" not in routing


def test_a_fragment_asks_of_the_previous_question() -> None:
    versions = ("How many SenseNova versions did SenseTime release before V6?", "4 [1].")
    assert resolve("Over what time span?", versions) == f"Over what time span? {versions[0]}"
    # a short question naming what the corpus does not know (any more) is not a fragment
    assert resolve("Who founded Zorblat Labs?", versions) == "Who founded Zorblat Labs?"
    assert resolve("who founded Zorblat", versions) == "who founded Zorblat"


def test_a_general_noun_after_the_refers_to_the_subject_and_gives_it_its_place() -> None:
    """"the group" only points: the names take its place, so "group" is not searched as what is asked."""
    operators = ("Which companies are efficient operators?", "“Efficient Operators (DeepSeek, Rednote):” [1]")
    assert resolve("What does the group lack in size?", operators).startswith(
        "What does Efficient Operators")
    assert resolve("What does a group of labs lack in size?", operators) == \
        "What does a group of labs lack in size?"
    # short as it is, "Who backs the company?" points at the subject, not at the whole previous question
    assert resolve("Who backs the company?", ("When was Baichuan founded?", "April 2023 [1]")) == \
        "Who backs Baichuan?"
    assert resolve("How much has the company raised?", FOUNDED) == "How much has Baichuan raised?"


@pytest.mark.parametrize("question", ["How many GPUs did it build?", "Who is its CFO?"])
def test_a_name_asked_for_beside_a_pronoun_is_no_subject(question: str) -> None:
    """"GPUs" is what is counted and "CFO" what "its" has: the question is still about the last subject."""
    announced = ("When did Tencent announce Hunyuan?", "**Sep 2023**. From the documents: “...” [1]")
    assert resolve(question, announced) == f"{question} Tencent, Hunyuan"


def test_he_or_she_is_the_person_a_who_question_was_answered_with() -> None:
    assert resolve("What did he do before?", FOUNDED) == "What did he do before? Wang Xiaochuan, Baichuan"
    assert resolve("When was it founded?", FOUNDED) == "When was it founded? Baichuan"
    # another name in the question is not whom "he" stands for
    assert resolve("How long did he work at Baidu?", FOUNDED) == \
        "How long did he work at Baidu? Wang Xiaochuan"


def test_the_name_that_stays_across_turns_is_what_that_model_stands_for() -> None:
    """"And on GPQA?" swaps the benchmark; the model asked of both times is the topic, not the benchmark."""
    scored = ("What did Hunyuan score on MATH-500?", "96.2 [1]")
    swapped = ("And on GPQA?", "69.3 [1]")
    assert resolve("What architecture does that model use?", scored, swapped) == \
        "What architecture does Hunyuan use?"


def test_that_model_is_the_one_a_which_question_was_answered_with() -> None:
    """"Which Qwen model ...?" answered "Qwen VL Max": "that model" is the one named, not all of Qwen."""
    which = ("Which Qwen model reads images?", "Qwen VL Max reads images [1]")
    assert resolve("How many parameters does that model have?", which) == \
        "How many parameters does Qwen VL Max have?"


def test_a_name_a_possessive_gives_is_no_subject_however_long() -> None:
    """"their Series B": the round is what "they" have, so the question is still about the lab."""
    assert resolve("How much did they raise in their Series B?", FOUNDED) == \
        "How much did they raise in their Series B? Baichuan"


def test_chinese_they_is_no_person() -> None:
    """他们 ("they") asks of the lab; 他 ("he") of the founder the answer named."""
    assert resolve("他们的代码模型叫什么?", FOUNDED) == "他们的代码模型叫什么? Baichuan"
    assert resolve("他以前做什么?", FOUNDED) == "他以前做什么? Wang Xiaochuan, Baichuan"


def test_what_it_is_compared_with_is_not_what_it_is() -> None:
    """"How much did it improve over Step-1?" asks of the model talked about, measured against Step-1."""
    sizes = ("How large is Step-2?", "1T parameters [1]")
    assert resolve("How much did it improve over Step-1?", sizes) == \
        "How much did it improve over Step-1? Step-2"
    assert resolve("Is it larger than Qwen?", sizes) == "Is it larger than Qwen? Step-2"


def test_which_of_them_compares_the_two_things_talked_about_last() -> None:
    baichuan = ("Who founded Baichuan?", "**Wang Xiaochuan** [1]")
    zhipu = ("And Zhipu?", "Tang Jie [1]")
    assert resolve("Which of them was founded first?", baichuan, zhipu) == \
        "Which was founded first, Baichuan or Zhipu?"


def test_a_name_swapped_in_by_an_ellipsis_is_the_new_subject() -> None:
    """"And Zhipu?" after a question naming Baichuan and its rival Baidu is about Zhipu alone."""
    founded = ("Who founded Baichuan, the Baidu rival?", "**Wang Xiaochuan** [1]")
    zhipu = ("And Zhipu?", "Tang Jie [1]")
    assert resolve("When was it founded?", founded, zhipu) == "When was it founded? Zhipu"


def test_a_name_it_comes_from_does_not_become_the_subject() -> None:
    """"When did it spin off from Tsinghua?" is still about Zhipu: "its latest model" is Zhipu's."""
    founded = ("Who founded Zhipu?", "Tang Jie [1]")
    spun = ("When did it spin off from Tsinghua?", "**2019** [1]")
    assert resolve("What is its latest model?", founded, spun) == "What is its latest model? Zhipu"
