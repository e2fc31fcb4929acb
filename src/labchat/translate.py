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
    "股价": "stock price", "人口": "population", "首都": "capital", "负责人": "head", "领导": "leads",
    "首席执行官": "CEO", "首席技术官": "CTO", "首席财务官": "CFO", "员工": "employees", "收入": "revenue",
    "营收": "revenue", "大学": "university", "毕业": "graduated", "下载": "downloads", "变体": "variants",
    "股票代码": "stock ticker", "基准": "benchmark", "最高分": "highest score", "超过": "exceed",
    "规模": "size", "产品": "products", "集成": "integrated", "支持": "supports", "团队": "team",
    "版本": "version", "许可": "license", "许可证": "license", "专家": "experts", "数据": "data",
    "任务": "tasks", "中文": "Chinese", "英文": "English", "文件": "file", "文档": "document",
    "为什么": "why", "如何": "how", "怎么": "how", "哪些": "which", "第一": "first", "最早": "earliest",
    "更早": "earlier", "更大": "larger", "更长": "longer", "成本": "cost", "用户": "users",
    "企业": "enterprise", "客户": "customers", "服务": "services", "采用": "adoption",
    "首席科学家": "chief scientist",
    "科学家": "scientist", "创始": "founding", "成员": "members", "估值多少": "valuation", "市场": "market",
    "份额": "share", "竞争": "competition", "对手": "rival", "优势": "advantage", "劣势": "weakness",
    "技术": "technology", "报告": "report", "速度": "speed", "长度": "length", "窗口": "window",
    "教授": "professors", "两位": "two", "两个": "two", "三个": "three", "时间": "time", "多久": "how long",
    "成为": "became", "独角兽": "unicorn", "背后": "behind", "支持者": "backers", "投资者": "investors",
    "投资方": "investors", "基金": "fund", "对冲基金": "hedge fund", "上市": "listed", "交易所": "exchange",
    "代码": "code", "位于": "located", "背景": "background", "之前": "before", "以前": "before",
    "工作": "worked", "经历": "experience", "专注": "focus", "擅长": "strengths", "特点": "characteristics",
    "功能": "features", "参数量": "parameters", "激活": "activated", "权重": "weights", "首次": "first",
    "最新": "latest", "目前": "currently", "现在": "now", "当前": "current", "排名": "ranking",
    "得分": "score", "分数": "score", "性能": "performance", "推理": "reasoning", "多模态": "multimodal",
    "编程": "coding", "数学": "mathematics", "语言": "language", "战略": "strategy", "定位": "positioning",
    "生态": "ecosystem",
    "合作": "partnership", "合作伙伴": "partners", "芯片": "chips", "算力": "compute", "词元": "tokens",
    "默认": "default", "选项": "option", "参数设置": "parameter", "命令": "command", "安装": "install",
    "配置": "configuration", "错误": "error", "超时": "timeout", "环境变量": "environment variable",
    # pronouns, so that a Chinese turn in the history still refers back ("他在2009年创办了…" asks of him)
    "他们": "they", "她们": "they", "它们": "they", "他": "he", "她": "she", "它": "it", "那个": "that",
    "这个": "this",
}
_ROUND = re.compile(r"([A-Z])\s*轮")
""""A轮": a Series A round."""


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
    english, _ = _translate(question, aliases, glossary)
    return english


def untranslated(question: str, aliases: Mapping[str, str],
                 glossary: Mapping[str, str] | None = None) -> float:
    """Share of a Chinese question's content characters no glossary entry covered: what the English search
    never sees (0.0 for an English question). A question about an unknown attribute ("CFO") loses it."""
    _, left = _translate(question, aliases, glossary)
    content = [ch for ch in _CJK.findall(question) if ch not in _FUNCTION]
    return len([ch for ch in left if ch not in _FUNCTION]) / len(content) if content else 0.0


_FUNCTION = frozenset("的了吗呢是在有和与及个些哪么什谁把被从对于也都就还吧啊呀")
"""Chinese function characters: grammar, not content, so leaving them untranslated loses nothing."""


def _translate(question: str, aliases: Mapping[str, str],
               glossary: Mapping[str, str] | None) -> tuple[str, list[str]]:
    if not _CJK.search(question):
        return question, []
    question = _ROUND.sub(r" Series \1 ", question)
    table = {**GLOSSARY, **aliases, **(glossary or {})}
    pattern = re.compile("|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)))
    english = pattern.sub(lambda m: f" {table[m.group()]} ", question)
    left = _CJK.findall(english)
    english = " ".join(_CJK.sub(" ", english).replace("\uff1f", "?").split())
    return (english if re.search(r"[A-Za-z]", english) else question), left
