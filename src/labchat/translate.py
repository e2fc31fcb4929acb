"""Chinese questions, searched in English: the embedder and the model read English only.

Names come from the corpus itself, which may write them in both scripts ("**Acme Robotics** (艾克米机器人)"),
and from the glossary in the corpus's `labchat.yaml` (see `profile.py`); question words come from the small
glossary below. What none covers is dropped from the search query, so a Chinese question about something
the corpus never names still finds nothing and labchat abstains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_PAIR = re.compile(r"([A-Za-z0-9][\w.\-]*(?: [A-Z][\w.\-]*)*)\W{0,3}\s*\(([^()\s,]*[\u4e00-\u9fff][^()\s,]*)")
GLOSSARY = {  # language, not any corpus's names: those belong in its labchat.yaml
    "创始人": "founder", "是谁": "who", "谁": "who", "创立": "founded", "创办": "founded", "成立": "founded",
    "创建": "founded", "什么时候": "when", "何时": "when", "哪一年": "what year", "哪年": "what year",
    "多少": "how many", "多大": "how large", "多长": "how long", "哪里": "where", "在哪": "where",
    "总部": "headquartered", "什么": "what", "哪个": "which", "哪家": "which company", "模型": "model",
    "发布": "released", "推出": "launched", "意思": "mean", "含义": "mean", "参数": "parameters",
    "融资": "raised funding", "估值": "valuation", "上下文": "context", "价格": "price", "公司": "company",
    "开源": "open-source", "训练": "trained", "城市": "city", "名字": "name", "名称": "name",
    "架构": "architecture", "投资": "investment", "今天": "today", "明天": "tomorrow", "天气": "weather",
    "股价": "stock price", "人口": "population", "首都": "capital",
}


def find_aliases(texts: Iterable[str]) -> dict[str, str]:
    """Chinese name -> English name, from the corpus's own `English (中文)` pairs."""
    aliases: dict[str, str] = {}
    for text in texts:
        for english, chinese in _PAIR.findall(text.replace("**", "")):
            aliases.setdefault(chinese, english)
    return aliases


def to_english(question: str, aliases: Mapping[str, str], glossary: Mapping[str, str] | None = None) -> str:
    """The question with known Chinese words replaced by English, the rest of the Chinese dropped.

    `glossary` (the corpus's own, from its labchat.yaml) wins over `aliases`: it was written on purpose,
    the aliases are guessed from the text.
    """
    if not _CJK.search(question):
        return question
    table = {**GLOSSARY, **aliases, **(glossary or {})}
    pattern = re.compile("|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)))
    english = pattern.sub(lambda m: f" {table[m.group()]} ", question)
    english = " ".join(_CJK.sub(" ", english).replace("\uff1f", "?").split())
    return english if re.search(r"[A-Za-z]", english) else question
