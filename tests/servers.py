"""Starting real servers on free local ports, for the web and inference-server tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from labchat import web
from labchat.pipeline import Pipeline
from labchat.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(settings: Settings, pipeline: Pipeline) -> Iterator[str]:
    """The web chat for `pipeline` (or a stand-in with the same `ask`), running until the block ends."""
    settings = settings.with_(host="127.0.0.1", port=free_port())
    app = web.build_app(settings, pipeline)
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
