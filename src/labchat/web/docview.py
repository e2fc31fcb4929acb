"""How the web chat shows the corpus: the list of documents, and one document opened at a cited passage.

Both are drawn from the index in service, never from the disk: a document is shown only if the index holds
it, as the text it was indexed from (a converted PDF too), so nothing outside the corpus is ever served.
Every piece of document text is escaped (see `web`): a `<script>` in a document shows as text.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from labchat.chunking import PATH_SEPARATOR, Chunk
from labchat.evidence import Passage
from labchat.index import Index

_WORD = re.compile(r"[^\W_]+")
"""Words of a passage, matched in its chunk whatever markup (`**`, `|`, `__`) or line breaks lie between."""
_LABEL = re.compile(r": ")
"""Where a table row's header or a list item's label ends in a passage ("Round | Amount: Series B")."""

CSS = """
.lc-docs { display: flex; flex-direction: column; gap: 12px; }
.lc-docs p { margin: 0; color: var(--body-text-color-subdued); font-size: 0.9rem; }
.lc-docs h3 { margin: 8px 0 0; font-size: 1rem; }
.lc-table { width: 100%; border-collapse: collapse; border-style: hidden; font-size: 0.88rem; }
.lc-table th { text-align: left; font-weight: 600; color: var(--body-text-color-subdued); border: none;
  border-bottom: 1px solid var(--border-color-primary); padding: 6px 8px; }
.lc-table td { border: none; border-bottom: 1px solid var(--border-color-primary); padding: 6px 8px;
  overflow-wrap: anywhere; }
.lc-table td.lc-n { text-align: right; font-variant-numeric: tabular-nums; width: 6em; }
.lc-table td.lc-when { white-space: nowrap; width: 11em; color: var(--body-text-color-subdued); }
.lc-doc { display: flex; flex-direction: column; gap: 8px; }
.lc-doc header h2 { margin: 0; font-size: 1.1rem; font-family: var(--font-mono); overflow-wrap: anywhere; }
.lc-doc header p { margin: 2px 0 0; color: var(--body-text-color-subdued); font-size: 0.88rem; }
.lc-doc-body { position: relative; max-height: calc(100vh - 260px); min-height: 240px; overflow-y: auto;
  padding: 4px 12px; border: 1px solid var(--border-color-primary); border-radius: 10px; }
.lc-doc-body h3 { margin: 14px 0 4px; font-size: 0.92rem; color: var(--body-text-color-subdued); }
.lc-chunk { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0 0 10px; font-size: 0.93rem;
  line-height: 1.5; padding-left: 8px; border-left: 3px solid transparent; }
.lc-chunk.lc-here { border-left-color: var(--color-accent); }
.lc-chunk mark { background: #fde68a; color: #1f2937; border-radius: 3px; padding: 0 1px; }
"""


def documents_html(index: Index, corpus_name: str) -> str:
    """The indexed files with their chunk counts and when each was embedded, then the skipped files and
    why."""
    esc = html.escape
    manifest = index.manifest  # the chunk counts are in it: no segment need be read to list the files
    counts = {path: sum(entry["chunks"] for entry in listed) for path, listed in manifest["segments"].items()}
    when = manifest.get("indexed_at", {})
    rows = "".join(f'<tr data-path="{esc(path)}"><td>{esc(path)}</td><td class="lc-n">{counts[path]}</td>'
                   f'<td class="lc-when">{_local_time(when.get(path))}</td></tr>'
                   for path in sorted(manifest["files"]))
    files = len(manifest["files"])
    out = (f'<div class="lc-docs"><p>{files} document{"s" * (files != 1)} in '
           f"<code>{esc(corpus_name)}/</code>, {manifest['chunks']} chunks.</p>"
           '<table class="lc-table" id="lc-files"><thead><tr><th>Document</th><th>Chunks</th>'
           f"<th>Indexed</th></tr></thead><tbody>{rows}</tbody></table>")
    skipped = manifest.get("skipped", {})
    if skipped:
        rows = "".join(f'<tr data-path="{esc(path)}"><td>{esc(path)}</td>'
                       f"<td>{esc(skipped[path]['reason'])}</td></tr>" for path in sorted(skipped))
        out += ('<h3>Skipped</h3><table class="lc-table" id="lc-skipped"><thead><tr><th>File</th>'
                f"<th>Why</th></tr></thead><tbody>{rows}</tbody></table>")
    return out + "</div>"


def _local_time(stamp: str | None) -> str:
    """An ISO 8601 time from the manifest in the server's time zone, to the minute; a dash if unknown."""
    if not stamp:
        return "\u2014"
    return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


def passage_html(index: Index, passage: Passage) -> str:
    """The passage's document as the index holds it, section by section, its chunk marked and the
    passage's words highlighted (the page scrolls to them)."""
    esc = html.escape
    chunks = index.store.file_chunks(passage.path) if passage.path in index.manifest["files"] else []
    if not chunks:
        return (f'<div class="lc-doc" data-state="missing"><p class="lc-empty">{esc(passage.path)} is no '
                "longer in the index: it was removed or changed since this answer.</p></div>")
    here, span = find_passage(chunks, passage)
    body, section = [], None
    for i, chunk in enumerate(chunks):
        if chunk.section != section:
            section = chunk.section
            body.append(f"<h3>{crumbs(section)}</h3>")
        if i == here:
            start, end = span
            text = (f"{esc(chunk.text[:start])}<mark>{esc(chunk.text[start:end])}</mark>"
                    f"{esc(chunk.text[end:])}")
            body.append(f'<div class="lc-chunk lc-here">{text}</div>')
        else:
            body.append(f'<div class="lc-chunk">{esc(chunk.text)}</div>')
    found = ("" if here is not None else
             "; its words are not in the document as indexed now (it changed since the answer)")
    return (f'<div class="lc-doc" data-state="open" data-path="{esc(passage.path)}"><header>'
            f"<h2>{esc(passage.path)}</h2><p>Passage [{passage.n}], in {crumbs(passage.section)}{found}"
            f'</p></header><div class="lc-doc-body">{"".join(body)}</div></div>')


def crumbs(section: str) -> str:
    """A heading path as the page shows it, its headings escaped and joined by a single right angle quote."""
    return " \u203a ".join(html.escape(part) for part in section.split(PATH_SEPARATOR))


def find_passage(chunks: list[Chunk], passage: Passage) -> tuple[int | None, tuple[int, int]]:
    """Which chunk holds the passage and where its words stand in it, whatever markup, spacing or line
    breaks lie between. (None, (0, 0)) when none holds it.

    The whole passage is looked for in every chunk (those of its section first) before any part of it:
    "Creativity: Strong" is found under its own label, not in an earlier chunk that merely says "Strong".
    A table row or list item is a passage with its header or label in front; where the whole would
    stretch over other rows, the part after the header is marked instead.
    """
    order = sorted(range(len(chunks)), key=lambda i: chunks[i].section != passage.section)
    loose = None
    for start in _starts(passage.text):
        for i in order:
            span, tight = _match(passage.text, start, chunks[i].text)
            if span is not None and tight:
                return i, span
            loose = loose or (span and (i, span))
    return loose or (None, (0, 0))


def _starts(passage: str) -> list[int]:
    """Where the passage may begin in its chunk: at its start, or after a header or label."""
    return [0, *(m.end() for m in _LABEL.finditer(passage))]


def _match(passage: str, start: int, text: str) -> tuple[tuple[int, int] | None, bool]:
    """The span of the passage's words from `start` in `text`, and whether it is tight (not stretching
    over other rows or items)."""
    words = _WORD.findall(passage[start:])
    if not words:
        return None, False
    match = re.search(r"(?<![^\W_])" + r"[\W_]*".join(map(re.escape, words)), text, re.IGNORECASE)
    if match is None:
        return None, False
    return match.span(), match.end() - match.start() <= 2 * (len(passage) - start) + 20
