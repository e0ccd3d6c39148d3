"""The browser side of end-to-end tests: Debian's Chromium through Playwright, and the web chat
page as a customer uses it. Shared by the web chat and agent console browser tests."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from testkit.chromium import NEEDS_CHROMIUM, headless_chromium  # noqa: F401 - NEEDS_CHROMIUM re-exported
from testkit.stack import ROOT

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect

ARTIFACTS = ROOT / "test-artifacts"
STORAGE_KEY = "evenkeel.webchat.session"
TIMEOUT_MS = 60_000  # one turn through rasa, the action server and the payments service
AMOUNT = re.compile(r"\$\s?\d")
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium for the module (use with `pytestmark = NEEDS_CHROMIUM`)."""
    with headless_chromium() as chromium:
        yield chromium


class Chat:
    """The chat page as a customer uses it."""

    def __init__(self, page: object, url: str, artifacts: str = "webchat") -> None:
        self.page = page
        self.artifacts = ARTIFACTS / artifacts
        self.url = url
        self.app = page.locator(".app")
        self.input = page.get_by_label("Your message")
        self.log = page.get_by_role("log")

    def open(self) -> Chat:
        self.page.goto(self.url)
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        expect(self.app).to_have_attribute("data-connection", "ready", timeout=TIMEOUT_MS)

    def wait_idle(self) -> None:
        expect(self.app).to_have_attribute("data-state", "idle", timeout=TIMEOUT_MS)

    def bot_texts(self) -> list[str]:
        return self.page.locator(".msg--bot .bubble, .msg--agent .bubble").all_inner_texts()

    def _turn(self, act) -> list[str]:
        before = len(self.bot_texts())
        act()
        self.wait_idle()
        return self.bot_texts()[before:]

    def say(self, text: str) -> list[str]:
        """Type and press Enter; the bot's answers to this turn."""

        def act() -> None:
            self.input.fill(text)
            self.input.press("Enter")

        return self._turn(act)

    def click(self, title: re.Pattern[str] | str) -> list[str]:
        return self._turn(lambda: self.quick_reply(title).click())

    def press_enter_on(self, title: re.Pattern[str] | str) -> list[str]:
        """Activate a quick reply from the keyboard."""

        def act() -> None:
            self.quick_reply(title).focus()
            self.page.keyboard.press("Enter")

        return self._turn(act)

    def quick_reply(self, title: re.Pattern[str] | str) -> object:
        return self.page.locator(".quick-replies").get_by_role("button", name=title)

    def session_id(self) -> str:
        return self.page.evaluate(f"window.localStorage.getItem('{STORAGE_KEY}')")

    def shot(self, name: str) -> None:
        """A screenshot of the newest messages (the transcript scrolls smoothly: jump instead)."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.page.locator(".transcript").evaluate(
            "node => { node.style.scrollBehavior = 'auto'; node.scrollTop = node.scrollHeight; }"
        )
        self.page.screenshot(path=str(self.artifacts / f"{name}.png"), full_page=False)


def joined(texts: list[str]) -> str:
    return "\n".join(texts)
