"""The corpus is live: a running labchat follows its folder, swaps each rebuilt index in, and answers from it.

Real embedder, FAISS, watcher and Gradio server; every test edits its own copy of the corpus (conftest's
`indexed_settings`: a current index, so nothing is embedded but what the test changes). Tests wait for
an update with a timeout; none asserts how fast it came.
"""

from __future__ import annotations

import fcntl
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from gradio_client import Client
from servers import serving

from labchat.embed import Embedder
from labchat.evaluate import final
from labchat.pipeline import Answer, Pipeline
from labchat.settings import Settings
from labchat.web.live import LiveIndex, describe, settle

UPDATE_S = 90.0
"""Longest wait for a change on disk to be answered from: a loaded CI machine can be slow."""
LABCHAT = Path(sys.executable).with_name("labchat")
ZORBLAT = "# Zorblat Labs\n\nZorblat Labs was founded by Mira Quenby in Lisbon.\n"
ZORBLAT_QUESTION = "Who founded Zorblat Labs?"


def wait_for(condition: Callable[[], object], what: str, timeout: float = UPDATE_S) -> object:
    """Poll `condition` until it returns something true; fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"within {timeout:.0f} s: {what}")


def answer(pipeline: Pipeline, question: str) -> Answer:
    return final(pipeline.ask(question))


@pytest.fixture
def live_pipeline(indexed_settings: Settings, embedder: Embedder) -> Pipeline:
    """A pipeline of its own over this test's corpus copy, with the session's embedder."""
    return Pipeline(indexed_settings, embedder=embedder)


@pytest.fixture
def live(indexed_settings: Settings, live_pipeline: Pipeline) -> Iterator[LiveIndex]:
    with LiveIndex(indexed_settings, live_pipeline) as watcher:
        yield watcher


def test_describe_says_what_changed_in_one_line() -> None:
    broken = {"digest": "9", "reason": "empty"}
    old = {"files": {"a.md": "1", "b.md": "2", "c.md": "3"}, "skipped": {"x.md": broken}}
    new = {"files": {"a.md": "1", "b.md": "7", "d.md": "4"},
           "skipped": {"x.md": broken, "bad.md": {"digest": "5", "reason": "not UTF-8 or UTF-16 text"}}}
    assert describe(old, new) == ("Index updated: 1 file added, 1 changed, 1 removed; "
                                  "skipped bad.md (not UTF-8 or UTF-16 text)")
    assert describe(old, {"files": {"a.md": "1", "d.md": "4", "e.md": "5"}}) == (
        "Index updated: 2 files added, 2 removed")
    assert describe(old, old) == "Index up to date: no file changed"


def test_settle_waits_for_a_file_still_being_written(tmp_path: Path) -> None:
    """A file copied in pieces is read only after its last piece, not when the first one lands."""
    path = tmp_path / "slow.md"
    path.write_text("# Slow\n")
    finished = threading.Event()

    def write_slowly() -> None:
        with path.open("a") as handle:
            for i in range(12):
                handle.write(f"Line {i} of a file that takes a while to copy.\n")
                handle.flush()
                time.sleep(0.15)
        finished.set()

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        assert settle([path], threading.Event())
        assert finished.is_set(), "settle returned while the file was still being written"
        assert path.read_text().count("\n") == 13
    finally:
        writer.join()


def test_settle_stops_when_asked(tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    assert settle([tmp_path / "any.md"], stop) is False


def test_a_file_added_to_the_folder_is_answered_then_its_removal_too(
        indexed_settings: Settings, live_pipeline: Pipeline, live: LiveIndex) -> None:
    assert answer(live_pipeline, ZORBLAT_QUESTION).abstained
    added = indexed_settings.corpus_dir / "zorblat.md"
    added.write_text(ZORBLAT)
    wait_for(lambda: "Mira Quenby" in answer(live_pipeline, ZORBLAT_QUESTION).text,
             "the added file is answered from")
    assert live.status == "Index updated: 1 file added"
    added.unlink()
    wait_for(lambda: answer(live_pipeline, ZORBLAT_QUESTION).abstained, "the removed file's answer goes")
    assert live.status == "Index updated: 1 file removed"


def test_a_burst_of_changes_is_one_update(indexed_settings: Settings, live_pipeline: Pipeline,
                                          live: LiveIndex) -> None:
    """As a `git pull` lands: three files added and one edited at once are told in one line."""
    corpus = indexed_settings.corpus_dir
    for i in range(3):
        (corpus / f"pulled-{i}.md").write_text(f"# Pulled {i}\n\nPulled note {i} names the Ostrel{i} gate.\n")
    hubs = corpus / "china-ai-hubs.md"
    hubs.write_text(hubs.read_text(encoding="utf-8") + "\nThe Ostrel bridge spans the harbour.\n",
                    encoding="utf-8")
    wait_for(lambda: live.status.startswith("Index updated"), "the burst is indexed")
    assert live.status == "Index updated: 3 files added, 1 changed"


def test_a_file_that_fails_is_skipped_with_its_reason_and_the_rest_applies(
        indexed_settings: Settings, live_pipeline: Pipeline, live: LiveIndex) -> None:
    (indexed_settings.corpus_dir / "broken.md").write_bytes(b"\x00\x01\x02 not text \xff\xfe\x00")
    (indexed_settings.corpus_dir / "zorblat.md").write_text(ZORBLAT)
    wait_for(lambda: "Mira Quenby" in answer(live_pipeline, ZORBLAT_QUESTION).text,
             "the readable file is answered from")
    manifest = live_pipeline.finder.index.manifest
    assert "broken.md" in manifest["skipped"] and "broken.md" not in manifest["files"]
    assert manifest["skipped"]["broken.md"]["reason"] == "not UTF-8 or UTF-16 text"
    assert "skipped broken.md (not UTF-8 or UTF-16 text)" in live.status


def test_an_index_built_by_labchat_index_in_another_process_is_swapped_in(
        indexed_settings: Settings, live_pipeline: Pipeline, live: LiveIndex) -> None:
    """While another `labchat index` holds the index's lock, the server leaves the build to it and then
    takes up what it wrote. The test holds the lock first, as that process would, so the order is sure."""
    with open(indexed_settings.index_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        (indexed_settings.corpus_dir / "zorblat.md").write_text(ZORBLAT)
        wait_for(lambda: "another `labchat index` is building" in live.status, "the server leaves the build")
    assert answer(live_pipeline, ZORBLAT_QUESTION).abstained
    build = subprocess.run([str(LABCHAT), "index", "--corpus", str(indexed_settings.corpus_dir),
                            "--index", str(indexed_settings.index_dir)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    wait_for(lambda: "Mira Quenby" in answer(live_pipeline, ZORBLAT_QUESTION).text,
             "the index built by `labchat index` is used")
    assert live.status == "Index updated: 1 file added"


def _client(url: str) -> Client:
    # download_files=False: the client would take each source's "path" for a file to fetch
    return Client(url, verbose=False, download_files=False)


def test_an_edit_on_disk_reaches_the_ask_endpoint_without_restart(
        indexed_settings: Settings, live_pipeline: Pipeline) -> None:
    question = "How much did Baichuan raise in its Series B round?"
    with serving(indexed_settings, live_pipeline, live=True) as url:
        client = _client(url)
        before = client.predict(question, None, api_name="/ask")
        assert "691" in before["answer"] and not before["abstained"]
        document = indexed_settings.corpus_dir / "chinese-llm-labs.md"
        document.write_text(document.read_text(encoding="utf-8").replace("$691M", "$733M"), encoding="utf-8")
        after = wait_for(lambda: (r := client.predict(question, None, api_name="/ask"))["answer"].count("733")
                         and r, "the edited figure is answered through the ask endpoint")
        assert "691" not in after["answer"]
        assert {"question", "answer", "abstained", "sources", "timings"} <= after.keys()
        assert any("733" in s["text"] for s in after["sources"])


def _beacon(generation: int) -> str:
    return (f"# Quillon beacon\n\nThe Quillon beacon calibration code is QB-{generation}{generation}"
            f"{generation}.\n\nThe Quillon beacon was serviced by crew {generation} in Tromso.\n\n"
            f"Quillon beacon crew {generation} logged the calibration code QB-{generation}{generation}"
            f"{generation} at dawn.\n")


def test_eight_sessions_asking_while_the_index_is_swapped_get_whole_answers(
        indexed_settings: Settings, live_pipeline: Pipeline) -> None:
    """Through the ask endpoint, as eight scripts asking in a loop while the beacon's document is rewritten
    four times: no error, and every answer (its text and each of its sources) from one generation."""
    beacon = indexed_settings.corpus_dir / "beacon.md"
    question = "What is the calibration code of the Quillon beacon?"
    with serving(indexed_settings, live_pipeline, live=True) as url:
        beacon.write_text(_beacon(1))
        wait_for(lambda: "QB-111" in answer(live_pipeline, question).text, "the first generation is indexed")
        clients = [_client(url) for _ in range(8)]
        stop = threading.Event()

        def keep_asking(client: Client) -> list[dict]:
            answers = []
            while not stop.is_set():
                answers.append(client.predict(question, [], api_name="/ask"))
            return answers

        with ThreadPoolExecutor(max_workers=8) as pool:
            asking = [pool.submit(keep_asking, c) for c in clients]
            try:
                for generation in (2, 3, 4, 5):
                    beacon.write_text(_beacon(generation))
                    code = f"QB-{generation * 111}"
                    wait_for(lambda code=code: code in answer(live_pipeline, question).text,
                             f"generation {generation} is answered")
            finally:
                stop.set()
            answers = [a for future in asking for a in future.result()]  # an error in any session raises
    seen = set()
    for reply in answers:
        beacon_sources = [s["text"] for s in reply["sources"] if s["path"] == "beacon.md"]
        assert beacon_sources, reply
        generations = {int(code or crew) for text in [reply["answer"], *beacon_sources]
                       for code, crew in re.findall(r"QB-(\d)\1\1|crew (\d)", text)}
        assert len(generations) == 1, f"an answer mixes index generations {generations}: {reply}"
        seen |= generations
    assert len(seen) >= 3, f"the sessions saw too few swaps to tell anything: {seen}"
