"""The question files in tests/data, read one way by every test that asks them."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data"


def read(name: str) -> list[dict]:
    """One question per non-blank line of tests/data/NAME: id, question, answerable, evidence, answers."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def answerable(name: str) -> list[dict]:
    return [q for q in read(name) if q.get("answerable", True)]
