"""Conversations at the command line: `labchat chat` and `labchat eval` on a conversation file.

The real console script and models, on the test's tmp corpus and index (the LABCHAT_* variables point there).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from test_cli import BAICHUAN, labchat

from labchat.settings import Settings

_SOURCES = re.compile(r"^(?:Sources|Closest passages):$", re.MULTILINE)


def test_chat_help() -> None:
    result = labchat("chat", "--help")
    assert result.returncode == 0 and result.stdout.startswith("Usage: labchat chat"), result.stderr
    assert all(option in result.stdout for option in ("--corpus", "--index", "--model"))


def test_chat_answers_each_line_with_the_conversation_so_far(indexed_settings: Settings) -> None:
    result = labchat("chat", stdin=f"{BAICHUAN}\n\nWho founded it?\nexit\nWho founded 01.AI?\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    first, middle, last = _SOURCES.split(result.stdout)  # two answers: "exit" ended the chat before the third
    assert "691" in first
    second = [line for line in middle.splitlines() if line.strip() and not re.match(r"\[\d+\] |    ", line)]
    assert second, result.stdout  # after the first answer's sources
    sections = re.findall(r"^\[\d+\] \S+ \u2014 (.+) \(score", last, re.MULTILINE)
    assert sections and sections[0].startswith("Baichuan"), last  # "it" was searched as Baichuan


def test_eval_asks_the_turns_of_a_conversation_in_order(indexed_settings: Settings, tmp_path: Path) -> None:
    lines = [
        {"id": "c1", "turns": [
            {"question": BAICHUAN, "answers": [["691"]], "evidence": "Raised $691M Series B funding"},
            {"question": "Who founded it?", "answers": [["Wang Xiaochuan"]],
             "evidence": "founded on April 10, 2023 by Wang Xiaochuan"}]},
        {"id": "u04", "question": "What is the capital of France?", "answerable": False},
    ]
    path, out = tmp_path / "conversations.jsonl", tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = labchat("eval", path, "--out", out, "--no-baseline")
    assert result.returncode == 0, result.stderr

    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["question"]) for r in records] == [
        ("c1-t1", BAICHUAN), ("c1-t2", "Who founded it?"), ("u04", "What is the capital of France?")]
    summary = json.loads(result.stdout)
    assert summary["missing"] == [] and 0 <= summary["follow_up_right"] <= 1
