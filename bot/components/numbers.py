"""Typed and spoken numbers: cardinals, digit strings, ordinals, years and money.

Pure functions over lower-cased word lists (tokens from spaCy's tokenizer, or `str.split()`
in tests). Each parser either reads the whole list or says None, unless its name says
"prefix": then it returns the value and how many words it used. No spaCy, no Rasa here.

Money is parsed with `Decimal` and returned as integer cents (STYLE.md: Decimal only while
parsing user text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "ninty": 90,
}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
# "oh"/"o" are zeros only inside spoken digit strings and years ("seven oh one", "twenty oh five").
ZEROES = {"oh", "o"}
ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "twelth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
NUMBER_WORDS = {**UNITS, **TEENS, **TENS, **SCALES}

_HYPHEN = "-"
_TYPED = re.compile(r"^(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)$")
_ORDINAL_DIGITS = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)$")

# Regex sources for spaCy token patterns ({"LOWER": {"REGEX": ...}}), kept next to the parsers
# that must accept whatever they match.
TYPED_NUMBER_RE = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
NUMBER_WORD_RE = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
ORDINAL_WORD_RE = "|".join(sorted(ORDINALS, key=len, reverse=True))
ORDINAL_DIGITS_RE = r"\d{1,2}(?:st|nd|rd|th)"


# Longer runs of digits are not amounts, days or choices (a card number, a paste, an attack);
# they are also where int() refuses to convert (Python's 4,300-digit limit).
MAX_TYPED_NUMBER_CHARS = 20
MAX_CENTS = 100_000_000_000  # a billion dollars: anything above is not a payment amount


def typed_decimal(word: str) -> Decimal | None:
    """`1,250.50` → Decimal("1250.50"); commas must group thousands properly."""
    if len(word) > MAX_TYPED_NUMBER_CHARS or not _TYPED.match(word):
        return None
    try:
        return Decimal(word.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
        return None


def parse_number_prefix(words: Sequence[str]) -> tuple[Decimal, int] | None:
    """The longest prefix of `words` that reads as one cardinal number, and its length.

    Accepts typed numbers (`200`, `1,250.50`, `5 thousand`) and English number words
    (`a hundred`, `two hundred and fifty`, `twenty-five`, `one thousand two hundred`).
    A typed number never combines with a following number (`200 5` reads as 200), and two
    small numbers never add up (`one two` reads as 1): those are digit strings, not cardinals.
    """
    total = Decimal(0)  # completed thousands/millions
    group = Decimal(0)  # the part below the last scale word
    last: str | None = None  # kind of the previous word
    last_scale = 10**9
    best: tuple[Decimal, int] | None = None

    for index, word in enumerate(words):
        if word == _HYPHEN and last == "tens":
            continue  # "twenty-five"
        if word in ("a", "an") and last is None:
            group, last = Decimal(1), "a"
            continue
        if word in ("hundred", "thousand") and last is None:
            group, last = Decimal(1), "a"  # "hundred bucks" means a hundred
        typed = typed_decimal(word)
        if typed is not None:
            if last is not None:
                break
            group, last = typed, "typed"
        elif word in UNITS or word in TEENS or word in TENS:
            value = NUMBER_WORDS[word]
            kind = "unit" if word in UNITS else "teen" if word in TEENS else "tens"
            if last in (None, "hundred", "scale", "and"):
                group += value
            elif last == "tens" and kind == "unit" and value > 0:
                group += value  # "twenty five"
            else:
                break
            last = kind
        elif word == "hundred":
            if last not in ("a", "unit", "teen", "tens", "typed") or not 0 < group < 100:
                break
            group *= 100
            last = "hundred"
        elif word in ("thousand", "million", "k", "grand"):
            scale = 1000 if word in ("thousand", "k", "grand") else 1_000_000
            if last not in ("a", "unit", "teen", "tens", "hundred", "typed") or group == 0:
                break
            if scale >= last_scale:
                break
            total += group * scale
            group, last, last_scale = Decimal(0), "scale", scale
        elif word == "and" and last in ("hundred", "scale"):
            last = "and"
            continue
        else:
            break
        if last not in ("a", "and"):
            best = (total + group, index + 1)
    return best


def parse_number(words: Sequence[str]) -> Decimal | None:
    """The whole of `words` as one cardinal number, else None."""
    parsed = parse_number_prefix(words)
    return parsed[0] if parsed and parsed[1] == len(words) else None


def parse_int(words: Sequence[str]) -> int | None:
    """The whole of `words` as a whole number, else None (`1.5` is not one)."""
    value = parse_number(words)
    return int(value) if value is not None and value == value.to_integral_value() else None


def parse_digit_string(words: Sequence[str]) -> str | None:
    """Digits read out one or two at a time: `four eight two one`, `forty eight twenty one`,
    `seven eight seven oh one`, `double seven`, `4 8 2 1` → their digits as a string.

    A tens word takes a following unit (`forty eight` → 48). `hundred`/`thousand` make it a
    cardinal, not a digit string (None). A leading `oh` is allowed only before a number word.
    """
    digits = ""
    index = 0
    words = [w for w in words if w != _HYPHEN]
    while index < len(words):
        word = words[index]
        nxt = words[index + 1] if index + 1 < len(words) else None
        if word.isdigit():
            digits += word
        elif word in UNITS:
            digits += str(UNITS[word])
        elif word in ZEROES:
            if not digits and (nxt is None or nxt not in NUMBER_WORDS and nxt not in ZEROES):
                return None
            digits += "0"
        elif word in TEENS:
            digits += str(TEENS[word])
        elif word in TENS:
            if nxt in UNITS and UNITS[nxt] > 0:
                digits += str(TENS[word] + UNITS[nxt])
                index += 1
            else:
                digits += str(TENS[word])
        elif word in ("double", "triple") and nxt is not None and (nxt in UNITS or nxt in ZEROES):
            digit = "0" if nxt in ZEROES else str(UNITS[nxt])
            digits += digit * (2 if word == "double" else 3)
            index += 1
        else:
            return None
        index += 1
    return digits or None


def parse_ordinal(words: Sequence[str]) -> int | None:
    """`fifteenth`, `twenty first`, `twenty-first`, `15th` → the number."""
    words = [w for w in words if w != _HYPHEN]
    if len(words) == 1:
        if match := _ORDINAL_DIGITS.match(words[0]):
            return int(match.group(1))
        return ORDINALS.get(words[0])
    if len(words) == 2 and words[0] in TENS and words[1] in ORDINALS and ORDINALS[words[1]] < 10:
        return TENS[words[0]] + ORDINALS[words[1]]
    return None


def parse_day(words: Sequence[str]) -> int | None:
    """A day of the month, 1 to 31, as an ordinal (`15th`, `fifteenth`) or cardinal (`15`)."""
    value = parse_ordinal(words)
    if value is None:
        value = parse_int(words) if words and words[0] not in ("a", "an") else None
        if value is not None and "." in "".join(words):
            return None
    return value if value is not None and 1 <= value <= 31 else None


def parse_year(words: Sequence[str], *, two_digit: bool = False) -> int | None:
    """A four-digit year 1900-2099, typed (`1985`) or spoken: `nineteen eighty five`,
    `nineteen eighty-five`, `twenty twenty five`, `twenty oh five`, `two thousand and five`.

    With `two_digit`, also `85`, `eighty five`, `oh five` (returned as 85, 85, 5; the caller
    picks the century).
    """
    words = [w for w in words if w != _HYPHEN]
    if not words:
        return None
    if len(words) == 1 and re.fullmatch(r"\d{4}", words[0]):
        year = int(words[0])
        return year if 1900 <= year <= 2099 else None
    if two_digit and len(words) == 1 and re.fullmatch(r"\d{2}", words[0]):
        return int(words[0])
    cardinal = parse_int(words)
    if cardinal is not None and 1900 <= cardinal <= 2099 and any(w in SCALES for w in words):
        return cardinal  # "two thousand five", "nineteen hundred"
    head = words[0]
    if head in TEENS or head == "twenty":
        century = TEENS.get(head, 20)
        tail = _two_digit_part(words[1:])
        spoken = century * 100 + tail if tail is not None else None
        if spoken is not None and 1900 <= spoken <= 2099:
            return spoken
    if two_digit:
        return _two_digit_part(words)
    return None


def _two_digit_part(words: Sequence[str]) -> int | None:
    """The second half of a spoken year: `eighty five`, `twenty`, `oh five`, `hundred`, `twelve`."""
    if words == ["hundred"]:
        return 0
    if len(words) == 2 and words[0] in ZEROES | {"zero"} and words[1] in UNITS:
        return UNITS[words[1]]
    if len(words) == 1 and words[0] in TEENS:
        return TEENS[words[0]]
    if len(words) == 1 and words[0] in TENS:
        return TENS[words[0]]
    if len(words) == 2 and words[0] in TENS and words[1] in UNITS and UNITS[words[1]] > 0:
        return TENS[words[0]] + UNITS[words[1]]
    return None


def to_cents(value: Decimal) -> int | None:
    """Dollars as integer cents; more than two decimal places is not money (None)."""
    cents = value * 100
    if cents != cents.to_integral_value() or cents < 0 or cents > MAX_CENTS:
        return None
    return int(cents)


def parse_dollars(words: Sequence[str], *, colloquial: bool = False) -> Decimal | None:
    """The dollar part of an amount: `200`, `1,250.50`, `two hundred and fifty`, `a hundred`,
    `5 k`, `2 grand`. With `colloquial` (only when a currency word follows), also the spoken
    hundreds shorthand `two fifty` (250) and `twelve fifty` (1250); the first part must be
    1-19 (`twenty fifty` could be 20.50 or 2050, so it is nothing).
    """
    value = parse_number(words)
    if value is not None:
        return value
    if colloquial and 2 <= len(words) <= 3:
        head = parse_int(words[:1])
        tail = _two_digit_part(list(words[1:]))
        if head is not None and 1 <= head <= 19 and tail is not None and tail >= 1:
            return Decimal(head * 100 + tail)
    return None


def small_choice(words: Sequence[str]) -> int | None:
    """A plan choice number 1 to 9, typed or as a word."""
    if len(words) != 1:
        return None
    word = words[0]
    value = int(word) if word.isdigit() and len(word) <= 2 else UNITS.get(word)
    return value if value is not None and 1 <= value <= 9 else None


CURRENCY_WORDS = {
    "dollars",
    "dollar",
    "bucks",
    "buck",
    "usd",
    "dollaz",
    "dolla",
    "dollers",
    "doller",
    "dolars",
    "dolar",
}
CENT_WORDS = {"cents", "cent", "pennies"}
THOUSANDS_WORDS = {"k", "grand"}


def read_money(words: Sequence[str]) -> tuple[int, int, int] | None:
    """An amount of money in `words` (a span the matcher found): integer cents, and the
    first and end index of the words it used.

    Shapes: `$ 200`, `$ 1,250.50`, `200 $`, `200 dollars`, `a hundred bucks`,
    `two hundred and fifty dollars and twenty five cents`, `$ 200 and 50 cents`, `fifty cents`,
    `5 k`, `2 grand`, and (before a currency word only) `two fifty dollars`. Words in front
    of the number that do not belong to it are left out (`100 and 200 dollars` gives 200).
    """
    words = list(words)
    if not words:
        return None
    start = 1 if words[0] == "$" else 0
    end = len(words) - 1 if words[-1] == "$" and start == 0 else len(words)
    dollar_sign = start == 1 or end < len(words)
    body = words[start:end]
    currency = next((i for i, w in enumerate(body) if w in CURRENCY_WORDS), None)
    cent = next((i for i, w in enumerate(body) if w in CENT_WORDS), None)
    first = 0
    if currency is not None:
        value = None
        for first in range(0, 1 if dollar_sign else max(currency, 1)):
            if first and _is_number_word(body[first - 1]):
                continue  # never split a number: "twenty fifty dollars" is not 50 dollars
            value = parse_dollars(body[first:currency], colloquial=True)
            if value is not None:
                break
        if value is None:
            return None
        used = currency + 1
        if cent is not None and cent > currency + 1:
            cent_words = body[currency + 1 : cent]
            cents = parse_int(cent_words[1:] if cent_words[0] == "and" else cent_words)
            if cents is not None and cents <= 99:
                value += Decimal(cents) / 100
                used = cent + 1
    elif cent is not None:
        before = body[:cent]
        if dollar_sign and "and" in before:
            split = len(before) - 1 - before[::-1].index("and")
            dollars, cents = parse_dollars(before[:split]), parse_int(before[split + 1 :])
            if dollars is None or cents is None or cents > 99:
                return None
            value = dollars + Decimal(cents) / 100
        else:
            cents = None
            for first in range(0, 1 if dollar_sign else max(len(before), 1)):
                if first and _is_number_word(before[first - 1]):
                    continue
                cents = parse_int(before[first:])
                if cents is not None:
                    break
            if cents is None:
                return None
            value = Decimal(cents) / 100
        used = cent + 1
    else:
        parsed = parse_number_prefix(body)
        if parsed is None:
            return None
        value, used = parsed
        if not dollar_sign and body[used - 1] not in THOUSANDS_WORDS:
            return None
        if end < len(words) and used != len(body):
            return None  # "200 $" must be the whole span
    cents_total = to_cents(value)
    if not cents_total:
        return None
    used_end = start + used
    if end < len(words) and used_end == end:
        used_end = len(words)
    return cents_total, 0 if start else first, used_end


def _is_number_word(word: str) -> bool:
    return word in NUMBER_WORDS or word in THOUSANDS_WORDS or typed_decimal(word) is not None or word in ("a", "an")
