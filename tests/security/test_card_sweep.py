"""Card numbers never pass, end to end (issue 11): every form of the card-number corpus goes
(tests/channels/card_corpus.py) through every channel (signed SMS, the token REST connector, web chat's socket.io, voice speech
and keypad webhooks), each form in a conversation of its own; then the rasa tracker store, the
payments database and every process log are searched for the numbers, whatever form they might
be stored in (tests/security/leaks.py). Zero hits.

The Stripe stand-in's log is not searched: it plays Stripe, which is where card numbers belong
(other tests in this suite pay with Stripe's test card there)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from testkit.stack import Stack
from tests.channels.card_corpus import CARD_FORMS, CardForm
from tests.security.channels import Call, Rest, Sms, unique, user_texts, webchat
from tests.security.leaks import Hit, holds, search_conversations, search_logs, search_sqlite

CONTROL, CONTROL_SPOKEN = "555012349876", "5550.1234.9876"


def wait_for_turns(stack: Stack, conversation_id: str, count: int, timeout: float = 90) -> None:
    """Until rasa has taken `count` messages of this conversation (SMS turns run after the
    webhook is answered)."""
    deadline = time.monotonic() + timeout
    while len(user_texts(stack, conversation_id)) < count:
        assert time.monotonic() < deadline, f"{conversation_id}: rasa took fewer than {count} message(s)"
        time.sleep(0.5)


def push_everywhere(stack: Stack, rest: Rest, sms: Sms, forms: tuple[CardForm, ...]) -> None:
    """Each form in a conversation of its own on every channel; the messages of a split form in
    order, each after the one before it was taken."""
    texted: dict[str, int] = {}
    for n, form in enumerate(forms):
        phone = f"+1646555{1000 + n:04d}"
        for i, message in enumerate(form.messages):
            if i:
                wait_for_turns(stack, phone, i)
            sms.send(phone, message)
        texted[phone] = len(form.messages)
    for form in forms:
        sender = unique("card")
        for message in form.messages:
            rest.post({"sender": sender, "message": message})
    for n, form in enumerate(forms):
        call = Call(stack, f"+1718555{1000 + n:04d}")
        call.answer()
        for message in form.messages:
            if form.kind == "keyed":
                call.press(message.rstrip("#"))
            else:
                call.speak(message)
    webchat(stack, [{"steps": [["request", {}]] + [["say", m] for m in form.messages]} for form in forms])
    # Malformed REST requests holding a number (one once logged the number at ERROR).
    for form in forms[:3]:
        rest.post(raw=f'{{"sender": "broken", "message": "{form.messages[0]}"'.encode())
        rest.post(raw=f'[{{"sender": "broken", "message": "{form.messages[0]}"}}]'.encode())
        rest.post({"sender": "no-token", "message": form.messages[0]}, token=None)
    # The control: a 12-digit reference (too short for a card number, so never masked).
    rest.post({"sender": unique("control"), "message": f"my reference is {CONTROL_SPOKEN}"})
    for phone, count in texted.items():
        wait_for_turns(stack, phone, count)


def test_no_card_number_of_the_corpus_is_stored_or_logged_anywhere(stack: Stack, rest: Rest, sms: Sms) -> None:
    assert len(CARD_FORMS) >= 60
    push_everywhere(stack, rest, sms, CARD_FORMS)
    numbers = sorted({form.number for form in CARD_FORMS})
    hits: list[Hit] = []
    hits += search_sqlite(stack.workdir / "tracker.db", numbers)
    hits += search_conversations(stack.workdir / "tracker.db", numbers)
    hits += search_sqlite(stack.workdir / "evenkeel.db", numbers)
    logs: list[Path] = [p.log_path for name, p in stack.processes.items() if name != "stripe"]
    hits += search_logs(logs, numbers)
    shown = "\n".join(str(h) for h in hits[:25])
    assert not hits, f"{len(hits)} card number(s) found:\n{shown}"
    # The search reads the stores it claims to: the unmasked control number is found there.
    assert search_sqlite(stack.workdir / "tracker.db", [CONTROL]), "the search found not even the control"


@pytest.mark.parametrize(
    "text, found",
    [
        ("4111 1111 1111 1111", True),
        ("four one one one\u200b1111 1111-1111", True),
        ("4\ufe0f\u20e3111.1111_1111 x 1111", True),
        ("\\u200b4111\\u200b1111\\u200b1111\\u200b1111", True),  # JSON-escaped, as a log may hold it
        ("forty one eleven eleven eleven eleven eleven eleven eleven", True),
        ("cuatro uno uno uno uno uno uno uno uno uno uno uno uno uno uno uno", True),
        ("\u0664\u0661\u0661\u0661 1111 1111 1111", True),
        ("4111 1111 1111 1112", False),
        ("**** **** **** 1111", False),
        ("forty one eleven eleven eleven eleven eleven eleven", False),
    ],
)
def test_the_search_finds_a_number_in_any_form(text: str, found: bool) -> None:
    """The detector itself: a sweep that could not see a number would prove nothing."""
    assert holds(text, "4111111111111111") is found
