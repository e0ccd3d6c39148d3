from datetime import date

from actions.formatting import format_date, format_money


def test_money() -> None:
    assert format_money(245000) == "$2,450.00"
    assert format_money(64050) == "$640.50"
    assert format_money(5) == "$0.05"
    assert format_money(-1250) == "-$12.50"
    assert format_money(123456, "EUR") == "1,234.56 EUR"


def test_date() -> None:
    assert format_date(date(2026, 12, 2)) == "December 2, 2026"
