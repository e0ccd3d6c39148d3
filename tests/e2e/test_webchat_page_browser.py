"""The web chat page in Chromium against the real channel (channels/webchat.py) with a scripted
Rasa (tests/e2e/webchat_server.py), so no trained model is needed: the embed snippet on a plain
HTML page of another site, tap-to-call numbers, the keyboard hint only where there is a keyboard,
and the header after a hand-back.

Screenshots go to test-artifacts/webchat-page/."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from testkit.processes import ROOT, free_port, wait_healthy
from testkit.stack import RASA_BIN
from tests.e2e.browser import DESKTOP, NEEDS_CHROMIUM, PHONE, TIMEOUT_MS, Chat, expect, joined

pytestmark = [pytest.mark.browser, NEEDS_CHROMIUM]
ARTIFACTS = "webchat-page"


def snippet(chat_url: str) -> str:
    """What the README tells a bank to put on its page: one element and one script tag."""
    return f'<div id="evenkeel-chat"></div>\n<script src="{chat_url}embed.js" async></script>'


@pytest.fixture(scope="module")
def host_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def chat_url(host_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The channel with a scripted Rasa, allowing only http://localhost:<host_port> to frame it."""
    port = free_port()
    log = Path(tmp_path_factory.mktemp("webchat")) / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(RASA_BIN / "python"),
                "-m",
                "tests.e2e.webchat_server",
                "--port",
                str(port),
                "--frame-ancestors",
                f"http://localhost:{host_port}",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/webhooks/webchat/"
        wait_healthy(f"{url}health", process, log.read_text, timeout=120)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def host_page(host_port: int, chat_url: str) -> Iterator[str]:
    """The bank's own site: a plain HTML page with nothing but the snippet, on another origin."""
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Lakeside Bank: help</title></head>"
        f"<body><h1>Contact us</h1>\n{snippet(chat_url)}\n</body></html>"
    ).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", host_port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{host_port}/"
    finally:
        server.shutdown()
        server.server_close()


def test_the_embed_snippet_mounts_the_chat_on_another_site_and_talks_to_rasa(
    browser: object, host_page: str, chat_url: str
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    page.goto(host_page)
    frame_element = page.locator("#evenkeel-chat iframe")
    expect(frame_element).to_have_attribute("title", "Chat with Lakeside Bank")
    assert frame_element.get_attribute("src") == chat_url
    frame = page.frame_locator("#evenkeel-chat iframe")
    expect(frame.locator(".app")).to_have_attribute("data-connection", "ready", timeout=TIMEOUT_MS)

    frame.get_by_label("Your message").fill("hello from the bank's site")
    frame.get_by_role("button", name="Send").click()
    expect(frame.locator(".msg--bot .bubble").last).to_have_text("echo: hello from the bank's site")
    # The chat keeps to its own origin: the bank's page can neither read it nor finds anything stored.
    assert page.evaluate("window.localStorage.length") == 0
    assert page.evaluate("(() => { try { return !!frames[0].document; } catch (e) { return false; } })()") is False
    shots = Chat(page, host_page, ARTIFACTS).artifacts
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "embed-desktop.png"))
    context.close()


def test_a_site_not_in_frame_ancestors_gets_no_chat(browser: object, host_page: str, host_port: int) -> None:
    """The same page on another origin (127.0.0.1 is not localhost): the browser refuses the frame."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{host_port}/")
    expect(page.locator("#evenkeel-chat iframe")).to_have_count(1)
    page.wait_for_timeout(1500)
    frame = page.frame_locator("#evenkeel-chat iframe")
    expect(frame.locator(".app")).to_have_count(0)
    context.close()


def test_numbers_to_call_are_tap_to_call_links_and_bot_text_is_never_markup(browser: object, chat_url: str) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    chat = Chat(context.new_page(), chat_url, ARTIFACTS).open()
    said = joined(chat.say("I need help"))
    assert "988" in said and "1-800-555-0199" in said, said
    bubble = chat.page.locator(".msg--bot .bubble").last
    links = {a.inner_text(): a.get_attribute("href") for a in bubble.locator("a").all()}
    assert links == {"988": "tel:988", "911": "tel:911", "1-800-555-0199": "tel:+18005550199"}, links
    chat.shot("phone-tap-to-call")

    # The echo carries markup, an amount and a digit run: shown as text, with no link in it.
    typed = '<img src=x onerror="document.title=1"> owe $988.00, ref 19885550199'
    chat.say(typed)
    echo = chat.page.locator(".msg--bot .bubble").last
    expect(echo).to_have_text(f"echo: {typed}")
    expect(echo.locator("img, a")).to_have_count(0)
    context.close()


def test_the_enter_hint_shows_only_with_a_keyboard(browser: object, chat_url: str) -> None:
    desktop = browser.new_context(viewport=DESKTOP)
    page = Chat(desktop.new_page(), chat_url, ARTIFACTS).open().page
    expect(page.get_by_text("Press Enter to send.")).to_be_visible()
    desktop.close()

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    chat = Chat(phone.new_page(), chat_url, ARTIFACTS).open()
    expect(chat.page.get_by_text("Press Enter to send.")).to_be_hidden()
    expect(chat.page.get_by_text("Never type your full card number here.")).to_be_visible()
    expect(chat.page.get_by_role("button", name="Send")).to_be_visible()
    chat.input.fill("hi")
    chat.page.get_by_role("button", name="Send").tap()
    expect(chat.page.locator(".msg--bot .bubble").last).to_have_text("echo: hi")
    chat.shot("phone-composer")
    phone.close()


def test_after_a_hand_back_the_header_no_longer_names_the_agent(browser: object, chat_url: str) -> None:
    context = browser.new_context(viewport=DESKTOP)
    chat = Chat(context.new_page(), chat_url, ARTIFACTS).open()
    sub = chat.page.locator(".brand-sub")
    expect(sub).to_have_text("Card assistant")
    chat.say("a person please")
    expect(chat.page.locator(".banner--agent")).to_contain_text("Sam from Lakeside Bank joined the chat")
    expect(sub).to_have_text("Chatting with Sam")

    chat.say("thanks, you can hand me back")
    expect(chat.page.locator(".banner--agent").last).to_have_text(
        "Sam left the chat. The assistant will help you from here."
    )
    expect(sub).to_have_text("Card assistant")
    expect(chat.page.locator(".msg--bot .bubble").last).to_contain_text("Sam has handed you back to me")

    # A reload replays the history the same way.
    chat.page.reload()
    chat.wait_ready()
    expect(chat.page.locator(".msg--bot .bubble").last).to_contain_text("Sam has handed you back to me")
    expect(sub).to_have_text("Card assistant")
    chat.shot("desktop-handed-back")
    context.close()
