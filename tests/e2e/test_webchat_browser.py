"""The web chat page in a real browser (Debian's Chromium through Playwright) against the real
stack: the rasa server serving channels/webchat.py, the action server, the payments service, the
scheduler and the Stripe stand-in. A whole payment-plan conversation by keyboard and clicks, a
page reload that keeps the conversation, the payment page opened from the chat in a new tab, the
payment confirmation and an agent's reply pushed into the open chat, and a typed card number that
never reaches Rasa.

Screenshots (desktop and a 375 px phone) go to test-artifacts/webchat/."""

from __future__ import annotations

import re

import httpx

from testkit.stack import RASA_TOKEN, Stack
from tests.e2e.browser import AMOUNT, DESKTOP, NEEDS_CHROMIUM, PHONE, STORAGE_KEY, TIMEOUT_MS, Chat, expect, joined

pytestmark = NEEDS_CHROMIUM
PLAN_ID = re.compile(r"PLN-[\w-]+")


def tracker(stack: Stack, sender: str) -> dict:
    response = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": RASA_TOKEN}, timeout=30)
    response.raise_for_status()
    return response.json()


def test_a_payment_plan_conversation_in_the_browser(stack: Stack, browser: object) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="America/Chicago")
    page = context.new_page()
    chat = Chat(page, stack.web_url).open()

    # The page: labelled, a polite live log, the secure-payment note; focus starts in the composer.
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    expect(page.locator(".secure-note")).to_contain_text("Secure payment")
    expect(chat.input).to_be_focused()
    chat.shot("desktop-1-welcome")

    # Greeting and web-chat verification (last 4, date of birth, ZIP); no amount before it.
    asked = chat.say("Hi")
    assert "last 4 digits" in joined(asked), asked
    expect(chat.input).to_be_focused()
    unverified = asked + chat.say("4821") + chat.say("03/14/1985")
    assert not AMOUNT.search(joined(unverified)), unverified
    verified = joined(chat.say("78701"))
    assert "you're verified" in verified
    assert "Your balance is $2,450.00" in verified and "$310.00 is past due" in verified
    session_id = chat.session_id()
    assert re.fullmatch(r"web-[A-Za-z0-9_-]{32}", session_id)
    chat.shot("desktop-2-verified")

    # A payment plan: options as quick replies; one is chosen with a click.
    options = joined(chat.say("I'd like to set up a payment plan"))
    assert "Here are your options" in options, options
    expect(page.locator(".quick-reply").first).to_be_visible()

    # The same conversation opened on a phone (another browser given the stored session id AND the
    # token the server bound it with; the id alone opens a fresh conversation: tests/security): the
    # transcript so far, the open options, and from now on every message live in both.
    token = page.evaluate("window.localStorage.getItem('evenkeel.webchat.token')")
    assert token, "the server issued no session token"
    phone_context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    phone_context.add_init_script(
        f"window.localStorage.setItem('{STORAGE_KEY}', '{session_id}');"
        f"window.localStorage.setItem('evenkeel.webchat.token', '{token}')"
    )
    phone = Chat(phone_context.new_page(), stack.web_url).open()
    expect(phone.page.locator(".msg--bot .bubble").filter(has_text="Here are your options")).to_be_visible()
    expect(phone.page.locator(".quick-reply").first).to_be_visible()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    phone.shot("phone-1-plan-options")

    choice = chat.quick_reply(re.compile(r"^3 monthly payments of \$")).inner_text()
    readback = joined(chat.click(choice))
    expect(page.locator(".msg--user .bubble").last).to_have_text(choice)  # the title, not the payload
    expect(phone.page.locator(".msg--bot .bubble").filter(has_text="Here is the plan:")).to_be_visible()  # live
    expect(chat.input).to_be_focused()  # the clicked button is gone: focus back in the composer
    assert "Here is the plan:" in readback and "Do you agree" in readback, readback

    # Yes, from the keyboard: the plan is booked and the first payment's link appears.
    booked = joined(chat.press_enter_on("Yes, I agree"))
    plan_id = PLAN_ID.search(booked)
    assert plan_id and "Your plan is booked" in booked, booked
    pay_link = page.locator("a.pay-link").last
    expect(pay_link).to_be_visible()
    expect(pay_link).to_have_attribute("target", "_blank")
    expect(pay_link).to_have_attribute("rel", "noopener noreferrer")
    assert re.fullmatch(re.escape(stack.payments_url) + r"/pay/[\w-]+", pay_link.get_attribute("href") or "")
    chat.shot("desktop-3-plan-booked")
    expect(phone.page.locator(".msg--bot .bubble").filter(has_text=plan_id.group(0))).to_be_visible()

    # Reload: the same session, the transcript back, and the conversation goes on (still verified).
    page.reload()
    chat.wait_ready()
    assert chat.session_id() == session_id
    expect(page.locator(".msg--bot .bubble").filter(has_text=plan_id.group(0))).to_be_visible()
    expect(page.locator(".msg--user .bubble").filter(has_text=choice)).to_be_visible()
    expect(page.locator("a.pay-link").last).to_be_visible()
    again = joined(chat.say("what's my balance?"))
    assert AMOUNT.search(again) and "last 4 digits" not in again, again

    # The payment link opens our payment page in a new tab; paying there confirms in the chat.
    with context.expect_page() as opened:
        page.locator("a.pay-link").last.click()
    pay_page = opened.value
    expect(pay_page.locator("h1")).to_have_text("Hi Maria", timeout=TIMEOUT_MS)
    # A plan payment asks first whether to keep the card for the plan's later payments.
    expect(pay_page.locator("#save-card-title")).to_have_text("Save this card for your plan?")
    pay_page.locator("#save-card-yes").click()
    card = pay_page.locator("#card-element")
    card.locator("input[placeholder=number]").fill("4242424242424242")
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("30")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("78701")
    pay_page.locator("#pay-button").click()
    expect(pay_page.locator("#result-title")).to_have_text("Thank you, your payment was received", timeout=TIMEOUT_MS)
    pay_page.close()
    # Pushed by the payments service (trigger_intent, output_channel=latest) into both open tabs.
    for tab in (chat, phone):
        expect(tab.page.locator(".msg--bot .bubble").filter(has_text="we've received your payment")).to_be_visible(
            timeout=TIMEOUT_MS
        )
    chat.shot("desktop-4-payment-confirmed")

    # An agent replies from the console (the contract: a bot event with metadata.agent).
    response = httpx.post(
        f"{stack.rasa_url}/conversations/{session_id}/tracker/events",
        params={"token": RASA_TOKEN, "output_channel": "latest", "execute_side_effects": "true"},
        json={
            "event": "bot",
            "text": "Hi Maria, I'm Sam from the customer care team. I can see your new plan.",
            "metadata": {"agent": "Sam"},
        },
        timeout=30,
    )
    response.raise_for_status()
    for tab in (chat, phone):
        expect(tab.page.locator(".banner--agent")).to_have_text(re.compile(r"^Sam from Lakeside Bank joined the chat"))
        expect(tab.page.locator(".msg--agent .sender")).to_have_text("Sam, Lakeside Bank")
        expect(tab.page.locator(".msg--agent .bubble")).to_contain_text("I'm Sam")
    chat.shot("desktop-5-agent-joined")
    phone.shot("phone-2-agent-joined")
    phone_context.close()
    context.close()


def test_a_typed_card_number_is_removed_and_typed_intents_do_nothing(stack: Stack, browser: object) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="America/New_York")
    chat = Chat(context.new_page(), stack.web_url).open()
    chat.say("Hi")

    removed = joined(chat.say("my card number is 4242 4242 4242 4242"))
    assert "removed the card number" in removed, removed
    expect(chat.page.locator(".msg--user .bubble").last).to_have_text("my card number is [card number removed]")
    chat.shot("phone-3-card-number-removed")

    faked = joined(chat.say("/payment_succeeded"))
    assert "received your payment" not in faked, faked

    events = tracker(stack, chat.session_id())["events"]
    user_texts = [e.get("text") or "" for e in events if e.get("event") == "user"]
    assert "/card_number_shared" in user_texts
    assert "payment_succeeded" in user_texts and "/payment_succeeded" not in user_texts
    assert "4242424242424242" not in re.sub(r"[\s-]", "", str(events))
    web = [e for e in events if e.get("event") == "user"][-1]
    assert web["input_channel"] == "webchat"
    # Ours, plus what Rasa itself adds (assistant_id, model_id).
    assert web["metadata"]["channel"] == "web" and web["metadata"]["timezone"] == "America/New_York"
    context.close()
