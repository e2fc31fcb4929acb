"""The web chat end to end: a real browser (headless Chromium) talking to the app on a free local port.

Most tests use the real pipeline (conftest's session `pipeline`: embedder, FAISS index of the project corpus
built in a tmp folder, SmolLM2); the others a scripted stand-in, where the test must control what the
documents say, what fails and when the stream moves on.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import questionsets
from playwright.sync_api import Browser, Page, expect, sync_playwright
from servers import ask_together, message_text, serving

from labchat.embed import Embedder
from labchat.errors import LabchatError
from labchat.evidence import Passage
from labchat.pipeline import Answer, Pipeline
from labchat.profile import CorpusProfile
from labchat.settings import Settings
from labchat.web import app as web
from labchat.web.live import LiveIndex

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
SCREENSHOT = Path("/tmp/labchat-web.png")
ANSWER_MS = 90_000
"""Longest wait for one answer: the model is tiny, but a loaded CI machine can be slow."""

QUESTION = "#lc-question textarea"
BOT = '#lc-chat [data-testid="bot"]'
USER = '#lc-chat [data-testid="user"]'
SOURCES = "#lc-sources"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def real_url(pipeline: Pipeline) -> Iterator[str]:
    """The app over conftest's session `pipeline`: the project corpus indexed in a tmp folder, SmolLM2."""
    with serving(pipeline.settings, pipeline) as url:
        yield url


def _open(browser: Browser, url: str) -> Page:
    """A fresh browser context, so a fresh Gradio session with its own conversation."""
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(url, wait_until="domcontentloaded")  # a Gradio page never reaches networkidle
    page.wait_for_selector(QUESTION)
    return page


@pytest.fixture
def page(browser: Browser, real_url: str) -> Iterator[Page]:
    page = _open(browser, real_url)
    yield page
    page.context.close()


def ask(page: Page, question: str, turn: int) -> None:
    """Type QUESTION, press Enter, and wait until answer number TURN of this session is complete."""
    page.fill(QUESTION, question)
    page.press(QUESTION, "Enter")
    page.wait_for_selector(f'{SOURCES} [data-turn="{turn}"][data-state="done"]', timeout=ANSWER_MS)


def test_answer_is_cited_and_sources_are_shown(page: Page) -> None:
    ask(page, "How much did Baichuan raise in its Series B round?", turn=1)
    answer = page.locator(BOT).last
    expect(answer).to_contain_text("691")
    expect(answer).to_contain_text(re.compile(r"\[\d+\]"))

    sources = page.locator(SOURCES)
    expect(sources.locator("h2")).to_have_text("Sources")
    expect(sources).to_contain_text("chinese-llm-labs.md")
    expect(sources.locator(".lc-section").first).to_contain_text("Baichuan")
    cited = sources.locator(".lc-card.lc-cited")
    expect(cited.first).to_contain_text("cited")
    cited_numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.inner_text())}
    marked = {int(card.get_attribute("data-n") or 0) for card in cited.all()}
    assert marked and marked == cited_numbers, f"cards marked {marked}, answer cites {cited_numbers}"
    page.screenshot(path=str(SCREENSHOT))


def test_blank_question_warns_and_the_chat_stays_usable(page: Page) -> None:
    page.fill(QUESTION, "   ")
    page.press(QUESTION, "Enter")
    expect(page.get_by_text("Type a question first")).to_be_visible()
    expect(page.locator(QUESTION)).to_have_value("")
    expect(page.locator(USER)).to_have_count(0)

    ask(page, "Who founded 01.AI?", turn=1)
    expect(page.locator(BOT).last).to_contain_text("Kai-Fu Lee")


def test_abstention_is_said_and_closest_passages_shown(page: Page) -> None:
    ask(page, "What is the weather in Paris?", turn=1)
    expect(page.locator(BOT).last).to_contain_text("do not cover")
    sources = page.locator(SOURCES)
    expect(sources.locator("h2")).to_have_text("Closest passages")
    expect(sources.locator(".lc-card").first).to_be_visible()
    expect(sources.locator(".lc-cited")).to_have_count(0)


class FakePipeline:
    """`Pipeline.ask`, scripted: documents holding markup, errors on cue, and a stream that waits."""

    EVIL = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    LINK = "[click me](javascript:window.__pwned=3)"
    CODE = "**__init__**. From the documents: \u201cCall client.__init__(a*b*c) with ~x~ or `y`\u201d [1]"

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]]]] = []
        self.release = threading.Event()
        self.profile = CorpusProfile("Fake notes", "Scripted answers.", ("First example?", "Second example?"))
        self.generator = None

    def ask(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Iterator[Answer]:
        self.calls.append((question, list(history)))
        if question == "index?":
            raise LabchatError("the index is missing: run labchat index")
        if question == "boom":
            raise RuntimeError("Traceback: secret internals")
        passages = [Passage(1, "evil<b>.md</b>", f"Lab > {self.EVIL}", f"$1M. {self.EVIL} {self.LINK}", 1.5),
                    Passage(2, "plain.md", "Lab > Funding", "Nothing to see.", 1.0)]
        answer = Answer(question=question, passages=passages, text="Partial")
        yield answer
        if question == "slow":
            self.release.wait(ANSWER_MS / 1000)
        answer.text = (self.CODE if question == "code?" else
                       f"Answer to {question} [1] {self.EVIL} {self.LINK}")
        answer.timings["total_s"], answer.done = 0.1, True
        yield answer


@pytest.fixture(scope="module")
def fake() -> FakePipeline:
    return FakePipeline()


@pytest.fixture(scope="module")
def fake_url(fake: FakePipeline) -> Iterator[str]:
    with serving(Settings(), fake) as url:
        yield url


@pytest.fixture
def fake_page(browser: Browser, fake_url: str, fake: FakePipeline) -> Iterator[Page]:
    fake.calls.clear()
    fake.release.clear()
    page = _open(browser, fake_url)
    yield page
    fake.release.set()
    page.context.close()


def test_markup_from_documents_is_shown_as_text_and_never_runs(fake_page: Page) -> None:
    ask(fake_page, "q", turn=1)
    sources, answer = fake_page.locator(SOURCES), fake_page.locator(BOT).last
    expect(sources).to_contain_text("<script>window.__pwned=2</script>")
    expect(sources).to_contain_text("evil<b>.md</b>")
    expect(answer).to_contain_text("<img src=x")
    expect(answer).to_contain_text("[click me]")
    for box in (sources, answer):
        assert box.locator("img, script, b, a[href^='javascript']").count() == 0
    assert fake_page.evaluate("window.__pwned") is None


def test_an_answer_is_shown_as_written_but_its_short_answer_in_bold(fake_page: Page) -> None:
    """Code in documents (`__init__`, `a*b*c`) is not taken for Markdown emphasis, strike or code."""
    ask(fake_page, "code?", turn=1)
    answer = fake_page.locator(BOT).last
    expect(answer).to_contain_text("__init__. From the documents: \u201cCall client.__init__(a*b*c) with ~x~ "
                                   "or `y`\u201d [1]")
    expect(answer.locator("strong")).to_have_text("__init__")
    assert answer.locator("em, del, s, code").count() == 0


def test_answer_streams_into_the_chat(fake_page: Page, fake: FakePipeline) -> None:
    fake_page.fill(QUESTION, "slow")
    fake_page.press(QUESTION, "Enter")
    expect(fake_page.locator(BOT).last).to_have_text("Partial")
    expect(fake_page.locator(f'{SOURCES} [data-state="streaming"]')).to_be_visible()
    fake.release.set()
    fake_page.wait_for_selector(f'{SOURCES} [data-turn="1"][data-state="done"]')
    expect(fake_page.locator(BOT).last).to_contain_text("Answer to slow [1]")


def test_errors_show_one_friendly_line_and_no_traceback(fake_page: Page) -> None:
    fake_page.fill(QUESTION, "index?")
    fake_page.press(QUESTION, "Enter")
    expect(fake_page.locator(BOT).last).to_contain_text("the index is missing: run labchat index")
    fake_page.fill(QUESTION, "boom")
    fake_page.press(QUESTION, "Enter")
    expect(fake_page.locator(BOT).last).to_contain_text("Something went wrong")
    assert "secret internals" not in fake_page.content()
    ask(fake_page, "q", turn=1)  # failed questions are not part of the conversation
    expect(fake_page.locator(BOT).last).to_contain_text("Answer to q")


def test_each_browser_session_has_its_own_history(fake_page: Page, browser: Browser, fake_url: str,
                                                  fake: FakePipeline) -> None:
    other = _open(browser, fake_url)
    try:
        ask(fake_page, "first", turn=1)
        ask(other, "elsewhere", turn=1)
        ask(fake_page, "second", turn=2)
        ask(fake_page, "third", turn=3)
    finally:
        other.context.close()
    histories = dict(fake.calls)
    assert histories["elsewhere"] == []
    assert [q for q, _ in histories["second"]] == ["first"]
    assert [q for q, _ in histories["third"]] == ["first", "second"]
    assert histories["second"][0][1].startswith("Answer to first")


def test_clearing_the_chat_starts_a_new_conversation(fake_page: Page, fake: FakePipeline) -> None:
    ask(fake_page, "first", turn=1)
    fake_page.locator("#lc-chat").get_by_label("Clear").click()
    expect(fake_page.locator(USER)).to_have_count(0)
    expect(fake_page.locator(f'{SOURCES} [data-state="empty"]')).to_be_visible()
    ask(fake_page, "fresh", turn=1)
    assert fake.calls[-1] == ("fresh", [])


def test_clicking_an_example_asks_it(fake_page: Page, fake: FakePipeline) -> None:
    example = fake.profile.examples[1]
    fake_page.get_by_text(example, exact=True).click()
    fake_page.wait_for_selector(f'{SOURCES} [data-turn="1"][data-state="done"]')
    expect(fake_page.locator(USER).last).to_have_text(example)
    assert fake.calls == [(example, [])]


def test_follow_up_question_uses_the_conversation(page: Page) -> None:
    ask(page, "How much did Baichuan raise in its Series B round?", turn=1)
    ask(page, "And who founded it?", turn=2)
    expect(page.locator(BOT).last).to_contain_text("Wang Xiaochuan")


def test_a_login_guards_the_chat_when_one_is_set(browser: Browser, fake: FakePipeline) -> None:
    """With --auth the page asks for the login first, and a wrong password does not get in."""
    with serving(Settings(auth="team:s3cret"), fake) as url:
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_selector("input[type=password]")
        expect(page.locator(QUESTION)).to_have_count(0)
        for password in ("wrong", "s3cret"):
            page.locator("input[type=text]").first.fill("team")
            page.locator("input[type=password]").fill(password)
            page.get_by_role("button", name=re.compile("login", re.IGNORECASE)).click()
            if password == "wrong":
                expect(page.get_by_text(re.compile("incorrect", re.IGNORECASE))).to_be_visible()
        page.wait_for_selector(QUESTION)
        page.context.close()


@pytest.mark.parametrize("path", ["gradio_api/file=/etc/passwd", "file=/etc/passwd",
                                  "gradio_api/file=../../../../etc/passwd", "static/../../../../etc/passwd",
                                  "gradio_api/file=" + str(Path(__file__).resolve())])
def test_no_file_outside_corpus_and_index_is_served(fake_url: str, path: str) -> None:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(fake_url + path, timeout=10) as response:
            body = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        assert err.code in (400, 403, 404), err.code
        return
    assert "root:" not in body and "def test_no_file_outside" not in body


def test_sixteen_sessions_at_once_each_get_their_own_answer(real_url: str, pipeline: Pipeline) -> None:
    """Through gradio_client, as 16 users: no lost request, no mixed streams, no shared history."""
    from labchat.evaluate import final

    questions = [q["question"] for q in questionsets.read("questions.jsonl")][:16]
    expected = {q: web.chat_text(final(pipeline.ask(q))) for q in questions}  # answered one at a time
    chats = dict(zip(questions, ask_together(real_url, questions), strict=True))
    for question, chat in chats.items():
        assert [m["role"] for m in chat] == ["user", "assistant"], chat
        assert message_text(chat[0]["content"]) == question
        assert message_text(chat[1]["content"]) == expected[question], question


def test_the_ask_endpoint_answers_with_the_json_of_labchat_ask(real_url: str, pipeline: Pipeline) -> None:
    """The named endpoint a script calls: the `ask --json` object, a history as [question, answer] pairs,
    and a user's mistake as the client's error message."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from labchat.evaluate import final

    client = Client(real_url, verbose=False, download_files=False)
    question = "How much did Baichuan raise in its Series B round?"
    first = client.predict(question, api_name="/ask")
    expected = final(pipeline.ask(question)).to_dict()
    assert {k: v for k, v in first.items() if k != "timings"} == {
        k: v for k, v in expected.items() if k != "timings"}
    follow_up = client.predict("And who founded it?", [[question, first["answer"]]], api_name="/ask")
    assert "Wang Xiaochuan" in follow_up["answer"]
    with pytest.raises(AppError, match="the question is empty"):
        client.predict("   ", api_name="/ask")


def test_the_ask_endpoint_needs_the_login_under_auth(fake: FakePipeline) -> None:
    import httpx
    from gradio_client import Client

    with serving(Settings(auth="team:s3cret"), fake) as url:
        call = httpx.post(f"{url}gradio_api/call/ask", json={"data": ["q", None]}, timeout=30)
        assert call.status_code in (401, 403), call.text
        upload = httpx.post(f"{url}gradio_api/upload", files={"files": ("x.md", b"# x\n")}, timeout=30)
        assert upload.status_code in (401, 403), upload.text
        with pytest.raises(Exception, match=r"(?i)login|auth|401|403"):
            Client(url, verbose=False)
        client = Client(url, auth=("team", "s3cret"), verbose=False, download_files=False)
        assert client.predict("q", None, api_name="/ask")["answer"].startswith("Answer to q")


# --- The live corpus: Documents and Source tabs, on a server of its own over this test's corpus copy ----

UPDATE_MS = 90_000
"""Longest wait for an upload or an edit on disk to be indexed and shown."""
REPORT_PDF = Path(__file__).parent / "data" / "formats" / "report.pdf"
"""Three pages; page 2 alone says how deep Lindqvist Harbor's northern berth is (see test_formats.py)."""
RESULT = "#lc-library-result"


@pytest.fixture
def live_server(indexed_settings: Settings, embedder: Embedder) -> Iterator[tuple[str, Settings]]:
    """`labchat serve` as it runs, following this test's own corpus copy; uploads up to 1 MB."""
    settings = indexed_settings.with_(upload_mb=1)
    with serving(settings, Pipeline(settings, embedder=embedder), live=True) as url:
        yield url, settings


def _upload(page: Page, files: dict[str, bytes]) -> None:
    page.get_by_role("tab", name="Documents").click()
    kinds = {".pdf": "application/pdf"}
    page.set_input_files("#lc-upload input[type=file]", [
        {"name": name, "mimeType": kinds.get(Path(name).suffix, "text/plain"), "buffer": data}
        for name, data in files.items()])


def _chat(page: Page) -> None:
    page.get_by_role("tab", name="Chat").click()


def test_uploaded_files_are_answered_and_a_removed_one_is_not(browser: Browser,
                                                              live_server: tuple[str, Settings]) -> None:
    url, settings = live_server
    page = _open(browser, url)
    _upload(page, {"zorblat.md": b"# Zorblat Labs\n\nZorblat Labs was founded by Mira Quenby in Lisbon.\n",
                   "ferns.txt": b"The Kestrel fern grows only on the island of Vardo, in deep shade.\n",
                   "report.pdf": REPORT_PDF.read_bytes()})
    expect(page.locator(RESULT)).to_contain_text(
        "Added zorblat.md, ferns.txt, report.pdf. Index updated: 3 files added", timeout=UPDATE_MS)
    files = page.locator("#lc-files")
    expect(files.locator('tr[data-path="zorblat.md"] td.lc-n')).to_have_text("1")
    expect(files.locator('tr[data-path="ferns.txt"]')).to_be_visible()
    expect(files.locator('tr[data-path="report.pdf"]')).to_be_visible()
    expect(page.locator("#lc-status")).to_contain_text("Index updated: 3 files added")
    assert (settings.corpus_dir / "zorblat.md").read_bytes().startswith(b"# Zorblat Labs")

    _chat(page)
    ask(page, "Who founded Zorblat Labs?", turn=1)
    expect(page.locator(BOT).last).to_contain_text("Mira Quenby")
    ask(page, "Where does the Kestrel fern grow?", turn=2)
    expect(page.locator(BOT).last).to_contain_text("Vardo")
    ask(page, "How deep is the northern berth of Lindqvist Harbor?", turn=3)
    expect(page.locator(BOT).last).to_contain_text("14.2 metres")
    expect(page.locator("#lc-sources")).to_contain_text("report.pdf, p. 2")

    page.get_by_role("tab", name="Documents").click()
    choice = page.locator("#lc-remove-choice input")
    choice.click()
    choice.fill("zorblat")
    page.get_by_role("option", name="zorblat.md").click()
    page.click("#lc-remove")
    expect(page.locator("#lc-confirm")).to_contain_text("Remove zorblat.md?")
    page.click("#lc-confirm-yes")
    expect(page.locator(RESULT)).to_contain_text("Removed zorblat.md. Index updated: 1 file removed",
                                                 timeout=UPDATE_MS)
    expect(page.locator("#lc-confirm")).to_be_hidden()
    expect(files.locator('tr[data-path="zorblat.md"]')).to_have_count(0)
    assert not (settings.corpus_dir / "zorblat.md").exists()

    _chat(page)
    ask(page, "Who founded Zorblat Labs?", turn=4)
    expect(page.locator(BOT).last).to_contain_text("do not cover")
    page.context.close()


def test_an_edit_in_the_folder_shows_on_the_open_page(browser: Browser,
                                                      live_server: tuple[str, Settings]) -> None:
    url, settings = live_server
    page = _open(browser, url)
    page.get_by_role("tab", name="Documents").click()
    (settings.corpus_dir / "harbour.md").write_text("# Harbour\n\nThe Qelmar harbour opened in 1871.\n")
    (settings.corpus_dir / "broken.md").write_bytes(b"\x00\x01 not text \xff\x00")
    expect(page.locator("#lc-status")).to_contain_text(
        "Index updated: 1 file added; skipped broken.md (not UTF-8 or UTF-16 text)", timeout=UPDATE_MS)
    expect(page.locator('#lc-files tr[data-path="harbour.md"]')).to_be_visible()
    expect(page.locator('#lc-skipped tr[data-path="broken.md"]')).to_contain_text("not UTF-8 or UTF-16 text")
    page.context.close()


def test_hostile_uploads_are_refused_with_a_message_and_nothing_escapes(
        browser: Browser, live_server: tuple[str, Settings]) -> None:
    url, settings = live_server
    page = _open(browser, url)
    _upload(page, {".hidden.md": b"hidden\n", "tool.exe": b"MZ\x90\x00", "notes.md.sh": b"echo hi\n",
                   "../../escape.md": b"# Escape\n\nThe Escape file.\n"})
    result = page.locator(RESULT)
    expect(result).to_contain_text("refused '.hidden.md': hidden files are not accepted", timeout=UPDATE_MS)
    expect(result).to_contain_text("refused 'tool.exe': only .md")
    expect(result).to_contain_text("refused 'notes.md.sh'")
    # Gradio keeps only the last part of an uploaded name, so "../../escape.md" can only land in the corpus
    root = settings.corpus_dir.parent.parent
    assert [p for p in root.rglob("escape.md") if p.parent != settings.corpus_dir] == []
    assert not any(settings.corpus_dir.glob(".hidden*")) and not any(settings.corpus_dir.glob("tool*"))

    _upload(page, {"big.md": b"x" * (2**20 + 1)})
    expect(page.get_by_text(re.compile("exceed the maximum allowed size"))).to_be_visible(timeout=UPDATE_MS)
    assert not (settings.corpus_dir / "big.md").exists()
    page.context.close()


def test_a_source_card_opens_its_document_at_the_passage_as_text(
        browser: Browser, live_server: tuple[str, Settings]) -> None:
    url, _ = live_server
    page = _open(browser, url)
    ask(page, "How much did Baichuan raise in its Series B round?", turn=1)
    page.locator(f"{SOURCES} .lc-card.lc-cited").first.click()
    document = page.locator("#lc-document")
    expect(document.locator("h2")).to_have_text("chinese-llm-labs.md")
    mark = document.locator("mark")
    expect(mark).to_contain_text("691M")
    expect(mark).to_be_in_viewport()  # scrolled to the passage, far down a long document

    _upload(page, {"vexhall.md": f"# Vexhall Guild\n\nThe Vexhall Guild was founded by Orla Brightwater. "
                                 f"{FakePipeline.EVIL}\n".encode()})
    expect(page.locator(RESULT)).to_contain_text("Index updated: 1 file added", timeout=UPDATE_MS)
    _chat(page)
    ask(page, "Who founded the Vexhall Guild?", turn=2)
    page.locator(f"{SOURCES} .lc-card.lc-cited").first.click()
    expect(document.locator("h2")).to_have_text("vexhall.md")
    # an HTML layout tag is no text of the document (chunking takes it out); other markup shows as text
    expect(mark).to_contain_text("founded by Orla Brightwater.")
    expect(document).to_contain_text("<script>window.__pwned=2</script>")
    assert document.locator(".lc-doc-body img, .lc-doc-body script").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(SCREENSHOT.with_name("labchat-source.png")))
    page.context.close()


def test_read_only_lists_the_documents_and_offers_no_edit(browser: Browser, indexed_settings: Settings,
                                                          embedder: Embedder) -> None:
    settings = indexed_settings.with_(read_only=True)
    pipeline = Pipeline(settings, embedder=embedder)
    app = web.build_app(settings, pipeline, LiveIndex(settings, pipeline))
    assert not {"add", "remove"} & {fn.name for fn in app.fns.values()}  # no event to call, even by hand
    with serving(settings, pipeline, live=True) as url:
        page = _open(browser, url)
        page.get_by_role("tab", name="Documents").click()
        expect(page.locator("#lc-read-only")).to_contain_text("read-only")
        expect(page.locator('#lc-files tr[data-path="chinese-llm-labs.md"]')).to_be_visible()
        expect(page.locator("#lc-upload, #lc-remove, input[type=file]")).to_have_count(0)
        page.context.close()
