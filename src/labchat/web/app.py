"""The web chat: `labchat serve` and `python app.py` start it; the answers come from the same `Pipeline.ask`.

Tabs: Chat (the conversation and the sources of each answer), Documents (the corpus listed, files added
and removed), Source (a source card's document, opened at the passage). A named endpoint `ask` answers
scripts with the object `labchat ask --json` prints. The running server follows the corpus folder
(`live.LiveIndex`) and says in one line under the header what the last update changed.

Everything a document says reaches the page escaped: passage and answer text is user data, so a `<script>`
or a `javascript:` link in a document must show as text, never run.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterator

import gradio as gr

from labchat.errors import LabchatError
from labchat.evaluate import final
from labchat.pipeline import Answer, Pipeline
from labchat.profile import CorpusProfile
from labchat.settings import Settings
from labchat.web import documents, docview, library
from labchat.web.live import LiveIndex

log = logging.getLogger(__name__)

REMOTE_CONCURRENCY = 16
"""Answers in flight at once when an inference server generates: it batches them, labchat only waits."""
CONCURRENCY = 2
"""Answers generated at once by the local model. Each `Pipeline.ask` decodes in its own thread, so this
is safe; generation is CPU-bound, so more than two in parallel only slow every answer down, while two
let a short answer (or an abstention, which needs no generation) through while a long one streams.
Others wait in the queue and see their place."""
THINKING = "_Reading the documents…_"

Message = dict[str, str]
Turn = tuple[str, str]


_HEADER_CSS = """
.lc-header { padding: 6px 2px 2px; }
.lc-header h1 { margin: 0 0 4px; font-size: 1.55rem; font-weight: 700; letter-spacing: -0.01em;
  color: var(--body-text-color); }
.lc-header p { margin: 0; color: var(--body-text-color-subdued); font-size: 0.95rem; }
.lc-header .lc-setup { margin-top: 2px; font-size: 0.8rem; }
.lc-header code { font-size: 0.78rem; }
"""

_SOURCES_CSS = """
.lc-sources { display: flex; flex-direction: column; gap: 10px; }
.lc-head { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; }
.lc-head h2 { margin: 0; font-size: 1.05rem; font-weight: 700; color: var(--body-text-color); }
.lc-meta { font-size: 0.8rem; color: var(--body-text-color-subdued); }
.lc-note { margin: 0; padding: 8px 10px; border-radius: 8px; font-size: 0.88rem;
  background: var(--color-accent-soft); color: var(--body-text-color); }
.lc-note.lc-abstain { background: #fef3c7; color: #78350f; }
.lc-empty { margin: 0; padding: 14px; border: 1px dashed var(--border-color-primary); border-radius: 10px;
  color: var(--body-text-color-subdued); font-size: 0.92rem; line-height: 1.5; }
.lc-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
  background: var(--background-fill-primary); }
.lc-card.lc-cited { border-color: var(--color-accent); box-shadow: inset 3px 0 0 var(--color-accent); }
.lc-card header { display: flex; align-items: center; gap: 8px; margin-bottom: 4px; }
.lc-num { font-weight: 700; font-variant-numeric: tabular-nums; color: var(--body-text-color); }
.lc-badge { font-size: 0.72rem; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em;
  padding: 1px 7px; border-radius: 999px; background: var(--color-accent); color: white; }
.lc-score { margin-left: auto; font-size: 0.78rem; color: var(--body-text-color-subdued);
  font-variant-numeric: tabular-nums; }
.lc-section { font-size: 0.82rem; font-weight: 600; color: var(--body-text-color-subdued); }
.lc-text { margin: 6px 0; font-size: 0.92rem; line-height: 1.45; color: var(--body-text-color);
  overflow-wrap: anywhere; }
.lc-file { font-size: 0.76rem; font-family: var(--font-mono); color: var(--body-text-color-subdued);
  overflow-wrap: anywhere; }
.lc-open { display: none; color: var(--color-accent); }
"""

_CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto !important; }
#lc-question .submit-button { background: var(--button-primary-background-fill); font-weight: 600;
  color: var(--button-primary-text-color); border-radius: var(--radius-md); padding: 0 18px; }
#lc-question .submit-button:hover { background: var(--button-primary-background-fill-hover); }
#lc-sources-col { max-height: max(calc(100vh - 230px), 480px); overflow-y: auto; padding-right: 4px; }
.lc-opens .lc-card { cursor: pointer; }
.lc-opens .lc-card:hover, .lc-opens .lc-card:focus { border-color: var(--color-accent) !important;
  outline: none; }
.lc-opens .lc-open { display: inline !important; }  /* the cards' own CSS is scoped, so it wins otherwise */
#lc-status:not(:has(.lc-status)) { display: none; }
"""


def build_app(settings: Settings, pipeline: Pipeline, live: LiveIndex | None = None) -> gr.Blocks:
    """The chat page, not yet running: `serve` launches it, tests start it on a free port.

    Its title, words and examples come from `pipeline.profile`, what the corpus's labchat.yaml says. With
    `live` (the server's `LiveIndex`), the page also has the Documents and Source tabs and the status line.
    """
    limit = REMOTE_CONCURRENCY if settings.backend_url else CONCURRENCY
    profile: CorpusProfile = pipeline.profile
    subject = profile.topic or "the documents"
    example = f", for example: {profile.examples[0]}" if profile.examples else "."
    hint = html.escape(f"Type a question first{example}")  # a Gradio notice renders HTML
    with gr.Blocks(title="labchat", analytics_enabled=False) as app:
        turns = gr.State([])  # this session's [(question, answer), ...]; gr.State is per browser session
        shown = gr.State([])  # the passages the sources panel shows, so a click on a card can open one
        gr.HTML(_header(settings, profile, pipeline.generator is not None), css_template=_HEADER_CSS,
                js_on_load=None)
        status = gr.HTML("", css_template=documents.STATUS_CSS, js_on_load=None, elem_id="lc-status")
        with gr.Tabs(elem_id="lc-tabs") as tabs:
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=420):
                    chat = gr.Chatbot(
                        elem_id="lc-chat", show_label=False, height="calc(100vh - 420px)", min_height=320,
                        layout="bubble",
                        placeholder=f"**Ask a question about {_md_text(subject)}.**<br>Answers come only "
                                    "from the documents in the corpus, with citations like [1].",
                        sanitize_html=True, allow_tags=False, latex_delimiters=[],
                        buttons=["copy"], feedback_options=None,
                    )
                    question = gr.Textbox(
                        elem_id="lc-question", show_label=False, lines=1, max_lines=4, autofocus=True,
                        placeholder=f"Ask a question about {subject}…",
                        submit_btn="Ask",
                    )
                    if profile.examples:
                        examples = gr.Examples(list(profile.examples), inputs=question,
                                               label="Try one of these")
                with gr.Column(scale=2, min_width=320, elem_id="lc-sources-col"):
                    sources = gr.HTML(sources_html(None), css_template=_SOURCES_CSS, elem_id="lc-sources",
                                      js_on_load=documents.OPEN_SOURCE_JS if live else None,
                                      elem_classes=["lc-opens"] if live else None)
            if live is not None:
                documents.corpus_tabs(settings, live, tabs, status, sources, shown)

        def respond(text: str, messages: list[Message], history: list[Turn]) -> Iterator[tuple]:
            yield from _respond(pipeline, text, messages, history, hint)

        chat_io = ([question, chat, turns], [question, chat, sources, turns, shown])
        # "always_last": a question sent while the previous answer still streams runs right after it,
        # instead of being dropped (Gradio's default for submit).
        question.submit(respond, *chat_io, concurrency_limit=limit, concurrency_id="answers",
                        trigger_mode="always_last")
        if profile.examples:
            examples.load_input_event.then(respond, *chat_io, concurrency_limit=limit,
                                           concurrency_id="answers")  # one click asks the example
        chat.clear(lambda: ([], sources_html(None), []), outputs=[turns, sources, shown])

        def ask(question: str, history: list[list[str]] | None = None) -> dict:
            """Answer QUESTION from the documents, after HISTORY ([question, answer] pairs of the earlier
            turns, oldest first): the object `labchat ask --json` prints (answer, abstained, sources)."""
            return _ask(pipeline, question, history)

        gr.api(ask, api_name="ask", concurrency_limit=limit, concurrency_id="answers")
    app.queue(default_concurrency_limit=limit)
    return app


def _ask(pipeline: Pipeline, question: str, history: list[list[str]] | None) -> dict:
    """The `ask` endpoint: a whole answer at once; a user error comes back as the client's error message."""
    try:
        turns = [(str(asked), str(said)) for asked, said in history or []]
    except (TypeError, ValueError) as err:
        raise gr.Error("history must be a list of [question, answer] pairs") from err
    try:
        return final(pipeline.ask(question, turns)).to_dict()
    except LabchatError as err:
        raise gr.Error(str(err)) from err


def _header(settings: Settings, profile: CorpusProfile, generating: bool) -> str:
    """Title, description, and how answers are made: quoted from the passages, or worded by a model
    whose every sentence is checked against them."""
    model = html.escape(settings.model)
    how = (f"Model <code>{model}</code> words the answers, each sentence checked against the passages"
           if generating else "Answers quoted from the passages, cited")
    setup = f"{how} \u00b7 documents in <code>{html.escape(settings.corpus_dir.name)}/</code>"
    setup += " \u00b7 index in PostgreSQL, shared" if settings.store else ""
    return (f'<header class="lc-header"><h1>{html.escape(profile.title)}</h1>'
            f'<p>{html.escape(profile.description)}</p>'
            f'<p class="lc-setup">{setup}</p></header>')


def launch(app: gr.Blocks, settings: Settings, *, block: bool = True) -> None:
    """Serve on settings.host/port only, never through a public share link.

    Gradio 6 takes the theme and page CSS at launch, not in `gr.Blocks`, so every caller goes through here.
    """
    login = tuple(settings.auth.split(":", 1)) if settings.auth else None
    app.launch(server_name=settings.host, server_port=settings.port, share=False, auth=login,
               max_file_size=library.max_bytes(settings),
               prevent_thread_lock=not block, theme=_theme(), css=_CSS,
               footer_links=["gradio", "settings"], run_history=False, quiet=True)


def _theme() -> gr.themes.Base:
    """Soft, with IBM Plex Sans (shipped with Gradio, so no font is fetched from the internet)."""
    return gr.themes.Soft(primary_hue="indigo", neutral_hue="slate", font=(
        gr.themes.LocalFont("IBM Plex Sans", weights=(400, 600, 700)), "ui-sans-serif", "system-ui",
        "sans-serif"))


def serve(settings: Settings, pipeline: Pipeline, notify: Callable[[str], None] = log.info) -> None:
    """Start the web chat, following the corpus folder (each update is told to `notify`), and block until
    it is stopped (Gradio's own banner suggests a public link)."""
    with LiveIndex(settings, pipeline, notify) as live:
        app = build_app(settings, pipeline, live)
        try:
            launch(app, settings, block=False)
        except OSError as err:
            raise LabchatError(f"{settings.host}:{settings.port} is in use: pass another --port") from err
        print(f"labchat: the chat is on http://{settings.host}:{settings.port} (Ctrl+C stops it)", flush=True)
        app.block_thread()


def _respond(pipeline: Pipeline, text: str, messages: list[Message], history: list[Turn],
             hint: str) -> Iterator[tuple]:
    """Stream one answer: yields (question box, chat, sources, history, passages) as the answer fills in."""
    if not text.strip():
        gr.Warning(hint, duration=5)
        yield "", gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    messages = [*messages, {"role": "user", "content": _md_text(text)},
                {"role": "assistant", "content": THINKING}]
    yield "", messages, gr.skip(), gr.skip(), gr.skip()
    turn = len(history) + 1
    try:
        for answer in pipeline.ask(text, history):
            messages[-1] = {"role": "assistant", "content": chat_text(answer)}
            if answer.done:  # only answered questions become context for the next one
                history = [*history, (answer.question, answer.text)]
            yield gr.skip(), messages, sources_html(answer, turn), history, answer.passages
    except LabchatError as err:
        messages[-1] = {"role": "assistant", "content": f"⚠️ {_md_text(str(err))}"}
        yield gr.skip(), messages, gr.skip(), gr.skip(), gr.skip()
    except Exception:  # the page gets one friendly line; the traceback goes to the server log only
        log.exception("answering %r failed", text)
        messages[-1] = {"role": "assistant",
                        "content": "⚠️ Something went wrong while answering. Please try again."}
        yield gr.skip(), messages, gr.skip(), gr.skip(), gr.skip()


_INLINE = re.compile(r"[\\*_`~]")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _md_text(text: str) -> str:
    """Document or user text made inert for the chat's Markdown: no HTML, no links or images, and no
    emphasis, strike or code made of its own characters (`__init__`, `a*b*c`, `~x~` stay as written)."""
    return _INLINE.sub(r"\\\g<0>", html.escape(text, quote=False)).replace("](", "]\\(")


def _answer_md(text: str) -> str:
    """An answer for the chat's Markdown: its short answer in bold (`**$691M**`), the rest as written."""
    pieces = _BOLD.split(text)  # outside, bold, outside, ...
    return "".join(f"**{_md_text(p)}**" if i % 2 else _md_text(p) for i, p in enumerate(pieces))


def chat_text(answer: Answer) -> str:
    """The whole message for the chat bubble: the checked text so far, then notes once it is done."""
    text = _answer_md(answer.text) if answer.text else THINKING
    notes = []
    if answer.done and answer.abstained:
        notes.append("The closest passages are shown beside the chat.")
    if answer.notice:
        notes.append(_md_text(answer.notice))
    return "\n\n".join([text, *(f"_{note}_" for note in notes)])


def sources_html(answer: Answer | None, turn: int = 0) -> str:
    """The passages an answer rests on, cited ones marked; every piece of document text is escaped."""
    if answer is None:
        return ('<div class="lc-sources" data-state="empty"><div class="lc-head"><h2>Sources</h2></div>'
                '<p class="lc-empty">The passages each answer is drawn from appear here, '
                "with the ones it cites marked.</p></div>")
    cited = set(answer.cited)
    state = "done" if answer.done else "streaming"
    if answer.abstained:
        title = "Closest passages"
        note = ('<p class="lc-note lc-abstain">The documents do not answer this question. '
                "These are the nearest passages found.</p>")
    else:
        title = "Sources"
        note = ""
    meta = f"answered in {answer.timings['total_s']:.1f} s" if answer.done else "answering…"
    cards = "".join(_card(p.n, p.location, p.section, p.text, p.score, p.n in cited) for p in answer.passages)
    if not answer.passages:
        cards = '<p class="lc-empty">No passage in the documents matched this question.</p>'
    return (f'<div class="lc-sources" data-state="{state}" data-turn="{turn}" '
            f'data-abstained="{str(answer.abstained).lower()}">'
            f'<div class="lc-head"><h2>{title}</h2><span class="lc-meta">{meta}</span></div>'
            f"{note}{cards}</div>")


def _card(n: int, path: str, section: str, text: str, score: float, cited: bool) -> str:
    esc = html.escape
    badge = '<span class="lc-badge">cited</span>' if cited else ""
    return (f'<article class="lc-card{" lc-cited" if cited else ""}" data-n="{n}" tabindex="0">'
            f'<header><span class="lc-num">[{n}]</span>{badge}'
            f'<span class="lc-score" title="relevance score">score {score:.2f}</span></header>'
            f'<div class="lc-section">{docview.crumbs(section)}</div>'
            f'<p class="lc-text">{esc(text)}</p>'
            f'<div class="lc-file">{esc(path)}<span class="lc-open"> \u00b7 open at this passage '
            f"\u203a</span></div></article>")
