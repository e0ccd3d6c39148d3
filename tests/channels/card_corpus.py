"""Card numbers as customers type, key, say and split them, and look-alikes that are not card
numbers. Plain data, importable by any test: no imports from the code under test, nothing
computed at import time but a few strings.

Used by tests/channels/test_masking_corpus.py (the masking rules, contracts/masking.py and
channels/card_buffer.py) and by the end-to-end security test (tests/security/), which pushes every
form through every channel and then searches the tracker store, both databases and every log.

- `CARD_FORMS`: each form's `messages` are sent in order to ONE conversation; the last message
  completes `number` (13-19 digits, Luhn-valid test numbers of the card networks). Single-message
  forms must be masked by themselves; split forms are caught by the rolling digit buffer when
  the last message arrives (the earlier fragments reach Rasa as they are: alone they are no card
  number). `kind`: typed | keyed (DTMF `Digits`, also typable) | spoken (a voice `SpeechResult`,
  also typable) | unicode | split.
  What to search stored text for afterwards: `number` in the text with every non-digit removed
  (after NFKC), so "4111.1111..." or "٤١١١..." stored raw would be found too.
- `NOT_CARDS`: single messages that must reach Rasa untouched (amounts, dates, phone numbers,
  ZIP codes, last 4, confirmation codes).
- `NOT_CARD_SEQUENCES`: messages sent in order to one conversation, none of which may be masked
  (the verification factors one per message, menu choices, amounts).
"""

from __future__ import annotations

from typing import NamedTuple


class CardForm(NamedTuple):
    name: str
    kind: str
    messages: tuple[str, ...]
    number: str


VISA = "4111111111111111"
VISA_STRIPE = "4242424242424242"
VISA_13 = "4222222222222"
MASTERCARD = "5555555555554444"
MASTERCARD_2 = "2223003122003222"
AMEX = "378282246310005"
DISCOVER = "6011111111111117"
DINERS = "30569309025904"
JCB = "3530111333300000"
UNIONPAY_19 = "6212345678901234569"
MAESTRO_19 = "6034730000000000000"

CARD_NUMBERS = (
    VISA,
    VISA_STRIPE,
    VISA_13,
    MASTERCARD,
    MASTERCARD_2,
    AMEX,
    DISCOVER,
    DINERS,
    JCB,
    UNIONPAY_19,
    MAESTRO_19,
)

_KEYCAP = "\ufe0f\u20e3"


def _one(name: str, kind: str, message: str, number: str) -> CardForm:
    return CardForm(name, kind, (message,), number)


CARD_FORMS: tuple[CardForm, ...] = (
    # --- typed -----------------------------------------------------------------------------------
    _one("unbroken", "typed", "4111111111111111", VISA),
    _one("spaces 4-4-4-4", "typed", "4242 4242 4242 4242", VISA_STRIPE),
    _one("dashes", "typed", "5555-5555-5555-4444", MASTERCARD),
    _one("dots", "typed", "4111.1111.1111.1111", VISA),
    _one("slashes", "typed", "4111/1111/1111/1111", VISA),
    _one("underscores", "typed", "6011_1111_1111_1117", DISCOVER),
    _one("commas", "typed", "4111,1111,1111,1111", VISA),
    _one("x between groups", "typed", "4111 x 1111 x 1111 x 1111", VISA),
    _one("letters between groups", "typed", "4111a1111b1111c1111", VISA),
    _one("and between groups", "typed", "4111 1111 and 1111 1111", VISA),
    _one("then between groups", "typed", "4242 then 4242 then 4242 then 4242", VISA_STRIPE),
    _one("mixed separators", "typed", "4111-1111.1111/1111", VISA),
    _one("pipes", "typed", "4111|1111|1111|1111", VISA),
    _one("bullets", "typed", "4111•1111•1111•1111", VISA),
    _one("spaced dashes", "typed", "4111 - 1111 - 1111 - 1111", VISA),
    _one("amex 4-6-5", "typed", "3782 822463 10005", AMEX),
    _one("diners 4-6-4", "typed", "3056 930902 5904", DINERS),
    _one("one digit at a time", "typed", "4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2", VISA_STRIPE),
    _one("pairs", "typed", "41 11 11 11 11 11 11 11", VISA),
    _one("threes", "typed", "411 111 111 111 1111", VISA),
    _one("13 digits", "typed", "4222222222222", VISA_13),
    _one("19 digits", "typed", "6212 3456 7890 1234 569", UNIONPAY_19),
    _one("19 digits unbroken", "typed", "6034730000000000000", MAESTRO_19),
    _one("jcb", "typed", "3530 1113 3330 0000", JCB),
    _one("mastercard 2-series", "typed", "2223 0031 2200 3222", MASTERCARD_2),
    _one("in a sentence with expiry", "typed", "my card is 5555555555554444 exp 12/26", MASTERCARD),
    _one("with expiry and cvc", "typed", "4242424242424242 12/27 123", VISA_STRIPE),
    _one("over lines", "typed", "here:\n4111 1111\n1111 1111", VISA),
    _one("after a slash command", "typed", "/inform 4111111111111111", VISA),
    # --- keyed (DTMF) ----------------------------------------------------------------------------
    _one("keypad unbroken", "keyed", "4111111111111111", VISA),
    _one("keypad star groups", "keyed", "4111*1111*1111*1111", VISA),
    _one("keypad pound groups", "keyed", "4111#1111#1111#1111", VISA),
    _one("keypad star groups mastercard", "keyed", "5555*5555*5555*4444", MASTERCARD),
    _one("keypad stars around", "keyed", "*4111*1111*1111*1111*", VISA),
    # --- spoken (speech-to-text) -----------------------------------------------------------------
    _one("digit words", "spoken", "four one one one one one one one one one one one one one one one", VISA),
    _one("for for four", "spoken", "for one one one, one one one one, one one one one, one one one one", VISA),
    _one("to for two", "spoken", "four to four to four to four to four to four to four to four to", VISA_STRIPE),
    _one("won for one", "spoken", "four won won won won won won won won won won won won won won won", VISA),
    _one("ate for eight", "spoken", "three seven ate two ate two two four six three one oh oh oh five", AMEX),
    _one("oh for zero", "spoken", "three oh five six nine three oh nine oh two five nine oh four", DINERS),
    _one("o for zero", "spoken", "six o one one one one one one one one one one one one one seven", DISCOVER),
    _one("niner", "spoken", "three oh five six niner three oh niner oh two five niner oh four", DINERS),
    _one(
        "double",
        "spoken",
        "double five double five double five double five double five double five four four four four",
        MASTERCARD,
    ),
    _one("triple", "spoken", "four triple one triple one triple one triple one one one one", VISA),
    _one("teens and tens", "spoken", "forty one eleven eleven eleven eleven eleven eleven eleven", VISA),
    _one(
        "tens with units",
        "spoken",
        "forty two forty two forty two forty two forty two forty two forty two forty two",
        VISA_STRIPE,
    ),
    _one(
        "hyphenated tens",
        "spoken",
        "forty-two forty-two forty-two forty-two forty-two forty-two forty-two forty-two",
        VISA_STRIPE,
    ),
    _one(
        "dash words", "spoken", "four one one one dash one one one one dash one one one one dash one one one one", VISA
    ),
    _one("capitalized", "spoken", "Four One One One One One One One One One One One One One One One", VISA),
    _one("words and digits", "spoken", "4111 one one one one 1111 1111", VISA),
    _one("spanish", "spoken", "cuatro uno uno uno uno uno uno uno uno uno uno uno uno uno uno uno", VISA),
    _one(
        "then expiry in one breath",
        "spoken",
        "four one one one one one one one one one one one one one one one one two two six",
        VISA,
    ),
    # --- unicode tricks --------------------------------------------------------------------------
    _one("fullwidth digits", "unicode", "４１１１ １１１１ １１１１ １１１１", VISA),
    _one("zero-width spaces between groups", "unicode", "4111\u200b1111\u200b1111\u200b1111", VISA),
    _one("zero-width characters inside groups", "unicode", "4\u200b1\u200d1\u200c1 1111 11\u20601\u200b1 1111", VISA),
    _one("keycap emoji", "unicode", "".join(d + _KEYCAP for d in VISA), VISA),
    _one(
        "keycap emoji in groups",
        "unicode",
        " ".join("".join(d + _KEYCAP for d in VISA_STRIPE[i : i + 4]) for i in range(0, 16, 4)),
        VISA_STRIPE,
    ),
    _one("arabic-indic digits", "unicode", "٤١١١١١١١١١١١١١١١", VISA),
    _one("devanagari digits", "unicode", "४१११ ११११ ११११ ११११", VISA),
    _one("mathematical bold digits", "unicode", "𝟒𝟏𝟏𝟏 𝟏𝟏𝟏𝟏 𝟏𝟏𝟏𝟏 𝟏𝟏𝟏𝟏", VISA),
    _one("circled digits", "unicode", "④①①① ①①①① ①①①① ①①①①", VISA),
    _one("superscript digits", "unicode", "⁴¹¹¹¹¹¹¹¹¹¹¹¹¹¹¹", VISA),
    _one("soft hyphens", "unicode", "4111\u00ad1111\u00ad1111\u00ad1111", VISA),
    _one("en dashes", "unicode", "4111–1111–1111–1111", VISA),
    _one("no-break spaces", "unicode", "4111\u00a01111\u00a01111\u00a01111", VISA),
    _one("byte order mark", "unicode", "\ufeff4111111111111111", VISA),
    _one("combining underline", "unicode", "".join(d + "\u0332" for d in VISA), VISA),
    # --- split across messages -------------------------------------------------------------------
    CardForm("halves in groups", "split", ("4111 1111", "1111 1111"), VISA),
    CardForm("halves unbroken", "split", ("41111111", "11111111"), VISA),
    CardForm("4 then 12", "split", ("4242", "4242 4242 4242"), VISA_STRIPE),
    CardForm("12 then 4", "split", ("5555 5555 5555", "4444"), MASTERCARD),
    CardForm("amex in three", "split", ("3782", "822463", "10005"), AMEX),
    CardForm("four groups in four messages", "split", ("4111", "1111", "1111", "1111"), VISA),
    CardForm("after words", "split", ("my card is 4111 1111", "1111 1111"), VISA),
    CardForm(
        "spoken over two turns", "split", ("four one one one one one one one", "one one one one one one one one"), VISA
    ),
    CardForm("keyed over two turns", "split", ("4111*1111", "1111*1111"), VISA),
    CardForm("fullwidth then ascii", "split", ("４１１１ １１１１", "1111 1111"), VISA),
    CardForm("with dots over two", "split", ("6011.1111", "1111.1117"), DISCOVER),
)

NOT_CARDS: tuple[str, ...] = (
    "",
    "4821",
    "my last four are 4821",
    "four eight two one",
    "account ending 4821, zip 78701",
    "78701",
    "78701-1234",
    "03/14/1985",
    "3/14/85",
    "03-14-1985",
    "03.14.1985",
    "1985-03-14",
    "03141985",
    "March 14, 1985",
    "oh three fourteen nineteen eighty five",
    "4821 03/14/1985 78701",
    "4821 03141985 78701",
    "my zip is 78701 and my birthday is 03/14/1985",
    "$1,234.56",
    "$2,450.00",
    "1,234.56",
    "$103.34 and $95",
    "I can pay $95 on the 15th and $95 on the 30th",
    "I can pay 1,150.75 on 12/05/2026",
    "two thousand four hundred fifty dollars",
    "I want to pay 200 for 6 months",
    "+1 512 555 0101",
    "+15125550101",
    "(512) 555-0101",
    "512-555-0101",
    "512.555.0101",
    "5125550101",
    "1-800-555-0199",
    "call me at 512-555-0101, 512-555-0199",
    "call me at 512.555.0101 or 512.555.0199",
    "12/05 at 10:30",
    "PAY-4K2M8Q",
    "CASE-8HD2",
    "A1001",
    "confirmation 738194 5522",
    "4111 1111 1111 1112",
    "between 9 and 5",
    "I have 2 kids and 3 cats",
    "one two three",
    "I need to talk to someone for a minute",
)

NOT_CARD_SEQUENCES: tuple[tuple[str, ...], ...] = (
    ("4821", "03141985", "78701"),
    ("4821", "03/14/1985", "78701"),
    ("4821", "4812", "03141985", "78701"),
    ("four eight two one", "oh three one four one nine eight five", "seven eight seven oh one"),
    ("4821", "March 14 1985", "78701"),
    ("4821", "78701", "5125550101"),
    ("1", "2", "1", "3", "2", "1", "1", "2", "3", "1", "2", "1", "1", "2", "4", "5"),
    ("150", "$95.00", "12/15", "2"),
    ("I can pay 1500", "ok 250", "fine, 400 then"),
)
