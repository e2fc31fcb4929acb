"""What a corpus is about: the words the chat shows and the names a Chinese question may use.

labchat knows nothing of any subject; whoever owns the documents says what they are about in an optional
`labchat.yaml` beside them (not indexed: only .md, .markdown and .txt files are read). Without it the chat
is neutral, and its example questions come from the documents' own headings.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labchat.chunking import PATH_SEPARATOR

log = logging.getLogger(__name__)

FILENAME = "labchat.yaml"
MAX_EXAMPLES = 3
"""Derived example questions: enough to show what can be asked, few enough to read at a glance."""


@dataclass(frozen=True)
class CorpusProfile:
    """Everything corpus-specific the chat, the prompt and the translation of questions need."""

    title: str
    description: str
    examples: tuple[str, ...] = ()
    glossary: Mapping[str, str] = field(default_factory=dict)
    """Chinese -> English for names the documents never write in both scripts (cities, products)."""
    topic: str = ""
    """What the documents are about ("the HR handbook"), named in the prompt and the chat; "" = unsaid."""


def load_profile(corpus_dir: Path, titles: Iterable[str]) -> CorpusProfile:
    """The corpus's `labchat.yaml` over neutral defaults; `titles` are heading paths (`Part > Section`).

    A file that cannot be read or has wrong keys or types is ignored with one warning: a typo in it must
    not stop the chat, and half-applied settings would be harder to notice than none.
    """
    path = corpus_dir / FILENAME
    try:
        values = _read(path) if path.exists() else {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as err:
        log.warning("ignored %s (%s): answering with neutral titles and examples", path, err)
        values = {}
    folder = corpus_dir.resolve().name
    topic = values.get("topic", "")
    return CorpusProfile(
        title=values.get("title", f"labchat \u2014 {topic or folder}"),
        description=values.get("description",
                               f"Answers from the documents in {folder}/, with the passages they rest on."),
        examples=tuple(values["examples"]) if "examples" in values else derive_examples(titles),
        glossary=dict(values.get("glossary", {})),
        topic=topic,
    )


def _read(path: Path) -> dict[str, Any]:
    """The file's settings, checked: ValueError names the first key that is unknown or of the wrong type."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError("expected keys such as title: and examples:")
    checks = {"title": _is_text, "description": _is_text, "topic": _is_text,
              "examples": lambda v: isinstance(v, list) and all(_is_text(x) for x in v),
              "glossary": lambda v: isinstance(v, dict) and all(map(_is_text, [*v, *v.values()]))}
    for key, value in data.items():
        if key not in checks:
            raise ValueError(f"unknown key {key!r}; known: {', '.join(checks)}")
        if not checks[key](value):
            raise ValueError(f"{key!r} has the wrong type")
    return data


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def derive_examples(titles: Iterable[str]) -> tuple[str, ...]:
    """Questions about sections from the first to the last of the corpus, worded from their headings alone.

    Paths with a parent heading are preferred: "Handbook: Travel" says more than a lone document title.
    """
    paths = list(dict.fromkeys(t.strip() for t in titles if any(c.isalpha() for c in t)))
    pool = [p for p in paths if PATH_SEPARATOR in p] or paths
    step = (len(pool) - 1) / (MAX_EXAMPLES - 1)
    picked = pool if len(pool) <= MAX_EXAMPLES else [pool[round(i * step)] for i in range(MAX_EXAMPLES)]
    return tuple(f"What do the documents say about {_subject(p)}?" for p in picked)


def _subject(path: str) -> str:
    parts = [re.sub(r"[`\"*_]", "", part).strip() for part in path.split(PATH_SEPARATOR)]
    return parts[0] if len(parts) == 1 else f"{parts[0]}: {parts[-1]}"
