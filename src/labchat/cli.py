"""The `labchat` command: ask, chat, index, serve, eval.

Logic lives in the library; this file talks to the user.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from labchat.errors import LabchatError
from labchat.settings import DEFAULT_MODEL, Settings

if TYPE_CHECKING:
    from labchat.pipeline import Answer, Pipeline


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _say(message: str) -> None:
    click.echo(f"labchat: {message}", err=True)


class _Group(click.Group):
    """Turns a `LabchatError` into one line on stderr and exit status 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LabchatError as err:
            _say(str(err))
            ctx.exit(2)
        except KeyboardInterrupt:
            ctx.exit(130)


def settings_options(command: Callable) -> Callable:
    """--corpus, --index, --store and --model for every command, each also read from a LABCHAT_* variable."""

    @click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path), envvar="LABCHAT_CORPUS",
                  help="Folder of documents: .md, .txt, .html, .pdf, .docx, .pptx [default: the project's "
                  "corpus/; env LABCHAT_CORPUS].")
    @click.option("--index", "index_dir", type=click.Path(path_type=Path), envvar="LABCHAT_INDEX",
                  help="Folder the index is kept in [default: the project's index/; env LABCHAT_INDEX].")
    @click.option("--store", envvar="LABCHAT_STORE", metavar="URL",
                  help="Keep the index in PostgreSQL with pgvector instead of the --index folder, e.g. "
                  "postgresql://user:password@host/db; several servers can share it [env LABCHAT_STORE].")
    @click.option("--model", envvar="LABCHAT_MODEL",
                  help=f"Transformers causal-LM name or folder [default: {DEFAULT_MODEL}; "
                  "env LABCHAT_MODEL].")
    @click.option("--backend-url", envvar="LABCHAT_BACKEND_URL", metavar="URL",
                  help="Generate through an OpenAI-compatible server (vLLM, llama.cpp, Ollama, `transformers "
                  "serve`), e.g. http://127.0.0.1:8000/v1; --model is then the server's model name; an "
                  "API key is read from LABCHAT_API_KEY [env LABCHAT_BACKEND_URL].")
    @click.option("--generate/--quote", default=None, envvar="LABCHAT_GENERATE",
                  help="Let the local model word the answer, each sentence checked against the passages, "
                  "or quote the passages [default: quote; env LABCHAT_GENERATE=1].")
    @functools.wraps(command)
    def wrapper(corpus_dir: Path | None, index_dir: Path | None, store: str | None, model: str | None,
                backend_url: str | None, generate: bool | None, **kwargs: Any) -> Any:
        settings = Settings().with_(corpus_dir=corpus_dir, index_dir=index_dir, store=store or None,
                                   model=model, backend_url=backend_url, generate=generate)
        return command(settings, **kwargs)

    return wrapper


def _pipeline(settings: Settings) -> Pipeline:
    from labchat.pipeline import Pipeline

    return Pipeline(settings, notify=_say)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="labchat")
def cli() -> None:
    """Ask questions about your documents: answers quoted from them (or worded by a model, every sentence
    checked), with the passages they rest on."""
    logging.basicConfig(level=logging.WARNING, format="labchat: %(message)s", stream=sys.stderr)


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of streaming text.")
@settings_options
def ask(settings: Settings, question: str, as_json: bool) -> None:
    """Answer QUESTION from the documents, then list the passages it rests on."""
    from labchat.evaluate import final

    if not question.strip():  # before loading any model: the pipeline would refuse it seconds later
        raise LabchatError("the question is empty: labchat ask \"What do the documents say about X?\"")
    stream = _pipeline(settings).ask(question)
    if as_json:
        click.echo(json.dumps(final(stream).to_dict(), ensure_ascii=False))
    else:
        _print_answer(stream)


def _print_answer(stream: Iterator[Answer]) -> None:
    """Stream the text (only checked sentences ever reach it, so it only grows), then the sources."""
    shown = ""
    for answer in stream:
        click.echo(_terminal(answer.text[len(shown):]), nl=False)
        shown = answer.text
    click.echo()
    if answer.notice:
        _say(answer.notice)
    click.echo("\nClosest passages:" if answer.abstained else "\nSources:")
    for p in answer.passages:
        mark = " (cited)" if p.n in answer.cited else ""
        click.echo(f"[{p.n}] {p.location} \u2014 {p.section} (score {p.score:.2f}){mark}")
        click.echo(f"    {p.text if len(p.text) <= 200 else p.text[:197] + '...'}")
    return answer


@cli.command()
@settings_options
def chat(settings: Settings) -> None:
    """Talk in the terminal: one question a line, each answered with the conversation so far in mind.

    Follow-ups such as "And who leads it?" are read with the earlier turns. `exit`, Ctrl-D or Ctrl-C
    ends the chat; questions may also be piped in, one a line.
    """
    from labchat.evaluate import converse

    for _ in converse(_pipeline(settings), _typed_questions(), consume=_print_answer):
        click.echo()


def _typed_questions() -> Iterator[str]:
    """Lines from stdin, blank ones skipped, until `exit`, the end of input (Ctrl-D) or Ctrl-C."""
    prompt = "> " if sys.stdin.isatty() else ""
    while True:
        try:
            line = input(prompt).strip()
        except (EOFError, KeyboardInterrupt):
            return
        if line.lower() in ("exit", "quit"):
            return
        if line:
            yield line


def _terminal(text: str) -> str:
    """The answer's **bold** short answer in bold on a terminal, plain elsewhere."""
    return re.sub(r"\*\*(.+?)\*\*", lambda m: click.style(m.group(1), bold=True), text)


@cli.command()
@settings_options
def index(settings: Settings) -> None:
    """Build or update the index: only files that changed are embedded again."""
    from labchat.index import build_index, current_report

    report = current_report(settings)
    if report is None:  # loading the embedder takes seconds: only when something must be embedded
        from labchat.embed import Embedder

        report = build_index(settings, Embedder(settings, _say), progress=True, notify=_say)
    click.echo(report.summary())


@cli.command()
@click.option("--host", envvar="LABCHAT_HOST", default=Settings.host, show_default=True,
              help="Address to bind; 127.0.0.1 keeps the chat on this machine [env LABCHAT_HOST].")
@click.option("--port", envvar="LABCHAT_PORT", default=Settings.port, show_default=True, type=int,
              help="Port to listen on [env LABCHAT_PORT].")
@click.option("--auth", envvar="LABCHAT_AUTH", metavar="USER:PASSWORD",
              help="Ask for this login; required to bind any address but this machine's [env LABCHAT_AUTH].")
@click.option("--read-only", is_flag=True, envvar="LABCHAT_READ_ONLY",
              help="Documents are listed in the browser, not added or removed [env LABCHAT_READ_ONLY].")
@settings_options
def serve(settings: Settings, host: str, port: int, auth: str | None, read_only: bool) -> None:
    """Start the web chat (the same as `python app.py`).

    It follows the corpus folder: files added, changed or removed there (or uploaded and removed in the
    browser's Documents tab) are indexed while it runs, and the next question uses them.
    """
    from labchat.web.app import serve as serve_web

    if auth is not None and ":" not in auth:
        raise LabchatError("--auth takes USER:PASSWORD, for example --auth team:s3cret")
    if host not in LOCAL_HOSTS and not auth:
        raise LabchatError(f"binding {host} opens the chat to the network: set a login with "
                           "--auth USER:PASSWORD (or LABCHAT_AUTH), or keep the default 127.0.0.1")
    settings = settings.with_(host=host, port=port, auth=auth, read_only=read_only)
    serve_web(settings, _pipeline(settings), notify=_say)


@cli.command(name="eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="JSON-lines file to write one result per question to.")
@click.option("--baseline/--no-baseline", default=True, show_default=True,
              help="Also score LlamaIndex's default retrieval with a plain prompt, same embedder and model.")
@settings_options
def evaluate(settings: Settings, questions: Path, out: Path, baseline: bool) -> None:
    """Answer every question of QUESTIONS (shaped like shared/eval/dev.jsonl) and print the scores.

    Conversations (lines with "turns", like shared/eval/train_conversations.jsonl) are asked turn by turn,
    each with the turns before it as history, and recorded as `<id>-t<n>`.

    The first line is labchat's summary, as shared/eval/score.py prints it; with --baseline, a second
    line scores the reference pipeline on the same questions in the same run.
    """
    from labchat import evaluate as ev

    items = ev.read_questions(questions)
    pipeline = _pipeline(settings)
    records = _answer_all("labchat", pipeline, items)
    ev.write_records(records, out)
    click.echo(json.dumps(ev.score(items, records)))
    if baseline:
        from labchat.baseline import Baseline
        from labchat.pipeline import make_generator

        # the baseline always generates: with the same model labchat would use when asked to generate
        generator = pipeline.generator or make_generator(settings.with_(generate=True), _say)
        reference = _answer_all("baseline", Baseline(settings, generator), items)
        click.echo(json.dumps({"baseline": "llama-index VectorStoreIndex + plain prompt",
                               **ev.score(items, reference)}))


def _answer_all(label: str, pipeline: Any, items: list[dict]) -> list[dict]:
    from labchat import evaluate as ev

    with click.progressbar(length=len(items), label=label, file=sys.stderr) as bar:
        return ev.run(pipeline, items, progress=lambda done: bar.update(done - bar.pos))


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="labchat")
