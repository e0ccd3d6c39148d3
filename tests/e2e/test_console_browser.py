"""Warm handoff end to end, against the real stack (rasa, action server, payments service with the
agent console, scheduler, Stripe stand-in) and a local stand-in for Twilio's REST API.

Web chat, in two browsers (Chromium + Playwright): a customer says something distressing, the
case appears in the console at the top of the queue, the demo agent signs in, claims it and
replies; the reply shows in the customer's chat; the customer's answer reaches the console while
the assistant stays silent; the agent resolves and hands back, and the assistant resumes gently.

SMS, through signed Twilio webhooks (what `make phone` sends): a customer asks for a person, the
agent works the case through the console's own HTTP API, and the reply and the hand-back arrive
at the Twilio REST stand-in as texts to the customer's number.

Screenshots of the console and the chat go to test-artifacts/console/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from testkit.stack import DEMO_AGENT, DEMO_AGENT_PASSWORD, Stack
from testkit.twilio import TwilioApiStandIn
from tests.e2e.browser import ARTIFACTS, DESKTOP, NEEDS_CHROMIUM, TIMEOUT_MS, Chat, expect, joined

CUSTOMER_PHONE = "+12125550102"  # James Carter, A1002
OUR_NUMBER = "+15005550006"


@pytest.fixture(scope="module")
def twilio() -> Iterator[TwilioApiStandIn]:
    api = TwilioApiStandIn().start_in_thread()
    yield api
    api.stop_thread()


@pytest.fixture(scope="module")
def stack(trained_model: None, tmp_path_factory: pytest.TempPathFactory, twilio: TwilioApiStandIn) -> Iterator[Stack]:
    """The stack with the SMS senders (rasa's connector, the scheduler's outbox) pointed at the stand-in."""
    to_standin = {"TWILIO_API_BASE": twilio.base_url}
    with Stack(
        tmp_path_factory.mktemp("console-stack"), env_overrides={"rasa": to_standin, "scheduler": to_standin}
    ).running() as running:
        yield running


class Console:
    """The agent console page as an agent uses it."""

    def __init__(self, page: object, stack: Stack) -> None:
        self.page = page
        self.url = f"{stack.payments_url}/console"

    def sign_in(self, username: str = DEMO_AGENT, password: str = DEMO_AGENT_PASSWORD) -> Console:
        self.page.goto(self.url)
        expect(self.page).to_have_url(re.compile(r"/console/sign-in$"))
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", name="Evenkeel agent console")).to_be_visible()
        return self

    def transcript(self) -> object:
        return self.page.locator("#transcript")

    def shot(self, name: str) -> None:
        path = ARTIFACTS / "console"
        path.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path / f"{name}.png"), full_page=False)


@NEEDS_CHROMIUM
def test_web_chat_distress_to_agent_and_back(stack: Stack, browser: object) -> None:
    customer = browser.new_context(viewport={"width": 420, "height": 860}, timezone_id="America/Chicago")
    chat = Chat(customer.new_page(), stack.web_url, artifacts="console").open()
    answer = joined(chat.say("I can't go on anymore, I just want it all to end"))
    assert "988" in answer and "person" in answer, answer
    chat.shot("chat-1-handed-off")
    conversation_id = chat.session_id()

    agent_context = browser.new_context(viewport=DESKTOP)
    console = Console(agent_context.new_page(), stack).sign_in()
    page = console.page

    # The case waits at the top of the queue, marked urgent, with what the assistant knew.
    first = page.locator("#open-cases button").first
    expect(first).to_contain_text("URGENT", timeout=TIMEOUT_MS)
    expect(first).to_contain_text("Distress")
    expect(page.locator("#queue-count")).to_have_text("1")
    expect(page).to_have_title("(1) Evenkeel agent console")
    console.shot("console-1-queue")
    first.click()
    expect(page.locator("#case-meta")).to_contain_text(conversation_id)
    expect(page.locator("#summary")).to_contain_text("sounded in distress")
    expect(console.transcript()).to_contain_text("I can't go on anymore", timeout=TIMEOUT_MS)
    expect(console.transcript()).to_contain_text("handed the conversation to a person")
    expect(page.locator("#send")).to_be_disabled()  # not claimed yet

    # Claim: the reply box opens with a warm first line; the agent writes and sends.
    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#case-meta")).to_contain_text("claimed by you")
    expect(page.get_by_label("Reply to the customer")).to_have_value(re.compile(r"^Hi, this is Sam"))
    page.get_by_label("Reply to the customer").fill("Hi, this is Sam. I'm here with you, and there's no rush at all.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_label("Reply to the customer")).to_have_value("")

    # The reply reaches the customer's open chat, marked as Sam's.
    expect(chat.page.locator(".banner--agent")).to_contain_text(
        "Sam from Lakeside Bank joined the chat", timeout=TIMEOUT_MS
    )
    expect(chat.page.locator(".msg--agent .bubble")).to_contain_text("I'm here with you")
    chat.shot("chat-2-agent-replied")

    # The customer answers: it reaches the console, and the paused assistant says nothing.
    bot_messages = len(chat.bot_texts())
    chat.input.fill("thank you. talking helps a bit")
    chat.input.press("Enter")
    expect(console.transcript()).to_contain_text("talking helps a bit", timeout=TIMEOUT_MS)
    time.sleep(2)  # give a (wrong) assistant answer the time to arrive

    assert len(chat.bot_texts()) == bot_messages, chat.bot_texts()[bot_messages:]
    console.shot("console-2-case-claimed")

    # A note, then resolve with hand-back: the assistant returns gently (no collection after distress).
    page.get_by_label("Add a note").fill("Shared 988 again. Customer calmer; no collection talk today.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes")).to_contain_text("Shared 988 again")
    page.get_by_label("Outcome").fill("Listened and shared 988; customer safe.")
    expect(page.get_by_label(re.compile("Hand back to the assistant"))).to_be_checked()
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#case-meta")).to_contain_text("resolved by sam", timeout=TIMEOUT_MS)
    expect(chat.page.locator(".msg--bot .bubble").filter(has_text="Sam has handed you back to me")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(chat.page.locator(".msg--bot .bubble").filter(has_text="I'm here whenever you need me")).to_be_visible()
    chat.shot("chat-3-handed-back")

    # The assistant listens again.
    again = joined(chat.say("what's my balance?"))
    assert "last 4 digits" in again, again

    # Closed cases keep their notes and outcome.
    page.get_by_role("button", name="Closed cases").click()
    closed = page.locator("#closed-cases button").first
    expect(closed).to_contain_text("Listened and shared 988")
    closed.click()
    expect(page.locator("#notes")).to_contain_text("Shared 988 again")
    console.shot("console-3-history")
    customer.close()
    agent_context.close()


def text_in(stack: Stack, body: str, phone: str = CUSTOMER_PHONE) -> None:
    """One signed Twilio SMS webhook to rasa, as `make phone` sends it."""
    response = stack.sms_webhook(phone, body, to=OUR_NUMBER)
    assert response.status_code == 200, response.text


def texts_to(twilio: TwilioApiStandIn, phone: str, count: int) -> list[str]:
    """Wait until `count` texts were sent to `phone`; all their bodies."""
    sent = twilio.wait_for(lambda messages: len([m for m in messages if m.to == phone]) >= count, timeout=60)
    return [m.body for m in sent if m.to == phone]


def test_sms_handoff_reply_and_hand_back_through_twilio(stack: Stack, twilio: TwilioApiStandIn) -> None:
    text_in(stack, "I want to talk to a real person")
    handed = texts_to(twilio, CUSTOMER_PHONE, 1)
    assert any("A person from our team will text you here shortly" in body for body in handed), handed

    agent, csrf = stack.as_agent()
    queue = agent.get("/console/api/queue").json()["open"]
    case = next(c for c in queue if c["conversation_id"] == CUSTOMER_PHONE)
    assert (case["channel"], case["reason"]) == ("sms", "request_agent")
    assert agent.post(f"/console/api/cases/{case['id']}/claim", headers=csrf).status_code == 200

    before = len(handed)
    reply = agent.post(
        f"/console/api/cases/{case['id']}/reply", headers=csrf, json={"text": "Hi James, Sam here. How can I help?"}
    )
    assert reply.status_code == 204, reply.text
    bodies = texts_to(twilio, CUSTOMER_PHONE, before + 1)
    # The agent's first message of the case carries the opt-out notice (12 CFR 1006.6(e)).
    assert bodies[before] == "Sam: Hi James, Sam here. How can I help? Reply STOP to opt out."
    assert twilio.to(CUSTOMER_PHONE)[before].from_ == OUR_NUMBER

    # The customer's text reaches the console; the paused assistant sends nothing back.
    text_in(stack, "Can I pay next Friday instead?")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = agent.get(f"/console/api/cases/{case['id']}/transcript").json()["lines"]
        if any(line["text"] == "Can I pay next Friday instead?" for line in lines):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the customer's text never reached the console")
    time.sleep(2)
    assert len(twilio.to(CUSTOMER_PHONE)) == before + 1

    resolved = agent.post(
        f"/console/api/cases/{case['id']}/resolve",
        headers=csrf,
        json={"outcome": "Customer will pay Friday; promise noted.", "hand_back": True},
    )
    assert resolved.status_code == 200, resolved.text
    back = texts_to(twilio, CUSTOMER_PHONE, before + 2)[before + 1 :]
    assert any("Sam handed you back to the Lakeside Bank card assistant." in body for body in back), back
    agent.close()
