"""What a question asks: the kind of answer it wants, its subject (names) and its attribute words.

Nothing here knows the corpus's topic. Which words are names comes from the corpus itself (`Vocabulary`):
a word the documents mostly write capitalised or with digits (a company, a model, a person) is a name;
the other content words of a question say what is asked about it (licence, experts, employees).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from labchat.chunking import Chunk
from labchat.conversation import ORDINALS
from labchat.lexicon import ANYWHERE, PAIR, RAW_WORD, RUNNING, TOKEN, WORD, Lexicon
from labchat.retrieve import tokenize, word_stem

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_ORDINAL = re.compile(rf"\b({'|'.join(ORDINALS)})\b")
_ABBREVIATIONS = {
    "ppl": "people", "yrs": "years", "yr": "year", "mkt": "market", "govt": "government", "co": "company",
    "info": "information", "approx": "approximately", "org": "organization", "hq": "headquarters",
    "ceo": "CEO", "dept": "department", "num": "number", "cnt": "count", "pct": "percent",
    "maths": "mathematics", "math": "mathematics", "stats": "statistics", "params": "parameters",
    "specs": "specifications", "config": "configuration", "repo": "repository", "docs": "documentation",
    "perf": "performance", "mgmt": "management", "intl": "international", "univ": "university",
    "avg": "average", "b4": "before", "bc": "because", "cuz": "because", "thru": "through", "abt": "about",
    "u": "you", "ur": "your", "msg": "message", "smth": "something", "deps": "dependencies",
    "dep": "dependency", "pkg": "package", "pkgs": "packages", "proj": "project", "cmd": "command",
    "cmds": "commands", "dir": "directory", "dirs": "directories", "lib": "library", "libs": "libraries",
    "ver": "version", "wich": "which", "whcih": "which", "waht": "what", "teh": "the", "hte": "the",
    "thier": "their", "becuase": "because", "insted": "instead",
}
"""Everyday English shorthand, spelled out before searching (a property of the language, not the corpus),
unless the corpus writes the short form itself (`params=` in an API's docs); and a few everyday slips of
short words, which the fuzzy match leaves alone (under five letters; "insted" stems to "inst")."""
_SHORT_PHRASES = {"env var": "environment variable", "env vars": "environment variables", "w/o": "without",
                  "w/": "with"}
_SHORT_PHRASE = re.compile(r"(?<![\w/])(?:env\s+vars?|w/o|w/)(?![\w/])", re.IGNORECASE)
"""Shorthand of two words or with a slash, spelled out whatever the corpus writes: a manual writes "env" (a
command) and "var" on their own, and "environment variable" where it means one."""
_CLOSEST = 8
"""Close stems weighed against each other by how often the corpus uses them."""
FUZZY_CUTOFF = 0.8
"""Similarity (1 - edits / length, a swap of two letters being one edit) a misspelt word of five letters or
more needs to a corpus word to be replaced by it: one slip in six letters or more (tencnet -> tencent: 0.86).
rapidfuzz (3.14) drops a match right at the cutoff, so one slip in five ("erorr" -> error: 0.8) is not
taken; taking it "corrected" plain words the corpus lacks ("apart" -> part, "older" -> elder)."""
WORD_CUTOFF = 0.7
"""Similarity the whole typed word needs to the corpus word replacing it, past its stem's: a slip changes a
letter or two, not a word's ending ("attend" -> "attention": 0.67)."""
WHOLE_CUTOFF = 0.9
"""Similarity a typed word needs to a corpus word it is matched to whole, when no stem is close: one slip
in ten letters ("verfication" -> verification: 0.92; "serves" -> series: 0.83 is not taken)."""

_AMOUNT_NOUN = (r"(length|size|count|price|cost|valuation|revenues?|market cap\w*|headcount|salary|profit"
                r"|income|budget|population|turnover|sales)")
_CODE_NOUN = (r"(param|parameter|argument|option|flag|function|method|class|command|variable|env var|setting"
              r"|keyword|field|attribute|property|decorator|exception|hook|callback|header)")
"""What a manual names in code: the answer to "which option" is an option's name."""
_TYPE_PATTERNS = [
    ("reason", r"^\s*why\b"),  # "Why does it cap the number of files?" asks a cause, not a number
    ("compare", r"\b(which|who|whose)\b.*\b(first|earlier|later|longer|larger|bigger|more|higher|fewer|"
                r"older|newer|both)\b.*\bor\b|\b(earlier|later|first|larger|bigger|longer)\b.*\bor\b"),
    # "When generating docs, which option ...?" asks which option ("When a model has extra='allow', in which
    # attribute ...?" which attribute): a clause before a comma sets the scene
    ("date", r"^\s*(when(?![^,?]*,\s*((in|on|at|for|from|with|by|of|to|under)\s+)?"
             r"(which|what|how|who|whom|whose|where|why|is|are|do|does|can|should)\b)"
             r"|(in\s+)?(what|which)\s+(year|month|date)|since when)\b"
             r"|\bwhen\s+(did|was|were|is|are|will|does|do|has|have|had)\b"),
    # "Which environment variable sets the number of workers?" asks for a variable, not a number
    ("code", rf"^\s*(which|what)\s+(\w+\s+){{0,2}}?{_CODE_NOUN}s?\b(?!\s+(model|strategy|strategies)\b)"),
    ("number", r"\bhow (many|much|large|big|long|old|fast|high)\b|\bwhat (size|percentage|share|number)\b"
               r"|^\s*what\s+(does|did|do|will|would)\b.*\bcost(?![\w-])"
               r"|\b(number of|amount)\b|^\s*what\s+(is\s+|was\s+|are\s+|were\s+)?"
               rf"((?!(do|does|did|can|could|should|will|would)\b)\S+\s+){{0,2}}?{_AMOUNT_NOUN}\b"
               r"(?!\s+(model|strategy|source|stream|team)s?\b)"
               # a bare phrase naming an amount asks it ("Beetle-2's parameter count?", "hexapod headcount")
               rf"|^(?!\s*(what|which|who|whom|whose|how|why|when|where)\b)[^?]*\b{_AMOUNT_NOUN}\s*\??\s*$"),
    ("code", rf"\b(which|what)(\s+\w+){{0,2}}?\s+{_CODE_NOUN}\b(?!\s+(model|strategy|strategies)\b)"
             # a bare phrase naming code asks it ("env var to bypass the proxy", "cmd to delete all venvs")
             r"|^\s*(the\s+)?(env var|environment variable|cmd|command|flag|option|setting|param|parameter|"
             r"argument|function|method|decorator|keyword)s?\s+(for|to|that|which)\b"),
    ("site", r"\b(which|what)\s+(\w+\s+){0,2}?(site|website|url|web address|domain|outlet)\b"
             r"|^\s*where\s+(can|could|do|should)\s+(i|we|you|one)\s+(read|find|download|get|see)\b"),
    ("person", r"^\s*(who|whom|whose)\b|\bwho\b"),
    ("place", r"^\s*where\b.*\b(based|located|headquartered|situated|headquarters|offices?|hq)\b"
              r"|^\s*where\s+(is|was|are|were)\s+(that|it|this|they|these|those)\b"
              r"|^\s*where\s+(did|was|were)\b.*\b(announc|launch|found|held|hold|unveil|open|born|establish)"
              r"|\bwhich (city|country|province|region)\b|\bheadquarter"),
    ("reason", r"^\s*(why|how (does|do|did|is|are|can|was|were))\b"),
    ("list", r"\bwhich (two|three|four|kinds|types)\b|\bwhat (two|three|four|kinds|types)\b|\blist\b"),
]
VOLATILE = frozenset(
    "today now current currently latest newest recent recently tomorrow yesterday live real-time tonight "
    "upcoming next".split())
"""Words asking for what changes after any document was written: documents cannot hold today's price."""
_CODE = re.compile(r"`[^`\s]+`|(?<![\w@])@[A-Za-z_]\w*|\b[A-Za-z_]\w+(?:\.[A-Za-z_][\w-]*)+"
                   r"|\b_*[A-Za-z]\w*_\w*|(?<![\w-])--[A-Za-z][\w-]*|\b[A-Za-z_]\w*(?=\(\))")
"""Code written in a question (`slim`, @validator, request.form, max_redirects, --no-root, Depends()):
names a passage must repeat, although the corpus writes them in lower case."""
_ROLES = frozenset("ceo cto cfo coo cso cmo cio vp svp evp".split())
"""Titles written in capitals, as names are: what "Who is the CEO of X?" asks for, not whom it is about."""
_POLITE = re.compile(r"^\s*(?:(?:do|does|would) you (?:happen to )?know|(?:can|could|would) you (?:please )?"
                     r"tell me|i(?:'d| would) like to know|i (?:want|wonder|am wondering)(?: to know)?|"
                     r"please tell me)\b[\s,:]*", re.IGNORECASE)
"""A polite opening around the question: its words are not what is asked."""
_CONTRACTION = re.compile(r"\b(what|who|where|when|how)(?:'|\u2019)?s\b")
_RELATIVE_TIME = re.compile(r"\b(?:last|this|past|coming)\s+(?:year|quarter|month|week)\b|\bso far\b")
"""Time counted from the day of asking ("its revenue last year"): no document knows when that is."""
_ASIDE = re.compile(r"^\s*(?:besides|apart from|aside from|other than|except(?: for)?|in addition to)"
                    r"\s+([^,]+),", re.IGNORECASE)
""""Besides frontier benchmarks, on which ...": what the asker already knows, so not the answer."""

TOPIC_SPREAD = 1 / 3
"""A name in more than this share of the chunks is what the corpus is about (the product a manual documents:
"poetry" is in 68% of Poetry's chunks, "starlette" in 47%, the least of five manuals; the most written lab
in the labs notes is in 20%): a passage answering a fact of it need not repeat it ("Default: 4" under a
setting's heading in Poetry's manual)."""
TOPIC_CHUNKS = 30
"""Fewer chunks than this tell no topic: in a note of five chunks, a name in two is one thing among few."""


class Vocabulary:
    """The corpus's words: how rare each is (IDF over chunks) and whether the corpus writes it as a name.

    Read from the corpus's counts (`lexicon.Lexicon`) a word at a time: nothing is built at start-up.
    `english` gives words known to be spelt right though the corpus may lack them (the embedder's, see
    `Embedder.words`): "neither" is no slip for the corpus's "either", nor "newest" for "fewest". It is read
    the first time a word the corpus lacks is typed (40 ms: not paid by every `ask`).
    """

    def __init__(self, lexicon: Lexicon, english: Callable[[], frozenset[str]] = frozenset) -> None:
        self.lexicon = lexicon
        self._english = english
        self.unknown_idf = math.log(1 + max(lexicon.chunks, 1))
        self._count = functools.lru_cache(maxsize=1 << 16)(lexicon.count)

    @classmethod
    def of(cls, chunks: Sequence[Chunk]) -> Vocabulary:
        return cls(Lexicon.of(chunks))

    def weight(self, token: str) -> float:
        df = self._count(TOKEN, token)[0]
        return math.log(1 + self.lexicon.chunks / df) if df else self.unknown_idf

    def is_topic(self, token: str) -> bool:
        """Whether the whole corpus is about it: in more than `TOPIC_SPREAD` of the chunks of a corpus of at
        least `TOPIC_CHUNKS`."""
        chunks = self.lexicon.chunks
        return chunks >= TOPIC_CHUNKS and self._count(TOKEN, token)[0] > TOPIC_SPREAD * chunks

    def known(self, token: str) -> bool:
        return self._count(TOKEN, token)[0] > 0

    def known_word(self, word: str) -> bool:
        return self._count(WORD, word.lower())[0] > 0

    def is_name(self, word: str, share: float = 0.5, seen_at_least: int = 1) -> bool:
        """A word the corpus mostly writes capitalised or with digits (Tencent, Step-2, but not "holds" for
        "Holdings"); Chinese counts as a name. Words the corpus never uses are names only with digits.

        Its share in running text decides; a compound only ever seen opening a line or in a label
        ("Yi-Lightning: ...") is judged where it stands; a plain word seen only in labels ("Company Name
        Origin:") is not a name; nor is a word seen fewer than `seen_at_least` times in running text."""
        word = word.lower()
        if word and word[0] >= "\u3400":
            return True
        seen, capitalised = self._count(RUNNING, word)
        if not seen and re.search(r"[\d\-.]", word):
            seen, capitalised = self._count(ANYWHERE, word)
        if not seen:
            return (1.0 if any(ch.isdigit() for ch in word) else 0.0) >= share
        return seen >= seen_at_least and capitalised / seen >= share

    def names(self, text: str) -> list[str]:
        """The words of `text` the corpus writes as names, in order."""
        return [w for w in RAW_WORD.findall(text) if self.known_word(w) and self.is_name(w)]

    def correct(self, text: str) -> str:
        """Casual typing made searchable: shorthand spelled out, misspelt words replaced by the corpus's
        (one spelling per stem, the shortest: "lenght" -> length)."""
        def fix(match: re.Match[str]) -> str:
            word = match.group()
            lower = word.lower()
            known = self.known_word(lower) or all(map(self.known, tokenize(lower)))
            spelled = _ABBREVIATIONS.get(lower)
            if spelled and (spelled.lower() == lower or not self.known_word(lower)):
                return spelled  # "ceo" as CEO, always
            if len(lower) < 5 or known or lower in self.english or sum(ch.isalpha() for ch in lower) < 5:
                return word  # a number, a version ("v2.5"), a short or an English word: no slip to correct
            key = word_stem(lower)
            if key is None:
                return word
            similarity = DamerauLevenshtein.normalized_similarity
            # of equally close stems, the one the corpus uses most: "hunyaun" is Hunyuan (36 chunks), not the
            # "Hunyun" one chunk misspells
            close = process.extract(key, self._stems, scorer=similarity, score_cutoff=FUZZY_CUTOFF,
                                    limit=_CLOSEST)
            best = max(close, key=lambda m: (m[1], self._count(TOKEN, m[0])[0])) if close else None
            spelling = self.lexicon.spellings[best[0]] if best else ""
            # stems can be close where words are not: "attend" is no slip for "attention" (stems "attend",
            # "attent"), while "foundd" is one for "founded" (two edits in seven letters)
            if spelling and similarity(lower, spelling.lower()) >= WORD_CUTOFF:
                return spelling
            # and words where stems are not: "verfication" (stem "verfic") for "verification" ("verif"),
            # closer still, since a word the corpus lacks may be a word all the same ("serves", "series")
            whole = process.extractOne(lower, self._spellings, scorer=similarity, score_cutoff=WHOLE_CUTOFF)
            return whole[0] if whole else word

        text = _SHORT_PHRASE.sub(lambda m: _SHORT_PHRASES[" ".join(m.group().lower().split())], text)
        return self._compounds(RAW_WORD.sub(fix, text))

    @functools.cached_property
    def english(self) -> frozenset[str]:
        return self._english()

    @functools.cached_property
    def _stems(self) -> list[str]:
        """The corpus's stems, for the fuzzy match: read from its files the first time a word is unknown."""
        return list(self.lexicon.spellings)

    @functools.cached_property
    def _spellings(self) -> list[str]:
        """The corpus's words as it writes them, one per stem, for the fuzzy match of a whole word."""
        return [w.lower() for w in self.lexicon.spellings.values()]

    def _compounds(self, text: str) -> str:
        """Two words the corpus writes as one ("spin off" -> spinoff) or hyphenated ("deep dive",
        "deepdive" -> deep-dive) are written its way."""
        def hyphen(match: re.Match[str]) -> str:
            word = match.group()
            if self.known_word(word) or len(word) < 6:
                return word
            return next((f"{word[:i]}-{word[i:]}" for i in range(3, len(word) - 2)
                         if self.known_word(f"{word[:i]}-{word[i:]}")), word)

        words = re.sub(r"\b[A-Za-z]+\b", hyphen, text).split(" ")
        out: list[str] = []
        for word in words:
            last = out[-1] if out else ""
            if last.isalpha() and word.isalpha() and not self._count(PAIR, f"{last} {word}".lower())[0]:
                forms = (f"{last}{word}", f"{last}-{word}")
                joined = next((j for j in forms if self.known_word(j)), None)
                if joined:
                    out[-1] = joined
                    continue
            out.append(word)
        return " ".join(out)


@dataclass(frozen=True)
class Question:
    """A question taken apart: `subject` and `attribute` are stemmed tokens, weighed by corpus rarity."""

    text: str
    answer_type: str
    """date, number, person, place, code (a name in code: an option, a function), site (a web address),
    reason, list, compare or other."""
    subject: frozenset[str]
    attribute: frozenset[str]
    volatile: bool
    ordinal: int = 0
    """The place in a list the question asks for ("the fourth likely scenario": 4), or 0."""
    untranslated: float = 0.0
    """Share of a Chinese question the English search could not carry (see `translate.untranslated`)."""
    aside: frozenset[str] = frozenset()
    """Tokens of what the question sets aside ("Besides X, ..."): a sentence saying X is not the answer."""

    @property
    def tokens(self) -> frozenset[str]:
        return self.subject | self.attribute


_SECOND_QUESTION = re.compile(r",?\s+and\s+(?=(?:who|whom|what|when|where|which|how|why|in which)\b)",
                              re.IGNORECASE)


def parts(question: str) -> list[str]:
    """A question that asks two things ("Who founded X, and how much did it raise?") as its two questions;
    each is searched on its own, so the evidence for both is found."""
    return [p.strip() for p in _SECOND_QUESTION.split(question, maxsplit=1) if p.strip()]


_OPTIONS = re.compile(r"(?:^|[,:\u2013\u2014]\s*|\bwhich\b[^,]*?\b(?:is|was|has|had|of)\s+)"
                      r"((?:(?!\bor\b)[^,:?\u2013\u2014])+?)\s+or\s+([^,:?\u2013\u2014]+?)\s*[?.]*\s*$",
                      re.IGNORECASE)
_LEADING_OPTIONS = re.compile(
    r"^\s*(?:(?:between|of)\s+(?P<a>(?:(?!\band\b)[^,:?])+?)\s+and"  # "Between X and Y, which ...?"
    r"|(?!(?:how|what|why|when|where|is|are|do|does|can|should)\b)(?P<b>(?:(?!\b(?:or|vs|versus)\b)[^,:?])+?)"
    r"\s+(?:or|vs\.?|versus))"  # "X or Y: which ...?", "X vs Y, which ...?"
    r"\s+(?P<other>[^,:?]+?)\s*[:,\u2013\u2014]\s*(?:which|who)\b", re.IGNORECASE)
"""The options put before the question: "Basic or Digest: which scheme costs a round-trip?", "X vs Y: which
...?", "Between X and Y, which ...?"."""
_ORDERING = r"(?:(?:\w+er|more|less|fewer)\s+(?:\w+\s+)?than|before|after)"
_YES_NO = re.compile(rf"^\s*(?:is|was|were|are|did|does|do|has|had)\s+(?P<a>[^,?]+?)\s+(?:\w+\s+){{0,2}}"
                     rf"{_ORDERING}\s+(?P<other>[^,?]+?)\s*\?*\s*$", re.IGNORECASE)
"""A comparison asked as yes or no: "Was Beetle-2 released before Zeta-7?", "Is Beetle-2 larger than
Zeta-7?", "Does Beetle-2 have more experts than Zeta-7?". Both sides must be names (a capital or a digit):
"Is the default longer than five seconds?" compares no two things the documents name."""
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


def options(question: str) -> list[str]:
    """The two things a "which ..., X or Y?" question compares (or "Is X larger than Y?"), or [] when it is
    not such a question."""
    if re.match(r"\s*(which|who|whose)\b", question, re.I):
        match = _OPTIONS.search(question)
        groups = match.groups() if match else ()
    else:
        match = _LEADING_OPTIONS.match(question) or _YES_NO.match(question)
        groups = (match.groupdict().get("a") or match.groupdict().get("b"), match["other"]) if match else ()
    if not groups:
        return []
    found = [_ARTICLE.sub("", o.strip()) for o in groups]
    if match.re is _YES_NO and not all(re.search(r"[A-Z0-9]", o) for o in found):
        return []
    # "Between 2023 and 2024, which labs ...?" is a span of time, not two things to compare
    return found if all(found) and not all(re.fullmatch(r"[\d\s.,]+", o) for o in found) else []


_MANY = re.compile(r"^\s*(?:(?:in|into|on|of|for|from|with|under|to)\s+)?(?:what|which)\s+"
                   r"(?:(?:are|were)\b|(?:[\w.-]+\s+){0,2}?\w{2,}[^siu\W]s\s+(?:do|does|did|are|were|have|has|had"
                   r"|can|could|will|would|should|must|may|might|come|count|exist|\w+ed)\b)", re.IGNORECASE)
"""A question for several things without saying "list": "What are its strengths?", "Which weaknesses does
it have?", "Which keys can pin it?", "Which lockers come built in?": a plural noun, then a verb in the plural
(a verb in the singular, "Which setting adds ...?", is no plural noun)."""


def asks_for_many(question: Question) -> bool:
    """Whether the answer is a list: asked as one ("list", "which three"), or for things in the plural."""
    return question.answer_type == "list" or bool(_MANY.match(question.text))


def yes_or_no(question: str) -> bool:
    """Whether a comparison is asked as yes or no ("Was X released before Y?"): its answer says which."""
    return bool(_YES_NO.match(question) and options(question))


_QUANTITIES = tuple(frozenset(tokenize(words)) for words in (
    "revenue sales turnover income earnings profit", "valuation worth", "employees employ staff headcount "
    "workforce", "funding raised investment", "price cost", "users", "downloads"))
"""Named quantities of one kind each (English, not the corpus's): "$1B valuation" is no headcount."""


def other_quantity(question: Question, text: str) -> bool:
    """Whether `text` names a quantity of another kind than the one asked ("How many employees?" against
    "a $1B valuation"), and none of the kind asked: its amount is not the one asked for."""
    asked = [kind for kind in _QUANTITIES if kind & question.attribute]
    said = set(tokenize(text))
    return bool(asked) and not any(kind & said for kind in asked) and any(
        kind & said for kind in _QUANTITIES if kind not in asked)


_PAID = frozenset(tokenize("price cost fee charge subscription pay paid spend money"))
"""Words asking for an amount of money."""
_MONEY = re.compile(r"[$€£¥]|\b(?:USD|RMB|CNY|EUR|GBP|JPY|yuan|dollars?|euros?|cents?|free)\b", re.IGNORECASE)
_NOW = re.compile(r"\b(?:today|tonight|tomorrow|yesterday|right now|at the moment|as of now|this week)\b",
                  re.IGNORECASE)
"""Words tying a question to the moment it is asked ("today's share price")."""


def unpaid(question: Question, text: str) -> bool:
    """Whether the question asks what something costs and `text` names no money ("three simple steps")."""
    return bool(_PAID & question.attribute) and not _MONEY.search(text)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z\-]+", text.lower()))


def _volatile_words(text: str) -> set[str]:
    """The words of `text` asking for what changes after any document was written ("latest", "now")."""
    return VOLATILE & _words(text)


def volatile(question: Question, said: str) -> bool:
    """Whether the question asks for what changes after any document was written, which `said` does not
    answer: "its latest model" is what the documents call its latest ("Latest Model: GLM-4.5"), not "its
    revenue last year"."""
    return question.volatile and (bool(_RELATIVE_TIME.search(question.text.lower()))
                                  or not _volatile_words(question.text) <= _words(said))


def asks_now(text: str) -> bool:
    """Whether a question asks about the moment it is asked, which no document can know."""
    return bool(_NOW.search(text))


def analyse(text: str, vocabulary: Vocabulary, untranslated: float = 0.0) -> Question:
    text = _POLITE.sub("", text)  # "Do you know who ...?" asks who; "know" is no attribute
    lower = text.lower()
    # what is asked is the first question: a follow-up's query adds the turn it refers to after it
    # ("What is that executive's name? Who leads that work?" asks for a name, not a person)
    first = re.split(r"(?<=[?\uff1f])\s+", text, maxsplit=1)[0]
    asked = _CONTRACTION.sub(r"\1 is", first.lower())  # "what's" asks as "what is" does
    answer_type = "compare" if options(first) else next(
        (name for name, pattern in _TYPE_PATTERNS if re.search(pattern, asked)), "other")
    tokens = set(tokenize(text))
    words = [*RAW_WORD.findall(text), *_CJK.findall(text)]
    # a word typed in lower case is a name only if the corpus nearly always capitalises it ("deepseek"),
    # not if it is sometimes a plain word there ("chief scientist" for "Chief Scientist"); nor is a Latin
    # letter ("my C extension"): one letter names nothing a passage must repeat
    subject = frozenset(t for word in words if (len(word) > 1 or not word.isascii())
                        and vocabulary.is_name(word, 0.8 if word.islower() else 0.5)
                        and word.lower() not in _ROLES for t in tokenize(word)) & tokens
    subject |= frozenset(t for code in _CODE.finditer(text) for t in tokenize(code.group())) & tokens
    volatile = bool(_volatile_words(text) or _RELATIVE_TIME.search(lower))
    place = _ORDINAL.search(lower)
    ordinal = ORDINALS.index(place.group(1)) + 1 if place else 0
    aside = _ASIDE.match(text)
    # words only in the aside say what is not asked: they are no attribute to look for. Names set aside
    # ("Apart from Baidu and Tencent, which companies ...") are not: a list that holds them holds the rest
    asked = set(tokenize(text[aside.end():])) if aside else tokens
    set_aside = frozenset(set(tokenize(aside.group(1))) - asked - subject) if aside else frozenset()
    return Question(text, answer_type, subject, frozenset(tokens & asked - subject), volatile, ordinal,
                    untranslated, set_aside)
