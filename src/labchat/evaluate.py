"""Run a question file through the pipeline and score it the way `shared/eval/score.py` does."""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from labchat.errors import LabchatError
from labchat.pipeline import MAX_ANSWER_CHARS, Answer, Pipeline

if TYPE_CHECKING:
    from labchat.baseline import Baseline



def read_questions(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as err:
        raise LabchatError(
            f"cannot read questions from {path}: give a JSON-lines file like dev.jsonl") from err


def final(stream: Iterator[Answer]) -> Answer:
    """Run a streamed answer to its end."""
    *_, answer = stream
    return answer


def record(qid: str, answer: Answer) -> dict:
    fields = answer.to_dict()
    timings = fields.pop("timings")
    return {"id": qid, **fields, "latency_s": timings["total_s"], "first_token_s": timings["first_token_s"]}


def run(pipeline: Pipeline | Baseline, questions: list[dict],
        progress: Callable[[int], None] = lambda _: None) -> list[dict]:
    records = []
    for i, q in enumerate(questions):
        records.append(record(q["id"], final(pipeline.ask(q["question"]))))
        progress(i + 1)
    return records


def _norm(text: str) -> str:
    text = re.sub(r"[*`_]", "", text)
    text = re.sub(r"[|#>]", " ", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def score(questions: list[dict], records: list[dict]) -> dict:
    """Same definitions as shared/eval/score.py: a right answer is direct, short and holds every group."""
    by_id = {r["id"]: r for r in records}
    answerable = [q for q in questions if q.get("answerable", True)]
    unanswerable = [q for q in questions if not q.get("answerable", True)]
    right, in_context, wrong = 0, 0, []
    for q in answerable:
        r = by_id.get(q["id"], {})
        text = _norm(r.get("answer", ""))
        ok = (bool(r) and not r["abstained"] and len(r["answer"]) <= MAX_ANSWER_CHARS
              and all(any(_norm(x) in text for x in group) for group in q["answers"]))
        right += ok
        in_context += any(_norm(q["evidence"]) in _norm(s["text"]) for s in r.get("sources", []))
        wrong += [] if ok else [q["id"]]
    abstained = [q["id"] for q in unanswerable if by_id.get(q["id"], {}).get("abstained")]
    wrong += [q["id"] for q in unanswerable if q["id"] not in abstained]
    present = [r for r in records if r["id"] in {q["id"] for q in questions}]
    return {
        "answer_acc": round(right / max(len(answerable), 1), 3),
        "evidence_in_context": round(in_context / max(len(answerable), 1), 3),
        "abstain_on_unanswerable": round(len(abstained) / max(len(unanswerable), 1), 3),
        "false_abstain": round(sum(by_id.get(q["id"], {}).get("abstained", False) for q in answerable)
                               / max(len(answerable), 1), 3),
        "median_latency_s": _median([r["latency_s"] for r in present]),
        "median_first_token_s": _median([r["first_token_s"] for r in present]),
        "mean_context_chars": round(statistics.mean(
            sum(len(s["text"]) for s in r["sources"]) for r in present)) if present else None,
        "wrong": wrong,
        "missing": [q["id"] for q in questions if q["id"] not in by_id],
    }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def write_records(records: list[dict], out: Path) -> None:
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
