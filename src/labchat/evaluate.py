"""Run a question file through the pipeline and score it the way `shared/eval/score.py` does.

A file may hold conversations too (`{"id": "c01", "turns": [...]}`): their turns are asked in order, each
with the turns before it as history, and scored as questions of their own named `c01-t1`, `c01-t2`, ...
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from labchat.errors import LabchatError
from labchat.pipeline import MAX_ANSWER_CHARS, Answer, Pipeline

if TYPE_CHECKING:
    from labchat.baseline import Baseline



def read_questions(path: Path) -> list[dict]:
    """Every question of a JSON-lines file, a conversation's turns in order, named as score.py names them."""
    try:
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as err:
        raise LabchatError(
            f"cannot read questions from {path}: give a JSON-lines file like dev.jsonl") from err
    return [question for line in lines for question in _turns(line)]


def _turns(line: dict) -> list[dict]:
    """A conversation's turns as questions (`<id>-t<n>`, with their number and conversation)."""
    if "turns" not in line:
        return [line]
    return [{**turn, "id": f"{line['id']}-t{k}", "turn": k, "conversation": line["id"],
             "kind": turn.get("kind", line.get("kind"))} for k, turn in enumerate(line["turns"], 1)]


def final(stream: Iterator[Answer]) -> Answer:
    """Run a streamed answer to its end."""
    *_, answer = stream
    return answer


def record(qid: str, answer: Answer) -> dict:
    fields = answer.to_dict()
    timings = fields.pop("timings")
    return {"id": qid, **fields, "latency_s": timings["total_s"], "first_token_s": timings["first_token_s"]}


def converse(pipeline: Pipeline | Baseline, questions: Iterable[str],
             consume: Callable[[Iterator[Answer]], Answer] = final) -> Iterator[Answer]:
    """Answer `questions` in order, each with every turn before it as history, as the web chat asks them.

    Abstentions stay in the history too: what to use of it is the pipeline's call. `consume` runs each
    answer's stream (`labchat chat` prints it as it comes).
    """
    history: list[tuple[str, str]] = []
    for question in questions:
        answer = consume(pipeline.ask(question, tuple(history)))
        history.append((answer.question, answer.text))
        yield answer


def run(pipeline: Pipeline | Baseline, questions: list[dict],
        progress: Callable[[int], None] = lambda _: None) -> list[dict]:
    """One record per question; the turns of a conversation are asked as one conversation."""
    records = []
    for _, group in groupby(questions, key=lambda q: q.get("conversation", q["id"])):
        turns = list(group)
        for q, answer in zip(turns, converse(pipeline, (t["question"] for t in turns)), strict=True):
            records.append(record(q["id"], answer))
            progress(len(records))
    return records


def _norm(text: str) -> str:
    text = re.sub(r"[*`_]", "", text)
    text = re.sub(r"[|#>]", " ", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def score(questions: list[dict], records: list[dict]) -> dict:
    """score.py's summary, by the same definitions: a question without a record is only listed as missing.

    `follow_up_right` (turns after the first of a conversation) and `by_kind` come when the questions
    have turns and kinds.
    """
    by_id = {r["id"]: r for r in records}
    present = [(q, by_id[q["id"]]) for q in questions if q["id"] in by_id]
    right = {q["id"]: _right(q, r) for q, r in present}
    answerable = [(q, r) for q, r in present if q.get("answerable", True)]
    unanswerable = [r for q, r in present if not q.get("answerable", True)]
    kinds: dict[str, list[bool]] = defaultdict(list)
    for q, _ in present:
        if q.get("kind"):
            kinds[q["kind"]].append(right[q["id"]])
    follow_ups = [right[q["id"]] for q, _ in present if q.get("turn", 1) > 1]
    chars = [sum(len(s.get("text", "")) for s in r.get("sources", [])) for _, r in present]
    summary = {
        "answer_acc": _share([right[q["id"]] for q, _ in answerable]),
        "evidence_in_context": _share([_in_context(q["evidence"], r) for q, r in answerable]),
        "abstain_on_unanswerable": _share([bool(r.get("abstained")) for r in unanswerable]),
        "false_abstain": _share([bool(r.get("abstained")) for _, r in answerable]),
        "median_latency_s": _median([float(r.get("latency_s", 0)) for _, r in present]),
        "median_first_token_s": _median([float(r["first_token_s"]) for _, r in present
                                         if r.get("first_token_s") is not None]),
        "mean_context_chars": round(statistics.mean(chars)) if chars else None,
    }
    if follow_ups:
        summary["follow_up_right"] = _share(follow_ups)
    if kinds:
        summary["by_kind"] = {kind: f"{sum(rights)}/{len(rights)}" for kind, rights in sorted(kinds.items())}
    return {**summary, "wrong": [qid for qid, ok in right.items() if not ok],
            "missing": [q["id"] for q in questions if q["id"] not in by_id]}


def _right(question: dict, result: dict) -> bool:
    """An abstention for an unanswerable question; otherwise a direct answer (no abstention, at most
    MAX_ANSWER_CHARS) holding one alternative of every group."""
    if not question.get("answerable", True):
        return bool(result.get("abstained"))
    answer = result.get("answer") or ""
    return (not result.get("abstained") and len(answer) <= MAX_ANSWER_CHARS
            and all(any(_norm(x) in _norm(answer) for x in group) for group in question["answers"]))


def _in_context(evidence: str, result: dict) -> bool:
    return any(_norm(evidence) in _norm(s.get("text", "")) for s in result.get("sources", []))


def _share(values: list[bool]) -> float:
    return round(sum(values) / max(len(values), 1), 3)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def write_records(records: list[dict], out: Path) -> None:
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
