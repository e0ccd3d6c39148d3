"""Money and ids as a text-to-speech voice should read them, one way for every voice on a call:
the voice connector (amounts and confirmation numbers in the assistant's text, channels/speech.py)
and the payments service's Twilio `<Pay>` webhook (the charge's outcome). A caller who hears their
confirmation number from the assistant and again after paying hears it the same way.

Where the two differed, the connector's reading won:
- an amount under a dollar is "50 cents", not "0 dollars and 50 cents"; a whole amount is
  "95 dollars", never "and 0 cents"; thousands keep their comma ("2,450 dollars"), as the
  assistant's text writes them (voices read the number the same either way);
- an id is read one character at a time with its groups apart: `PAY-4K2M8Q` → "P A Y, 4 K 2 M 8 Q".
  The comma is the pause where the printed id has its dash, so the caller can write the groups
  down as the receipt and the text message show them; a pause after every character (the
  webhook's former "P, A, Y, 4, K, ...") made a nine-character id as long as a sentence.
"""

from __future__ import annotations


def _plural(count: int, unit: str) -> str:
    return f"{count:,} {unit}{'' if count == 1 else 's'}"


def speakable_cents(amount_cents: int) -> str:
    """US dollars in minor units as words a voice reads: 9550 → "95 dollars and 50 cents",
    50 → "50 cents", 245000 → "2,450 dollars", 0 → "0 dollars", -500 → "minus 5 dollars"."""
    dollars, cents = divmod(abs(amount_cents), 100)
    parts = []
    if dollars or not cents:
        parts.append(_plural(dollars, "dollar"))
    if cents:
        parts.append(_plural(cents, "cent"))
    return ("minus " if amount_cents < 0 else "") + " and ".join(parts)


def speak_code(code: str) -> str:
    """PAY-4K2M8Q → "P A Y, 4 K 2 M 8 Q": one character at a time, groups apart."""
    return ", ".join(" ".join(part) for part in code.split("-") if part)
