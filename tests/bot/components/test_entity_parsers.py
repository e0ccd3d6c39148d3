"""Entities from whole messages through spaCy (EntityFinder), without Rasa.

Today is Wednesday 2026-03-11 (helpers.TODAY).
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.components.entity_parsers import EntityFinder
from tests.bot.components.helpers import found, values

# --- amount: int cents -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        # typed / SMS
        ("$200", 20000),
        ("200 dollars", 20000),
        ("$1,250.50", 125050),
        ("I can pay $1,250.50 today", 125050),
        ("200$", 20000),
        ("200usd", 20000),
        ("200dollars", 20000),
        ("$.50", 50),
        ("$200 and 50 cents", 20050),
        ("5k", 500000),
        ("how about 2 grand", 200000),
        ("Would you accept $1,500 to settle?", 150000),
        ("i can pay 310", 31000),
        ("I can pay 310.", 31000),
        ("i'll do 150", 15000),
        ("can i send 75 next week", 7500),
        ("payment of 75", 7500),
        ("i can afford about 100 a month", 10000),
        ("I can pay at least 50", 5000),
        ("ill give u 500 to settle it", 50000),
        ("I can settle for 500", 50000),
        # spoken
        ("two hundred dollars", 20000),
        ("two hundred and fifty dollars and twenty five cents", 25025),
        ("a hundred bucks", 10000),
        ("hundred bucks", 10000),
        ("um about one hundred fifty dollars", 15000),
        ("i wanna pay three hundred ten dollars", 31000),
        ("fifty cents", 50),
        ("I can pay two hundred", 20000),
        ("i can pay one fifty", 15000),
        ("two fifty dollars", 25000),
        ("one thousand two hundred dollars", 120000),
        ("uh i can do like a hundred and fifty dollars", 15000),
    ],
)
def test_amounts(finder: EntityFinder, text: str, cents: int) -> None:
    assert values(finder, text, "amount") == [cents]


@pytest.mark.parametrize(
    "text",
    [
        "4821",  # a last-4
        "1985",  # a year
        "78701",  # a ZIP
        "i have 2 kids",
        "I was born in 1985",
        "pay at 3pm",  # a time
        "pay 2 bills",
        "I can pay in 6 months",
        "pay on the 15th",
        "pay on 3/15",
        "pay 2 of them",
        "call me at 512-555-1234",
        "twenty fifty dollars",  # 20.50 or 2050: nothing
        "i can pay 200 5",
        "option 2",
        "$0",
    ],
)
def test_not_amounts(finder: EntityFinder, text: str) -> None:
    assert values(finder, text, "amount") == []


def test_two_amounts_stay_apart(finder: EntityFinder) -> None:
    assert values(finder, "can i pay 100 and 200 dollars", "amount") == [10000, 20000]


# --- date: ISO, relative to today ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("today", "2026-03-11"),
        ("tomorrow", "2026-03-12"),
        ("tmrw", "2026-03-12"),
        ("i can pay 2moro", "2026-03-12"),
        ("the day after tomorrow", "2026-03-13"),
        ("friday", "2026-03-13"),
        ("on friday", "2026-03-13"),
        ("this friday", "2026-03-13"),
        ("this coming friday", "2026-03-13"),
        ("on fri", "2026-03-13"),
        ("next friday", "2026-03-20"),
        ("Next Friday.", "2026-03-20"),
        ("friday next week", "2026-03-20"),
        ("next tuesday", "2026-03-17"),
        ("wednesday", "2026-03-11"),
        ("last friday", "2026-03-06"),
        ("the 15th", "2026-03-15"),
        ("on the 15th", "2026-03-15"),
        ("on the fifteenth", "2026-03-15"),
        ("on the 15", "2026-03-15"),
        ("by the twenty first", "2026-03-21"),
        ("the 5th", "2026-04-05"),  # passed this month
        ("the first of next month", "2026-04-01"),
        ("uh the fifteenth of next month", "2026-04-15"),
        ("march 15", "2026-03-15"),
        ("March 15th", "2026-03-15"),
        ("march fifteenth", "2026-03-15"),
        ("march the fifteenth", "2026-03-15"),
        ("the fifteenth of march", "2026-03-15"),
        ("15 march", "2026-03-15"),
        ("Mar. 15", "2026-03-15"),
        ("march 3", "2026-03-03"),  # nearest March 3rd: past, as given
        ("april 2", "2026-04-02"),
        ("3/15", "2026-03-15"),
        ("pay on 3/15/2027", "2027-03-15"),
        ("may 5th 2027", "2027-05-05"),
        ("in two weeks", "2026-03-25"),
        ("in 10 days", "2026-03-21"),
        ("in a week", "2026-03-18"),
        ("in a couple of days", "2026-03-13"),
        ("within 10 days", "2026-03-21"),
        ("2 weeks from now", "2026-03-25"),
        ("in a month", "2026-04-11"),
        ("next week", "2026-03-16"),
        ("next month", "2026-04-01"),
        ("end of the month", "2026-03-31"),
        ("yesterday", "2026-03-10"),
        ("pay 200 on 12/15/26", "2026-12-15"),
        # something already done: a bare weekday or day looks back
        ("I paid $310 on Friday.", "2026-03-06"),
        ("i sent the payment on monday", "2026-03-09"),
        ("um i sent a money order on the third", "2026-03-03"),
    ],
)
def test_dates(finder: EntityFinder, text: str, iso: str) -> None:
    assert values(finder, text, "date") == [iso]


@pytest.mark.parametrize(
    "text",
    [
        "i sat down",
        "the sun is out",
        "I may pay 50",
        "first I want to know my balance",
        "I need 1/2 of it",
        "the first payment was late",
        "march",
        "2027 - 03 - 15",
    ],
)
def test_not_dates(finder: EntityFinder, text: str) -> None:
    assert values(finder, text, "date") == []


def test_date_depends_on_today(finder: EntityFinder) -> None:
    assert values(finder, "tomorrow", "date", today=date(2026, 12, 31)) == ["2027-01-01"]
    assert values(finder, "jan 5", "date", today=date(2026, 12, 20)) == ["2027-01-05"]


# --- dob -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "03/14/1985",
        "3/14/1985",
        "My date of birth is 03/14/1985.",
        "1985-03-14",
        "03-14-1985",
        "03/14/85",
        "born 3/14/85",
        "March 14, 1985",
        "march 14 1985",
        "I was born on March 14th, 1985",
        "03141985",
        "march fourteenth nineteen eighty five",
        "march fourteenth nineteen eighty-five",
        "the fourteenth of march nineteen eighty five",
        "fourteenth of march, 1985",
        "march the fourteenth nineteen eighty five",
        "um march fourteen nineteen eighty five",
        "march fourteenth eighty five",
        "my birthday is the fourteenth of march eighty five",
        "zero three one four one nine eight five",
        "zero three fourteen nineteen eighty five",
    ],
)
def test_dates_of_birth(finder: EntityFinder, text: str) -> None:
    assert values(finder, text, "dob") == ["1985-03-14"]


def test_a_recent_full_date_is_a_date_unless_birth_is_mentioned(finder: EntityFinder) -> None:
    assert found(finder, "03/14/2015") == [("date", "2015-03-14")]
    assert found(finder, "my dob is 03/14/2015") == [("dob", "2015-03-14")]
    assert found(finder, "03/14/2010") == [("date", "2010-03-14")]  # 15 until Saturday
    assert found(finder, "03/11/2010") == [("dob", "2010-03-11")]  # 16 today


def test_keypad_digits_that_are_no_date_are_nothing(finder: EntityFinder) -> None:
    assert found(finder, "13141985") == []


# --- card_last4 and zip ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("4821", "card_last4", "4821"),
        ("It's 4821.", "card_last4", "4821"),
        ("my card ends in 4821", "card_last4", "4821"),
        ("last four 4821", "card_last4", "4821"),
        ("last 4 is 7734", "card_last4", "7734"),
        ("four eight two one", "card_last4", "4821"),
        ("forty eight twenty one", "card_last4", "4821"),
        ("the last four are four eight two one", "card_last4", "4821"),
        ("4 8 2 1", "card_last4", "4821"),
        ("48 21", "card_last4", "4821"),
        ("yeah it's three zero five six", "card_last4", "3056"),
        ("0042", "card_last4", "0042"),
        ("my card ends in 1985", "card_last4", "1985"),
        ("78701", "zip", "78701"),
        ("My ZIP code is 78701.", "zip", "78701"),
        ("78701-1234", "zip", "78701"),
        ("seven eight seven zero one", "zip", "78701"),
        ("seven eight seven oh one", "zip", "78701"),
        ("seventy eight seven oh one", "zip", "78701"),
        ("7 8 7 0 1", "zip", "78701"),
        ("double seven eight oh one", "zip", "77801"),
        ("02134", "zip", "02134"),
    ],
)
def test_digit_strings(finder: EntityFinder, text: str, entity: str, value: str) -> None:
    assert found(finder, text) == [(entity, value)]


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1111",  # a full card number: never a last-4
        "4111-1111-1111-1111",
        "4111111111111111",
        "my card is 4111 1111 1111 4821",
        "512 555 1234",
        "call me at 512-555-1234",
        "since 2019",
        "born in 1985",
        "482",
        "482157",
        "my case number is 10583",
        "my case number is two four dash one zero five eight three",
        "11 2 72",
        "oh",
    ],
)
def test_no_digit_strings(finder: EntityFinder, text: str) -> None:
    assert [e for e in found(finder, text) if e[0] in ("card_last4", "zip")] == []


def test_several_answers_in_one_message(finder: EntityFinder) -> None:
    assert found(finder, "4821, born 03/14/1985. zip 78701") == [
        ("card_last4", "4821"),
        ("dob", "1985-03-14"),
        ("zip", "78701"),
    ]
    assert found(finder, "7734 7/21/1990 94110") == [("card_last4", "7734"), ("dob", "1990-07-21"), ("zip", "94110")]


# --- months ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("6 months", 6),
        ("six month plan", 6),
        ("the twelve month one", 12),
        ("a 6-month plan", 6),
        ("six-month", 6),
        ("6mo", 6),
        ("12 mos", 12),
        ("can i pay over 6 months", 6),
        ("Could I pay it off over six months?", 6),
        ("I can pay in 6 months", 6),
        ("100 a month for 6 months", 6),
        ("6 monthly payments", 6),
        ("over a year", 12),
        ("within a year", 12),
        ("a two year plan", 24),
        ("half a year", 6),
        ("a year and a half", 18),
        ("over a year and a half", 18),
    ],
)
def test_months(finder: EntityFinder, text: str, months: int) -> None:
    assert values(finder, text, "months") == [months]


@pytest.mark.parametrize(
    "text",
    [
        "3 months behind",
        "I'm 2 months late",
        "my last payment was 2 months ago",
        "over the last 6 months",
        "I've been out of work for three months",
        "I've had this card for 5 years",
        "200 a month",
        "once a month",
        "in a month",  # a date
        "I'm 35 years old",
        "500 months",
    ],
)
def test_not_months(finder: EntityFinder, text: str) -> None:
    assert values(finder, text, "months") == []


# --- plan_choice -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("the first one", "1"),
        ("The first option.", "1"),
        ("1st one", "1"),
        ("i want the second option", "2"),
        ("the third plan", "3"),
        ("option 2", "2"),
        ("Option 2, please.", "2"),
        ("option two", "2"),
        ("option #2", "2"),
        ("#2", "2"),
        ("no. 3", "3"),
        ("number three", "3"),
        ("plan 2", "2"),
        ("2", "2"),
        ("2.", "2"),
        ("two", "2"),
        ("2 please", "2"),
        ("i'll take 2", "2"),
        ("one", "1"),
        ("second", "2"),
        ("the past due amount", "past_due"),
        ("pay past due", "past_due"),
        ("i want to pay what's past due today", "past_due"),
        ("pay the overdue amount", "past_due"),
        ("pay it all", "full"),
        ("pay it all off", "full"),
        ("pay in full", "full"),
        ("Can I pay my balance in full?", "full"),
        ("the whole balance", "full"),
        ("i'd like to pay the whole thing", "full"),
        ("pay off the whole balance", "full"),
        ("not the minimum, the full amount", "full"),
        ("just the minimum", "minimum"),
        ("uh just the minimum payment please", "minimum"),
        ("the min", "minimum"),
        ("settle", "settlement"),
        ("can i settle this debt", "settlement"),
        ("lump sum settlement", "settlement"),
        ("the hardship plan", "hardship"),
    ],
)
def test_plan_choices(finder: EntityFinder, text: str, choice: str) -> None:
    assert values(finder, text, "plan_choice") == [choice]


@pytest.mark.parametrize(
    "text",
    [
        "i have 2 kids",
        "I'll pay 2 bills",
        "2 months",
        "first I want to know my balance",
        "the first payment was late",
        "I can't pay in full",
        "i cant do the minimum",
        "there's no way I can pay it all",
        "I want monthly payments instead of paying it all at once",
        "Will you take less than the full balance?",
        "my account is past due",
        "pay it off in 6 months",  # a plan length, not "in full"
        "reduced payoff",
        "number 5125551234",
        "option 12",
        "10",
    ],
)
def test_not_plan_choices(finder: EntityFinder, text: str) -> None:
    assert values(finder, text, "plan_choice") == []


def test_a_lone_ordinal_is_both_a_choice_and_a_day(finder: EntityFinder) -> None:
    """ "the second" answers "which option?" and "which day?"; the asking form picks."""
    assert sorted(found(finder, "the second")) == [("date", "2026-04-02"), ("plan_choice", "2")]
    assert found(finder, "on the second") == [("date", "2026-04-02")]
    assert found(finder, "the second one") == [("plan_choice", "2")]


# --- spans, offsets, and shape ---------------------------------------------------------------


def test_entities_carry_offsets_into_the_original_text(finder: EntityFinder) -> None:
    text = "Could I pay $1,250.50 on March 3rd?"
    entities = finder.find(text, date(2026, 3, 11)).entities
    assert [(e["entity"], text[e["start"] : e["end"]]) for e in entities] == [
        ("amount", "$1,250.50"),
        ("date", "March 3rd"),
    ]
    assert all(e["confidence_entity"] == 1.0 for e in entities)


def test_curly_apostrophes_are_read_like_straight_ones(finder: EntityFinder) -> None:
    text = "i don\u2019t want to live, I\u2019ll pay $20"
    findings = finder.find(text, date(2026, 3, 11))
    assert [h.kind for h in findings.distress] == ["self_harm"]
    assert [(e["entity"], text[e["start"] : e["end"]]) for e in findings.entities] == [
        ("self_harm", "don\u2019t want to live"),
        ("amount", "$20"),
    ]


def test_self_harm_entity_only_for_self_harm(finder: EntityFinder) -> None:
    assert found(finder, "I want to kill myself") == [("self_harm", True)]
    assert found(finder, "I can't cope") == []
    assert [h.kind for h in finder.find("I can't cope", date(2026, 3, 11)).distress] == ["distress"]
    assert finder.find("this fee is killing me", date(2026, 3, 11)).distress == []


@pytest.mark.parametrize("text", ["", "   ", "?!", "hello there", "a" * 5000])
def test_nothing_to_find(finder: EntityFinder, text: str) -> None:
    findings = finder.find(text, date(2026, 3, 11))
    assert findings.entities == [] and findings.distress == []


# Hostile or pasted input (issue 11, robustness): no exception, and nothing read as money.
@pytest.mark.parametrize(
    "text",
    [
        "9" * 5000,
        "$" + "9" * 5000,
        "pay " + "9" * 400 + " dollars",
        "1" * 30 + "." + "5" * 30,
        "<html><body><p>stop</p></body></html>",
    ],
)
def test_long_digit_runs_and_markup_are_no_entities(finder: EntityFinder, text: str) -> None:
    assert [name for name, _ in found(finder, text) if name in ("amount", "plan_choice", "months")] == []


def test_a_large_but_real_amount_is_still_read(finder: EntityFinder) -> None:
    assert values(finder, "I can pay $12,500.00", "amount") == [1_250_000]


_FUZZ_WORDS = [
    "pay",
    "$",
    "dollars",
    "in",
    "months",
    "on",
    "the",
    "1st",
    "9" * 30,
    "12,500",
    "one",
    "hundred",
    "a",
    "at",
    "least",
    "/",
    "03/14/1985",
    "four",
    "k",
    "\u200b",
    "4\ufe0f\u20e3",
    "<p>",
]


def test_no_text_makes_the_finder_raise(finder: EntityFinder) -> None:
    """Seeded random word salad (hypothesis is not in the rasa environment): 500 texts, none raise."""
    import random

    rng = random.Random(11)
    for _ in range(500):
        finder.find(" ".join(rng.choice(_FUZZ_WORDS) for _ in range(rng.randint(0, 12))), date(2026, 3, 11))
