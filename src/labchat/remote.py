"""Stream answers from any OpenAI-compatible chat-completions server instead of a model loaded in-process.

vLLM, llama.cpp's `llama-server`, Ollama and `transformers serve` all speak `POST /chat/completions` with
server-sent events, so one small client covers them all. `RemoteGenerator` has the same `stream` interface
as `labchat.generate.Generator`, so `Pipeline(settings, generator=RemoteGenerator(...))` needs no other
change: retrieval, evidence, checking and repair still run locally.

The HTTP client is httpx, not urllib: it is already installed as a declared dependency of gradio (which
labchat requires), it streams a response line by line without buffering, and it gives separate
connect/read timeouts, so a dead server fails in seconds while a slow model can still take its time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import httpx

from labchat.errors import LabchatError

API_KEY_ENV = "LABCHAT_API_KEY"
"""The key is read from the environment, never from a command-line flag, so it stays out of `ps` and logs."""


class RemoteGenerator:
    """A chat-completions endpoint; `stream` yields text pieces as the server sends them.

    One `httpx.Client` is shared: it is thread-safe and keeps connections alive, so the web chat's
    parallel requests reuse them instead of opening a new connection per answer.
    """

    def __init__(self, base_url: str, model: str, api_key: str | None = None, max_new_tokens: int = 96,
                 connect_timeout: float = 5.0, read_timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_new_tokens = max_new_tokens
        api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
        headers = {"Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._client = httpx.Client(headers=headers, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def stream(self, messages: list[dict[str, str]], one_line: bool = True) -> Iterator[str]:
        """Greedy decoding on the server, read as server-sent events.

        `one_line` asks the server to stop at a line break and also cuts locally at the first one:
        not every server honours `stop`, and labchat wants one sentence, not the filler after it.
        """
        url = f"{self.base_url}/chat/completions"
        body: dict = {"model": self.model, "messages": messages, "stream": True, "temperature": 0,
                      "max_tokens": self.max_new_tokens}
        if one_line:
            body["stop"] = ["\n"]
        started = False
        try:
            with self._client.stream("POST", url, json=body) as response:
                if response.status_code >= 400:
                    raise LabchatError(_http_error(url, response))
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, `event:` and `: keep-alive` comments
                    data = line[5:].strip()
                    if data == "[DONE]":  # not every server sends it: the stream ending also ends the answer
                        break
                    piece = _content(data)
                    if one_line and "\n" in piece:
                        head = piece.split("\n", 1)[0]
                        if head.strip() or started:
                            if head:
                                yield head
                            break
                        piece = piece.lstrip("\n")  # a leading blank line is not the end of the answer
                    if piece:
                        started = True
                        yield piece
        except httpx.ConnectError as err:
            raise LabchatError(f"cannot reach the model server at {self.base_url}: start it or fix "
                               f"--backend-url") from err
        except httpx.TimeoutException as err:
            raise LabchatError(f"the model server at {self.base_url} did not answer in time: check that it "
                               f"is running and not overloaded") from err
        except httpx.HTTPError as err:
            raise LabchatError(f"the connection to the model server at {self.base_url} failed ({err}): "
                               f"check the server and --backend-url") from err


def _content(data: str) -> str:
    """The text in one streamed chunk; an `error` event from the server becomes a LabchatError."""
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError as err:
        raise LabchatError(f"the model server sent something that is not a chat-completions stream "
                           f"({data[:80]!r}): point --backend-url at an OpenAI-compatible /v1") from err
    if isinstance(chunk, dict) and chunk.get("error"):
        raise LabchatError(f"the model server failed: {_detail(chunk)}")
    try:
        return chunk["choices"][0]["delta"].get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""  # role-only, usage-only and empty chunks carry no text


def _detail(payload: object) -> str:
    """The server's own one-line reason, from the shapes OpenAI, vLLM and FastAPI use."""
    if isinstance(payload, dict):
        for key in ("error", "detail", "message"):
            value = payload.get(key)
            if isinstance(value, dict):
                value = value.get("message", value)
            if value:
                return " ".join(str(value).split())[:200]
    return " ".join(str(payload).split())[:200]


def _http_error(url: str, response: httpx.Response) -> str:
    response.read()
    try:
        reason = _detail(response.json())
    except ValueError:
        reason = " ".join(response.text.split())[:200] or response.reason_phrase
    status = response.status_code
    if status in (401, 403):
        hint = f"set {API_KEY_ENV} to a key the server accepts"
    elif status == 404:
        hint = "check --backend-url (it usually ends in /v1) and the model name"
    else:
        hint = "check the model name and the server's log"
    return f"the model server at {url} answered HTTP {status} ({reason}): {hint}"
