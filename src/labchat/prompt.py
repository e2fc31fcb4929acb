"""The grounded prompt: numbered passages and the question, worded so a tiny model answers in one line."""

from __future__ import annotations

from collections.abc import Sequence

from labchat.evidence import Passage

SYSTEM = (
    "You answer questions about Chinese AI labs using only the numbered passages. "
    "Reply with one short sentence that answers the question with the exact names and numbers "
    "from the passages, and cite the passage like [1]."
)
ABSTAIN = "The documents do not cover this."


def build_messages(question: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    context = "\n".join(f"[{p.n}] {p.section}: {p.text}" for p in passages)
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Passages:\n{context}\n\nQuestion: {question}"},
    ]
