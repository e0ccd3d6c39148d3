"""Lock-out across conversations (issue 11): failures count per account and per phone number as
well as per conversation, so new conversation ids (REST senders, new calls) do not buy new
attempts; and one lock-out window files one handoff case per account, not one per conversation."""

from __future__ import annotations

from testkit.stack import Stack
from tests.security.channels import DANA, Call, Rest, cases_of, rest_conversation, unique

ROBERT = ("+13125550104", "3056", "01/30/1968", "60614")  # A1004 (bankruptcy filed): locked only here


def fail_three_times(rest: Rest, sender: str, last4: str) -> list[str]:
    said = rest.say(sender, "hi")
    for _ in range(3):
        said += rest.say(sender, last4)  # the right card, the wrong date of birth and ZIP
        said += rest.say(sender, "01/01/1990")
        said += rest.say(sender, "02468")
    return said


def test_failures_over_several_conversations_lock_the_account_and_file_one_case(stack: Stack, rest: Rest) -> None:
    _, last4, dob, zip_code = DANA
    control = unique("lock")  # first the right answers work, so what follows is the lock-out's doing
    said = rest.say(control, "hi") + rest.say(control, last4) + rest.say(control, dob) + rest.say(control, zip_code)
    assert "you're verified" in " ".join(said), said
    senders = [unique("lock") for _ in range(4)]
    for sender in senders:
        fail_three_times(rest, sender, last4)

    fifth = unique("lock")
    said = rest.say(fifth, "hi") + rest.say(fifth, last4) + rest.say(fifth, dob) + rest.say(fifth, zip_code)
    heard = " ".join(said)
    assert "1,150.75" not in heard and "you're verified" not in heard, (
        f"verified in a fifth conversation after 12 failures in four: {heard!r}"
    )

    conversations = {rest_conversation(s) for s in senders + [fifth]} | set(senders + [fifth])
    lockouts = [c for c in cases_of(stack, conversations) if c["reason"] == "verification_locked"]
    # The case tells a person what happened, never the answers given (issue 11: case context).
    for case in lockouts:
        full = stack.api("GET", f"/api/handoffs/{case['id']}").text
        for answer in ("01/01/1990", "1990-01-01", "02468", dob, "1995-09-09"):
            assert answer not in full, f"case {case['id']} holds the verification answer {answer!r}"
    assert len(lockouts) == 1, f"{len(lockouts)} lock-out cases for one account in one window: {lockouts}"


def test_failures_over_several_calls_from_one_number_lock_it(stack: Stack) -> None:
    phone, last4, dob, _ = ROBERT
    control = Call(stack, phone)  # first the right answers work, so what follows is the lock-out's doing
    control.answer()
    control.press(last4)
    assert "you're verified" in control.press(dob.replace("/", "")).lower()
    for _ in range(4):
        call = Call(stack, phone)
        call.answer()
        for _ in range(3):
            call.press(last4)
            if "hang" in call.press("01011990").lower():
                break
    last = Call(stack, phone)
    last.answer()
    last.press(last4)
    heard = last.press(dob.replace("/", "")).lower()
    assert "you're verified" not in heard and "your balance is" not in heard, (
        f"verified on a fifth call after failures on four: {heard!r}"
    )
