"""The extracted answer: the short answer first, then the words of the passage that support it, cited.

Everything shown comes from the passages verbatim, so nothing in it can be invented: the short answer is
a span of the best passage of the type the question asks for ("$691M", "Wang Xiaochuan", "Nov 2023"), and
the supporting words are the passage itself, cut to fit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from labchat.compare import compare
from labchat.evidence import NAME, Evidence, Passage
from labchat.question import Question
from labchat.quote import LEAD, MAX_ANSWER_CHARS, quote
from labchat.retrieve import tokenize

_SPANS = {
    "date": re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?:\d{1,2},\s+)?"
                       r"\d{4}\b|\b(?:19|20)\d{2}\b"),
    "number": re.compile(r"(?:[$\u00a5\u20ac\u00a3]\s?)?\d+(?:[.,]\d+)*"
                         r"(?:\s?(?:[%+]|[KMBT]\b|[kmbt]n\b|TB|GB|(?:thousand|million|billion|trillion)\b))?\+?"
                         r"|\b(?:several\s+)?(?:hundreds?|thousands?|millions?|billions?|trillions?)\b"),
    "person": re.compile(r"\b[A-Z][a-z]+(?:[\s\-][A-Z][a-z]+)+\b"),
    "name": NAME,
}
_TYPE_SPAN = {"date": "date", "number": "number", "person": "person", "place": "name"}
"""Answer types with a span to lead with; a reason, a list or a "what" is answered by the passage's words."""
_YEAR = re.compile(r"(?:19|20)\d{2}")


def short_answer(question: Question, passage: Passage) -> str | None:
    """The span of the asked-for type that the question does not already hold, nearest its attribute words.

    None when the question wants a reason or a list (the passage's words are the answer) or the passage
    holds no such span.
    """
    pattern = _SPANS.get(_TYPE_SPAN.get(question.answer_type, ""))
    if pattern is None:
        return None
    asked = question.text.lower()
    text = passage.text.split(": ", 1)[1] if " | " in passage.text else passage.text  # a row, not its header
    spans = [m for m in pattern.finditer(text)
             if m.group().strip().lower() not in asked and not set(tokenize(m.group())) <= question.tokens
             and not (question.answer_type == "number" and _YEAR.fullmatch(m.group().strip()))]
    if not spans:
        return None
    if question.answer_type == "number":  # an amount with its unit says more than a bare count beside it
        spans = [m for m in spans if not m.group().strip().isdigit()] or spans
    anchors = [word.start() for word in re.finditer(r"[\w\-.]+", text)
               if set(tokenize(word.group())) & question.attribute]
    if not anchors:
        return spans[0].group().strip()
    return min(spans, key=lambda m: min(abs(m.start() - a) for a in anchors)).group().strip()


def extract_parts(found: list[Evidence], limit: int) -> tuple[str, list[Passage]]:
    """The extracted answer to a question of one or more parts (see `question.parts`): each part's short
    answer, then each part's best passage quoted; the parts' passages interleaved, best first."""
    if len(found) == 1:
        return compose(found[0]), found[0].passages
    passages = merge([e.passages for e in found], limit)
    best = [next(p for p in passages if p.text == e.passages[0].text) for e in found]
    shorts = [s for e, p in zip(found, best, strict=True) if (s := short_answer(e.question, p))]
    lead = f"{'; '.join(f'**{s}**' for s in shorts)}. {LEAD}" if shorts else LEAD
    unique = list({p.n: p for p in best}.values())
    room = (MAX_ANSWER_CHARS - len(lead)) // len(unique) - 8
    return f"{lead} {'; '.join(f'{quote(p, room)} [{p.n}]' for p in unique)}", passages


def merge(lists: list[list[Passage]], limit: int) -> list[Passage]:
    """Passages of several searches taken in turn (each one's best first), without repeats, renumbered."""
    seen: dict[str, Passage] = {}
    for rank in range(max(map(len, lists))):
        for passages in lists:
            if rank < len(passages) and len(seen) < limit:
                seen.setdefault(passages[rank].text, passages[rank])
    return [replace(p, n=n) for n, p in enumerate(seen.values(), 1)]


def comparison(found: list[Evidence], find: Callable[[str], Evidence]) -> tuple[str, list[Passage]] | None:
    """The answer to a comparison whose two sides the documents both state (see `compare`), else None.

    Such a question is answerable by construction: both facts were found and compared."""
    if len(found) == 1 and found[0].question.answer_type == "compare":
        return compare(found[0], find)
    return None


def compose(evidence: Evidence) -> str:
    """"**$691M**. From the documents: “Raised $691M Series B funding …” [1]", within MAX_ANSWER_CHARS."""
    best = evidence.passages[0]
    short = short_answer(evidence.question, best)
    lead = f"**{short}**. {LEAD}" if short else LEAD
    citation = f" [{best.n}]"
    return f"{lead} {quote(best, MAX_ANSWER_CHARS - len(lead) - len(citation) - 1)}{citation}"
