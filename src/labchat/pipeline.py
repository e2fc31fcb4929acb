"""One question in, one checked and cited answer out: the path the CLI, the web chat and `eval` all share.

retrieve chunks -> pick evidence sentences -> abstain if none is relevant -> stream the model's answer
-> check its facts and citations -> repair it with the best sentence, quoted, if it invented anything.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from labchat import check
from labchat.embed import Embedder
from labchat.errors import LabchatError
from labchat.evidence import EvidencePicker, Passage
from labchat.generate import Generator
from labchat.index import build_index, load_index, staleness
from labchat.prompt import ABSTAIN, build_messages
from labchat.retrieve import Retriever
from labchat.settings import Settings
from labchat.translate import find_aliases, to_english

if TYPE_CHECKING:
    from labchat.remote import RemoteGenerator

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 400
"""An answer is one or two lines; the passages beside it hold the rest."""
MAX_QUESTION_CHARS = 1000
"""Longer questions are cut: the model's prompt must leave room for the passages."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
"""Control and direction-override characters: invisible, and a way to hide text from the reader."""
_LIST_MARKER = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,2}[.)])\s+")
"""A bullet or item number opening a passage: markup, not words of the quote. Stripped only here, not in
`evidence.sentences`: there it raises the scores (u11 in tests/data/questions.jsonl, "How many employees
does Apple have?", went from 0.955 to 0.976, past `min_relevance`, and was answered instead of refused)."""
_FOLLOW_UP = re.compile(r"\b(it|its|they|them|their|he|she|his|her|this|that|these|those|there)\b|[它他她其]",
                        re.IGNORECASE)


@dataclass
class Answer:
    """Filled in as the answer streams; `done` is set on the last update."""

    question: str
    passages: list[Passage]
    abstained: bool = False
    text: str = ""
    notice: str = ""
    """Something the user should know about their question, such as that it was cut."""
    repaired: bool = False
    done: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def cited(self) -> list[int]:
        return check.citations(self.text)

    def to_dict(self) -> dict:
        """The `ask --json` shape: `sources` are exactly the passages the model was given."""
        return {"question": self.question, "answer": self.text, "abstained": self.abstained,
                "sources": [asdict(p) for p in self.passages],
                "timings": {k: round(self.timings.get(k, 0.0), 3)
                            for k in ("retrieve_s", "first_token_s", "total_s")}}


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary: an answer is a line, not the passage."""
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + "\u2026"


def search_query(question: str, history: Sequence[tuple[str, str]]) -> str:
    """A follow-up ("And who founded it?") is searched with the names the question before it asked about.

    Only the names carry over: the rest of the earlier question (its "raise", "round") would pull the
    search back to what was already answered.
    """
    if history and _FOLLOW_UP.search(question):
        names = sorted(n for n in check.facts(history[-1][0]) if not n[0].isdigit())
        return f"{question} {' '.join(names)}"
    return question


def make_generator(settings: Settings, notify: Callable[[str], None]) -> Generator | RemoteGenerator:
    """The local model, or the inference server named by `backend_url` (then `model` is its model name)."""
    if settings.backend_url:
        from labchat.remote import RemoteGenerator

        return RemoteGenerator(settings.backend_url, settings.model, max_new_tokens=settings.max_new_tokens)
    return Generator(settings, notify)


class Pipeline:
    """Loads the embedder, index and model once; `ask` is then cheap and safe to call from many threads."""

    def __init__(self, settings: Settings, notify: Callable[[str], None] = log.info,
                 generator: Generator | RemoteGenerator | None = None) -> None:
        self.settings = settings
        self.embedder = Embedder(settings, notify)
        reason = staleness(settings)
        if reason:
            notify(f"{reason}: updating the index first")
            build_index(settings, self.embedder)
        index = load_index(settings, self.embedder.dim)
        self.retriever = Retriever(index, self.embedder)
        self.picker = EvidencePicker(index.chunks, self.embedder)
        self.aliases = find_aliases(c.text for c in index.chunks)
        self.generator = generator or make_generator(settings, notify)

    def passages(self, query: str) -> list[Passage]:
        hits = self.retriever.search(query, self.settings.top_chunks)
        return self.picker.pick(query, hits, self.settings.max_passages, self.settings.context_chars)

    def relevant(self, passages: Sequence[Passage]) -> bool:
        """Whether the best passage holds enough of the question's rare words and meaning to answer it.

        A word the corpus never uses (population, weather, stock) weighs most, so a question about it
        scores low however close the rest of it is.
        """
        return bool(passages) and passages[0].score >= self.settings.min_relevance

    def ask(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Iterator[Answer]:
        """Yield the same `Answer` as it fills in; the last one has `done` set."""
        question = " ".join(_CONTROL.sub(" ", question).split())
        if not question:
            raise LabchatError("the question is empty: type a question about China's AI labs")
        start = time.perf_counter()
        answer = Answer(question=question[:MAX_QUESTION_CHARS], passages=[])
        if len(question) > MAX_QUESTION_CHARS:
            answer.notice = f"Your question was cut to its first {MAX_QUESTION_CHARS} characters."
        english = to_english(answer.question, self.aliases)
        query = search_query(english, history)
        answer.passages = self.passages(query)
        answer.timings["retrieve_s"] = time.perf_counter() - start
        if not self.relevant(answer.passages):
            answer.abstained, answer.text = True, ABSTAIN
        else:
            for piece in self.generator.stream(build_messages(english, answer.passages)):
                answer.text += piece
                if answer.text.strip():  # a line break alone (the model's answer at times) shows nothing
                    answer.timings.setdefault("first_token_s", time.perf_counter() - start)
                    yield answer
            self._finish(answer, english, query)
        answer.timings.setdefault("first_token_s", time.perf_counter() - start)
        answer.timings["total_s"] = time.perf_counter() - start
        answer.done = True
        yield answer

    def _finish(self, answer: Answer, question: str, query: str) -> None:
        """Replace an answer that invents facts, or says nothing, by the best passage, quoted and cited."""
        text = check.tidy(answer.text)
        best = answer.passages[0]
        if (not check.answers_question(text, question) or check.echoes_heading(text, answer.passages)
                or check.unsupported(text, [best], query) or check.vaguer_date(text, best)):
            quote = _LIST_MARKER.sub("", best.text)
            text = f"\u201c{_clip(quote, MAX_ANSWER_CHARS - 10)}\u201d [{best.n}]"
            answer.repaired = True
        answer.text = check.cite(text, answer.passages)
