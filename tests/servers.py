"""Starting real servers on free local ports, for the web and inference-server tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext

from labchat.pipeline import Pipeline
from labchat.settings import Settings
from labchat.web import app as web
from labchat.web.live import LiveIndex


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(settings: Settings, pipeline: Pipeline, live: bool = False) -> Iterator[str]:
    """The web chat for `pipeline` (or a stand-in with the same `ask`), running until the block ends.

    `live`: as `labchat serve` runs it, following the corpus folder, with the Documents and Source tabs.
    """
    settings = settings.with_(host="127.0.0.1", port=free_port())
    with LiveIndex(settings, pipeline) if live else nullcontext() as watcher:
        app = web.build_app(settings, pipeline, watcher)
        web.launch(app, settings, block=False)
        try:
            yield f"http://{settings.host}:{settings.port}/"
        finally:
            app.close()


def message_text(message: object) -> str:
    """The text of a chat message as gradio_client returns it (a string or a list of parts)."""
    if isinstance(message, list):
        return " ".join(message_text(part) for part in message)
    if isinstance(message, dict):
        return str(message.get("text", message.get("content", "")))
    return str(message)


def ask_together(url: str, questions: Sequence[str]) -> list[list[dict]]:
    """Each question from its own session (one gradio_client = one browser tab), all sent at one moment.

    The clients connect first and then wait at a barrier, so the questions really reach the chat together.
    Returns each session's chat, in the order of `questions`.
    """
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in questions]
    start = threading.Barrier(len(questions))

    def ask(i: int) -> list[dict]:
        start.wait(timeout=60)
        _, chat, _ = clients[i].predict(questions[i], [], api_name="/respond")
        return chat

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        return list(pool.map(ask, range(len(questions))))
