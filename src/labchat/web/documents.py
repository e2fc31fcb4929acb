"""The web chat's view of the corpus while it changes: the Documents tab (files listed, added, removed),
the Source tab (a source card's document at its passage) and the status line under the header.

An open page asks every `STATUS_SECONDS` whether a newer index is in service (or the status line has news,
such as an update that failed), and only then redraws the status line and the Documents list. Adding and
removing files needs no login of its own: with `--auth` the whole app is behind the login; with
`--read-only` the controls are not built, so there is no event to call, and `library` refuses the edit
all the same.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from labchat.errors import LabchatError
from labchat.evidence import Passage
from labchat.settings import Settings
from labchat.web import docview, library
from labchat.web.live import LiveIndex, describe

STATUS_SECONDS = 2.0
"""How often an open page looks for a newer index."""

STATUS_CSS = """
.lc-status { margin: 0; padding: 4px 10px; border-radius: 8px; font-size: 0.85rem;
  background: var(--color-accent-soft); color: var(--body-text-color); }
.lc-status time { color: var(--body-text-color-subdued); font-size: 0.8rem; }
.lc-status.lc-refused { background: #fef3c7; color: #78350f; }
.lc-status + .lc-status { margin-top: 6px; }
"""

OPEN_SOURCE_JS = """
const open = (event) => {
  const card = event.target.closest('.lc-card');
  if (!card || (event.type === 'keydown' && event.key !== 'Enter')) return;
  trigger('click', {n: Number(card.dataset.n)});
};
element.addEventListener('click', open);
element.addEventListener('keydown', open);
"""
"""For the sources panel: a click on a card (or Enter on it) asks the server to open that passage."""

_SCROLL_TO_PASSAGE_JS = """
const scroll = () => setTimeout(() => {
  const body = element.querySelector('.lc-doc-body');
  const target = element.querySelector('mark') || element.querySelector('.lc-here');
  if (body && target) body.scrollTop = target.offsetTop - body.clientHeight / 3;
}, 60);
scroll();
watch('value', scroll);
"""
"""The opened document scrolls, within its own panel, to the highlighted passage: when the tab first
shows it, and whenever another passage is opened."""

_NO_SOURCE = ('<div class="lc-doc" data-state="empty"><p class="lc-empty">Click a source card beside an '
              "answer to open its document here, at the passage.</p></div>")


def corpus_tabs(settings: Settings, live: LiveIndex, tabs: gr.Tabs, status: gr.HTML, sources: gr.HTML,
                shown: gr.State) -> None:
    """The Documents and Source tabs, built inside `tabs`; `sources` (the chat's sources panel, whose
    passages `shown` holds) opens the Source tab, and `status` follows index updates."""
    with gr.Tab("Documents", id="documents") as documents_tab:
        redraw, outputs = _documents_tab(settings, live)
    documents_tab.select(redraw, outputs=outputs, queue=False, show_progress="hidden",
                         api_visibility="private")
    with gr.Tab("Source", id="source"):
        document = gr.HTML(_NO_SOURCE, css_template=docview.CSS, elem_id="lc-document",
                           js_on_load=_SCROLL_TO_PASSAGE_JS)

    def open_source(passages: list[Passage], event: gr.EventData) -> tuple:
        opened = next((p for p in passages if p.n == getattr(event, "n", None)), None)
        if opened is None:
            return gr.skip(), gr.skip()
        return docview.passage_html(live.pipeline.finder.index, opened), gr.Tabs(selected="source")

    sources.click(open_source, [shown], [document, tabs], api_visibility="private")

    def follow(seen: str) -> tuple:
        now = f"{live.pipeline.finder.index.manifest['build']} {live.updated}"
        if now == seen:
            return (gr.skip(),) * (2 + len(outputs))
        return _status_html(live), now, *redraw()

    seen = gr.State("")  # the index and status this page shows; "" redraws on the first tick
    gr.Timer(STATUS_SECONDS).tick(follow, [seen], [status, seen, *outputs], queue=False,
                                  show_progress="hidden", api_visibility="private")


def _status_html(live: LiveIndex) -> str:
    """The status line: what the last update changed, and when; nothing before the first."""
    if not live.status:
        return ""
    when = time.strftime("%H:%M:%S", time.localtime(live.updated))
    return f'<p class="lc-status" role="status">{html.escape(live.status)} <time>{when}</time></p>'


def _documents_tab(settings: Settings, live: LiveIndex) -> tuple[Callable[[], tuple], list]:
    """The files list, and unless read-only an upload area and a remove button with a confirmation.

    Returns how to redraw the tab after an update: a function giving the new values, and their components.
    """
    def listing() -> str:  # the index in service when called: it may have been swapped since
        return docview.documents_html(live.pipeline.finder.index, settings.corpus_dir.name)

    def known() -> list[str]:
        manifest = live.pipeline.finder.index.manifest
        return sorted({*manifest["files"], *manifest.get("skipped", {})})

    if settings.read_only:
        gr.Markdown("This server is read-only (`--read-only`): the documents are listed here and cannot be "
                    "added or removed. Edits to the corpus folder itself are still followed.",
                    elem_id="lc-read-only")
        documents = gr.HTML(listing(), css_template=docview.CSS, js_on_load=None, elem_id="lc-documents")
        return (lambda: (listing(),)), [documents]

    gr.Markdown(f"Drop files below, several at once, or click to choose them: "
                f"{', '.join(library.UPLOAD_SUFFIXES)}, up to {settings.upload_mb} MB each. They are indexed "
                "as they arrive; a file of the same name is replaced. Edits to the corpus folder itself are "
                "followed too.", elem_id="lc-upload-note")
    upload = gr.File(label="Add documents", file_count="multiple", type="filepath", elem_id="lc-upload")
    with gr.Row(equal_height=True):
        choice = gr.Dropdown(known(), value=None, label="Remove a document", elem_id="lc-remove-choice",
                             scale=4)
        ask_remove = gr.Button("Remove…", elem_id="lc-remove", scale=1)
    with gr.Row(visible=False, elem_id="lc-confirm") as confirm:
        confirm_text = gr.HTML("", js_on_load=None)
        yes = gr.Button("Yes, remove it", variant="stop", elem_id="lc-confirm-yes", scale=0)
        no = gr.Button("Cancel", elem_id="lc-confirm-no", scale=0)
    result = gr.HTML("", css_template=STATUS_CSS, js_on_load=None, elem_id="lc-library-result")
    documents = gr.HTML(listing(), css_template=docview.CSS, js_on_load=None, elem_id="lc-documents")

    def redraw() -> tuple:
        return listing(), gr.Dropdown(choices=known())

    def add(paths: list[str] | None, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple:  # noqa: B008
        before = live.pipeline.finder.index.manifest
        written: dict[str, list[str]] = {"Added": [], "Replaced": []}
        refused = []
        for path in map(Path, paths or []):
            try:
                written["Replaced" if library.add(settings, path.name, path) else "Added"].append(path.name)
            except LabchatError as err:
                refused.append(str(err))
        said = []
        if any(written.values()):
            progress(0.1, desc="Indexing")
            done = "; ".join(f"{verb} {', '.join(names)}" for verb, names in written.items() if names)
            said.append(f"{done}. {_index_now(live, before)}")
        return _lines_html(said, refused), None, *redraw()

    def confirm_removal(path: str | None) -> tuple:
        if not path:
            return _lines_html([], ["Choose the document to remove first."]), gr.skip(), gr.skip()
        question = f"Remove <b>{html.escape(path)}</b>? The file is deleted from the corpus folder."
        return "", gr.Row(visible=True), question

    def remove(path: str | None, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        before = live.pipeline.finder.index.manifest
        try:
            library.remove(settings, path or "", known())
        except LabchatError as err:
            return _lines_html([], [str(err)]), gr.Row(visible=False), *redraw()
        progress(0.1, desc="Indexing")
        said = _lines_html([f"Removed {path}. {_index_now(live, before)}"], [])
        return said, gr.Row(visible=False), listing(), gr.Dropdown(choices=known(), value=None)

    upload.upload(add, [upload], [result, upload, documents, choice], api_visibility="private")
    ask_remove.click(confirm_removal, [choice], [result, confirm, confirm_text], api_visibility="private")
    yes.click(remove, [choice], [result, confirm, documents, choice], api_visibility="private")
    no.click(lambda: gr.Row(visible=False), outputs=[confirm], api_visibility="private")
    return redraw, [documents, choice]


def _index_now(live: LiveIndex, before: dict) -> str:
    """Index what was just written and say what changed since `before` (the manifest then in service),
    whether this call or the watcher made the update."""
    try:
        live.refresh(progress=True)
    except LabchatError as err:
        return f"Not indexed yet: {err}"
    return describe(before, live.pipeline.finder.index.manifest)


def _lines_html(done: list[str], refused: list[str]) -> str:
    """What an upload or a removal did and what it refused, one line each, escaped (file names come from
    users)."""
    return "".join(f'<p class="lc-status{" lc-refused" * (line in refused)}">{html.escape(line)}</p>'
                   for line in [*done, *refused])
