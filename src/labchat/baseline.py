"""The reference labchat is measured against: LlamaIndex's default RAG with the same embedder and model.

LlamaIndex's `VectorStoreIndex` with its default splitter retrieves chunks up to the same context budget,
and the same local model answers from a plain grounded prompt, unchecked. `labchat eval` scores both in
one run, so the difference is labchat's retrieval, evidence picking, checking and abstention.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from labchat.embed import embedder_path
from labchat.evidence import Passage
from labchat.generate import Generator
from labchat.ingest import SourceFile, list_files, read_file
from labchat.pipeline import Answer
from labchat.settings import Settings

PLAIN_PROMPT = "Answer the question using the context.\n\nContext:\n{context}\n\nQuestion: {question}"


class Baseline:
    """Same `ask` shape as `Pipeline`, so `evaluate.run` scores it the same way."""

    def __init__(self, settings: Settings, generator: Generator) -> None:
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        sources = [read_file(p, settings.corpus_dir) for p in list_files(settings.corpus_dir)]
        documents = [Document(text=s.text, metadata={"path": s.path})
                     for s in sources if isinstance(s, SourceFile)]
        embed_model = HuggingFaceEmbedding(model_name=embedder_path(settings.embedder), device="cpu")
        self.retriever = VectorStoreIndex.from_documents(documents, embed_model=embed_model).as_retriever(
            similarity_top_k=10)
        self.settings = settings
        self.generator = generator

    def ask(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Iterator[Answer]:
        """Like `Pipeline.ask`, but each question alone: LlamaIndex's default retriever keeps no history."""
        start = time.perf_counter()
        answer = Answer(question=question, passages=[])
        used = 0
        for hit in self.retriever.retrieve(question):
            text = hit.node.get_content()[:self.settings.context_chars - used]
            if not text:
                break
            used += len(text)
            answer.passages.append(Passage(len(answer.passages) + 1, hit.node.metadata.get("path", ""), "",
                                           text, round(float(hit.score or 0.0), 3)))
        answer.timings["retrieve_s"] = time.perf_counter() - start
        context = "\n\n".join(p.text for p in answer.passages)
        messages = [{"role": "user", "content": PLAIN_PROMPT.format(context=context, question=question)}]
        for piece in self.generator.stream(messages, one_line=False):
            answer.timings.setdefault("first_token_s", time.perf_counter() - start)
            answer.text += piece
        answer.timings.setdefault("first_token_s", time.perf_counter() - start)
        answer.timings["total_s"] = time.perf_counter() - start
        answer.done = True
        yield answer
