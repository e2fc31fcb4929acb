"""Pick the sentences that answer a question out of the retrieved chunks, and judge whether any does.

Every sentence (a table row keeps its header) of the retrieved chunks is a candidate. It is described by
features of what the question asks (`labchat.question`): does it name the question's subject, in itself
or its section; does it hold the attribute words; does it hold a span of the answer type asked for; how
close is it in meaning. A linear model fitted on `train.jsonl` (`scripts/fit.py`, coefficients in
`fitted.json`) turns these into the probability that the sentence is the evidence, and a second one
turns the best candidates into the probability that the documents answer the question at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from labchat.chunking import LIST_MARKER, MAX_LEAD, Chunk, hard_break, lead, spell_marks
from labchat.embed import Embedder
from labchat.fitted import FittedModels
from labchat.question import Question, Vocabulary, asks_for_many, asks_now, other_quantity, unpaid, volatile
from labchat.retrieve import Hit, tokenize
from labchat.spans import (
    SPAN_TYPES,
    asks_why,
    counts_asked,
    done_by,
    enumerates,
    has_span,
    maker,
    named_by_heading,
    other_version,
    short_answer,
    variants,
    version_matches,
    versions,
    written_as_code,
)

_SENTENCE_END = re.compile(r"(?<=[.!?;\u3002\uff01\uff1f])\s+(?=[A-Z0-9*\"\u3400-\u9fff])")
_MARKUP = re.compile(r"`([^`]*)`|\*\*|__|`")
"""Code marks (what they hold is kept as written: `__pydantic_extra__` is no emphasis) and emphasis; links
stay as written ("[Hishel](https://hishel.com)"): the label is what a reader quotes, the address which
site said it."""
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
"""A markdown link: its label is what a reader sees of it, so a sentence's length counts the label only."""
_EMPTY_CELLS = frozenset({"", "-", "--", "\u2013", "\u2014", "?", "n/a", "na", "tbd", "unknown"})
"""Table cells that state nothing: a row with "Parameters: -" does not give the parameters."""
_POINTS_BACK = re.compile(r"(?:These|Those|They|This|It|Both|Such)\b(?!\s+(?:is|are|was|were)\s+(?:not\s+)?"
                          r"(?:the|a|an)\b)")
"""A sentence that opens by pointing back to the one before (but not one that defines: "This is the ...")."""
_WORD = re.compile(r"[\w\-.]+")
_TYPED = re.compile(r"[A-Za-z0-9]+(?:[./\-][A-Za-z0-9]+)*")
_IDENTIFIER = re.compile(r"\b[A-Za-z]\w+(?:\.[A-Za-z_]\w+)+|\b\w+_\w+|(?<![\w-])--[A-Za-z][\w-]*")
"""A name from code: words joined by underscores or dots between letters, or an option ("--reload")."""
_CALLED = re.compile(r"(?<![\w.])[A-Za-z_][\w.]*(?=\(\))")
"""What a question writes as a call, "Depends()": a name of code, looked for as written ("Depends(" is not
the word "depends")."""
_DEFAULT = re.compile(r"\bdefault|^\s*(?:signature\s*:|(?:async\s+)?def\s|class\s)[^()]*\([^()]*=",
                      re.IGNORECASE)
"""A passage that says what a default is: in words, or as a signature ("Signature: request.form(max_files=
1000, ...)", "def get(url, timeout=5)"), whose keyword values are the defaults (an example's "timeout=10.0"
is not)."""
_DEFAULT_LABEL = re.compile(r"\W*default(?:\s+value)?\W*:", re.IGNORECASE)
"""A line that labels a default: "**Default**: `4`", "Default value: none"."""
_ASKS_DEFAULT = re.compile(r"\bby default\b|\bwhat(?:'s|\s+is|\s+was|\s+are)\s+the\s+default\b"
                           r"|\bdefault\s+(?:value|setting)s?\b|\bdefaults?\s+to\b"
                           r"|\bthe\s+default\s+(?:\w+\s+){0,2}(?:of|for)\b", re.IGNORECASE)
"""A question for a default value ("What port does it use by default?", "What is the default timeout?"), not
one that mentions a default thing ("open a file in the default program")."""
_HOW_TO = re.compile(r"\s*how\s+(?:do|can|should|would)\s+(?:i|we|you|one)\b", re.IGNORECASE)
"""An instruction asked for ("How do I turn off SSL verification?"), not how something works."""
_REACH = 3
"""How far down the ranked sentences one that holds what the question asks for is moved up from (`_promote`):
one naming code for an instruction, one stating the asked default, one counting what "how many" asks."""
_COMMAND = re.compile(r"(?:\$\s+)?[a-z][\w.\-]*(?: [^\s'\\]+){1,8}")
"""A line of code that is one command ("conda install pydantic -c conda-forge"), not a program's output
("Config file doesn't exist yet") nor a command going on over the next line ("pip install \\")."""
_VERSION_NUMBER = re.compile(r"\d+(?:\.\d+)*")
_NUMBERED = re.compile(r"\s*(\d+)")
_TERM = re.compile(r"[^.!?:]{1,40}?(?:\s[-\u2013\u2014]\s|:\s)")
"""What a list item defines, before a dash or a colon: "max_age - ", "Funding: "."""

WHOLE_ITEM = 240
"""A list item up to this long is one candidate, its sentences together: what it defines, what it does and
its default are one answer, and quoted whole it fits an answer (`quote.MAX_ANSWER_CHARS`). A longer item
is cut into its sentences, each keeping what the item opens with."""

RUNNER_UP = 0.5
"""The second passage is quoted after the best when the fitted ranker rates it at least half as likely to hold
the answer: the ranker cannot tell the two apart there, and a wrong first pick was the commonest miss when
the answer had been found (cross-validated over the fitted sets, 22 of 77 wrong answers had it second).
Quoting both, cross-validated: train 0.886 -> 0.929, its conversations 0.846 -> 0.923, the five manuals
0.45-0.81 -> 0.55-0.84; about two answers in five then quote two passages. Otherwise the sentence next to the
best in its chunk is second (`Passage.beside`) and quoted where both fit whole: the answer is often in the
sentence before or after the one that matches the question ("You can specify constraints ... by providing a
value for `tool.hatch.requires-hatch`." before "... it will exit with an error."); cross-validated over the
fitted sets +4 -0 (train 0.921 -> 0.929, Pydantic 0.719 -> 0.75, Starlette 0.774 -> 0.806)."""

SENTENCE_FEATURES = (
    "retrieval", "dense", "subject_sentence", "subject_context", "subject_chunk",
    "attribute_sentence", "attribute_section", "type_span", "new_fact", "table_row", "label", "length",
    "no_subject", "attribute_dense", "dense_gap", "list_place", "other_version", "aside", "both",
    "links", "series")
QUESTION_FEATURES = (
    "best", "subject_best", "subject_max", "attribute_best", "attribute_max", "joint", "type_best",
    "dense_best", "attribute_dense_best", "attribute_dense_max", "unknown", "volatile", "no_subject",
    "other_version_best", "unknown_name", "subject_chunk_best")
_FACTS = frozenset({"date", "number", "person", "place"})
"""Answer types that are facts of whom the question names: the passage must name them too (a year asked of
Orbit is not Zeta's year). A way, an option or an explanation is often stated without the question's
context names ("Which option writes Markdown docs to a file?" by "`--output <file>`: ..."), so for those
the fitted model weighs the missing name: cross-validated over the fitted sets, 8 answers more right (7 in
the manuals and their conversations); refusing for no type answered "In what year was Google founded?"."""


@dataclass(frozen=True)
class Passage:
    """A sentence (or table row) from a chunk, numbered as it is shown to the model and the user."""

    n: int
    path: str
    section: str
    text: str
    score: float
    """Fitted probability that this passage holds the answer."""
    page: int | None = None
    """The PDF page (or slide) the passage is on, if its file has pages."""
    beside: bool = False
    """The sentence next to the best one in its chunk, second for the context it gives it (see RUNNER_UP)."""

    @property
    def location(self) -> str:
        """Where the passage is, as the CLI and the web chat show it: `report.pdf, p. 12` or `notes.md`."""
        return f"{self.path}, p. {self.page}" if self.page else self.path


@dataclass(frozen=True)
class Evidence:
    """The passages for one question, best first, and the probability that they answer it."""

    question: Question
    passages: list[Passage]
    answerable: float
    """Probability that the documents answer the question; under the fitted threshold, labchat abstains."""
    features: np.ndarray
    """The question-level features `answerable` was computed from (kept for fitting and inspection)."""
    short: str | None = None
    """The short answer the best passage holds (`spans.short_answer`), if the question wants one."""


def sentences(chunk: Chunk) -> list[tuple[str, int]]:
    """List items, table rows (prefixed with the table's header) and prose sentences of a chunk, each with
    its place in its list (1 for a list's first item, as numbered or as counted; 0 for what is not an item).

    A list item under a "Label:" line carries the label ("Jiang Daxin's Background: Oversaw Azure cognitive
    services"), and so does a line of code under the sentence introducing it: the label says whom or what
    the item is about.
    """
    out: list[tuple[str, int]] = []
    header = ""
    leads: list[tuple[int, str]] = []  # (indent, "Label:") of the labels open above this line
    led: set[str] = set()  # labels that items repeat: not candidates of their own
    intros: set[str] = set()  # the clauses that introduce a list, here or in the next chunk
    counted: dict[int, int] = {}  # indent -> items so far of the list open at that indent
    for raw, code in _logical_lines(chunk.text):
        line = _unmarked(raw).strip()
        if not line or set(line) <= set("|-: "):
            continue
        if code:  # a line of code stands alone, under the sentence that introduced it ("... use:")
            if leads:
                led.add(leads[-1][1])
                line = f"{leads[-1][1]} {line}"
            out.append((line, 0))
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not header:
                header = " | ".join(cells)
                continue
            out.append((f"{header}: {' | '.join(cells)}", 0))
            continue
        header = ""
        item = LIST_MARKER.match(line)
        indent = len(raw) - len(raw.lstrip()) if item else -1
        while leads and leads[-1][0] >= indent:
            leads.pop()
        counted = {i: n for i, n in counted.items() if i <= indent}
        place = 0
        if item:
            number = _NUMBERED.match(item.group())
            place = counted[indent] = int(number.group(1)) if number else counted.get(indent, 0) + 1
        text = line[item.end():] if item else line
        if item and leads:
            line = f"{leads[-1][1]} {text}"
            led.add(leads[-1][1])
        elif item:  # "2. Fast Unicorn: ..." says no "2"
            line = text
        if line.endswith(":") and len(said := lead(text)) <= MAX_LEAD:
            leads.append((indent, said))
            intros.add(said)
        parts = _referents(_SENTENCE_END.split(line))
        if item and len(line) <= WHOLE_ITEM:  # "--port <int> - Bind to this port. Default: 8000." is one fact
            parts = [line]
        elif item and len(parts) > 1:
            # an item's later sentences are about what it opens with: "max_age - Session expiry time in
            # seconds. Defaults to 2 weeks." says "max_age - Defaults to 2 weeks", under the same label
            opening = line[:len(line) - len(text)] + (term.group() if (term := _TERM.match(text)) else "")
            parts = [parts[0], *(f"{opening}{p}" for p in parts[1:])]
        out += [(s, place) for s in parts]
    return [(_unled(s, intros), place) for s, place in out if s not in led]


def _referents(parts: list[str]) -> list[str]:
    """Sentences, each one that opens by pointing back ("These are connect, read, write and pool timeouts.")
    joined to the sentence it points to, which says what "these" are."""
    out: list[str] = []
    for part in (p.strip() for p in parts):
        if len(part) <= 2:
            continue
        if out and _POINTS_BACK.match(part):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def _unled(sentence: str, intros: set[str]) -> str:
    """A sentence whose last clause introduces a list, without that clause, which the list's items repeat
    (`chunking` keeps it with them when the list starts a new chunk): "As a company with deep expertise in
    gaming, Tencent possessed assets including:" is "As a company with deep expertise in gaming"; what it
    possessed is in the items, each of which then wins for what it says."""
    clause = next((intro for intro in intros if sentence.endswith(intro)), "")
    head = sentence[:-len(clause)].rstrip(" ,;") if clause else sentence
    return head if len(head) > 2 else sentence


def row_cells(text: str) -> list[tuple[str, str]] | None:
    """A table row candidate ("A | B: 1 | -", as `sentences` makes it) as its (column, cell) pairs; None
    for any other text."""
    header, _, row = text.partition(": ")
    names, cells = header.split(" | "), row.split(" | ")
    return list(zip(names, cells, strict=True)) if len(names) > 1 and len(names) == len(cells) else None


def asked_cells(text: str, attribute: frozenset[str]) -> str | None:
    """The cells of a table row under the columns the question asks about, with their columns ("Parameters
    Various" of a row whose "Model" cell says "11+ models", asked how many parameters); None for other text
    or a row with no such column. An answer's span must come from these cells."""
    cells = row_cells(text)
    asked = [(n, c) for n, c in cells or () if attribute & set(tokenize(n))]
    return " ".join(f"{n} {c}" for n, c in asked) or None


def stated(text: str) -> str:
    """What a candidate states: a table row ("A | B: 1 | -") as its filled columns ("A 1"), since a column
    left empty says nothing about the row's subject; other text with a pro's or con's mark spelled out."""
    cells = row_cells(text)
    if cells is None:
        return spell_marks(text)
    return " ".join(f"{n} {c}" for n, c in cells if c.strip().lower() not in _EMPTY_CELLS)


def _unmarked(text: str) -> str:
    """`text` without its emphasis and code marks, what the code marks held kept as written."""
    return _MARKUP.sub(lambda m: m.group(1) or "", text)


def _says_default(section: str, text: str) -> bool:
    return any(_DEFAULT.search(part) for part in (section, text))


def _to_front(order: np.ndarray, first: int) -> np.ndarray:
    """`order` with its entry at `first` moved ahead of the others, which keep their order."""
    return np.r_[order[first], np.delete(order, first)]


def _narrowed(candidates: np.ndarray, preferred: np.ndarray) -> np.ndarray:
    """The candidates that are also preferred, if any are; else all of them (a preference, not a filter)."""
    both = candidates & preferred
    return both if both.any() else candidates


def _promote(order: np.ndarray, holds: Callable[[int], bool]) -> np.ndarray:
    """`order` with the first of its best `_REACH` candidates that `holds` moved to the front."""
    first = next((k for k, i in enumerate(order[:_REACH]) if holds(int(i))), 0)
    return _to_front(order, first)


_POSSESSIVE = re.compile(r"\b((?:[A-Z][\w.\-]*\s+)*[A-Z][\w.\-]*)['\u2019]s\s+(?:[a-z][\w\-]*\s+){0,2}?"
                         r"([A-Z0-9][\w.\-]*(?:\s+[A-Z0-9][\w.\-]*)*)")
"""A name owning a name ("Alibaba's Yi-Lightning", "Tencent's initial Hunyuan T1 release")."""
_OWNED_AT = re.compile(r"\b([A-Z0-9][\w.\-]*(?:\s+[A-Z0-9][\w.\-]*)*)\s+(?:[a-z][\w\-]*\s+){0,2}?"
                       r"(?:at|of|from)\s+((?:[A-Z][\w.\-]*\s+)*[A-Z][\w.\-]*)")
"""A name placed with another: the owned first ("the Yi-Coder team at StepFun", "Kimi from Zhipu")."""


def unattested(text: str, chunks: list[Chunk], is_name: Callable[[str], bool]) -> bool:
    """Whether the question gives a name an owner no chunk read names with it ("Alibaba's Yi-Lightning",
    "the Yi-Coder team at StepFun", when the documents write Yi-Lightning and Yi-Coder only beside 01.AI):
    the question's premise is not the documents'."""
    said: list[set[str]] = []  # the chunks' words, read only for a question that gives a name an owner
    owned_by = [m.groups() for m in _POSSESSIVE.finditer(text)]
    for pair in owned_by + [m.groups()[::-1] for m in _OWNED_AT.finditer(text)]:
        owner, owned = ([t for word in group.split() if len(word) > 1 and is_name(word)
                         for t in tokenize(word)] for group in pair)
        if owner and owned:
            said = said or [set(tokenize(f"{chunk.section} {chunk.text}")) for chunk in chunks]
            if not any({*owner, *owned} <= words for words in said):
                return True
    return False


def unknown_names(text: str, vocabulary: Vocabulary, written: str = "") -> float:
    """Share of the names a question types (a capital after its first word, or letters with digits:
    "CTO", "SWE-bench", "H100") that the documents never write: what they ask about is elsewhere. Plain
    words are left out, which the documents may well say otherwise. An identifier ("max_redirects",
    "httpx.Limits") and a version ("httpx 2.0", "Step-2") are looked for in `written`, the retrieved
    chunks' headings and text: their parts are words the documents do write ("max", "redirects"; "httpx",
    "2.0")."""
    versioned = [range(*m.span()) for m in version_matches(text)]
    typed = [w for m in _TYPED.finditer(text) if m.start() > 0 and re.search(r"[A-Za-z]", w := m.group())
             and re.search(r"[A-Z\d]", w) and not any(m.start() in span for span in versioned)]
    tokens = [found[0] for word in typed if (found := tokenize(word)) and not _IDENTIFIER.fullmatch(word)]
    identifiers = [m.group().lower() for m in _IDENTIFIER.finditer(text)]
    asked = versions(text)
    unknown = sum(not vocabulary.known(t) for t in tokens)
    if identifiers:
        lower = written.lower()
        unknown += sum(i not in lower for i in identifiers)
    if asked:  # the retrieved text is read only for what the question asks
        unknown += len(asked - versions(written))
    total = len(tokens) + len(identifiers) + len(asked)
    return unknown / total if total else 0.0


def unwritten_code(text: str, written: str) -> bool:
    """Whether the question names code ("exclude_paths", "--no-update", "Depends()") that `written`, the
    retrieved chunks' headings and text, never writes: an option or a function the documents do not have.
    Over the fitted sets' questions that name code, every one whose code the retrieved text lacks is
    unanswerable (6 of 6) and no answerable one lacks it (0 of 38); misspellings are corrected before the
    search."""
    lower = written.lower()
    return any(m.group().lower() not in lower for m in _IDENTIFIER.finditer(text)) or any(
        f"{m.group()}(" not in written for m in _CALLED.finditer(text))


_ALTERNATIVE_AFTER = re.compile(r"[^\w.;:]*(?:,|\bor\b|\band\b)\s+\S")
"""What follows a name with another in the same list: ", cost-effective", " or by setting ..."."""


def _beside_aside(aside: frozenset[str], text: str) -> bool:
    """Whether `text` names what the question sets aside ("Besides the --config option, ...") with another
    thing listed after it ("the --config option or the HATCH_CONFIG variable"): the other is the answer,
    not the aside again."""
    text = _LINK.sub(r"\1", text)
    words = [(m.end(), bool(set(tokenize(m.group())) & aside)) for m in _WORD.finditer(text)]
    first = next((k for k, (_, held) in enumerate(words) if held), None)
    if first is None:
        return False
    last = first  # the end of the first run of the aside's words ("the --config root option")
    while last + 1 < len(words) and words[last + 1][1]:
        last += 1
    return bool(_ALTERNATIVE_AFTER.match(text, words[last][0]))


def _without(text: str, subject: frozenset[str]) -> str:
    """`text` without the words of the question's subject."""
    return _WORD.sub(lambda m: "" if set(tokenize(m.group())) <= subject else m.group(), text)


def _logical_lines(text: str) -> list[tuple[str, bool]]:
    """The text's lines, each with whether it is code, hard-wrapped prose joined again ("... not enabled by
    default, because" + "HTTP/1.1 is a mature ..."), so a sentence is one candidate; lines ending in a
    markdown hard break (a list of links, one per line) stay apart."""
    lines: list[tuple[str, bool]] = []
    joinable = code = False
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped.startswith("```"):
            code, joinable = not code, False
            continue
        starts = LIST_MARKER.match(stripped) or stripped.startswith(("|", "#", ">"))
        if joinable and stripped and not code and not starts:
            lines[-1] = (f"{lines[-1][0].rstrip()} {stripped}", False)
            continue
        if stripped:
            lines.append((raw, code))
        joinable = bool(stripped) and not code and not stripped.startswith(("|", "#")) and not hard_break(raw)
    return lines


def _code_in(chunk: Chunk) -> frozenset[str]:
    """What a chunk writes as code: names between backticks, and its short lines of code ("conda install
    pydantic -c conda-forge" answers "How do I install it with conda?")."""
    lines = {_unmarked(line).strip() for line, code in _logical_lines(chunk.text) if code}
    return written_as_code(chunk.text) | {line for line in lines if _COMMAND.fullmatch(line)}


class EvidencePicker:
    """Scores candidate sentences with the fitted models; one picker serves every question."""

    def __init__(self, vocabulary: Vocabulary, embedder: Embedder, models: FittedModels) -> None:
        self.vocabulary = vocabulary
        self.embedder = embedder
        self.models = models

    def share(self, tokens: frozenset[str], found: set[str]) -> float:
        """Share of the tokens' rarity weight that is among `found`; 1.0 when there are no tokens."""
        total = sum(self.vocabulary.weight(t) for t in tokens)
        return sum(self.vocabulary.weight(t) for t in tokens & found) / total if total else 1.0

    def names(self, subject: frozenset[str], text: str) -> bool:
        """Whether `text` names any of the subject's words, or the subject is none."""
        return not subject or self.share(subject, set(tokenize(text))) > 0

    def candidates(self, question: Question, hits: list[Hit]) -> tuple[list[tuple[Hit, str]], np.ndarray]:
        """Every sentence of the hits and its row of SENTENCE_FEATURES."""
        found = [(hit, s, place) for hit in hits for s, place in sentences(hit.chunk)]
        pairs = [(hit, s) for hit, s, _ in found]
        said = [stated(s) for _, s in pairs]
        if not pairs:
            return [], np.zeros((0, len(SENTENCE_FEATURES)))
        n = len(pairs)
        shown = (f"{h.chunk.section}: {spell_marks(s)}" for h, s in pairs)
        vectors = self.embedder.encode([question.text, *shown, _without(question.text, question.subject),
                                        *(_without(s, question.subject) for s in said)])
        dense = vectors[1:n + 1] @ vectors[0]
        # what is asked, without whom it is asked of: "the CTO role" against what the sentence says
        asked = vectors[n + 2:] @ vectors[n + 1]
        rows = []
        asked_versions = variants(question.text)
        code = {id(hit): _code_in(hit.chunk) for hit in hits}
        many = asks_for_many(question)
        for (hit, raw, place), text, cosine, attribute in zip(found, said, dense, asked, strict=True):
            words, section = set(tokenize(text)), set(tokenize(hit.chunk.section))
            chunk = words | section | set(tokenize(hit.chunk.text))
            rows.append([
                hit.score, float(cosine), self.share(question.subject, words),
                self.share(question.subject, words | section), self.share(question.subject, chunk),
                self.share(question.attribute, words), self.share(question.attribute, section),
                float(has_span(asked_cells(raw, question.attribute) or text, question.answer_type,
                               question.text, self.vocabulary.is_name, code[id(hit)])),
                float(any(has_span(text, kind, question.text) for kind in ("other", "number"))),
                float(" | " in raw and ": " in raw), float(raw.endswith(":")),
                math.log(1 + len(_LINK.sub(r"\1", raw))),
                float(not question.subject), float(attribute), float(cosine - dense.max()),
                float(question.ordinal > 0 and place == question.ordinal),  # "the fourth scenario"
                float(other_version(asked_versions, text)),
                self.share(question.aside, words) if question.aside and not _beside_aside(
                    question.aside, text) else 0.0,
                # about the subject and saying what is asked, at once: what a linear ranker cannot add up
                self.share(question.subject, words | section) * self.share(question.attribute, words),
                # a line that is mostly a link ("5. [Moonshot AI (Kimi)](#moonshot-ai-kimi)", "see: [x.md]")
                # points to where something is said rather than saying it
                sum(map(len, _LINK.findall(raw))) / max(len(_LINK.sub(r"\1", raw)), 1),
                # asked for several things ("Which lockers come built in?"), a sentence that names several in
                # a row ("Built-in lockers are uv and pip") though it shares fewer words with the question
                float(many and enumerates(raw, code[id(hit)]))])
        return pairs, np.array(rows, dtype=np.float64)

    def pick(self, question: Question, hits: list[Hit], limit: int, max_chars: int) -> Evidence:
        pairs, rows = self.candidates(question, hits)
        scores = self.models.sentence(rows) if len(pairs) else np.zeros(0)
        whom = frozenset(t for t in question.subject if not self.vocabulary.is_topic(t))
        passages: list[Passage] = []
        kept: list[int] = []
        used = 0
        order = np.argsort(-scores, kind="stable")
        why = asks_why(question.text)
        if (question.answer_type in SPAN_TYPES or why) and len(order):
            # the answer to "how many" is the best sentence that holds an amount, ahead of better-scored ones
            # that hold none ("Access to user feedback" for "How many users?"), and the answer to "why" the
            # best that states a cause of what is asked about (not of something else); they stay as context
            spans = rows[order, SENTENCE_FEATURES.index("type_span")] > 0
            if why and question.subject:
                spans &= rows[order, SENTENCE_FEATURES.index("subject_context")] > 0
            # nor is a sibling's amount moved up (Zeta-2's size asked for Zeta-Audio's)
            spans &= rows[order, SENTENCE_FEATURES.index("other_version")] == 0
            if asked := versions(question.text):  # the date of GLM-4.5, not of ERNIE 4.5
                named = np.array([bool(asked & versions(f"{pairs[i][0].chunk.section} {pairs[i][1]}"))
                                  for i in order])
                spans = _narrowed(spans, named)
            if question.answer_type == "person":  # of the best three, one naming who did what is asked
                # ("Founded by Tsinghua professors Tang Jie") goes ahead of a name without a doer ("founded
                # as a spinoff from Tsinghua University"), which the "who" refusal below rejects; so long as
                # it is about whom it is asked of (not "01.AI was founded by Kai-Fu Lee" for Zhipu AI)
                doers = np.zeros(len(order), dtype=bool)
                doers[:_REACH] = [
                    done_by(pairs[i][1], question.text, self.vocabulary.is_name, question.attribute)
                    and self.names(whom, f"{pairs[i][0].chunk.section} {pairs[i][1]}")
                    for i in order[:_REACH]]
                spans = _narrowed(spans, doers)
            if question.answer_type == "number":  # of the best three, one counting what is asked goes first
                counted = np.zeros(len(order), dtype=bool)
                counted[:_REACH] = [counts_asked(pairs[i][1], question.text, question.attribute)
                                    for i in order[:_REACH]]
                spans = _narrowed(spans, counted)
            if spans.any():
                order = _to_front(order, int(np.argmax(spans)))
        if _ASKS_DEFAULT.search(question.text) and not why and len(order):
            # "What does Poetry use for git by default?" is answered by the sentence that says a default of
            # what is asked ("Poetry uses dulwich by default for git"), of the three best, ahead of
            # better-scored ones that say none (a default port does not answer for the default timeout)
            def says(i: int) -> bool:
                return _says_default(pairs[i][0].chunk.section, pairs[i][1]) and bool(
                    question.attribute - {"default"} & set(tokenize(pairs[i][1])))

            if any(says(int(i)) for i in order[:_REACH]):
                order = _promote(order, says)
            else:
                # a settings page gives a setting's default a line of its own under the setting's heading
                # ("### installer.max-workers", "**Default**: `number_of_cores + 4`"), which shares few words
                # with the question and ranks low: under the best passage's heading, that line goes first
                section = pairs[order[0]][0].chunk.section
                order = _to_front(order, next((k for k, i in enumerate(order) if pairs[i][0].chunk.section
                                               == section and _DEFAULT_LABEL.match(pairs[i][1])), 0))
        if _HOW_TO.match(question.text) and len(order):
            # "How do I hide the input?" in a manual is answered by the option that does it
            # ("hide_input=True"): of the three best sentences, the first that names code goes first
            order = _promote(order, lambda i: has_span(pairs[i][1], "code", question.text,
                                                       code=_code_in(pairs[i][0].chunk)))
        for i in order:
            hit, text = pairs[i]
            if why and not passages and not has_span(text, "reason", question.text) and i + 1 < len(pairs) \
                    and pairs[i + 1][0] is hit:
                # a manual says what does not work, then why: "TAB completion won't work with python -m." +
                # "Auto-completion depends on the name of the program called": the two are one answer
                text = f"{text} {pairs[i + 1][1]}"
            if used + len(text) > max_chars or any(p.text == text for p in passages):
                continue
            passages.append(Passage(len(passages) + 1, hit.chunk.path, hit.chunk.section, text,
                                    round(float(scores[i]), 3), hit.chunk.page))
            kept.append(int(i))
            used += len(text)
            if len(passages) == limit:
                break
        if passages:
            passages = self._beside(passages, pairs, scores, kept[0], limit, max_chars)
        # a heading writes names too: "### `installer.max-workers`" over "**Default**: `number_of_cores + 4`"
        written = " ".join(f"{hit.chunk.section} {hit.chunk.text}" for hit in hits)
        best = f"{passages[0].section} {passages[0].text}" if passages else ""
        features = self.question_features(question, rows[kept], scores[kept], written, best)
        # a question with no word to search for (emoji only) is about nothing the documents say; and a
        # passage that does not name the question's subject, in itself or its section, does not answer a fact
        # asked of it ("Who founded Anthropic?" is not answered by another lab's founders), the names the
        # whole corpus is about aside (`Vocabulary.is_topic`); nor is a question whose every name the
        # documents never write ("the default of max_redirects", "the httpx 2.0 release")
        value = dict(zip(QUESTION_FEATURES, features, strict=True))
        about = passages and value["unknown_name"] < 1 and (
            question.answer_type not in _FACTS or self.names(whom, best))
        # nor one that names code the passages found never write ("GZipMiddleware's exclude_paths option")
        about = about and not unwritten_code(question.text, written)
        # nor one whose premise no chunk read shares ("the size of Alibaba's Yi-Lightning", made by 01.AI)
        about = about and not unattested(question.text, [hit.chunk for hit in hits], self.vocabulary.is_name)
        # nor is "When did Tencent release GLM-4.5?" answered from a chunk that never writes 4.5 (a release
        # note under "## 0.24.0" writes its version alone)
        numbers = {number for _, number in versions(question.text)}
        about = about and (not numbers or bool(numbers & set(_VERSION_NUMBER.findall(
            f"{pairs[kept[0]][0].chunk.section} {pairs[kept[0]][0].chunk.text}"))))
        # a question that asks for a date, an amount or a person is not answered by a passage without one
        # ("How many engineers?" by a sentence that names none): issue 11.2's "a span of the right type"
        typed = question.answer_type not in SPAN_TYPES or value["type_best"] > 0
        # and "who" by a passage that says the role asked about ("founded by", "Led by"; for "finance chief"
        # more than "chief scientist": over half its words by rarity), or the doer after "by", not any name
        # ("Who is behind SenseNova?" by the organisation whose part of the documents the passage is in)
        made_by = passages and maker(question.text, passages[0].section, self.vocabulary.is_name)
        typed = typed and (question.answer_type != "person" or not passages or value["attribute_best"] > 0.5
                           or bool(made_by) or done_by(passages[0].text, question.text,
                                                       self.vocabulary.is_name, question.attribute))
        # and "What is the default timeout?" not by a passage that says nothing of a default (an example's
        # "timeout=10.0" is no default; "open it in the default program" asks for a way, not a value)
        typed = typed and not (passages and _ASKS_DEFAULT.search(question.text) and not why
                               and not _says_default(passages[0].section, passages[0].text))
        # and "how many employees" not by "a $1B valuation", an amount of another named kind, nor "How much
        # does a subscription cost?" by "three simple steps": a price is an amount of money
        typed = typed and not (question.answer_type == "number" and passages
                               and (other_quantity(question, passages[0].text)
                                    or unpaid(question, passages[0].text)))
        # and nothing asked of the moment of asking ("today", "right now"): no document was written then
        typed = typed and not asks_now(question.text)
        short = passages and short_answer(question.answer_type, question.text, question.attribute,
                                          asked_cells(passages[0].text, question.attribute)
                                          or passages[0].text, self.vocabulary.is_name,
                                          _code_in(pairs[kept[0]][0].chunk))
        short = short or (passages and (made_by or named_by_heading(question.text, passages[0].section)))
        answerable = (float(self.models.answerable(features[None, :])[0])
                      if about and typed and question.tokens else 0.0)
        return Evidence(question, passages, answerable, features, short or None)

    @staticmethod
    def _beside(passages: list[Passage], pairs: list[tuple[Hit, str]], scores: np.ndarray, best: int,
                limit: int, max_chars: int) -> list[Passage]:
        """The passages with the better-scored of the best one's neighbours in its chunk second, unless the
        second is already about as likely to hold the answer (RUNNER_UP); the later ones that no longer fit
        in `max_chars` give way to it."""
        if len(passages) > 1 and passages[1].score >= RUNNER_UP * passages[0].score:
            return passages
        hit = pairs[best][0]
        near = [j for j in (best - 1, best + 1) if 0 <= j < len(pairs) and pairs[j][0] is hit
                and pairs[j][1] != passages[0].text]
        if not near:
            return passages
        j = max(near, key=lambda k: scores[k])
        beside = Passage(2, hit.chunk.path, hit.chunk.section, pairs[j][1], round(float(scores[j]), 3),
                         hit.chunk.page, beside=True)
        kept, used = [passages[0], beside], len(passages[0].text) + len(beside.text)
        if used > max_chars:
            return passages
        for p in passages[1:]:
            if p.text != beside.text and used + len(p.text) <= max_chars and len(kept) < limit:
                kept.append(p)
                used += len(p.text)
        return [replace(p, n=n) for n, p in enumerate(kept, 1)]

    def question_features(self, question: Question, rows: np.ndarray, scores: np.ndarray,
                          written: str, best: str) -> np.ndarray:
        """QUESTION_FEATURES from the kept candidates (best first), each named once, in the tuple's order;
        `written` is the retrieved chunks' headings and text, `best` the best passage's section and text."""
        unknown = 1.0 - self.share(question.tokens, {t for t in question.tokens if self.vocabulary.known(t)})
        unknown = max(unknown, question.untranslated)  # Chinese the search could not carry is unknown too
        values = {"unknown": unknown, "volatile": float(volatile(question, best)),
                  "no_subject": float(not question.subject),
                  "unknown_name": unknown_names(question.text, self.vocabulary, written)}
        if len(scores):
            col = {name: rows[:, i] for i, name in enumerate(SENTENCE_FEATURES)}
            attribute = np.maximum(col["attribute_sentence"], col["attribute_section"])
            # "joint": a candidate about the subject that states the attribute
            values |= {
                "best": scores[0], "subject_best": col["subject_context"][0],
                "subject_max": col["subject_context"].max(), "attribute_best": col["attribute_sentence"][0],
                "attribute_max": attribute.max(),
                "joint": (col["subject_context"] * attribute).max(),
                "type_best": col["type_span"][0], "dense_best": col["dense"][0],
                "attribute_dense_best": col["attribute_dense"][0],
                "attribute_dense_max": col["attribute_dense"].max(),
                "other_version_best": col["other_version"][0],
                # the best passage's chunk names all the question names: not Tencent's GLM-4.5
                "subject_chunk_best": col["subject_chunk"][0]}
        else:  # no candidate: nothing found
            values |= {name: 0.0 for name in QUESTION_FEATURES if name not in values}
        return np.array([values[name] for name in QUESTION_FEATURES])
