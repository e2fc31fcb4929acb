"""A follow-up made into a stand-alone search query, so "Who leads that work?" finds what "that work" is.

Chat questions lean on the turns before them: a pronoun ("it", "that executive", 它), an ellipsis ("And
Zhipu?", "How about creativity?", 那Step-2呢) or a place in a list an answer gave ("the second one",
第二个). `contextualize` reads the whole history once, oldest turn first, and keeps three things: the
subject (the names of the latest turn that had any), the latest list an answer gave, and the latest
question as resolved. Which words are names is the corpus's business, so the caller says (`is_name`), and
which phrase means most nearly what another does is the embedder's (`closest`); this module knows only
how English and Chinese refer back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

_TOKEN = re.compile(r"(?a:[A-Za-z0-9](?:[\w.\-]*\w)?)|[\u3400-\u9fff]")
"""A word (Step-2, dots.llm1, 01.AI) or one Chinese character: names are runs of these."""
_NAME_TOKENS = 6
"""The longest name tried, in tokens: a few English words or a Chinese name of up to six characters."""
_SHORT = 4
"""A question of at most this many tokens cannot name what it asks about ("Over what time span?")."""
_PRONOUN = re.compile(r"\b(?:it|its|they|them|their|he|him|his|she|her|this|that|these|those|there)\b"
                      r"|[它她这那]|(?<!其)他|其(?!他)", re.IGNORECASE)
"""English pronouns and determiners; Chinese 它 他 她 其 这 那, but not the 其他 of "other"."""
_GENERAL = (r"(?:same\s+)?(?:company|companies|group|firm|organi[sz]ation|lab|startup|team|model|product|"
            r"project|series|library|tool|service)")
_DEFINITE = re.compile(rf"\bthe\s+{_GENERAL}\b", re.IGNORECASE)
"""A general noun after "the" names what was just talked about ("What does the group lack?")."""
_STAND_IN = re.compile(rf"\b(?:(?:the|th(?:at|is|ese|ose))\s+{_GENERAL}|th(?:at|is) one)\b", re.IGNORECASE)
"""A phrase that only points at what was talked about ("that series", "the group", "that one"): the names
it stands for take its place, so its general noun is not searched as what is asked."""
_THAT_THING = re.compile(r"\b(?:that|this|these|those)\s+(?!one\b)[a-z]+", re.IGNORECASE)
"""A phrase pointing at a thing talked about by a noun of its own ("that piece", "those datasets"): the
earlier question closest to it in meaning says what it is, with the subject."""
_LEADING = r"(?:and|or|also|but)\b|(?:how|what) about\b"
"""English words opening an ellipsis ("And Zhipu?", "What about maths?")."""
_PREPOSITION = re.compile(rf"^\s*(?:{_LEADING})?\s*(on|in|for|at|from|with|by|under|about|to)\s",
                          re.IGNORECASE)
"""The preposition an ellipsis opens with ("And on GPQA?"): the name after it in the last question gives
way."""
_SIGILS = "@-$"
"""What code writes before a name ("@validator", "--reload", "$HOME"), outside the words `_TOKEN` reads."""
_APPOSITIVE = re.compile(r",\s+(?:the|a|an)\s+[^,?\uff1f]*")
"""A description set after a name by a comma (", the Kimi company"): it says what the name is."""
_ELLIPSIS = re.compile(rf"^\s*(?:{_LEADING}|那|还有)|呢\s*[?\uff1f]?\s*$", re.IGNORECASE)
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
"""English ordinals, first to tenth: a place in a list (here, and in `question.analyse`)."""
_CHINESE_NUMBERS = "一二三四五六七八九十"
_ORDINAL = re.compile(
    rf"\bthe\s+({'|'.join(ORDINALS)}|last)"
    r"(?:\s+one\b|\s+of\s+(?:them\b|th[oe]se\b(?:\s+[a-z]+\b)?)|(?=\s*(?:[?.!,]|$)))"
    rf"|第([{_CHINESE_NUMBERS}]|\d+)\s*[个家位款项种名条]?", re.IGNORECASE)
"""A place in a list: "the second one", "the first of those (sizes)", "And the fourth?", 第二个.
"The first likely scenario" is not one: the ordinal must stand for the item."""
_CITATION = re.compile(r"\[\d+\]")
_LEAD = re.compile(r"\*\*([^*]*[A-Za-z][^*]*)\*\*\.\s")
"""The short answer an extracted answer leads with ("**virtualenvs.create**. From the documents: ..."): what
a which-question asked to name, though the corpus writes it in lower case as no name."""
_CAPITALISED = re.compile(r"\b(?!I\b)[A-Z][\w.\-]*")
_LIST_SEPARATOR = re.compile(r",?\s+and\s+|,\s+|;\s*|[\uff0c\u3001\uff1b和]")
_LIST_OPENS = re.compile(r"[(\[“\"|:]")
_LIST_ENDS = re.compile(r"[)\]”\"|:]")
"""A list starts after the bracket, quote, table bar or colon before its first item, and ends before the one
after its last: "Efficient Operators (DeepSeek, Rednote):" lists DeepSeek, not "Operators DeepSeek"."""
BRACKETED = re.compile(r"\s*\([^()]*\)")
"""An aside in brackets, with the space before it ("Moonshot AI (Kimi)")."""
_MARKUP = re.compile(r"[“”\"()\[\]|*]|[.,;:!?](?=\s|$)")
"""Quotes, brackets, table bars and the punctuation that ends a word: not part of a list item."""
_SEGMENT = re.compile(r";\s*|[\uff1b]|\.\s+")
"""Where one list of an answer ends and the next may begin ("Model: Yi Chat; Parameters: 6B, 34B, 9B")."""
_FUNCTION_WORDS = frozenset(
    "a an the of in on at to for from by with as into about and or but what which who whom whose when where "
    "why how is are was were be been do does did has have had can could will would should may might its it "
    "their they them this that these those there his her he she than then also so s".split())
"""English words that only hold a question together: never the phrase a follow-up replaces."""
_ELLIPSIS_WORDS = re.compile(rf"^\s*(?:{_LEADING}|那(?![个些])|还有)\s*|呢?[?.!\s\uff1f]+$|呢$",
                             re.IGNORECASE)
"""What opens and closes an ellipsis around its phrase: "And ... ?", 那...呢 (but 那个 is "that")."""
_QUESTION_WORD = re.compile(
    r"\b(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did)\b", re.IGNORECASE)
_WHICH = re.compile(r"\s*(?:which|who)\b|.*\b(?:called|named)\W*$|.*\bthe name of\b", re.IGNORECASE)
"""A question asking to name something ("Which model ...?", "What is its finance model called?"): its answer's
name becomes what the conversation is about."""
_WHO = re.compile(r"\bwho\b", re.IGNORECASE)
"""A question asking who, anywhere in it ("And who founded it?"): its answer names a person."""
_IT = re.compile(rf"\b(?:it|its|th(?:at|is|e) one|th(?:at|is)\s+(?!series\b|companies\b){_GENERAL})\b|[它其]",
                 re.IGNORECASE)
"""What refers to the one thing an answer named ("What is that one for?", "that model"), not to a group
("that series")."""
_PERSONAL = re.compile(r"\b(?:he|him|his|she|her)\b|[他她](?!们)", re.IGNORECASE)
"""What refers to a person: after "Who founded X?", the person the answer named, not X (他们 is "they")."""
_ASKED_FOR = re.compile(r"^\s*(?:how\s+(?:many|much)|what|which)\s+([\w.\-]+)(?=\s+(?:did|does|do|is|are|was|"
                        r"were|has|have|had|can|could|will|would)\b)", re.IGNORECASE)
"""The thing a question asks to count or name ("How many GPUs did it build?"): a name there is what is
asked, not whom the question is about (but "Which Qwen model ..." is about Qwen)."""
_AGAINST = re.compile(r"\b(?:over|than|compared (?:to|with)|versus|vs\.?|against|relative to)\s",
                      re.IGNORECASE)
"""What opens the other side of a comparison ("better than Qwen", "over ERNIE 3.0")."""
_RELATED = re.compile(rf"{_AGAINST.pattern}|\b(?:from|at|with|in|on|into)\s", re.IGNORECASE)
"""What opens a name an "it" is related to ("spin off from Tsinghua", "work at Microsoft"): no new topic."""
_SUBJECT_PRONOUN = re.compile(r"\b(?:it|its|they|their|them|he|his|she|her)\b|[它他她其]", re.IGNORECASE)
"""A pronoun that stands for what a question is about, not a determiner ("that round")."""
_WHICH_OF_THEM = re.compile(r"\s*which\s+of\s+(?:them|those|these|the two)\b(?=.*\b(?:first|earlier|later|"
                            r"older|newer|larger|bigger|smaller|more|fewer|longer|higher)\b)", re.IGNORECASE)
"""A comparison of what was talked about ("Which of them was founded first?")."""
_OWNED = re.compile(r"\b(?:its|their|his|her)\s+([\w.\-]+(?:\s+(?-i:[A-Z0-9])[\w.\-]*\b)*)", re.IGNORECASE)
"""What a possessive gives its referent ("its CFO", "their Series B"): an attribute, not a name the question
is about."""
_POSSESSIVE = re.compile(r"(?:its|their|his|her)$|[它他她]们?的|其(?!他)", re.IGNORECASE)
"""A possessive opening a phrase: "its", 它的 ("its"), 他们的 ("their"), 其 (but 其他 is "other")."""
_OWNER = re.compile(r"[\w.\-]+['\u2019]s\s+$")
"""A possessive just before the phrase an ellipsis replaces ("WeChat's " of "WeChat's social data")."""
_LONGEST_SPAN = 3
"""Words in the phrase of the previous question a name-less ellipsis may replace ("tech giants")."""


Closest = Callable[[str, list[str]], int]
"""closest(phrase, candidates): the index of the candidate that means most nearly what `phrase` does."""


def contextualize(question: str, history: Sequence[tuple[str, str]], is_name: Callable[[str], bool],
                  abstained: Callable[[str], bool], closest: Closest) -> str:
    """`question` as a search query that stands alone; unchanged when it already does.

    `history` is the earlier (question, answer) turns, oldest first. An abstention names nothing: its
    answer gives no names or list, though its question still may.
    """
    thread = _Thread(is_name, closest)
    for asked, answer in history:
        thread.previous = thread.resolve(asked)
        thread.asked.append(asked)
        said = "" if abstained(answer) else _CITATION.sub(" ", answer)
        lead = _LEAD.match(said)
        named = _about(thread.previous, is_name)
        answered = list(dict.fromkeys([*(lead.groups() if lead else ()), *_names(said, is_name)]))
        # "When did it spin off from Tsinghua?" is still about "it", not Tsinghua
        related = _after(_RELATED, asked, is_name) if _SUBJECT_PRONOUN.search(asked) else set()
        still = bool(named) and set(named) <= related
        # "Which one in the series is light?" "SenseNova V6 Omni": "it" is now Omni, "the series" still V6
        thread.specific = [n for n in answered if any(len(n) > len(a) and a.casefold() in n.casefold()
                                                      for a in (w for name in named for w in name.split()))
                           ][:1] if _WHICH.match(asked) else []
        # "Who founded Baichuan?" "Wang Xiaochuan ...": "he" is now Wang Xiaochuan
        people = [n for n in answered if len(n.split()) > 1 and n not in named]
        who = bool(_WHO.search(asked))
        thread.person = people[:1] if who else thread.person
        # "What did Hunyuan T1 score on MATH-500?" "And on GPQA-diamond?": the name that stayed is the topic,
        # so "What architecture does that model use?" asks of Hunyuan T1, not of a benchmark
        stayed = [n for n in named if n in thread.subject]
        # but "And Zhipu?" is about Zhipu, whatever else stayed in the question it was put into
        swapped = _names(asked, is_name) if _ELLIPSIS.search(asked) and not _PREPOSITION.match(asked) else []
        subject = thread.subject if still else (
            swapped or (stayed if 0 < len(stayed) < len(named) else named)
            # an answer's names are what it is about only when it was asked to name something: after "Where
            # does it keep its cache on macOS?", "it" is not the Windows and AppData of the answer's table
            or (answered if who or _WHICH.match(asked) else [])
            or thread.subject)
        if subject != thread.subject and thread.subject:
            thread.before = thread.subject  # "And Zhipu?" after Moonshot: "which of them" is the two
        thread.subject = subject
        thread.items = _items(said, is_name) or thread.items
    return thread.resolve(question)


@dataclass
class _Thread:
    """What the conversation is about before the question being resolved."""

    is_name: Callable[[str], bool]
    closest: Closest
    subject: list[str] = field(default_factory=list)
    """The names of the latest turn that had any: its question's, or, when the question named none and asked
    to name something (which, who), its answer's."""
    items: list[str] = field(default_factory=list)
    """The latest list an answer gave."""
    previous: str = ""
    """The latest question, as resolved."""
    asked: list[str] = field(default_factory=list)
    """The questions so far, as asked."""
    before: list[str] = field(default_factory=list)
    """The subject before the latest one, for "which of them" after two things talked about in turn."""
    person: list[str] = field(default_factory=list)
    """The person the latest answer to a who-question named, for "he" and "she"."""
    specific: list[str] = field(default_factory=list)
    """The name the latest answer gave to a which/who question, when it makes the subject more specific."""
    slot: str = ""
    """The phrase the latest name-less ellipsis put into its question: the next one replaces it again
    ("And for the startups?", then "And the efficient operators?")."""

    def resolve(self, question: str) -> str:
        """One question made stand-alone from the state of the conversation before it."""
        is_name, previous = self.is_name, self.previous
        slot, self.slot = self.slot, ""
        if (them := _WHICH_OF_THEM.match(question)) and self.before and self.subject:
            # "Which of them was founded first?" after Moonshot, then Zhipu: a comparison of the two
            rest = question[them.end():].rstrip(" ?\uff1f")
            return f"Which{rest}, {' '.join(self.before)} or {' '.join(self.subject)}?"
        place = _ORDINAL.search(question)
        if place and (item := _nth(self.items, place)):
            return f"{question[:place.start()]}{item}{question[place.end():]}"
        names = _names(question, is_name)
        whole = _QUESTION_WORD.search(_ELLIPSIS_WORDS.sub("", question))  # "And when did it announce X?"
        if previous and _ELLIPSIS.search(question) and not whole:
            if names and _names(previous, is_name):
                return _swap(previous, question, names, is_name)
            if replaced := self._replace(question, slot):
                return replaced
        # a capitalised word after the first names something, though the corpus may not know it (any more)
        names = names or [m.group() for m in _CAPITALISED.finditer(question.strip()) if m.start() > 0]
        if _PRONOUN.search(question):  # "How many GPUs did it build?", "Who is its CFO?": about "it"
            asked = _asked_for(question)
            names = [n for n in names if not any(f" {n} " in f" {a} " for a in asked)]
        short = len(_TOKEN.findall(question)) <= _SHORT
        if short and not names and previous and not (_PRONOUN.search(question) or _DEFINITE.search(question)):
            return f"{_asked(question)} {previous}"  # a fragment ("Over what span?") asks of the last one
        refers = short or any(p.search(question) for p in (_PRONOUN, _ELLIPSIS, _DEFINITE))
        if names and _PERSONAL.search(question) and self.person and not set(self.person) & set(names):
            return f"{question} {' '.join(self.person)}"  # "How long did he work at Microsoft?" asks of him
        if names and _SUBJECT_PRONOUN.search(question):
            # "How much did it improve over ERNIE 3.0?": what it is measured against is not what "it" is
            names = [n for n in names if n not in _after(_AGAINST, question, is_name)]
        if names or not self.subject or not refers:
            return question
        # "he" is the person, still of the subject: "What did he do before?" asks of the founder at Baichuan
        people = dict.fromkeys([*self.person, *self.subject]) if _PERSONAL.search(question) else {}
        # names apart, so that the next turn reads them as two ("Kai-Fu Lee, 01.AI"), not one
        subject = ", ".join(people if self.person and people
                           else self.specific if self.specific and _IT.search(question) else self.subject)
        stand_in = _STAND_IN.search(question)
        if stand_in:
            return f"{question[:stand_in.start()]}{subject}{question[stand_in.end():]}"
        if self.asked and (thing := _THAT_THING.search(question)):
            # the question as asked that talked of the thing ("those datasets": the one about training
            # data, not the last), so queries do not grow
            earlier = self.asked[self.closest(thing.group(), self.asked)]
            return f"{_asked(question)} {earlier} {subject}"
        return f"{question} {subject}"

    def _replace(self, question: str, slot: str) -> str | None:
        """The previous question with the phrase an ellipsis brings in place of the one it most resembles:
        "And for the well-funded startups?" after "... the tech giants' first advantage?" asks for the
        startups' first advantage. Names stay (the subject carries over); None when the phrase is long or
        nothing in the previous question can give way. "What about its context?" with no owner in the previous
        question to replace is asked of the first name talked about. (An ellipsis that is a whole question of
        its own, "And what is its code there?", is not replaced into anything: `resolve` does not come here.)
        """
        phrase = _ELLIPSIS_WORDS.sub("", question)
        words = phrase.split()
        possessive = bool(words) and bool(_POSSESSIVE.match(words[0]))
        while words and words[0].lower() in _FUNCTION_WORDS:
            words.pop(0)
        if not words or len(words) > _LONGEST_SPAN:
            return None
        previous, new = self.previous, " ".join(words).strip("`")  # code marks: "And for `@validator`?"
        if slot and slot in previous:
            start = previous.index(slot)
            end = start + len(slot)
        else:
            spans = _content_spans(previous, self.is_name)
            # a phrase most often stands for one as long as itself: "efficient operators" for "tech giants"
            spans = [s for s in spans if len(previous[s[0]:s[1]].split()) == len(words)] or spans
            if not spans:
                return None
            start, end = spans[self.closest(new, [previous[a:b] for a, b in spans])]
        # a sigil before the phrase replaced is the new phrase's own: "@validator" for "@root_validator"
        sigil = new[:len(new) - len(new.lstrip(_SIGILS))]
        if sigil and previous[:start].endswith(sigil):
            start -= len(sigil)
        if possessive:
            owner = _OWNER.search(previous[:start])
            if not owner:  # "What about its context?" after "What does X score on Y?": X's context
                return f"{question} {self.subject[0]}" if self.subject else None
            start = owner.start()  # "its gaming business" for "WeChat's social data": its is not WeChat's
        self.slot = new
        return f"{previous[:start]}{new}{previous[end:]}"


def _asked(question: str) -> str:
    """The question ended by a question mark, so what is added after it is not read as what it asks
    (`question.analyse` takes the kind of answer from the first question)."""
    question = question.rstrip()
    return question if question.endswith(("?", "\uff1f")) else f"{question}?"


def _names(text: str, is_name: Callable[[str], bool]) -> list[str]:
    """The names in `text`, in order, each once: at every token the longest run of tokens that is a name,
    and none that a longer one holds."""
    spans = [m.span() for m in _TOKEN.finditer(text)]
    names, i = [], 0
    while i < len(spans):
        for n in range(min(_NAME_TOKENS, len(spans) - i), 0, -1):
            phrase = " ".join(text[spans[i][0]:spans[i + n - 1][1]].split())
            if is_name(phrase):
                names.append(phrase)
                i += n
                break
        else:
            i += 1
    found = list(dict.fromkeys(names))
    # a name inside a longer one found too is said by it ("Baidu" and "ERNIE" by "Baidu ERNIE")
    return [n for n in found if not any(n != m and f" {n} " in f" {m} " for m in found)]


def _after(opening: re.Pattern[str], question: str, is_name: Callable[[str], bool]) -> set[str]:
    """The names that follow an `opening` ("than", "from") in the question."""
    return {n for m in opening.finditer(question) for n in _names(question[m.end():], is_name)}


def _asked_for(question: str) -> set[str]:
    """The words naming what `question` asks to count or name, or what a possessive gives ("GPUs" in "How
    many GPUs did it build?", "CFO" in "Who is its CFO?"): an attribute, not whom it is about."""
    return {m.group(1) for m in (_ASKED_FOR.match(question), *_OWNED.finditer(question)) if m}


def _about(question: str, is_name: Callable[[str], bool]) -> list[str]:
    """The names of `question` but those it asks for (`_asked_for`): whom or what it is about."""
    asked = _asked_for(question)
    return [n for n in _names(question, is_name) if n not in asked]


def _swap(previous: str, question: str, names: list[str], is_name: Callable[[str], bool]) -> str:
    """The previous question asked about `names` instead: the old name after the preposition the ellipsis
    opens with gives way ("And on GPQA?": the benchmark after "score on", not the model), else the old name
    most like the new one (Step-1 for Step-2, not StepFun)."""
    old = _names(previous, is_name)
    if not old:
        return f"{previous} {' '.join(names)}"
    opening = _PREPOSITION.match(question)
    placed = [name for name in old if opening and re.search(
        rf"\b{opening.group(1)}\s+(?:the\s+)?{re.escape(name)}", previous, re.IGNORECASE)]
    target = placed[0] if placed else max(
        old, key=lambda name: SequenceMatcher(None, name.casefold(), names[0].casefold()).ratio())
    start = previous.index(target)
    end = start + len(target)
    # what describes the old name goes with it: "Moonshot AI, the Kimi company?" for Zhipu is "Zhipu?"
    end = appositive.end() if (appositive := _APPOSITIVE.match(previous, end)) else end
    return f"{previous[:start]}{' and '.join(names)}{previous[end:]}"


def _content_spans(text: str, is_name: Callable[[str], bool]) -> list[tuple[int, int]]:
    """(start, end) of every run of up to `_LONGEST_SPAN` English words of `text`, apart only by spaces,
    that begins and ends with a word carrying meaning and holds no name."""
    tokens = [m for m in _TOKEN.finditer(text) if m.group().isascii()]
    named = [is_name(t.group()) for t in tokens]
    plain = [t.group().lower() not in _FUNCTION_WORDS for t in tokens]
    spans = []
    for i in range(len(tokens)):
        for j in range(i, min(i + _LONGEST_SPAN, len(tokens))):
            if named[j] or (j > i and text[tokens[j - 1].end():tokens[j].start()].strip()):
                break
            if plain[i] and plain[j]:
                spans.append((tokens[i].start(), tokens[j].end()))
    return spans


def _items(answer: str, is_name: Callable[[str], bool]) -> list[str]:
    """The items of the longest list an answer gives ("6B, 34B and 9B"; "(Alibaba, Tencent, Baidu)"), in
    order.

    Inner items are whole; the first and last are cut from their sentence as wide as the widest inner
    item, or to a name that ends (or starts) there: "founded by Kai-Fu Lee and Wang Xiaochuan".
    """
    return max((_outside_brackets(segment, is_name) for segment in _SEGMENT.split(answer)), key=len)


def _outside_brackets(segment: str, is_name: Callable[[str], bool]) -> list[str]:
    """The list a segment gives around its brackets when it has one there ("SenseTime (Shenzhen, multimodal
    AI) and Malong": SenseTime first, not Shenzhen), else the one a bracket holds ("Efficient Operators
    (DeepSeek, Rednote):")."""
    around = _list_in(BRACKETED.sub("", segment), is_name)
    return around if len(around) > 1 else _list_in(segment, is_name)


def _list_in(answer: str, is_name: Callable[[str], bool]) -> list[str]:
    parts = _LIST_SEPARATOR.split(answer)
    parts[0], parts[-1] = _LIST_OPENS.split(parts[0])[-1], _LIST_ENDS.split(parts[-1])[0]
    items = [words for part in parts if (words := _MARKUP.sub(" ", part).split())]
    if len(items) < 2:
        return []
    first, *inner, last = items
    width = max((len(words) for words in inner), default=1)
    return [_edge(first, width, is_name, at_end=True), *(" ".join(words) for words in inner),
            _edge(last, width, is_name, at_end=False)]


def _edge(words: list[str], width: int, is_name: Callable[[str], bool], *, at_end: bool) -> str:
    for n in range(min(len(words), _NAME_TOKENS), width, -1):
        phrase = " ".join(words[-n:] if at_end else words[:n])
        if is_name(phrase):
            return phrase
    return " ".join(words[-width:] if at_end else words[:width])


def _nth(items: list[str], place: re.Match[str]) -> str | None:
    english, chinese = (group and group.lower() for group in place.groups())
    if english:
        n = len(items) if english == "last" else ORDINALS.index(english) + 1
    else:
        n = _CHINESE_NUMBERS.index(chinese) + 1 if chinese in _CHINESE_NUMBERS else int(chinese)
    return items[n - 1] if 0 < n <= len(items) else None
