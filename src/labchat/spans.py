"""Spans of the kind a question asks for (a date, an amount, a name) in a passage: whether a candidate holds
one (a feature of `evidence`), and which one is the short answer (`extract`). One set of patterns for both,
so a passage never counts as holding a date the answer then cannot show. Also the versions a text names
("Step-2", "ERNIE 4.5"), so a sentence about another version is told from one about the version asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from labchat.chunking import PATH_SEPARATOR
from labchat.conversation import BRACKETED
from labchat.retrieve import STOPWORDS, tokenize

_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
DATE = re.compile(rf"\b{_MONTHS}[a-z]*\.?\s+(?:\d{{1,2}},\s+)?"
                  r"\d{4}\b|\b(?:19|20)\d{2}\b")
_QUARTER = re.compile(r"\bQ[1-4]\b")
NUMBER = re.compile(r"(?:[$\u00a5\u20ac\u00a3]\s?)?(?<![\w.\-:/#])\d+(?:[.,]\d+)*"
                    r"(?:\s?(?:[%+]|[KMBT]\b|[kmbt]n\b|TB|GB|(?:thousand|million|billion|trillion)\b)|-fold\b|[x\u00d7]\b)?"
                    r"\+?"
                    r"|\b(?i:(?:several\s+)?(?:hundreds?|thousands?|millions?|billions?|trillions?)"
                    r"(?:\s+of\s+(?:thousands|millions|billions))?)\b"
                    r"|\b(?i:(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
                    r"forty|fifty|sixty|a dozen|a hundred)(?:-[a-z]+)?(?:\s+[a-z]+)?)\b")
"""An amount: not the digits of a name (Baichuan4, Step-2) or of a reference ("arXiv:2412.15270", "#42");
in words, whole ("hundreds of millions", "five seconds": "one" is left out, being more often a pronoun
than an amount)."""
NAME = re.compile(r"\b[A-Z][\w\-.]*[A-Za-z0-9](?:\s+[A-Z][\w\-.]*[A-Za-z0-9])*")
"""A capitalised name (Wang Xiaochuan, Hunyuan-Large): what a who/which answer holds, and a fact to check."""
_MONTH = rf"{_MONTHS}[a-z]*\b"
_WORD = re.compile(r"[\w\-.]+")
"""A word of a name, kept whole: "Step-2", "01.AI", "Kai-Fu"."""
_PLACE_NAME = r"[A-Z][\w\-]*[a-z](?:\s[A-Z][\w\-]*[a-z])*\b"
_PLACE_END = r"(?=[,.;:)\]]|\s*$|\s(?:in|and|or|since|with|for|to|where|which|at|on|from|during|until|as)\b)"
PLACE = re.compile(rf"(?<=\b[Ii]n )(?!{_MONTH}|[A-Z]+\b){_PLACE_NAME}"
                   rf"(?:,\s{_PLACE_NAME})?{_PLACE_END}"  # "in Xuhui, Shanghai, the company ..."
                   rf"|(?<=\()(?!{_MONTH})[A-Z][a-z]+(?:\s[A-Z][a-z]+)*(?=\))")
"""A place: a name after "in" ("Headquartered in Xuhui, Shanghai", "In Hangzhou, ...") that ends
a phrase, or alone in brackets after what is there ("Tencent (Shenzhen)"); not a month ("in March 2023"),
an acronym, or a word qualifying the next ("experts in Chinese NLP"). Not after "at" either: "experience
at Microsoft" is a company. Any capitalised word is too loose: "Kai-Fu Lee" is no answer to where a company
sits."""
CODE = re.compile(r"(?<![\w-])--[A-Za-z][\w-]*"  # an option: --output
                  r"|\b(?!(?:e\.g|i\.e)\b)[A-Za-z_]\w*\.[A-Za-z_][\w.]*[\w)](?:\(\))?"  # typer.get_app_dir()
                  r"|\b[A-Za-z]\w*_\w+"  # hide_input, TYPER_USE_RICH
                  r"|\b[A-Z]\w*[a-z][A-Z]\w*|\b[A-Z]{2,}[a-z]\w*"  # CliRunner, HTTPError
                  r"|\b\w+\(\)")  # prompt()
"""A name in code: an option, a dotted or snake_case name, a CamelCase class, a call. Written in plain text,
for a passage's text no longer holds the backticks around it."""
_CODE_SHAPES = (
    (re.compile(r"\b(?:class|exception|error)\b", re.I), re.compile(r"(?:\w+\.)*[A-Z]\w*[a-z]\w*")),
    (re.compile(r"\b(?:env(?:ironment)? var(?:iable)?)\b", re.I), re.compile(r"[A-Z][A-Z0-9]*_[A-Z0-9_]+")),
    (re.compile(r"\bflags?\b", re.I), re.compile(r"--?[A-Za-z][\w-]*")))
"""What a class (CliRunner, httpx.Client), an environment variable (NO_PROXY) and a command-line flag (-v,
--output) look like, asked by name."""
_BACKTICKED = re.compile(r"`([^`\s]{1,40}|[A-Za-z][\w.\-]*(?: [A-Za-z][\w.\-]*){1,2})`")
"""Code in markdown, one name long (`slim`, `--output`, `extra='allow'`) or a command's name of two or three
words (`env prune`, `python install`): not a command line, nor code with operators (`x = 1`)."""
_SEPARATOR = re.compile(r",?\s+and\s+|,\s+")
_NAMES = rf"{NAME.pattern}(?:(?:{_SEPARATOR.pattern}){NAME.pattern})*"
_LISTED = re.compile(_NAMES)
_AGENT = re.compile(rf"(?<=\bby ){_NAMES}")
"""Who did it, named after "by": "Backed by Alibaba and Tencent", "founded by Jiang Daxin"."""
_QUALIFIED = re.compile(rf" (?!(?:{'|'.join(sorted(STOPWORDS))})\b)[a-z]+")
"""A lower-case word that is no function word, right after a name: the name qualifies it; names right after
it are who it is ("by Tsinghua professors Tang Jie and Li Juanzi")."""
_QUALIFIED_AGENT = re.compile(rf" {_NAMES}")
_OPERATED = re.compile(r"[\w)]\s*[+*/]\s*\Z")
_OPERATES = re.compile(r"\s*[+*/]\s*[\w(]")
"""An arithmetic operator before or after an amount, a term on its other side ("cores + 4", "1024*1024")."""
_URL = re.compile(r"(?:https?://|www\.)\S+")
"""A web address: its digits ("%3A", "/issues/42") are no amount, though a path may date a page
("cnbc.com/2025/05/15/...")."""
_SITE = re.compile(r"(?:https?://)?(?:www\.)?([\w\-]+(?:\.[\w\-]+)+)")
"""The site a web address is on: "china-briefing.com" of "https://www.china-briefing.com/news/..."."""
_PERSON = re.compile(r"\b[A-Z][a-z]+(?:[\s\-][A-Z][a-z]+)+\b")
_YEAR = re.compile(r"19\d{2}|20[0-3]\d")
"""A year: up to the 2030s, so a power of two ("Default: 2048", "4096 tokens") stays an amount."""
_VERSIONED = re.compile(r"\b([A-Za-z]+)(?:([-/]?)|( ))(\d+(?:\.\d+)*)(?![\d.]*\d)")
"""A name with a version: "Step-2", "HTTP/3", "V6", "Qwen2.5", "ERNIE 4.5" (written apart, the number has a
dot or the name a capital, so "in 3 years" is no version)."""
_WHY = re.compile(r"^\s*why\b|\bwhat (?:is|was|are|were) the reasons?\b|\bfor what reason\b|为什么",
                  re.IGNORECASE)
"""A question for a cause ("Why is HTTP/2 off by default?"), not for a way ("How does it ...?")."""
_CAUSE = re.compile(r"\b(?:because|due to|owing to|thanks to|so that|in order to|as a result|the reason)\b"
                    r"|因为|由于", re.IGNORECASE)
"""Words that state a cause (English, and 因为, 由于)."""
_APART = re.compile(r"\b([A-Za-z]+) (?=([A-Z][A-Za-z]+)\b)")
"""A name and a capitalised word after it ("ERNIE Bot"): with a version asked of the name, a sibling."""
_VARIANT = re.compile(r"\b([A-Z][A-Za-z]*)-([A-Z][A-Za-z]*)\b(?![\-\d])")
SPAN_TYPES = frozenset({"date", "number", "person", "place", "code", "site"})
"""Answer types whose answer is a span `spans` finds reliably: the short answer is one, and the best passage
must hold one."""
_KIND = {"date": "date", "number": "number", "compare": "number", "person": "name", "place": "place",
         "code": "code", "site": "site", "other": "name"}
"""The kind of span each answer type looks for; a reason or a list has none (a clause is its answer)."""


def written_as_code(markdown: str) -> frozenset[str]:
    """The names a markdown text writes between backticks (`slim`, `app`): code, though plain words in
    shape, which a passage's text no longer marks."""
    return frozenset(_BACKTICKED.findall(markdown))


def spans(text: str, answer_type: str, question: str, is_name: Callable[[str], bool] | None = None,
          code: frozenset[str] = frozenset()) -> list[re.Match[str]]:
    """The spans of `text` of the kind `answer_type` asks for that the question does not already hold;
    `code` is what the text's chunk writes as code (`written_as_code`)."""
    kind = _KIND.get(answer_type)
    if kind is None:
        return []
    pattern = {"date": DATE, "number": NUMBER, "name": NAME, "place": PLACE, "code": CODE, "site": _URL}[kind]
    if kind not in ("date", "site"):  # a web address's digits are no amount ("%3A"); its path may date a page
        text = _URL.sub(lambda m: " " * len(m.group()), text)  # same length: the spans keep their places
    found = [*pattern.finditer(text), *(_QUARTER.finditer(text) if kind == "date" else ())]
    if kind == "code" and code:
        names = "|".join(map(re.escape, sorted(code, key=len, reverse=True)))
        marked = re.compile(rf"(?<![\w.\-/])(?:{names})(?![\w\-/])")
        found = sorted([*found, *marked.finditer(text)], key=lambda m: m.start())
    if kind == "code":  # a part of a path ("docs_src/app_dir/main.py") is no name to answer with
        found = [m for m in found if "/" not in text[max(m.start() - 1, 0):m.end() + 1]]
        # the shape of what is asked, the first named: "env var to use instead of the -e flag" asks a variable
        named = [(said.start(), shape) for asks, shape in _CODE_SHAPES if (said := asks.search(question))]
        asked = min(named, default=None, key=lambda pair: pair[0])
        found = [m for m in found if asked is None or asked[1].fullmatch(m.group())]
    return _new(found, answer_type, question, is_name)


_COUNT = re.compile(r"\bhow\s+many\b(?!\s+(?:times|percent)\b)", re.IGNORECASE)
"""A question for a count of things ("How many parameters?"), not for a factor ("how many times faster")."""
_RATIO = re.compile(r"(?:%|-fold|[x\u00d7])\+?$")
"""An amount that relates two others ("17-fold", "3x", "40%"): it counts no thing."""


def _new(found: list[re.Match[str]], answer_type: str, question: str,
         is_name: Callable[[str], bool] | None) -> list[re.Match[str]]:
    """The spans the question does not already say. A year is not an amount (though a comparison may
    weigh years), nor a version; given `is_name`, a name needs a word the corpus writes as a name, so
    "Training Data:" does not answer "who", and a person is no versioned name ("Baichuan4-Finance") nor
    named by a month alone ("Release Date Dec"), and a count is no ratio ("How many parameters?" is not
    answered by "a 17-fold improvement")."""
    asked, named = question.lower(), _KIND[answer_type] == "name" and is_name is not None
    person, counted = answer_type == "person", answer_type == "number" and bool(_COUNT.search(question))
    apart = _versions_apart(found[0].string) if found and answer_type == "number" else set()
    return [m for m in found if (value := m.group().strip()).lower() not in asked
            and (answer_type != "number" or not (_YEAR.fullmatch(value) or m.span() in apart))
            and not (counted and _RATIO.search(value))
            and not (person and version_matches(value))
            and (not named or any(is_name(w) for w in _WORD.findall(value)
                                  if not (person and re.fullmatch(_MONTH, w))))]


def _versions_apart(text: str) -> set[tuple[int, int]]:
    """Where `text` writes a name's version apart from it ("ERNIE 4.0 Turbo launched"): numbers there are no
    amount, though "Qwen 72B" is one (a size) and "nearly 4.5 million" too (not a version, having a unit).
    Read once per text, not once per number found in it."""
    return {m.span(4) for m in version_matches(text) if m.group(3) and "." in m.group(4)}


def asks_why(question: str) -> bool:
    """Whether the question asks for a cause ("Why ...?", 为什么), not for a way ("How does it ...?")."""
    return bool(_WHY.search(question))


_MAKER = re.compile(r"\b(?:which|what)\s+(?:company|companies|firm|lab|organi[sz]ation|startup|business)\s+"
                    r"(?:makes?|made|builds?|built|develops?|developed|owns?|owned|runs?|created?)\b"
                    r"|^\s*who\s+(?:makes?|made|builds?|built|develops?|developed|owns?)\b"
                    r"|^\s*(?:who|which\s+company|what\s+company)(?:\s+(?:is|are|was|were|stands?)|['\u2019]s)\s+"
                    r"behind\b", re.IGNORECASE)
"""A question for the organisation behind something ("Which company makes ...?", "Who develops ...?", "Who is
behind ...?")."""
_BY_REACH = 5
"""Words before "by" that may say what the doer did: "founded in March 2023 by"."""
_DID = re.compile(r"^\s*who\s+(?!(?:is|was|are|were|has|had)\b)[a-z]+", re.IGNORECASE)
"""A question for who did something ("Who built X?"), not for who holds a role ("Who is X's CTO?")."""


def done_by(text: str, question: str, is_name: Callable[[str], bool],
            attribute: frozenset[str] = frozenset()) -> bool:
    """Whether, asked who did something, `text` names someone after "by" ("developed by Xiaohongshu" for
    "Who built it?"): the doer, in other words than the question's; or, asked for a role, names someone
    after "by" where the role's verb just before says what they did ("Founded in March 2023 by Yang
    Zhilin" for "Who were its founders?")."""
    did = bool(_DID.match(question))
    return any(any(is_name(w) for w in _WORD.findall(m.group()))
               and (did or bool(attribute & set(tokenize(" ".join(text[:m.start()].split()[-_BY_REACH:])))))
               for m in _AGENT.finditer(text))


_ITEM = r"(?<![\w.+/<>-])[\w.+/<>-]+(?:\s+[A-Z][\w.+-]*){0,2}"
_SERIES = re.compile(rf"({_ITEM})((?:,\s+{_ITEM})*)(?:,?\s+(?:and|or)\s+({_ITEM}))?")
"""Items in a row: "uv and pip", "one of rev, tag, or branch", "Global Events, Page Events and Template
Events", "warn, info, ignore"."""


def enumerates(text: str, code: frozenset[str] = frozenset()) -> bool:
    """Whether `text` names several things in a row: two joined by "and"/"or" that are each a name or code
    (`code`: what its chunk writes as code), or three and more. What a question for several things wants."""
    for match in _SERIES.finditer(text):
        items = [match.group(1), *(i.strip() for i in match.group(2).split(",") if i.strip())]
        items += [match.group(3)] if match.group(3) else []
        named = all(item in code or item[0].isupper() or not item.isalpha() for item in items)
        if len(items) >= 3 or (len(items) == 2 and match.group(3) and named):
            return True
    return False


def has_span(text: str, answer_type: str, question: str,
             is_name: Callable[[str], bool] | None = None, code: frozenset[str] = frozenset()) -> bool:
    """Whether `text` holds something of the kind asked for that the question does not already say. Given
    `is_name`, a person must be a name the corpus writes as one; any capitalised word counts for a "what"
    (checking those against the corpus too made cross-validated train worse, 0.85 -> 0.81); a place is a
    name where something is (`PLACE`)."""
    if answer_type == "list":
        return "," in text or " and " in text
    if answer_type == "reason":  # a way is a clause, not a bare value; a cause is said with a cause word
        return bool(_CAUSE.search(text)) if asks_why(question) else len(text) > 40
    return bool(spans(text, answer_type, question, is_name if answer_type == "person" else None, code))


def short_answer(answer_type: str, question: str, attribute: frozenset[str], text: str,
                 is_name: Callable[[str], bool], code: frozenset[str] = frozenset()) -> str | None:
    """The span of the asked-for type in `text` nearest the question's attribute words ("$691M",
    "Wang Xiaochuan", "Nov 2023"); None for a reason, a list or a "what" (the passage's words answer those),
    or when `text` holds no such span. A person is two capitalised words or more, or names after "by"
    ("Backed by Alibaba and Tencent"), each word a name."""
    if answer_type not in SPAN_TYPES:
        return None
    if answer_type == "site":  # the site, not the whole address; "http://localhost:8030" is on none
        found = (_SITE.match(m.group()) for m in spans(text, answer_type, question))
        return next((site.group(1) for site in found if site), None)
    _, colon, row = text.partition(": ")
    text = row if " | " in text and colon else text  # a table row, not its header
    if answer_type == "person":
        # every word a name the corpus writes: "Deep Learning Research Labs" has the shape of a person, but
        # the corpus writes "learning" and "labs" in lower case too
        people = [m for m in (*_PERSON.finditer(text), *_doers(text))
                  if all(map(is_name, _WORD.findall(m.group().replace(" and ", " "))))]
        found = _new(people, "person", question, None)  # each word is a name already
    else:
        found = spans(text, answer_type, question, is_name, code)
    asked = set(tokenize(question))
    # a name in code is often made of the words asked ("hide_input" for "How do I hide the input?")
    found = [m for m in found if answer_type == "code" or not set(tokenize(m.group())) <= asked]
    if answer_type == "number":  # a term of a sum or product is no amount: "number_of_cores + 4" is no "4"
        found = [m for m in found if not (_OPERATED.search(text, 0, m.start())
                                          or _OPERATES.match(text, m.end()))]
    if not found:
        return None
    if answer_type == "number":  # an amount with its unit says more than a bare count beside it, unless
        # the count's unit is what is asked ("11 foundation models" for "how many foundation models"); the
        # count naming more of it wins ("128 specialized expert modules with ... 2 always-on experts")
        named = {m: _naming(m, attribute) for m in found}
        counted = [m for m in found if named[m] and named[m] == max(named.values())]
        found = counted or [m for m in found if not m.group().strip().isdigit()] or found
    anchors = [word.start() for word in _WORD.finditer(text)
               if set(tokenize(word.group())) & attribute]
    # the nearest (or first), and of spans starting there the longest: all who did it ("Tang Jie and Li
    # Juanzi"), not the first of them
    def rank(m: re.Match[str]) -> tuple[int, int, int]:
        return min((abs(m.start() - a) for a in anchors), default=0), m.start(), m.start() - m.end()
    best = min(found, key=rank)
    return None if answer_type == "code" and _listed(best, found, text) else best.group().strip()


_ALTERNATIVE = re.compile(r"[\s`*\[\]]*(?:,|/|,?\s+(?:or|and))[\s`*\[\]]*")
"""What stands between names a passage lists as alternatives ("POETRY_DATA_DIR or POETRY_HOME", "HTTP_PROXY,
HTTPS_PROXY"), code and link marks aside."""


def _listed(span: re.Match[str], found: list[re.Match[str]], text: str) -> bool:
    """Whether the span is listed side by side with another: which of them is the answer, the passage does
    not say by itself, and a short answer picking one would state what the passage does not ("NO_PROXY"
    asked for, "HTTP_PROXY" first in the list). A setting named before the list of its values is no item."""
    return any(other.group().strip() != span.group().strip() and (
        _ALTERNATIVE.fullmatch(text, span.end(), other.start()) or _ALTERNATIVE.fullmatch(text, other.end(),
                                                                                          span.start()))
        for other in found)


def _doers(text: str) -> list[re.Match[str]]:
    """The names after "by" (`_AGENT`). A last name that a lower-case word follows is not one of them: it
    qualifies that word, so the doers are the names before it ("by Yang Zhilin, Zhou Xinyu, and Wu Yuxin,
    Moonshot achieved ...") or, alone, the names after the word ("by Tsinghua professors Tang Jie and Li
    Juanzi")."""
    doers = []
    for m in _AGENT.finditer(text):
        if not (after := _QUALIFIED.match(text, m.end())):
            doers.append(m)
        elif cut := [s.start() for s in _SEPARATOR.finditer(m.group())]:
            doers.append(_LISTED.fullmatch(text, m.start(), m.start() + cut[-1]))
        else:
            doers.append(_QUALIFIED_AGENT.match(text, after.end()))
    return [m for m in doers if m]


def _naming(amount: re.Match[str], attribute: frozenset[str]) -> int:
    """How many of the attribute words the three words after an amount say ("150M entities")."""
    return len(set(tokenize(" ".join(amount.string[amount.end():].split()[:3]))) & attribute)


def counts_asked(text: str, question: str, attribute: frozenset[str]) -> bool:
    """Whether `text` holds an amount of what is asked ("150M entities" for "How many entities ...?",
    "17-fold improvement" for "How much did it improve?"), not only an amount of something else."""
    return any(_naming(m, attribute) for m in spans(text, "number", question))


def maker(question: str, section: str, is_name: Callable[[str], bool]) -> str | None:
    """Asked which company makes something ("Which company makes the Kimi chatbot?") and given no name by
    the passage itself, the organisation whose part of the documents the passage sits in ("Moonshot AI
    (Kimi) > Quick Summary"); None when the question names it already or the top heading is no name."""
    if not _MAKER.search(question):
        return None
    asked = question.lower()
    top = BRACKETED.sub("", section.split(PATH_SEPARATOR)[0]).strip()
    return top if top and top.lower() not in asked and all(map(is_name, top.split())) else None


_WHICH_THING = re.compile(r"^\s*(?:which|what)\b", re.IGNORECASE)
_COMPOUND = re.compile(r"`?([A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[A-Za-z]\w*(?:\.\w+)+|[a-z]\w*_\w+)(?:\(\))?`?")
"""A heading that is one name from code: "SessionMiddleware", "`typer.progressbar`", "max_age"."""


def named_by_heading(question: str, section: str) -> str | None:
    """Asked which thing does something ("Which built-in middleware gives me signed cookie-based sessions?")
    and given no name by the passage itself ("Adds signed cookie-based HTTP sessions."), the name from code
    that heads the passage's section ("SessionMiddleware"), if it is a compound of the kind asked for (it
    holds a word of the question, "middleware") and the question does not name it already."""
    if not _WHICH_THING.match(question):
        return None
    heading = section.split(PATH_SEPARATOR)[-1].strip()
    named = _COMPOUND.fullmatch(heading)
    if not named:
        return None
    name, asked = named.group(1), question.lower()
    kinds = {w for w in re.findall(r"[a-z]{4,}", asked) if w not in STOPWORDS}
    inside = name.lower()
    return name if inside not in asked and any(k in inside for k in kinds) else None


def versions(text: str) -> set[tuple[str, str]]:
    """The (name, version) pairs a text writes: "Step-2-16k and HTTP/1.1" is {("step", "2"),
    ("http", "1.1")}."""
    return {(m.group(1).lower(), m.group(4)) for m in version_matches(text)}


def variants(text: str) -> set[tuple[str, str]]:
    """The versions a text writes (`versions`), and its named variants: "Step-Audio" is ("step", "audio"),
    a sibling of "Step-1V" as "Step-2" is ("Hunyuan-Large", "Yi-Lightning"; both halves capitalised, so
    "Tencent-backed" is none)."""
    return versions(text) | {(m.group(1).lower(), m.group(2).lower()) for m in _VARIANT.finditer(text)}


def version_matches(text: str) -> list[re.Match[str]]:
    """Where a text writes a name with a version (see `versions`)."""
    return [m for m in _VERSIONED.finditer(text)
            if not (_YEAR.fullmatch(m.group(4)) or (m.group(3) and "." not in m.group(4)
                                                     and not m.group(1)[0].isupper())
                    # "ERNIE 4.5 over 3.0" names ERNIE 3.0 once: "over 3.0" is no name
                    or (m.group(3) and m.group(1).lower() in STOPWORDS))]


def other_version(asked: set[tuple[str, str]], text: str) -> bool:
    """Whether a sentence names another version of a versioned name asked about and not that version
    itself ("Step-1 variants: 8K and 32K" for Step-2, "HTTP/1.1 and HTTP/2" for HTTP/3, "ERNIE 4.0" for
    ERNIE 5.0), or the name asked with a version followed by another capitalised word instead ("ERNIE Bot"
    for ERNIE 3.0): a sibling's fact is not the answer. A variant of the version asked about ("Step-2-16k")
    is that version."""
    said = variants(text)
    if asked & said:
        return False
    names = {name for name, _ in asked}
    numbered = {name for name, version in asked if version[0].isdigit()}
    return any(name in names for name, _ in said) or any(
        m.group(1).lower() in numbered and m.group(2).lower() not in STOPWORDS for m in _APART.finditer(text))
