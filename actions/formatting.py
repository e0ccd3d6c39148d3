"""How amounts and dates are written in replies. Integer cents in, text out."""

from __future__ import annotations

from datetime import date


def format_money(amount_cents: int, currency: str = "USD") -> str:
    """`245000` → `$2,450.00` (USD); other currencies get their code after the number."""
    sign = "-" if amount_cents < 0 else ""
    whole, cents = divmod(abs(amount_cents), 100)
    number = f"{whole:,}.{cents:02d}"
    return f"{sign}${number}" if currency == "USD" else f"{sign}{number} {currency}"


def format_date(day: date) -> str:
    """`2026-12-02` → `December 2, 2026`."""
    return f"{day:%B} {day.day}, {day.year}"
