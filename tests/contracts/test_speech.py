"""Money and ids read aloud (contracts/speech.py), one reading for the voice connector and the
payments service's <Pay> webhook."""

from __future__ import annotations

import pytest

from contracts.speech import speak_code, speakable_cents


@pytest.mark.parametrize(
    ("cents", "words"),
    [
        (9500, "95 dollars"),
        (9550, "95 dollars and 50 cents"),
        (101, "1 dollar and 1 cent"),
        (100, "1 dollar"),
        (50, "50 cents"),
        (1, "1 cent"),
        (0, "0 dollars"),
        (245000, "2,450 dollars"),
        (123456789, "1,234,567 dollars and 89 cents"),
        (-500, "minus 5 dollars"),
    ],
)
def test_speakable_cents(cents: int, words: str) -> None:
    assert speakable_cents(cents) == words


@pytest.mark.parametrize(
    ("code", "spoken"),
    [("PAY-4K2M8Q", "P A Y, 4 K 2 M 8 Q"), ("CASE-8HD2", "C A S E, 8 H D 2"), ("AB12", "A B 1 2")],
)
def test_speak_code(code: str, spoken: str) -> None:
    assert speak_code(code) == spoken
