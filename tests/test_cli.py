"""The `labchat` console script, run as a user runs it: a subprocess, tmp corpus and index, real models.

Each subprocess that answers loads the models again (5-10 s), so the checks are grouped into few runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from labchat.settings import Settings

LABCHAT = Path(sys.executable).with_name("labchat")
BAICHUAN = "How much did Baichuan raise in its Series B round?"
SUMMARY = re.compile(r"^indexed (\d+) files into (\d+) chunks \((\d+) embedded\) in [\d.]+ s$")


def labchat(*args: str | Path, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed console script; the test's LABCHAT_* variables (tmp folders) are inherited."""
    assert LABCHAT.exists(), f"console script missing: {LABCHAT}"
    return subprocess.run([str(LABCHAT), *map(str, args)], input=stdin, capture_output=True, text=True,
                          encoding="utf-8", env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
                          timeout=300)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _where(settings: Settings) -> list[str | Path]:
    return ["--corpus", settings.corpus_dir, "--index", settings.index_dir]


@pytest.mark.parametrize("command", [[], ["ask"], ["index"], ["serve"], ["eval"]],
                         ids=["labchat", "ask", "index", "serve", "eval"])
def test_help(command: list[str]) -> None:
    result = labchat(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: labchat {' '.join(command)}".rstrip())
    assert "Traceback" not in result.stderr
    if command:
        assert all(option in result.stdout for option in ("--corpus", "--index", "--model"))
    else:
        assert all(name in result.stdout for name in ("ask", "index", "serve", "eval"))


def test_ask_json_prints_one_object(indexed_settings: Settings) -> None:
    result = labchat("ask", "--json", BAICHUAN, *_where(indexed_settings))
    assert result.returncode == 0, result.stderr
    assert len(_lines(result.stdout)) == 1, result.stdout
    reply = json.loads(result.stdout)
    assert set(reply) == {"question", "answer", "abstained", "sources", "timings"}
    assert reply["question"] == BAICHUAN
    assert reply["abstained"] is False
    assert "691" in reply["answer"]
    assert reply["sources"], reply
    for n, source in enumerate(reply["sources"], start=1):
        assert set(source) == {"n", "path", "section", "text", "score", "page"}
        assert source["n"] == n and source["path"] == "chinese-llm-labs.md" and source["page"] is None
        assert isinstance(source["score"], float) and source["text"] and source["section"]
    assert any("691" in s["text"] for s in reply["sources"])
    # The sources are in `sources`, not pasted after the answer.
    assert "Sources" not in reply["answer"] and "chinese-llm-labs.md" not in reply["answer"]
    assert "\n" not in reply["answer"].strip()
    timings = reply["timings"]
    assert set(timings) == {"retrieve_s", "first_token_s", "total_s"}
    assert 0 < timings["retrieve_s"] <= timings["first_token_s"] <= timings["total_s"]
    assert "Traceback" not in result.stderr


def test_ask_builds_a_missing_index_then_answers(settings: Settings, tmp_path: Path) -> None:
    index_dir = tmp_path / "env-index"
    result = labchat("ask", BAICHUAN, "--corpus", settings.corpus_dir, env={"LABCHAT_INDEX": str(index_dir)})
    assert result.returncode == 0, result.stderr
    assert (index_dir / "manifest.json").is_file(), "LABCHAT_INDEX was not used"
    assert not settings.index_dir.exists()
    said = [line for line in _lines(result.stderr) if str(index_dir) in line]
    assert len(said) == 1 and re.search(r"updat|build", said[0]), result.stderr
    assert "Traceback" not in result.stderr
    answer, _, sources = result.stdout.partition("Sources:")
    assert "691" in answer, result.stdout
    assert re.search(r"^\[1\] chinese-llm-labs\.md", sources, re.MULTILINE), result.stdout


@pytest.mark.parametrize(("args", "names"), [
    (["ask", ""], "empty"),
    (["ask", "Who founded 01.AI?", "--corpus", "/nonexistent"], "/nonexistent"),
    (["ask", "Who founded 01.AI?", "--generate", "--model", "/nonexistent/model-dir"],
     "/nonexistent/model-dir"),
], ids=["empty-question", "missing-corpus", "unknown-model"])
def test_user_error_is_one_line_and_status_2(args: list[str], names: str, indexed_settings: Settings) -> None:
    result = labchat(*args[:2], *_where(indexed_settings), *args[2:])
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = _lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("labchat: ") and names in lines[0]
    assert result.stdout == ""


def test_index_prints_a_one_line_summary(settings: Settings) -> None:
    first = labchat("index", *_where(settings))
    assert first.returncode == 0, first.stderr
    assert len(_lines(first.stdout)) == 1, first.stdout
    match = SUMMARY.match(first.stdout.strip())
    assert match, first.stdout
    files, chunks, embedded = map(int, match.groups())
    assert files == 2 and chunks == embedded > 0
    assert (settings.index_dir / "manifest.json").is_file()

    second = labchat("index", *_where(settings))
    assert second.returncode == 0, second.stderr
    match = SUMMARY.match(second.stdout.strip())
    assert match and tuple(map(int, match.groups())) == (2, chunks, 0), second.stdout


def test_eval_writes_records_and_prints_scores(indexed_settings: Settings, tmp_path: Path) -> None:
    questions = [
        {"id": "d02", "question": BAICHUAN, "answers": [["691"]],
         "evidence": "Raised $691M Series B funding"},
        {"id": "t01", "question": "Who founded StepFun?", "answers": [["Jiang Daxin"]],
         "evidence": "Jiang Daxin"},
        {"id": "u04", "question": "What is the capital of France?", "answerable": False},
    ]
    path, out = tmp_path / "questions.jsonl", tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    result = labchat("eval", path, "--out", out, *_where(indexed_settings))
    assert result.returncode == 0, result.stderr

    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["d02", "t01", "u04"]
    for record in records:
        assert set(record) >= {"id", "question", "answer", "abstained", "sources", "latency_s",
                               "first_token_s"}
        assert 0 < record["first_token_s"] <= record["latency_s"]
    assert "691" in records[0]["answer"] and not records[0]["abstained"]
    assert records[2]["abstained"]

    # The first line is labchat's summary (a baseline's scores may follow on a second line).
    summary = json.loads(_lines(result.stdout)[0])
    assert "baseline" not in summary
    assert 0 <= summary["answer_acc"] <= 1
    assert summary["evidence_in_context"] == 1.0
    assert summary["abstain_on_unanswerable"] == 1.0
    assert summary["missing"] == []


@pytest.mark.parametrize(("args", "env", "says"), [
    (["--host", "0.0.0.0"], {}, "--auth USER:PASSWORD"),
    (["--host", "0.0.0.0", "--auth", "no-colon"], {}, "USER:PASSWORD"),
    (["--host", "192.168.1.5"], {"LABCHAT_AUTH": ""}, "--auth USER:PASSWORD"),
], ids=["no-login", "malformed-login", "empty-env-login"])
def test_serve_refuses_a_network_address_without_a_login(args: list[str], env: dict[str, str],
                                                         says: str) -> None:
    result = labchat("serve", *args, env=env)
    assert result.returncode == 2
    assert _lines(result.stderr) == [_lines(result.stderr)[0]] and says in result.stderr
    assert "Traceback" not in result.stderr
