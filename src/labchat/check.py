"""Check an answer against the passages it was given: invented facts and wrong citations are caught here.

A fact is a number (691M, 2023, 27,000) or a capitalised name (Wang Xiaochuan, Sogou). One that no
passage and not the question contains was invented by the model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from labchat.chunking import PATH_SEPARATOR
from labchat.evidence import Passage
from labchat.retrieve import tokenize
from labchat.spans import NAME

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CITATION = re.compile(r"\s*\[(\d+)\]")
COMMON_CAPITALS = frozenset(
    "The A An It Its In On At As For From By With And But Or Yes No This That These Those They "
    "He She His Her Their There Here According Answer Based Passage Passages Document Documents I "
    "What Which Who When Where How Why Question Source Sources Note However Also".split())


def facts(text: str) -> set[str]:
    """Numbers and names that an answer asserts."""
    text = _CITATION.sub(" ", text)
    names = {w for m in NAME.finditer(text) for w in m.group().split() if w not in COMMON_CAPITALS}
    return {n.replace(",", "") for n in _NUMBER.findall(text)} | names


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace(",", "")).casefold()


def _mentions(text: str, fact: str) -> bool:
    """A number must stand on its own: the 2.5 of "Qwen2.5" does not support "2.5M"."""
    if not fact[0].isdigit():
        return fact in text
    return re.search(rf"(?<![\w.]){re.escape(fact)}(?![\d])", text) is not None


_FILLER = re.compile(r"^\s*(?:the answer(?: to (?:this|the) question)? is|answer)\s*:?\s*", re.IGNORECASE)
_NUMBER_WORDS = re.compile(r"\d|\b(?:thousand|million|billion|trillion)\b", re.IGNORECASE)
_WANTS_NUMBER = re.compile(r"^\s*(?:how (?:many|much|large|big|long|old|fast)|when|what year|in what year)\b",
                           re.IGNORECASE)
_WANTS_NAME = re.compile(r"^\s*(?:who|whom|whose)\b", re.IGNORECASE)


def tidy(answer: str) -> str:
    """Drop the filler a small model puts around its answer ("The answer is: ...", a repeated sentence)."""
    sentences = [_FILLER.sub("", s).strip() for s in re.split(r"(?<=[.!?])\s+", answer.strip())]
    return " ".join(dict.fromkeys(s for s in sentences if s))


def answers_question(answer: str, question: str) -> bool:
    """A how-many or when question needs a number in the answer; a who question a name it did not ask.

    Catches the small model's fluent non-answers ("The passage mentions a leading AI hub").
    """
    answer = strip_citations(answer)
    # echoed headings, prompt or question
    if PATH_SEPARATOR in answer or len(answer) > 300 or answer.endswith("?"):
        return False
    words, asked = set(tokenize(answer)), set(tokenize(question))
    if len(answer.split()) < 4 or not words & asked or words <= asked:
        return False  # a bare "6.12M." cannot be told apart from the wrong number of the same passage
    new = facts(answer) - facts(question)
    if _WANTS_NUMBER.search(question):
        return any(_NUMBER_WORDS.search(f) for f in new) or bool(_NUMBER_WORDS.search(
            re.sub(r"\S*\d\S*", lambda m: "" if m.group() in question else m.group(), answer)))
    if _WANTS_NAME.search(question):
        return any(not f[0].isdigit() for f in new)
    return bool(new)


_DATE = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? (\d{4})\b")


def vaguer_date(answer: str, passage: Passage) -> bool:
    """"in 2023" where the passage says "Nov 2023": the model dropped what the question asked for."""
    return any(year in answer and not re.search(rf"\b{month}[a-z]*\.? {year}", answer)
               for month, year in _DATE.findall(passage.text))


def echoes_heading(answer: str, passages: Sequence[Passage]) -> bool:
    """Repeating a passage's heading ("Model Lineage and Release Timeline") is not an answer."""
    headings = {h.strip() for p in passages for h in p.section.split(PATH_SEPARATOR) if len(h.strip()) > 12}
    return any(h in answer for h in headings)


def citations(answer: str) -> list[int]:
    return [int(n) for n in _CITATION.findall(answer)]


def strip_citations(answer: str) -> str:
    return _CITATION.sub("", answer).strip()


def _facts_in(passage: Passage, wanted: set[str]) -> set[str]:
    text = _normal(f"{passage.section} {passage.text}")
    return {f for f in wanted if _mentions(text, f)}


_SENTENCE = re.compile(r"(?<=[.!?])(?:\s*\[\d+\])*\s+(?=[A-Z0-9\"\u201c])")


def split_sentences(text: str) -> tuple[list[str], str]:
    """The complete sentences of a streamed text (each with the citations right after it) and the rest."""
    ends = [m.end() for m in _SENTENCE.finditer(text)]
    done = [text[start:end].strip() for start, end in zip([0, *ends], ends, strict=False)]
    return done, text[ends[-1]:] if ends else text


def verified(sentence: str, passages: Sequence[Passage], question: str) -> str | None:
    """The sentence citing the passages that hold its facts, or None when it must not be shown.

    Every number and name it states must be in the passages it cites (or in the question); citations it
    wrote that point at a passage holding none of them are replaced, and a sentence without citations gets
    the fewest passages that hold its facts. A sentence stating no fact at all, a question or an echoed
    heading is not an answer.
    """
    body = strip_citations(tidy(sentence))
    wanted = {_normal(f) for f in facts(body)} - {_normal(f) for f in facts(question)}
    if not wanted or body.endswith("?") or echoes_heading(body, passages):
        return None
    cited = [passages[n - 1] for n in dict.fromkeys(citations(sentence)) if 1 <= n <= len(passages)]
    if cited and all(_facts_in(p, wanted) for p in cited) and wanted <= set().union(
            *(_facts_in(p, wanted) for p in cited)):
        return _with_citations(body, cited)
    support = _cover(wanted, passages)
    return _with_citations(body, support) if support else None


def _with_citations(body: str, passages: Sequence[Passage]) -> str:
    """"Raised $691M [1]." : the citation inside the sentence's final stop."""
    marks = "".join(f"[{p.n}]" for p in passages)
    stop = body[-1] if body[-1] in ".!" else ""
    return f"{body.removesuffix(stop)} {marks}{stop}"


def _cover(wanted: set[str], passages: Sequence[Passage]) -> list[Passage]:
    """The fewest passages (greedily, best-ranked first on ties) that together hold every wanted fact."""
    chosen: list[Passage] = []
    left = set(wanted)
    while left:
        best = max(passages, key=lambda p: (len(_facts_in(p, left)), -p.n), default=None)
        if best is None or not _facts_in(best, left):
            return []
        chosen.append(best)
        left -= _facts_in(best, left)
    return sorted(chosen, key=lambda p: p.n)
