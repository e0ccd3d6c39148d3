from datetime import date

import pytest

from actions.parsing import parse_card_last4, parse_date_of_birth, parse_zip, spoken_digits_to_text

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("4821", "4821"),
        ("it's 4821", "4821"),
        ("ends in 1190.", "1190"),
        ("four eight two one", "4821"),
        ("Seven seven three four", "7734"),
        ("482", None),
        ("48211", None),
        ("4821 and 1190", None),
        ("", None),
        ("four", None),
    ],
)
def test_card_last4(text: str, expected: str | None) -> None:
    assert parse_card_last4(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("78701", "78701"),
        ("my zip is 10027", "10027"),
        ("78701-1234", "78701"),
        ("seven eight seven zero one", "78701"),
        ("7870", None),
        ("787012", None),
        ("zip", None),
    ],
)
def test_zip(text: str, expected: str | None) -> None:
    assert parse_zip(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("03/14/1985", date(1985, 3, 14)),
        ("3/14/85", date(1985, 3, 14)),
        ("1985-03-14", date(1985, 3, 14)),
        ("03141985", date(1985, 3, 14)),  # keypad MMDDYYYY
        ("March 14 1985", date(1985, 3, 14)),
        ("i was born on march 14th, 1985", date(1985, 3, 14)),
        ("14 March 1985", date(1985, 3, 14)),
        ("11-02-1972", date(1972, 11, 2)),
        ("02/30/1985", None),  # no such day
        ("03/14/2020", None),  # six years old: not a cardholder
        ("03/14/1885", None),  # 141 years old
        ("march", None),
        ("4821", None),
    ],
)
def test_date_of_birth(text: str, expected: date | None) -> None:
    assert parse_date_of_birth(text, TODAY) == expected


def test_spoken_digits_keep_other_words() -> None:
    assert spoken_digits_to_text("it is four eight two one thanks") == "it is 4821 thanks"
    # "for" and "to" only count inside a run of digits, so ordinary words survive.
    assert spoken_digits_to_text("go for it") == "go for it"
