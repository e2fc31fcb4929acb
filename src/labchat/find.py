"""Question in, evidence out: the index, the retriever and the fitted evidence picker, loaded once.

The answering pipeline and `scripts/fit.py` share this, so the model is fitted on exactly the features
that answering computes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from labchat.conversation import contextualize
from labchat.embed import Embedder
from labchat.evidence import Evidence, EvidencePicker
from labchat.fitted import FittedModels
from labchat.index import Index, build_index, load_index, staleness
from labchat.lexicon import Lexicon
from labchat.profile import load_profile
from labchat.prompt import ABSTAIN
from labchat.question import Question, Vocabulary, analyse, parts
from labchat.retrieve import Hit, Retriever
from labchat.settings import Settings
from labchat.store import read_indexed
from labchat.translate import to_english, untranslated

_MEASURE = re.compile(r"\d+(?:\.\d+)?-[a-z]+")
"""A number and its unit ("10-minute", "32-bit"): written with digits, yet no name."""

log = logging.getLogger(__name__)


class Finder:
    """Loads the embedder and the index (rebuilding a stale one first); `find` is then thread-safe.

    Given an `index` already loaded, it searches that one as it is: how a running server (`live`) puts
    a newer index in service, reusing the loaded embedder and models.
    """

    def __init__(self, settings: Settings, notify: Callable[[str], None] = log.info,
                 models: FittedModels | None = None, embedder: Embedder | None = None,
                 index: Index | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder(settings, notify)
        if index is None:
            # A shared database that holds an index is changed by `labchat index --store`, never by a
            # reader, whose corpus folder may be another machine's copy, or missing.
            shared = settings.store and read_indexed(settings) is not None
            if not shared and (reason := staleness(settings)):
                notify(f"{reason}: updating the index first")
                build_index(settings, self.embedder)
            index = load_index(settings, self.embedder.dim)
        self.index = index
        self.retriever = Retriever(index.store, self.embedder)
        self.lexicon = index.store.lexicon
        self.vocabulary = Vocabulary(self.lexicon, lambda: self.embedder.words)
        self.picker = EvidencePicker(self.vocabulary, self.embedder, models or FittedModels.load())
        self.profile = load_profile(settings.corpus_dir, self.lexicon.titles())

    def is_name(self, phrase: str) -> bool:
        """A phrase of the corpus's own names (for resolving what a follow-up refers to): every word one the
        corpus nearly always capitalises ("Series" of "Series B" is not enough), not a number, a measure
        ("10-minute") or a letter.
        A word typed in lower case must be seen twice: "the group" is not "Alibaba Group"."""
        vocabulary = self.vocabulary
        return len(phrase) > 1 and not phrase.replace(".", "").isdigit() and all(
            not _MEASURE.fullmatch(w) and vocabulary.known_word(w)
            and vocabulary.is_name(w, 0.8, seen_at_least=2 if w.islower() else 1)
            for w in phrase.split())

    def resolve(self, question: str, history: Sequence[tuple[str, str]] = ()) -> str:
        """The query for a question asked after `history` (earlier (question, answer) turns): follow-ups
        made to stand alone (`conversation.contextualize`), then `query`."""
        # earlier questions in English, so a Chinese one gives its names (百川智能: Baichuan AI) to the thread
        english = [(self.query(asked), answer) for asked, answer in history]
        return self.query(contextualize(question, english, self.is_name, lambda a: a.strip() == ABSTAIN,
                                        self.closest))

    def closest(self, phrase: str, candidates: list[str]) -> int:
        """Which candidate means most nearly what `phrase` does, by the embedder (logic for creativity)."""
        vectors = self.embedder.encode([phrase, *candidates])
        return int(np.argmax(vectors[1:] @ vectors[0]))

    def query(self, question: str) -> str:
        """The question as it is searched: in English, shorthand spelled out, misspellings corrected."""
        return self.vocabulary.correct(to_english(question, _Aliases(self.lexicon), self.profile.glossary))

    def untranslated(self, question: str) -> float:
        return untranslated(question, _Aliases(self.lexicon), self.profile.glossary)

    def search(self, query: str, untranslated: float = 0.0) -> tuple[Question, list[Hit]]:
        """The query taken apart and its best chunks; `untranslated` is what translating it lost."""
        question = analyse(query, self.vocabulary, untranslated)
        return question, self.retriever.search(query, self.settings.top_chunks)

    def find_parts(self, query: str, untranslated: float = 0.0,
                   find: Callable[[str, float], Evidence] | None = None) -> list[Evidence]:
        """Evidence for each thing the query asks (see `question.parts`); a later part is searched with the
        names of the first ("how much did it raise?" with "Baichuan"). `find` defaults to `self.find`."""
        find = find or self.find
        first, *rest = parts(query) or [query]
        names = self.vocabulary.names(first)
        later = [" ".join([part, *(n for n in names if n not in part)]) for part in rest]
        return [find(first, untranslated), *(find(part, untranslated) for part in later)]

    def find(self, query: str, untranslated: float = 0.0) -> Evidence:
        """Evidence for a query (see `query`), its passages best first."""
        return self.picker.pick(*self.search(query, untranslated), self.settings.max_passages,
                                self.settings.context_chars)


class _Aliases(Mapping[str, str]):
    """The corpus's Chinese -> English names, merged from its files only when a question holds Chinese."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def __getitem__(self, name: str) -> str:
        return self.lexicon.aliases[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.lexicon.aliases)

    def __len__(self) -> int:
        return len(self.lexicon.aliases)
