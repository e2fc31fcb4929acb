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

from labchat import web
from labchat.errors import LabchatError
from labchat.evidence import Passage
from labchat.pipeline import Answer, Pipeline
from labchat.profile import CorpusProfile
from labchat.settings import Settings

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
        answer.text = f"Answer to {question} [1] {self.EVIL} {self.LINK}"
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
