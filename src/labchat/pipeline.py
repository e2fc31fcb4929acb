"""One question in, one checked and cited answer out: the path the CLI, the web chat and `eval` all share.

resolve a follow-up over the conversation -> find the evidence (`find.Finder`) -> abstain unless the
fitted model says the documents answer it -> answer: the short answer and the words of the best passage
(`extract`), or, with a generator, the model's sentences, each shown only after `check.verified` found its
facts in the passages it cites.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from labchat import check
from labchat.errors import LabchatError
from labchat.evidence import Passage
from labchat.extract import comparison, extract_parts, merge
from labchat.find import Finder
from labchat.prompt import ABSTAIN, build_messages
from labchat.quote import MAX_ANSWER_CHARS
from labchat.settings import Settings

if TYPE_CHECKING:
    from labchat.embed import Embedder
    from labchat.generate import Generator
    from labchat.profile import CorpusProfile
    from labchat.remote import RemoteGenerator

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
"""Longer questions are cut: the model's prompt must leave room for the passages."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
"""Control and direction-override characters: invisible, and a way to hide text from the reader."""

_REPEATS = re.compile(r"\b(\w+)(?:\s+\1\b){2,}", re.IGNORECASE)
"""A word typed three times or more in a row ("blah blah blah"): searched once, not weighed as many."""


@dataclass
class Answer:
    """Filled in as the answer streams; `done` is set on the last update."""

    question: str
    passages: list[Passage]
    abstained: bool = False
    text: str = ""
    notice: str = ""
    """Something the user should know about their question, such as that it was cut."""
    extracted: bool = False
    """The answer quotes the passages (no model wrote it)."""
    done: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def cited(self) -> list[int]:
        return check.citations(self.text)

    def to_dict(self) -> dict:
        """The `ask --json` shape: `sources` are exactly the passages the answer was drawn from."""
        return {"question": self.question, "answer": self.text, "abstained": self.abstained,
                # why a passage was kept (`beside`) is the picker's business, not the reader's
                "sources": [{k: v for k, v in asdict(p).items() if k != "beside"} for p in self.passages],
                "timings": {k: round(self.timings.get(k, 0.0), 3)
                            for k in ("retrieve_s", "first_token_s", "total_s")}}


def make_generator(settings: Settings, notify: Callable[[str], None]) -> Generator | RemoteGenerator | None:
    """The inference server named by `backend_url`, the local model when `generate` is set, or None."""
    if settings.backend_url:
        from labchat.remote import RemoteGenerator

        return RemoteGenerator(settings.backend_url, settings.model, max_new_tokens=settings.max_new_tokens)
    if settings.generate:
        from labchat.generate import Generator

        return Generator(settings, notify)
    return None


class Pipeline:
    """Loads the index (and a generator, if any) once; `ask` is then cheap and safe to call from threads.

    `finder` may be replaced while questions are answered (`live` puts a rebuilt index in service that
    way): `ask` reads it once, so an answer in flight finishes on the index it started with.
    """

    def __init__(self, settings: Settings, notify: Callable[[str], None] = log.info,
                 generator: Generator | RemoteGenerator | None = None,
                 embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.finder = Finder(settings, notify, embedder=embedder)
        self.embedder = self.finder.embedder
        self.generator = generator or make_generator(settings, notify)

    @property
    def profile(self) -> CorpusProfile:
        """What the corpus is about, as the index in service read it."""
        return self.finder.profile

    def ask(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Iterator[Answer]:
        """Yield the same `Answer` as it fills in; the last one has `done` set."""
        question = " ".join(_CONTROL.sub(" ", question).split())
        if not question:
            raise LabchatError("the question is empty: type a question about the documents")
        start = time.perf_counter()
        answer = Answer(question=question[:MAX_QUESTION_CHARS], passages=[])
        if len(question) > MAX_QUESTION_CHARS:
            answer.notice = f"Your question was cut to its first {MAX_QUESTION_CHARS} characters."
        asked = _REPEATS.sub(r"\1", answer.question)
        finder = self.finder  # once: the whole answer comes from one index, even if another is swapped in
        query = finder.resolve(asked, history)
        found = finder.find_parts(query, finder.untranslated(answer.question))
        limit = self.settings.max_passages
        answer.passages = merge([e.passages for e in found], limit) if len(found) > 1 else found[0].passages
        answer.timings["retrieve_s"] = time.perf_counter() - start
        threshold = finder.picker.models.threshold
        compared = comparison(found, finder.find)
        if compared:
            (answer.text, answer.passages), answer.extracted = compared, True
        elif any(not e.passages or e.answerable < threshold for e in found):  # a needed fact is missing
            answer.abstained, answer.text = True, ABSTAIN
        elif self.generator is not None:
            for _ in self._generate(answer, query, finder.profile.topic):
                answer.timings.setdefault("first_token_s", time.perf_counter() - start)
                yield answer
        if not answer.text:
            answer.text, answer.passages = extract_parts(found, limit)
            answer.extracted = True
        answer.timings.setdefault("first_token_s", time.perf_counter() - start)
        answer.timings["total_s"] = time.perf_counter() - start
        answer.done = True
        yield answer

    def _generate(self, answer: Answer, question: str, topic: str) -> Iterator[None]:
        """Stream the model's sentences, each once it is verified; a sentence that fails ends the answer.

        Nothing unverified reaches `answer.text`: a sentence is held until it is complete and checked.
        """
        draft = ""
        kept = 0
        messages = build_messages(question, answer.passages, topic)
        for piece in self.generator.stream(messages):
            draft += piece
            sentences, _ = check.split_sentences(draft)
            for sentence in sentences[kept:]:
                if not self._keep(answer, sentence, question):
                    return
                kept += 1
                yield
        sentences, rest = check.split_sentences(draft)
        if rest.strip() and self._keep(answer, rest, question):
            yield

    def _keep(self, answer: Answer, sentence: str, question: str) -> bool:
        """Append the sentence if it passes the check (the first must also answer the question)."""
        text = check.verified(sentence, answer.passages, question)
        first = not answer.text
        if text is None or (first and (not check.answers_question(text, question)
                                       or check.vaguer_date(text, answer.passages[0]))):
            return False
        joined = f"{answer.text} {text}".strip()
        if len(joined) > MAX_ANSWER_CHARS:
            return False
        answer.text = joined
        return True
