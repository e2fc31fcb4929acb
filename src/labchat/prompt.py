"""The grounded prompt: numbered passages and the question, worded so a tiny model answers in one line."""

from __future__ import annotations

from collections.abc import Sequence

from labchat.evidence import Passage

SYSTEM = (
    "You answer questions using only the numbered passages from the documents. "
    "Reply with one short sentence that answers the question with the exact names and numbers "
    "from the passages, and cite the passage like [1]."
)
ABSTAIN = "The documents do not cover this."


def system_prompt(topic: str = "") -> str:
    """SYSTEM, naming what the documents are about when their labchat.yaml says so.

    With the shipped corpus's topic this stays close to the prompt its README scores were measured with.
    """
    return SYSTEM.replace("questions", f"questions about {topic}", 1) if topic else SYSTEM


def build_messages(question: str, passages: Sequence[Passage], topic: str = "") -> list[dict[str, str]]:
    context = "\n".join(f"[{p.n}] {p.section}: {p.text}" for p in passages)
    return [
        {"role": "system", "content": system_prompt(topic)},
        {"role": "user", "content": f"Passages:\n{context}\n\nQuestion: {question}"},
    ]
