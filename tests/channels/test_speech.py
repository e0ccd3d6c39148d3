"""The assistant's text made speakable (channels/speech.py); amounts and ids as contracts/speech.py
reads them."""

from __future__ import annotations

import pytest

from channels.speech import speakable


@pytest.mark.parametrize(
    "text, spoken",
    [
        ("Your balance is $2,450.00.", "Your balance is 2,450 dollars."),
        ("$103.34 is past due", "103 dollars and 34 cents is past due."),
        ("Pay $1.00 or $0.50 or $1.01 or $95", "Pay 1 dollar or 50 cents or 1 dollar and 1 cent or 95 dollars."),
        ("The minimum payment is $95.00, due 12/05/2026.", "The minimum payment is 95 dollars, due 12/05/2026."),
        ("Due March 14, 1985.", "Due March 14, 1985."),
        ("Thanks! 🙏🎉 You're all set ✅", "Thanks! You're all set."),
        ("**Important:** pay _today_ with `code`", "Important: pay today with code."),
        ("See [our site](https://lakeside.example.com) for more", "See our site for more."),
        ("Pay securely: https://pay.example.com/p/abc123 (one-time link)", "Pay securely (one-time link)."),
        ("Your link: www.example.com/x.", "Your link."),
        ("Options:\n- Pay in full\n- Set up a plan", "Options. Pay in full. Set up a plan."),
        ("# Your plan\nThree payments", "Your plan. Three payments."),
        ("Your confirmation number is PAY-4K2M8Q.", "Your confirmation number is P A Y, 4 K 2 M 8 Q."),
    ],
)
def test_speakable(text: str, spoken: str) -> None:
    assert speakable(text) == spoken


def test_speakable_never_reads_a_url() -> None:
    for text in ("Go to https://x.example.com/a?b=c now", "http://127.0.0.1:8000/pay/PAY-1", "www.example.com"):
        assert "http" not in speakable(text) and "www" not in speakable(text)
