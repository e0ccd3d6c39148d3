"""Bot messages as text (channels/rendering.py): buttons as numbered options, a turn packed into
SMS, and a reply picking a button."""

from __future__ import annotations

from channels.rendering import SMS_LIMIT, button_payload, pack_messages, render_buttons, split_sms

MENU = [
    {"title": "Make a payment", "payload": "/make_payment"},
    {"title": "Set up a payment plan", "payload": "/request_payment_plan"},
    {"title": "Talk to a person", "payload": "/request_agent"},
]


def test_sms_wording_that_already_numbers_the_options_is_not_repeated() -> None:
    text = "What would you like to do? Reply 1 to pay, 2 for a payment plan, 3 to talk to a person."
    assert render_buttons(text, MENU) == text


def test_button_payload() -> None:
    assert button_payload("1", MENU) == "/make_payment"
    assert button_payload("4", MENU) is None
    assert button_payload("yes", MENU) is None
    assert button_payload("1", []) is None


LONG_REPLY = (
    "Here are your options: pay the past-due amount of $310.00 today, which brings the account current. "
    "Or pay the minimum of $95.00 by December 5. Or set up a plan of 3, 6 or 12 monthly payments. "
    "A settlement isn't available on this account right now, but a payment plan is. "
    "If you're going through a hardship, there's a plan with lower payments for six months. "
    "You can also talk to a person from our team at any time, they'll see everything we've talked about. "
    "Reply with a number to choose, or tell me what works for you, and I'll explain the details."
)


def words(text: str) -> list[str]:
    return text.split()


def test_long_text_is_split_at_sentences_within_the_limit() -> None:
    parts = split_sms(LONG_REPLY)
    assert len(parts) > 1
    assert all(len(p) <= SMS_LIMIT for p in parts)
    assert words(" ".join(parts)) == words(LONG_REPLY)  # nothing lost, no word cut
    assert all(p.rstrip().endswith((".", "!", "?")) for p in parts)  # each ends a sentence


def test_a_sentence_longer_than_the_limit_is_split_between_words() -> None:
    sentence = " ".join(f"word{i}" for i in range(120)) + "."
    parts = split_sms(sentence)
    assert all(len(p) <= SMS_LIMIT for p in parts)
    assert words(" ".join(parts)) == words(sentence)
    assert all(p.split()[0].startswith("word") for p in parts)


def test_lines_are_kept_and_split_at_line_ends() -> None:
    options = "\n".join(
        f"{i}. Pay ${i * 100}.00 a month for {i * 3} months, first payment on Dec {i}" for i in range(1, 9)
    )
    parts = split_sms(f"Your options:\n{options}\nReply with a number.")
    assert all(len(p) <= SMS_LIMIT for p in parts)
    assert [line for p in parts for line in p.splitlines()] == [
        "Your options:",
        *options.splitlines(),
        "Reply with a number.",
    ]


def test_short_messages_of_a_turn_share_one_sms() -> None:
    assert pack_messages(["Thank you, you're verified.", "This is Lakeside Bank about your credit card account."]) == [
        "Thank you, you're verified.\n\nThis is Lakeside Bank about your credit card account."
    ]
    assert pack_messages(["a" * 200, "b" * 200]) == ["a" * 200, "b" * 200]
