"""Pure parsers for what customers type or say while verifying. No I/O; unit-tested."""

from __future__ import annotations

import re
from datetime import date, datetime

from dateutil import parser as date_parser

_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "to": "2",
    "too": "2",
    "three": "3",
    "four": "4",
    "for": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "ate": "8",
    "nine": "9",
}


def spoken_digits_to_text(text: str) -> str:
    """`four eight two one` → `4821`; other words are kept. Runs of digit words join up."""
    out: list[str] = []
    run = ""
    for token in re.split(r"[\s,.-]+", text.strip().lower()):
        if token in _DIGIT_WORDS and (run or token not in ("o", "to", "too", "for", "ate", "oh")):
            run += _DIGIT_WORDS[token]
        elif token.isdigit() and run:
            run += token
        else:
            if run:
                out.append(run)
                run = ""
            if token:
                out.append(token)
    if run:
        out.append(run)
    return " ".join(out)


def _digit_runs(text: str) -> list[str]:
    return re.findall(r"\d+", spoken_digits_to_text(text))


def parse_card_last4(text: str) -> str | None:
    """Exactly one run of exactly four digits, e.g. `it's 4821` or `four eight two one`."""
    runs = _digit_runs(text)
    return runs[0] if len(runs) == 1 and len(runs[0]) == 4 else None


def parse_zip(text: str) -> str | None:
    """A five-digit ZIP code; ZIP+4 (`78701-1234`) gives its first five digits."""
    pattern = r"\D*(\d{5})(?:-\d{4})?\D*"
    match = re.fullmatch(pattern, text.strip()) or re.fullmatch(pattern, spoken_digits_to_text(text))
    return match.group(1) if match else None


def parse_date_of_birth(text: str, today: date) -> date | None:
    """A plausible date of birth (age 16 to 120) in ISO, US numeric, keypad MMDDYYYY or words."""
    cleaned = text.strip()
    candidates: list[date | None] = []  # None: digits that make no calendar date
    if m := re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", cleaned):
        candidates.append(_safe_date(int(m[1]), int(m[2]), int(m[3])))
    elif m := re.search(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b", cleaned):
        candidates.append(_safe_date(_full_year(m[3], today), int(m[1]), int(m[2])))
    elif m := re.fullmatch(r"\D*(\d{2})(\d{2})(\d{4})\D*", cleaned):  # keypad MMDDYYYY
        candidates.append(_safe_date(int(m[3]), int(m[1]), int(m[2])))
    elif re.search(r"[a-zA-Z]{3,}", cleaned) and re.search(r"\b\d{4}\b", cleaned):
        try:
            parsed = date_parser.parse(cleaned, fuzzy=True, default=datetime(1900, 1, 1))
            candidates.append(parsed.date())
        except (ValueError, OverflowError):
            pass
    for candidate in candidates:
        if candidate and 16 <= _age(candidate, today) <= 120:
            return candidate
    return None


def _full_year(year: str, today: date) -> int:
    if len(year) == 4:
        return int(year)
    two = int(year)
    # "85" means 1985; "05" means 2005 only if that makes the person at least 16.
    return 2000 + two if 2000 + two <= today.year - 16 else 1900 + two


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
