"""Shared test data for the NLU component tests."""

from __future__ import annotations

from datetime import date

from bot.components.entity_parsers import EntityFinder

# A Wednesday, a few days after US daylight saving time began (2026-03-08).
TODAY = date(2026, 3, 11)


def found(finder: EntityFinder, text: str, today: date = TODAY) -> list[tuple[str, object]]:
    """(entity, value) pairs for `text`, in order of appearance."""
    return [(e["entity"], e["value"]) for e in finder.find(text, today).entities]


def values(finder: EntityFinder, text: str, entity: str, today: date = TODAY) -> list[object]:
    return [value for name, value in found(finder, text, today) if name == entity]
