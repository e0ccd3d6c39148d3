"""Pure number parsing: cardinals, digit strings, ordinals, years, money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.components import numbers


def w(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("200", 200),
        ("1,250", 1250),
        ("two", 2),
        ("twelve", 12),
        ("twenty five", 25),
        ("twenty - five", 25),
        ("a hundred", 100),
        ("hundred", 100),
        ("two hundred", 200),
        ("two hundred fifty", 250),
        ("two hundred and fifty", 250),
        ("a thousand", 1000),
        ("one thousand two hundred thirty four", 1234),
        ("nineteen hundred", 1900),
        ("ninety nine hundred", 9900),
        ("5 hundred", 500),
        ("2 thousand", 2000),
        ("fourty", 40),
    ],
)
def test_cardinals(text: str, expected: int) -> None:
    assert numbers.parse_int(w(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "one two",
        "twenty thirty",
        "five twenty",
        "200 5",
        "and",
        "a",
        "hundred hundred",
        "thousand thousand",
        "two and",
        "",
        "1.5",
        "twelve fifty",
    ],
)
def test_not_one_cardinal(text: str) -> None:
    assert numbers.parse_int(w(text)) is None


def test_prefix_stops_at_the_first_word_that_does_not_continue_the_number() -> None:
    assert numbers.parse_number_prefix(w("200 5 days")) == (Decimal(200), 1)
    assert numbers.parse_number_prefix(w("two hundred and fifty dollars")) == (Decimal(250), 4)
    assert numbers.parse_number_prefix(w("two hundred and")) == (Decimal(200), 2)
    assert numbers.parse_number_prefix(w("dollars")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("four eight two one", "4821"),
        ("forty eight twenty one", "4821"),
        ("4 8 2 1", "4821"),
        ("48 21", "4821"),
        ("seven eight seven zero one", "78701"),
        ("seven eight seven oh one", "78701"),
        ("seventy eight seven oh one", "78701"),
        ("double seven eight oh one", "77801"),
        ("triple five", "555"),
        ("nineteen eighty five", "1985"),
        ("twenty", "20"),
        ("oh three fourteen", "0314"),
    ],
)
def test_digit_strings(text: str, expected: str) -> None:
    assert numbers.parse_digit_string(w(text)) == expected


@pytest.mark.parametrize("text", ["two hundred", "oh 4821", "four and eight", "one thousand", "please"])
def test_not_digit_strings(text: str) -> None:
    assert numbers.parse_digit_string(w(text)) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("first", 1),
        ("second", 2),
        ("fifteenth", 15),
        ("twenty first", 21),
        ("twenty - first", 21),
        ("thirty first", 31),
        ("15th", 15),
        ("1st", 1),
        ("22nd", 22),
        ("3rd", 3),
        ("twelth", 12),
    ],
)
def test_ordinals(text: str, expected: int) -> None:
    assert numbers.parse_ordinal(w(text)) == expected


@pytest.mark.parametrize("text", ["fifteen", "twenty fifteenth", "first second", "15"])
def test_not_ordinals(text: str) -> None:
    assert numbers.parse_ordinal(w(text)) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15", 15),
        ("fifteen", 15),
        ("fifteenth", 15),
        ("31", 31),
        ("thirty first", 31),
        ("32", None),
        ("0", None),
        ("a", None),
        ("1.5", None),
    ],
)
def test_days(text: str, expected: int | None) -> None:
    assert numbers.parse_day(w(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1985", 1985),
        ("nineteen eighty five", 1985),
        ("nineteen eighty - five", 1985),
        ("twenty twenty five", 2025),
        ("twenty oh five", 2005),
        ("nineteen oh five", 1905),
        ("two thousand five", 2005),
        ("two thousand and five", 2005),
        ("nineteen hundred", 1900),
        ("twenty ten", 2010),
        ("1850", None),
        ("85", None),
        ("eighty five", None),
        ("two hundred", None),
    ],
)
def test_years(text: str, expected: int | None) -> None:
    assert numbers.parse_year(w(text)) == expected


@pytest.mark.parametrize(("text", "expected"), [("85", 85), ("eighty five", 85), ("oh five", 5)])
def test_two_digit_years_only_when_asked(text: str, expected: int) -> None:
    assert numbers.parse_year(w(text), two_digit=True) == expected
    assert numbers.parse_year(w(text)) is None


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["$", "200"], (20000, 0, 2)),
        (["$", "1,250.50"], (125050, 0, 2)),
        (["$", ".50"], (50, 0, 2)),
        (["200", "$"], (20000, 0, 2)),
        (["200", "dollars"], (20000, 0, 2)),
        (["a", "hundred", "bucks"], (10000, 0, 3)),
        (["two", "hundred", "and", "fifty", "dollars", "and", "twenty", "five", "cents"], (25025, 0, 9)),
        (["$", "200", "and", "50", "cents"], (20050, 0, 5)),
        (["fifty", "cents"], (50, 0, 2)),
        (["5", "k"], (500000, 0, 2)),
        (["2", "grand"], (200000, 0, 2)),
        (["two", "fifty", "dollars"], (25000, 0, 3)),
        (["twelve", "fifty", "dollars"], (125000, 0, 3)),
        (["100", "and", "200", "dollars"], (20000, 2, 4)),  # the 100 is not part of it
        (["$", "200", "5"], (20000, 0, 2)),
    ],
)
def test_money(words: list[str], expected: tuple[int, int, int]) -> None:
    assert numbers.read_money(words) == expected


@pytest.mark.parametrize(
    "words",
    [["200"], ["twenty", "fifty", "dollars"], ["$", "0"], ["$", "1.505"], ["dollars"], ["$", "1,25"]],
)
def test_not_money(words: list[str]) -> None:
    assert numbers.read_money(words) is None


def test_cents_are_exact() -> None:
    assert numbers.to_cents(Decimal("19.99")) == 1999
    assert numbers.to_cents(Decimal("0.1")) == 10
    assert numbers.to_cents(Decimal("1.005")) is None


@pytest.mark.parametrize(("word", "expected"), [("2", 2), ("nine", 9), ("0", None), ("10", None), ("first", None)])
def test_small_choice(word: str, expected: int | None) -> None:
    assert numbers.small_choice([word]) == expected
