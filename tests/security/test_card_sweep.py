"""Card numbers never pass, end to end (issue 11): every form of the card-number corpus goes
through every channel (signed SMS, the token REST connector, web chat's socket.io, voice speech
and keypad webhooks), each form in a conversation of its own; then the rasa tracker store, the
payments database and every process log are searched for the numbers, whatever form they might
be stored in (tests/security/leaks.py). Zero hits.

The Stripe stand-in's log is not searched: it plays Stripe, which is where card numbers belong
(other tests in this suite pay with Stripe's test card there)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.stack import ROOT, Stack
from tests.security.channels import Call, Rest, Sms, unique, webchat
from tests.security.leaks import Hit, holds, search_conversations, search_logs, search_sqlite


@dataclass(frozen=True)
class CardForm:
    name: str
    messages: tuple[str, ...]  # one conversation's messages, in order (a split number: two)
    number: str  # the digits that must be found nowhere
    keypad: bool = False  # voice: pressed on the keypad (Digits) rather than spoken


# Used until the masking corpus (tests/channels/card_corpus*.py, issue 11) is in the tree.
LOCAL_CORPUS = (
    CardForm("spaced", ("my card is 4111 1111 1111 1111",), "4111111111111111"),
    CardForm("dots", ("5555.5555.5555.4444",), "5555555555554444"),
    CardForm("slashes", ("6011/1111/1111/1117",), "6011111111111117"),
    CardForm("underscores", ("4012_8888_8888_1881",), "4012888888881881"),
    CardForm("x between groups", ("5105 x 1051 x 0510 x 5100",), "5105105105105100"),
    CardForm("letters between", ("4000a0566b5566c5556",), "4000056655665556"),
    CardForm("zero-width spaces", ("4111\u200b1111\u200b1111\u200b1111",), "4111111111111111"),
    CardForm("keycaps", ("".join(d + "\ufe0f\u20e3" for d in "5555555555554444"),), "5555555555554444"),
    CardForm("fullwidth", ("\uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 "
                           "\uff11\uff11\uff11\uff11",), "4111111111111111"),
    CardForm("words", ("four one one one one one one one one one one one one one one one",), "4111111111111111"),
    CardForm("for and oh", ("for oh one two eight eight eight eight eight eight eight eight one eight eight one",),
             "4012888888881881"),
    CardForm("amex 4-6-5", ("card 3782 822463 10005",), "378282246310005"),
    CardForm("keypad stars", ("4111*1111*1111*1111",), "4111111111111111", keypad=True),
    CardForm("split in two", ("my card number is 6011 1111", "1111 1117"), "6011111111111117"),
)


def corpus() -> tuple[CardForm, ...]:
    """The masking corpus if it is there (any tests/channels/card_corpus*.py), else the local list."""
    forms: list[CardForm] = []
    for path in sorted((ROOT / "tests/channels").glob("card_corpus*.py")):
        module = importlib.import_module(f"tests.channels.{path.stem}")
        forms += [f for f in (as_form(item) for item in corpus_items(module)) if f is not None]
    return tuple(forms) or LOCAL_CORPUS


def corpus_items(module: object) -> list[object]:
    for name in ("CARD_FORMS", "CORPUS", "CARD_CORPUS", "FORMS", "CASES"):
        items = getattr(module, name, None)
        if items:
            return list(items)
    return []


def as_form(item: object) -> CardForm | None:
    """One corpus entry, whatever its shape (an object with fields, a dict, or a tuple)."""
    def get(*names: str) -> object:
        for name in names:
            if isinstance(item, dict) and name in item:
                return item[name]
            if hasattr(item, name):
                return getattr(item, name)
        return None

    messages = get("messages", "parts", "texts", "text", "message")
    number = get("number", "card", "card_number", "digits", "pan")
    if isinstance(item, tuple) and messages is None and len(item) >= 2:
        messages, number = item[0], item[1]
    if isinstance(messages, str):
        messages = (messages,)
    if not messages or not isinstance(number, str):
        return None
    name = str(get("name", "id", "label", "form") or messages[0][:30])
    keypad = bool(get("keypad", "dtmf")) or all(set(m) <= set("0123456789*#") for m in messages)
    return CardForm(name, tuple(str(m) for m in messages), number, keypad)


FORMS = corpus()


def push_everywhere(stack: Stack, rest: Rest, sms: Sms) -> None:
    for n, form in enumerate(FORMS):
        sender = unique("card")
        for message in form.messages:
            rest.post({"sender": sender, "message": message})
        phone = f"+1646555{1000 + n:04d}"
        for message in form.messages:
            sms.say(phone, message, timeout=30, quiet=1.0)
        call = Call(stack, f"+1718555{1000 + n:04d}")
        call.answer()
        for message in form.messages:
            if form.keypad:
                call.press(message.rstrip("#"))
            else:
                call.speak(message)
    webchat(stack, [{"steps": [["request", {}]] + [["say", m] for m in form.messages]} for form in FORMS])
    # Malformed REST requests holding a number (one once logged the number at ERROR).
    for form in FORMS[:3]:
        rest.post(raw=f'{{"sender": "broken", "message": "{form.messages[0]}"'.encode())
        rest.post(raw=f'[{{"sender": "broken", "message": "{form.messages[0]}"}}]'.encode())
        rest.post({"sender": "no-token", "message": form.messages[0]}, token=None)


def test_no_card_number_of_the_corpus_is_stored_or_logged_anywhere(stack: Stack, rest: Rest, sms: Sms) -> None:
    assert len(FORMS) >= 10
    push_everywhere(stack, rest, sms)
    numbers = sorted({form.number for form in FORMS})
    hits: list[Hit] = []
    hits += search_sqlite(stack.workdir / "tracker.db", numbers)
    hits += search_conversations(stack.workdir / "tracker.db", numbers)
    hits += search_sqlite(stack.workdir / "evenkeel.db", numbers)
    logs: list[Path] = [p.log_path for name, p in stack.processes.items() if name != "stripe"]
    hits += search_logs(logs, numbers)
    shown = "\n".join(str(h) for h in hits[:25])
    assert not hits, f"{len(hits)} card number(s) found:\n{shown}"


@pytest.mark.parametrize("text, number", [("4111 1111 1111 1111", "4111111111111111"),
                                          ("four one one one\u200b1111 1111-1111", "4111111111111111"),
                                          ("4\ufe0f\u20e3111.1111_1111 x 1111", "4111111111111111"),
                                          ("\\u200b4111\\u200b1111\\u200b1111\\u200b1111", "4111111111111111")])
def test_the_search_finds_a_number_in_any_form(text: str, number: str) -> None:
    """The detector itself: a sweep that could not see a number would prove nothing."""
    assert holds(text, number)
    assert not holds(text.replace("1", "2", 1), number)
