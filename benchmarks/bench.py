"""How fast labchat is on this machine, each figure next to a baseline measured in the same run.

    .venv/bin/python benchmarks/bench.py [--repeat 3]

Prints median and spread (min-max) over the dev questions or repeated runs:
  answer      first text shown and whole answer, warm: labchat quoting (the default) and labchat
              --generate (SmolLM2 int8, each sentence checked before it is shown) vs plain transformers
              `generate` (fp32, same model, same passages, plain prompt, no checks)
  decode      tokens/s of 64 greedy tokens: labchat's int8 model vs the fp32 model
  retrieval   one question, query embedding included: labchat hybrid vs LlamaIndex's default retriever
  cold start  a fresh `labchat ask` process to the complete answer (index and model already on disk)
  index       a full build and a build with nothing changed, as `labchat index` processes
  memory      peak resident memory of a `labchat serve` process that has answered questions
Not part of the test suite: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradio_client import Client

ROOT = Path(__file__).resolve().parents[1]
LABCHAT = Path(sys.executable).with_name("labchat")
QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"


def spread(values: list[float], unit: str, scale: float = 1.0) -> str:
    v = [x * scale for x in values]
    return f"{statistics.median(v):8.3f} {unit} (min {min(v):.3f}, max {max(v):.3f}, n={len(v)})"


def row(name: str, ours: list[float], base: list[float] | None, unit: str, scale: float = 1.0,
        higher_is_better: bool = False) -> None:
    print(f"{name:<24} labchat  {spread(ours, unit, scale)}")
    if base:
        ratio = statistics.median(ours) / statistics.median(base)
        ratio = ratio if higher_is_better else 1 / ratio
        print(f"{'':<24} baseline {spread(base, unit, scale)}   -> labchat x{ratio:.2f} as fast")


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def questions() -> list[str]:
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines()]
    return [r["question"] for r in rows if r.get("answerable", True)]


def warm(repeat: int) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from labchat.evaluate import final
    from labchat.generate import Generator, converted_dir
    from labchat.pipeline import Pipeline
    from labchat.prompt import build_messages
    from labchat.settings import Settings

    settings = Settings()
    pipeline = Pipeline(settings)
    local = Generator(settings)
    generating = Pipeline(settings, generator=local, embedder=pipeline.embedder)
    plain = AutoModelForCausalLM.from_pretrained(converted_dir(settings)).eval()
    tokenizer = local.tokenizer
    qs = questions() * repeat

    ours_first, ours_total, gen_first, gen_total, base_first, base_total = [], [], [], [], [], []
    for q in qs:
        answer = final(pipeline.ask(q))
        ours_first.append(answer.timings["first_token_s"])
        ours_total.append(answer.timings["total_s"])
        drafted = final(generating.ask(q))
        gen_first.append(drafted.timings["first_token_s"])
        gen_total.append(drafted.timings["total_s"])
        # Baseline: the same passages, plain generate on the fp32 model, first token via a 1-token run.
        messages = build_messages(q, answer.passages, pipeline.profile.topic)
        inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)
        for tokens, times in ((1, base_first), (settings.max_new_tokens, base_total)):
            with torch.inference_mode():
                times.append(timed(lambda n=tokens, x=inputs: plain.generate(**x, max_new_tokens=n,
                                                                             do_sample=False)))
    row("first shown (warm)", ours_first, base_first, "s")
    row("whole answer (warm)", ours_total, base_total, "s")
    row("--generate first shown", gen_first, base_first, "s")
    row("--generate whole answer", gen_total, base_total, "s")

    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Tell a long story about a cat."}],
                                           add_generation_prompt=True, return_tensors="pt", return_dict=True)

    def rate(model: object) -> float:
        with torch.inference_mode():
            seconds = timed(lambda: model.generate(**prompt, max_new_tokens=64, min_new_tokens=64,
                                                   do_sample=False))
        return 64 / seconds

    ours_rate = [rate(local.model) for _ in range(repeat + 2)]
    base_rate = [rate(plain) for _ in range(repeat + 2)]
    row("decode", ours_rate, base_rate, "tok/s", higher_is_better=True)

    from llama_index.core import Document, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from labchat.embed import embedder_path
    from labchat.ingest import SourceFile, list_files, read_file

    sources = [read_file(p, settings.corpus_dir) for p in list_files(settings.corpus_dir)]
    embed_model = HuggingFaceEmbedding(model_name=embedder_path(settings.embedder), device="cpu")
    documents = [Document(text=s.text) for s in sources if isinstance(s, SourceFile)]
    reference = VectorStoreIndex.from_documents(documents, embed_model=embed_model).as_retriever(
        similarity_top_k=3)
    ours_ret = [timed(lambda q=q: pipeline.finder.retriever.search(q, settings.top_chunks)) for q in qs]
    base_ret = [timed(lambda q=q: reference.retrieve(q)) for q in qs]
    row("retrieval", ours_ret, base_ret, "ms", scale=1000)


def processes(repeat: int) -> None:
    ask = [str(LABCHAT), "ask", "--json", "Who founded Moonshot AI?"]
    subprocess.run(ask, capture_output=True, check=True)  # index and models on disk before timing
    row("cold start (ask)", [timed(lambda: subprocess.run(ask, capture_output=True, check=True))
                             for _ in range(repeat)], None, "s")
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        full = []
        for _ in range(repeat):
            shutil.rmtree(index, ignore_errors=True)
            full.append(timed(lambda: subprocess.run([str(LABCHAT), "index", "--index", str(index)],
                                                     capture_output=True, check=True)))
        noop = [timed(lambda: subprocess.run([str(LABCHAT), "index", "--index", str(index)],
                                             capture_output=True, check=True)) for _ in range(repeat)]
    row("index, full build", full, None, "s")
    row("index, nothing changed", noop, None, "s")
    print(f"{'serving memory (peak)':<24} labchat  {serving_memory_mb():8.0f} MB")


@contextmanager
def serving(args: Sequence[str] = ()) -> Iterator[tuple[subprocess.Popen, Client]]:
    """`labchat serve` (with `args`, such as --corpus) on a free port, and a gradio_client connected to it."""
    from gradio_client import Client

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([str(LABCHAT), "serve", "--port", str(port), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        for line in server.stdout:
            if "the chat is on" in line:
                break
        # download_files=False: the client would take each source's "path" for a file to fetch
        yield server, Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
    finally:
        server.terminate()
        server.wait(timeout=30)


def serving_memory_mb(args: Sequence[str] = ()) -> float:
    """Start `labchat serve` (with `args`, such as --corpus), ask it three questions through gradio_client,
    read its peak RSS."""
    with serving(args) as (server, client):
        endpoint = next(name for name in client.view_api(print_info=False, return_format="dict")[
            "named_endpoints"] if "respond" in name)
        for q in questions()[:3]:
            client.predict(q, [], api_name=endpoint)
        status = Path(f"/proc/{server.pid}/status").read_text()
        peak = next(line for line in status.splitlines() if line.startswith("VmHWM"))
        return int(peak.split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # Processes first, while this one holds no models: after `warm` loaded four of them, a fresh
    # `labchat ask` was seen to take 5.9 s instead of 4.9 s (measured alone and under a bare parent).
    processes(args.repeat)
    warm(args.repeat)


if __name__ == "__main__":
    main()
