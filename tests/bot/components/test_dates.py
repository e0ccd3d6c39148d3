"""Pure date resolution, relative to a fixed today (Wednesday 2026-03-11)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.components import dates
from tests.bot.components.helpers import TODAY

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


@pytest.mark.parametrize(
    ("weekday", "modifier", "expected"),
    [
        (FRI, None, date(2026, 3, 13)),
        (FRI, "this", date(2026, 3, 13)),
        (FRI, "on", date(2026, 3, 13)),
        (FRI, "coming", date(2026, 3, 13)),
        (WED, None, date(2026, 3, 11)),  # today counts
        (MON, None, date(2026, 3, 16)),
        (FRI, "next", date(2026, 3, 20)),  # Friday of next calendar week
        (WED, "next", date(2026, 3, 18)),
        (MON, "next", date(2026, 3, 16)),  # on a Wednesday, "monday" and "next monday" agree
        (SUN, "next", date(2026, 3, 22)),
        (FRI, "last", date(2026, 3, 6)),
        (WED, "last", date(2026, 3, 4)),  # never today
        (FRI, "most_recent", date(2026, 3, 6)),
        (WED, "most_recent", date(2026, 3, 11)),
    ],
)
def test_weekdays(weekday: int, modifier: str | None, expected: date) -> None:
    assert dates.weekday_date(weekday, modifier, TODAY) == expected


def test_next_weekday_said_on_a_sunday_is_the_coming_week() -> None:
    sunday = date(2026, 3, 15)
    assert dates.weekday_date(FRI, None, sunday) == date(2026, 3, 20)
    assert dates.weekday_date(FRI, "next", sunday) == date(2026, 3, 20)


@pytest.mark.parametrize(
    ("day", "kwargs", "expected"),
    [
        (15, {}, date(2026, 3, 15)),
        (11, {}, date(2026, 3, 11)),  # today counts
        (5, {}, date(2026, 4, 5)),  # passed this month: next month
        (31, {}, date(2026, 3, 31)),
        (3, {"past": True}, date(2026, 3, 3)),
        (15, {"past": True}, date(2026, 2, 15)),
        (11, {"past": True}, date(2026, 3, 11)),
        (15, {"month_offset": 1}, date(2026, 4, 15)),
        (5, {"month_offset": 0}, date(2026, 3, 5)),  # "the 5th of this month": as given, past
        (31, {"month_offset": 1}, None),  # April has 30 days
    ],
)
def test_day_of_month(day: int, kwargs: dict, expected: date | None) -> None:
    assert dates.day_of_month_date(day, TODAY, **kwargs) == expected


def test_day_of_month_skips_months_too_short() -> None:
    assert dates.day_of_month_date(31, date(2026, 4, 2)) == date(2026, 5, 31)
    assert dates.day_of_month_date(30, date(2026, 2, 2)) == date(2026, 3, 30)


@pytest.mark.parametrize(
    ("month", "day", "today", "expected"),
    [
        (3, 15, TODAY, date(2026, 3, 15)),
        (3, 3, TODAY, date(2026, 3, 3)),  # 8 days ago is nearer than next year
        (1, 5, date(2026, 12, 20), date(2027, 1, 5)),  # said in December: next January
        (12, 28, date(2026, 1, 3), date(2025, 12, 28)),
        (9, 1, TODAY, date(2026, 9, 1)),
        (2, 29, TODAY, None),  # no leap day in 2025-2027
        (2, 29, date(2028, 1, 10), date(2028, 2, 29)),
        (2, 30, TODAY, None),
    ],
)
def test_month_and_day_without_a_year_is_the_nearest(month: int, day: int, today: date, expected: date | None) -> None:
    assert dates.month_day_date(month, day, today) == expected


@pytest.mark.parametrize(
    ("amount", "unit", "expected"),
    [
        (10, "days", date(2026, 3, 21)),
        (1, "day", date(2026, 3, 12)),
        (2, "weeks", date(2026, 3, 25)),
        (1, "wk", date(2026, 3, 18)),
        (1, "fortnight", date(2026, 3, 25)),
        (1, "month", date(2026, 4, 11)),
        (6, "months", None),  # a plan length, not a date
    ],
)
def test_relative(amount: int, unit: str, expected: date | None) -> None:
    assert dates.relative_date(amount, unit, TODAY) == expected


def test_calendar_words() -> None:
    assert dates.next_week(TODAY) == date(2026, 3, 16)
    assert dates.next_month(TODAY) == date(2026, 4, 1)
    assert dates.end_of_month(TODAY) == date(2026, 3, 31)
    assert dates.end_of_month(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert dates.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert dates.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["today"], TODAY),
        (["tonight"], TODAY),
        (["tomorrow"], date(2026, 3, 12)),
        (["tmrw"], date(2026, 3, 12)),
        (["2moro"], date(2026, 3, 12)),
        (["tommorow"], date(2026, 3, 12)),
        (["yesterday"], date(2026, 3, 10)),
        (["the", "day", "after", "tomorrow"], date(2026, 3, 13)),
        (["someday"], None),
    ],
)
def test_simple_relative(words: list[str], expected: date | None) -> None:
    assert dates.simple_relative(words, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "birth", "expected"),
    [
        ("3/15", False, (date(2026, 3, 15), False)),
        ("12/1", False, (date(2025, 12, 1), False)),
        ("3/15/2027", False, (date(2027, 3, 15), True)),
        ("03/14/1985", False, (date(1985, 3, 14), True)),
        ("03-14-1985", False, (date(1985, 3, 14), True)),
        ("1985-03-14", False, (date(1985, 3, 14), True)),
        ("03/14/85", False, (date(1985, 3, 14), True)),
        ("12/15/26", False, (date(2026, 12, 15), True)),  # near today: this century
        ("12/15/26", True, (date(1926, 12, 15), True)),  # a birth date: at least 16 years back
        ("1/5/05", True, (date(2005, 1, 5), True)),
        ("13/15/2020", False, None),
        ("2/30", False, None),
    ],
)
def test_numeric_dates(text: str, birth: bool, expected: tuple[date, bool] | None) -> None:
    assert dates.parse_numeric_date(text, TODAY, birth=birth) == expected


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("03141985", date(1985, 3, 14)),
        ("12312000", date(2000, 12, 31)),
        ("13141985", None),
        ("03142020", None),
        ("03141800", None),
        ("0314198", None),
    ],
)
def test_keypad_dates_of_birth(digits: str, expected: date | None) -> None:
    assert dates.parse_keypad_dob(digits, TODAY) == expected


def test_birth_date_needs_sixteen_years_or_birth_words() -> None:
    assert dates.is_birth_date(date(2010, 3, 11), TODAY, birth_context=False)  # 16 today
    assert not dates.is_birth_date(date(2010, 3, 12), TODAY, birth_context=False)  # 16 tomorrow
    assert not dates.is_birth_date(date(2026, 3, 15), TODAY, birth_context=False)
    assert dates.is_birth_date(date(2026, 3, 15), TODAY, birth_context=True)
    assert not dates.is_birth_date(date(1900, 1, 1), TODAY, birth_context=False)  # over 120


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["fourteenth", "nineteen", "eighty", "five"], (14, 1985, 4)),
        (["14", ",", "1985"], (14, 1985, 3)),
        (["twenty", "one", "nineteen", "ninety"], (21, 1990, 4)),
        (["twenty", "first", "nineteen", "ninety"], (21, 1990, 4)),
        (["3rd"], (3, None, 1)),
        (["3", "200", "dollars"], (3, None, 1)),
        (["fourteenth", "eighty", "five"], (14, 1985, 3)),  # two-digit year ending the message
        (["forty"], None),
    ],
)
def test_day_and_year_after_a_month(words: list[str], expected: tuple | None) -> None:
    assert dates.split_day_year(words, TODAY, allow_two_digit_year=True, birth=True) == expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["the", "15th", "of"], (15, 3)),
        (["fifteenth"], (15, 1)),
        (["200", "15"], (15, 1)),
        (["the", "twenty", "first", "of"], (21, 4)),
        (["200"], None),
    ],
)
def test_day_before_a_month(words: list[str], expected: tuple | None) -> None:
    assert dates.parse_day_before_month(words) == expected


def test_today_is_taken_in_the_customers_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    # 03:30 UTC on March 11 is still March 10 in New York (EDT, UTC-4) and already noon in Tokyo.
    monkeypatch.setattr(dates, "utc_now", lambda: datetime(2026, 3, 11, 3, 30, tzinfo=timezone.utc))
    assert dates.today_in(dates.zone("America/New_York")) == date(2026, 3, 10)
    assert dates.today_in(dates.zone("Asia/Tokyo")) == date(2026, 3, 11)
    assert dates.today_in(dates.zone("UTC")) == date(2026, 3, 11)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "America/New York"])
def test_unknown_zones_are_none(name: str) -> None:
    assert dates.zone(name) is None
