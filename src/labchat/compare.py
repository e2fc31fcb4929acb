"""Comparisons ("Which came out first, X or Y?", "Was X out before Y?"): the fact for each side, then the
side that wins (after a yes or a no, when that is how it was asked).

Each option is searched on its own with the question's attribute words, so both facts are in the passages
shown. An ordering word (first, later, larger, longer ...) compares the dates or amounts the two passages
state; any other comparison ("which has open weights, X or Y?") goes to the option whose passage the
fitted ranker scores higher for the question.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from labchat.evidence import Evidence, Passage
from labchat.question import options, yes_or_no
from labchat.quote import LEAD, MAX_ANSWER_CHARS, quote
from labchat.retrieve import tokenize

_EARLIER = re.compile(r"\b(first|earlier|earliest|older|oldest|before|sooner)\b", re.IGNORECASE)
_LATER = re.compile(r"\b(later|latest|newer|newest|last|after|more recent(?:ly)?)\b", re.IGNORECASE)
_MORE = re.compile(r"\b(more|most|larger|largest|bigger|biggest|longer|longest|higher|highest|greater)\b",
                   re.IGNORECASE)
_LESS = re.compile(r"\b(fewer|less|least|smaller|smallest|shorter|shortest|lower|lowest)\b", re.IGNORECASE)
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_DATE = re.compile(r"\b(?:(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+"
                   r"(?:\d{1,2},\s+)?)?(?P<year>(?:19|20)\d{2})\b", re.IGNORECASE)
_AMOUNT = re.compile(r"(?P<value>\d+(?:\.\d+)?)\s?(?P<unit>[KMBT])\b"
                     r"|(?:(?<![\w.\-])(?P<count>\d+(?:\.\d+)?)\s)?\b(?P<word>thousand|million|billion|trillion)\b",
                     re.IGNORECASE)
"""An amount with its unit: "389B", "32K", "1.5 trillion", "a trillion-parameter model"."""
_NUMBER = re.compile(r"(?<![\w./-])(?!(?:19|20)\d\d\b)(\d+(?:\.\d+)?)(?![\w./-])")
"""A plain number, not a year."""
_SAME_KIND = 1e4
"""Most times one amount can be another of its kind: two models' sizes (7B, 1T), two rounds ($50M, $1B) or
two context lengths (8K, 2M) differ by less; "8K" context against "34B" parameters differ by more, and are
no answer to "which is bigger"."""
_UNITS = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12, "thousand": 1e3, "million": 1e6, "billion": 1e9,
          "trillion": 1e12}


@dataclass(frozen=True)
class Side:
    option: str
    passage: Passage
    value: tuple[float, ...] | None


def value(text: str, by_date: bool, asked: frozenset[str] = frozenset()) -> tuple[float, ...] | None:
    """The earliest date (year, month) or the largest amount (389B, 32K) a passage states; of the amounts
    next to a word of `asked` if any is ("456B, 4M token context" for the longer context: 4M; "Raised
    $691M" for which raised more)."""
    if by_date:
        dates = [(float(m["year"]), float(_MONTHS.index(m["month"].lower()[:3]) + 1) if m["month"] else 0.0)
                 for m in _DATE.finditer(text)]
        return min(dates) if dates else None
    found = list(_AMOUNT.finditer(text))
    found = [m for m in found if _beside(text, m, asked)] or found
    amounts = [float(m["value"] or m["count"] or 1) * _UNITS[(m["unit"] or m["word"]).lower()] for m in found]
    # a setting's default is a plain number ("Defaults to 100"): read those when no amount has a unit
    amounts = amounts or [float(n) for n in _NUMBER.findall(text)]
    return (max(amounts),) if amounts else None


def compare(evidence: Evidence, find: Callable[[str], Evidence]) -> tuple[str, list[Passage]] | None:
    """The comparison answer and the passages it cites (the two sides first), or None when a side has no
    passage naming it or the passages do not settle it."""
    question = evidence.question.text
    names = options(question)
    subject = evidence.question.subject
    if len(names) != 2:
        return None
    by_date = bool(_EARLIER.search(question) or _LATER.search(question))
    ordered = by_date or bool(_MORE.search(question) or _LESS.search(question))
    stating = by_date if ordered else None  # what each side's passage must state: a date, an amount, nothing
    asked = " ".join(w for w in re.findall(r"[\w\-.]+", question) if w.lower() not in " ".join(names).lower())
    found = []
    for name in names:
        wanted = set(tokenize(name)) & subject or set(tokenize(name))
        found.append(_sides(name, wanted, f"{name} {asked}", find, stating, evidence.question.attribute))
        if not found[-1]:
            return None
    sides = _pair(found[0], found[1], stating)
    if ordered and all(s.value is not None for s in sides) and sides[0].value != sides[1].value \
            and (by_date or _comparable(sides[0].value[0], sides[1].value[0])):
        lowest = _LESS.search(question) or (by_date and _EARLIER.search(question))
        winner = min(sides, key=lambda s: s.value) if lowest else max(sides, key=lambda s: s.value)
    elif not ordered:
        winner = _about(sides) or max(sides, key=lambda s: s.passage.score)
    else:
        return None
    passages = _renumber([s.passage for s in sides], evidence.passages)
    verdict = ("Yes: " if winner is sides[0] else "No: ") if yes_or_no(question) else ""
    lead = f"**{verdict}{winner.option}**. {LEAD}"
    room = (MAX_ANSWER_CHARS - len(lead)) // 2 - 8
    quotes = "; ".join(f"{quote(p, room)} [{p.n}]" for p in passages[:len({s.passage.text for s in sides})])
    return f"{lead} {quotes}", passages


def _beside(text: str, amount: re.Match[str], asked: frozenset[str]) -> bool:
    """Whether a word of `asked` is next to the amount: the word before it or the two after it."""
    near = [*text[:amount.start()].split()[-1:], *text[amount.end():].split()[:2]]
    return bool(set(tokenize(" ".join(near))) & asked)


def _comparable(a: float, b: float) -> bool:
    """Whether two amounts can be of one kind (`_SAME_KIND`)."""
    return min(a, b) > 0 and max(a, b) / min(a, b) < _SAME_KIND


def _sides(name: str, wanted: set[str], query: str, find: Callable[[str], Evidence],
           by_date: bool | None, asked: frozenset[str]) -> list[Side]:
    """The passages naming the option (and stating a date or amount, when the comparison needs one), best
    first."""
    out = []
    for passage in find(query).passages:
        if not wanted <= set(tokenize(f"{passage.section} {passage.text}")):
            continue
        stated = value(passage.text, by_date, asked) if by_date is not None else None
        if by_date is None or stated is not None:
            out.append(Side(name, passage, stated))
    return out


def _pair(first: list[Side], second: list[Side], by_date: bool | None) -> list[Side]:
    """Each option's best passage; for amounts, the best two whose amounts can be of one kind, if any are
    ("Step-1: Dense 130B parameter" against "Yi-34B | 34B", not Step-1's "8K and 32K context lengths")."""
    if by_date is False:
        pairs = [(i + j, a, b) for i, a in enumerate(first) for j, b in enumerate(second)
                 if a.value and b.value and _comparable(a.value[0], b.value[0])]
        if pairs:
            _, a, b = min(pairs, key=lambda p: p[0])
            return [a, b]
    return [first[0], second[0]]


def _about(sides: list[Side]) -> Side | None:
    """When one passage serves both sides ("Unlike basic authentication it requires an extra round-trip"),
    the side its section is about, if only one is."""
    if sides[0].passage.text != sides[1].passage.text:
        return None
    heading = set(tokenize(sides[0].passage.section))
    named = [s for s in sides if set(tokenize(s.option)) <= heading]
    return named[0] if len(named) == 1 else None


def _renumber(first: list[Passage], rest: list[Passage]) -> list[Passage]:
    """The two sides' passages as [1] and [2] (one, when a passage states both), then the question's own
    passages not already among them, as many in all as the question had."""
    unique: dict[str, Passage] = {}
    for passage in [*first, *rest]:
        unique.setdefault(passage.text, passage)
    ordered = list(unique.values())[:max(len(rest), 2)]
    return [replace(p, n=i) for i, p in enumerate(ordered, 1)]
