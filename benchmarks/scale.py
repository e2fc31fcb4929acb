"""How labchat's costs grow with the corpus: the shipped corpus, then x10 and x100 of it (x1000 on request).

    .venv/bin/python benchmarks/scale.py [--scales 1 10 100 [1000]] [--repeat 3] [--no-serve]

A corpus xN is the hubs document beside N copies of the labs document: the shipped one and N-1 copies,
each made distinct (its capitalised words carry a suffix of its own, its numbers are shifted), so no two
copies share a chunk, a name or a heading. Every figure comes from the real `labchat` command run as a
fresh process, in this order, on a corpus in a temporary folder:

  full index      `labchat index` into an empty index folder; chunks/s is chunks over that time
  one edit        one sentence of one labs copy changed, then `labchat index`
  nothing changed `labchat index` again
  fresh ask       `labchat ask --json` (the index current), and that process's peak memory
  serve peak      `labchat serve` after answering three questions through gradio_client
  live edit       in a running `labchat serve`, from saving a one-figure edit of the labs document
                  ($691M -> $733M) until its ask endpoint answers QUESTION with the new figure; this
                  includes the server's wait for the file to hold still (web.live.SETTLE_SECONDS, 0.4 s)
  against         with --against SRC, the full build again, right after ours on the same corpus, by the
                  labchat of another checkout's source folder (PYTHONPATH=SRC) into an index of its own

Cheap figures are medians over --repeat runs. Each is printed with its ratio to x1, all from one run, so
the ratios hold even when other work on the machine slows everything alike.
Not part of the test suite: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import LABCHAT, ROOT, serving, serving_memory_mb

CORPUS = ROOT / "corpus"
LABS = "chinese-llm-labs.md"
QUESTION = "How much did Baichuan raise in its Series B round?"
EDIT = ("A comprehensive exploration", "A thorough exploration")
"""The one-sentence edit: the labs document's opening line, present in every copy."""
LIVE_LIMIT = 600.0
"""Seconds a live server may take to answer from an edit before the run is given up."""

_NAME = re.compile(r"\b[A-Z][a-z]{2,}\b")
_NUMBER = re.compile(r"\b[1-9]\d*\b")
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def copy_tag(k: int) -> str:
    """A pronounceable suffix unique to copy k (ka, be, ... then two syllables)."""
    tag = ""
    while True:
        k, digit = divmod(k, len(_SYLLABLES))
        tag += _SYLLABLES[digit]
        if not k:
            return tag


def distinct_copy(text: str, k: int) -> str:
    """Copy k of a document: every capitalised word suffixed with the copy's tag, every number shifted by k.
    The text stays ASCII where it was (the document's mojibake is untouched and still repaired)."""
    tag = copy_tag(k)
    text = _NAME.sub(lambda m: m.group() + tag, text)
    return _NUMBER.sub(lambda m: str(int(m.group()) + k), text)


def make_corpus(target: Path, scale: int) -> Path:
    """The shipped corpus with scale-1 distinct copies of the labs document beside it; returns the copy
    of the labs document that the edit goes into."""
    shutil.copytree(CORPUS, target)
    text = (CORPUS / LABS).read_text(encoding="utf-8")
    for k in range(1, scale):
        (target / f"labs-{k:04d}.md").write_text(distinct_copy(text, k), encoding="utf-8")
    return target / (f"labs-{scale // 2:04d}.md" if scale > 1 else LABS)


@dataclass
class Run:
    seconds: float
    peak_mb: float
    output: str


def run(args: list[str], source: Path | None = None) -> Run:
    """One fresh `labchat` process (of the code in `source`, a src folder, if given): wall time, its own peak
    resident memory (from wait4), its stdout."""
    env = {**os.environ, "PYTHONPATH": str(source)} if source else None
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen([str(LABCHAT), *args], stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise SystemExit(f"labchat {' '.join(args)} failed:\n{err.read()}")
        return Run(seconds, usage.ru_maxrss / 1024, out.read())


def live_edit_s(where: list[str], document: Path) -> float:
    """Seconds from saving an edit of `document` in a running `labchat serve` to the first answer from it."""
    with serving(where) as (_, client):
        def answer() -> str:
            return client.predict(QUESTION, None, api_name="/ask")["answer"]

        assert "691" in answer()
        document.write_text(document.read_text(encoding="utf-8").replace("$691M", "$733M"), encoding="utf-8")
        start = time.perf_counter()
        while "733" not in answer():
            if time.perf_counter() - start > LIVE_LIMIT:
                raise SystemExit(f"the live server did not answer from the edit within {LIVE_LIMIT} s")
        return time.perf_counter() - start


def measure(scale: int, workdir: Path, repeat: int, serve: bool, against: Path | None) -> dict[str, float]:
    """Every figure of one row of the table, for the corpus x scale."""
    corpus, index = workdir / f"corpus-x{scale}", workdir / f"index-x{scale}"
    edited = make_corpus(corpus, scale)
    where = ["--corpus", str(corpus), "--index", str(index)]
    row = {"files": len(list(corpus.glob("*.md"))),
           "mb": sum(p.stat().st_size for p in corpus.iterdir()) / 1e6}
    full = run(["index", *where])
    row["chunks"] = int(re.search(r"into (\d+) chunks", full.output).group(1))
    row["full_s"] = full.seconds
    row["rate"] = row["chunks"] / full.seconds
    if against:
        other = workdir / f"index-x{scale}-against"
        row["against_rate"] = row["chunks"] / run(["index", "--corpus", str(corpus), "--index", str(other)],
                                                  against).seconds
        shutil.rmtree(other)
    text = edited.read_text(encoding="utf-8")
    assert EDIT[0] in text
    edited.write_text(text.replace(*EDIT), encoding="utf-8")
    row["edit_s"] = run(["index", *where]).seconds
    row["noop_s"] = statistics.median(run(["index", *where]).seconds for _ in range(repeat))
    asks = [run(["ask", "--json", QUESTION, *where]) for _ in range(repeat)]
    assert all('"abstained": false' in a.output for a in asks), asks[0].output
    row["ask_s"] = statistics.median(a.seconds for a in asks)
    row["ask_mb"] = max(a.peak_mb for a in asks)
    if serve:
        row["serve_mb"] = serving_memory_mb(where)
        row["live_s"] = live_edit_s(where, corpus / LABS)
    shutil.rmtree(corpus)
    shutil.rmtree(index)
    return row


COLUMNS = [  # key, heading, format
    ("chunks", "chunks", "{:,.0f}"),
    ("full_s", "full `labchat index`", "{:.1f} s"),
    ("rate", "chunks/s", "{:.0f}"),
    ("edit_s", "one file edited, `labchat index`", "{:.2f} s"),
    ("noop_s", "nothing changed", "{:.2f} s"),
    ("ask_s", "fresh `labchat ask`", "{:.2f} s"),
    ("ask_mb", "its peak memory", "{:,.0f} MB"),
    ("serve_mb", "`labchat serve` peak", "{:,.0f} MB"),
    ("live_s", "one file edited, live server answers from it", "{:.2f} s"),
    ("against_rate", "--against's chunks/s", "{:.0f}"),
]


def table(rows: dict[int, dict[str, float]], columns: list[tuple[str, str, str]] = COLUMNS) -> str:
    """A markdown table of the columns every row has; every figure after x1 with its ratio to x1's."""
    columns = [c for c in columns if all(c[0] in r for r in rows.values())]
    lines = ["| corpus | " + " | ".join(h for _, h, _ in columns) + " |",
             "|---|" + "---|" * len(columns)]
    base = rows[min(rows)]
    for scale, row in rows.items():
        name = "as shipped" if scale == 1 else f"\u00d7{scale:,} ({row['mb']:.1f} MB)"
        cells = []
        for key, _, fmt in columns:
            cell = fmt.format(row[key])
            if scale != min(rows) and key != "chunks":
                cell += f" (\u00d7{row[key] / base[key]:.2f})"
            cells.append(cell)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-serve", dest="serve", action="store_false",
                        help="skip the `labchat serve` columns (memory, live edit)")
    parser.add_argument("--against", type=Path, metavar="SRC",
                        help="also time the full build by the labchat in this src folder (another checkout)")
    parser.add_argument("--workdir", type=Path, help="where the corpora are built [a temporary folder]")
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for scale in sorted(args.scales):
            rows[scale] = measure(scale, Path(tmp), args.repeat, args.serve, args.against)
            print(f"\u00d7{scale}: " + ", ".join(f"{k} {v:.2f}" for k, v in rows[scale].items()),
                  file=sys.stderr, flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
