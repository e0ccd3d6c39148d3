"""Dates relative to the customer's today, and dates of birth.

Pure functions: every resolver takes `today` (a `date` in the customer's time zone). The
only clock is `utc_now`, read by `today_in`; tests replace it with monkeypatch.

Meanings (also in the component's docstring, and asserted in tests):
- a bare or `this`/`on`/`coming` weekday is the next such day, today included;
  `next <weekday>` is that day in next calendar week (weeks start on Monday);
  `last <weekday>` is the most recent such day before today;
- a day of the month without a month (`the 15th`) is the next such day, today included;
- in a message about something already done ("I paid on friday", "sent it on the 3rd"; see
  `_DONE_WORDS` in entities.py) a bare weekday or day of the month is the most recent one,
  today included;
- a month and day without a year (`march 3`, `3/15`) is the nearest such date, before or
  after today (`jan 5` said in December is next January; `nov 20` said on Nov 22 stays in the
  past and the form decides);
- `next week` is the Monday of next week; `next month` the 1st of next month;
  `end of the month` its last day; `in N days/weeks` and `in a month` count from today.
Past dates are returned as they are: the form decides whether they are acceptable.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.components.numbers import parse_day, parse_int, parse_year

MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "febuary": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
# Full names (and unambiguous short forms) are dates anywhere; "sat", "sun", "wed" and "mon"
# are English words, so they count only after on/this/next/by (see entities.py).
WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "tues": 1,
    "wednesday": 2,
    "wednsday": 2,
    "wensday": 2,
    "weds": 2,
    "thursday": 3,
    "thurs": 3,
    "thur": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sunday": 6,
}
SHORT_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "sat": 5, "sun": 6}
BIRTH_WORDS = {"born", "birthday", "birth", "dob", "bday", "birthdate", "birth-date"}

MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
SHORT_WEEKDAY_RE = "|".join(SHORT_WEEKDAYS)
NUMERIC_DATE_RE = r"\d{1,2}/\d{1,2}(?:/(?:\d{4}|\d{2}))?"

MIN_AGE, MAX_AGE = 16, 120


def utc_now() -> datetime:
    """The one clock in the package. Tests monkeypatch `bot.components.dates.utc_now`."""
    return datetime.now(timezone.utc)


def zone(name: str) -> ZoneInfo | None:
    """The IANA zone, or None when the name is unknown or malformed."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


def today_in(tz: ZoneInfo) -> date:
    return utc_now().astimezone(tz).date()


def month_number(word: str) -> int | None:
    return MONTHS.get(word.rstrip("."))


def weekday_number(word: str, *, allow_short: bool = False) -> int | None:
    word = word.rstrip(".")
    if word in WEEKDAYS:
        return WEEKDAYS[word]
    return SHORT_WEEKDAYS.get(word) if allow_short else None


def weekday_date(weekday: int, modifier: str | None, today: date) -> date:
    """`friday`/`this friday` → the next Friday, today included; `next friday` → the Friday
    of next calendar week; `last friday` → the most recent Friday before today;
    `most_recent` (a bare weekday in a message about something done) → today or before."""
    if modifier == "most_recent":
        return today - timedelta(days=(today.weekday() - weekday) % 7)
    if modifier in ("last", "past"):
        back = (today.weekday() - weekday) % 7 or 7
        return today - timedelta(days=back)
    if modifier == "next":
        next_monday = today + timedelta(days=7 - today.weekday())
        return next_monday + timedelta(days=weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def add_months(day: date, months: int) -> date:
    """Same day of the month `months` later, clamped to the month's end (Jan 31 + 1 → Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def day_of_month_date(day: int, today: date, month_offset: int | None = None, *, past: bool = False) -> date | None:
    """`the 15th`: the next 15th, today included, skipping months too short for it.
    With `past` the most recent one, today included ("I sent it on the 3rd").
    With `month_offset` (0 this month, 1 next month) that month's day, past or not."""
    if month_offset is not None:
        first = add_months(today.replace(day=1), month_offset)
        return _safe_date(first.year, first.month, day)
    for offset in range(0, 13):
        first = add_months(today.replace(day=1), -offset if past else offset)
        candidate = _safe_date(first.year, first.month, day)
        if candidate and (candidate <= today if past else candidate >= today):
            return candidate
    return None


def month_day_date(month: int, day: int, today: date) -> date | None:
    """`march 3` with no year: the nearest March 3rd to today (ties go forward)."""
    candidates = [d for year in (today.year - 1, today.year, today.year + 1) if (d := _safe_date(year, month, day))]
    if not candidates:
        return None
    return min(candidates, key=lambda d: (abs((d - today).days), d < today))


def relative_date(amount: int, unit: str, today: date) -> date | None:
    """`in 10 days`, `in two weeks`, `in a month` (months only as 1: longer is a plan length)."""
    if unit.startswith(("day",)):
        return today + timedelta(days=amount)
    if unit.startswith(("week", "wk")):
        return today + timedelta(weeks=amount)
    if unit == "fortnight":
        return today + timedelta(weeks=2 * amount)
    if unit.startswith("month") and amount == 1:
        return add_months(today, 1)
    return None


def next_week(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def next_month(today: date) -> date:
    return add_months(today.replace(day=1), 1)


def end_of_month(today: date, month_offset: int = 0) -> date:
    first = add_months(today.replace(day=1), month_offset)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def simple_relative(words: Sequence[str], today: date) -> date | None:
    """One-word and fixed phrases: today, tonight, tomorrow (and SMS spellings), yesterday,
    the day after tomorrow."""
    phrase = " ".join(w for w in words if w != "the")
    if phrase in ("today", "tonight", "tday", "2day"):
        return today
    if phrase in (
        "tomorrow",
        "tomorow",
        "tommorow",
        "tommorrow",
        "tmrw",
        "tmr",
        "tmw",
        "tmrrw",
        "2morrow",
        "2moro",
        "2mrw",
        "tomoro",
        "tomorrow morning",
        "tomorrow night",
    ):
        return today + timedelta(days=1)
    if phrase.startswith("day after"):
        return today + timedelta(days=2)
    if phrase == "yesterday":
        return today - timedelta(days=1)
    return None


def full_year(two_digits: int, today: date, *, birth: bool) -> int:
    """Century for a two-digit year. Birth dates: `85` is 1985 and `05` is 2005 only if that
    makes the person at least 16 (as actions/parsing.py). Other dates: 20xx when within five
    years of today, else as a birth date."""
    if not birth and today.year - 1 <= 2000 + two_digits <= today.year + 5:
        return 2000 + two_digits
    return 2000 + two_digits if 2000 + two_digits <= today.year - MIN_AGE else 1900 + two_digits


def parse_numeric_date(text: str, today: date, *, birth: bool) -> tuple[date, bool] | None:
    """US numeric dates: `3/15` (nearest), `3/15/2027`, `03/14/85`, and ISO `1985-03-14`
    (also `03-14-1985`). Returns the date and whether the text carried a year."""
    text = text.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        d = _safe_date(int(m[1]), int(m[2]), int(m[3]))
        return (d, True) if d else None
    if m := re.fullmatch(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4}|\d{2})", text):
        year = int(m[3]) if len(m[3]) == 4 else full_year(int(m[3]), today, birth=birth)
        d = _safe_date(year, int(m[1]), int(m[2]))
        return (d, True) if d else None
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})", text):
        d = month_day_date(int(m[1]), int(m[2]), today)
        return (d, False) if d else None
    return None


def parse_keypad_dob(digits: str, today: date) -> date | None:
    """Eight keypad digits MMDDYYYY (`03141985`) as a plausible date of birth."""
    if not re.fullmatch(r"\d{8}", digits):
        return None
    d = _safe_date(int(digits[4:]), int(digits[:2]), int(digits[2:4]))
    return d if d and is_plausible_birth(d, today) else None


def split_day_year(
    words: Sequence[str], today: date, *, allow_two_digit_year: bool, birth: bool
) -> tuple[int, int | None, int] | None:
    """Read `fourteenth nineteen eighty five`, `14, 1985`, `twenty one 1985`, `3rd` after a
    month name: (day, year or None, words used). The longest day that leaves a valid year (or
    nothing usable) wins; words after the date are left unused."""
    words = list(words)
    for day_len in (3, 2, 1):
        if day_len > len(words):
            continue
        day = parse_day(words[:day_len])
        if day is None:
            continue
        rest = words[day_len:]
        skip = 1 if rest[:1] == [","] else 0
        for year_len in range(min(5, len(rest) - skip), 0, -1):
            year_words = rest[skip : skip + year_len]
            ends_message = skip + year_len == len(rest) or rest[skip + year_len] in {".", "!", "?"}
            year = parse_year(year_words, two_digit=allow_two_digit_year and ends_message)
            if year is not None:
                if year < 100:
                    year = full_year(year, today, birth=birth)
                return day, year, day_len + skip + year_len
        return day, None, day_len
    return None


def parse_day_before_month(words: Sequence[str]) -> tuple[int, int] | None:
    """The day in front of a month name: `the 15th of`, `fifteenth`, `15`. Returns the day and
    how many words (counted from the end, with `the`/`of`) it used; the longest valid day
    ending the list wins, so `pay 200 15th` gives (15, 1)."""
    end = len(words) - 1 if words and words[-1] == "of" else len(words)
    for day_len in (3, 2, 1):
        start = end - day_len
        if start >= 0 and (day := parse_day(words[start:end])) is not None:
            if start > 0 and words[start - 1] == "the":
                start -= 1
            return day, len(words) - start
    return None


def is_plausible_birth(born: date, today: date) -> bool:
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return MIN_AGE <= age <= MAX_AGE


def is_birth_date(d: date, today: date, *, birth_context: bool) -> bool:
    """A full date with a year is a date of birth when the message talks about birth, or when
    it lies at least 16 (at most 120) years back; otherwise it is an ordinary date."""
    return birth_context or is_plausible_birth(d, today)


def parse_small_count(words: Sequence[str]) -> int | None:
    """Counts in `in N days`: a number, `a`/`an`/`one`, `a couple (of)`."""
    words = [
        w for w in words if w not in ("of", "like", "about", "around", "another", "maybe", "just", "only", "roughly")
    ]
    if words in (["a"], ["an"]):
        return 1
    if words in (["couple"], ["a", "couple"]):
        return 2
    return parse_int(words)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
