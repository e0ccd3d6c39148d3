"""The assistant end to end through the real rasa server, action server, payments service,
scheduler and Stripe stand-in: plan booking, the payment link paid and confirmed by a signed
webhook, every handoff trigger, wrong number, stop and lock-out."""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from testkit.stack import DEMO_AGENT, Stack, new_conversation

AMOUNT = re.compile(r"\$\s?\d")
LINK = re.compile(r"https?://\S+/pay/[\w-]+")
TEST_CARD = "4242424242424242"
# (last 4, date of birth, ZIP): A1001 books plans; A1003 takes the handoff flags.
MARIA = ("4821", "03/14/1985", "78701")
AISHA = ("7734", "07/21/1990", "94110")


def new_sender() -> str:
    """A new conversation over our REST connector (`rest-e2e-...`)."""
    return new_conversation()


def verify(stack: Stack, sender: str, who: tuple[str, str, str] = MARIA) -> list[str]:
    said = stack.say(sender, "hello")
    for factor in who:
        said += stack.say(sender, factor)
    assert any("you're verified" in t for t in said), said
    return said


def wait_for(check, timeout: float = 45, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def pay_on_the_page(stack: Stack, link: str, card: str = TEST_CARD) -> None:
    """What the payment page's Stripe.js does: confirm the PaymentIntent with the card, straight
    at Stripe (the stand-in) with the publishable key; our service never sees the card."""
    page = httpx.get(link, timeout=30)
    assert page.status_code == 200, page.text[:300]
    if 'id="save-card-form"' in page.text:  # a plan payment first asks whether to keep the card
        page = httpx.post(f"{link}/card-choice", data={"save": "yes"}, timeout=30, follow_redirects=True)
        assert page.status_code == 200 and 'id="save-card-form"' not in page.text, page.text[:300]
    secret = re.search(r'data-client-secret="([^"]+)"', page.text).group(1)
    key = re.search(r'data-publishable-key="([^"]+)"', page.text).group(1)
    intent = secret.split("_secret_")[0]
    confirmed = httpx.post(
        f"{stack.stripe_url}/v1/payment_intents/{intent}/confirm",
        timeout=30,
        json={
            "key": key,
            "client_secret": secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": card, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
            },
        },
    )
    assert confirmed.status_code == 200, confirmed.text[:300]


def test_plan_is_booked_paid_through_the_link_and_confirmed_in_the_conversation(stack: Stack) -> None:
    sender = new_sender()
    verify(stack, sender)

    offers = "\n".join(stack.say(sender, "I'd like to set up a payment plan"))
    assert "1. 3 monthly payments of $103.33" in offers and "2. 6 monthly payments of $51.66" in offers

    readback = " ".join(stack.say(sender, "1"))
    today = datetime.now(ZoneInfo("America/Chicago")).date()
    assert f"$103.34 on {today:%B} {today.day}, {today.year}" in readback
    assert "Do you agree to this plan" in readback

    booked = " ".join(stack.say(sender, "yes"))
    plan_id = re.search(r"confirmation number is (PLN-\w+)", booked).group(1)
    link = LINK.search(booked).group(0)
    assert "to pay $103.34" in booked

    plans = stack.account_api("A1001", "GET", "/api/accounts/A1001/plans").json()
    assert [(p["id"], p["status"], p["total"]["amount_cents"]) for p in plans] == [(plan_id, "active", 31000)]
    assert stack.say(sender, "yes") != []  # a second yes books nothing more
    assert len(stack.account_api("A1001", "GET", "/api/accounts/A1001/plans").json()) == 1

    pay_on_the_page(stack, link)
    payment_id = stack.tracker(sender)["slots"]["last_payment_id"]
    wait_for(
        lambda: stack.account_api("A1001", "GET", f"/api/payments/{payment_id}").json()["status"] == "succeeded",
        what="the webhook to mark the payment succeeded",
    )
    confirmation = wait_for(
        lambda: [t for t in stack.bot_texts(sender) if "received your payment of $103.34" in t],
        what="the confirmation in the conversation",
    )
    assert payment_id in confirmation[0]
    account = stack.account_api("A1001", "GET", "/api/accounts/A1001").json()
    assert account["past_due"]["amount_cents"] == 31000 - 10334
    plan = stack.account_api("A1001", "GET", "/api/accounts/A1001/plans").json()[0]
    assert plan["schedule"][0]["status"] == "paid"

    for database in ("evenkeel.db", "tracker.db"):
        assert TEST_CARD.encode() not in Path(stack.workdir, database).read_bytes(), database


def review_as_agent(stack: Stack, account_id: str) -> None:
    """What an agent does after reviewing a case, the way the agent does it: the reports pending on
    the account dismissed in the console, then its flags lifted through the service's API as that
    agent (the console has no flag control of its own)."""
    agent, csrf = stack.as_agent()
    try:
        for report in agent.get("/console/api/reports", params={"limit": 500}).json()["reports"]:
            if report["account_id"] == account_id:
                dismissed = agent.post(f"/console/api/reports/{report['id']}/dismiss", headers=csrf)
                assert dismissed.status_code == 200, dismissed.text
    finally:
        agent.close()
    for flag in stack.account_api(account_id, "GET", f"/api/accounts/{account_id}").json()["flags"]:
        lifted = stack.api(
            "DELETE",
            f"/api/accounts/{account_id}/flags/{flag}",
            params={"actor": f"agent:{DEMO_AGENT}", "channel": "console"},
        )
        assert lifted.status_code == 200, lifted.text


@pytest.mark.parametrize(
    "text, reason, flag",
    [
        ("this isn't my debt, I dispute it", "dispute", "dispute"),
        ("I want to end it all", "distress", None),
        ("let me talk to a real person", "request_agent", None),
        ("I filed for chapter 7 bankruptcy", "bankruptcy", "bankruptcy"),
        ("please talk to my attorney", "attorney", "attorney"),
        ("the cardholder passed away last month", "deceased", "deceased"),
    ],
)
def test_every_handoff_trigger_creates_a_case_and_pauses(
    stack: Stack, text: str, reason: str, flag: str | None
) -> None:
    review_as_agent(stack, "A1003")  # each trigger starts from an account where collection is allowed
    sender = new_sender()
    verify(stack, sender, AISHA)
    replies = " ".join(stack.say(sender, text))
    assert "connecting you with a person" in replies
    if reason == "distress":
        assert replies.index("988") < replies.index("connecting you with a person")
    cases = [
        c
        for c in stack.api("GET", "/api/handoffs", params={"status": "open"}).json()["cases"]
        if c["conversation_id"] == sender
    ]
    assert [(c["reason"], c["account_id"], c["verified"]) for c in cases] == [(reason, "A1003", True)]
    assert "A1003" in cases[0]["summary"]
    if flag:
        assert flag in stack.account_api("A1003", "GET", "/api/accounts/A1003").json()["flags"]
    assert stack.tracker(sender)["paused"] is True
    assert stack.say(sender, "hello?") == []  # the assistant stays silent while a person has it


def test_a_person_asked_for_during_verification_hands_off_unverified(stack: Stack) -> None:
    sender = new_sender()
    stack.say(sender, "hi")
    replies = " ".join(stack.say(sender, "agent"))
    assert "connecting you with a person" in replies and not AMOUNT.search(replies)
    [case] = [
        c
        for c in stack.api("GET", "/api/handoffs", params={"status": "open"}).json()["cases"]
        if c["conversation_id"] == sender
    ]
    assert (case["verified"], case["account_id"]) == (False, None)


# A caller ID is believed only when our SMS or voice connector signed it, so these two go through
# the signed SMS webhook (REST metadata claiming a phone is ignored: tests/security).
def test_wrong_number_apologizes_discloses_nothing_and_flags_the_number(stack: Stack) -> None:
    replies = stack.text("+14045550105", "you have the wrong number")  # Dana Whitfield, A1005
    assert any("sorry for bothering you" in t for t in replies), replies
    assert not any(AMOUNT.search(t) or "Dana" in t for t in replies)
    assert "wrong_number" in stack.account_api("A1005", "GET", "/api/accounts/A1005").json()["flags"]
    assert stack.text("+14045550105", "hello") == []


def test_stop_records_the_opt_out_and_goes_quiet(stack: Stack) -> None:
    """ "Stop texting me" is caught by the SMS connector before Rasa (channels/revocation.py):
    recorded for the number, and no Rasa turn answers it."""
    turns_before = len([e for e in stack.tracker("+13125550104")["events"] if e.get("event") == "user"])
    stack.sms_webhook("+13125550104", "stop texting me")  # Robert Chen, A1004
    wait_for(
        lambda: "stop_sms" in stack.account_api("A1004", "GET", "/api/accounts/A1004").json()["flags"],
        what="the SMS opt-out recorded",
    )
    check = stack.api("POST", "/api/contact/check", json={"account_id": "A1004", "medium": "sms"}).json()
    assert check["allowed"] is False, check
    events = stack.tracker("+13125550104")["events"]
    assert len([e for e in events if e.get("event") == "user"]) == turns_before


# --- standing first (issue 12): paused accounts hear no amount and no payment prompt -----------

JAMES = ("1190", "11/02/1972", "10027")
ROBERT = ("3056", "01/30/1968", "60614")
DANA = ("9902", "09/09/1995", "30309")
PAYMENT_PROMPTS = ("Make a payment", "Set up a payment plan", "/pay/", "minimum payment due", "past due")


@pytest.mark.parametrize(
    "account_id, who, flag, notice",
    [
        ("A1004", ROBERT, None, "bankruptcy"),  # seeded with a bankruptcy
        ("A1002", JAMES, "dispute", "dispute under review"),
        ("A1005", DANA, "attorney", "attorney represents you"),
    ],
)
def test_a_paused_account_verifies_and_hears_no_amount_and_no_payment_prompt(
    stack: Stack, account_id: str, who: tuple[str, str, str], flag: str | None, notice: str
) -> None:
    if flag:
        set_flag = stack.api(
            "POST", f"/api/accounts/{account_id}/flags", json={"flag": flag, "channel": "console", "actor": "agent:sam"}
        )
        assert set_flag.status_code in (200, 201), set_flag.text
    sender = new_sender()
    said = verify(stack, sender, who)
    said += stack.say(sender, "how much do I owe? I want to pay")
    words = " ".join(said)
    assert notice in words, said
    assert not AMOUNT.search(words), said  # no amount due, not even the balance
    assert not any(prompt in words for prompt in PAYMENT_PROMPTS), said
    assert stack.api("GET", "/api/handoffs", params={"status": "open"}).json()["cases"], "no person offered"


def test_stop_and_dispute_typed_while_paused_are_recorded(stack: Stack) -> None:
    """While a conversation is paused (a person has it), the customer's words still count."""
    phone = "+15125550101"  # Maria Lopez, A1001 (her plan was booked above; nothing pauses it yet)
    stack.text(phone, "let me talk to a real person")
    assert stack.tracker(phone)["paused"] is True
    stack.text(phone, "stop calling me")
    check = stack.api("POST", "/api/contact/check", json={"account_id": "A1001", "medium": "voice"}).json()
    assert check["allowed"] is False and check["rule"] in ("opted_out", "cease_communication"), check
    stack.text(phone, "I dispute this debt, it is not mine")
    standing = stack.account_api("A1001", "GET", "/api/accounts/A1001/standing").json()
    assert standing["collection"] == "paused" and "pending_review" in standing["pause_reasons"], standing


# Last in the module: the lock-out counts per account, so A1001 stays locked for 30 minutes after it.
def test_lock_out_hands_off(stack: Stack) -> None:
    sender = new_sender()
    said = stack.say(sender, "hi")
    for _ in range(3):
        for factor in ("4821", "03/14/1985", "99999"):
            said += stack.say(sender, factor)
    joined = " ".join(said)
    assert "paused verification for 30 minutes" in joined and "connecting you with a person" in joined
    assert not AMOUNT.search(joined)
    [case] = [
        c
        for c in stack.api("GET", "/api/handoffs", params={"status": "open"}).json()["cases"]
        if c["conversation_id"] == sender
    ]
    assert case["reason"] == "verification_locked"
