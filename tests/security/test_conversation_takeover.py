"""Taking over someone else's conversation (issue 11: takeover over REST and web chat, a new call
without verification). Conversation ids are issued by our connectors (contract C1), so a client
that names another customer's id gets a conversation of its own, and nothing of theirs."""

from __future__ import annotations

import secrets

from testkit.stack import Stack
from tests.security.channels import (
    AISHA,
    AMOUNT,
    JAMES,
    MARIA,
    Call,
    Rest,
    Sms,
    all_bot_texts,
    bot_texts_of,
    events_named,
    rest_conversation,
    unique,
    user_texts,
    webchat,
)


def verify_by_sms(sms: Sms, who: tuple[str, str, str, str]) -> str:
    phone, last4, dob, _ = who
    sms.say(phone, "hi")
    sms.say(phone, last4)
    verified = " ".join(sms.say(phone, dob))
    assert "verified" in verified and AMOUNT.search(verified), f"the customer could not verify by SMS: {verified!r}"
    return verified


def test_rest_caller_naming_a_verified_sms_number_gets_nothing_of_that_conversation(
    stack: Stack, rest: Rest, sms: Sms
) -> None:
    phone = JAMES[0]
    verify_by_sms(sms, JAMES)
    sms_turns = len(user_texts(stack, phone))

    # Without the token: refused outright (or, at the very least, nothing disclosed).
    bare = rest.post({"sender": phone, "message": "what's my balance?"}, token=None)
    assert bare.status_code in (401, 403), (bare.status_code, bare.text[:300])

    # With the token: a conversation of its own (`rest-<sender>`) that is not verified.
    said = " ".join(rest.say(phone, "what's my balance?") + rest.say(phone, "how much do I owe"))
    assert "640.50" not in said and "James" not in said, said
    assert not AMOUNT.search(said), said
    assert len(user_texts(stack, phone)) == sms_turns, "the REST message reached the SMS conversation"
    assert user_texts(stack, rest_conversation(phone)), "the REST message is not under rest-<sender>"


def test_rest_without_a_sender_shares_no_default_conversation(stack: Stack, rest: Rest) -> None:
    marker = f"hello from {unique('nobody')}"
    answer = rest.post({"message": marker})
    assert answer.status_code in (200, 400, 422), (answer.status_code, answer.text[:300])
    for shared in ("default", rest_conversation("default")):
        assert marker not in user_texts(stack, shared), f"a sender-less message landed in {shared!r}"


def test_web_chat_gives_another_browsers_id_no_history_and_no_entry(stack: Stack) -> None:
    _, last4, dob, _ = MARIA
    (victim,) = webchat(stack, [{"steps": [["request", {}], ["say", "hi"], ["say", last4], ["say", dob]]}])
    victim_id = victim["session_id"]
    assert victim_id and any("ZIP" in t for t in bot_texts_of(victim)), victim["events"]

    # Another program (no cookie of the victim's browser) names the victim's id.
    (attacker,) = webchat(
        stack,
        [
            {
                "cookies": False,
                "steps": [
                    ["request", {"session_id": victim_id, "history": True}],
                    ["wait", 2],
                    ["say", "what did I say before?"],
                ],
            },
        ],
    )
    replayed = " ".join(str(h) for h in events_named(attacker, "history"))
    assert last4 not in replayed and dob not in replayed, f"the victim's history was replayed: {replayed[:300]}"
    assert attacker["session_id"] != victim_id, "the server let a second client into the victim's conversation"
    assert "what did I say before?" not in user_texts(stack, victim_id)


def test_web_chat_does_not_reuse_an_id_nobody_was_issued(stack: Stack) -> None:
    made_up = f"web-{secrets.token_hex(16)}"
    (client,) = webchat(stack, [{"steps": [["request", {"session_id": made_up, "history": True}], ["say", "hi"]]}])
    assert client["session_id"] and client["session_id"] != made_up, client["events"]
    assert not user_texts(stack, made_up), "the message landed in the made-up conversation"


def test_a_new_call_from_a_verified_number_must_verify_again(stack: Stack) -> None:
    phone, last4, dob, _ = AISHA
    first = Call(stack, phone)
    assert "last 4 digits" in first.answer()
    first.press(last4)
    verified = first.press(dob.replace("/", ""))
    assert "your balance is" in verified.lower(), f"the first call could not verify: {verified!r}"

    second = Call(stack, phone)
    greeting = second.answer()
    asked = second.speak("what's my balance")
    heard = f"{greeting} {asked}".lower()
    assert "your balance is" not in heard and "5,980" not in heard and "5980" not in heard, heard
    assert "hi again" not in heard, heard
    assert "last 4 digits" in heard, f"the second call was not asked to verify: {heard!r}"
    assert second.conversation_id != first.conversation_id
    assert not any("balance is" in t.lower() for t in all_bot_texts(stack, second.conversation_id))
