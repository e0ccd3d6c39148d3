"""Greeting → web-chat verification → balance from the database → goodbye, through the real
rasa server, action server and payments service."""

from __future__ import annotations

import re

import httpx

from testkit.stack import Stack, new_conversation

AMOUNT = re.compile(r"\$\s?\d")


def new_sender() -> str:
    return new_conversation()


def test_every_process_is_healthy(stack: Stack) -> None:
    for name, url in stack.health_urls().items():
        assert httpx.get(url, timeout=5).status_code == 200, name


def test_verified_customer_hears_exact_seeded_amounts(stack: Stack) -> None:
    sender = new_sender()
    before_verification: list[str] = []

    greeting = stack.say(sender, "hi")
    before_verification += greeting
    assert any("last 4 digits" in t for t in greeting)

    asked_dob = stack.say(sender, "4821")
    before_verification += asked_dob
    assert any("date of birth" in t for t in asked_dob)

    asked_zip = stack.say(sender, "03/14/1985")
    before_verification += asked_zip
    assert any("ZIP" in t for t in asked_zip)

    assert not [t for t in before_verification if AMOUNT.search(t)], "an amount was said before verification"

    verified = " ".join(stack.say(sender, "78701"))
    assert "you're verified" in verified
    assert "This is Lakeside Bank" in verified  # first-party disclosure (the default mode)
    assert "Your balance is $2,450.00" in verified
    assert "$310.00 is past due, 45 days" in verified
    assert "minimum payment due is $95.00" in verified

    goodbye = stack.say(sender, "bye")
    assert any("Goodbye" in t for t in goodbye)

    slots = stack.tracker(sender)["slots"]
    # Goodbye ends the verification here and in the payments service: the next turn verifies again.
    assert slots["verification_status"] is None and slots["account_id"] is None
    assert slots["verification_session"] is None
    assert slots["dob"] is None and slots["zip"] is None  # factors are not kept once checked
    again = " ".join(stack.say(sender, "what's my balance?"))
    assert "$2,450.00" not in again and "last 4" in again


def test_balance_question_before_verification_gets_no_amount(stack: Stack) -> None:
    sender = new_sender()
    replies = stack.say(sender, "how much do i owe")
    assert any("confirm who you are" in t for t in replies)
    assert not any(AMOUNT.search(t) for t in replies)
    stack.say(sender, "1190")
    stack.say(sender, "11/02/1972")
    verified = " ".join(stack.say(sender, "10027"))
    assert "Your balance is $640.50" in verified
    assert "$640.50 is past due, 120 days" in verified


def test_wrong_details_disclose_nothing_and_lock_after_three_failures(stack: Stack) -> None:
    sender = new_sender()
    said: list[str] = stack.say(sender, "hello")
    for attempt, attempts_left in enumerate((2, 1), start=1):
        said += stack.say(sender, "4821")
        said += stack.say(sender, "03/14/1985")
        failed = stack.say(sender, "99999")
        said += failed
        assert any(f"You have {attempts_left} of 3 attempts left" in t for t in failed), (attempt, failed)
        assert any("last 4 digits" in t for t in failed)  # asked again, and only once
        assert sum("I need just the last 4 digits" in t for t in failed) == 0
    said += stack.say(sender, "4821")
    said += stack.say(sender, "03/14/1985")
    locked = stack.say(sender, "99999")
    said += locked
    assert any("paused verification for 30 minutes" in t for t in locked)
    assert not any(AMOUNT.search(t) for t in said)
    # Still locked: even the right details and a balance question disclose nothing.
    assert not any(AMOUNT.search(t) for t in stack.say(sender, "what's my balance"))
    assert stack.tracker(sender)["slots"]["verification_status"] == "locked"
