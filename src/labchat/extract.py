"""The extracted answer: the short answer first, then the words of the passage that support it, cited.

Everything shown comes from the passages verbatim, so nothing in it can be invented: the short answer is
a span of the best passage of the type the question asks for ("$691M", "Wang Xiaochuan", "Nov 2023"), and
the supporting words are the passage itself, cut to fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from labchat.compare import compare
from labchat.evidence import RUNNER_UP, Evidence, Passage, stated
from labchat.question import asks_for_many
from labchat.quote import LEAD, MAX_ANSWER_CHARS, quote
from labchat.retrieve import tokenize


def extract_parts(found: list[Evidence], limit: int) -> tuple[str, list[Passage]]:
    """The extracted answer to a question of one or more parts (see `question.parts`): each part's short
    answer, then each part's best passage quoted; the parts' passages interleaved, best first."""
    if len(found) == 1:
        return compose(found[0]), found[0].passages
    passages = merge([e.passages for e in found], limit)
    best = [next(p for p in passages if p.text == e.passages[0].text) for e in found]
    shorts = [e.short for e in found if e.short]
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


_MIN_LEAD = 10
"""Fewer shared characters than this before a colon ("Model:") do not make two passages one list's items."""
MAX_ITEMS = 4
"""The most items of one list a list answer gathers."""


def compose(evidence: Evidence) -> str:
    """"**$691M**. From the documents: “Raised $691M Series B funding …” [1]", within MAX_ANSWER_CHARS; a
    question for several things ("list ...", "What are its strengths?") whose best passage is an item of a
    list is answered with the items found (`_items`), unless it asks for one place in the list ("the first
    advantage")."""
    asked = evidence.question
    clause, items = _items(evidence) if asks_for_many(asked) and not asked.ordinal else ("", [])
    if len(items) > 1:
        head = f"{LEAD} {clause}"
        room = (MAX_ANSWER_CHARS - len(head)) // len(items) - 8
        said = [f"{quote(replace(p, text=p.text[len(clause):].strip()), room)} [{p.n}]" for p in items]
        return f"{head} {'; '.join(said)}"
    best, *rest = evidence.passages
    short = evidence.short
    lead = f"**{short}**. {LEAD}" if short else LEAD
    citation = f" [{best.n}]"
    room = MAX_ANSWER_CHARS - len(lead) - len(citation) - 1
    runner = rest[0] if rest and rest[0].score >= RUNNER_UP * best.score else None
    if rest and rest[0].beside and len(f"{quote(best, room)}{quote(rest[0], room)}; [{rest[0].n}]") < room:
        runner = rest[0]  # the sentence next to the best, quoted only where neither is cut
    if runner is None:
        return f"{lead} {quote(best, room)}{citation}"
    room -= len(f"; [{runner.n}]") + 1
    # the best passage whole if it leaves the other half, else each cut to what the other leaves
    first = quote(best, max(room // 2, room - len(quote(runner, room))))
    return f"{lead} {first}{citation}; {quote(runner, room - len(first))} [{runner.n}]"


def _items(evidence: Evidence) -> tuple[str, list[Passage]]:
    """The clause a list's items share ("Tencent possessed assets including:") and the items of that list
    among the passages, in the order found (at most MAX_ITEMS); ("", []) when the best passage is no item.
    Each item is a passage of its own, so each is cited for what it says. Table rows are left whole."""
    best, *rest = evidence.passages
    clause = ""
    for passage in rest:
        pairs = zip(best.text, passage.text, strict=False)
        common = best.text[:next((i for i, (a, b) in enumerate(pairs) if a != b),
                                 min(len(best.text), len(passage.text)))]
        cut = common.rfind(": ")
        if cut >= _MIN_LEAD and " | " not in common and cut + 1 > len(clause):
            clause = common[:cut + 1]
    if not clause:
        return "", []
    # an item says what is asked as fully as the best one does: asked for weaknesses, the ❌ items of a
    # list that holds ✅ ones too
    wanted = evidence.question.attribute & set(tokenize(stated(best.text)))
    return clause, [p for p in evidence.passages
                    if p.text.startswith(clause) and wanted <= set(tokenize(stated(p.text)))][:MAX_ITEMS]
