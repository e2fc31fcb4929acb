"""Answers through an OpenAI-compatible server: a real `transformers serve` on 127.0.0.1, not a mock.

The server is pinned to the locally converted SmolLM2 folder (the one `Generator` uses), so it runs
offline; it is started once for this module and stopped at teardown.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
import questionsets
from servers import ask_together, free_port, message_text, serving

from labchat import check
from labchat.errors import LabchatError
from labchat.evidence import Passage
from labchat.generate import Generator, converted_dir
from labchat.pipeline import Pipeline
from labchat.prompt import build_messages
from labchat.remote import RemoteGenerator
from labchat.settings import Settings

BAICHUAN = "How much did Baichuan raise in its Series B round?"
STARTUP_TIMEOUT_S = 180


def _model_dir() -> Path:
    """The converted default model; converting it is what constructing a `Generator` does the first time."""
    folder = converted_dir(Settings())
    if not (folder / "config.json").exists():
        Generator(Settings())
    return folder


def _log_tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-30:])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, model name) of a running `transformers serve`; the model name is the pinned folder."""
    model = str(_model_dir())
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    command = [str(Path(sys.executable).parent / "transformers"), "serve", "--host", "127.0.0.1",
               "--port", str(port), "--device", "cpu", "--log-level", "info", model]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"transformers serve exited with {process.returncode}:\n{_log_tail(log)}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve not ready in {STARTUP_TIMEOUT_S} s:\n{_log_tail(log)}")
            time.sleep(0.5)
        yield base_url, model
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def remote(server: tuple[str, str]) -> Iterator[RemoteGenerator]:
    generator = RemoteGenerator(*server)
    yield generator
    generator.close()


def _messages(question: str, fact: str) -> list[dict[str, str]]:
    return build_messages(question, [Passage(n=1, path="notes.md", section="Notes", text=fact, score=1.0)])


def _answer(generator: RemoteGenerator, messages: list[dict[str, str]]) -> str:
    return "".join(generator.stream(messages))


def test_stream_yields_pieces_of_one_line(remote: RemoteGenerator) -> None:
    messages = _messages("What is the capital of France?", "Paris is the capital of France.")
    pieces = list(remote.stream(messages))
    assert len(pieces) > 1, pieces
    text = "".join(pieces)
    assert text.strip() and "\n" not in text, pieces


def test_pipeline_answers_through_the_server(session_settings: Settings, server: tuple[str, str]) -> None:
    """Selected by settings; only generation is remote: retrieval, checks and citations stay in labchat."""
    url, model = server
    pipeline = Pipeline(session_settings.with_(backend_url=url, model=model))
    assert isinstance(pipeline.generator, RemoteGenerator)
    shown_texts = []
    for answer in pipeline.ask(BAICHUAN):
        shown_texts.append(answer.text)
    assert answer.done and not answer.abstained
    for before, after in itertools.pairwise(shown_texts):
        assert after.startswith(before), f"shown text was taken back: {shown_texts}"
    shown = answer.text + "\n" + "\n".join(f"[{p.n}] {p.text}" for p in answer.passages)
    assert "691" in answer.text, shown
    cited = check.citations(answer.text)
    assert cited and any("691" in answer.passages[n - 1].text for n in cited), shown
    # whatever the model wrote, every number on screen is in a passage the answer cites
    numbers = set(re.findall(r"\d[\d.,]*\d|\d", check.strip_citations(answer.text)))
    held = " ".join(answer.passages[n - 1].text for n in cited)
    assert all(n in held for n in numbers), shown


def test_parallel_requests_get_their_own_answers(remote: RemoteGenerator) -> None:
    questions = {
        "capital": _messages("What is the capital of France?", "Paris is the capital of France."),
        "founder": _messages("Who founded Zhipu AI?", "Zhipu AI was founded by Tang Jie in 2019."),
    }
    alone = {key: _answer(remote, messages) for key, messages in questions.items()}
    together: dict[str, str] = {}
    failures: list[BaseException] = []

    def run(key: str) -> None:
        try:
            together[key] = _answer(remote, questions[key])
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=run, args=(key,)) for key in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert all(not t.is_alive() for t in threads), "a parallel request did not finish"
    assert "Paris" in together["capital"] and "Tang" in together["founder"], together
    assert together == alone, (together, alone)


def test_unreachable_server_is_a_labchat_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    generator = RemoteGenerator(url, "any-model")
    with pytest.raises(LabchatError, match="cannot reach the model server") as info:
        list(generator.stream([{"role": "user", "content": "Hello"}]))
    assert url in str(info.value) and "\n" not in str(info.value)


def test_wrong_model_name_is_a_labchat_error(server: tuple[str, str]) -> None:
    generator = RemoteGenerator(server[0], "no-such-model")
    with pytest.raises(LabchatError, match="HTTP 4"):
        list(generator.stream([{"role": "user", "content": "Hello"}]))


def test_cli_answers_through_the_server(session_settings: Settings, server: tuple[str, str]) -> None:
    """`labchat ask --backend-url URL --model NAME`, as a user runs it against an inference server."""
    url, model = server
    script = Path(sys.executable).with_name("labchat")
    result = subprocess.run([str(script), "ask", "--json", "--backend-url", url, "--model", model,
                             "--corpus", str(session_settings.corpus_dir), "--index",
                             str(session_settings.index_dir), BAICHUAN],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "691" in json.loads(result.stdout)["answer"]


class CountingGenerator(RemoteGenerator):
    """The real client to the real server, counting how many of its requests are in flight at once."""

    def __init__(self, base_url: str, model: str) -> None:
        super().__init__(base_url, model)
        self._lock = threading.Lock()
        self.in_flight = self.peak = 0

    def stream(self, messages: list[dict[str, str]], one_line: bool = True) -> Iterator[str]:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            yield from super().stream(messages, one_line)
        finally:
            with self._lock:
                self.in_flight -= 1


def test_web_chat_answers_many_users_at_once_through_the_server(
        session_settings: Settings, server: tuple[str, str]) -> None:
    """Eight browser sessions ask at once: the requests reach the server together (the local model's
    limit of two does not apply), and each session gets the answer it gets alone."""
    from labchat.evaluate import final
    from labchat.web import app as web

    url, model = server
    settings = session_settings.with_(backend_url=url, model=model)
    generator = CountingGenerator(url, model)
    pipeline = Pipeline(settings, generator=generator)
    questions = [q["question"] for q in questionsets.answerable("questions.jsonl")][:8]
    alone = {q: web.chat_text(final(pipeline.ask(q))) for q in questions}
    assert generator.peak == 1
    with serving(settings, pipeline) as chat_url:
        chats = ask_together(chat_url, questions)
    together = dict(zip(questions, (chat[-1]["content"] for chat in chats), strict=True))
    generator.close()
    assert generator.peak > 2, f"at most {generator.peak} requests reached the server at once"
    assert {q: message_text(a) for q, a in together.items()} == alone


# --- a capable model behind --backend-url: a scripted OpenAI-compatible server ----------------------------


class _ScriptedChat:
    """An OpenAI-compatible /v1/chat/completions that answers like a capable model: it reads the numbered
    passages of the prompt and streams one sentence per fact, each citing the passage that holds it, plus
    (when asked to) one sentence with an invented figure."""

    SENTENCES: ClassVar[dict[str, str]] = {"Wang Xiaochuan": "Baichuan was founded by Wang Xiaochuan [{n}].",
                 "$691M": "It raised $691M in its Series B round [{n}]."}

    def __init__(self, facts: list[str], invent: bool = False) -> None:
        self.facts, self.invent = facts, invent

    def reply(self, prompt: str) -> str:
        numbers = {fact: next(n for n, text in re.findall(r"^\[(\d+)\] (.*)$", prompt, re.MULTILINE)
                              if fact in text) for fact in self.facts}
        sentences = [self.SENTENCES[fact].format(n=n) for fact, n in numbers.items()]
        if self.invent:
            sentences.insert(1, "Its valuation reached $42B in 2031 [1].")
        return " ".join(sentences)


@pytest.fixture
def scripted_server() -> Iterator[tuple[str, _ScriptedChat]]:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    script = _ScriptedChat([])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            text = script.reply(body["messages"][-1]["content"])
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in re.findall(r"\S+\s*", text):
                chunk = {"choices": [{"delta": {"content": piece}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    finally:
        httpd.shutdown()


QUESTION = "Who founded Baichuan and how much did it raise in its Series B round?"


def test_a_capable_models_answer_combining_two_passages_is_kept(
        scripted_server: tuple[str, _ScriptedChat], pipeline: Pipeline) -> None:
    url, script = scripted_server
    script.facts = ["Wang Xiaochuan", "$691M"]
    remote = RemoteGenerator(url, "scripted")
    answering = Pipeline(pipeline.settings.with_(backend_url=url), generator=remote,
                         embedder=pipeline.embedder)
    answer = list(answering.ask(QUESTION))[-1]
    assert not answer.extracted, answer.text
    assert "Wang Xiaochuan" in answer.text and "$691M" in answer.text, answer.text
    cited = check.citations(answer.text)
    assert len(set(cited)) == 2, answer.text
    for sentence in re.split(r"(?<=\.)\s+", answer.text):
        for n in check.citations(sentence):
            passage = answer.passages[n - 1].text
            assert any(fact in passage for fact in script.facts if fact in sentence), (sentence, passage)


def test_an_invented_sentence_from_the_server_never_reaches_the_answer(
        scripted_server: tuple[str, _ScriptedChat], pipeline: Pipeline) -> None:
    url, script = scripted_server
    script.facts, script.invent = ["Wang Xiaochuan", "$691M"], True
    answering = Pipeline(pipeline.settings.with_(backend_url=url), generator=RemoteGenerator(url, "scripted"),
                         embedder=pipeline.embedder)
    shown = [answer.text for answer in answering.ask(QUESTION)]
    assert shown and all("42" not in text and "2031" not in text for text in shown), shown
    assert "Wang Xiaochuan" in shown[-1], shown
