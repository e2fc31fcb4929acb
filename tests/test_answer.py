"""Answers from the real pipeline: the short answer first, quoted and cited, or an abstention; generated
sentences (SmolLM2, or any generator) reach the answer only once checked against the passages they cite."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import questionsets

from labchat import check
from labchat.chunking import Chunk
from labchat.evaluate import _norm
from labchat.evidence import SENTENCE_FEATURES, Evidence, Passage
from labchat.extract import compose
from labchat.generate import Generator
from labchat.pipeline import Answer, Pipeline
from labchat.prompt import build_messages
from labchat.question import Vocabulary, analyse
from labchat.quote import LEAD, MAX_ANSWER_CHARS
from labchat.settings import Settings

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


def _over(tmp_path: Path, pipeline: Pipeline, documents: dict[str, str], name: str,
          generator: Generator | None = None) -> Pipeline:
    """A pipeline over a corpus of a few markdown `documents` (file name -> text) written for one test,
    with the session's embedder."""
    corpus = tmp_path / f"{name}-corpus"
    corpus.mkdir()
    for file, text in documents.items():
        (corpus / file).write_text(text, encoding="utf-8")
    return Pipeline(Settings(corpus_dir=corpus, index_dir=tmp_path / f"{name}-index"), generator=generator,
                    embedder=pipeline.embedder)


def _facts_backed(answer: Answer) -> None:
    """Every number and name on screen is in a passage the answer cites (or in the question)."""
    cited = [answer.passages[n - 1] for n in answer.cited if 1 <= n <= len(answer.passages)]
    shown = _norm(" ".join([answer.question, *(f"{p.section} {p.text}" for p in cited)])).replace(",", "")
    for fact in check.facts(answer.text.replace(LEAD, "")):
        assert _norm(fact).replace(",", "") in shown, f"{fact!r} is in no cited passage: {_shown(answer)}"


@pytest.fixture(scope="module")
def baichuan(pipeline: Pipeline) -> Run:
    return _run(pipeline, BAICHUAN)


def test_the_short_answer_comes_first_then_the_cited_words_that_support_it(baichuan: Run) -> None:
    answer = baichuan.answer
    assert not answer.abstained and answer.extracted
    assert answer.text.startswith("**$691M**"), answer.text
    assert LEAD in answer.text and len(answer.text) <= MAX_ANSWER_CHARS
    cited = answer.cited
    assert cited and all("691" in answer.passages[n - 1].text for n in cited), _shown(answer)
    _facts_backed(answer)


def _evidence(question: str, scored: list[tuple[str, float]]) -> Evidence:
    vocabulary = Vocabulary.of([Chunk("a.md", "Lab", " ".join(text for text, _ in scored))])
    passages = [Passage(n, "a.md", "Lab", text, score) for n, (text, score) in enumerate(scored, 1)]
    return Evidence(analyse(question, vocabulary), passages, 0.9, np.zeros(0))


LONG = "The lab trains its reasoning model with reinforcement learning, " * 6


@pytest.mark.parametrize(("second", "quoted"), [(0.3, True), (0.1, False)])
def test_a_second_passage_nearly_as_likely_is_quoted_after_the_best(second: float, quoted: bool) -> None:
    """When the ranker rates the runner-up at least half as likely to hold the answer, both are quoted, each
    cited; the best stays whole when it leaves room, and the answer stays within MAX_ANSWER_CHARS."""
    evidence = _evidence("How does the model get better at complex tasks?", [
        ("Supports 128K context windows for complex tasks.", 0.4),
        ("Uses reinforcement learning for reasoning enhancement.", second),
        ("Released in March.", 0.05)])
    text = compose(evidence)
    assert "\u201cSupports 128K context windows for complex tasks.\u201d [1]" in text
    assert ("\u201cUses reinforcement learning for reasoning enhancement.\u201d [2]" in text) is quoted
    assert "[3]" not in text
    long = compose(_evidence("How is it trained?", [(LONG, 0.4), (LONG, 0.3)]))
    assert len(long) <= MAX_ANSWER_CHARS and "[1]; \u201c" in long and long.endswith("[2]"), long


def test_answer_reports_timings(baichuan: Run) -> None:
    assert baichuan.updates[-1][1] and baichuan.answer.done
    timings = baichuan.answer.timings
    assert set(timings) >= {"retrieve_s", "first_token_s", "total_s"}
    assert 0 < timings["retrieve_s"] <= timings["first_token_s"] <= timings["total_s"]


OWN = questionsets.read("questions.jsonl") + questionsets.read("chinese.jsonl")
UNANSWERABLE = [q for q in OWN if not q.get("answerable", True)]


@pytest.mark.parametrize("question", [q["question"] for q in UNANSWERABLE],
                         ids=[q["id"] for q in UNANSWERABLE])
def test_unanswerable_question_abstains_and_still_shows_passages(question: str, pipeline: Pipeline) -> None:
    answer = _run(pipeline, question).answer
    assert answer.abstained, f"answered instead of abstaining: {_shown(answer)}"
    assert answer.text and not check.citations(answer.text)
    assert answer.passages, "the closest passages should still be shown"
    assert answer.done and {"retrieve_s", "first_token_s", "total_s"} <= set(answer.timings)


CASUAL = [
    ("What context length does Tencent's Hunyuan-Large support?", "tencnet hunyuan-large context lenght"),
    ("Who founded StepFun?", "who founded stepfn"),
    ("How many parameters does Baichuan4 have?", "how many paramters does baichaun4 have"),
    ("Which university did Zhipu AI spin off from?", "which university did zhipu ai spinoff from"),
]


@pytest.mark.parametrize(("formal", "casual"), CASUAL, ids=[c for _, c in CASUAL])
def test_casual_typing_finds_the_same_passages(formal: str, casual: str, pipeline: Pipeline) -> None:
    """Lower case, no question mark and a misspelt name or word search like the question written out."""
    written = [p.text for p in pipeline.finder.find(pipeline.finder.resolve(formal)).passages]
    typed = [p.text for p in pipeline.finder.find(pipeline.finder.resolve(casual)).passages]
    assert typed[0] == written[0], (typed, written)
    assert len(set(typed) & set(written)) >= len(written) - 1, (typed, written)


ANSWERABLE = [
    *questionsets.answerable("questions.jsonl"),
    *questionsets.answerable("chinese.jsonl"),
]


@pytest.mark.parametrize("item", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_answerable_question_is_answered_from_a_cited_passage(item: dict, pipeline: Pipeline) -> None:
    answer = _run(pipeline, item["question"]).answer
    assert not answer.abstained, f"abstained on an answerable question: {_shown(answer)}"
    if "evidence" in item:
        evidence = _norm(item["evidence"])
        assert any(evidence in _norm(p.text) for p in answer.passages), f"no {evidence!r}: {_shown(answer)}"
    text = _norm(answer.text)
    for group in item["answers"]:
        assert any(_norm(a) in text for a in group), f"none of {group} in: {_shown(answer)}"
    assert len(answer.text) <= MAX_ANSWER_CHARS
    _facts_backed(answer)


def test_the_company_behind_a_product_is_the_one_whose_part_of_the_documents_tells_of_it(
        pipeline: Pipeline) -> None:
    """The passage about the Kimi chatbot names no company: it sits in the part about Moonshot AI."""
    answer = _run(pipeline, "Which company makes the Kimi chatbot?").answer
    assert answer.text.startswith("**Moonshot AI**"), _shown(answer)


def test_who_is_behind_a_product_is_answered_by_the_company_whose_part_tells_of_it(
        pipeline: Pipeline) -> None:
    """"Who is behind ...?" asks for the maker, not a person: a passage that names no one by "by" answers it
    from its part of the documents, rather than being refused as a who-question without a doer."""
    answer = _run(pipeline, "Who is behind the SenseNova foundation models?").answer
    assert not answer.abstained and answer.text.startswith("**SenseTime**"), _shown(answer)


def test_an_amount_is_answered_by_the_sentence_that_holds_one(pipeline: Pipeline) -> None:
    """"How many users?" is answered by the amount, ahead of a better-worded sentence with none ("user
    feedback")."""
    answer = _run(pipeline, "How many users does Xiaohongshu have?").answer
    assert answer.text.startswith("**Hundreds of millions**"), _shown(answer)
    assert "Hundreds of millions users" in answer.passages[answer.cited[0] - 1].text, _shown(answer)


def test_a_question_for_an_amount_no_passage_holds_is_refused(tmp_path: Path, pipeline: Pipeline) -> None:
    """The documents say when the lab was founded and what it builds, but no amount: "how many" is refused
    (a year is no amount), while "when" is answered."""
    zeta = _over(tmp_path, pipeline, {"zeta.md": "# The Zeta lab\n\nThe Zeta lab was founded by Ada Quill in "
                                                 "2031. Its engineers build walking robots.\n"}, "zeta")
    assert "2031" in _run(zeta, "When was the Zeta lab founded?").answer.text
    assert _run(zeta, "How many engineers does the Zeta lab employ?").answer.abstained


def test_a_version_asked_about_is_answered_from_a_passage_naming_it(tmp_path: Path,
                                                                    pipeline: Pipeline) -> None:
    """Two models share a version number: the date is the one of the model asked about, not the one of a
    table row that says "release"; a version no dated passage names is refused, not given another's date."""
    models = _over(tmp_path, pipeline, {
        "beetle.md": "# Beetle\n\nLatest model: Beetle-4.5 (13B, July 2032) with top rankings.\n",
        "roadmap.md": "# Roadmap\n\nBeetle-6 is planned, with no date yet.\n",
        "zeta.md": "# Zeta releases\n\n| Release Date | Model | Parameters |\n|---|---|---|\n"
                   "| Mar 2031 | Zeta 4.5 | 7B |\n| Jan 2030 | Beetle-3 | 3B |\n"}, "models")
    answer = _run(models, "When was Beetle-4.5 released?").answer
    assert answer.text.startswith("**July 2032**"), _shown(answer)
    assert _run(models, "When was Beetle-6 released?").answer.abstained


def test_a_chinese_question_gives_its_names_to_the_follow_up(tmp_path: Path, pipeline: Pipeline) -> None:
    """The corpus pairs 艾克米机器人 with Acme Robotics: after a Chinese question about it, "it" is Acme."""
    acme = _over(tmp_path, pipeline, {"acme.md": (
        "# Acme\n\nThe robots of Acme Robotics (艾克米机器人) walk. "
        "The assistant Beebot was launched by Acme Robotics in May 2031.\n\n"
        "# Zeta\n\nThe Zeta lab launched Zetabot in June 2032.\n")}, "acme")
    first = "艾克米机器人推出的助手叫什么名字\uff1f"
    assert "Acme Robotics" in acme.finder.resolve("When did it launch?", [(first, "From the documents: ...")])


def test_an_instruction_is_answered_by_the_sentence_naming_the_code_that_does_it(tmp_path: Path,
                                                                                pipeline: Pipeline) -> None:
    """Asked how to hide what the user types, the answer is the sentence with hide_input, not the example
    output that talks of the password typed."""
    docs = _over(tmp_path, pipeline, {"password.md": (
        "# Password prompt\n\nYou can ask for a password and hide what the user types.\n\n"
        "// Let's imagine the password typed was \"rocks\". Hello Camila, the user types it.\n\n"
        "You can achieve the same using hide_input=True.\n")}, "howto")
    answer = _run(docs, "how do i hide what the user types when asking for a password").answer
    assert "hide_input" in answer.text, _shown(answer)


def test_a_name_or_command_written_as_code_answers_in_a_manual(tmp_path: Path, pipeline: Pipeline) -> None:
    """A manual marks code with backticks and fences: `slim` is the setting asked for though a plain word,
    and "How do I install it with conda?" is answered by the conda command, not the sentence about pip."""
    docs = _over(tmp_path, pipeline, {
        "lambda.md": "# Deploying to Lambda\n\nThe package metadata can go missing on Lambda.\n\n"
                     "You can fix this issue by setting the `slim` setting to false in your serverless.yml "
                     "file.\n",
        "install.md": "# Install\n\nYou can install Beetle from PyPI: `pip install -U beetle`\n\n"
                      "Beetle is also available on conda under the conda-forge channel:\n\n"
                      "```bash\nconda install beetle -c conda-forge\n```\n"}, "manual")
    answer = _run(docs, "Which setting should I set to false in serverless.yml on Lambda?").answer
    assert answer.text.startswith("**slim**"), _shown(answer)
    answer = _run(docs, "how do i install beetle with conda").answer
    assert "conda install beetle -c conda-forge" in answer.text, _shown(answer)


def test_a_default_is_answered_by_a_passage_that_states_one(tmp_path: Path, pipeline: Pipeline) -> None:
    """An example's "retries=1" is no default: asked for the default number of retries, labchat refuses;
    asked for the default timeout, which the page states, it answers."""
    docs = _over(tmp_path, pipeline, {"transports.md": (
        "# Transports\n\nThe transport can retry a failed connection: `Transport(retries=1)`.\n\n"
        "The default timeout is 5 seconds of network inactivity.\n")}, "defaults")
    assert _run(docs, "How many retries does the transport make by default?").answer.abstained
    answer = _run(docs, "What is the default timeout?").answer
    assert not answer.abstained and "5 seconds" in answer.text, _shown(answer)


def test_a_signature_states_defaults_and_a_sentence_stating_one_is_quoted_first(tmp_path: Path,
                                                                                 pipeline: Pipeline) -> None:
    """A reference page's signature gives its keyword values as defaults; asked what is used by default, the
    sentence that says it goes ahead of a better-matching one that does not; asked why something is done by
    default, a cause is looked for, not a default."""
    docs = _over(tmp_path, pipeline, {"forms.md": (
        "# Forms\n\nRead a multipart upload with `request.form()`, which caps the files and fields it "
        "parses, since an unbounded upload could lead to a denial of service attack.\n\n"
        "Signature: `request.form(max_files=1000, max_fields=1000)`\n\n"
        "# Git\n\nBeetle can use the system git client for git operations instead of a library: set "
        "`system-git-client`.\n\n"
        "Beetle uses dulwich by default for git related tasks.\n")}, "signatures")
    answer = _run(docs, "By default, how many files at most will request.form() accept?").answer
    assert not answer.abstained and "1000" in answer.text, _shown(answer)
    answer = _run(docs, "Which library does Beetle use for git operations by default instead of the system "
                        "git client?").answer
    assert not answer.abstained and "dulwich" in answer.passages[0].text, _shown(answer)
    answer = _run(docs, "Why does request.form() cap the number of fields and files by default?").answer
    assert not answer.abstained and "denial of service" in answer.text, _shown(answer)


def test_a_name_given_an_owner_the_documents_never_pair_it_with_is_refused(tmp_path: Path,
                                                                          pipeline: Pipeline) -> None:
    """Zeta built Beetle-2, Quill did not: "Quill's Beetle-2" ("Beetle-2 from Quill") is a premise the
    documents do not share, so its size is not Beetle-2's; asked of Zeta's, it is."""
    docs = _over(tmp_path, pipeline, {"labs.md": (
        "# Zeta\n\nThe lab Zeta built Beetle-2, a model with 7B parameters.\n\n"
        "# Quill\n\nThe lab Quill builds robots for warehouses. In 2031 Quill raised $5M.\n")}, "owners")
    answer = _run(docs, "What size is Quill's Beetle-2 model?").answer
    assert answer.abstained, _shown(answer)
    answer = _run(docs, "What size is Zeta's Beetle-2 model?").answer
    assert not answer.abstained and "7B" in answer.text, _shown(answer)
    # the owner written after the name owned, too
    answer = _run(docs, "What size is the Beetle-2 model from Quill?").answer
    assert answer.abstained, _shown(answer)
    answer = _run(docs, "What size is the Beetle-2 model from Zeta?").answer
    assert not answer.abstained and "7B" in answer.text, _shown(answer)


def test_an_option_the_manual_never_writes_is_refused(tmp_path: Path, pipeline: Pipeline) -> None:
    """Asked how to use an option or a function the pages never write ("exclude_paths", "Depends()"),
    the answer is a refusal, not the closest option's sentence; asked of one they write, an answer."""
    docs = _over(tmp_path, pipeline, {"middleware.md": (
        "# Middleware\n\n## GZipMiddleware\n\nHandles GZip responses for any request that includes "
        "\"gzip\" in the Accept-Encoding header. The following arguments are supported: `minimum_size` - Do "
        "not GZip responses that are smaller than this minimum size in bytes. `compresslevel` - Used during "
        "GZip compression.\n\n## Endpoints\n\nAn endpoint depends on the request it is given.\n")},
        "options")
    for asked in ("How do I use GZipMiddleware's exclude_paths option to skip compression for some routes?",
                  "How do I inject dependencies with Depends() into an endpoint?"):
        answer = _run(docs, asked).answer
        assert answer.abstained, _shown(answer)
    answer = _run(docs, "What does GZipMiddleware's minimum_size option do?").answer
    assert not answer.abstained and "smaller than" in answer.text, _shown(answer)


def test_a_settings_default_is_the_line_that_labels_it_under_the_settings_heading(
        tmp_path: Path, pipeline: Pipeline) -> None:
    """A settings page gives each setting a heading, then "**Default**: ..." on a line of its own, which
    shares few words with the question; and the product the whole manual is about (Zorp, in most of its
    chunks) need not be named again on that line."""
    workers = ("Set the maximum number of workers while using the parallel installer. If this is set to a "
               "value greater than number_of_cores + 4, the number of workers is still limited at that.")
    listed = [("max-workers", "int", "number_of_cores + 4", workers),
              ("parallel", "boolean", "true", "Use parallel execution when installing."),
              *((f"option-{n}", "string", f"value{n}", f"Option {n} of the installer.") for n in range(30))]
    settings = "".join(
        f"### `installer.{name}`\n\n**Type**: `{kind}`\n\n**Default**: `{default}`\n\n{what} Zorp reads "
        f"this setting from zorp.toml, and Zorp's environment variable for it is ZORP_{name.upper()}. Zorp "
        "checks it when a project's dependencies are installed, so that Zorp installs them as asked.\n\n"
        for name, kind, default, what in listed)
    docs = _over(tmp_path, pipeline, {"configuration.md": f"# Configuration\n\n## Settings\n\n{settings}"},
                 "settings")
    answer = _run(docs, "What is the default maximum number of workers for Zorp's parallel installer?").answer
    assert not answer.abstained and "number_of_cores + 4" in answer.text, _shown(answer)
    # the setting named as the heading writes it, though the line under it does not
    answer = _run(docs, "What is the default of installer.max-workers?").answer
    assert not answer.abstained and "number_of_cores + 4" in answer.text, _shown(answer)
    # a term of the sum is not the amount to give first
    answer = _run(docs, "How many workers does Zorp's installer use by default?").answer
    assert not answer.text.startswith("**4**"), _shown(answer)


def test_how_many_is_answered_by_the_amount_of_what_is_asked(tmp_path: Path, pipeline: Pipeline) -> None:
    """"How many entities?" is answered by "150M entities", not by the "17-fold improvement" of a sentence
    that matches more of the question's words."""
    docs = _over(tmp_path, pipeline, {"beetle.md": (
        "# Beetle-2\n\nThe knowledge graph Beetle-2 uses, with its entities, brought a 17-fold improvement "
        "in inference throughput.\n\nIts graph holds 150M entities.\n")}, "counted")
    answer = _run(docs, "How many entities are in the knowledge graph Beetle-2 uses?").answer
    assert answer.text.startswith("**150M**"), _shown(answer)


def test_a_table_row_answers_from_the_column_asked(tmp_path: Path, pipeline: Pipeline) -> None:
    """A row whose "Parameters" cell is empty or "Various" does not give a size from its other cells
    ("11+ models total" for how many parameters); a row that fills it does."""
    docs = _over(tmp_path, pipeline, {"zeta.md": (
        "# Zeta models\n\n| Release Date | Model | Parameters | Key Features |\n|---|---|---|---|\n"
        "| 2030 | Zeta-Audio | - | Speech synthesis |\n| TBD | 11+ models total | Various | Various |\n"
        "| 2031 | Zeta-2 | 100B | Chat |\n")}, "cells")
    answer = _run(docs, "How many parameters does Zeta-Audio have?").answer
    assert answer.abstained, _shown(answer)
    answer = _run(docs, "How many parameters does Zeta-2 have?").answer
    assert answer.text.startswith("**100B**"), _shown(answer)


def test_a_name_the_answer_need_not_repeat_is_context_unless_a_fact_is_asked_of_it(
        tmp_path: Path, pipeline: Pipeline) -> None:
    """A manual's option is the answer for "Markdown docs" though its line never says Markdown (the name is
    context); a year or a person asked of a name whose passages say none of it is still refused."""
    docs = _over(tmp_path, pipeline, {
        "options.md": "# Options\n\n`--output <file>`: An output file to write the docs to.\n\n"
                      "`--title <title>`: The title for the page.\n",
        "formats.md": "# Formats\n\nThe docs are written in Markdown by default. Pages in Markdown render "
                      "on the site.\n",
        "labs.md": "# Zeta\n\nThe Zeta lab was founded in 2031 by Ada Quill.\n\n# Partners\n\nZeta works "
                   "with Orbit on robots.\n"}, "context")
    answer = _run(docs, "Which option sets the file to write Markdown docs to?").answer
    assert answer.text.startswith("**--output**"), _shown(answer)
    for asked in ("In what year was Orbit founded?", "Who founded Orbit?"):
        answer = _run(docs, asked).answer
        assert answer.abstained, _shown(answer)
    assert _run(docs, "When was Zeta founded?").answer.text.startswith("**2031**")


def test_an_amount_of_another_named_kind_is_no_answer(tmp_path: Path, pipeline: Pipeline) -> None:
    """The lab's valuation is stated, its headcount and revenue are not: asked for those, the valuation is
    no answer; asked what it is worth, it is."""
    zeta = _over(tmp_path, pipeline, {"zeta.md": "# The Zeta lab\n\nThe Zeta lab was founded by Ada Quill. "
                                                 "It reached a $2B valuation within 8 months.\n"}, "worth")
    assert _run(zeta, "How many employees does the Zeta lab have?").answer.abstained
    assert _run(zeta, "How much revenue did the Zeta lab make?").answer.abstained
    assert _run(zeta, "How much is the Zeta lab worth?").answer.text.startswith("**$2B**")
    # a price is an amount of money, and nothing is known of today
    assert _run(zeta, "How much does a Zeta lab subscription cost per month?").answer.abstained
    assert _run(zeta, "How much is the Zeta lab worth today?").answer.abstained


def test_who_is_answered_by_a_passage_saying_the_role_asked(tmp_path: Path, pipeline: Pipeline) -> None:
    """The founder and the chief scientist are named, the finance chief is not: a name in a passage about
    the lab is no answer to who holds a role the passage does not mention."""
    zeta = _over(tmp_path, pipeline, {"zeta.md": "# The Zeta lab\n\nThe Zeta lab was founded by Ada Quill in "
                                                 "2031. Its chief scientist is Omar Finch. Its finances are "
                                                 "private.\n"}, "zeta")
    assert _run(zeta, "Who founded Zeta?").answer.text.startswith("**Ada Quill**")
    assert _run(zeta, "Who is the finance chief at Zeta?").answer.abstained  # "chief" alone is not it
    assert _run(zeta, "Who is the chief scientist at Zeta?").answer.text.startswith("**Omar Finch**")
    # asked who did something, the one it was done by is the answer in other words too
    assert _run(zeta, "Who started Zeta?").answer.text.startswith("**Ada Quill**")
    # and asked for the role by its noun, "founded by" says it
    assert _run(zeta, "Who were the founders of the Zeta lab?").answer.text.startswith("**Ada Quill**")


def test_who_is_answered_by_the_passage_naming_who_did_it(tmp_path: Path, pipeline: Pipeline) -> None:
    """A passage that says the lab was founded as a spinoff of a university names no founder; the one that
    says whom it was founded by does, and the founder is the person, not the university qualifying them."""
    zeta = _over(tmp_path, pipeline, {"zeta.md": (
        "# The Zeta lab\n\nThe Zeta lab was founded in 2031 as a spinoff from Quill University, and builds "
        "robots.\n\nKey facts: Founded by Quill professors Ada Lovell and Omar Finch.\n")}, "doers")
    answer = _run(zeta, "Who founded the Zeta lab?").answer
    assert answer.text.startswith("**Ada Lovell and Omar Finch**"), _shown(answer)
    # another lab's founder is named after "by" too ("01.AI was founded ... by Kai-Fu Lee"), but is no doer
    # of this one: the passage about the lab asked of stays first, and is not refused for another's name
    answer = _run(pipeline, "Who founded Zhipu AI?").answer
    assert not answer.abstained and "Kai-Fu Lee" not in answer.text and "Zhipu" in answer.text, _shown(answer)


def test_a_question_for_a_place_is_answered_by_a_place_or_refused(tmp_path: Path, pipeline: Pipeline) -> None:
    """"Where is it headquartered?" is answered by where the documents put the lab, and refused for a lab
    whose documents name its founder but no place: a founder's name is no place."""
    labs = _over(tmp_path, pipeline, {
        "zeta.md": "# The Zeta lab\n\nThe Zeta lab was founded by Ada Quill in March 2031. "
                   "Its engineers build walking robots.\n",
        "beetle.md": "# The Beetle lab\n\nThe Beetle lab was founded by Omar Finch. "
                     "Headquartered in Reykjavik, Iceland, it builds flying robots.\n"}, "labs")
    answer = _run(labs, "Where is the Beetle lab headquartered?").answer
    assert answer.text.startswith("**Reykjavik, Iceland**"), _shown(answer)
    assert _run(labs, "Where is the Zeta lab based?").answer.abstained


def test_a_question_for_a_name_in_code_is_answered_with_one_or_refused(tmp_path: Path,
                                                                        pipeline: Pipeline) -> None:
    """Documentation names options and classes in its prose: asked which option, the answer leads with it,
    not with the sentence about the feature ranked above it; asked for a class the pages never name, the
    answer is a refusal, not a sentence about testing."""
    docs = _over(tmp_path, pipeline, {
        "docs.md": "# Generating Markdown docs\n\nYou can also use the typer command to generate Markdown "
                   "documentation for your application.\n\n"
                   "* `--output <file>`: An output file to write docs to, like README.md.\n"
                   "* `--name <name>`: The name of the program.\n",
        "testing.md": "# Testing\n\nTesting your application is very easy with pytest. Put the tests in a "
                      "file whose name starts with test.\n"}, "docs")
    answer = _run(docs, "When generating Markdown docs, which option sets the file to write them to?").answer
    assert answer.text.startswith("**--output**"), _shown(answer)
    assert _run(docs, "Which class do I import to run my application in a test?").answer.abstained


@pytest.mark.parametrize(("question", "mark", "not_mark"), [
    ("What weaknesses do the well-funded startups have?", "\u274c", "\u2705"),
    ("What strengths do the tech giants have?", "\u2705", "\u274c")])
def test_a_pro_or_a_con_answers_a_question_for_strengths_or_weaknesses(
        question: str, mark: str, not_mark: str, pipeline: Pipeline) -> None:
    """The documents list pros and cons as ✅ and ❌ items, never writing "strength" or "weakness"."""
    answer = _run(pipeline, question).answer
    assert not answer.abstained, _shown(answer)
    cited = [answer.passages[n - 1].text for n in answer.cited]
    # asked in the plural, the answer gathers the items of that kind, each cited, and none of the other
    assert len(cited) >= 2 and all(mark in text for text in cited), _shown(answer)
    assert not_mark not in answer.text, _shown(answer)


def test_a_list_answer_gathers_the_items_each_cited(pipeline: Pipeline) -> None:
    """The four assets are four lines under one sentence: each is quoted and cited from its own passage."""
    answer = _run(pipeline, "List the unique assets Tencent possessed for LLM development").answer
    items = ["hundreds of millions of active users", "WeChat's social data", "3D modeling", "Tencent Cloud"]
    assert all(item in answer.text for item in items), _shown(answer)
    assert len(answer.text) <= 400 and len(answer.cited) == 4, _shown(answer)
    for n in answer.cited:  # each citation points at the passage holding what it supports
        assert sum(item in answer.passages[n - 1].text for item in items) == 1, _shown(answer)


@pytest.mark.parametrize("question", ["Which was released first, SenseNova 5.0 or ERNIE 4.0 Turbo?",
                                      "Between SenseNova 5.0 and ERNIE 4.0 Turbo, which came out first?"])
def test_a_comparison_names_the_winner_and_cites_both_sides(question: str, pipeline: Pipeline) -> None:
    answer = _run(pipeline, question).answer
    assert answer.text.startswith("**SenseNova 5.0**"), _shown(answer)
    cited = [answer.passages[n - 1].text for n in answer.cited]
    assert any("May 2024" in t and "SenseNova 5.0" in t for t in cited), _shown(answer)
    assert any("Jun 2024" in t and "ERNIE 4.0 Turbo" in t for t in cited), _shown(answer)


def test_a_comparison_of_plain_defaults_or_of_options_named_first(tmp_path: Path, pipeline: Pipeline) -> None:
    """A setting's default is a plain number; "X or Y: which ...?" puts the options first; one passage that
    names both sides goes to the side its section is about."""
    limits = _over(tmp_path, pipeline, {"limits.md": (
        "# Limits\n\n## Connection limits\n\n`max_hops`, the most hops a request may take. (Default 30)\n\n"
        "`max_idle`, the most idle sockets a pool keeps. (Default 8)\n\n"
        "## Token authentication\n\nUnlike password authentication, which sends the password with every "
        "request, it needs an extra round-trip to fetch a token first.\n")}, "limits")
    bigger = _run(limits, "Which limit has the bigger default, max_hops or max_idle?").answer
    assert bigger.text.startswith("**max_hops**"), _shown(bigger)
    costly = _run(limits, "Password or token: which scheme needs an extra round-trip?").answer
    assert costly.text.startswith("**token**"), _shown(costly)


def test_a_comparison_of_amounts_of_different_kinds_names_no_winner(tmp_path: Path,
                                                                    pipeline: Pipeline) -> None:
    """Asked which is bigger, one model's 34B parameters and the other's 32K context are not weighed."""
    notes = ("# Models\n\n## Beetle-2\n\nBeetle-2 has 34B parameters and walks.\n\n"
             "## Zeta-7\n\nZeta-7 variants: 8K and 32K context lengths.\n")
    models = _over(tmp_path, pipeline, {"models.md": notes}, "models")
    answer = _run(models, "Is Beetle-2 bigger than Zeta-7?").answer
    assert not answer.text.startswith(("**Yes", "**No")), _shown(answer)
    # given a passage of the same kind for that side, the two amounts of one kind are weighed
    sized = notes + "\n## Zeta-7 size\n\nZeta-7 is a dense 130B parameter model.\n"
    models = _over(tmp_path, pipeline, {"models.md": sized}, "sized")
    answer = _run(models, "Is Beetle-2 bigger than Zeta-7?").answer
    assert answer.text.startswith("**No: Zeta-7**"), _shown(answer)
    assert "130B" in " ".join(answer.passages[n - 1].text for n in answer.cited), _shown(answer)


@pytest.mark.parametrize(("question", "lead"), [
    ("Was SenseNova 5.0 released before ERNIE 4.0 Turbo?", "**Yes: SenseNova 5.0**"),
    ("Did ERNIE 4.0 Turbo come out earlier than SenseNova 5.0?", "**No: SenseNova 5.0**")])
def test_a_comparison_asked_as_yes_or_no_says_which(question: str, lead: str, pipeline: Pipeline) -> None:
    answer = _run(pipeline, question).answer
    assert answer.text.startswith(lead), _shown(answer)
    cited = " ".join(answer.passages[n - 1].text for n in answer.cited)
    assert "May 2024" in cited and "Jun 2024" in cited, _shown(answer)


def test_follow_up_question_searches_with_the_conversation(pipeline: Pipeline) -> None:
    history = [(BAICHUAN, "Baichuan raised $691M in its Series B round [1].")]
    answer = _run(pipeline, "And who founded it?", history).answer
    assert "Wang Xiaochuan" in answer.text, _shown(answer)


# --- generation: nothing unchecked reaches the answer --------------------------------------------------


class ScriptedGenerator:
    """Stands in for a model with a fixed reply, streamed in small pieces; records the prompts it gets."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.sent: list[list[dict[str, str]]] = []

    def stream(self, messages: list[dict[str, str]], one_line: bool = True) -> Iterator[str]:
        self.sent.append(messages)
        yield from re.findall(r"\S+\s*", self.reply)


def test_pipeline_sends_the_model_the_passages_it_shows(
        pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = ScriptedGenerator("Baichuan raised $691M in its Series B round [1].")
    monkeypatch.setattr(pipeline, "generator", fake)
    answer = _run(pipeline, BAICHUAN).answer
    assert fake.sent == [build_messages(BAICHUAN, answer.passages, pipeline.profile.topic)]
    assert [p.n for p in answer.passages] == list(range(1, len(answer.passages) + 1))
    assert not answer.extracted and "691" in answer.text


def test_an_invented_sentence_is_never_shown_not_even_while_streaming(
        pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "generator", ScriptedGenerator(
        "Baichuan raised $691M in its Series B round [1]. It was later valued at $9.9B by Zorblax [1]."))
    run = _run(pipeline, BAICHUAN)
    assert all("9.9" not in text and "Zorblax" not in text for text, _ in run.updates), run.updates
    assert "691" in run.answer.text


def test_a_model_that_says_nothing_checkable_gets_the_quoted_answer(
        pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "generator", ScriptedGenerator("\n"))
    run = _run(pipeline, BAICHUAN)
    assert all(text.strip() for text, _ in run.updates), run.updates
    assert run.answer.extracted and "691" in run.answer.text


@pytest.fixture
def zeta(tmp_path: Path, pipeline: Pipeline, local_model: Generator) -> Pipeline:
    """A corpus of one document about a lab nobody has heard of: the model can only invent."""
    return _over(tmp_path, pipeline, {"zeta.md": "# The Zeta lab\n\nThe Zeta lab was founded by Ada Quill in "
                                                 "2031.\n"}, "zeta", local_model)


def test_the_real_model_never_puts_an_unchecked_fact_on_screen(zeta: Pipeline) -> None:
    run = _run(zeta, "Who founded the Zeta lab?")
    for text, _ in run.updates:
        assert "2017" not in text and "Chinese" not in text, run.updates
    assert "Ada Quill" in run.answer.text, _shown(run.answer)
    _facts_backed(run.answer)


@pytest.mark.parametrize("question", [BAICHUAN, "Who founded 01.AI?", "When was DeepSeek founded?"])
def test_real_model_answers_are_checked_sentence_by_sentence(
        question: str, pipeline: Pipeline, local_model: Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "generator", local_model)
    run = _run(pipeline, question)
    previous = ""
    for text, _ in run.updates:
        assert text.startswith(previous), f"shown text was taken back: {run.updates}"
        previous = text
    _facts_backed(run.answer)


def test_a_line_that_is_mostly_a_link_is_marked_as_pointing_elsewhere(pipeline: Pipeline) -> None:
    """A table of contents entry ("5. [Moonshot AI (Kimi)](#moonshot-ai-kimi)") says where something is
    said, not what: the ranker sees how much of a candidate is a link's label."""
    question, hits = pipeline.finder.search("What is Kimi?")
    pairs, rows = pipeline.finder.picker.candidates(question, hits)
    links = {text: row[SENTENCE_FEATURES.index("links")] for (_, text), row in zip(pairs, rows, strict=True)}
    toc = next(text for text in links if text.endswith("(#moonshot-ai-kimi)"))
    assert links[toc] > 0.8
    assert all(value == 0 for text, value in links.items() if "](" not in text)




def test_the_sentence_beside_the_best_is_quoted_with_it(tmp_path: Path, pipeline: Pipeline) -> None:
    """The sentence that matches the question best often says what happens, and the one before it how: both
    are quoted, each cited, when both fit whole."""
    page = ("# How to constrain the version of Zorp\n\nYou can specify constraints on the runtime version "
            "of Zorp by providing a value for `tool.zorp.requires-zorp`.\nIf the version of Zorp does not "
            "satisfy the given constraints, and Zorp is called with a command that reads the project's "
            "metadata, it will exit with an error.\n\n## Plugins\n\nPlugins are loaded when Zorp starts.\n")
    docs = _over(tmp_path, pipeline, {"constrain.md": page}, "beside")
    asked = "How can my project make Zorp exit with an error when someone runs a too-old Zorp?"
    answer = _run(docs, asked).answer
    assert not answer.abstained and "requires-zorp" in answer.text, _shown(answer)
    assert any("requires-zorp" in answer.passages[n - 1].text for n in answer.cited), _shown(answer)

def test_a_sentence_naming_the_aside_beside_another_way_is_not_marked_as_the_aside(tmp_path: Path,
                                                                                pipeline: Pipeline) -> None:
    """"Besides the --config option, how ...?" already knows the option: a sentence about it alone is marked
    for the ranker, but not one that names it with another way after it ("... or by setting ZORP_CONFIG"),
    which is the answer."""
    docs = _over(tmp_path, pipeline, {"config.md": (
        "# Configuration\n\nZorp reads zorp.toml from the user's config folder.\n\n"
        "You can point Zorp at another file with the `--config` root option or by setting the `ZORP_CONFIG` "
        "environment variable.\n\nThe `--config` root option takes the path of a file.\n")}, "aside")
    asked = "Besides the --config root option, how can I point Zorp at a zorp.toml stored somewhere else?"
    question, hits = docs.finder.search(asked)
    pairs, rows = docs.finder.picker.candidates(question, hits)
    aside = {text: row[SENTENCE_FEATURES.index("aside")] for (_, text), row in zip(pairs, rows, strict=True)}
    assert aside["The --config root option takes the path of a file."] > 0
    assert aside[next(text for text in aside if "ZORP_CONFIG" in text)] == 0


def test_a_question_for_several_things_is_answered_by_the_sentence_that_names_them(tmp_path: Path,
                                                                                  pipeline: Pipeline) -> None:
    """"Which keys can pin it?" asks for several: the sentence that names them in a row ("one of `rev`,
    `tag`, or `branch`") answers, ahead of one that shares more of the question's words and names none."""
    fence = "`" * 3
    docs = _over(tmp_path, pipeline, {"sources.md": (
        "# Sources\n\nThe `sources` table of an environment redirects dependencies to other origins.\n\n"
        "A Git source in tool.zorp.sources can point at a particular repository by its address.\n\n"
        f"Pull from a Git repository:\n\n{fence}toml\n[tool.zorp.sources]\nfoo = {{ git = "
        f'"https://example.com/foo" }}\n{fence}\n\nPin to a specific revision with one of `rev`, `tag`, or '
        f"`branch` (mutually exclusive):\n\n{fence}toml\n[tool.zorp.sources]\nfoo = {{ git = "
        f'"https://example.com/foo", rev = "abc1234" }}\n{fence}\n')}, "series")
    asked = "Which keys can pin a Git source in tool.zorp.sources to a particular revision?"
    question, hits = docs.finder.search(asked)
    pairs, rows = docs.finder.picker.candidates(question, hits)
    column = SENTENCE_FEATURES.index("series")
    series = {text: row[column] for (_, text), row in zip(pairs, rows, strict=True)}
    named = [text for text, value in series.items() if value]
    assert named and all("rev, tag, or branch" in text for text in named), series
    answer = _run(docs, asked).answer
    assert not answer.abstained and "rev, tag, or branch" in answer.text, _shown(answer)


def test_a_why_question_is_answered_by_the_sentence_that_states_a_cause(tmp_path: Path,
                                                                        pipeline: Pipeline) -> None:
    """The sentence restating what is asked about ranks higher; the answer is the one giving the cause."""
    redirects = _over(tmp_path, pipeline, {"redirects.md": (
        "# Beetle and redirects\n\nUnlike Zeta, Beetle does not follow redirects by default.\n\n"
        "We differ in behaviour here because auto-redirects can hide needless network calls.\n\n"
        "You can still follow redirects automatically, but you must ask for it.\n")}, "redirects")
    answer = _run(redirects, "Why doesn't Beetle follow redirects automatically like Zeta does?").answer
    assert "because auto-redirects can hide needless network calls" in answer.text, _shown(answer)


def test_a_why_question_is_answered_with_the_sentence_after_what_does_not_work(tmp_path: Path,
                                                                             pipeline: Pipeline) -> None:
    """A manual says what does not work, then why, with no "because": the answer quotes both."""
    beetle = _over(tmp_path, pipeline, {"package.md": (
        "# Building a package\n\nHave in mind that TAB completion won't work when using `python -m`.\n\n"
        "Completion depends on the name of the program called.\n\n"
        "So, to have completion you would have to call the program directly.\n")}, "package")
    answer = _run(beetle, "Why doesn't TAB completion work with python -m?").answer
    assert "depends on the name of the program" in answer.text, _shown(answer)


def test_a_name_asked_alone_finds_it_with_its_number_run_on(pipeline: Pipeline) -> None:
    """"Which Qwen model ...?" is about the line that writes "Qwen3" (a family's name with its generation):
    the ranker sees the name asked in it, and the answer names it."""
    asked = "Which Qwen model sits in the frontier tier?"
    question, hits = pipeline.finder.search(asked)
    pairs, rows = pipeline.finder.picker.candidates(question, hits)
    about = {text: row[SENTENCE_FEATURES.index("subject_sentence")] for (_, text), row in zip(pairs, rows,
                                                                                               strict=True)}
    assert any(value == 1.0 for text, value in about.items() if "Qwen3" in text), about
    answer = _run(pipeline, asked).answer
    assert not answer.abstained and "Qwen3" in answer.text, _shown(answer)
