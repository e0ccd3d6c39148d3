"""Where the consumer may be: every time zone we know of for them (12 CFR 1006.6(b)(1)(i)).

A time is convenient only when it is 08:00-21:00 in every location the collector knows or should
know (the official interpretation, comment 6(b)(1)(i)-1, gives the example of an area code and an
address in different zones). We know three things: the account's zone, the ZIP's zone and the
phone's area code's zone; each may name more than one zone where a prefix straddles a boundary.
With none known, only hours convenient across the United States are (`US_ZONES`).

The table (us_zones.json) is built by scripts/build_us_zones.py, which names its sources.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TABLE = Path(__file__).with_name("us_zones.json")

# Every zone a US consumer may be in (the 50 states, DC, Puerto Rico and the US Virgin Islands);
# when nothing is known about the consumer, a contact must be convenient in all of them.
US_ZONES: tuple[str, ...] = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Adak",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
)


@cache
def _table() -> dict[str, Any]:
    table: dict[str, Any] = json.loads(TABLE.read_text())
    return table


def zones_for_phone(phone: str | None) -> tuple[str, ...]:
    """The zones of a NANP number's area code (`+1NPA...`), or none."""
    digits = "".join(c for c in (phone or "") if c.isdigit())
    if len(digits) != 11 or not digits.startswith("1"):
        return ()
    return tuple(_table()["area_codes"].get(digits[1:4], ()))


def zones_for_zip(zip_code: str | None) -> tuple[str, ...]:
    """The zones of a US ZIP code's first three digits, or none."""
    digits = (zip_code or "").strip()[:3]
    if len(digits) != 3 or not digits.isdigit():
        return ()
    return tuple(_table()["zip3"].get(digits, ()))


def _valid(zone: str | None) -> bool:
    if not zone:
        return False
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def consumer_zones(account_zone: str | None, zip_code: str | None, phone: str | None) -> tuple[str, ...]:
    """Every zone the consumer may be in, the account's own first (its calendar counts the Reg F
    7-day windows); `US_ZONES` when none is known. No duplicates, stable order."""
    found: list[str] = []
    for zone in (account_zone, *zones_for_zip(zip_code), *zones_for_phone(phone)):
        if zone is not None and _valid(zone) and zone not in found:
            found.append(zone)
    return tuple(found) or US_ZONES
